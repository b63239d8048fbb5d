import Foundation

/// Reads configuration from environment variables, failing loudly on a value that is present but wrong.
public struct EnvironmentVariables: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public struct InvalidValue: Error, CustomStringConvertible {
        public let name: String
        public let value: String
        public let expected: String
        public var description: String { "environment variable \(name)=\(value) is invalid: expected \(expected)" }

        public init(name: String, value: String, expected: String) {
            self.name = name
            self.value = value
            self.expected = expected
        }
    }

    public subscript(name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default defaultValue: String) -> String {
        self[name] ?? defaultValue
    }

    public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = self[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw InvalidValue(name: name, value: text, expected: "an integer in \(range)")
        }
        return value
    }

    /// An integer in `range`, or nil when unset (an empty value counts as unset, as the seeds' `VAR=` examples).
    public func optionalInteger(_ name: String, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard self[name] != nil else { return nil }
        return try integer(name, default: 0, range: range)
    }

    /// A decimal number (`0.5`, `30`) in `range`.
    public func number(_ name: String, default defaultValue: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = self[name] else { return defaultValue }
        guard let value = Double(text), range.contains(value) else {
            throw InvalidValue(name: name, value: text, expected: "a number in \(range)")
        }
        return value
    }

    /// A duration in seconds, decimals allowed (`DIAL_CLAIM_TIMEOUT_SECONDS=2.5`).
    public func seconds(_ name: String, default defaultValue: Duration, range: ClosedRange<Double> = 0...86_400) throws -> Duration {
        guard self[name] != nil else { return defaultValue }
        return .milliseconds(Int64((try number(name, default: 0, range: range) * 1000).rounded()))
    }

    /// A comma-separated list (`a, b,c`); nil when unset. With `allowed`, an unknown item is an error.
    public func list(_ name: String, allowed: [String]? = nil) throws -> [String]? {
        guard let text = self[name] else { return nil }
        let items = text.split(separator: ",").map { String(String($0).trimmingWhitespace()) }.filter { !$0.isEmpty }
        if let allowed, let unknown = items.first(where: { !allowed.contains($0) }) {
            throw InvalidValue(name: name, value: unknown, expected: "items among \(allowed.joined(separator: ", "))")
        }
        return items
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    public func boolean(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let text = self[name] else { return defaultValue }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw InvalidValue(name: name, value: text, expected: "true or false")
        }
    }

    public func oneOf(_ name: String, _ allowed: [String], default defaultValue: String) throws -> String {
        guard let text = self[name] else { return defaultValue }
        guard allowed.contains(text) else {
            throw InvalidValue(name: name, value: text, expected: "one of \(allowed.joined(separator: ", "))")
        }
        return text
    }
}
