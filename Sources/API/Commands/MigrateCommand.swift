import ArgumentParser
import Logging
import Shared

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (DATABASE_URL), or wait until another process has.",
        discussion: """
            Each migration runs in its own transaction, or statement by statement when its file starts with \
            `-- scfm:no-transaction` (CREATE INDEX CONCURRENTLY). A statement waits at most \
            MIGRATION_LOCK_TIMEOUT_SECONDS (5) for a lock, then the migration is rolled back and tried again, up to \
            MIGRATION_ATTEMPTS (30) times. Several processes may run this at once: one applies, the others wait. \
            On Kubernetes the API's pods run `migrate` and the workers' pods `migrate --wait` as an init container, \
            so no pod of a new release starts on an old schema.
            """)

    @Flag(help: "List pending migrations without applying them.")
    var dryRun = false

    @Flag(help: "Apply nothing: wait until no migration is pending (another process applies them), then exit 0.")
    var wait = false

    @Option(help: "With --wait: give up (exit 1) after this many seconds.")
    var timeout: Double = 600

    func validate() throws {
        if dryRun && wait { throw ValidationError("--dry-run and --wait exclude each other") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let environment = EnvironmentVariables()
        try StructuredLogHandler.bootstrap(environment: environment)
        let logger = Logger(label: "scfm.migrate")
        let settings = try Migrator.Settings(environment: environment)
        let (dryRun, wait, timeout) = (self.dryRun, self.wait, self.timeout)
        let versions = try await withDatabase(logger: logger) { client in
            let migrator = Migrator(client: client, settings: settings, logger: logger)
            if wait {
                try await migrator.waitUntilCurrent(timeout: .seconds(timeout))
                return [String]()
            }
            return dryRun ? try await migrator.pendingVersions() : try await migrator.migrate()
        }
        if wait {
            print("The schema is current.")
            return
        }
        let verb = dryRun ? "pending" : "applied"
        print(versions.isEmpty ? "No migrations \(verb)." : "Migrations \(verb): \(versions.joined(separator: ", "))")
    }
}
