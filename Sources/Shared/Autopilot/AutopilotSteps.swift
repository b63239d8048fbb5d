import Foundation
import Logging
import PostgresNIO

/// The set-based statements of one scheduler tick for one callout. Each is one statement whatever the
/// callout's size, and each is safe to run twice or from two replicas at once (row locks with SKIP LOCKED,
/// `settled_phone_call_id` moving forward only, the lease checked inside the statement).
public struct AutopilotSteps: Sendable {
    let client: PostgresClient
    let logger: Logger
    let owner: UUID

    public init(client: PostgresClient, logger: Logger, owner: UUID) {
        self.client = client
        self.logger = logger
        self.owner = owner
    }

    /// What settling found: participations given a final outcome, and those scheduled for another attempt.
    public struct Settled: Sendable, Equatable {
        public var finished = 0
        public var retrying = 0
    }

    /// Settles the participations whose latest call reached a final status and was not settled yet:
    /// `answered` after `completed`; another attempt after the policy's delay for a retry status while attempts
    /// remain; `expired` after an expired call; `exhausted` otherwise.
    ///
    /// Normally only the calls that reached a final status since the last pass are looked at (the settle
    /// queue the status updates append to); `full` looks at every finished latest call of the callout, which
    /// also finds what the queue could not name; the scheduler does that now and then.
    public func settle(_ callout: AutopilotCallout, full: Bool = false) async throws -> Settled {
        let policy = callout.policy
        let delays = policy.retryDelays.map(\.seconds)
        let rows = try await client.query(
            """
            WITH news AS (
                DELETE FROM autopilot_settle_queue WHERE callout_id = \(callout.id) RETURNING phone_call_id
            ), settled AS (
                SELECT p.id, c.id AS phone_call_id, c.status, p.attempts + 1 AS attempts
                FROM \(unescaped: full ? Self.everyCallOfTheCallout : Self.callsInTheSettleQueue)
                JOIN callout_participations p ON p.id = c.callout_participation_id
                WHERE c.callout_id = \(callout.id) AND c.is_latest
                  AND NOT c.status = ANY(\(PhoneCallStatus.unfinishedStatuses.map(\.rawValue)))
                  AND c.id > coalesce(p.settled_phone_call_id, 0) AND p.outcome IS NULL
                FOR UPDATE OF p
            ), decided AS (
                SELECT id, phone_call_id, attempts,
                       CASE
                           WHEN status = 'completed' THEN 'answered'
                           WHEN status = ANY(\(policy.retryStatuses)) AND attempts < \(policy.maxAttempts) THEN NULL
                           WHEN status = 'expired' THEN 'expired'
                           ELSE 'exhausted'
                       END AS outcome,
                       status <> 'completed' AND status = ANY(\(policy.retryStatuses))
                           AND attempts < \(policy.maxAttempts) AS retry
                FROM settled
            ), updated AS (
                UPDATE callout_participations p SET
                    settled_phone_call_id = d.phone_call_id,
                    attempts = d.attempts,
                    outcome = d.outcome,
                    finished_at = CASE WHEN d.outcome IS NOT NULL THEN now() END,
                    next_attempt_at = CASE WHEN d.retry
                        THEN clock_timestamp() + make_interval(secs => (\(delays)::float8[])[least(d.attempts, \(delays.count))])
                    END,
                    updated_at = now()
                FROM decided d WHERE p.id = d.id
                RETURNING p.id, p.account_id, p.callout_id, p.contact_id, p.msisdn, p.outcome, p.attempts, d.retry
            ), finished_participations AS (
                SELECT * FROM updated WHERE outcome IS NOT NULL
            ), notified AS (
                \(unescaped: WebhookEvents.participationsFinishedSQL.text)
            )
            SELECT outcome IS NOT NULL, retry FROM updated
            """, logger: logger)
        var settled = Settled()
        for try await (finished, retry) in rows.decode((Bool, Bool).self) {
            if finished { settled.finished += 1 }
            if retry { settled.retrying += 1 }
        }
        return settled
    }

    /// Where a settle pass looks: the calls the settle queue named (by primary key: the pass costs what changed,
    /// whatever the callout's size), or every call of the callout (the full pass; a data-modifying CTE runs
    /// whether or not it is referenced, so the queue is emptied either way).
    static let callsInTheSettleQueue = "(SELECT DISTINCT phone_call_id FROM news) n JOIN phone_calls c ON c.id = n.phone_call_id"
    static let everyCallOfTheCallout = "phone_calls c"

    /// What filling did: calls created and queued, participations found on the do-not-call list, and those
    /// put off until their calling window opens.
    public struct Filled: Sendable, Equatable {
        public var queued = 0
        public var doNotCall = 0
        public var outsideCallingHours = 0

        /// Participations the fill took from the work list, whatever became of them: its share of the limit.
        public var taken: Int { queued + doNotCall + outsideCallingHours }

        public mutating func add(_ other: Filled) {
            queued += other.queued
            doNotCall += other.doNotCall
            outsideCallingHours += other.outsideCallingHours
        }
    }

    /// Creates and queues a call (and its `phone-calls.queue` job) for up to `limit` participations that are
    /// due, fresh ones first, in one statement; while this replica holds the callout's lease and the callout
    /// is running. Participations on the do-not-call list are finished as `do_not_call` instead; those outside
    /// their calling window get their next attempt time set to its opening.
    ///
    /// The work list is walked from `cursor` (where the previous fill stopped: fresh participations by id,
    /// then due retries by time and id) and the answer says where this one stopped, so participations already
    /// under way are not walked past again on every tick. A row skipped because another transaction held it
    /// is found again when the scheduler resets the cursor.
    public func fill(
        _ callout: AutopilotCallout, limit: Int, numbers: NumberScope = .all, cursor: FillCursor = FillCursor(),
        on connection: PostgresConnection? = nil
    ) async throws -> (filled: Filled, cursor: FillCursor) {
        var cursor = cursor
        guard limit > 0 else { return (Filled(), cursor) }
        var total = try await fillPhase(callout, limit: limit, numbers: numbers, cursor: &cursor, retries: false, on: connection)
        if total.taken < limit {
            total.add(try await fillPhase(callout, limit: limit - total.taken, numbers: numbers, cursor: &cursor, retries: true, on: connection))
        }
        return (total, cursor)
    }

    /// One fill statement over fresh participations (`retries` false: no next attempt time, by id) or due
    /// retries (by next attempt time and id), after the cursor. It reads a window of the work list from the
    /// cursor (`scanned`), takes the eligible participations of it (`candidates`), and moves the cursor past
    /// the last one taken, or past the whole window when it took fewer than `limit`: participations under way
    /// are passed over once, not on every tick.
    private func fillPhase(
        _ callout: AutopilotCallout, limit: Int, numbers: NumberScope, cursor: inout FillCursor, retries: Bool,
        on connection: PostgresConnection?
    ) async throws -> Filled {
        let policy = callout.policy
        var sql = SQLBuilder(
            """
            WITH scanned AS (
                SELECT p.id, p.next_attempt_at FROM callout_participations p
                WHERE p.callout_id =
            """)
        sql.bind(callout.id)
        sql.append(" AND p.outcome IS NULL")
        if retries {
            sql.append(" AND p.next_attempt_at IS NOT NULL AND p.next_attempt_at <= now() AND (p.next_attempt_at, p.id) > (")
            sql.bind(cursor.retryAfterTime ?? Date(timeIntervalSince1970: 0))
            sql.append(", ")
            sql.bind(cursor.retryAfterID)
            sql.append(")")
        } else {
            sql.append(" AND p.next_attempt_at IS NULL AND p.id > ")
            sql.bind(cursor.freshAfterID)
        }
        switch numbers {
        case .all: break
        case .startingWith(let prefix):
            sql.append(" AND p.msisdn LIKE ")
            sql.bind("+\(prefix)%")
        case .notStartingWithAny(let prefixes):
            sql.append(" AND NOT p.msisdn LIKE ANY(")
            sql.bind(prefixes.map { "+\($0)%" })
            sql.append(")")
        }
        // NULLS FIRST as in the work list's index (callout_participations_pending): with the default NULLS LAST
        // the index's order did not serve the ORDER BY, and every fill read and sorted all of the callout's
        // pending participations to take a window of them (20,000 sorted for 1,000; a million-contact
        // callout's every fill would have sorted a million). Each phase's rows are all null or all not null,
        // so the order taken is the same.
        sql.append(" ORDER BY p.next_attempt_at NULLS FIRST, p.id LIMIT ")
        sql.bind(Self.scanWindow(limit: limit))
        sql.append(
            """
            ), candidates AS (
                SELECT p.id, p.contact_id, p.msisdn, p.call_flow_logic, p.next_attempt_at AS due_at,
                       EXISTS (SELECT 1 FROM do_not_call_entries d WHERE d.account_id = p.account_id AND d.msisdn = p.msisdn) AS do_not_call,
            """)
        if let hours = policy.callingHours, !policy.urgent {
            sql.append(
                """
                 calling_window_opens_at(
                    participation_time_zone((SELECT ct.metadata ->> 'time_zone' FROM contacts ct WHERE ct.id = p.contact_id), p.msisdn,
                """)
            sql.bind(policy.timeZone)
            sql.append("), ")
            sql.bind(hours.days)
            sql.append("::integer[], ")
            sql.bind(hours.start)
            sql.append("::time, ")
            sql.bind(hours.end)
            sql.append("::time, now()) AS opens_at")
        } else {
            sql.append(" now() AS opens_at")
        }
        sql.append(
            """

                FROM callout_participations p
                WHERE p.id IN (SELECT id FROM scanned) AND p.outcome IS NULL
                  AND NOT EXISTS (
                      SELECT 1 FROM phone_calls l
                      WHERE l.callout_participation_id = p.id AND l.is_latest
                        AND (l.id > coalesce(p.settled_phone_call_id, 0) OR l.status = ANY(
            """)
        sql.bind(PhoneCallStatus.unfinishedStatuses.map(\.rawValue))
        sql.append(
            """
            )))
                  AND EXISTS (SELECT 1 FROM callouts c WHERE c.id = p.callout_id AND c.status = 'running')
                  AND EXISTS (SELECT 1 FROM autopilot_leases l WHERE l.callout_id = p.callout_id AND l.owner =
            """)
        sql.bind(owner)
        sql.append(
            """
             AND l.expires_at > clock_timestamp())
                ORDER BY p.next_attempt_at NULLS FIRST, p.id
                LIMIT
            """)
        sql.append(" ")
        sql.bind(limit)
        sql.append(
            """
             FOR UPDATE OF p SKIP LOCKED
            ), held_back AS (
                UPDATE callout_participations p SET
                    outcome = CASE WHEN s.do_not_call THEN 'do_not_call' END,
                    finished_at = CASE WHEN s.do_not_call THEN now() END,
                    next_attempt_at = CASE WHEN s.do_not_call THEN NULL ELSE s.opens_at END,
                    updated_at = now()
                FROM candidates s WHERE p.id = s.id AND (s.do_not_call OR s.opens_at IS NULL OR s.opens_at > now())
                RETURNING s.do_not_call, p.id, p.account_id, p.callout_id, p.contact_id, p.msisdn, p.outcome, p.attempts
            ), finished_participations AS (
                SELECT * FROM held_back WHERE do_not_call
            ), notified AS (
            """)
        sql.append(trusted: WebhookEvents.participationsFinishedSQL)
        sql.append(
            """
            ), created AS (
                INSERT INTO phone_calls (account_id, callout_participation_id, contact_id, callout_id, msisdn, status, remote_request_params, call_flow_logic)
                SELECT
            """)
        sql.append(" ")
        sql.bind(callout.accountID)
        sql.append(", s.id, s.contact_id, ")
        sql.bind(callout.id)
        sql.append(", s.msisdn, 'queued', ")
        sql.bind(policy.remoteRequestParams)
        sql.append(
            """
            , coalesce(s.call_flow_logic, co.call_flow_logic)
                FROM candidates s JOIN callouts co ON co.id =
            """)
        sql.bind(callout.id)
        sql.append(
            """
             WHERE NOT s.do_not_call AND s.opens_at <= now()
                ORDER BY s.id
                RETURNING id
            ), jobs AS (
                INSERT INTO outbox_messages (topic, message_key, payload)
                SELECT
            """)
        sql.append(" ")
        sql.bind(Topic.phoneCallsQueue.rawValue)
        sql.append(", id::text, jsonb_build_object('version', ")
        sql.bind(PhoneCallJob.version)
        sql.append(", 'phone_call_id', id, 'account_id', ")
        sql.bind(callout.accountID)
        sql.append(
            """
            ) FROM created ORDER BY id
            ), passed AS (
                -- Where the cursor goes: past the last participation taken when the limit was reached, else
                -- past the whole window.
                SELECT due_at, id FROM (
                    SELECT due_at, id, 1 AS rank FROM candidates
                    UNION ALL SELECT next_attempt_at, id, 2 FROM scanned
                ) ends
                WHERE rank = CASE WHEN (SELECT count(*) FROM candidates) >=
            """)
        sql.bind(limit)
        sql.append(
            """
             THEN 1 ELSE 2 END
                ORDER BY due_at DESC NULLS LAST, id DESC LIMIT 1
            )
            SELECT (SELECT count(*) FROM created),
                   (SELECT count(*) FILTER (WHERE do_not_call) FROM held_back),
                   (SELECT count(*) FILTER (WHERE NOT do_not_call) FROM held_back),
                   (SELECT due_at FROM passed), (SELECT id FROM passed)
            """)
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(sql.query, logger: logger)
        } else {
            rows = try await client.query(sql.query, logger: logger)
        }
        let (queued, doNotCall, outside, lastDue, lastID) = try await rows.single {
            try $0.decode((Int64, Int64, Int64, Date?, Int64?).self)
        }
        if let lastID {
            if retries {
                cursor.retryAfterTime = lastDue
                cursor.retryAfterID = lastID
            } else {
                cursor.freshAfterID = lastID
            }
        }
        return Filled(queued: Int(queued), doNotCall: Int(doNotCall), outsideCallingHours: Int(outside))
    }

    /// Rows of the work list one fill reads: enough to pass a stretch of participations under way while
    /// still filling the limit.
    static func scanWindow(limit: Int) -> Int { max(2 * limit, 1000) }

    /// Where a callout's last fill stopped in its work list.
    public struct FillCursor: Sendable, Equatable {
        /// Fresh participations (never called, no next attempt time) up to this id were taken.
        public var freshAfterID: Int64 = 0
        /// Due retries up to this next attempt time and id were taken.
        public var retryAfterTime: Date?
        public var retryAfterID: Int64 = 0
        public init() {}
    }

    /// Which numbers a fill may call: all, or those of one capped prefix, or all but the capped prefixes.
    public enum NumberScope: Sendable, Equatable {
        case all
        case startingWith(String)
        case notStartingWithAny([String])
    }

    /// Fills with the numbers of a prefix capped on the account's trunk, as many as the prefix's token bucket
    /// holds (refilled at `cap` per second, at most one second's worth), in one transaction that holds the
    /// bucket's row: replicas filling for the same trunk share its tokens.
    public func fillCapped(_ callout: AutopilotCallout, trunk: String, prefix: String, cap: Double, limit: Int) async throws -> Filled {
        guard limit > 0 else { return Filled() }
        return try await client.transaction(logger: logger) { connection in
            let tokens = try await connection.query(
                """
                INSERT INTO prefix_cap_buckets AS b (trunk, prefix, tokens, refilled_at)
                VALUES (\(trunk), \(prefix), \(cap), clock_timestamp())
                ON CONFLICT (trunk, prefix) DO UPDATE SET
                    tokens = least(\(cap), b.tokens + \(cap) * extract(epoch FROM clock_timestamp() - b.refilled_at)::float8),
                    refilled_at = clock_timestamp()
                RETURNING tokens
                """, logger: logger
            ).single { try $0.decode(Double.self) }
            let allowed = min(limit, Int(tokens.rounded(.down)))
            guard allowed > 0 else { return Filled() }
            let filled = try await fill(callout, limit: allowed, numbers: .startingWith(prefix), on: connection).filled
            try await connection.query(
                "UPDATE prefix_cap_buckets SET tokens = tokens - \(Double(filled.queued)) WHERE trunk = \(trunk) AND prefix = \(prefix)",
                logger: logger)
            return filled
        }
    }

    /// What the scheduler sizes an account's queue by.
    public struct AccountQueue: Sendable, Equatable {
        /// Calls waiting in our queue for a dial (queued, their callout not held), counted up to a cap.
        public var queued = 0
        /// The account's share of its trunk now (`TrunkShares`), when it shares one.
        public var trunkShareRate: Double?
        /// The account's trunk, and its per-prefix caps (calls per second by number prefix).
        public var trunk: String?
        public var prefixCaps: [String: Double] = [:]
    }

    /// The queue of each of these accounts, counting at most `cap` calls each.
    public func accountQueues(accountIDs: [Int64], cap: Int) async throws -> [Int64: AccountQueue] {
        let rows = try await client.query(
            """
            SELECT a.id, q.count, s.trunk_share_rate, t.name, t.prefix_caps FROM unnest(\(accountIDs)::bigint[]) a (id)
            LEFT JOIN account_dial_schedules s ON s.account_id = a.id
            LEFT JOIN accounts ac ON ac.id = a.id
            LEFT JOIN provider_trunks t ON t.name = ac.settings ->> 'trunk'
            CROSS JOIN LATERAL (
                SELECT count(*) FROM (
                    SELECT 1 FROM phone_calls p
                    WHERE p.account_id = a.id AND p.status = 'queued'
                      AND \(unescaped: CalloutHold.notHeld.text)
                    LIMIT \(cap)
                ) limited
            ) q
            """, logger: logger)
        var queues: [Int64: AccountQueue] = [:]
        for try await (id, count, share, trunk, caps) in rows.decode((Int64, Int64, Double?, String?, JSONValue?).self) {
            var queue = AccountQueue(queued: Int(count), trunkShareRate: share, trunk: trunk)
            for (prefix, cap) in caps?.objectValue ?? [:] { queue.prefixCaps[prefix] = cap.doubleValue }
            queues[id] = queue
        }
        return queues
    }

    /// Finishes as `expired` the participations still waiting for an attempt once the callout's policy
    /// expiry has passed (calls under way finish on their own). Returns how many.
    public func expirePending(_ callout: AutopilotCallout) async throws -> Int {
        guard let expiresAt = callout.policy.expiresAt, expiresAt <= Date() else { return 0 }
        let rows = try await client.query(
            """
            UPDATE callout_participations p SET outcome = 'expired', finished_at = now(), next_attempt_at = NULL, updated_at = now()
            WHERE p.callout_id = \(callout.id) AND p.outcome IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM phone_calls l
                  WHERE l.callout_participation_id = p.id AND l.is_latest AND l.status = ANY(\(PhoneCallStatus.unfinishedStatuses.map(\.rawValue))))
            RETURNING p.id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Marks the callout finished when no participation is pending and no population of it is still to run;
    /// clears the mark if work appeared again (a later population). Returns whether it finished just now.
    public func markFinished(_ callout: AutopilotCallout) async throws -> Bool {
        let rows = try await client.query(
            """
            WITH state AS (
                SELECT NOT EXISTS (SELECT 1 FROM callout_participations WHERE callout_id = \(callout.id) AND outcome IS NULL)
                   AND NOT EXISTS (
                       SELECT 1 FROM batch_operations
                       WHERE callout_id = \(callout.id) AND type = 'BatchOperation::CalloutPopulation' AND status IN ('queued', 'running')
                   ) AS done
            ), marked AS (
                UPDATE callouts SET autopilot_finished_at = CASE WHEN state.done THEN now() END
                FROM state
                WHERE id = \(callout.id) AND (autopilot_finished_at IS NULL) = state.done
                RETURNING callouts.id, callouts.account_id, callouts.autopilot_finished_at, state.done
            ), finished_callouts AS (
                SELECT * FROM marked WHERE done
            ), notified AS (
                \(unescaped: WebhookEvents.calloutsFinishedSQL.text)
            )
            SELECT done FROM marked
            """, logger: logger)
        for try await done in rows.decode(Bool.self) { return done }
        return false
    }

    /// Samples how many of the callout's calls were dialled, and keeps a smoothed calls-per-second figure for
    /// the progress endpoint (one row per callout). Reading the totals folds them when they piled up, so they
    /// stay small while nobody polls the statistics.
    public func sampleProgress(_ callout: AutopilotCallout) async throws {
        let (_, totals) = try await CalloutTotals.read(client, logger: logger, accountID: callout.accountID, calloutID: callout.id)
        let dialled = CalloutProgress.dialled(totals)
        try await client.query(
            """
            INSERT INTO callout_progress_samples AS s (callout_id, dialled, sampled_at, calls_per_second)
            VALUES (\(callout.id), \(dialled), clock_timestamp(), 0)
            ON CONFLICT (callout_id) DO UPDATE SET
                dialled = excluded.dialled,
                sampled_at = excluded.sampled_at,
                calls_per_second = CASE
                    WHEN excluded.sampled_at - s.sampled_at > interval '30 seconds' THEN 0
                    ELSE 0.5 * s.calls_per_second + 0.5 * greatest(excluded.dialled - s.dialled, 0)
                         / greatest(extract(epoch FROM excluded.sampled_at - s.sampled_at)::float8, 0.001)
                END
            """, logger: logger)
    }
}
