import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// `/api/access_tokens` (super admins only): `POST` with `account_sid` (optional `scope` read_write|read_only,
/// `expires_at`, `metadata`) creates a token for any account, shown in that one response only (the database
/// keeps its digest); `GET` lists every token masked (`q[account_id]` for one account) with `last_used_at`;
/// `GET /:id` shows one; `DELETE /:id` revokes it: at once in this process, within `API_TOKEN_CACHE_SECONDS`
/// in the others.
struct AccessTokensController {
    let accessTokens: AccessTokenRepository
    let authenticated: AuthenticatedAccounts

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("access_tokens", use: create)
        group.get("access_tokens", use: index)
        group.get("access_tokens/:id", use: show)
        group.delete("access_tokens/:id", use: revoke)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let admin = try context.requireSuperAdmin()
        let parameters = try await RequestParameters.parse(request)
        guard let accountText = try parameters.string("account_sid"), !accountText.isEmpty else {
            throw ValidationErrors("account", ValidationErrors.mustExist)
        }
        guard let accountID = Int64(accountText) else { throw ValidationErrors("account", ValidationErrors.mustExist) }
        var scope = AccessToken.Scope.readWrite
        if let text = try parameters.string("scope") {
            guard let given = AccessToken.Scope(rawValue: text) else {
                throw ValidationErrors("scope", "must be one of \(AccessToken.Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scope = given
        }
        var expiresAt: Date?
        if let text = try parameters.string("expires_at"), !text.isEmpty {
            guard case .instant(let date)? = TimestampFilter.parseValue(text) else {
                throw ValidationErrors("expires_at", "is not a valid time (ISO 8601, such as 2027-01-31T00:00:00Z)")
            }
            expiresAt = date
        }
        let (token, secret) = try await accessTokens.create(
            accountID: accountID, createdBy: admin.id, metadata: try parameters.object("metadata") ?? .emptyObject, scope: scope,
            expiresAt: expiresAt)
        return JSONResponse.created(
            token.json(token: secret), location: Location.url(request, path: "/api/access_tokens/\(token.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        let query = request.uri.queryParameters
        var accountID: Int64?
        if let text = query.get("q[account_id]") {
            guard let id = Int64(text) else { throw APIError.badRequest("q[account_id] must be an account id") }
            accountID = id
        }
        let tokens = try await accessTokens.index(accountID: accountID, page: Pagination.pageRequest(request))
        return Pagination.response(tokens, request: request) { $0.json }
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        return JSONResponse.make(.ok, try await accessTokens.find(id: try context.recordID()).json)
    }

    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        let digest = try await accessTokens.revoke(id: try context.recordID())
        authenticated.forget(tokenDigest: digest)
        return Response(status: .noContent)
    }
}
