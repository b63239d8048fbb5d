import Logging
import PostgresNIO

/// What a create or update request sets on a callout; nil leaves an attribute as it is.
public struct CalloutChanges: Sendable {
    public var callFlowLogic: String??
    public var audioURL: String??
    public var metadata: JSONValue?
    public var metadataMergeMode: MetadataMergeMode = .merge
    public var settings: JSONValue?

    public init() {}
}

public struct CalloutRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let table = RecordTable<Callout>(
        from: "callouts co", columns: Callout.columns, accountColumn: "co.account_id", idColumn: "co.id",
        decode: Callout.init(row:), countedTable: "callouts")

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(accountID: Int64, _ changes: CalloutChanges) async throws -> Callout {
        try await client.query(
            """
            INSERT INTO callouts (account_id, call_flow_logic, audio_url, metadata, settings)
            VALUES (\(accountID), \(changes.callFlowLogic ?? nil), \(changes.audioURL ?? nil),
                    \(changes.metadata ?? .emptyObject), \(changes.settings ?? .emptyObject))
            RETURNING \(unescaped: Callout.columns.text)
            """, logger: logger
        ).single(Callout.init(row:))
    }

    public func find(accountID: Int64, id: Int64) async throws -> Callout {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<Callout> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    public func update(accountID: Int64, id: Int64, _ changes: CalloutChanges) async throws {
        var update = UpdateStatement("callouts")
        if case .some(let value) = changes.callFlowLogic { update.set("call_flow_logic", value) }
        if case .some(let value) = changes.audioURL { update.set("audio_url", value) }
        update.setMetadata("metadata", changes.metadata, mode: changes.metadataMergeMode)
        update.setMetadata("settings", changes.settings, mode: .merge)
        try await client.withConnection { connection in
            try await update.run(on: connection, logger: logger, id: id, accountID: accountID)
        }
    }

    /// Moves the callout by `event` with a compare-and-set on its status, so two concurrent events cannot
    /// both apply; an event not allowed from the current status is 422 `event is not included in the list`.
    ///
    /// Queue workers do not dial the calls of a paused or stopped callout: they leave them `queued` and drop
    /// their jobs. Resuming queues those calls again, in the same transaction (set-based, one job per call).
    public func apply(_ event: CalloutEvent, accountID: Int64, id: Int64) async throws -> Callout {
        let updated = try await client.transaction(logger: logger) { connection -> Callout? in
            let updated = try await connection.query(
                """
                UPDATE callouts SET status = \(event.to.rawValue), updated_at = now()
                WHERE id = \(id) AND account_id = \(accountID) AND status = ANY(\(event.from.map(\.rawValue)))
                RETURNING \(unescaped: Callout.columns.text)
                """, logger: logger
            ).first(Callout.init(row:))
            if updated != nil, event == .resume {
                // The calls' updated_at is touched: the time they entered the queue again, from which the stuck
                // call sweeper measures how long they have waited.
                try await connection.query(
                    """
                    WITH requeued AS (
                        UPDATE phone_calls SET updated_at = now()
                        WHERE callout_id = \(id) AND status = 'queued' AND dial_claimed_at IS NULL
                        RETURNING id, account_id
                    )
                    INSERT INTO outbox_messages (topic, message_key, payload)
                    SELECT \(Topic.phoneCallsQueue.rawValue), id::text,
                           jsonb_build_object('version', \(PhoneCallJob.version), 'phone_call_id', id, 'account_id', account_id)
                    FROM requeued
                    ORDER BY id
                    """, logger: logger)
            }
            return updated
        }
        if let updated { return updated }
        _ = try await find(accountID: accountID, id: id)
        throw ValidationErrors("event", ValidationErrors.notIncluded)
    }

    /// Deletes the callout unless participations, phone calls or batch operations refer to it (422, as
    /// SCFM's `restrict_with_error`).
    public func delete(accountID: Int64, id: Int64) async throws {
        try await DependentRecords.delete(
            client, logger: logger, table: "callouts", id: id, accountID: accountID,
            dependents: [
                .init(table: "callout_participations", column: "callout_id", name: "callout participations"),
                .init(table: "phone_calls", column: "callout_id", name: "phone calls"),
                .init(table: "batch_operations", column: "callout_id", name: "batch operations"),
            ])
    }
}
