import Logging
import PostgresNIO

public struct CalloutParticipationChanges: Sendable {
    public var contactID: Int64?
    public var msisdn: String?
    public var callFlowLogic: String??
    public var metadata: JSONValue?
    public var metadataMergeMode: MetadataMergeMode = .merge

    public init() {}
}

public struct CalloutParticipationRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let table = RecordTable<CalloutParticipation>(
        from: "callout_participations p", columns: CalloutParticipation.columns, accountColumn: "p.account_id",
        idColumn: "p.id", decode: CalloutParticipation.init(row:))

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Adds a contact of the account (by `contact_id`, or by `msisdn` for an existing contact) to the callout,
    /// once: a second participation of the same contact is 422 `contact_id has already been taken`. The call
    /// flow logic defaults to the callout's.
    public func create(
        accountID: Int64, calloutID: Int64, _ changes: CalloutParticipationChanges
    ) async throws
        -> CalloutParticipation
    {
        try await RecordScope.callout.requireExists(client, logger: logger, id: calloutID, accountID: accountID)
        let msisdn = try changes.msisdn.map { msisdn throws(ValidationErrors) in try ContactRepository.normalize(msisdn: msisdn) }
        guard changes.contactID != nil || msisdn != nil else { throw ValidationErrors("contact", ValidationErrors.mustExist) }
        do {
            let created = try await client.query(
                """
                INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn, call_flow_logic, metadata)
                SELECT \(accountID), co.id, c.id, c.msisdn, coalesce(\(changes.callFlowLogic ?? nil)::text, co.call_flow_logic),
                       \(changes.metadata ?? .emptyObject)
                FROM callouts co
                JOIN contacts c ON c.account_id = co.account_id
                WHERE co.id = \(calloutID) AND co.account_id = \(accountID)
                  AND (c.id = \(changes.contactID)::bigint OR (\(changes.contactID)::bigint IS NULL AND c.msisdn = \(msisdn)::text))
                -- As foreign keys would: a callout or contact being deleted is waited for (and then not found).
                FOR KEY SHARE OF co, c
                RETURNING \(unescaped: CalloutParticipation.columns.text)
                """, logger: logger
            ).first(CalloutParticipation.init(row:))
            guard let created else { throw ValidationErrors("contact", ValidationErrors.mustExist) }
            return created
        } catch  where error.isUniqueViolation {
            throw ValidationErrors("contact_id", ValidationErrors.taken)
        }
    }

    public func find(accountID: Int64, id: Int64) async throws -> CalloutParticipation {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<CalloutParticipation> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    public func update(accountID: Int64, id: Int64, _ changes: CalloutParticipationChanges) async throws {
        var update = UpdateStatement("callout_participations")
        if let msisdn = changes.msisdn { update.set("msisdn", try ContactRepository.normalize(msisdn: msisdn)) }
        if case .some(let value) = changes.callFlowLogic { update.set("call_flow_logic", value) }
        update.setMetadata("metadata", changes.metadata, mode: changes.metadataMergeMode)
        try await client.withConnection { connection in
            try await update.run(on: connection, logger: logger, id: id, accountID: accountID)
        }
    }

    /// Deletes the participation unless it has phone calls (422).
    public func delete(accountID: Int64, id: Int64) async throws {
        try await DependentRecords.delete(
            client, logger: logger, table: "callout_participations", id: id, accountID: accountID,
            dependents: [.init(table: "phone_calls", column: "callout_participation_id", name: "phone calls")])
    }
}
