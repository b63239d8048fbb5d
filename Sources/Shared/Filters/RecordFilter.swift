/// The conditions of one index, preview or batch selection, as SQL over a table alias. Every resource's
/// filter parameters (`q[...]`, `contact_filter_params`, …) are parsed into one of these, so the index, the
/// batch-operation preview and the batch execution share one definition of each filter.
public struct RecordFilter: Sendable, Equatable {
    public var conditions: [FilterCondition] = []

    public init(_ conditions: [FilterCondition] = []) {
        self.conditions = conditions
    }

    public mutating func append(_ condition: FilterCondition) {
        conditions.append(condition)
    }

    /// Appends ` AND …` for every condition.
    public func appendConditions(to sql: inout SQLBuilder) {
        for condition in conditions { condition.append(to: &sql) }
    }
}

/// One condition. Column names are `TrustedSQL` from this codebase; every value is bound.
public indirect enum FilterCondition: Sendable, Equatable {
    case equals(TrustedSQL, String)
    case equalsInteger(TrustedSQL, Int64)
    case anyOf(TrustedSQL, [String])
    /// jsonb containment, served by the GIN `jsonb_path_ops` indexes.
    case contains(TrustedSQL, JSONValue)
    case timestamp(TimestampFilter)
    /// Fixed SQL with no value, such as `EXISTS (SELECT 1 FROM phone_calls … = p.id)`.
    case predicate(TrustedSQL)
    /// Fixed SQL around one bound text array: `prefix $1 suffix`.
    case predicateWithList(TrustedSQL, [String], TrustedSQL)
    /// `column IN (subquery $1)`: a scope through another table, such as the phone calls of a contact.
    case inSubquery(TrustedSQL, TrustedSQL, Int64)
    /// Another table's filter inside fixed SQL: `EXISTS (SELECT 1 FROM callouts co WHERE co.id = p.callout_id`
    /// + its conditions + `)`.
    case nested(TrustedSQL, RecordFilter, TrustedSQL)

    func append(to sql: inout SQLBuilder) {
        sql.append(" AND ")
        switch self {
        case .equals(let column, let value):
            sql.append(trusted: column)
            sql.append(" = ")
            sql.bind(value)
        case .equalsInteger(let column, let value):
            sql.append(trusted: column)
            sql.append(" = ")
            sql.bind(value)
        case .anyOf(let column, let values):
            sql.append(trusted: column)
            sql.append(" = ANY(")
            sql.bind(values)
            sql.append(")")
        case .contains(let column, let value):
            sql.append(trusted: column)
            sql.append(" @> ")
            sql.bind(value)
        case .timestamp(let filter):
            filter.appendComparison(to: &sql)
        case .predicate(let text):
            sql.append(trusted: text)
        case .predicateWithList(let prefix, let values, let suffix):
            sql.append(trusted: prefix)
            sql.bind(values)
            sql.append(trusted: suffix)
        case .inSubquery(let column, let subquery, let value):
            sql.append(trusted: column)
            sql.append(" IN (")
            sql.append(trusted: subquery)
            sql.bind(value)
            sql.append(")")
        case .nested(let prefix, let filter, let suffix):
            sql.append(trusted: prefix)
            filter.appendConditions(to: &sql)
            sql.append(trusted: suffix)
        }
    }
}
