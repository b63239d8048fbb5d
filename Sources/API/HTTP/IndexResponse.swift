import Hummingbird
import PostgresNIO
import Shared

/// The index of a resource, at its own path or nested under a parent (`/api/callouts/:id/phone_calls`):
/// the parent must exist in the caller's account (404 otherwise) and scopes the filter.
struct IndexResponse {
    /// How a nested route narrows the index: the parent's kind and the condition for its id.
    struct Scope {
        let parent: RecordScope
        let condition: @Sendable (Int64) -> FilterCondition
    }

    static func respond<Record: Sendable>(
        _ request: Request, context: APIRequestContext, scope: Scope?, database: PostgresClient,
        parseFilter: (JSONObject) throws(FilterError) -> RecordFilter,
        index: (Int64, RecordFilter, PageRequest) async throws -> Page<Record>,
        render: (Record) -> JSONValue
    ) async throws -> Response {
        let account = try context.requireAccount()
        var filter = try parseFilter(try filterParameters(request))
        if let scope {
            let parentID = try context.recordID()
            try await scope.parent.requireExists(database, logger: context.logger, id: parentID, accountID: account.id)
            filter.append(scope.condition(parentID))
        }
        let page = try await index(account.id, filter, Pagination.pageRequest(request))
        return Pagination.response(page, request: request, render: render)
    }

    /// The `q` hash of the query string (`q[metadata][gender]=f`).
    static func filterParameters(_ request: Request) throws -> JSONObject {
        let query = try RequestParameters.query(request)
        guard let q = query["q"] else { return JSONObject() }
        guard case .object(let object) = q else { throw APIError.badRequest("q must be a hash of filters") }
        return object
    }
}
