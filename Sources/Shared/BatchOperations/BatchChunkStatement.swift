import PostgresNIO

/// The one statement of a chunk: select the next `size` source rows after `afterID` in id order, apply the
/// operation to them, and answer how many were selected and the last id.
struct BatchChunkStatement {
    let operation: BatchOperation
    let selection: BatchSelection
    let afterID: Int64
    let size: Int64
    /// CalloutPopulation: participations of numbers on the account's do-not-call list are recorded with the
    /// outcome `do_not_call` (never called by the autopilot) instead of pending.
    var marksDoNotCall = false

    var query: PostgresQuery {
        var sql = SQLBuilder()
        switch operation.type {
        case .calloutPopulation: appendCalloutPopulation(to: &sql)
        case .phoneCallCreate: appendPhoneCallCreate(to: &sql)
        case .phoneCallQueue: appendPhoneCallMove(to: &sql, event: .queue)
        case .phoneCallQueueRemoteFetch: appendPhoneCallMove(to: &sql, event: .queueRemoteFetch)
        }
        sql.append(" SELECT count(*), max(id) FROM chunk")
        return sql.query
    }

    private func appendChunk(_ columns: StaticString, idColumn: StaticString, to sql: inout SQLBuilder) {
        sql.append("WITH chunk AS (SELECT ")
        sql.append(columns)
        sql.append(" FROM ")
        selection.appendSource(to: &sql, accountID: operation.accountID)
        sql.append(" AND ")
        sql.append(idColumn)
        sql.append(" > ")
        sql.bind(afterID)
        sql.append(" ORDER BY ")
        sql.append(idColumn)
        sql.append(" LIMIT ")
        sql.bind(size)
        sql.append(")")
    }

    /// Participations for the selected contacts; a contact already in the callout keeps its participation.
    private func appendCalloutPopulation(to sql: inout SQLBuilder) {
        appendChunk("c.id, c.msisdn", idColumn: "c.id", to: &sql)
        sql.append(
            """
            , inserted AS (
                INSERT INTO callout_participations (
                    account_id, callout_id, contact_id, callout_population_id, msisdn, call_flow_logic, outcome, finished_at)
                SELECT co.account_id, co.id, chunk.id,
            """)
        sql.bind(operation.id)
        sql.append(", chunk.msisdn, co.call_flow_logic, ")
        if marksDoNotCall {
            sql.append(
                """
                d.outcome, CASE WHEN d.outcome IS NOT NULL THEN now() END
                    FROM chunk CROSS JOIN callouts co
                    LEFT JOIN LATERAL (
                        SELECT 'do_not_call'::text AS outcome FROM do_not_call_entries
                        WHERE account_id = co.account_id AND msisdn = chunk.msisdn
                    ) d ON true
                    WHERE co.id =
                """)
        } else {
            sql.append(" NULL, NULL FROM chunk CROSS JOIN callouts co WHERE co.id = ")
        }
        sql.bind(operation.calloutID)
        sql.append(" ORDER BY chunk.id ON CONFLICT (callout_id, contact_id) DO NOTHING)")
    }

    /// A phone call for each selected participation, with the operation's remote request params.
    private func appendPhoneCallCreate(to sql: inout SQLBuilder) {
        appendChunk("p.id, p.contact_id, p.callout_id, p.msisdn, p.call_flow_logic", idColumn: "p.id", to: &sql)
        sql.append(
            """
            , inserted AS (
                INSERT INTO phone_calls (
                    account_id, callout_participation_id, contact_id, callout_id, msisdn, remote_request_params,
                    call_flow_logic, create_batch_operation_id)
                SELECT co.account_id, chunk.id, chunk.contact_id, chunk.callout_id, chunk.msisdn,
            """)
        sql.bind(selection.remoteRequestParams ?? .emptyObject)
        sql.append(", coalesce(chunk.call_flow_logic, co.call_flow_logic), ")
        sql.bind(operation.id)
        sql.append(" FROM chunk JOIN callouts co ON co.id = chunk.callout_id ORDER BY chunk.id)")
    }

    /// The selected calls that the event may move (compare-and-set on the status) change status, and each
    /// gets its worker job in the outbox, in the same statement.
    private func appendPhoneCallMove(to sql: inout SQLBuilder, event: PhoneCallEvent) {
        appendChunk("pc.id", idColumn: "pc.id", to: &sql)
        sql.append(", moved AS (UPDATE phone_calls SET status = ")
        sql.bind(event.to.rawValue)
        sql.append(", ")
        sql.append(trusted: operation.type.phoneCallColumn!)
        sql.append(" = ")
        sql.bind(operation.id)
        sql.append(", updated_at = now() FROM chunk WHERE phone_calls.id = chunk.id AND phone_calls.status = ANY(")
        sql.bind(event.from.map(\.rawValue))
        sql.append(
            """
            ) RETURNING phone_calls.id),
            jobs AS (
                INSERT INTO outbox_messages (topic, message_key, payload)
                SELECT
            """)
        sql.append(" ")
        sql.bind(event.topic.rawValue)
        sql.append(", moved.id::text, jsonb_build_object('version', ")
        sql.bind(PhoneCallJob.version)
        sql.append(", 'phone_call_id', moved.id, 'account_id', ")
        sql.bind(operation.accountID)
        sql.append(") FROM moved ORDER BY moved.id)")
    }
}
