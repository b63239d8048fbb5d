import Foundation
import Logging
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

/// `API task import-contacts`: one set-based load, every bad line reported with its number, nothing stopped.
@Suite(.timeLimit(.minutes(2))) struct ContactImportTests {
    let logger = Logger(label: "scfm.tests.import")

    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func importsValidLinesReportsTheOthersAndMergesExistingContacts() async throws {
        let database = try await TestDatabases.shared.client(suite: "contact_import")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        _ = try await ContactRepository(client: database, logger: logger).create(
            accountID: account.id, msisdn: "+85512000009", metadata: ["kept": "yes", "name": "old"])
        let lines = [
            "msisdn,name,province",
            #"+85512000001,Alice,"Kampong Thom, North""#,
            #"+85512000002,"Bob ""the builder""",Takeo"#,
            "not-a-number,Carol,Kandal",
            ",Dan,Kandal",
            "+85512000003,Eve,\"two\nlines\"",
            "+85512000001,Alice Again,",
            "+85512000004,too,many,cells",
            "",
            "0085512000009,New name,Kep\r",
        ]
        let path = try file(lines.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let errors = Mutex<[ContactImport.LineError]>([])
        let summary = try await ContactImport(client: database, logger: logger).run(
            accountID: account.id, path: path, onError: { error in errors.withLock { $0.append(error) } })

        #expect(summary == ContactImport.Summary(lines: 8, rejected: 3, created: 3, updated: 1, repeated: 1))
        #expect(
            errors.withLock { $0 } == [
                .init(line: 4, message: "msisdn not-a-number is an invalid number"),
                .init(line: 5, message: "msisdn can't be blank"),
                .init(line: 9, message: "has 4 cells, the header has 3"),
            ])
        let rows = try await database.query(
            "SELECT msisdn, metadata FROM contacts WHERE account_id = \(account.id) ORDER BY msisdn", logger: logger)
        var contacts: [String: JSONValue] = [:]
        for try await (msisdn, metadata) in rows.decode((String, JSONValue).self) { contacts[msisdn] = metadata }
        #expect(contacts.count == 4)
        #expect(contacts["+85512000001"] == ["name": "Alice Again"])
        #expect(contacts["+85512000002"]?["name"] == #"Bob "the builder""#)
        #expect(contacts["+85512000003"]?["province"] == "two\nlines")
        #expect(contacts["+85512000009"]?["kept"] == "yes")
        #expect(contacts["+85512000009"]?["name"] == "New name")
        #expect(contacts["+85512000009"]?["province"] == "Kep")
    }

    @Test func aFileWithoutAnMsisdnColumnIsRefusedBeforeAnythingIsWritten() async throws {
        let database = try await TestDatabases.shared.client(suite: "contact_import")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let path = try file("phone,name\n+85512000001,Alice\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: ContactImport.BadHeader.self) {
            try await ContactImport(client: database, logger: logger).run(accountID: account.id, path: path)
        }
        let empty = try file("")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        await #expect(throws: ContactImport.BadHeader.self) {
            try await ContactImport(client: database, logger: logger).run(accountID: account.id, path: empty)
        }
    }

    @Test func csvRecordsFollowRFC4180() throws {
        let path = try file("a,\"b,c\",\"d\"\"e\"\r\n\"multi\nline\",,x\nlast,row,\"unterminated")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try CSVReader(path: path)
        let first = try reader.next()
        #expect(first?.fields == ["a", "b,c", "d\"e"])
        #expect(first?.line == 1)
        let second = try reader.next()
        #expect(second?.fields == ["multi\nline", "", "x"])
        #expect(second?.line == 2)
        #expect(throws: CSVReader.MalformedRecord.self) { try reader.next() }
    }

    /// `API task import-do-not-call`: the same load into the account's do-not-call list.
    @Test func importsTheDoNotCallList() async throws {
        let database = try await TestDatabases.shared.client(suite: "contact_import")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let path = try file("msisdn,reason\n+85512000101,asked by SMS\n85512000102,\nnope,x\n+85512000101,asked twice\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = try await ContactImport(client: database, logger: logger, destination: .doNotCallList).run(accountID: account.id, path: path)
        #expect(summary == ContactImport.Summary(lines: 4, rejected: 1, created: 2, updated: 0, repeated: 1))
        let entries = try await DoNotCallRepository(client: database, logger: logger).index(
            accountID: account.id, filter: RecordFilter(), page: PageRequest())
        #expect(
            entries.records.map(\.msisdn) == ["+85512000101", "+85512000102"] || entries.records.map(\.msisdn) == ["+85512000102", "+85512000101"])
        #expect(entries.records.first { $0.msisdn == "+85512000101" }?.metadata == ["reason": "asked twice"])
        #expect(
            try await database.query("SELECT count(*) FROM contacts WHERE account_id = \(account.id)", logger: logger)
                .single { try $0.decode(Int64.self) } == 0, "no contacts made")
    }
}
