import Foundation
import Logging
import PostgresNIO

/// A running callout whose lease this scheduler holds, with the policy it runs under.
public struct AutopilotCallout: Sendable, Equatable {
    public let id: Int64
    public let accountID: Int64
    public let policy: AutopilotPolicy
    public let finishedAt: Date?

    public init(id: Int64, accountID: Int64, policy: AutopilotPolicy, finishedAt: Date? = nil) {
        self.id = id
        self.accountID = accountID
        self.policy = policy
        self.finishedAt = finishedAt
    }
}

/// The per-callout leases that let several scheduler replicas run side by side: a running callout with the
/// autopilot enabled is driven by the one replica whose lease on it is current. Leases are renewed every tick
/// and taken over once they ran out, so a dead replica's callouts move on within `ttl`.
public struct AutopilotLeases: Sendable {
    let client: PostgresClient
    let logger: Logger
    public let owner: UUID
    let ttl: Duration
    let defaults: AutopilotPolicy

    public init(
        client: PostgresClient, logger: Logger, owner: UUID = UUID(), ttl: Duration = .seconds(10), defaults: AutopilotPolicy = AutopilotPolicy()
    ) {
        self.client = client
        self.logger = logger
        self.owner = owner
        self.ttl = ttl
        self.defaults = defaults
    }

    /// Takes or renews the lease of every running autopilot callout that no other live replica holds, and
    /// answers those callouts. A callout whose settings no longer parse is skipped (and logged), not fatal.
    public func acquire() async throws -> [AutopilotCallout] {
        let rows = try await client.query(
            """
            WITH enabled AS (
                SELECT c.id FROM callouts c JOIN accounts a ON a.id = c.account_id
                WHERE c.status = 'running'
                  AND coalesce(c.settings #> '{autopilot,enabled}', a.settings #> '{autopilot,enabled}') = 'true'::jsonb
            ), taken AS (
                INSERT INTO autopilot_leases (callout_id, owner, expires_at)
                SELECT id, \(owner), clock_timestamp() + make_interval(secs => \(ttl.seconds)) FROM enabled
                ON CONFLICT (callout_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE autopilot_leases.owner = excluded.owner OR autopilot_leases.expires_at < clock_timestamp()
                RETURNING callout_id
            )
            SELECT c.id, c.account_id, a.settings, c.settings, c.autopilot_finished_at
            FROM callouts c JOIN accounts a ON a.id = c.account_id
            WHERE c.id IN (SELECT callout_id FROM taken)
            ORDER BY c.id
            """, logger: logger)
        var callouts: [AutopilotCallout] = []
        for try await (id, accountID, accountSettings, calloutSettings, finishedAt) in rows.decode((Int64, Int64, JSONValue, JSONValue, Date?).self) {
            do {
                let policy = try AutopilotPolicy.parse(account: accountSettings, callout: calloutSettings, defaults: defaults)
                callouts.append(AutopilotCallout(id: id, accountID: accountID, policy: policy, finishedAt: finishedAt))
            } catch {
                logger.error("autopilot settings are invalid; callout skipped", metadata: ["callout_id": "\(id)", "errors": "\(error.json)"])
            }
        }
        return callouts
    }

    /// Gives this replica's leases up (on shutdown), so another replica takes its callouts at its next tick.
    public func releaseAll() async throws {
        try await client.query("DELETE FROM autopilot_leases WHERE owner = \(owner)", logger: logger)
    }
}
