import Foundation
import Logging
import PostgresNIO

/// Applies the versioned SQL files in `Migrations/` in order, each in its own transaction, and records them in
/// `schema_migrations`. An advisory lock lets several processes start at once without racing.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: String
        public let name: String
        public let sql: String
    }

    public struct MissingMigrations: Error, CustomStringConvertible {
        public var description: String { "the Migrations resource folder was not found next to the binary" }
    }

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Files named `NNNN_name.sql`, sorted by version.
    public static func bundledMigrations() throws -> [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MissingMigrations()
        }
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { file in
            let base = file.deletingPathExtension().lastPathComponent
            let parts = base.split(separator: "_", maxSplits: 1)
            return Migration(
                version: String(parts[0]), name: parts.count > 1 ? String(parts[1]) : base,
                sql: try String(contentsOf: file, encoding: .utf8))
        }
    }

    /// Applies what is pending and returns the versions it applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        let migrations = try Self.bundledMigrations()
        return try await client.withConnection { connection in
            // Arbitrary constant shared by every SCFM process: one migrator at a time per database.
            try await connection.query("SELECT pg_advisory_lock(7571629719)", logger: logger)
            do {
                let applied = try await appliedVersions(connection)
                var newlyApplied: [String] = []
                for migration in migrations where !applied.contains(migration.version) {
                    try await apply(migration, on: connection)
                    newlyApplied.append(migration.version)
                }
                try await connection.query("SELECT pg_advisory_unlock(7571629719)", logger: logger)
                return newlyApplied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(7571629719)", logger: logger)
                throw error
            }
        }
    }

    public func pendingVersions() async throws -> [String] {
        let migrations = try Self.bundledMigrations()
        let applied = try await client.withConnection { try await appliedVersions($0) }
        return migrations.map(\.version).filter { !applied.contains($0) }
    }

    private func appliedVersions(_ connection: PostgresConnection) async throws -> Set<String> {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var versions = Set<String>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(String.self)
        {
            versions.insert(version)
        }
        return versions
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        try await connection.query("BEGIN", logger: logger)
        do {
            // The statements are our own migration files, never user input, hence unsafeSQL.
            for statement in SQLScript.statements(migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
