import HTTPTypes
import Hummingbird
import Shared

/// `POST /api/access_tokens` with `account_sid`: super admins create tokens for any account. The token is in
/// this one response only; the database keeps its digest.
struct AccessTokensController {
    let accessTokens: AccessTokenRepository

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("access_tokens", use: create)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let admin = try context.requireSuperAdmin()
        let parameters = try await RequestParameters.parse(request)
        guard let accountText = try parameters.string("account_sid"), !accountText.isEmpty else {
            throw ValidationErrors("account", ValidationErrors.mustExist)
        }
        guard let accountID = Int64(accountText) else { throw ValidationErrors("account", ValidationErrors.mustExist) }
        let (token, secret) = try await accessTokens.create(
            accountID: accountID, createdBy: admin.id, metadata: try parameters.object("metadata") ?? .emptyObject)
        return JSONResponse.created(
            token.json(token: secret), location: Location.url(request, path: "/api/access_tokens/\(token.id)"))
    }
}
