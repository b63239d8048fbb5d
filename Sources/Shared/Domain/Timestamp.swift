import Foundation

/// Timestamps as the SCFM API writes them: UTC, millisecond precision, `2017-11-23T05:22:07.519Z`.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        // Through whole microseconds (PostgreSQL's precision) so that binary fractions such as -0.001 s do not
        // truncate a millisecond too far.
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()).floorDivided(by: 1000)
        var seconds = time_t(totalMilliseconds.floorDivided(by: 1000))
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit: `String(format:)` cost a quarter of the API's CPU on an index of 25 records,
        // each with two timestamps.
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(Int(parts.tm_mon) + 1, at: 5, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(Int(parts.tm_mday), at: 8, digits: 2)
        bytes[10] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), at: 11, digits: 2)
        bytes[13] = UInt8(ascii: ":")
        put(Int(parts.tm_min), at: 14, digits: 2)
        bytes[16] = UInt8(ascii: ":")
        put(Int(parts.tm_sec), at: 17, digits: 2)
        bytes[19] = UInt8(ascii: ".")
        put(milliseconds, at: 20, digits: 3)
        bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
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
