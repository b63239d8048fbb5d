import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// No call stays in an unfinished status forever (part of the `scheduler` role). Every sweep, set-based and in
/// bounded batches:
/// - `queued` and never claimed for longer than `queuedMaxAge` (its callout not paused or stopped): `expired`
///   (it was never dialled).
/// - `queued` and claimed, with no dial outcome after `claimMaxAge` (its worker died mid-dial and the job is
///   gone): the queue job is published again, and a queue worker resolves the claim by looking the call up
///   at the provider, never by a blind re-dial (QueueHandler).
/// - `remotely_queued` or `in_progress` without news for `fetchAfter`, or `remote_fetch_queued` whose fetch
///   never came back after `fetchAfter`: fetched from the provider (`remote_fetch_queued` and a
///   `phone-calls.remote-fetch` job), which settles it with the provider's status.
/// - any of those dialled more than `expireAfter` ago: `expired`.
public final class StuckCallSweeper: Service, Sendable {
    public struct Settings: Sendable {
        /// STUCK_CALLS_SWEEP_SECONDS.
        public var interval: Duration = .seconds(10)
        /// PHONE_CALL_QUEUED_MAX_AGE_SECONDS.
        public var queuedMaxAge: Duration = .seconds(6 * 3600)
        /// PHONE_CALL_CLAIM_MAX_AGE_SECONDS.
        public var claimMaxAge: Duration = .seconds(120)
        /// PHONE_CALL_FETCH_AFTER_SECONDS.
        public var fetchAfter: Duration = .seconds(900)
        /// PHONE_CALL_EXPIRE_AFTER_SECONDS.
        public var expireAfter: Duration = .seconds(24 * 3600)
        /// Calls changed per statement; a sweep repeats a statement while it fills its batch.
        public var batchSize = 10_000
        public init() {}
    }

    let client: PostgresClient
    let settings: Settings
    let logger: Logger
    private let swept = LabelledCounters(label: "scfm_stuck_calls_swept_total", dimensionNames: ["action"])

    public init(client: PostgresClient, settings: Settings = Settings(), logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: settings.interval, logger: logger, failure: "stuck call sweep failed") {
            let counts = try await self.sweep()
            if counts.values.contains(where: { $0 > 0 }) {
                self.logger.info("settled stuck calls", metadata: counts.mapValues { "\($0)" })
            }
        }
    }

    /// One sweep; answers how many calls each action took.
    @discardableResult
    public func sweep() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for action in Action.allCases {
            var total = 0
            while true {
                let changed = try await run(action)
                total += changed
                if changed < settings.batchSize { break }
            }
            counts[action.rawValue] = total
            swept.add(total, action.rawValue)
        }
        // Settlements nobody took within a day (their callout stopped for good): the scheduler's full passes
        // settle what a resumed callout still needs.
        try await client.query("DELETE FROM autopilot_settle_queue WHERE created_at < now() - interval '1 day'", logger: logger)
        return counts
    }

    enum Action: String, CaseIterable {
        case expireDialled = "expired_after_dial"
        case expireQueued = "expired_in_queue"
        case redeliverClaim = "claim_redelivered"
        case fetch = "fetched"
    }

    private func run(_ action: Action) async throws -> Int {
        let limit = settings.batchSize
        let query: PostgresQuery
        switch action {
        case .expireDialled:
            // Expired first, so that a call past its lifetime is not fetched once more.
            query = """
                UPDATE phone_calls SET status = 'expired', updated_at = now()
                WHERE id IN (
                    SELECT id FROM phone_calls
                    WHERE status IN ('remotely_queued', 'in_progress', 'remote_fetch_queued')
                      AND updated_at < now() - make_interval(secs => \(settings.fetchAfter.seconds))
                      AND coalesce(remotely_queued_at, created_at) < now() - make_interval(secs => \(settings.expireAfter.seconds))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """
        case .expireQueued:
            query = """
                UPDATE phone_calls SET status = 'expired', remote_error_message = 'expired in the queue before dialling', updated_at = now()
                WHERE id IN (
                    SELECT p.id FROM phone_calls p
                    WHERE p.status = 'queued' AND p.dial_claimed_at IS NULL
                      AND p.updated_at < now() - make_interval(secs => \(settings.queuedMaxAge.seconds))
                      AND \(unescaped: CalloutHold.notHeld.text)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                AND status = 'queued' AND dial_claimed_at IS NULL
                RETURNING id
                """
        case .redeliverClaim:
            query = """
                WITH stale AS (
                    UPDATE phone_calls SET updated_at = now()
                    WHERE id IN (
                        SELECT id FROM phone_calls
                        WHERE status = 'queued' AND dial_claimed_at < now() - make_interval(secs => \(settings.claimMaxAge.seconds))
                          AND updated_at < now() - make_interval(secs => \(settings.claimMaxAge.seconds))
                        LIMIT \(limit) FOR UPDATE SKIP LOCKED
                    )
                    RETURNING id, account_id
                ), jobs AS (
                    INSERT INTO outbox_messages (topic, message_key, payload)
                    SELECT \(Topic.phoneCallsQueue.rawValue), id::text,
                           jsonb_build_object('version', \(PhoneCallJob.version), 'phone_call_id', id, 'account_id', account_id)
                    FROM stale ORDER BY id
                )
                SELECT id FROM stale
                """
        case .fetch:
            query = """
                WITH stuck AS (
                    UPDATE phone_calls SET status = 'remote_fetch_queued', updated_at = now()
                    WHERE id IN (
                        SELECT id FROM phone_calls
                        WHERE status IN ('remotely_queued', 'in_progress', 'remote_fetch_queued') AND remote_call_id IS NOT NULL
                          AND updated_at < now() - make_interval(secs => \(settings.fetchAfter.seconds))
                        LIMIT \(limit) FOR UPDATE SKIP LOCKED
                    )
                    RETURNING id, account_id
                ), jobs AS (
                    INSERT INTO outbox_messages (topic, message_key, payload)
                    SELECT \(Topic.phoneCallsRemoteFetch.rawValue), id::text,
                           jsonb_build_object('version', \(PhoneCallJob.version), 'phone_call_id', id, 'account_id', account_id)
                    FROM stuck ORDER BY id
                )
                SELECT id FROM stuck
                """
        }
        var count = 0
        for try await _ in try await client.query(query, logger: logger) { count += 1 }
        return count
    }
}
