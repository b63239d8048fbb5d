import Logging
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct MigrationsTests {
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
}
