/// How an update's `metadata` combines with what is stored (`metadata_merge_mode`).
public enum MetadataMergeMode: String, Sendable, CaseIterable {
    /// Shallow: new top-level keys replace old ones, others stay (the default).
    case merge
    /// The new metadata replaces the old entirely.
    case replace
    /// Nested objects merge key by key (Ruby's `Hash#deep_merge`).
    case deepMerge = "deep_merge"

    /// Appends the SQL expression for `column` updated with `incoming`, evaluated in the UPDATE itself so
    /// concurrent updates of other keys are not lost.
    public func appendUpdatedValue(of column: TrustedSQL, with incoming: JSONValue, to sql: inout SQLBuilder) {
        switch self {
        case .replace:
            sql.bind(incoming)
        case .merge:
            sql.append(trusted: column)
            sql.append(" || ")
            sql.bind(incoming)
        case .deepMerge:
            sql.append("jsonb_deep_merge(")
            sql.append(trusted: column)
            sql.append(", ")
            sql.bind(incoming)
            sql.append(")")
        }
    }
}
