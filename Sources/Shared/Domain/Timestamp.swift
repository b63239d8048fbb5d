import Foundation

/// Timestamps as the SCFM API writes them: UTC, millisecond precision, `2017-11-23T05:22:07.519Z`.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(totalMilliseconds.floorDivided(by: 1000))
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension JSONValue {
    public static func timestamp(_ date: Date) -> JSONValue { .string(Timestamp.iso8601(date)) }
    public static func timestamp(_ date: Date?) -> JSONValue { date.map { .timestamp($0) } ?? .null }
    public static func optional(_ string: String?) -> JSONValue { string.map { .string($0) } ?? .null }
    public static func optional(_ integer: Int64?) -> JSONValue { integer.map { .integer($0) } ?? .null }
}
