import HTTPTypes
import Hummingbird
import Logging
import Shared

/// Turns every error into a JSON response in the SCFM format, so no request ever gets an HTML page or an
/// empty 500, and tags each response with its `X-Request-Id`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, context: context)
        }
        response.headers[.requestID] = context.id
        return response
    }

    static func response(for error: any Error, context: Context) -> Response {
        switch error {
        case let error as ValidationErrors:
            return JSONResponse.make(.unprocessableContent, error.json)
        case is RecordNotFound:
            return JSONResponse.make(.notFound, APIError.notFound.json)
        case let error as APIError:
            var headers: HTTPFields = [:]
            if error.status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"Application\"" }
            return JSONResponse.make(error.status, error.json, headers: headers)
        case let error as RateLimited:
            return JSONResponse.make(
                .tooManyRequests,
                APIError(status: .tooManyRequests, message: "this access token sent too many requests; retry after \(error.retryAfterSeconds) s")
                    .json,
                headers: [.retryAfter: String(error.retryAfterSeconds)])
        case let error as RequestDeadlineExceeded:
            return JSONResponse.make(
                .serviceUnavailable,
                APIError(status: .serviceUnavailable, message: "the request took longer than \(error.seconds) s and was stopped").json,
                headers: [.retryAfter: "1"])
        case let error as BusyRecord:
            return JSONResponse.make(
                .serviceUnavailable, APIError(status: .serviceUnavailable, message: error.reason).json,
                headers: [.retryAfter: "1"])
        case let error as FilterError:
            return JSONResponse.make(.badRequest, APIError.badRequest(error.description).json)
        case let error as HTTPError:
            return JSONResponse.make(error.status, APIError(status: error.status, message: error.body).json)
        case let error as any HTTPResponseError:
            return JSONResponse.make(error.status, APIError(status: error.status).json)
        default:
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return JSONResponse.make(.internalServerError, APIError(status: .internalServerError).json)
        }
    }
}
