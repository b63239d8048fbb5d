import Logging
import PostgresNIO

public struct PhoneCallChanges: Sendable {
    public var remoteRequestParams: JSONValue?
    public var callFlowLogic: String??
    public var metadata: JSONValue?
    public var metadataMergeMode: MetadataMergeMode = .merge

    public init() {}

    /// Attributes that shape the call at the provider: fixed once the call left `created`.
    var changesDial: Bool { remoteRequestParams != nil || callFlowLogic != nil }
}

public struct PhoneCallRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let table = RecordTable<PhoneCall>(
        from: "phone_calls pc", columns: PhoneCall.columns, accountColumn: "pc.account_id", idColumn: "pc.id",
        decode: PhoneCall.init(row:))

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A call to the participation's msisdn. `remote_request_params` are required (the provider's create-call
    /// parameters; `to` is always the msisdn). The call flow logic defaults to the participation's, then the
    /// callout's.
    public func create(accountID: Int64, calloutParticipationID: Int64, _ changes: PhoneCallChanges) async throws -> PhoneCall {
        try await RecordScope.calloutParticipation.requireExists(
            client, logger: logger, id: calloutParticipationID, accountID: accountID)
        guard let params = changes.remoteRequestParams, params != .emptyObject else {
            throw ValidationErrors("remote_request_params", ValidationErrors.blank)
        }
        return try await client.query(
            """
            INSERT INTO phone_calls (
                account_id, callout_participation_id, contact_id, callout_id, msisdn, remote_request_params,
                call_flow_logic, metadata)
            SELECT p.account_id, p.id, p.contact_id, p.callout_id, p.msisdn, \(params),
                   coalesce(\(changes.callFlowLogic ?? nil)::text, p.call_flow_logic, co.call_flow_logic),
                   \(changes.metadata ?? .emptyObject)
            FROM callout_participations p JOIN callouts co ON co.id = p.callout_id
            WHERE p.id = \(calloutParticipationID) AND p.account_id = \(accountID)
            -- As a foreign key would: a participation being deleted is waited for (and then not found).
            FOR KEY SHARE OF p
            RETURNING \(unescaped: PhoneCall.columns.text)
            """, logger: logger
        ).single(PhoneCall.init(row:))
    }

    public func find(accountID: Int64, id: Int64) async throws -> PhoneCall {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<PhoneCall> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    /// Metadata may change at any time; `remote_request_params` and `call_flow_logic` only while the call is
    /// `created`, since a queued call may be dialled at any moment (422 otherwise).
    public func update(accountID: Int64, id: Int64, _ changes: PhoneCallChanges) async throws {
        if let params = changes.remoteRequestParams, params == .emptyObject {
            throw ValidationErrors("remote_request_params", ValidationErrors.blank)
        }
        var update = UpdateStatement("phone_calls")
        if let params = changes.remoteRequestParams { update.set("remote_request_params", params) }
        if case .some(let value) = changes.callFlowLogic { update.set("call_flow_logic", value) }
        update.setMetadata("metadata", changes.metadata, mode: changes.metadataMergeMode)
        if changes.changesDial { update.requireStatus(PhoneCallStatus.created.rawValue) }
        do {
            try await client.withConnection { connection in
                try await update.run(on: connection, logger: logger, id: id, accountID: accountID)
            }
        } catch is RecordNotFound {
            let call = try await find(accountID: accountID, id: id)
            throw ValidationErrors("status", "is \(call.status); only a created phone call can be changed")
        }
    }

    /// Only a `created` call may be deleted: anything later may already be at the provider.
    public func delete(accountID: Int64, id: Int64) async throws {
        var deleted = false
        do {
            deleted =
                try await client.query(
                    """
                    DELETE FROM phone_calls WHERE id = \(id) AND account_id = \(accountID) AND status = 'created'
                    RETURNING id
                    """, logger: logger
                ).first { _ in true } ?? false
        } catch  where error.isForeignKeyViolation {
            throw DependentRecords.exist("remote phone call events")
        }
        if deleted { return }
        let call = try await find(accountID: accountID, id: id)
        throw ValidationErrors("base", "Cannot delete a phone call with status \(call.status)")
    }

    /// `queue` (created → queued) and `queue_remote_fetch` (remotely_queued|in_progress →
    /// remote_fetch_queued): a compare-and-set on the status and the worker job, in one transaction.
    public func apply(_ event: PhoneCallEvent, accountID: Int64, id: Int64) async throws -> PhoneCall {
        let updated = try await client.transaction(logger: logger) { connection -> PhoneCall? in
            let call = try await connection.query(
                """
                UPDATE phone_calls SET status = \(event.to.rawValue), updated_at = now()
                WHERE id = \(id) AND account_id = \(accountID) AND status = ANY(\(event.from.map(\.rawValue)))
                RETURNING \(unescaped: PhoneCall.columns.text)
                """, logger: logger
            ).first(PhoneCall.init(row:))
            guard let call else { return nil }
            try await Outbox.enqueue(
                [PhoneCallJob(phoneCallID: call.id, accountID: accountID).outboxEntry(topic: event.topic)],
                on: connection, logger: logger)
            return call
        }
        if let updated { return updated }
        _ = try await find(accountID: accountID, id: id)
        throw ValidationErrors("event", ValidationErrors.notIncluded)
    }
}
