/// `q[metadata][gender]=f&q[metadata][address][city]=Phnom+Penh`: every leaf must equal, ANDed, which is
/// jsonb containment (`metadata @> '{"gender":"f","address":{"city":"Phnom Penh"}}'`), served by the GIN
/// `jsonb_path_ops` index on the column.
public struct MetadataFilter: Sendable, Equatable {
    public let column: TrustedSQL
    public let contained: JSONValue

    public static func parse(_ value: JSONValue?, parameter: String, column: TrustedSQL) throws(FilterError) -> MetadataFilter? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let object) = value else {
            throw FilterError(parameter: parameter, reason: "must be a hash of keys and values")
        }
        guard !object.isEmpty else { return nil }
        return MetadataFilter(column: column, contained: .object(object))
    }

    public func appendCondition(to sql: inout SQLBuilder) {
        sql.append(" AND ")
        sql.append(trusted: column)
        sql.append(" @> ")
        sql.bind(contained)
    }
}
