import Foundation
import Logging
import PostgresNIO

/// `GET /api/callouts/:id/callout_progress`: where an autopilot campaign stands, cheap enough to poll every
/// second (the callout's running totals, a few rows, and the scheduler's latest rate sample).
public struct CalloutProgress: Sendable {
    public let calloutStatus: String
    public let participations: Int64
    public let dialled: Int64
    public let outcomes: [String: Int64]
    public let callsPerSecond: Double
    public let finishedAt: Date?
    public let now: Date

    public var remaining: Int64 { max(0, participations - outcomes.values.reduce(0, +)) }

    /// At the current rate, when the participations left have had one call each (retries still to come
    /// are not foreseen); nil while nothing is being dialled or nothing is left.
    public var estimatedFinishAt: Date? {
        guard finishedAt == nil, remaining > 0, callsPerSecond > 0.01 else { return nil }
        return now.addingTimeInterval(Double(remaining) / callsPerSecond)
    }

    /// Calls that reached the provider: every call whose status is past `created` and `queued`.
    static func dialled(_ totals: [String: Int64]) -> Int64 {
        totals.filter { $0.key.hasPrefix("calls:") && $0.key != "calls:created" && $0.key != "calls:queued" }.values.reduce(0, +)
    }

    public static func compute(_ client: PostgresClient, logger: Logger, accountID: Int64, calloutID: Int64) async throws -> CalloutProgress {
        let (status, totals) = try await CalloutTotals.read(client, logger: logger, accountID: accountID, calloutID: calloutID)
        let (rate, finishedAt, now) = try await client.query(
            """
            SELECT coalesce(s.calls_per_second, 0)::float8 * CASE WHEN s.sampled_at > now() - interval '10 seconds' THEN 1 ELSE 0 END,
                   c.autopilot_finished_at, now()
            FROM callouts c LEFT JOIN callout_progress_samples s ON s.callout_id = c.id
            WHERE c.id = \(calloutID)
            """, logger: logger
        ).single { try $0.decode((Double?, Date?, Date).self) }
        var outcomes: [String: Int64] = [:]
        for (metric, total) in totals where metric.hasPrefix("outcome:") { outcomes[String(metric.dropFirst(8))] = total }
        return CalloutProgress(
            calloutStatus: status, participations: totals["participations"] ?? 0, dialled: dialled(totals), outcomes: outcomes,
            callsPerSecond: status == CalloutStatus.running.rawValue ? rate ?? 0 : 0, finishedAt: finishedAt, now: now)
    }

    public var json: JSONValue {
        [
            "callout_status": .string(calloutStatus),
            "participations": .integer(participations),
            "dialled": .integer(dialled),
            "answered": .integer(outcomes["answered"] ?? 0),
            "exhausted": .integer(outcomes["exhausted"] ?? 0),
            "do_not_call": .integer(outcomes["do_not_call"] ?? 0),
            "expired": .integer(outcomes["expired"] ?? 0),
            "remaining": .integer(remaining),
            "calls_per_second": .number((callsPerSecond * 10).rounded() / 10),
            "estimated_finish_at": .timestamp(estimatedFinishAt),
            "finished_at": .timestamp(finishedAt),
        ]
    }
}
