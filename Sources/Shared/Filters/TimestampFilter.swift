import Foundation

/// `created_at_before`, `updated_at_or_after` and their kin. A value with a time compares as an instant; a
/// date alone compares as a whole (UTC) day, so `created_at_before=2017-11-29` excludes all of the 29th and
/// `created_at_or_before=2017-11-29` includes it.
public struct TimestampFilter: Sendable, Equatable {
    public enum Comparison: String, Sendable, CaseIterable {
        case before, after
        case orBefore = "or_before"
        case orAfter = "or_after"
    }

    public enum Value: Sendable, Equatable {
        case instant(Date)
        /// The UTC day starting at this instant.
        case day(Date)
    }

    public let column: TrustedSQL
    public let comparison: Comparison
    public let value: Value

    /// Reads every `<column>_<comparison>` key of `parameters` for the given columns. `prefix` names the hash
    /// the keys came in (`q`, `contact_filter_params`), for the error message.
    public static func parse(
        _ parameters: JSONObject, columns: [(name: String, sql: TrustedSQL)], prefix: String = "q"
    ) throws(FilterError) -> [TimestampFilter] {
        var filters: [TimestampFilter] = []
        for (name, sql) in columns {
            for comparison in Comparison.allCases {
                let key = "\(name)_\(comparison.rawValue)"
                guard let raw = parameters[key], !raw.isNull else { continue }
                guard let text = raw.scalarText, let value = parseValue(text) else {
                    throw FilterError(parameter: "\(prefix)[\(key)]", reason: "is not a valid date or time")
                }
                filters.append(TimestampFilter(column: sql, comparison: comparison, value: value))
            }
        }
        return filters
    }

    /// Appends `column <op> value`.
    func appendComparison(to sql: inout SQLBuilder) {
        sql.append(trusted: column)
        switch (comparison, value) {
        case (.before, .instant(let date)): sql.append(" < "); sql.bind(date)
        case (.after, .instant(let date)): sql.append(" > "); sql.bind(date)
        case (.orBefore, .instant(let date)): sql.append(" <= "); sql.bind(date)
        case (.orAfter, .instant(let date)): sql.append(" >= "); sql.bind(date)
        case (.before, .day(let start)): sql.append(" < "); sql.bind(start)
        case (.after, .day(let start)): sql.append(" >= "); sql.bind(start.addingTimeInterval(86_400))
        case (.orBefore, .day(let start)): sql.append(" < "); sql.bind(start.addingTimeInterval(86_400))
        case (.orAfter, .day(let start)): sql.append(" >= "); sql.bind(start)
        }
    }

    // 2017-11-29, 2017-11-29 01:36:02, 2017-11-29T01:36:02.123Z, 2017-11-29T01:36:02+07:00, … UTC
    nonisolated(unsafe) private static let pattern =
        /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?)?$/

    public static func parseValue(_ text: String) -> Value? {
        guard let match = text.trimmingWhitespace().wholeMatch(of: pattern) else { return nil }
        guard let year = Int(match.1), let month = Int(match.2), let day = Int(match.3),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var components = DateComponents(
            calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"),
            year: year, month: month, day: day)
        guard let hourText = match.4 else {
            guard components.isValidDate, let date = components.date else { return nil }
            return .day(date)
        }
        guard let hour = Int(hourText), let minute = match.5.flatMap({ Int($0) }), hour < 24, minute < 60 else {
            return nil
        }
        let second = match.6.flatMap { Int($0) } ?? 0
        guard second < 60 else { return nil }
        components.hour = hour
        components.minute = minute
        components.second = second
        guard components.isValidDate, var date = components.date else { return nil }
        if let fraction = match.7 {
            date.addTimeInterval(Double("0." + fraction) ?? 0)
        }
        if let zone = match.8, zone != "Z", zone != "UTC" {
            let sign: Double = zone.hasPrefix("-") ? -1 : 1
            let digits = zone.dropFirst().filter(\.isNumber)
            let hours = Double(digits.prefix(2)) ?? 0
            let minutes = Double(digits.dropFirst(2)) ?? 0
            date.addTimeInterval(-sign * (hours * 3600 + minutes * 60))
        }
        return .instant(date)
    }
}
