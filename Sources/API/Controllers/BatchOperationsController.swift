import Hummingbird
import PostgresNIO
import Shared

/// `/api/batch_operations` (and under `/api/callouts/:id`): create, preview, queue, watch, see results.
struct BatchOperationsController {
    let operations: BatchOperationRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("batch_operations", use: create)
        group.post("callouts/:id/batch_operations", use: createInCallout)
        group.get("batch_operations", use: index)
        group.get("callouts/:id/batch_operations", use: indexOfCallout)
        MemberRoutes.add(
            to: group, collection: "batch_operations",
            find: { [operations] in try await operations.find(accountID: $0, id: $1).json },
            update: { [operations] in try await operations.update(accountID: $0, id: $1, Self.changes($2)) },
            delete: { [operations] in try await operations.delete(accountID: $0, id: $1) })
        EventRoute.add(
            to: group, path: "batch_operations/:id/batch_operation_events", event: BatchOperationEvent.self,
            find: { [operations] in try await operations.find(accountID: $0, id: $1).json },
            apply: { [operations] event, accountID, id in
                let operation = try await operations.apply(event, accountID: accountID, id: id)
                return (operation.json, "/api/batch_operations/\(operation.id)")
            })
        for kind in BatchRecordKind.allCases {
            for (prefix, preview) in [("preview/", true), ("", false)] {
                group.get("batch_operations/:id/\(prefix)\(kind.rawValue)") { [operations] request, context in
                    let operation = try await operations.find(accountID: try context.requireAccount().id, id: try context.recordID())
                    return try await Self.records(request, operation: operation, kind: kind, preview: preview, operations: operations)
                }
            }
        }
    }

    static func changes(_ parameters: RequestParameters) throws -> BatchOperationChanges {
        var changes = BatchOperationChanges()
        changes.type = try parameters.string("type")
        changes.parameters = try parameters.object("parameters")
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        return changes
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await create(request, context: context, calloutID: nil)
    }

    @Sendable func createInCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await create(request, context: context, calloutID: try context.recordID())
    }

    func create(_ request: Request, context: APIRequestContext, calloutID: Int64?) async throws -> Response {
        let account = try context.requireAccount()
        let parameters = try await RequestParameters.parse(request)
        var calloutID = calloutID
        if calloutID == nil { calloutID = try parameters.integer("callout_id") }
        let operation = try await operations.create(accountID: account.id, calloutID: calloutID, Self.changes(parameters))
        return JSONResponse.created(operation.json, location: Location.url(request, path: "/api/batch_operations/\(operation.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .callout) { .equalsInteger("b.callout_id", $0) })
    }

    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in try .batchOperations(q) },
            index: { try await operations.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }

    /// A preview (what a run would touch) or the results (what runs touched) of `operation`, filtered by `q`
    /// of the listed resource and paginated like every index.
    static func records(
        _ request: Request, operation: BatchOperation, kind: BatchRecordKind, preview: Bool,
        operations: BatchOperationRepository
    ) async throws -> Response {
        let filter = try kind.filter(try IndexResponse.filterParameters(request))
        let page = try await operations.records(
            kind, preview: preview, of: operation, filter: filter, page: Pagination.pageRequest(request))
        return Pagination.response(page, request: request) { $0 }
    }
}
