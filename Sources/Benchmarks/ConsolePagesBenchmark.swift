import ArgumentParser
import AsyncHTTPClient
import Console
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

/// The operator console's pages over a large account (issue #23's target: under 100 ms p95 with a million
/// contacts), through the running API with a signed-in session, beside the raw SQL of the contacts search (the
/// floor of its heaviest query). The account gets one callout of `participations` participations, so the
/// callout page and one monitor tick are measured at campaign size.
struct ConsolePagesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-pages",
        abstract: "Operator console page latency with a 1M-contact account, through the API.")

    @Option(help: "Contacts in the benchmark account (seeded once, reused while the count matches).")
    var contacts = 1_000_000

    @Option(help: "Participations of the benchmark callout (made once).")
    var participations = 100_000

    @Option(help: "Measured requests per page.")
    var requests = 200

    @Option(help: "Base URL of a running API serving the same DATABASE_URL.")
    var apiURL = "http://127.0.0.1:3999"

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let (contacts, participations, requests, apiURL) = (self.contacts, self.participations, self.requests, self.apiURL)
        try await withDatabase(logger: logger, maximumConnections: 4) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let seed = try await BenchmarkSeed.ensure(client: client, contacts: contacts, logger: logger)
            let callout = try await Self.callout(client, accountID: seed.accountID, participations: participations, logger: logger)
            let small = try await Self.callout(client, accountID: seed.accountID, participations: 1000, logger: logger)
            let user = try await ConsoleUsers(client: client, logger: logger, cost: 4).create(
                accountID: seed.accountID, email: "bench-\(UUID().uuidString.prefix(8).lowercased())@scfm.local", role: .operator,
                password: UUID().uuidString)
            let (cookie, _) = try await ConsoleSessions(client: client, logger: logger).start(for: user)
            say("console-pages: \(contacts) contacts, a callout of \(participations) participations, account \(seed.accountID)")
            let pages: [(String, String)] = [
                ("overview", "/console"),
                ("callouts", "/console/callouts"),
                ("callout page (with its monitor's first figures)", "/console/callouts/\(callout)"),
                ("monitor tick (one server-sent event)", "/console/callouts/\(callout)/monitor?once"),
                ("monitor tick, a callout of 1,000 (the same cost)", "/console/callouts/\(small)/monitor?once"),
                ("contacts, first page", "/console/contacts"),
                ("contacts search, a field (~1% of rows)", "/console/contacts?key=province&value=province-42"),
                ("contacts search, a number", "/console/contacts?msisdn=%2B855100000042"),
                ("live recipient count (~1% of rows)", "/console/contacts/count?key=province&value=province-42"),
                ("compose form", "/console/callouts/new"),
                ("audit trail", "/console/audit"),
            ]
            var worst = 0.0
            for (name, path) in pages {
                let latency = try await Self.measure(url: apiURL + path, cookie: cookie, requests: requests)
                worst = max(worst, latency.p95)
                say("  \(name.padding(toLength: 50, withPad: " ", startingAt: 0)) \(latency.summary())")
            }
            let repository = ContactRepository(client: client, logger: logger)
            let filter = try RecordFilter.contacts(["metadata": ["province": "province-42"]])
            let floor = try await ContactsIndexBenchmark.measureSQL(
                repository: repository, accountID: seed.accountID, filter: filter, requests: requests)
            say("  raw SQL floor of the field search (page + count)   \(floor.summary())")
            say("  slowest page p95: \((worst * 100).rounded() / 100) ms (target < 100 ms)")
        }
    }

    static func measure(url: String, cookie: String, requests: Int) async throws -> LatencyStatistics {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Cookie", value: "\(ConsoleCookie.session)=\(cookie)")
        var samples: [Double] = []
        for index in 0..<(requests + 10) {
            let elapsed = try await Benchmarks.measure {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                guard response.status == .ok else { throw BenchmarkFailure("\(url): \(response.status)") }
                _ = try await response.body.collect(upTo: 1 << 24)
            }
            if index >= 10 { samples.append(elapsed) }
        }
        return LatencyStatistics(samples)
    }

    /// The account's benchmark callout: `participations` of its contacts, made once (set-based).
    static func callout(_ client: PostgresClient, accountID: Int64, participations: Int, logger: Logger) async throws -> Int64 {
        let existing = try await client.query(
            """
            SELECT id FROM callouts WHERE account_id = \(accountID) AND metadata ->> 'benchmark' = 'console-pages'
              AND (metadata ->> 'participations')::int = \(participations)
            """, logger: logger)
        for try await id in existing.decode(Int64.self) { return id }
        let id = try await client.query(
            """
            INSERT INTO callouts (account_id, status, call_flow_logic, metadata)
            VALUES (\(accountID), 'running', 'CallFlowLogic::PlayMessage',
                    jsonb_build_object('benchmark', 'console-pages', 'participations', \(participations), 'name', 'Benchmark alert'))
            RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
        try await client.query(
            """
            INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn)
            SELECT account_id, \(id), id, msisdn FROM contacts WHERE account_id = \(accountID) ORDER BY id LIMIT \(participations)
            """, logger: logger)
        return id
    }
}

/// The console's session cookie, as the API names it (`ConsoleController.sessionCookie`; the benchmarks do
/// not link the API target).
enum ConsoleCookie {
    static let session = "scfm_session"
}
