import Foundation
import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The outbox relay against a real PostgreSQL and the mock Kafka cluster.
@Suite(.timeLimit(.minutes(2))) struct OutboxRelayTests {
    let logger = Logger(label: "scfm.tests.outbox")

    private func enqueue(_ range: Range<Int>, database: PostgresClient) async throws {
        let entries = range.map { sequence in
            OutboxEntry(topic: .phoneCallsQueue, key: "call-\(sequence % 10)", payload: ["sequence": .integer(Int64(sequence))])
        }
        try await database.withTransaction(logger: logger) { connection in
            try await Outbox.enqueue(entries, on: connection, logger: logger)
        }
    }

    private func unpublished(_ database: PostgresClient) async throws -> Int {
        var count = 0
        for try await value in try await database.query(
            "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: logger
        ).decode(Int.self) {
            count = value
        }
        return count
    }

    private func waitUntilPublished(_ database: PostgresClient, timeout: Duration = .seconds(60)) async throws {
        try await eventually("every outbox row published", within: timeout) { try await unpublished(database) == 0 }
    }

    /// The first 1,000 `sequence` values on the topic, all and by message key, read by a new consumer group.
    /// A duplicate shows as a sequence missing from the 1,000 (the callers compare them with 0..<1000).
    private func readSequences(kafka: KafkaConfiguration, topic: String, group: String) async throws -> ([Int64], [String: [Int64]]) {
        let consumer = try KafkaConsumer(configuration: kafka, groupID: group, topics: [topic], logger: logger)
        consumer.startPolling()
        let read = try await within(.seconds(30), "the 1000 outbox rows on the topic") {
            var sequencesByKey: [String: [Int64]] = [:]
            var all: [Int64] = []
            for await message in consumer.messages {
                guard case .integer(let sequence)? = try JSONParser.parse(message.value)["sequence"] else { continue }
                all.append(sequence)
                sequencesByKey[message.keyString ?? "", default: []].append(sequence)
                if all.count == 1000 { break }
            }
            return (all, sequencesByKey)
        }
        await consumer.close()
        return read
    }

    private func startRelay(database: PostgresClient, kafka: KafkaConfiguration) throws -> (Task<Void, any Error>, KafkaProducer) {
        // A short delivery timeout so that an outage turns into failed deliveries within the test.
        let producer = try KafkaProducer(configuration: kafka, logger: logger, overrides: ["message.timeout.ms": "2000"])
        let relay = OutboxRelay(database: database, producer: producer, kafka: kafka, logger: logger)
        return (Task { try await relay.run() }, producer)
    }

    @Test func everyRowReachesTheTopicOnceInOrderPerKeyAcrossAnOutageAndARestart() async throws {
        let database = try await TestDatabases.shared.client(suite: "outboxrelay")
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map { "relay." + $0.rawValue }, partitions: 4)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers, topicPrefix: "relay.")

        try await enqueue(0..<500, database: database)
        var (relay, _) = try startRelay(database: database, kafka: kafka)
        try await waitUntilPublished(database)
        #expect(try await unpublished(database) == 0)

        // Outage: nothing can be acknowledged, so nothing is marked published.
        broker.setDown()
        try await enqueue(500..<800, database: database)
        try await Task.sleep(for: .seconds(5))
        #expect(try await unpublished(database) == 300)
        broker.setUp()
        try await waitUntilPublished(database)
        #expect(try await unpublished(database) == 0)

        // Restart: a new relay (new producer) picks up where the old one stopped.
        relay.cancel()
        _ = try? await relay.value
        (relay, _) = try startRelay(database: database, kafka: kafka)
        try await enqueue(800..<1000, database: database)
        try await waitUntilPublished(database)
        relay.cancel()
        _ = try? await relay.value

        let (all, sequencesByKey) = try await readSequences(kafka: kafka, topic: "relay." + Topic.phoneCallsQueue.rawValue, group: "relay-check")

        #expect(all.count == 1000)
        #expect(Set(all) == Set(0..<1000))
        for (key, sequences) in sequencesByKey {
            #expect(sequences == sequences.sorted(), "order of \(key)")
        }
        withExtendedLifetime(broker) {}
    }

    /// Two relays at once, as two processes would run them (each its own pool and producer): one publishes at a
    /// time, and when it stops the other takes over where it left off. Every row reaches the topic once, in order
    /// per key, through two handovers.
    @Test func twoRelaysAtOncePublishEachRowOnceAndHandOver() async throws {
        let database = try await TestDatabases.shared.client(suite: "outboxrelaypair")
        let url = try await TestDatabases.shared.url(suite: "outboxrelaypair")
        let otherProcess = PostgresClient(
            configuration: try DatabaseConfiguration(url: url, maximumConnections: 5).clientConfiguration, backgroundLogger: logger)
        let pool = Task { await otherProcess.run() }
        defer { pool.cancel() }
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map { "pair." + $0.rawValue }, partitions: 4)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers, topicPrefix: "pair.")

        var (first, _) = try startRelay(database: database, kafka: kafka)
        let (second, _) = try startRelay(database: otherProcess, kafka: kafka)
        try await enqueue(0..<400, database: database)
        try await waitUntilPublished(database)
        // The first stops: if it was publishing, the second takes over.
        first.cancel()
        _ = try? await first.value
        try await enqueue(400..<700, database: database)
        try await waitUntilPublished(database)
        // The first is back and the second stops: whichever held the lock, a handover has happened by now.
        (first, _) = try startRelay(database: database, kafka: kafka)
        second.cancel()
        _ = try? await second.value
        try await enqueue(700..<1000, database: database)
        try await waitUntilPublished(database)
        first.cancel()
        _ = try? await first.value

        let (all, sequencesByKey) = try await readSequences(kafka: kafka, topic: "pair." + Topic.phoneCallsQueue.rawValue, group: "pair-check")
        #expect(all.count == 1000)
        #expect(Set(all) == Set(0..<1000), "each row once")
        let offsets = try await database.query(
            "SELECT count(DISTINCT (topic, kafka_partition, kafka_offset)), count(*) FROM outbox_messages WHERE published_at IS NOT NULL",
            logger: logger
        ).single { try $0.decode((Int, Int).self) }
        #expect(offsets.0 == offsets.1, "each row recorded with its own place on the topic")
        for (key, sequences) in sequencesByKey {
            #expect(sequences == sequences.sorted(), "order of \(key)")
        }
        withExtendedLifetime(broker) {}
    }
}
