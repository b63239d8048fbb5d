import Hummingbird
import PostgresNIO
import Shared

/// `/api/phone_calls`, created under `/api/callout_participations/:id/phone_calls`, listed under
/// participations, contacts and callouts, moved on by `phone_call_events`.
struct PhoneCallsController {
    let phoneCalls: PhoneCallRepository
    let database: PostgresClient
    let settings: APISettings

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("callout_participations/:id/phone_calls", use: create)
        group.get("callout_participations/:id/phone_calls", use: indexOfParticipation)
        group.get("contacts/:id/phone_calls", use: indexOfContact)
        group.get("callouts/:id/phone_calls", use: indexOfCallout)
        group.get("phone_calls", use: index)
        MemberRoutes.add(
            to: group, collection: "phone_calls",
            find: { [phoneCalls] in try await phoneCalls.find(accountID: $0, id: $1).json },
            update: { [phoneCalls, self] in try await phoneCalls.update(accountID: $0, id: $1, changes($2)) },
            delete: { [phoneCalls] in try await phoneCalls.delete(accountID: $0, id: $1) })
        // The job reaches the workers through the outbox.
        EventRoute.add(
            to: group, path: "phone_calls/:id/phone_call_events", event: PhoneCallEvent.self,
            find: { [phoneCalls] in try await phoneCalls.find(accountID: $0, id: $1).json },
            apply: { [phoneCalls] event, accountID, id in
                let call = try await phoneCalls.apply(event, accountID: accountID, id: id)
                return (call.json, "/api/phone_calls/\(call.id)")
            })
    }

    func changes(_ parameters: RequestParameters) throws -> PhoneCallChanges {
        var changes = PhoneCallChanges()
        if parameters.has("remote_request_params") {
            let given = try parameters.object("remote_request_params") ?? .emptyObject
            let unknown = RemoteRequestParams.unknownNames(given)
            if !unknown.isEmpty {
                throw ValidationErrors(
                    "remote_request_params",
                    "may not contain \(unknown.sorted().joined(separator: ", ")) (see the README's list of provider parameters)")
            }
            changes.remoteRequestParams = given
        }
        changes.callFlowLogic = try parameters.callFlowLogic(settings.callFlowLogic)
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        return changes
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let participationID = try context.recordID()
        let call = try await phoneCalls.create(
            accountID: account.id, calloutParticipationID: participationID, changes(try await RequestParameters.parse(request)))
        return JSONResponse.created(call.json, location: Location.url(request, path: "/api/phone_calls/\(call.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    @Sendable func indexOfParticipation(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(
            request, context: context,
            scope: .init(parent: .calloutParticipation) { .equalsInteger("pc.callout_participation_id", $0) })
    }

    @Sendable func indexOfContact(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .contact) { .equalsInteger("pc.contact_id", $0) })
    }

    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .callout) { .equalsInteger("pc.callout_id", $0) })
    }

    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in try .phoneCalls(q) },
            index: { try await phoneCalls.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }
}
