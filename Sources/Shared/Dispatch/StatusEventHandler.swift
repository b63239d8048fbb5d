import Logging
import Metrics
import Synchronization

/// The `status` role: applies `phone-call-events` to `phone_calls`. Each message's handler hands its event to
/// a batcher and waits; the batcher applies everything that arrived within `linger` (or `maximumBatch`
/// events) with one statement (`PhoneCallStatusUpdates`), so many lanes in flight make few round trips. A
/// message's offset is committed only after its batch committed.
public final class StatusEventHandler: MessageHandler {
    private struct Pending {
        var events: [PhoneCallStatusEvent] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushArmed = false
    }

    private let updates: PhoneCallStatusUpdates
    private let maximumBatch: Int
    private let linger: Duration
    private let pending = Mutex(Pending())
    private let batchSize = Recorder(label: "scfm_status_batch_size")
    private let applied = Counter(label: "scfm_status_events_applied_total")

    public init(updates: PhoneCallStatusUpdates, maximumBatch: Int = 1000, linger: Duration = .milliseconds(5)) {
        self.updates = updates
        self.maximumBatch = maximumBatch
        self.linger = linger
    }

    public func handle(_ message: KafkaMessage) async throws {
        let event = try PhoneCallStatusEvent(payload: try parsePayload(message))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Next { case flush, arm, wait }
            let next: Next = pending.withLock { pending in
                pending.events.append(event)
                pending.waiters.append(continuation)
                if pending.events.count >= maximumBatch { return .flush }
                if pending.flushArmed { return .wait }
                pending.flushArmed = true
                return .arm
            }
            switch next {
            case .flush: Task { await self.flush() }
            case .arm: Task {
                try? await Task.sleep(for: self.linger)
                await self.flush()
            }
            case .wait: break
            }
        }
    }

    private func flush() async {
        let (events, waiters) = pending.withLock { pending in
            defer { pending = Pending() }
            return (pending.events, pending.waiters)
        }
        guard !events.isEmpty else { return }
        do {
            try await updates.apply(events)
            batchSize.record(events.count)
            applied.increment(by: Int64(events.count))
            for waiter in waiters { waiter.resume() }
        } catch {
            for waiter in waiters { waiter.resume(throwing: error) }
        }
    }
}
