import Foundation
import Logging
import PostgresNIO

/// Applies status events to `phone_calls`, a batch in one statement.
///
/// The rules make it idempotent and order-proof: an event moves the status only when its rank
/// (`phone_call_status_rank`: queued < remotely_queued = remote_fetch_queued < in_progress < final) is higher
/// than the call's, or equal and newer than the event that set it; a final status never changes. What an
/// event reports of the dial (remote_call_id, remote_queue_response, remotely_queued_at) is kept whenever the
/// call lacks it, so a dial answer that arrives after a later callback is still recorded. Several events of
/// one call in a batch are folded into one row first.
public struct PhoneCallStatusUpdates: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Returns how many calls changed.
    @discardableResult
    public func apply(_ events: [PhoneCallStatusEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        // One jsonb parameter rather than an array per column: most fields are absent from most events, and
        // jsonb_to_recordset reads absent keys as NULL.
        let rows = try await client.query(
            """
            WITH events AS (
                SELECT e.phone_call_id AS id, e.status, e.remote_call_id, e.remote_status, e.remote_direction, e.remote_error_message,
                       e.remote_queue_response, e.remote_response,
                       timestamptz 'epoch' + e.occurred_at_us * interval '1 microsecond' AS occurred_at,
                       timestamptz 'epoch' + e.remotely_queued_at_us * interval '1 microsecond' AS remotely_queued_at,
                       phone_call_status_rank(e.status) AS rank
                FROM jsonb_to_recordset(\(JSONValue.array(events.map(\.payload)))::jsonb)
                    AS e(phone_call_id bigint, status text, occurred_at_us bigint, remote_call_id text, remote_status text,
                         remote_direction text, remote_error_message text, remote_queue_response jsonb,
                         remote_response jsonb, remotely_queued_at_us bigint)
            ),
            folded AS (
                -- Per call: the status of its furthest (then newest) event, and the dial's answer from any event.
                SELECT id, max(rank) AS rank,
                       (array_agg(status ORDER BY rank DESC, occurred_at DESC))[1] AS status,
                       (array_agg(occurred_at ORDER BY rank DESC, occurred_at DESC))[1] AS occurred_at,
                       (array_agg(remote_status ORDER BY rank DESC, occurred_at DESC))[1] AS remote_status,
                       (array_agg(remote_direction ORDER BY rank DESC, occurred_at DESC))[1] AS remote_direction,
                       (array_agg(remote_error_message ORDER BY rank DESC, occurred_at DESC))[1] AS remote_error_message,
                       (array_agg(remote_response ORDER BY rank DESC, occurred_at DESC))[1] AS remote_response,
                       (array_agg(remote_call_id) FILTER (WHERE remote_call_id IS NOT NULL))[1] AS dialled_call_id,
                       (array_agg(remote_queue_response) FILTER (WHERE remote_queue_response IS NOT NULL))[1] AS dial_response,
                       min(remotely_queued_at) AS dialled_at
                FROM events
                GROUP BY id
            ),
            decided AS (
                SELECT f.*, p.id AS phone_call_id,
                       phone_call_status_rank(p.status) < 4
                       AND (f.rank > phone_call_status_rank(p.status)
                            OR (f.rank = phone_call_status_rank(p.status)
                                AND (p.status_event_at IS NULL OR f.occurred_at > p.status_event_at))) AS moves,
                       p.remote_queue_response = '{}'::jsonb AND f.dial_response IS NOT NULL AS records_dial,
                       -- A sid another call already holds (a lookup that matched the wrong call) is not taken over.
                       EXISTS (SELECT 1 FROM phone_calls o WHERE o.remote_call_id = f.dialled_call_id AND o.id <> f.id) AS sid_taken
                FROM folded f JOIN phone_calls p ON p.id = f.id
            )
            UPDATE phone_calls p SET
                status = CASE WHEN d.moves THEN d.status ELSE p.status END,
                status_event_at = CASE WHEN d.moves THEN d.occurred_at ELSE p.status_event_at END,
                remote_status = CASE WHEN d.moves THEN coalesce(d.remote_status, p.remote_status) ELSE p.remote_status END,
                remote_error_message = CASE WHEN d.moves THEN coalesce(d.remote_error_message, p.remote_error_message) ELSE p.remote_error_message END,
                remote_response = CASE WHEN d.moves THEN coalesce(d.remote_response, p.remote_response) ELSE p.remote_response END,
                remote_direction = coalesce(p.remote_direction, d.remote_direction),
                remote_call_id = CASE WHEN d.sid_taken THEN p.remote_call_id ELSE coalesce(p.remote_call_id, d.dialled_call_id) END,
                remote_queue_response = CASE WHEN d.records_dial THEN d.dial_response ELSE p.remote_queue_response END,
                remotely_queued_at = coalesce(p.remotely_queued_at, d.dialled_at),
                updated_at = now()
            FROM decided d
            WHERE p.id = d.phone_call_id AND (d.moves OR d.records_dial)
            RETURNING p.id
            """, logger: logger)
        var changed = 0
        for try await _ in rows { changed += 1 }
        return changed
    }
}
