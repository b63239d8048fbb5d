import HTTPTypes
import Hummingbird
import PostgresNIO
import Shared

/// `/api/contacts`, scoped to the caller's account.
struct ContactsController {
    let contacts: ContactRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("contacts", use: create)
        group.get("contacts", use: index)
        MemberRoutes.add(
            to: group, collection: "contacts",
            find: { [contacts] in try await contacts.find(accountID: $0, id: $1).json },
            update: { [contacts] accountID, id, parameters in
                let msisdn: String?? = parameters.has("msisdn") ? .some(try parameters.string("msisdn")) : .none
                try await contacts.update(
                    accountID: accountID, id: id, msisdn: msisdn, metadata: try parameters.object("metadata"),
                    mergeMode: try parameters.mergeMode())
            },
            delete: { [contacts] in try await contacts.delete(accountID: $0, id: $1) })
        group.get("callouts/:id/contacts", use: indexOfCallout)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let parameters = try await RequestParameters.parse(request)
        let contact = try await contacts.create(
            accountID: account.id, msisdn: try parameters.string("msisdn"), metadata: try parameters.object("metadata"))
        return JSONResponse.created(contact.json, location: Location.url(request, path: "/api/contacts/\(contact.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(request, context: context, scope: nil)
    }

    /// The contacts participating in a callout.
    @Sendable func indexOfCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await index(
            request, context: context,
            scope: .init(parent: .callout) {
                .inSubquery("c.id", "SELECT contact_id FROM callout_participations WHERE callout_id = ", $0)
            })
    }

    func index(_ request: Request, context: APIRequestContext, scope: IndexResponse.Scope?) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: scope, database: database,
            parseFilter: { q throws(FilterError) in try .contacts(q) },
            index: { try await contacts.index(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }
}
