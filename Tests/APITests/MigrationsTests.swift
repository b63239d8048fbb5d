import Logging
import PostgresNIO
import Shared
import Testing

/// Serialized: a test holds a reader open while its migration waits, and a concurrent index build in another
/// test waits for every open transaction, the reader's too, while holding the migrators' advisory lock.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MigrationsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "migrations") }

    @Test func migratingAgainAppliesNothing() async throws {
        let migrator = Migrator(client: api.database, logger: Logger(label: "test"))
        #expect(try await migrator.migrate().isEmpty)
        #expect(try await migrator.pendingVersions().isEmpty)
        #expect(try Migrator.bundledMigrations().first?.version == "0001")
    }

    @Test func deepMergeFunctionMergesNestedObjects() async throws {
        let rows = try await api.database.query(
            """
            SELECT jsonb_deep_merge('{"a":{"b":1,"c":2},"d":1}'::jsonb, '{"a":{"c":3},"e":[1]}'::jsonb)
            """, logger: api.logger)
        for try await value in rows.decode(JSONValue.self) {
            #expect(value == ["a": ["b": 1, "c": 3], "d": 1, "e": [1]])
        }
    }

    /// A `-- scfm:no-transaction` file runs statement by statement, so `CREATE INDEX CONCURRENTLY` works; an
    /// index an interrupted build left INVALID is dropped and built again rather than skipped by IF NOT EXISTS.
    @Test func concurrentIndexStepsRunOutsideATransactionAndRebuildAnInvalidIndex() async throws {
        let table = "migration_probe_\(UInt32.random(in: 0...UInt32.max))"
        try await api.execute(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id bigint, v int)"))
        try await api.execute(PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1, 1), (2, 1)"))
        // A unique build over duplicates fails half-way and leaves its index behind, invalid.
        await #expect(throws: (any Error).self) {
            try await api.execute(PostgresQuery(unsafeSQL: "CREATE UNIQUE INDEX CONCURRENTLY \(table)_v ON \(table) (v)"))
        }
        #expect(try await indexIsValid("\(table)_v") == false)
        try await api.execute(PostgresQuery(unsafeSQL: "UPDATE \(table) SET v = id"))

        let version = "9\(UInt32.random(in: 100_000...999_999))"
        let migration = Migrator.Migration(
            version: version, name: "probe_index",
            sql: """
                -- scfm:no-transaction
                -- Built without blocking writes.
                CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \(table)_v ON \(table) (v);
                CREATE INDEX CONCURRENTLY IF NOT EXISTS \(table)_id ON \(table) (id);
                """)
        #expect(!migration.transactional)
        #expect(migration.concurrentIndexNames == ["\(table)_v", "\(table)_id"])
        let migrator = Migrator(client: api.database, logger: api.logger)
        #expect(try await migrator.migrate([migration]) == [version])
        #expect(try await indexIsValid("\(table)_v") == true, "rebuilt, valid")
        #expect(try await indexIsValid("\(table)_id") == true)
        #expect(try await migrator.pendingVersions([migration]).isEmpty)
        #expect(try await migrator.migrate([migration]).isEmpty, "recorded once")
    }

    /// A migration that needs a table another transaction holds waits at most the lock timeout per try (writers
    /// never queue behind it for longer), is rolled back, and after its attempts fails naming itself, applied in
    /// no part; once the table is free it applies.
    @Test func aMigrationBlockedByALongTransactionGivesUpInsteadOfQueueingWriters() async throws {
        let table = "migration_busy_\(UInt32.random(in: 0...UInt32.max))"
        try await api.execute(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id bigint)"))
        let version = "9\(UInt32.random(in: 100_000...999_999))"
        let migration = Migrator.Migration(
            version: version, name: "busy",
            sql: "CREATE TABLE \(table)_marker (id int); ALTER TABLE \(table) ADD COLUMN note text;")
        var settings = Migrator.Settings()
        settings.lockTimeout = .milliseconds(200)
        settings.attempts = 3
        settings.retryDelay = .milliseconds(50)
        let migrator = Migrator(client: api.database, settings: settings, logger: api.logger)

        let (holding, holder) = AsyncStream.makeStream(of: Void.self)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let database = api.database
        let logger = api.logger
        let reader = Task {
            try await database.withTransaction(logger: logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                holder.yield()
                for await _ in release { break }
            }
        }
        for await _ in holding { break }
        let started = ContinuousClock.now
        await #expect(throws: Migrator.LockTimeout.self) { try await migrator.migrate([migration]) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await migrator.pendingVersions([migration]) == [version])
        #expect(try await tableExists("\(table)_marker") == false, "rolled back whole")

        releaser.yield()
        releaser.finish()
        try await reader.value
        #expect(try await migrator.migrate([migration]) == [version])
        #expect(try await tableExists("\(table)_marker"))
    }

    /// `migrate --wait`: returns at once on a current schema, and fails with the pending versions when another
    /// process never applies them.
    @Test func waitingForMigrationsEndsWhenCurrentOrFailsWithWhatIsPending() async throws {
        let migrator = Migrator(client: api.database, logger: api.logger)
        try await migrator.waitUntilCurrent(timeout: .seconds(5))
        let pending = Migrator.Migration(version: "9\(UInt32.random(in: 100_000...999_999))", name: "never", sql: "SELECT 1")
        await #expect(throws: Migrator.StillPending.self) {
            try await migrator.waitUntilCurrent([pending], timeout: .milliseconds(300), every: .milliseconds(100))
        }
    }

    private func indexIsValid(_ name: String) async throws -> Bool? {
        let rows = try await api.database.query(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = \(name)", logger: api.logger)
        for try await valid in rows.decode(Bool.self) { return valid }
        return nil
    }

    private func tableExists(_ name: String) async throws -> Bool {
        try await api.database.query("SELECT to_regclass(\(name)) IS NOT NULL", logger: api.logger).single { try $0.decode(Bool.self) }
    }
}
