import HTTPTypes
import Hummingbird
import PostgresNIO
import Shared

/// `/api/do_not_call_entries`: the numbers the caller's account must never call.
struct DoNotCallEntriesController {
    let entries: DoNotCallRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("do_not_call_entries", use: create)
        group.get("do_not_call_entries", use: index)
        MemberRoutes.add(
            to: group, collection: "do_not_call_entries",
            find: { [entries] in try await entries.find(accountID: $0, id: $1).json },
            update: { [entries] accountID, id, parameters in
                try await entries.update(
                    accountID: accountID, id: id, metadata: try parameters.object("metadata"), mergeMode: try parameters.mergeMode())
            },
            delete: { [entries] in try await entries.delete(accountID: $0, id: $1) })
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let parameters = try await RequestParameters.parse(request)
        let entry = try await entries.create(
            accountID: account.id, msisdn: try parameters.string("msisdn"), metadata: try parameters.object("metadata"))
        return JSONResponse.created(entry.json, location: Location.url(request, path: "/api/do_not_call_entries/\(entry.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: nil, database: database,
            parseFilter: { q throws(FilterError) in try .contacts(q) },
            index: { try await entries.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }
}
