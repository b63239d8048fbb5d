import Logging
import PostgresNIO

public struct BatchOperationChanges: Sendable {
    public var type: String?
    public var parameters: JSONValue?
    public var metadata: JSONValue?
    public var metadataMergeMode: MetadataMergeMode = .merge

    public init() {}
}

/// The records a preview or a result lists.
public enum BatchRecordKind: String, Sendable, CaseIterable {
    case contacts
    case calloutParticipations = "callout_participations"
    case phoneCalls = "phone_calls"

    /// The listed resource's own `q` filter.
    public func filter(_ q: JSONObject) throws(FilterError) -> RecordFilter {
        switch self {
        case .contacts: try .contacts(q)
        case .calloutParticipations: try .calloutParticipations(q)
        case .phoneCalls: try .phoneCalls(q)
        }
    }
}

public struct BatchOperationRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let table = RecordTable<BatchOperation>(
        from: "batch_operations b", columns: BatchOperation.columns, accountColumn: "b.account_id", idColumn: "b.id",
        decode: BatchOperation.init(row:), countedTable: "batch_operations")

    /// At most `activeBatchOperations` queued or running per account.
    let limits: AccountLimits

    public init(client: PostgresClient, logger: Logger, limits: AccountLimits = AccountLimits()) {
        self.client = client
        self.logger = logger
        self.limits = limits
    }

    /// Validates the type and parameters (the selection must parse, and must select something unless
    /// `skip_validate_preview_presence`); a CalloutPopulation belongs to a callout.
    /// `validatePreview: false` for the legacy callout populations, which SCFM created without that check.
    public func create(
        accountID: Int64, calloutID: Int64?, _ changes: BatchOperationChanges, validatePreview: Bool = true
    ) async throws -> BatchOperation {
        guard let type = changes.type.flatMap(BatchOperationType.init(rawValue:)) else {
            throw ValidationErrors("type", ValidationErrors.notIncluded)
        }
        if let calloutID {
            try await RecordScope.callout.requireExists(client, logger: logger, id: calloutID, accountID: accountID)
        } else if type == .calloutPopulation {
            throw ValidationErrors("callout", ValidationErrors.mustExist)
        }
        let parameters = changes.parameters ?? .emptyObject
        let selection = try BatchSelection(type: type, calloutID: calloutID, parameters: parameters)
        if validatePreview && !selection.skipValidatePreviewPresence {
            let kind = Self.previewKinds(type).last!
            let found = try await Self.recordTable(kind)
                .anyMatch(client, logger: logger, accountID: accountID, filter: selection.previewFilter(kind))
            if !found { throw ValidationErrors("preview", ValidationErrors.blank) }
        }
        return try await client.query(
            """
            INSERT INTO batch_operations (account_id, callout_id, type, parameters, metadata)
            VALUES (\(accountID), \(calloutID), \(type.rawValue), \(parameters), \(changes.metadata ?? .emptyObject))
            RETURNING \(unescaped: BatchOperation.columns.text)
            """, logger: logger
        ).single(BatchOperation.init(row:))
    }

    public func find(accountID: Int64, id: Int64) async throws -> BatchOperation {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<BatchOperation> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    /// Metadata any time; parameters (replaced whole) only while in preview.
    public func update(accountID: Int64, id: Int64, _ changes: BatchOperationChanges) async throws {
        var update = UpdateStatement("batch_operations")
        if let parameters = changes.parameters {
            let operation = try await find(accountID: accountID, id: id)
            _ = try BatchSelection(type: operation.type, calloutID: operation.calloutID, parameters: parameters)
            update.set("parameters", parameters)
            update.requireStatus(BatchOperationStatus.preview.rawValue)
        }
        update.setMetadata("metadata", changes.metadata, mode: changes.metadataMergeMode)
        do {
            try await client.withConnection { connection in
                try await update.run(on: connection, logger: logger, id: id, accountID: accountID)
            }
        } catch is RecordNotFound {
            let operation = try await find(accountID: accountID, id: id)
            throw ValidationErrors("parameters", "can't be changed once the batch operation is \(operation.status)")
        }
    }

    /// Refused while queued or running, and while records it made refer to it.
    public func delete(accountID: Int64, id: Int64) async throws {
        try await DependentRecords.delete(
            client, logger: logger, table: "batch_operations", id: id, accountID: accountID,
            dependents: [
                .init(table: "callout_participations", column: "callout_population_id", name: "callout participations"),
                .init(table: "phone_calls", column: "create_batch_operation_id", name: "phone calls"),
                .init(table: "phone_calls", column: "queue_batch_operation_id", name: "phone calls"),
                .init(table: "phone_calls", column: "queue_remote_fetch_batch_operation_id", name: "phone calls"),
            ],
            extraCheck: { [logger] connection in
                let status = try await connection.query(
                    "SELECT status FROM batch_operations WHERE id = \(id)", logger: logger
                ).single { try $0.decode(String.self) }
                if status == BatchOperationStatus.queued.rawValue || status == BatchOperationStatus.running.rawValue {
                    throw ValidationErrors("base", "Cannot delete a batch operation while it is \(status)")
                }
            })
    }

    /// `queue` (preview → queued) or `requeue` (finished → queued, progress reset): a compare-and-set on the
    /// status and the job for the population workers, in one transaction; refused (422) while the account has
    /// `limits.activeBatchOperations` queued or running.
    public func apply(_ event: BatchOperationEvent, accountID: Int64, id: Int64) async throws -> BatchOperation {
        let limit = limits.activeBatchOperations
        let updated = try await client.transaction(logger: logger) { connection -> BatchOperation? in
            try await AccountLimits.check(
                limit, accountID: accountID, on: connection, logger: logger,
                error: "An account can have at most \(limit) batch operations queued or running",
                count: "SELECT count(*) FROM batch_operations WHERE account_id = \(accountID) AND status IN ('queued', 'running')")
            let operation = try await connection.query(
                """
                UPDATE batch_operations
                SET status = 'queued', progress_total = NULL, progress_done = 0, checkpoint = '{}', updated_at = now()
                WHERE id = \(id) AND account_id = \(accountID) AND status = \(event.from.rawValue)
                RETURNING \(unescaped: BatchOperation.columns.text)
                """, logger: logger
            ).first(BatchOperation.init(row:))
            guard let operation else { return nil }
            try await Outbox.enqueue(
                [BatchOperationJob(batchOperationID: id, accountID: accountID).outboxEntry], on: connection, logger: logger)
            return operation
        }
        if let updated { return updated }
        _ = try await find(accountID: accountID, id: id)
        throw ValidationErrors("event", ValidationErrors.notIncluded)
    }

    /// The previews each type has: what its run would touch.
    public static func previewKinds(_ type: BatchOperationType) -> [BatchRecordKind] {
        switch type {
        case .calloutPopulation: [.contacts]
        case .phoneCallCreate: [.contacts, .calloutParticipations]
        case .phoneCallQueue, .phoneCallQueueRemoteFetch: [.phoneCalls]
        }
    }

    /// The results each type has: what its runs created, queued or fetched.
    public static func resultKinds(_ type: BatchOperationType) -> [BatchRecordKind] {
        switch type {
        case .calloutPopulation: [.contacts, .calloutParticipations]
        case .phoneCallCreate, .phoneCallQueue, .phoneCallQueueRemoteFetch: [.phoneCalls]
        }
    }

    static func recordTable(_ kind: BatchRecordKind) -> any BatchRecordTable {
        switch kind {
        case .contacts: ContactRepository.table
        case .calloutParticipations: CalloutParticipationRepository.table
        case .phoneCalls: PhoneCallRepository.table
        }
    }

    /// A page of a preview (what a run of `operation` would touch) or of its results (what its runs
    /// touched), narrowed by `filter` on the listed records. 404 for a list the operation's type does not have.
    public func records(
        _ kind: BatchRecordKind, preview: Bool, of operation: BatchOperation, filter: RecordFilter, page: PageRequest
    ) async throws -> Page<JSONValue> {
        let kinds = preview ? Self.previewKinds(operation.type) : Self.resultKinds(operation.type)
        guard kinds.contains(kind) else { throw RecordNotFound() }
        var combined = filter
        if preview {
            let selection = try BatchSelection(type: operation.type, calloutID: operation.calloutID, parameters: operation.parameters)
            combined.conditions += selection.previewFilter(kind).conditions
        } else {
            combined.append(Self.resultCondition(kind, of: operation))
        }
        return try await Self.recordTable(kind)
            .indexJSON(client, logger: logger, accountID: operation.accountID, filter: combined, page: page)
    }

    /// The records an operation's runs made or moved: participations it populated (and their contacts), or
    /// the phone calls whose batch operation column of its type names it.
    static func resultCondition(_ kind: BatchRecordKind, of operation: BatchOperation) -> FilterCondition {
        switch kind {
        case .calloutParticipations:
            return .equalsInteger("p.callout_population_id", operation.id)
        case .contacts:
            return .inSubquery("c.id", "SELECT contact_id FROM callout_participations WHERE callout_population_id = ", operation.id)
        case .phoneCalls:
            // Only phone call operations list phone calls (resultKinds); the column is unambiguous in the
            // single-table index query.
            return .equalsInteger(operation.type.phoneCallColumn!, operation.id)
        }
    }
}

extension BatchSelection {
    /// The selection as a filter of the previewed records: the source itself, or the contacts of the
    /// selected participations.
    func previewFilter(_ kind: BatchRecordKind) -> RecordFilter {
        switch (source, kind) {
        case (.calloutParticipations, .contacts):
            RecordFilter([.nested("c.id IN (SELECT p.contact_id FROM callout_participations p WHERE true", filter, ")")])
        default:
            filter
        }
    }
}

/// Any resource's index, rendered to JSON, so previews and results can list contacts, participations or
/// phone calls through one path.
protocol BatchRecordTable: Sendable {
    func indexJSON(
        _ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter, page: PageRequest
    ) async throws -> Page<JSONValue>

    func anyMatch(_ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter) async throws -> Bool
}

/// A record with its API representation.
protocol JSONRenderable: Sendable {
    var json: JSONValue { get }
}

extension Contact: JSONRenderable {}
extension CalloutParticipation: JSONRenderable {}
extension PhoneCall: JSONRenderable {}

extension RecordTable: BatchRecordTable where Record: JSONRenderable {
    func indexJSON(
        _ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter, page: PageRequest
    ) async throws -> Page<JSONValue> {
        let records = try await index(client, logger: logger, accountID: accountID, filter: filter, page: page)
        return Page(records: records.records.map(\.json), total: records.total, pageRequest: records.pageRequest)
    }
}
