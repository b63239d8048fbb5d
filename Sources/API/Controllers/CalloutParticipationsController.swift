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
        MemberRoutes.add(
            to: group, collection: "callout_participations",
            find: { [participations] in try await participations.find(accountID: $0, id: $1).json },
            update: { [participations, self] in try await participations.update(accountID: $0, id: $1, changes($2)) },
            delete: { [participations] in try await participations.delete(accountID: $0, id: $1) })
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
}
