/// Reads one hash of filter parameters (`q`, `contact_filter_params`, …) with errors that name the parameter
/// as the client sent it (`q[status]`).
public struct FilterParameters: Sendable {
    public let values: JSONObject
    public let prefix: String

    public init(_ values: JSONObject, prefix: String) {
        self.values = values
        self.prefix = prefix
    }

    func name(_ key: String) -> String { "\(prefix)[\(key)]" }

    func raw(_ key: String) -> JSONValue? {
        guard let value = values[key], !value.isNull else { return nil }
        if case .string(let text) = value, text.isEmpty { return nil }
        return value
    }

    public func text(_ key: String) throws(FilterError) -> String? {
        guard let value = raw(key) else { return nil }
        guard let text = value.scalarText else { throw FilterError(parameter: name(key), reason: "must be a single value") }
        return text
    }

    public func integer(_ key: String) throws(FilterError) -> Int64? {
        guard let text = try text(key) else { return nil }
        guard let number = Int64(text.trimmingWhitespace()) else {
            throw FilterError(parameter: name(key), reason: "must be a whole number")
        }
        return number
    }

    public func boolean(_ key: String) throws(FilterError) -> Bool? {
        guard let text = try text(key)?.lowercased() else { return nil }
        switch text {
        case "true", "1", "t", "yes": return true
        case "false", "0", "f", "no": return false
        default: throw FilterError(parameter: name(key), reason: "must be true or false")
        }
    }

    /// `a,b` or `key[]=a&key[]=b`, each value checked against `allowed` when given.
    public func list(_ key: String, allowed: [String]? = nil) throws(FilterError) -> [String]? {
        guard let value = raw(key) else { return nil }
        var items: [String] = []
        switch value {
        case .array(let elements):
            for element in elements {
                guard let text = element.scalarText else {
                    throw FilterError(parameter: name(key), reason: "must be a list of values")
                }
                items.append(text)
            }
        default:
            guard let text = value.scalarText else { throw FilterError(parameter: name(key), reason: "must be a list of values") }
            items = [text]
        }
        let values = items.flatMap { $0.split(separator: ",") }.map { String(String($0).trimmingWhitespace()) }.filter { !$0.isEmpty }
        if let allowed, let unknown = values.first(where: { !allowed.contains($0) }) {
            throw FilterError(
                parameter: name(key), reason: "has an unknown value \(unknown) (one of \(allowed.joined(separator: ", ")))")
        }
        return values.isEmpty ? nil : values
    }

    public func containment(_ key: String, column: TrustedSQL) throws(FilterError) -> FilterCondition? {
        try MetadataFilter.contained(values[key], parameter: name(key)).map { .contains(column, $0) }
    }

    public func timestamps(_ columns: [(name: String, sql: TrustedSQL)]) throws(FilterError) -> [FilterCondition] {
        try TimestampFilter.parse(values, columns: columns, prefix: prefix).map { .timestamp($0) }
    }

    /// A nested hash such as `q[callout_filter_params]`.
    public func nested(_ key: String) throws(FilterError) -> FilterParameters? {
        guard let value = raw(key) else { return nil }
        guard case .object(let object) = value else { throw FilterError(parameter: name(key), reason: "must be a hash of filters") }
        return FilterParameters(object, prefix: name(key))
    }
}

extension RecordFilter {
    public mutating func append(_ condition: FilterCondition?) {
        if let condition { conditions.append(condition) }
    }

    mutating func appendText(_ parameters: FilterParameters, _ key: String, column: TrustedSQL) throws(FilterError) {
        if let text = try parameters.text(key) { append(.equals(column, text)) }
    }

    mutating func appendInteger(_ parameters: FilterParameters, _ key: String, column: TrustedSQL) throws(FilterError) {
        if let number = try parameters.integer(key) { append(.equalsInteger(column, number)) }
    }

    mutating func appendList(
        _ parameters: FilterParameters, _ key: String, column: TrustedSQL, allowed: [String]? = nil
    ) throws(FilterError) {
        if let values = try parameters.list(key, allowed: allowed) { append(.anyOf(column, values)) }
    }

    /// `msisdn`, normalized as stored; a value that is no phone number can match nothing, so it is kept as given.
    mutating func appendMSISDN(_ parameters: FilterParameters, column: TrustedSQL) throws(FilterError) {
        if let text = try parameters.text("msisdn") { append(.equals(column, MSISDN(text)?.e164 ?? text)) }
    }

    mutating func appendCreatedAndUpdated(
        _ parameters: FilterParameters, created: TrustedSQL, updated: TrustedSQL
    ) throws(FilterError) {
        conditions += try parameters.timestamps([("created_at", created), ("updated_at", updated)])
    }
}
