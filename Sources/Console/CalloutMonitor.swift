import Foundation
import Logging
import PostgresNIO
import Shared

/// What the console's live monitor pushes for one callout every second: the figures of
/// `GET /api/callouts/:id/callout_progress` (the same `CalloutProgress`, so the two always agree), how many of
/// the remaining wait for a retry, why nothing is being dialled when nothing is, and the latest calls.
///
/// Invariant: a snapshot costs the same whatever the campaign's size: the running totals (a few rows), the
/// retry count through the partial `(callout_id, next_attempt_at)` index capped at `retryCountCap`, a few
/// EXISTS probes, and ten calls among the account's newest `recentCallsScanned`.
public struct CalloutMonitor: Sendable {
    public static let retryCountCap: Int64 = 100_000
    /// The latest calls are looked for among the account's newest this many (the `(account_id, id)` index,
    /// read backwards): a callout that dials is always among them, and the read is bounded whatever the
    /// account's history (a plain `WHERE callout_id` would walk every older call of a callout that dials no more).
    public static let recentCallsScanned = 2000

    public struct Call: Sendable {
        public let id: Int64
        public let msisdn: String
        public let status: String
        public let updatedAt: Date
    }

    /// Why a callout that has people left is not dialling now (nil while it dials or when it is done).
    public enum Reason: String, Sendable {
        case notStarted = "not_started"
        case paused
        case stopped
        case outsideCallingHours = "outside_calling_hours"
        case waitingForRetries = "waiting_for_retries"
        case concurrencyCap = "concurrency_cap"
        case rateLimit = "rate_limit"
        case waitingForCalls = "waiting_for_calls"
    }

    public struct Snapshot: Sendable {
        public let progress: CalloutProgress
        public let retrying: Int64
        public let reason: Reason?
        public let nextRetryAt: Date?
        public let calls: [Call]

        /// Remaining people not waiting for a retry.
        public var waiting: Int64 { max(0, progress.remaining - retrying) }
        /// The share of the participations finished, in whole percent.
        public var percent: Int64 {
            progress.participations > 0 ? (progress.participations - progress.remaining) * 100 / progress.participations : 0
        }
    }

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The callout's snapshot; throws the API's not-found error for another account's callout.
    public func snapshot(accountID: Int64, calloutID: Int64) async throws -> Snapshot {
        let progress = try await CalloutProgress.compute(client, logger: logger, accountID: accountID, calloutID: calloutID)
        let (retrying, nextRetry, queued, due, inFlight, cap, settings, accountSettings, rateFactor) = try await client.query(
            """
            SELECT (SELECT count(*) FROM (
                        SELECT 1 FROM callout_participations p
                        WHERE p.callout_id = c.id AND p.outcome IS NULL AND p.next_attempt_at > now()
                        LIMIT \(Self.retryCountCap)) r),
                   (SELECT min(p.next_attempt_at) FROM callout_participations p
                    WHERE p.callout_id = c.id AND p.outcome IS NULL AND p.next_attempt_at > now()),
                   EXISTS (SELECT 1 FROM phone_calls q WHERE q.callout_id = c.id AND q.status = 'queued'),
                   EXISTS (SELECT 1 FROM callout_participations p
                           WHERE p.callout_id = c.id AND p.outcome IS NULL AND (p.next_attempt_at IS NULL OR p.next_attempt_at <= now())),
                   (SELECT count(*) FROM phone_calls f
                    WHERE f.account_id = c.account_id AND f.status IN ('remotely_queued', 'ringing', 'in_progress')),
                   (a.settings ->> 'max_concurrent_calls')::float8,
                   c.settings, a.settings, coalesce(s.rate_factor, 1)::float8
            FROM callouts c JOIN accounts a ON a.id = c.account_id
            LEFT JOIN account_dial_schedules s ON s.account_id = c.account_id
            WHERE c.id = \(calloutID) AND c.account_id = \(accountID)
            """, logger: logger
        ).single { try $0.decode((Int64, Date?, Bool, Bool, Int64, Double?, JSONValue, JSONValue, Double).self) }
        let policy = try? AutopilotPolicy.parse(account: accountSettings, callout: settings)
        let reason: Reason? = {
            switch progress.calloutStatus {
            case CalloutStatus.initialized.rawValue: return .notStarted
            case CalloutStatus.paused.rawValue: return .paused
            case CalloutStatus.stopped.rawValue: return .stopped
            default: break
            }
            if progress.remaining == 0 || progress.finishedAt != nil || progress.callsPerSecond > 0 { return nil }
            if queued {
                if let cap, Double(inFlight) >= cap { return .concurrencyCap }
                return rateFactor < 1 ? .rateLimit : .waitingForCalls
            }
            if due, let policy, policy.callingHours != nil, !policy.urgent { return .outsideCallingHours }
            if !due && retrying > 0 { return .waitingForRetries }
            return .waitingForCalls
        }()
        var calls: [Call] = []
        let rows = try await client.query(
            """
            SELECT id, msisdn, status, updated_at FROM (
                SELECT id, msisdn, status, updated_at, callout_id FROM phone_calls
                WHERE account_id = \(accountID) ORDER BY id DESC LIMIT \(Self.recentCallsScanned)) recent
            WHERE callout_id = \(calloutID) ORDER BY id DESC LIMIT 10
            """, logger: logger)
        for try await (id, msisdn, status, updatedAt) in rows.decode((Int64, String, String, Date).self) {
            calls.append(Call(id: id, msisdn: msisdn, status: status, updatedAt: updatedAt))
        }
        return Snapshot(progress: progress, retrying: min(retrying, progress.remaining), reason: reason, nextRetryAt: nextRetry, calls: calls)
    }
}
