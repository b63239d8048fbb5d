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
        MemberRoutes.add(
            to: group, collection: "callouts",
            find: { [callouts] in try await callouts.find(accountID: $0, id: $1).json },
            update: { [callouts, self] in try await callouts.update(accountID: $0, id: $1, changes($2)) },
            delete: { [callouts] in try await callouts.delete(accountID: $0, id: $1) })
        EventRoute.add(
            to: group, path: "callouts/:id/callout_events", event: CalloutEvent.self,
            find: { [callouts] in try await callouts.find(accountID: $0, id: $1).json },
            apply: { [callouts] event, accountID, id in
                let callout = try await callouts.apply(event, accountID: accountID, id: id)
                return (callout.json, "/api/callouts/\(callout.id)")
            })
        group.get("callouts/:id/callout_statistics", use: statistics)
        group.get("callouts/:id/callout_progress", use: progress)
    }

    func changes(_ parameters: RequestParameters) throws -> CalloutChanges {
        var changes = CalloutChanges()
        changes.callFlowLogic = try parameters.callFlowLogic(settings.callFlowLogic)
        changes.audioURL = try parameters.nullableString("audio_url")
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        changes.settings = try parameters.object("settings")
        if let settings = changes.settings { try AutopilotPolicy.validate(settings: settings) }
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

    @Sendable func statistics(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let statistics = try await CalloutStatistics.compute(
            database, logger: context.logger, accountID: account.id, calloutID: try context.recordID(),
            retryStatuses: settings.retryStatuses)
        return JSONResponse.make(.ok, statistics.json)
    }

    @Sendable func progress(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let progress = try await CalloutProgress.compute(
            database, logger: context.logger, accountID: account.id, calloutID: try context.recordID())
        return JSONResponse.make(.ok, progress.json)
    }
}
