import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Authenticates with an access token given as the HTTP basic username with an empty password
/// (`curl -u $TOKEN:`), or as `Authorization: Bearer $TOKEN`. A missing, unknown, revoked or expired token is
/// 401; a read-only token (`scope` `read_only`) gets 403 for anything but GET and HEAD; a token over its
/// request rate (RequestRateLimiter) gets 429 before its request does any work.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let accounts: AccountRepository
    let cache: AuthenticatedAccounts
    let rateLimiter: RequestRateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.token(from: request.headers[.authorization]),
            let authenticated = try await cache.account(tokenDigest: AccessTokenSecret.digest(token), load: accounts.find(tokenDigest:))
        else { throw APIError.unauthorized }
        if let wait = rateLimiter.take(authenticated.tokenID) { throw RateLimited(retryAfter: wait) }
        if authenticated.scope == .readOnly, request.method != .get, request.method != .head {
            throw APIError(status: .forbidden, message: "this access token is read-only")
        }
        let account = authenticated.account
        var context = context
        context.account = account
        context.logger[metadataKey: "account_id"] = "\(account.id)"
        return try await next(request, context)
    }

    static func token(from authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let credentials = parts[1].trimmingWhitespace()
        switch scheme {
        case "bearer":
            return credentials.isEmpty ? nil : String(credentials)
        case "basic":
            guard let data = Data(base64Encoded: String(credentials)) else { return nil }
            let decoded = String(decoding: data, as: UTF8.self)
            let username = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return username.isEmpty ? nil : String(username)
        default:
            return nil
        }
    }
}
