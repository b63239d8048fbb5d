import Hummingbird
import PostgresNIO
import Shared

/// `/api/remote_phone_call_events`: read and annotate the provider's requests, listed under phone calls,
/// participations, contacts and callouts.
struct RemotePhoneCallEventsController {
    let events: RemotePhoneCallEventRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("remote_phone_call_events", use: index)
        MemberRoutes.add(
            to: group, collection: "remote_phone_call_events",
            find: { [events] in try await events.find(accountID: $0, id: $1).json },
            update: { [events] accountID, id, parameters in
                try await events.update(
                    accountID: accountID, id: id, metadata: try parameters.object("metadata"), mode: try parameters.mergeMode())
            },
            delete: nil)
        group.get("phone_calls/:id/remote_phone_call_events", use: indexOfPhoneCall)
        group.get("callout_participations/:id/remote_phone_call_events", use: indexOfParticipation)
        group.get("contacts/:id/remote_phone_call_events", use: indexOfContact)
        group.get("callouts/:id/remote_phone_call_events", use: indexOfCallout)
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    @Sendable func indexOfPhoneCall(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: .init(parent: .phoneCall) { .equalsInteger("e.phone_call_id", $0) })
    }

    @Sendable func indexOfParticipation(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(
            request, context: context,
            scope: .init(parent: .calloutParticipation) {
                .inSubquery("e.phone_call_id", "SELECT id FROM phone_calls WHERE callout_participation_id = ", $0)
            })
    }

    @Sendable func indexOfContact(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(
            request, context: context,
            scope: .init(parent: .contact) { .inSubquery("e.phone_call_id", "SELECT id FROM phone_calls WHERE contact_id = ", $0) })
    }

    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(
            request, context: context,
            scope: .init(parent: .callout) { .inSubquery("e.phone_call_id", "SELECT id FROM phone_calls WHERE callout_id = ", $0) })
    }

    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in try .remotePhoneCallEvents(q) },
            index: { try await events.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }
}
