import Logging
import PostgresNIO

/// `GET /api/callouts/:id/callout_statistics`, the figures of SCFM's first version. Its phone call states
/// map onto today's: initialized = created, scheduling = queued (waiting for a queue worker), queued =
/// remotely_queued, fetching_status = remote_fetch_queued, and waiting_for_completion counts every call
/// dialled whose outcome is not known yet (remotely_queued, in_progress, remote_fetch_queued).
public struct CalloutStatistics: Sendable {
    public let values: [(name: String, value: Int64)]
    public let calloutStatus: String

    /// A participation still to be called: no call yet, or its latest call ended in one of the retry
    /// statuses (`CALLOUT_PARTICIPATION_RETRY_STATUSES`, default `failed`).
    public static let defaultRetryStatuses = ["failed"]

    /// `CALLOUT_PARTICIPATION_RETRY_STATUSES`, read in this one place for the API, the tasks and the
    /// scheduler: final phone call statuses only (a call still under way is not a reason to call again, and
    /// the autopilot would never start), comma separated; nil when unset. Anything else stops the process at
    /// start with a message naming the variable and the allowed values.
    public static func retryStatuses(_ environment: EnvironmentVariables) throws -> [String]? {
        try environment.list("CALLOUT_PARTICIPATION_RETRY_STATUSES", allowed: PhoneCallStatus.finalStatuses.map(\.rawValue))
    }

    /// Sums the callout's running totals (`callout_statistic_deltas`, appended by triggers on every change
    /// of participations and phone calls): a few rows per callout whatever its size. A participation with
    /// calls has exactly one latest call, so remaining = participations − latest calls + latest calls in a
    /// retry status.
    public static func compute(
        _ client: PostgresClient, logger: Logger, accountID: Int64, calloutID: Int64, retryStatuses: [String]
    ) async throws -> CalloutStatistics {
        let (status, totals) = try await CalloutTotals.read(client, logger: logger, accountID: accountID, calloutID: calloutID)
        func calls(_ status: String) -> Int64 { totals["calls:\(status)"] ?? 0 }
        let latest = totals.filter { $0.key.hasPrefix("latest:") }.values.reduce(0, +)
        let latestToRetry = retryStatuses.reduce(0) { $0 + (totals["latest:\($1)"] ?? 0) }
        let participations = totals["participations"] ?? 0
        // In the order of the seed's sample response.
        let values: [(String, Int64)] = [
            ("callout_participations", participations),
            ("callout_participations_remaining", participations - latest + latestToRetry),
            ("callout_participations_completed", totals["latest:completed"] ?? 0),
            ("calls_completed", calls("completed")),
            ("calls_initialized", calls("created")),
            ("calls_scheduling", calls("queued")),
            ("calls_fetching_status", calls("remote_fetch_queued")),
            ("calls_waiting_for_completion", calls("remotely_queued") + calls("in_progress") + calls("remote_fetch_queued")),
            ("calls_queued", calls("remotely_queued")),
            ("calls_in_progress", calls("in_progress")),
            ("calls_errored", calls("errored")),
            ("calls_failed", calls("failed")),
            ("calls_busy", calls("busy")),
            ("calls_not_answered", calls("not_answered")),
            ("calls_canceled", calls("canceled")),
        ]
        return CalloutStatistics(values: values, calloutStatus: status)
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["callout_status"] = .string(calloutStatus)
        for (name, value) in values { object[name] = .integer(value) }
        return .object(object)
    }
}

/// A callout's running totals (`callout_statistic_deltas`, appended by triggers on every change of
/// participations and phone calls): a few rows per callout whatever its size, summed per metric, and folded
/// into one row per metric once they pile up.
enum CalloutTotals {
    /// The callout's status and its totals by metric; `RecordNotFound` if the account has no such callout.
    static func read(
        _ client: PostgresClient, logger: Logger, accountID: Int64, calloutID: Int64
    ) async throws -> (status: String, totals: [String: Int64]) {
        var status: String?
        var totals: [String: Int64] = [:]
        var deltaRows: Int64 = 0
        for try await (calloutStatus, metric, total, rows) in try await client.query(
            """
            SELECT co.status, d.metric, d.total, d.rows
            FROM callouts co
            LEFT JOIN LATERAL (
                SELECT metric, sum(delta)::bigint AS total, count(*) AS rows
                FROM callout_statistic_deltas WHERE callout_id = co.id GROUP BY metric
            ) d ON true
            WHERE co.id = \(calloutID) AND co.account_id = \(accountID)
            """, logger: logger
        ).decode((String, String?, Int64?, Int64?).self) {
            status = calloutStatus
            if let metric, let total { totals[metric] = total }
            deltaRows += rows ?? 0
        }
        guard let status else { throw RecordNotFound() }
        if deltaRows > foldThreshold {
            try await fold(client, logger: logger, calloutID: calloutID)
        }
        return (status, totals)
    }

    /// More rows than this for one callout are folded into one per metric.
    static let foldThreshold: Int64 = 1000

    /// Replaces a callout's rows by their sums, in one statement: rows appended meanwhile are not among the
    /// deleted ones and stay.
    static func fold(_ client: PostgresClient, logger: Logger, calloutID: Int64) async throws {
        try await client.query(
            """
            WITH folded AS (DELETE FROM callout_statistic_deltas WHERE callout_id = \(calloutID) RETURNING metric, delta)
            INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
            SELECT \(calloutID), metric, sum(delta) FROM folded GROUP BY metric HAVING sum(delta) <> 0
            """, logger: logger)
    }
}
