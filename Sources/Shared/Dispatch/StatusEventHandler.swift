import Logging
import Metrics

/// The `status` role: applies `phone-call-events` to `phone_calls`. Each message's handler hands its event to
/// a batcher and waits; the batcher applies everything that arrived within `linger` (or `maximumBatch`
/// events) with one statement (`PhoneCallStatusUpdates`). A message's offset is committed only after its
/// batch committed.
public final class StatusEventHandler: MessageHandler {
    private let batcher: MicroBatcher<PhoneCallStatusEvent, Void>

    public init(updates: PhoneCallStatusUpdates, maximumBatch: Int = 1000, linger: Duration = .milliseconds(5)) {
        let batchSize = Recorder(label: "scfm_status_batch_size")
        let applied = Counter(label: "scfm_status_events_applied_total")
        batcher = MicroBatcher(maximumBatch: maximumBatch, linger: linger) { events in
            try await updates.apply(events)
            batchSize.record(events.count)
            applied.increment(by: Int64(events.count))
            return Array(repeating: (), count: events.count)
        }
    }

    public func handle(_ message: KafkaMessage) async throws {
        try await batcher.submit(try PhoneCallStatusEvent(payload: try parsePayload(message)))
    }
}
