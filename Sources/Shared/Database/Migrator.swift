import Foundation
import Logging
import PostgresNIO

/// Applies the versioned SQL files in `Migrations/` in order and records them in `schema_migrations`. An
/// advisory lock lets several processes start at once without racing (the API's pods all run `migrate` before
/// they serve; the workers' pods wait for it with `migrate --wait`).
///
/// Invariants, for an upgrade under load:
/// - A file is applied in one transaction, unless its first line is `-- scfm:no-transaction`: then each
///   statement runs on its own (what `CREATE INDEX CONCURRENTLY` needs, so building an index on a big table
///   never blocks writes). Such statements must be idempotent (`IF NOT EXISTS`); an index an interrupted
///   concurrent build left INVALID is dropped (concurrently) before the file runs again. The version is
///   recorded only after its last statement.
/// - Every statement waits at most `lockTimeout` for a lock (`lock_timeout`): a migration that needs a table
///   busy with a long transaction gives up and tries again after `retryDelay`, rather than queueing every
///   writer of that table behind it. After `attempts` tries it fails with the migration's name.
/// - Expand, then contract: a migration only adds what the running (older) code tolerates; removing what it
///   still uses waits for a later release (README, "Upgrading").
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: String
        public let name: String
        public let sql: String
        /// False when the file starts with `-- scfm:no-transaction`.
        public let transactional: Bool

        public init(version: String, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
            transactional = !sql.hasPrefix(Self.noTransactionMarker)
        }

        static let noTransactionMarker = "-- scfm:no-transaction"

        /// The index names of the file's `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name` statements.
        public var concurrentIndexNames: [String] {
            SQLScript.statements(sql).compactMap { statement in
                let words = statement.split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
                guard words.first == "create", let concurrently = words.firstIndex(of: "concurrently") else { return nil }
                var rest = words[(concurrently + 1)...]
                if rest.starts(with: ["if", "not", "exists"]) { rest = rest.dropFirst(3) }
                return rest.first.map { $0.replacingOccurrences(of: "\"", with: "") }
            }
        }
    }

    public struct Settings: Sendable {
        /// MIGRATION_LOCK_TIMEOUT_SECONDS: the longest one statement waits for a lock.
        public var lockTimeout: Duration = .seconds(5)
        /// MIGRATION_ATTEMPTS: tries of a migration that met a lock timeout.
        public var attempts = 30
        public var retryDelay: Duration = .seconds(2)
        public init() {}

        public init(environment: EnvironmentVariables) throws {
            lockTimeout = try environment.seconds("MIGRATION_LOCK_TIMEOUT_SECONDS", default: lockTimeout, range: 0.1...3600)
            attempts = try environment.integer("MIGRATION_ATTEMPTS", default: attempts, range: 1...10_000)
        }
    }

    public struct MissingMigrations: Error, CustomStringConvertible {
        public var description: String { "the Migrations resource folder was not found next to the binary" }
    }

    public struct LockTimeout: Error, CustomStringConvertible {
        public let version: String
        public let name: String
        public let attempts: Int
        public var description: String {
            "migration \(version) \(name) could not take its locks within the lock timeout in \(attempts) attempts: "
                + "a long transaction holds the table (see pg_stat_activity); nothing of it was applied"
        }
    }

    public struct StillPending: Error, CustomStringConvertible {
        public let versions: [String]
        public var description: String {
            "migrations \(versions.joined(separator: ", ")) are still not applied: run `API migrate` (the API's pods run it before they start)"
        }
    }

    let client: PostgresClient
    let settings: Settings
    let logger: Logger

    public init(client: PostgresClient, settings: Settings = Settings(), logger: Logger) {
        self.client = client
        self.settings = settings
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

    /// Arbitrary constant shared by every SCFM process: one migrator at a time per database.
    static let lock: Int64 = 7_571_629_719

    /// Applies what is pending (the bundled files unless given) and returns the versions it applied.
    @discardableResult
    public func migrate(_ given: [Migration]? = nil) async throws -> [String] {
        let migrations = try given ?? Self.bundledMigrations()
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lock))", logger: logger)
            // Whole milliseconds, as `SET` takes no bind parameters.
            let milliseconds = max(1, settings.lockTimeout.nanoseconds / 1_000_000)
            try await connection.query(PostgresQuery(unsafeSQL: "SET lock_timeout = \(milliseconds)"), logger: logger)
            do {
                let applied = try await appliedVersions(connection)
                var newlyApplied: [String] = []
                for migration in migrations where !applied.contains(migration.version) {
                    try await applyRetryingLockTimeouts(migration, on: connection)
                    newlyApplied.append(migration.version)
                }
                try await connection.query("RESET lock_timeout", logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lock))", logger: logger)
                return newlyApplied
            } catch {
                _ = try? await connection.query("RESET lock_timeout", logger: logger)
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lock))", logger: logger)
                throw error
            }
        }
    }

    public func pendingVersions(_ given: [Migration]? = nil) async throws -> [String] {
        let migrations = try given ?? Self.bundledMigrations()
        let applied = try await client.withConnection { try await appliedVersions($0) }
        return migrations.map(\.version).filter { !applied.contains($0) }
    }

    /// Returns once no migration is pending (another process applies them); `StillPending` after `timeout`.
    public func waitUntilCurrent(_ given: [Migration]? = nil, timeout: Duration, every interval: Duration = .seconds(2)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let pending: [String]
            do {
                pending = try await pendingVersions(given)
            } catch let error as MissingMigrations {
                throw error
            } catch {
                // The database may not be up yet: that is what waiting is for.
                logger.notice("waiting for the database", metadata: ["error": "\(String(reflecting: error))"])
                pending = ["(database unreachable)"]
            }
            if pending.isEmpty { return }
            guard ContinuousClock.now < deadline else { throw StillPending(versions: pending) }
            logger.info("waiting for migrations", metadata: ["pending": "\(pending.joined(separator: ","))"])
            try await Task.sleep(for: interval)
        }
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

    private func applyRetryingLockTimeouts(_ migration: Migration, on connection: PostgresConnection) async throws {
        for attempt in 1...settings.attempts {
            do {
                return try await apply(migration, on: connection)
            } catch  where error.isLockTimeout {
                logger.warning(
                    "migration waited too long for a lock; trying again",
                    metadata: ["version": "\(migration.version)", "attempt": "\(attempt)", "of": "\(settings.attempts)"])
                if attempt < settings.attempts { try await Task.sleep(for: settings.retryDelay) }
            }
        }
        throw LockTimeout(version: migration.version, name: migration.name, attempts: settings.attempts)
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        logger.info(
            "applying migration",
            metadata: ["version": "\(migration.version)", "name": "\(migration.name)", "transactional": "\(migration.transactional)"])
        let record: PostgresQuery = "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))"
        // The statements are our own migration files, never user input, hence unsafeSQL.
        guard migration.transactional else {
            try await dropInvalidIndexes(migration.concurrentIndexNames, on: connection)
            for statement in SQLScript.statements(migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(record, logger: logger)
            return
        }
        try await connection.query("BEGIN", logger: logger)
        do {
            for statement in SQLScript.statements(migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(record, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// An interrupted `CREATE INDEX CONCURRENTLY` leaves its index INVALID (never used, still maintained), and
    /// `IF NOT EXISTS` would then skip the build: drop it so the statement builds it again.
    private func dropInvalidIndexes(_ names: [String], on connection: PostgresConnection) async throws {
        guard !names.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid AND c.relname = ANY(\(names)) AND n.nspname = current_schema()
            """, logger: logger)
        var invalid: [String] = []
        for try await name in rows.decode(String.self) { invalid.append(name) }
        for name in invalid {
            logger.warning("dropping an index an interrupted build left invalid", metadata: ["index": "\(name)"])
            // quote_ident made the name safe to splice.
            try await connection.query(PostgresQuery(unsafeSQL: "DROP INDEX CONCURRENTLY IF EXISTS \(name)"), logger: logger)
        }
    }
}
