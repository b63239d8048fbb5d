import HTTPTypes
import Hummingbird
import Shared

/// The parameters of a request, as Rails sees them: the query string and the body merged (the body wins),
/// from `application/x-www-form-urlencoded` with bracket notation or from `application/json`.
struct RequestParameters: Sendable {
    let values: JSONObject

    /// Bodies are small JSON or form documents; anything larger is refused with 413.
    static let maximumBodySize = 1 << 20

    static func parse(_ request: Request) async throws -> RequestParameters {
        var values = try query(request)
        var request = request
        let body = try await request.collectBody(upTo: maximumBodySize)
        guard body.readableBytes > 0 else { return RequestParameters(values: values) }
        let bytes = Array(body.readableBytesView)
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let bodyValues: JSONObject
        if contentType.hasPrefix("application/json") || (contentType.isEmpty && bytes.first == UInt8(ascii: "{")) {
            do {
                guard case .object(let object) = try JSONParser.parse(bytes, maximumKeysPerObject: NestedQueryParser.maximumKeysPerObject) else {
                    throw APIError.badRequest("the JSON body must be an object")
                }
                bodyValues = object
            } catch let error as JSONParser.SyntaxError {
                throw APIError.badRequest("the JSON body is malformed: \(error)")
            }
        } else if contentType.isEmpty || contentType.hasPrefix("application/x-www-form-urlencoded") {
            bodyValues = try form(String(decoding: bytes, as: UTF8.self))
        } else {
            throw APIError(status: .unsupportedMediaType, message: "send application/x-www-form-urlencoded or application/json")
        }
        guard !JSONValue.object(bodyValues).containsNUL else { throw nulRefused }
        for (key, value) in bodyValues { values[key] = value }
        return RequestParameters(values: values)
    }

    static func query(_ request: Request) throws -> JSONObject {
        let values = try form(request.uri.query ?? "")
        guard !JSONValue.object(values).containsNUL else { throw nulRefused }
        return values
    }

    /// PostgreSQL stores no U+0000 in text or jsonb: refused up front rather than failing in the database.
    private static let nulRefused = APIError.badRequest("parameters may not contain the NUL character (\\u0000)")

    private static func form(_ text: String) throws -> JSONObject {
        do {
            return try NestedQueryParser.parse(text)
        } catch {
            throw APIError.badRequest(error.description)
        }
    }

    subscript(key: String) -> JSONValue? { values[key] }

    func has(_ key: String) -> Bool { values[key] != nil }

    /// A scalar parameter as text; nil when absent. An array or hash where a value belongs is a 422.
    func string(_ key: String) throws -> String? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let text = value.scalarText else { throw ValidationErrors(key, "is invalid") }
        return text
    }

    /// Present-or-absent for nullable attributes: `.some(nil)` when sent empty or null, to clear the value.
    func nullableString(_ key: String) throws -> String?? {
        guard let value = values[key] else { return nil }
        if value.isNull { return .some(nil) }
        guard let text = value.scalarText else { throw ValidationErrors(key, "is invalid") }
        return .some(text.isEmpty ? nil : text)
    }

    /// A JSON object parameter such as `metadata`; 422 when it is something else.
    func object(_ key: String) throws -> JSONValue? {
        guard let value = values[key], !value.isNull else { return nil }
        guard case .object = value else { throw ValidationErrors(key, "must be a hash") }
        return value
    }

    /// A boolean as JSON or form text (`true`/`false`, `1`/`0`); 422 for anything else.
    func boolean(_ key: String) throws -> Bool? {
        guard let value = values[key], !value.isNull else { return nil }
        if case .bool(let flag) = value { return flag }
        switch value.scalarText?.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ValidationErrors(key, "must be true or false")
        }
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let value = values[key] else { return nil }
        switch value {
        case .null: return []
        case .array(let items):
            return try items.compactMap { item in
                if item.isNull { return nil }
                guard let text = item.scalarText else { throw ValidationErrors(key, "is invalid") }
                return text.isEmpty ? nil : text
            }
        default:
            guard let text = value.scalarText else { throw ValidationErrors(key, "is invalid") }
            return text.isEmpty ? [] : [text]
        }
    }

    /// `call_flow_logic`, checked against the registry: `.some(nil)` clears it, nil leaves it.
    func callFlowLogic(_ registry: CallFlowLogicRegistry) throws -> String?? {
        guard let value = try nullableString("call_flow_logic") else { return nil }
        return .some(try registry.validate(value))
    }

    func integer(_ key: String) throws -> Int64? {
        guard let text = try string(key), !text.isEmpty else { return nil }
        guard let number = Int64(text) else { throw ValidationErrors(key, "is not a number") }
        return number
    }

    func mergeMode() throws -> MetadataMergeMode {
        guard let text = try string("metadata_merge_mode") else { return .merge }
        guard let mode = MetadataMergeMode(rawValue: text) else {
            throw ValidationErrors("metadata_merge_mode", ValidationErrors.notIncluded)
        }
        return mode
    }
}
