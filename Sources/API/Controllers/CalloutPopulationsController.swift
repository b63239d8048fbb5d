import Hummingbird
import PostgresNIO
import Shared

/// The oldest API's `/api/callout_populations`, kept working as a view of CalloutPopulation batch
/// operations: `contact_filter_params` is the operation's `parameters[contact_filter_params]`.
struct CalloutPopulationsController {
    let operations: BatchOperationRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("callouts/:id/callout_populations", use: create)
        group.get("callouts/:id/callout_populations", use: indexOfCallout)
        group.get("callout_populations", use: index)
        group.get("callout_populations/:id", use: show)
        group.patch("callout_populations/:id", use: update)
        group.put("callout_populations/:id", use: update)
        group.delete("callout_populations/:id", use: delete)
        EventRoute.add(
            to: group, path: "callout_populations/:id/callout_population_events", event: BatchOperationEvent.self,
            find: { [self] in try await population(accountID: $0, id: $1).calloutPopulationJSON },
            apply: { [self, operations] event, accountID, id in
                _ = try await population(accountID: accountID, id: id)
                let operation = try await operations.apply(event, accountID: accountID, id: id)
                return (operation.calloutPopulationJSON, "/api/callout_populations/\(operation.id)")
            })
        group.get("callout_populations/:id/preview/contacts") { request, context in
            try await records(request, context: context, kind: .contacts, preview: true)
        }
        group.get("callout_populations/:id/contacts") { request, context in
            try await records(request, context: context, kind: .contacts, preview: false)
        }
        group.get("callout_populations/:id/callout_participations") { request, context in
            try await records(request, context: context, kind: .calloutParticipations, preview: false)
        }
    }

    static func changes(_ parameters: RequestParameters) throws -> BatchOperationChanges {
        var changes = BatchOperationChanges()
        changes.type = BatchOperationType.calloutPopulation.rawValue
        if let contactFilter = try parameters.object("contact_filter_params") {
            changes.parameters = ["contact_filter_params": contactFilter]
        }
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        return changes
    }

    func population(_ context: APIRequestContext) async throws -> BatchOperation {
        try await population(accountID: try context.requireAccount().id, id: try context.recordID())
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let operation = try await operations.create(
            accountID: account.id, calloutID: try context.recordID(), Self.changes(try await RequestParameters.parse(request)),
            validatePreview: false)
        return JSONResponse.created(
            operation.calloutPopulationJSON, location: Location.url(request, path: "/api/callout_populations/\(operation.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .callout) { .equalsInteger("b.callout_id", $0) })
    }

    /// Filters as the old API took them: top-level `metadata[…]` and `contact_filter_params[…]`.
    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        let query = try RequestParameters.query(request)
        var legacy = RecordFilter([.equals("b.type", BatchOperationType.calloutPopulation.rawValue)])
        legacy.append(try MetadataFilter.contained(query["metadata"], parameter: "metadata").map { .contains("b.metadata", $0) })
        if let contactFilter = try MetadataFilter.contained(query["contact_filter_params"], parameter: "contact_filter_params") {
            legacy.append(.contains("b.parameters", ["contact_filter_params": contactFilter]))
        }
        return try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in
                var filter = try RecordFilter.batchOperations(q)
                filter.conditions += legacy.conditions
                return filter
            },
            index: { try await operations.index(accountID: $0, filter: $1, page: $2) }, render: \.calloutPopulationJSON)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONResponse.make(.ok, try await population(context).calloutPopulationJSON)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let operation = try await population(context)
        var changes = try Self.changes(try await RequestParameters.parse(request))
        changes.type = nil
        try await operations.update(accountID: operation.accountID, id: operation.id, changes)
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let operation = try await population(context)
        try await operations.delete(accountID: operation.accountID, id: operation.id)
        return JSONResponse.noContent()
    }

    /// The population, 404 unless the batch operation is one.
    func population(accountID: Int64, id: Int64) async throws -> BatchOperation {
        let operation = try await operations.find(accountID: accountID, id: id)
        guard operation.type == .calloutPopulation else { throw RecordNotFound() }
        return operation
    }

    func records(_ request: Request, context: APIRequestContext, kind: BatchRecordKind, preview: Bool) async throws -> Response {
        try await BatchOperationsController.records(
            request, operation: try await population(context), kind: kind, preview: preview, operations: operations)
    }
}
