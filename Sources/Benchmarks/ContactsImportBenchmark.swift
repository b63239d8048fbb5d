import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import Shared

/// `API task import-contacts` at scale: a CSV of N contacts (msisdn and three metadata columns) into a new
/// account, beside the floor of the same rows inserted by one INSERT … SELECT from generate_series into another
/// new account (same table, same indexes, no file, no parsing, no COPY).
struct ContactsImportBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts-import",
        abstract: "CSV contact import throughput, and the raw-SQL floor.")

    @Option(help: "Lines in the CSV file.")
    var contacts = 1_000_000

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let contacts = self.contacts
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scfm-contacts-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeFile(path: path, contacts: contacts)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        try await withDatabase(logger: logger, maximumConnections: 4) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let accounts = AccountRepository(client: client, logger: logger)
            let importAccount = try await accounts.create(AccountChanges())
            let floorAccount = try await accounts.create(AccountChanges())
            say("contacts-import: \(contacts) lines, \(size >> 20) MiB, into account \(importAccount.id)")

            let start = ContinuousClock.now
            let summary = try await ContactImport(client: client, logger: logger).run(accountID: importAccount.id, path: path)
            let imported = (ContinuousClock.now - start).seconds
            guard summary.created == contacts, summary.rejected == 0 else { throw BenchmarkFailure("unexpected import summary \(summary)") }

            let floorStart = ContinuousClock.now
            try await client.query(
                """
                INSERT INTO contacts (account_id, msisdn, metadata)
                SELECT \(floorAccount.id), '+855' || (100000000 + n)::text,
                       jsonb_build_object('name', 'contact ' || n, 'province', 'province-' || (n % 25), 'gender', CASE WHEN n % 2 = 0 THEN 'f' ELSE 'm' END)
                FROM generate_series(1, \(contacts)) n
                """, logger: logger)
            let floor = (ContinuousClock.now - floorStart).seconds

            say()
            say("  import through the task: \(String(format: "%.1f", imported)) s (\(Int(Double(contacts) / imported)) contacts/s)")
            say("  raw-SQL floor (INSERT … SELECT): \(String(format: "%.1f", floor)) s (\(Int(Double(contacts) / floor)) contacts/s)")
            say("  ratio import / floor (time): \(String(format: "%.2f", imported / floor))x")
            for account in [importAccount.id, floorAccount.id] {
                try await client.query("DELETE FROM contacts WHERE account_id = \(account)", logger: logger)
                try await client.query("DELETE FROM accounts WHERE id = \(account)", logger: logger)
            }
        }
    }

    /// The same rows as the floor, as a CSV file.
    static func writeFile(path: String, contacts: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BenchmarkFailure("cannot write \(path)")
        }
        defer { try? handle.close() }
        var chunk = "msisdn,name,province,gender\n"
        for n in 1...contacts {
            chunk += "+855\(100_000_000 + n),contact \(n),province-\(n % 25),\(n % 2 == 0 ? "f" : "m")\n"
            if chunk.utf8.count >= 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
    }
}
