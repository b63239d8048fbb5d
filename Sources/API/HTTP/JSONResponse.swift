import HTTPTypes
import Hummingbird
import Shared

extension HTTPField.Name {
    static let perPage = Self("Per-Page")!
    static let total = Self("Total")!
    static let link = Self("Link")!
    static let requestID = Self("X-Request-Id")!
}

enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    static func make(_ status: HTTPResponse.Status = .ok, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        let buffer = ByteBuffer(bytes: JSONSerializer.bytes(body))
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    /// 201 with `Location` pointing at the new record.
    static func created(_ body: JSONValue, location: String) -> Response {
        make(.created, body, headers: [.location: location])
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }
}
