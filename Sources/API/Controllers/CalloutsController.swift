import Hummingbird
import PostgresNIO
import Shared

/// `/api/callouts`, their events and statistics.
struct CalloutsController {
    let callouts: CalloutRepository
    let database: PostgresClient
    let settings: APISettings

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("callouts", use: create)
        group.get("callouts", use: index)
        group.get("callouts/:id", use: show)
        group.patch("callouts/:id", use: update)
        group.put("callouts/:id", use: update)
        group.delete("callouts/:id", use: delete)
        group.post("callouts/:id/callout_events", use: event)
        group.get("callouts/:id/callout_statistics", use: statistics)
    }

    func changes(_ parameters: RequestParameters) throws -> CalloutChanges {
        var changes = CalloutChanges()
        changes.callFlowLogic = try parameters.callFlowLogic(settings.callFlowLogic)
        changes.audioURL = try parameters.nullableString("audio_url")
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        changes.settings = try parameters.object("settings")
        return changes
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let callout = try await callouts.create(accountID: account.id, changes(try await RequestParameters.parse(request)))
        return JSONResponse.created(callout.json, location: Location.url(request, path: "/api/callouts/\(callout.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: nil, database: database, parseFilter: { q throws(FilterError) in try .callouts(q) },
            index: { try await callouts.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return JSONResponse.make(.ok, try await callouts.find(accountID: account.id, id: try context.recordID()).json)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        try await callouts.update(accountID: account.id, id: id, changes(try await RequestParameters.parse(request)))
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        try await callouts.delete(accountID: account.id, id: try context.recordID())
        return JSONResponse.noContent()
    }

    /// `event=start|pause|resume|stop`: 201 with the callout, 422 when the event is unknown or not allowed now.
    @Sendable func event(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        let parameters = try await RequestParameters.parse(request)
        guard let event = try parameters.string("event").flatMap(CalloutEvent.init(rawValue:)) else {
            _ = try await callouts.find(accountID: account.id, id: id)
            throw ValidationErrors("event", ValidationErrors.notIncluded)
        }
        let callout = try await callouts.apply(event, accountID: account.id, id: id)
        return JSONResponse.created(callout.json, location: Location.url(request, path: "/api/callouts/\(callout.id)"))
    }

    @Sendable func statistics(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let statistics = try await CalloutStatistics.compute(
            database, logger: context.logger, accountID: account.id, calloutID: try context.recordID(),
            retryStatuses: settings.retryStatuses)
        return JSONResponse.make(.ok, statistics.json)
    }
}
