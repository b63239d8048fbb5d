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
        group.get("phone_calls/:id", use: show)
        group.patch("phone_calls/:id", use: update)
        group.put("phone_calls/:id", use: update)
        group.delete("phone_calls/:id", use: delete)
        group.post("phone_calls/:id/phone_call_events", use: event)
    }

    func changes(_ parameters: RequestParameters) throws -> PhoneCallChanges {
        var changes = PhoneCallChanges()
        if parameters.has("remote_request_params") {
            changes.remoteRequestParams = try parameters.object("remote_request_params") ?? .emptyObject
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

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return JSONResponse.make(.ok, try await phoneCalls.find(accountID: account.id, id: try context.recordID()).json)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        try await phoneCalls.update(accountID: account.id, id: id, changes(try await RequestParameters.parse(request)))
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        try await phoneCalls.delete(accountID: account.id, id: try context.recordID())
        return JSONResponse.noContent()
    }

    /// `event=queue|queue_remote_fetch`: 201 with the phone call; the job reaches the workers through the
    /// outbox. 422 when the event is unknown or not allowed from the call's status.
    @Sendable func event(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        let parameters = try await RequestParameters.parse(request)
        guard let event = try parameters.string("event").flatMap(PhoneCallEvent.init(rawValue:)) else {
            _ = try await phoneCalls.find(accountID: account.id, id: id)
            throw ValidationErrors("event", ValidationErrors.notIncluded)
        }
        let call = try await phoneCalls.apply(event, accountID: account.id, id: id)
        return JSONResponse.created(call.json, location: Location.url(request, path: "/api/phone_calls/\(call.id)"))
    }
}
