import Foundation
import Logging
import PostgresNIO
import Shared

/// A fresh, migrated database per test suite on the server named by `TEST_DATABASE_URL` (set by
/// `make test`, which starts a throwaway cluster). Suites never share data, and each runs against the real
/// schema.
public actor TestDatabases {
    public static let shared = TestDatabases()

    private var databases: [String: Task<PostgresClient, any Error>] = [:]
    private var names: [String: String] = [:]
    private let logger = Logger(label: "scfm.tests")

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a PostgreSQL for them"
        }
    }

    /// The pool of the suite's database, created and migrated on first use. `maximumConnections` (10 unless a
    /// suite runs several workers on one pool, each of which may keep a connection for LISTEN) is the pool's
    /// size at its creation.
    public func client(suite: String, maximumConnections: Int = 10) async throws -> PostgresClient {
        if let existing = databases[suite] { return try await existing.value }
        let logger = self.logger
        let safeSuite = suite.lowercased().filter { $0.isLetter || $0.isNumber }
        let name = "scfm_test_\(safeSuite)_\(UInt32.random(in: 0...UInt32.max))"
        names[suite] = name
        let task = Task { try await Self.create(name: name, maximumConnections: maximumConnections, logger: logger) }
        databases[suite] = task
        return try await task.value
    }

    public static var serverConfiguration: DatabaseConfiguration {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
                throw NotConfigured()
            }
            return try DatabaseConfiguration(url: url, maximumConnections: 10)
        }
    }

    /// The suite's database as a `postgres://` URL, for processes a test starts.
    public func url(suite: String) async throws -> String {
        _ = try await client(suite: suite)
        let server = try Self.serverConfiguration
        let credentials = server.password.map { "\(server.username):\($0)" } ?? server.username
        return "postgres://\(credentials)@\(server.host):\(server.port)/\(names[suite]!)"
    }

    private static func create(name: String, maximumConnections: Int, logger: Logger) async throws -> PostgresClient {
        let server = try serverConfiguration

        let admin = PostgresClient(configuration: server.clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            // CREATE DATABASE takes no bind parameters; the name is built above from letters and digits only.
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            group.cancelAll()
        }

        var suiteServer = server.with(database: name)
        suiteServer.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: suiteServer.clientConfiguration, backgroundLogger: logger)
        // The pool lives as long as the test process.
        Task.detached { await client.run() }
        try await Migrator(client: client, logger: logger).migrate()
        return client
    }
}
