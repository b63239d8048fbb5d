import ArgumentParser
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Operations
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the REST API (HOST, PORT, DATABASE_URL, KAFKA_BROKERS, …).")

    @Flag(help: "Apply pending database migrations before serving.")
    var migrate = false

    func run() async throws {
        // Swift concurrency's jobs run on NIO's event loops, the threads that already serve the sockets: a
        // request's handler and each of its database queries stop hopping between the cooperative pool and the
        // loops (the contacts index went from about 2,000 to 2,400 requests/s on two cores, docs/benchmarks.md). Only the main task has
        // run so far, on the main thread, so nothing is queued on the default executor yet.
        let onEventLoops = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let environment = EnvironmentVariables()
        try StructuredLogHandler.bootstrap(environment: environment)
        let logger = Logger(label: "scfm.api")
        logger.debug("concurrency executor", metadata: ["nio_event_loops": "\(onEventLoops)"])
        let configuration = try ProcessConfiguration(environment: environment, portVariable: "PORT", defaultPort: 3000)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let database = PostgresClient(configuration: configuration.database.clientConfiguration, backgroundLogger: logger)
        let brokerProbe = try KafkaBrokerProbe(configuration: configuration.kafka, logger: logger)
        var dependencies = APIDependencies(database: database, brokerProbe: brokerProbe, logger: logger)
        dependencies.settings = try APISettings(environment: environment)
        let idleTimeout = try environment.seconds("API_IDLE_TIMEOUT_SECONDS", default: .seconds(60), range: 0...3600)
        var app = buildApplication(dependencies, host: configuration.host, port: configuration.port, idleTimeout: idleTimeout)
        // /health and /metrics on the internal port, as every worker has: the public port never shows metrics.
        let metricsPort = try environment.integer("METRICS_PORT", default: 9090, range: 1...65535)
        guard metricsPort != configuration.port else {
            throw EnvironmentVariables.InvalidValue(name: "METRICS_PORT", value: "\(metricsPort)", expected: "a port other than PORT")
        }
        let operations = OperationsServer.application(
            host: configuration.host, port: metricsPort, serverName: "scfm-api-operations", database: database,
            brokerProbe: brokerProbe, needs: .database, metrics: registry, logger: logger)
        app.addServices(database, brokerProbe, operations)
        // The outbox relay publishes the jobs this API writes; with several replicas one publishes at a time.
        if try environment.oneOf("OUTBOX_RELAY", ["true", "false"], default: "true") == "true" {
            let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
            app.addServices(
                producer,
                try OutboxRelay.fromEnvironment(
                    database: database, producer: producer, kafka: configuration.kafka, environment: environment, logger: logger))
        }
        let secrets = dependencies.settings.secrets
        let migrationSettings = try Migrator.Settings(environment: environment)
        app.beforeServerStarts {
            if migrate { try await Migrator(client: database, settings: migrationSettings, logger: logger).migrate() }
            // Secrets stored before they were sealed (an upgrade) are sealed now; a no-op once done.
            if let secrets {
                let report = try await StoredSecrets(client: database, box: secrets, logger: logger).reseal(onlyPlaintext: true)
                if report.resealed > 0 { logger.notice("sealed plaintext secrets", metadata: ["count": "\(report.resealed)"]) }
            }
        }
        if dependencies.settings.outbound.allowPrivateAddresses {
            logger.warning("OUTBOUND_ALLOW_PRIVATE_ADDRESSES=true: webhook endpoints may name private and loopback addresses (local use only)")
        }
        logger.info(
            "starting API",
            metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)", "metrics_port": "\(metricsPort)"])
        // Application.runService installs SIGTERM/SIGINT handlers: in-flight requests finish, pools close.
        try await app.runService()
    }
}
