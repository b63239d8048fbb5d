import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The running per-account totals of migration 0004, which an unfiltered index reports as its `Total`: they
/// agree with count(*) through single and bulk inserts, deletes, other accounts' writes, and folding.
@Suite(.timeLimit(.minutes(2))) struct RecordCountsTests {
    let logger = Logger(label: "scfm.tests.record-counts")

    @Test func unfilteredTotalsFollowInsertsDeletesAndFolding() async throws {
        let database = try await TestDatabases.shared.client(suite: "record_counts")
        let accounts = AccountRepository(client: database, logger: logger)
        let contacts = ContactRepository(client: database, logger: logger)
        let account = try await accounts.create(AccountChanges()).id
        let other = try await accounts.create(AccountChanges()).id

        func total(_ accountID: Int64, page: Int = 1) async throws -> Int64 {
            try await contacts.index(accountID: accountID, filter: RecordFilter(), page: PageRequest(page: page, perPage: 1)).total
        }
        func counted(_ accountID: Int64) async throws -> Int64 {
            try await database.query("SELECT count(*) FROM contacts WHERE account_id = \(accountID)", logger: logger)
                .single { try $0.decode(Int64.self) }
        }
        func deltaRows(_ accountID: Int64) async throws -> Int64 {
            try await database.query(
                "SELECT count(*) FROM account_record_count_deltas WHERE account_id = \(accountID) AND table_name = 'contacts'",
                logger: logger
            ).single { try $0.decode(Int64.self) }
        }

        for number in 1...3 {
            _ = try await contacts.create(accountID: account, msisdn: "+8551200000\(number)", metadata: nil)
        }
        _ = try await contacts.create(accountID: other, msisdn: "+85512000001", metadata: nil)
        #expect(try await total(account) == 3)

        // 1,001 statements (each one delta row), then one bulk statement of 500 rows.
        try await database.query(
            """
            DO $$ BEGIN
                FOR n IN 1..1001 LOOP
                    INSERT INTO contacts (account_id, msisdn) VALUES (\(unescaped: String(account)), '+8551300' || lpad(n::text, 5, '0'));
                END LOOP;
            END $$
            """, logger: logger)
        try await database.query(
            """
            INSERT INTO contacts (account_id, msisdn)
            SELECT \(account), '+8551400' || lpad(n::text, 5, '0') FROM generate_series(1, 500) AS n
            """, logger: logger)
        #expect(try await deltaRows(account) > 1000, "more rows than the fold threshold (1,000)")
        #expect(try await total(account) == 1504)
        // The read that saw more rows than the threshold folded them into one.
        #expect(try await deltaRows(account) == 1)
        #expect(try await total(account) == 1504)

        try await database.query(
            "DELETE FROM contacts WHERE account_id = \(account) AND msisdn LIKE '+8551400%' AND msisdn <= '+855140000010'",
            logger: logger)
        let contact = try await contacts.index(accountID: account, filter: RecordFilter(), page: PageRequest()).records[0]
        try await contacts.delete(accountID: account, id: contact.id)
        #expect(try await total(account) == 1493)
        #expect(try await counted(account) == 1493)
        // A page past the end reads the total on its own.
        #expect(try await total(account, page: 5000) == 1493)
        #expect(try await total(other) == 1)
        #expect(try await counted(other) == 1)
    }
}
