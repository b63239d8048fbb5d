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

    /// One query: the participations counted on their (callout_id, id) index, every call of the callout
    /// counted by status and by being its participation's latest on the (callout_id, status, is_latest) index.
    /// A participation with calls has exactly one latest call, so remaining = participations − latest calls +
    /// latest calls in a retry status.
    public static func compute(
        _ client: PostgresClient, logger: Logger, accountID: Int64, calloutID: Int64, retryStatuses: [String]
    ) async throws -> CalloutStatistics {
        let row = try await client.query(
            """
            SELECT co.status, p.total,
                   p.total - calls.latest + calls.latest_to_retry AS remaining, calls.latest_completed,
                   calls.created, calls.queued, calls.remote_fetch_queued, calls.waiting, calls.remotely_queued,
                   calls.in_progress, calls.errored, calls.failed, calls.busy, calls.not_answered, calls.canceled,
                   calls.completed
            FROM callouts co
            CROSS JOIN LATERAL (SELECT count(*) AS total FROM callout_participations WHERE callout_id = co.id) p
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE is_latest) AS latest,
                       count(*) FILTER (WHERE is_latest AND status = ANY(\(retryStatuses))) AS latest_to_retry,
                       count(*) FILTER (WHERE is_latest AND status = 'completed') AS latest_completed,
                       count(*) FILTER (WHERE status = 'created') AS created,
                       count(*) FILTER (WHERE status = 'queued') AS queued,
                       count(*) FILTER (WHERE status = 'remote_fetch_queued') AS remote_fetch_queued,
                       count(*) FILTER (WHERE status IN ('remotely_queued', 'in_progress', 'remote_fetch_queued')) AS waiting,
                       count(*) FILTER (WHERE status = 'remotely_queued') AS remotely_queued,
                       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
                       count(*) FILTER (WHERE status = 'errored') AS errored,
                       count(*) FILTER (WHERE status = 'failed') AS failed,
                       count(*) FILTER (WHERE status = 'busy') AS busy,
                       count(*) FILTER (WHERE status = 'not_answered') AS not_answered,
                       count(*) FILTER (WHERE status = 'canceled') AS canceled,
                       count(*) FILTER (WHERE status = 'completed') AS completed
                FROM phone_calls WHERE callout_id = co.id
            ) calls
            WHERE co.id = \(calloutID) AND co.account_id = \(accountID)
            """, logger: logger
        ).single { $0 }
        let names = [
            "callout_participations", "callout_participations_remaining", "callout_participations_completed",
            "calls_initialized", "calls_scheduling", "calls_fetching_status", "calls_waiting_for_completion",
            "calls_queued", "calls_in_progress", "calls_errored", "calls_failed", "calls_busy", "calls_not_answered",
            "calls_canceled", "calls_completed",
        ]
        var cells = row.makeIterator()
        let status = try cells.next()!.decode(String.self)
        var values: [(String, Int64)] = []
        for name in names { values.append((name, try cells.next()!.decode(Int64.self))) }
        return CalloutStatistics(values: values, calloutStatus: status)
    }

    /// In the order of the seed's sample response.
    public var json: JSONValue {
        let order = [
            "callout_participations", "callout_participations_remaining", "callout_participations_completed",
            "calls_completed", "calls_initialized", "calls_scheduling", "calls_fetching_status",
            "calls_waiting_for_completion", "calls_queued", "calls_in_progress", "calls_errored", "calls_failed",
            "calls_busy", "calls_not_answered", "calls_canceled",
        ]
        var object = JSONObject()
        object["callout_status"] = .string(calloutStatus)
        for name in order {
            if let value = values.first(where: { $0.name == name })?.value { object[name] = .integer(value) }
        }
        return .object(object)
    }
}
