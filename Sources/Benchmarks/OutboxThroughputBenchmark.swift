import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization

/// Outbox → topic → consumer: rows written to `outbox_messages`, published by the relay, read and committed
/// by a worker runtime, on the local broker (librdkafka's mock cluster). Beside it, in the same run, the two
/// floors the pipeline stands on: the relay's SQL alone (select and mark every row) and Kafka alone
/// (produce and consume the same messages with no database).
struct OutboxThroughputBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox-throughput",
        abstract: "Messages per second through outbox, relay, topic and consumer.")

    @Option(help: "Messages to send.")
    var messages = 100_000

    @Option(help: "Payload size in bytes.")
    var payloadBytes = 1024

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let count = messages
        let padding = String(repeating: "x", count: max(0, payloadBytes - 40))
        try await withDatabase(logger: logger, maximumConnections: 8) { client in
            try await Migrator(client: client, logger: logger).migrate()
            say("outbox-throughput: \(count) messages of \(payloadBytes) bytes, local broker with \(Self.partitions) partitions")

            let sqlFloor = try await Self.sqlFloor(client: client, count: count, padding: padding, logger: logger)
            logger.info("relay SQL floor measured")
            let kafkaFloor = try await Self.kafkaFloor(count: count, padding: padding, logger: logger)
            logger.info("Kafka floor measured")
            let endToEnd = try await Self.endToEnd(client: client, count: count, padding: padding, logger: logger)

            say()
            say("  write \(count) outbox rows (one INSERT … SELECT): \(Self.rate(count, endToEnd.insert)) rows/s")
            say("  outbox → relay → topic → consumer (from the rows' commit): \(Self.rate(count, endToEnd.pipeline - endToEnd.insert)) messages/s")
            say("  including the write, write → outbox → relay → topic → consumer: \(Self.rate(count, endToEnd.pipeline)) messages/s")
            say("  floor, relay SQL only (select + mark published): \(Self.rate(count, sqlFloor)) rows/s")
            say("  floor, Kafka only (produce + consume): \(Self.rate(count, kafkaFloor)) messages/s")
            let slowestFloor = max(sqlFloor, kafkaFloor)
            say("  ratio outbox → consumer / slower floor (time): \((((endToEnd.pipeline - endToEnd.insert) / slowestFloor) * 100).rounded() / 100)x")
        }
    }

    /// The local broker keeps 5 MB per partition; 32 partitions hold what the benchmark has in flight.
    static let partitions: Int32 = 32

    static func rate(_ count: Int, _ milliseconds: Double) -> Int { Int(Double(count) / (milliseconds / 1000)) }

    static func insertRows(client: PostgresClient, count: Int, padding: String, logger: Logger) async throws {
        try await client.query("TRUNCATE outbox_messages", logger: logger)
        try await client.query(
            """
            INSERT INTO outbox_messages (topic, message_key, payload)
            SELECT 'phone-calls.queue', 'call-' || i, jsonb_build_object('version', 1, 'id', i, 'padding', \(padding)::text)
            FROM generate_series(1, \(count)) AS i
            """, logger: logger)
    }

    /// The relay's statements with nothing published, one after the other: read a batch of 10,000 in id order
    /// (`OutboxRelay.readUnpublished`, the relay's own read), mark it, repeat.
    static func sqlFloor(client: PostgresClient, count: Int, padding: String, logger: Logger) async throws -> Double {
        try await insertRows(client: client, count: count, padding: padding, logger: logger)
        return try await measure {
            while true {
                let ids = try await OutboxRelay.readUnpublished(after: 0, limit: 10_000, database: client, logger: logger)
                    .map(\.id)
                if ids.isEmpty { break }
                try await client.query("UPDATE outbox_messages SET published_at = now() WHERE id = ANY(\(ids))", logger: logger)
            }
        }
    }

    static func kafkaFloor(count: Int, padding: String, logger: Logger) async throws -> Double {
        let broker = try LocalKafkaBroker(topics: ["floor"], partitions: Self.partitions)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        // As large a buffer as the pipeline's consumer below: with the default 1,000 and the local broker's
        // former 500 ms fetch wait, the pauses and resumes of fetching (see KafkaConsumer.defaultMaximumBuffered)
        // held this floor at 1,600 messages/s.
        let consumer = try KafkaConsumer(
            configuration: kafka, groupID: "floor", topics: ["floor"], maximumBuffered: 10_000, logger: logger)
        let payload = Array("{\"version\":1,\"padding\":\"\(padding)\"}".utf8)
        consumer.startPolling()
        // Start-up is not part of the figure (see warmUp).
        while consumer.assignedPartitionCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
        try await Self.warmUp(producer, topic: "floor")
        var warmUpRead = 0
        for await _ in consumer.messages {
            warmUpRead += 1
            if warmUpRead == Self.warmUpMessages { break }
        }
        // The consumer reads while the producer writes, as in the pipeline: the local broker keeps only 5 MB
        // per partition, so a reader that starts late finds the oldest messages gone.
        let elapsed = try await measure {
            let reader = Task {
                var received = 0
                var pending: [KafkaMessage] = []
                // Commits run beside the reading, as the worker runtime's do, instead of holding the reader up.
                var commits: [Task<Bool, any Error>] = []
                for await message in consumer.messages {
                    received += 1
                    pending.append(message)
                    if pending.count == 2000 {
                        let batch = pending
                        commits.append(Task { try await consumer.commit(batch) })
                        pending.removeAll(keepingCapacity: true)
                    }
                    if received == count { break }
                }
                for commit in commits { _ = try await commit.value }
                try await consumer.commit(pending)
            }
            let producing = ContinuousClock.now
            for start in stride(from: 0, to: count, by: 10_000) {
                let batch = (start..<min(count, start + 10_000)).map {
                    KafkaOutgoingMessage(topic: "floor", key: "call-\($0)", value: payload)
                }
                for result in await producer.send(batch: batch) { _ = try result.get() }
            }
            say("    (Kafka floor: every message acknowledged after \(String(format: "%.1f", (ContinuousClock.now - producing).seconds)) s)")
            try await reader.value
        }
        await consumer.close()
        withExtendedLifetime(broker) {}
        return elapsed
    }

    static let warmUpMessages = 1000

    /// Start-up is not part of the figures: joining the group (the broker's initial rebalance delay), the
    /// idempotent producer's id, and its first messages to each partition of a topic (a metadata lookup and
    /// the partition's idempotence state: the first 10,000 took a second, the next 10,000 0.1 s) happen once
    /// per process and topic. A thousand keys cover every partition.
    static func warmUp(_ producer: KafkaProducer, topic: String) async throws {
        let messages = (0..<warmUpMessages).map { KafkaOutgoingMessage(topic: topic, key: "warm-up-\($0)", value: []) }
        for result in await producer.send(batch: messages) { _ = try result.get() }
    }

    final class CountingHandler: MessageHandler {
        let handled = Atomic<Int>(0)
        func handle(_ message: KafkaMessage) async throws { handled.add(1, ordering: .relaxed) }
    }

    /// Steady state, from the moment the rows are written until the consumer handled the last of them;
    /// start-up (group join, producer id) happens before.
    static func endToEnd(
        client: PostgresClient, count: Int, padding: String, logger: Logger
    ) async throws -> (insert: Double, pipeline: Double) {
        try await client.query("TRUNCATE outbox_messages", logger: logger)
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map(\.rawValue), partitions: Self.partitions)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let handler = CountingHandler()
        let consumer = try KafkaConsumer(
            configuration: kafka, groupID: "bench", topics: [kafka.topic(.phoneCallsQueue)], maximumBuffered: 10_000,
            logger: logger)
        var settings = WorkerRuntime.Settings()
        settings.maximumInFlight = 10_000
        let runtime = WorkerRuntime(
            role: "bench", consumer: consumer, handler: handler,
            deadLetters: DeadLetterRepository(client: client, logger: logger), settings: settings, logger: logger)
        let relay = OutboxRelay(database: client, producer: producer, kafka: kafka, logger: logger)
        let services = ServiceGroup(services: [producer, runtime, relay], logger: logger)
        let running = Task { try await services.run() }
        while consumer.assignedPartitionCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
        try await Self.warmUp(producer, topic: kafka.topic(.phoneCallsQueue))
        while handler.handled.load(ordering: .relaxed) < Self.warmUpMessages { try await Task.sleep(for: .milliseconds(10)) }
        handler.handled.store(0, ordering: .relaxed)

        var insert = 0.0
        let pipeline = try await measure {
            insert = try await measure {
                try await client.query(
                    """
                    INSERT INTO outbox_messages (topic, message_key, payload)
                    SELECT 'phone-calls.queue', 'call-' || i, jsonb_build_object('version', 1, 'id', i, 'padding', \(padding)::text)
                    FROM generate_series(1, \(count)) AS i
                    """, logger: logger)
            }
            while handler.handled.load(ordering: .relaxed) < count {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        await services.triggerGracefulShutdown()
        try await running.value
        withExtendedLifetime(broker) {}
        return (insert, pipeline)
    }
}
