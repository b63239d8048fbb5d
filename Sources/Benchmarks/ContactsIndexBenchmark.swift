import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

/// Contacts index over a large account: the documented metadata filter (`q[metadata][province]=…`, about 1%
/// of the rows) through the running API with its `Total` header, against the same two SQL statements sent
/// straight to PostgreSQL (the floor no API can beat).
struct ContactsIndexBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts-index",
        abstract: "Contacts index latency at scale, through the API and as raw SQL.")

    @Option(help: "Contacts in the benchmark account (seeded once, reused while the count matches).")
    var contacts = 1_000_000

    @Option(help: "Measured requests per scenario.")
    var requests = 200

    @Option(help: "Base URL of a running API serving the same DATABASE_URL.")
    var apiURL = "http://127.0.0.1:3999"

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let contacts = self.contacts
        let requests = self.requests
        let apiURL = self.apiURL
        try await withDatabase(logger: logger, maximumConnections: 4) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let seed = try await BenchmarkSeed.ensure(client: client, contacts: contacts, logger: logger)
            say("contacts-index: \(contacts) contacts in account \(seed.accountID)")

            let scenarios: [(name: String, query: String, filter: RecordFilter)] = [
                (
                    "metadata filter, ~1% of rows", "q%5Bmetadata%5D%5Bprovince%5D=province-42",
                    try RecordFilter.contacts(["metadata": ["province": "province-42"]])
                ),
                (
                    "metadata filter, 2 keys", "q%5Bmetadata%5D%5Bprovince%5D=province-42&q%5Bmetadata%5D%5Bgender%5D=f",
                    try RecordFilter.contacts(["metadata": ["province": "province-42", "gender": "f"]])
                ),
                ("no filter, all rows counted", "", RecordFilter()),
            ]
            let http = HTTPClient.shared
            let repository = ContactRepository(client: client, logger: logger)
            for scenario in scenarios {
                let api = try await Self.measureAPI(
                    http: http, url: "\(apiURL)/api/contacts?\(scenario.query)", token: seed.token, requests: requests)
                let sql = try await Self.measureSQL(
                    repository: repository, accountID: seed.accountID, filter: scenario.filter, requests: requests)
                say()
                say("  \(scenario.name)  (Total: \(api.total))")
                say("    API     \(api.latency.summary())")
                say("    raw SQL \(sql.summary())")
                let ratio = (api.latency.p50 / sql.p50 * 100).rounded() / 100
                say("    p50 ratio API / raw SQL: \(ratio)x")
            }
        }
    }

    static func measureAPI(
        http: HTTPClient, url: String, token: String, requests: Int
    ) async throws -> (latency: LatencyStatistics, total: String) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        var total = ""
        var samples: [Double] = []
        for index in 0..<(requests + 20) {
            let elapsed = try await measure {
                let response = try await http.execute(request, timeout: .seconds(30))
                guard response.status == .ok else { throw BenchmarkFailure("API answered \(response.status)") }
                total = response.headers.first(name: "Total") ?? ""
                _ = try await response.body.collect(upTo: 1 << 24)
            }
            if index >= 20 { samples.append(elapsed) }  // the first 20 warm caches and connections
        }
        return (LatencyStatistics(samples), total)
    }

    /// The floor: the page query and the count query the repository sends, without HTTP or JSON rendering.
    static func measureSQL(
        repository: ContactRepository, accountID: Int64, filter: RecordFilter, requests: Int
    ) async throws -> LatencyStatistics {
        var samples: [Double] = []
        for index in 0..<(requests + 20) {
            let elapsed = try await measure {
                _ = try await repository.index(accountID: accountID, filter: filter, page: PageRequest())
            }
            if index >= 20 { samples.append(elapsed) }
        }
        return LatencyStatistics(samples)
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
