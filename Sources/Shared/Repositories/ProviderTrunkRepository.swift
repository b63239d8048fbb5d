import Logging
import PostgresNIO

/// A provider limit several accounts share (`provider_trunks`), managed by operators (`API trunks …`).
public struct ProviderTrunk: Sendable, Equatable {
    public let name: String
    public let maxCallsPerSecond: Double
    /// Calls per second at most to numbers starting with each prefix (digits after '+').
    public let prefixCaps: [String: Double]

    public var json: JSONValue {
        var caps = JSONObject()
        for (prefix, cap) in prefixCaps.sorted(by: { $0.key < $1.key }) { caps[prefix] = .number(cap) }
        return ["name": .string(name), "max_calls_per_second": .number(maxCallsPerSecond), "prefix_caps": .object(caps)]
    }
}

public struct ProviderTrunkRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates the trunk or changes its limits.
    @discardableResult
    public func set(name: String, maxCallsPerSecond: Double, prefixCaps: [String: Double]) async throws -> ProviderTrunk {
        var caps = JSONObject()
        for (prefix, cap) in prefixCaps { caps[prefix] = .number(cap) }
        try await client.query(
            """
            INSERT INTO provider_trunks (name, max_calls_per_second, prefix_caps) VALUES (\(name), \(maxCallsPerSecond), \(JSONValue.object(caps)))
            ON CONFLICT (name) DO UPDATE SET
                max_calls_per_second = excluded.max_calls_per_second, prefix_caps = excluded.prefix_caps, updated_at = now()
            """, logger: logger)
        return ProviderTrunk(name: name, maxCallsPerSecond: maxCallsPerSecond, prefixCaps: prefixCaps)
    }

    public func all() async throws -> [ProviderTrunk] {
        var trunks: [ProviderTrunk] = []
        let rows = try await client.query("SELECT name, max_calls_per_second, prefix_caps FROM provider_trunks ORDER BY name", logger: logger)
        for try await (name, rate, caps) in rows.decode((String, Double, JSONValue).self) {
            var prefixCaps: [String: Double] = [:]
            for (prefix, value) in caps.objectValue ?? [:] { prefixCaps[prefix] = value.doubleValue }
            trunks.append(ProviderTrunk(name: name, maxCallsPerSecond: rate, prefixCaps: prefixCaps))
        }
        return trunks
    }

    /// Removes the trunk: its accounts dial at their own limits again (at the scheduler's next refresh).
    public func delete(name: String) async throws -> Bool {
        let rows = try await client.query("DELETE FROM provider_trunks WHERE name = \(name) RETURNING name", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
