import Synchronization

/// The messages handled since the last commit, per partition. Each partition is handled by one lane in
/// order, so the highest handled offset covers all before it.
final class HandledOffsets: Sendable {
    private let pending = Mutex<[TopicPartition: KafkaMessage]>([:])

    func record(_ message: KafkaMessage) {
        pending.withLock { $0[TopicPartition(topic: message.topic, partition: message.partition)] = message }
    }

    func take() -> [KafkaMessage] {
        pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return Array(pending.values)
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
