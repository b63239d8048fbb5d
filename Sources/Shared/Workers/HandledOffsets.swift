import Synchronization

/// Which offsets may be committed, per partition: the highest offset below which every dispatched message
/// was handled. Messages of one partition may finish out of order (lanes by key), so a handled offset becomes
/// committable only when all before it are handled too; a message left unhandled (its worker stopping) holds
/// its partition's commits back, and it comes again after the restart.
final class HandledOffsets: Sendable {
    private struct Partition {
        var generation: Int
        /// Dispatched offsets in order; those before `head` are committable or committed.
        var dispatched: [Int64] = []
        var head = 0
        var handled: [Int64: KafkaMessage] = [:]
        var committable: KafkaMessage?

        mutating func recordHandled(_ message: KafkaMessage) {
            handled[message.offset] = message
            while head < dispatched.count, let next = handled.removeValue(forKey: dispatched[head]) {
                committable = next
                head += 1
            }
            if head > 4096 {
                dispatched.removeFirst(head)
                head = 0
            }
        }
    }

    private let partitions = Mutex<[TopicPartition: Partition]>([:])

    func dispatched(_ message: KafkaMessage) {
        let key = TopicPartition(topic: message.topic, partition: message.partition)
        partitions.withLock { partitions in
            // A new assignment (or a rewind after one) starts the partition over: what the old one left
            // unhandled comes again from the committed offset.
            if let partition = partitions[key],
                partition.generation == message.assignmentGeneration,
                !(partition.dispatched.last.map { $0 >= message.offset } ?? false)
            {
                // Mutated in place through the dictionary, so the partition's arrays are not copied.
                partitions[key]!.dispatched.append(message.offset)
            } else {
                partitions[key] = Partition(generation: message.assignmentGeneration, dispatched: [message.offset])
            }
        }
    }

    func record(_ message: KafkaMessage) {
        let key = TopicPartition(topic: message.topic, partition: message.partition)
        partitions.withLock { partitions in
            guard partitions[key]?.generation == message.assignmentGeneration else { return }
            partitions[key]!.recordHandled(message)
        }
    }

    func take() -> [KafkaMessage] {
        partitions.withLock { partitions in
            var messages: [KafkaMessage] = []
            for key in partitions.keys {
                if let message = partitions[key]?.committable {
                    messages.append(message)
                    partitions[key]?.committable = nil
                }
            }
            return messages
        }
    }
}

/// Bounds the messages dispatched to lanes but not yet handled. An atomic count rather than an actor: the
/// dispatcher checks it once per message, and an actor hop per message would cost more than the handling.
final class InFlightLimiter: Sendable {
    private let inFlight = Atomic<Int>(0)
    private let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        while inFlight.load(ordering: .acquiring) >= limit {
            try? await Task.sleep(for: .microseconds(200))
        }
        inFlight.add(1, ordering: .releasing)
    }

    func release() {
        inFlight.subtract(1, ordering: .releasing)
    }
}
