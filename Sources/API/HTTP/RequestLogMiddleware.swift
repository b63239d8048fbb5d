import Hummingbird
import Logging

/// Logs each request's method and path, never its query string: queries carry phone numbers and other
/// personal data (`q[msisdn]=…`), and a log is read by more people than the database.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        context.logger.info(
            "Request", metadata: ["hb.request.path": .string(request.uri.path), "hb.request.method": .string(request.method.rawValue)])
        return try await next(request, context)
    }
}
