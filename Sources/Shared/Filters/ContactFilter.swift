/// The contact filters of the REST API (`q[...]` on the index) and of CalloutPopulation's
/// `contact_filter_params`: one definition for index, preview and execution.
public struct ContactFilter: Sendable, Equatable {
    public var metadata: MetadataFilter?
    public var msisdn: String?
    public var timestamps: [TimestampFilter] = []

    public init() {}

    public init(parameters: JSONObject, prefix: String = "q") throws(FilterError) {
        metadata = try MetadataFilter.parse(parameters["metadata"], parameter: "\(prefix)[metadata]", column: "c.metadata")
        if let raw = parameters["msisdn"], !raw.isNull {
            guard let text = raw.scalarText else {
                throw FilterError(parameter: "\(prefix)[msisdn]", reason: "must be a phone number")
            }
            // Normalized as stored; a value that is no phone number can match nothing, so it is kept as given.
            msisdn = MSISDN(text)?.e164 ?? text
        }
        timestamps = try TimestampFilter.parse(
            parameters, columns: [("created_at", "c.created_at"), ("updated_at", "c.updated_at")], prefix: prefix)
    }

    /// Appends ` AND …` conditions on the alias `c` (contacts).
    public func appendConditions(to sql: inout SQLBuilder) {
        metadata?.appendCondition(to: &sql)
        if let msisdn {
            sql.append(" AND c.msisdn = ")
            sql.bind(msisdn)
        }
        for timestamp in timestamps { timestamp.appendCondition(to: &sql) }
    }
}
