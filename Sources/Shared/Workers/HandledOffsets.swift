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

/// Bounds the messages dispatched to lanes but not yet handled.
actor InFlightLimiter {
    private let limit: Int
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        if inFlight < limit {
            inFlight += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
