/// `q[metadata][gender]=f&q[metadata][address][city]=Phnom+Penh`: every leaf must equal, ANDed, which is
/// jsonb containment (`metadata @> '{"gender":"f","address":{"city":"Phnom Penh"}}'`), served by the GIN
/// `jsonb_path_ops` index on the column.
public enum MetadataFilter {
    /// The hash a column must contain; nil when none was given. `parameter` names it in the error.
    public static func contained(_ value: JSONValue?, parameter: String) throws(FilterError) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let object) = value else {
            throw FilterError(parameter: parameter, reason: "must be a hash of keys and values")
        }
        return object.isEmpty ? nil : .object(object)
    }
}
