import ArgumentParser
import Logging
import Shared

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (DATABASE_URL), each in its own transaction.")

    @Flag(help: "List pending migrations without applying them.")
    var dryRun = false

    func run() async throws {
        try StructuredLogHandler.bootstrap(environment: EnvironmentVariables())
        let logger = Logger(label: "scfm.migrate")
        let dryRun = self.dryRun
        let versions = try await withDatabase(logger: logger) { client in
            let migrator = Migrator(client: client, logger: logger)
            return dryRun ? try await migrator.pendingVersions() : try await migrator.migrate()
        }
        let verb = dryRun ? "pending" : "applied"
        print(versions.isEmpty ? "No migrations \(verb)." : "Migrations \(verb): \(versions.joined(separator: ", "))")
    }
}
