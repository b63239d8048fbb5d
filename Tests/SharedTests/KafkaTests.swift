import Foundation
import Logging
import Shared
import Synchronization
import TestSupport
import Testing

/// The Kafka layer against librdkafka's mock cluster: the real protocol, in-process.
@Suite(.timeLimit(.minutes(2))) struct KafkaTests {
    let logger = Logger(label: "scfm.tests.kafka")

    private func broker(partitions: Int32 = 4) throws -> (LocalKafkaBroker, KafkaConfiguration, String) {
        let topic = "test-\(UUID().uuidString.prefix(8))"
        let broker = try LocalKafkaBroker(topics: [topic], partitions: partitions)
        return (broker, KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers), topic)
    }

    @Test func produceThenConsumeRoundTrip() async throws {
        let (broker, configuration, topic) = try broker()
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let report = try await producer.send(
            KafkaOutgoingMessage(
                topic: topic, key: "call-1", value: Array("hello".utf8),
                headers: [KafkaHeader(name: "schema", value: Array("v1".utf8))]))
        #expect(report.topic == topic)
        #expect(report.offset == 0)

        let consumer = try KafkaConsumer(configuration: configuration, groupID: "round-trip", topics: [topic], logger: logger)
        consumer.startPolling()
        let message = try #require(
            try await within(.seconds(30), "the produced message reaching the consumer") {
                var iterator = consumer.messages.makeAsyncIterator()
                return await iterator.next()
            })
        #expect(message.value == Array("hello".utf8))
        #expect(message.keyString == "call-1")
        #expect(message.headers == [KafkaHeader(name: "schema", value: Array("v1".utf8))])
        #expect(message.partition == report.partition)
        try await consumer.commit([message])
        await consumer.close()
        withExtendedLifetime(broker) {}
    }

    @Test func sameKeyKeepsOrderOnOnePartition() async throws {
        let (broker, configuration, topic) = try broker(partitions: 8)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
            for index in 0..<100 {
                group.addTask {
                    try await producer.send(KafkaOutgoingMessage(topic: topic, key: "same", value: Array("\(index)".utf8)))
                }
            }
            var partitions = Set<Int32>()
            for try await report in group { partitions.insert(report.partition) }
            #expect(partitions.count == 1)
        }
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "ordering", topics: [topic], logger: logger)
        consumer.startPolling()
        let offsets = try await within(.seconds(30), "100 messages of one key") {
            var offsets: [Int64] = []
            for await message in consumer.messages {
                offsets.append(message.offset)
                if offsets.count == 100 { break }
            }
            return offsets
        }
        #expect(offsets == Array(0..<100))
        await consumer.close()
        withExtendedLifetime(broker) {}
    }

    /// Two members split the partitions; when one leaves, the other takes its partitions over from the
    /// committed offsets: no message lost, and none handled twice unless its commit was refused (a message in
    /// hand at the moment of a rebalance, which at-least-once delivery hands out again).
    @Test func groupMembersSplitPartitionsAndTakeOver() async throws {
        let (broker, configuration, topic) = try broker(partitions: 4)
        let group = "split-\(UUID().uuidString.prefix(6))"
        let first = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let second = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let tally = Tally()

        // Both members join and the group splits the four partitions before any message exists.
        let secondTask = Task { try await Self.consume(second, as: "second", stopAfter: nil, into: tally) }
        first.startPolling()
        let joinDeadline = ContinuousClock.now + .seconds(60)
        while first.assignedPartitionCount != 2 || second.assignedPartitionCount != 2, ContinuousClock.now < joinDeadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(first.assignedPartitionCount == 2)
        #expect(second.assignedPartitionCount == 2)

        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        for index in 0..<200 {
            try await producer.send(KafkaOutgoingMessage(topic: topic, key: "k\(index)", value: Array("\(index)".utf8)))
        }

        // The first member handles 30 messages, commits and leaves; the second takes over the rest.
        try await Self.consume(first, as: "first", stopAfter: 30, into: tally)
        await first.close()
        let deadline = ContinuousClock.now + .seconds(60)
        while tally.distinct < 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(second.assignedPartitionCount == 4)
        await second.stopPolling()
        _ = try await secondTask.value
        await second.close()

        let all = tally.values.withLock { $0 }
        let values = all.values.flatMap { $0 }
        #expect(all["first"]?.count == 30)
        #expect(Set(values) == Set((0..<200).map(String.init)))
        let twice = Set(Dictionary(grouping: values, by: { $0 }).filter { $0.value.count > 1 }.keys)
        #expect(twice.isSubset(of: tally.uncommitted.withLock { $0 }), "only uncommitted messages come again")
        withExtendedLifetime(broker) {}
    }

    private static func consume(_ consumer: KafkaConsumer, as name: String, stopAfter: Int?, into tally: Tally) async throws {
        consumer.startPolling()
        var count = 0
        for await message in consumer.messages {
            tally.values.withLock { $0[name, default: []].append(String(decoding: message.value, as: UTF8.self)) }
            if try await !consumer.commit([message]) {
                _ = tally.uncommitted.withLock { $0.insert(String(decoding: message.value, as: UTF8.self)) }
            }
            count += 1
            if let stopAfter, count >= stopAfter { break }
            if tally.distinct >= 200 { break }
        }
    }
}

/// What each group member handled.
final class Tally: Sendable {
    let values = Mutex<[String: [String]]>([:])
    let uncommitted = Mutex<Set<String>>([])
    var distinct: Int { values.withLock { Set($0.values.flatMap { $0 }).count } }
}
