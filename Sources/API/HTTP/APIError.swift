import HTTPTypes
import Hummingbird
import Shared

/// Errors with a fixed JSON body in the SCFM format: `{"status":404,"error":"Not Found"}`.
struct APIError: Error, Sendable {
    let status: HTTPResponse.Status
    var message: String?

    static let unauthorized = APIError(status: .unauthorized)
    static let forbidden = APIError(status: .forbidden)
    static let notFound = APIError(status: .notFound)

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }

    var json: JSONValue {
        var body: JSONObject = ["status": .integer(Int64(status.code)), "error": .string(status.reasonPhrase)]
        if let message { body["message"] = .string(message) }
        return .object(body)
    }
}
