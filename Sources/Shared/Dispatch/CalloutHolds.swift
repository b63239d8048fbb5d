import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The condition, on a phone call aliased `p`, that its callout (if any) does not hold it: a paused or stopped
/// callout's queued calls stay in our queue undialled until it resumes. The claim, the scheduler's queue count,
/// the trunk shares and the stuck-call sweeper all mean the same by it.
public enum CalloutHold {
    public static let notHeld: TrustedSQL =
        "NOT EXISTS (SELECT 1 FROM callouts c WHERE c.id = p.callout_id AND c.status IN ('paused', 'stopped'))"
}

/// Which callouts are paused or stopped, as a queue worker sees them just before a dial leaves: a call claimed
/// before its callout was paused may wait for its dial slot for a while, and must not be dialled after the
/// pause. Two sources: a read at most `maximumAge` old (one query refreshes every callout asked about recently,
/// so the cost is a query per `maximumAge` per worker, not one per dial), and, while `listen()` runs, every
/// status change pushed by PostgreSQL as it commits, so that `isHeldNow` (asked on the event loop at the dial's
/// own instant) sees a pause within a notification's latency.
public final class CalloutHolds: Sendable {
    let client: PostgresClient
    let logger: Logger
    let maximumAge: Duration
    private struct State {
        var held: [Int64: Bool] = [:]
        var checkedAt: ContinuousClock.Instant?
        var refreshing: Task<[Int64: Bool], any Error>?
        /// When the read under way started: its answers are that old.
        var refreshStartedAt: ContinuousClock.Instant?
        /// When each callout was last asked about: callouts not asked about for a minute are forgotten.
        var askedAt: [Int64: ContinuousClock.Instant] = [:]
        /// When a notification last changed each callout: a read that started before it must not undo it.
        var notifiedAt: [Int64: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    public init(client: PostgresClient, logger: Logger, maximumAge: Duration = .milliseconds(100)) {
        self.client = client
        self.logger = logger
        self.maximumAge = maximumAge
    }

    /// Whether the callout was paused or stopped at most `maximumAge` ago.
    public func isHeld(_ calloutID: Int64) async throws -> Bool {
        let now = ContinuousClock.now
        enum Next { case answer(Bool), wait(Task<[Int64: Bool], any Error>) }
        let next: Next = state.withLock { state in
            state.askedAt[calloutID] = now
            if let checkedAt = state.checkedAt, now - checkedAt < maximumAge, let held = state.held[calloutID] {
                return .answer(held)
            }
            if let refreshing = state.refreshing { return .wait(refreshing) }
            state.askedAt = state.askedAt.filter { now - $0.value < .seconds(60) }
            let ids = Array(state.askedAt.keys)
            let task = Task { [client, logger] in try await Self.read(ids, client: client, logger: logger) }
            state.refreshing = task
            state.refreshStartedAt = now
            return .wait(task)
        }
        switch next {
        case .answer(let held):
            return held
        case .wait(let task):
            let result = await task.result
            let fresh = state.withLock { state -> [Int64: Bool]? in
                if state.refreshing == task {
                    state.refreshing = nil
                    if case .success(var held) = result, let readAt = state.refreshStartedAt {
                        for (id, notifiedAt) in state.notifiedAt where notifiedAt >= readAt {
                            held[id] = state.held[id]
                        }
                        state.notifiedAt = state.notifiedAt.filter { $0.value >= readAt }
                        state.held = held
                        state.checkedAt = readAt
                        return held
                    }
                }
                return try? result.get()
            }
            if let held = fresh?[calloutID] { return held }
            _ = try result.get()
            // Asked while a refresh without it was under way: ask again, now part of the next refresh.
            return try await isHeld(calloutID)
        }
    }

    /// What is known now, without waiting: the last read, and every change pushed since while `listen()` runs.
    /// Cheap enough to ask on the event loop at the instant a dial leaves.
    public func isHeldNow(_ calloutID: Int64) -> Bool {
        state.withLock { $0.held[calloutID] ?? false }
    }

    /// Keeps the answers current from PostgreSQL's notifications until the task is cancelled (the queue worker
    /// runs it beside its consumer). `onListening` runs each time the LISTEN is in place.
    public func listen(onListening: @escaping @Sendable () -> Void = {}) async {
        await CalloutStatusListener(client: client, logger: logger).run(onListening: onListening) { calloutID, status in
            let held = status == CalloutStatus.paused.rawValue || status == CalloutStatus.stopped.rawValue
            self.state.withLock { state in
                guard state.askedAt[calloutID] != nil || state.held[calloutID] != nil else { return }
                state.held[calloutID] = held
                state.notifiedAt[calloutID] = .now
            }
        }
    }

    private static func read(_ ids: [Int64], client: PostgresClient, logger: Logger) async throws -> [Int64: Bool] {
        var held: [Int64: Bool] = Dictionary(uniqueKeysWithValues: ids.map { ($0, false) })
        let rows = try await client.query(
            "SELECT id FROM callouts WHERE id = ANY(\(ids)) AND status IN ('paused', 'stopped')", logger: logger)
        for try await id in rows.decode(Int64.self) { held[id] = true }
        return held
    }
}
