import PostgresNIO

/// Builds a `PostgresQuery` piece by piece for queries whose shape depends on the request (filters,
/// pagination). Every value goes through PostgresQuery's interpolation and is bound, never spliced into text;
/// only SQL written in this codebase is appended as literal text.
public struct SQLBuilder: Sendable {
    private var interpolation = PostgresQuery.StringInterpolation(literalCapacity: 256, interpolationCount: 8)

    public init() {}

    public init(_ sql: StaticString) {
        append(sql)
    }

    /// Appends SQL text. `StaticString` keeps request data out of it.
    public mutating func append(_ sql: StaticString) {
        interpolation.appendLiteral(sql.description)
    }

    /// Appends a fixed identifier chosen from this codebase's own list (a column of a filter table).
    public mutating func append(trusted sql: TrustedSQL) {
        interpolation.appendLiteral(sql.text)
    }

    public mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) {
        interpolation.appendInterpolation(value)
    }

    public mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) {
        interpolation.appendInterpolation(value)
    }

    public var query: PostgresQuery { PostgresQuery(stringInterpolation: interpolation) }
}

/// SQL text that is part of this codebase, such as a column name from a filter definition.
public struct TrustedSQL: Sendable, Hashable, ExpressibleByStringLiteral {
    public let text: String
    public init(stringLiteral value: StaticString) { text = value.description }
}
