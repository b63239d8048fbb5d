import Foundation
import Logging
import ServiceLifecycle
import Shared
import Synchronization
import TestSupport
import Testing

/// The worker runtime against the mock cluster and a real PostgreSQL (dead letters).
@Suite(.timeLimit(.minutes(2))) struct WorkerRuntimeTests {
    let logger = Logger(label: "scfm.tests.runtime")

    /// Handles "ok-N", fails "flaky" twice before it succeeds, and rejects "poison-N".
    final class RecordingHandler: MessageHandler {
        let handled = Mutex<[Int32: [Int64]]>([:])
        let flakyAttempts = Atomic<Int>(0)

        func handle(_ message: KafkaMessage) async throws {
            let text = String(decoding: message.value, as: UTF8.self)
            if text.hasPrefix("poison") { throw PoisonMessage("not a job: \(text)") }
            if text == "flaky", flakyAttempts.add(1, ordering: .relaxed).newValue < 3 {
                throw CancellationError()
            }
            handled.withLock { $0[message.partition, default: []].append(message.offset) }
        }

        var count: Int { handled.withLock { $0.values.reduce(0) { $0 + $1.count } } }
    }

    @Test func handlesInOrderPerPartitionDeadLettersPoisonAndCommitsOnDrain() async throws {
        let database = try await TestDatabases.shared.client(suite: "workerruntime")
        let topic = "runtime-\(UUID().uuidString.prefix(8))"
        let broker = try LocalKafkaBroker(topics: [topic], partitions: 4)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        var batch = (0..<97).map { KafkaOutgoingMessage(topic: topic, key: "k\($0)", value: Array("ok-\($0)".utf8)) }
        batch.append(KafkaOutgoingMessage(topic: topic, key: "k1", value: Array("flaky".utf8)))
        batch.append(KafkaOutgoingMessage(topic: topic, key: "k2", value: Array("poison-1".utf8)))
        batch.append(KafkaOutgoingMessage(topic: topic, key: "k3", value: Array("poison-2".utf8)))
        for result in await producer.send(batch: batch) { _ = try result.get() }

        let handler = RecordingHandler()
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "runtime", topics: [topic], logger: logger)
        var settings = WorkerRuntime.Settings()
        settings.concurrency = 3
        settings.firstRetryDelay = .milliseconds(10)
        let runtime = WorkerRuntime(
            role: "test", consumer: consumer, handler: handler,
            deadLetters: DeadLetterRepository(client: database, logger: logger), settings: settings, logger: logger)
        let group = ServiceGroup(services: [runtime], logger: logger)
        let running = Task { try await group.run() }

        let deadLetters = DeadLetterRepository(client: database, logger: logger)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let lettered = try await deadLetters.all(topic: topic).count
            if handler.count >= 98, lettered >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(handler.count == 98)
        #expect(handler.flakyAttempts.load(ordering: .relaxed) == 3)
        for (partition, offsets) in handler.handled.withLock({ $0 }) {
            #expect(offsets == offsets.sorted(), "order in partition \(partition)")
        }
        let letters = try await deadLetters.all(topic: topic)
        #expect(letters.count == 2)
        #expect(letters.allSatisfy { $0.error.hasPrefix("poison message: not a job: poison-") })

        // Everything was committed: the group's next member finds nothing left to read. Markers published now,
        // one or more on each of the 4 partitions, show it reading: once it has a marker from every partition, an
        // uncommitted message (older on its partition) would have come before it.
        let markers = (0..<40).map { KafkaOutgoingMessage(topic: topic, key: "marker-\($0)", value: Array("marker".utf8)) }
        for result in await producer.send(batch: markers) { _ = try result.get() }
        let next = try KafkaConsumer(configuration: kafka, groupID: "runtime", topics: [topic], logger: logger)
        next.startPolling()
        let leftovers = try await within(.seconds(60), "a marker from each of the 4 partitions") {
            var leftovers = 0
            var markedPartitions = Set<Int32>()
            for await message in next.messages {
                if message.value == Array("marker".utf8) {
                    markedPartitions.insert(message.partition)
                    if markedPartitions.count == 4 { break }
                } else {
                    leftovers += 1
                }
            }
            return leftovers
        }
        await next.close()
        #expect(leftovers == 0)
        withExtendedLifetime(broker) {}
    }

    /// A handler that always fails (not a poison message: an error that might pass) is tried
    /// `maximumAttempts` (5) times, then the message is dead-lettered with its last error and committed, and
    /// the next message of the same key is handled after it.
    @Test func aMessageThatKeepsFailingIsDeadLetteredAfterTheFifthAttempt() async throws {
        final class FailingHandler: MessageHandler {
            let attempts = Atomic<Int>(0)
            let handled = Mutex<[String]>([])
            struct Unavailable: Error {}

            func handle(_ message: KafkaMessage) async throws {
                let text = String(decoding: message.value, as: UTF8.self)
                if text == "always-fails" {
                    attempts.add(1, ordering: .relaxed)
                    throw Unavailable()
                }
                handled.withLock { $0.append(text) }
            }
        }
        let database = try await TestDatabases.shared.client(suite: "workerruntime")
        let topic = "failing-\(UUID().uuidString.prefix(8))"
        let broker = try LocalKafkaBroker(topics: [topic], partitions: 1)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        for result in await producer.send(batch: [
            KafkaOutgoingMessage(topic: topic, key: "k", value: Array("always-fails".utf8)),
            KafkaOutgoingMessage(topic: topic, key: "k", value: Array("after".utf8)),
        ]) { _ = try result.get() }

        let handler = FailingHandler()
        var settings = WorkerRuntime.Settings()
        settings.firstRetryDelay = .milliseconds(10)
        let runtime = WorkerRuntime(
            role: "test", consumer: try KafkaConsumer(configuration: kafka, groupID: "failing", topics: [topic], logger: logger),
            handler: handler, deadLetters: DeadLetterRepository(client: database, logger: logger), settings: settings, logger: logger)
        let group = ServiceGroup(services: [runtime], logger: logger)
        let running = Task { try await group.run() }
        let deadLetters = DeadLetterRepository(client: database, logger: logger)
        try await eventually("the failing message dead-lettered and the next one handled", within: .seconds(60)) {
            try await !deadLetters.all(topic: topic).isEmpty && handler.handled.withLock { $0 } == ["after"]
        }
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(settings.maximumAttempts == 5)
        #expect(handler.attempts.load(ordering: .relaxed) == 5)
        let letters = try await deadLetters.all(topic: topic)
        #expect(letters.count == 1)
        #expect(letters.first?.attempts == 5)
        #expect(letters.first?.offset == 0)
        #expect(letters.first?.error.contains("Unavailable") == true)
        withExtendedLifetime(broker) {}
    }
}
