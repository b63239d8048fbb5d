import Hummingbird
import PostgresNIO
import Shared

/// `/api/callout_participations`, created under `/api/callouts/:id/callout_participations` and listed under
/// callouts and contacts.
struct CalloutParticipationsController {
    let participations: CalloutParticipationRepository
    let database: PostgresClient
    let settings: APISettings

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("callouts/:id/callout_participations", use: create)
        group.get("callouts/:id/callout_participations", use: indexOfCallout)
        group.get("contacts/:id/callout_participations", use: indexOfContact)
        group.get("callout_participations", use: index)
        group.get("callout_participations/:id", use: show)
        group.patch("callout_participations/:id", use: update)
        group.put("callout_participations/:id", use: update)
        group.delete("callout_participations/:id", use: delete)
    }

    func changes(_ parameters: RequestParameters) throws -> CalloutParticipationChanges {
        var changes = CalloutParticipationChanges()
        changes.contactID = try parameters.integer("contact_id")
        changes.msisdn = try parameters.string("msisdn")
        changes.callFlowLogic = try parameters.callFlowLogic(settings.callFlowLogic)
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        return changes
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let calloutID = try context.recordID()
        let participation = try await participations.create(
            accountID: account.id, calloutID: calloutID, changes(try await RequestParameters.parse(request)))
        return JSONResponse.created(
            participation.json, location: Location.url(request, path: "/api/callout_participations/\(participation.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .callout) { .equalsInteger("p.callout_id", $0) })
    }

    @Sendable func indexOfContact(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .contact) { .equalsInteger("p.contact_id", $0) })
    }

    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in try .calloutParticipations(q) },
            index: { try await participations.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return JSONResponse.make(.ok, try await participations.find(accountID: account.id, id: try context.recordID()).json)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        try await participations.update(accountID: account.id, id: id, changes(try await RequestParameters.parse(request)))
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        try await participations.delete(accountID: account.id, id: try context.recordID())
        return JSONResponse.noContent()
    }
}
