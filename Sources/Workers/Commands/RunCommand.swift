import ArgumentParser
import Hummingbird
import Logging
import Metrics
import Operations
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared

/// `Workers --role <name>`: one role per process, so operators scale each role on its own.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one worker role (env WORKER_ROLE), with /health and /metrics on WORKER_HTTP_PORT.",
        discussion: "Roles: \(WorkerRoles.names.joined(separator: ", ")).")

    @Option(help: "The role to run (env WORKER_ROLE): \(WorkerRoles.names.joined(separator: ", ")).")
    var role: String?

    func validate() throws {
        let chosen = role ?? EnvironmentVariables()["WORKER_ROLE"]
        guard let chosen else { throw ValidationError("choose a role with --role or WORKER_ROLE") }
        guard WorkerRoles.names.contains(chosen) else {
            throw ValidationError("unknown role \(chosen); roles: \(WorkerRoles.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let environment = EnvironmentVariables()
        try StructuredLogHandler.bootstrap(environment: environment)
        let roleName = role ?? environment["WORKER_ROLE"] ?? ""
        var logger = Logger(label: "scfm.worker")
        logger[metadataKey: "role"] = "\(roleName)"
        let configuration = try ProcessConfiguration(
            environment: environment, portVariable: "WORKER_HTTP_PORT", defaultPort: 9090)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let database = PostgresClient(configuration: configuration.database.clientConfiguration, backgroundLogger: logger)
        let brokerProbe = try KafkaBrokerProbe(configuration: configuration.kafka, logger: logger)
        let roleServices = try WorkerRoles.services(
            for: roleName, context: WorkerRoleContext(database: database, kafka: configuration.kafka, environment: environment, logger: logger))
        let operations = OperationsServer.application(
            host: configuration.host, port: configuration.port, serverName: "scfm-worker", database: database,
            brokerProbe: brokerProbe, metrics: registry, logger: logger)

        // Shutdown runs in reverse order: the role drains first, then the probe, the HTTP server and the pool.
        let group = ServiceGroup(
            configuration: .init(
                services: [database, brokerProbe, operations] + roleServices,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("starting worker", metadata: ["http_port": "\(configuration.port)"])
        try await group.run()
    }
}
