import ArgumentParser
import CLocalBrokerPort
import Foundation
import Logging
import ServiceLifecycle
import Shared

/// `Workers broker`: a local Kafka-protocol broker (librdkafka's mock cluster) for `make run` and demos.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a local, in-memory Kafka-protocol broker with the SCFM topics.",
        discussion: """
            The broker is librdkafka's mock cluster: it speaks the Kafka protocol over TCP on 127.0.0.1, keeps \
            messages in memory only and loses them when it stops. Production uses Apache Kafka \
            (docker-compose.yml). Its bootstrap address is written to --bootstrap-file for other processes.
            """)

    @Option(help: "Partitions per topic (env KAFKA_PARTITIONS).")
    var partitions: Int32?

    @Option(help: "Write the bootstrap address (host:port) to this file.")
    var bootstrapFile = ".scfm/kafka-bootstrap"

    @Option(
        help: """
            Listen on this loopback port (env KAFKA_LOCAL_PORT; default: one the kernel picks). A broker restarted \
            on the same port is found again by every running client, as a restarted Kafka broker would be.
            """)
    var port: UInt16?

    func run() async throws {
        let environment = EnvironmentVariables()
        try StructuredLogHandler.bootstrap(environment: environment)
        let logger = Logger(label: "scfm.broker")
        let kafka = try KafkaConfiguration(environment: environment)
        let partitionCount = try partitions ?? Int32(environment.integer("KAFKA_PARTITIONS", default: 8, range: 1...1024))
        let listenPort = try port ?? environment.optionalInteger("KAFKA_LOCAL_PORT", range: 1...65535).map { UInt16($0) }
        let service = LocalBrokerService(
            topics: Topic.allCases.map(kafka.topic), partitions: partitionCount, port: listenPort, bootstrapFile: bootstrapFile,
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Holds the mock cluster open until shutdown, then removes the bootstrap file so nobody dials a dead port.
struct LocalBrokerService: Service {
    let topics: [String]
    let partitions: Int32
    let port: UInt16?
    let bootstrapFile: String
    let logger: Logger

    func run() async throws {
        if let port { scfm_local_broker_port_set(port) }
        let broker = try LocalKafkaBroker(topics: topics, partitions: partitions)
        if let port, !broker.bootstrapServers.hasSuffix(":\(port)") {
            throw KafkaError("the local broker listens on \(broker.bootstrapServers), not on port \(port)")
        }
        let url = URL(fileURLWithPath: bootstrapFile)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (broker.bootstrapServers + "\n").write(to: url, atomically: true, encoding: .utf8)
        logger.info(
            "local broker ready",
            metadata: [
                "bootstrap": "\(broker.bootstrapServers)", "topics": "\(topics.joined(separator: ","))",
                "partitions": "\(partitions)",
            ])
        try? await gracefulShutdown()
        try? FileManager.default.removeItem(at: url)
        logger.info("local broker stopped")
        withExtendedLifetime(broker) {}
    }
}
