import HTTPTypes
import Hummingbird
import Shared

/// `/api/contacts`, scoped to the caller's account.
struct ContactsController {
    let contacts: ContactRepository

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("contacts", use: create)
        group.get("contacts", use: index)
        group.get("contacts/:id", use: show)
        group.patch("contacts/:id", use: update)
        group.put("contacts/:id", use: update)
        group.delete("contacts/:id", use: delete)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let parameters = try await RequestParameters.parse(request)
        let contact = try await contacts.create(
            accountID: account.id, msisdn: try parameters.string("msisdn"), metadata: try parameters.object("metadata"))
        return JSONResponse.created(contact.json, location: Location.url(request, path: "/api/contacts/\(contact.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let filter = try ContactFilter(parameters: Self.filterParameters(request))
        let page = try await contacts.index(accountID: account.id, filter: filter, page: Pagination.pageRequest(request))
        return Pagination.response(page, request: request) { $0.json }
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        return JSONResponse.make(.ok, try await contacts.find(accountID: account.id, id: try context.recordID()).json)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let id = try context.recordID()
        let parameters = try await RequestParameters.parse(request)
        let msisdn: String?? = parameters.has("msisdn") ? .some(try parameters.string("msisdn")) : .none
        try await contacts.update(
            accountID: account.id, id: id, msisdn: msisdn, metadata: try parameters.object("metadata"),
            mergeMode: try parameters.mergeMode())
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        try await contacts.delete(accountID: account.id, id: try context.recordID())
        return JSONResponse.noContent()
    }

    /// The `q` hash of the query string (`q[metadata][gender]=f`).
    static func filterParameters(_ request: Request) throws -> JSONObject {
        let query = try RequestParameters.query(request)
        guard let q = query["q"] else { return JSONObject() }
        guard case .object(let object) = q else { throw APIError.badRequest("q must be a hash of filters") }
        return object
    }
}
