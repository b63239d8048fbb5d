import Logging
import PostgresNIO
import Shared

/// The benchmark account and its contacts, made with one set-based INSERT … SELECT and kept between runs.
struct BenchmarkSeed {
    let accountID: Int64
    let token: String

    static func ensure(client: PostgresClient, contacts: Int, logger: Logger) async throws -> BenchmarkSeed {
        let accounts = AccountRepository(client: client, logger: logger)
        let marker: JSONValue = ["benchmark": "contacts-index", "contacts": .integer(Int64(contacts)), "seed": 2]
        var accountID: Int64?
        for try await id in try await client.query(
            "SELECT id FROM accounts WHERE metadata @> \(marker) ORDER BY id LIMIT 1", logger: logger
        ).decode(Int64.self) {
            accountID = id
        }
        if accountID == nil {
            var changes = AccountChanges()
            changes.metadata = marker
            let account = try await accounts.create(changes)
            say("seeding \(contacts) contacts (once; later runs reuse them)…")
            let elapsed = try await measure {
                // Province cycles over 100 values, so each one selects 1% of the contacts; country selects all.
                try await client.query(
                    """
                    INSERT INTO contacts (account_id, msisdn, metadata)
                    SELECT \(account.id), '+8551' || lpad(i::text, 8, '0'),
                        jsonb_build_object(
                            'name', 'Contact ' || i,
                            'gender', CASE WHEN i % 2 = 0 THEN 'f' ELSE 'm' END,
                            'province', 'province-' || (i % 100),
                            'country', 'KH')
                    FROM generate_series(1, \(contacts)) AS i
                    """, logger: logger)
                // As autovacuum leaves a table some time after a load: the GIN index's pending list merged, the
                // visibility map set. Measured right after the INSERT, every metadata query scanned the pending
                // list and checked each heap row, at ten times its settled cost (433 ms p50 instead of ~35 ms).
                try await client.query("VACUUM ANALYZE contacts", logger: logger)
            }
            say("seeded in \(Int(elapsed)) ms")
            accountID = account.id
        }
        guard let accountID else { throw RecordNotFound() }
        let token = try await AccessTokenRepository(client: client, logger: logger)
            .create(accountID: accountID, createdBy: nil).secret
        return BenchmarkSeed(accountID: accountID, token: token)
    }
}
