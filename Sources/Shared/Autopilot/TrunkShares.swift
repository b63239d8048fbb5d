import Foundation
import Logging
import PostgresNIO

/// Shares each provider trunk's calls-per-second among the accounts that dial through it (`settings.trunk`),
/// by weight (`settings.autopilot.weight`, default 1), every second (part of the `scheduler` role): an account
/// with calls waiting gets `trunk rate × its weight / the weights of the accounts with calls waiting`, never
/// more than its own limit, and what an account cannot use goes to the others (water-filling). An idle
/// account keeps the share it would get by joining, so its first calls are not held back. The queue workers
/// dial every account at the lower of its own limit and this share (`DialSchedule`).
///
/// Every scheduler replica may run it: the shares depend on the database alone, so replicas write the same.
public struct TrunkShares: Sendable {
    public struct Member: Sendable, Equatable {
        public let accountID: Int64
        public let weight: Double
        public let ownRate: Double
        public let waiting: Bool

        public init(accountID: Int64, weight: Double, ownRate: Double, waiting: Bool) {
            self.accountID = accountID
            self.weight = weight
            self.ownRate = ownRate
            self.waiting = waiting
        }
    }

    let client: PostgresClient
    let logger: Logger
    let defaults: ProviderDefaults

    public init(client: PostgresClient, logger: Logger, defaults: ProviderDefaults) {
        self.client = client
        self.logger = logger
        self.defaults = defaults
    }

    /// The rate of each member: water-filling by weight among the members with calls waiting, each capped by
    /// its own limit; an idle member gets what it would get if it joined them.
    public static func allocate(rate: Double, members: [Member]) -> [Int64: Double] {
        var shares: [Int64: Double] = [:]
        func fill(_ group: [Member], capacity: Double) -> [Int64: Double] {
            var result: [Int64: Double] = [:]
            var open = group
            var remaining = capacity
            while !open.isEmpty && remaining > 1e-9 {
                let totalWeight = open.reduce(0) { $0 + $1.weight }
                let capped = open.filter { remaining * $0.weight / totalWeight >= $0.ownRate }
                if capped.isEmpty {
                    for member in open { result[member.accountID] = remaining * member.weight / totalWeight }
                    return result
                }
                for member in capped {
                    result[member.accountID] = member.ownRate
                    remaining -= member.ownRate
                }
                open.removeAll { member in capped.contains { $0.accountID == member.accountID } }
            }
            for member in open { result[member.accountID] = 0 }
            return result
        }
        let waiting = members.filter(\.waiting)
        shares = fill(waiting, capacity: rate)
        for idle in members where !idle.waiting {
            shares[idle.accountID] = fill(waiting + [idle], capacity: rate)[idle.accountID]
        }
        // A share of zero would stop the account altogether; a trickle keeps it moving until the next refresh.
        return shares.mapValues { max($0, min(rate, 0.01)) }
    }

    /// Recomputes every trunk's shares and writes them to the accounts' dial schedules; clears the share of
    /// accounts no longer on a trunk. Returns the shares written.
    @discardableResult
    public func refresh() async throws -> [Int64: Double] {
        let rows = try await client.query(
            """
            SELECT t.name, t.max_calls_per_second, a.id, a.settings,
                   EXISTS (
                       SELECT 1 FROM phone_calls p
                       WHERE p.account_id = a.id AND p.status = 'queued'
                         AND \(unescaped: CalloutHold.notHeld.text)
                   )
            FROM provider_trunks t JOIN accounts a ON a.settings ->> 'trunk' = t.name
            ORDER BY t.name, a.id
            """, logger: logger)
        var trunks: [String: (rate: Double, members: [Member])] = [:]
        for try await (name, rate, accountID, settings, waiting) in rows.decode((String, Double, Int64, JSONValue, Bool).self) {
            let weight = settings["autopilot"]?["weight"]?.doubleValue ?? 1
            let ownRate = settings["max_calls_per_second"]?.doubleValue ?? defaults.maxCallsPerSecond
            trunks[name, default: (rate, [])].members.append(
                Member(accountID: accountID, weight: weight > 0 ? weight : 1, ownRate: ownRate, waiting: waiting))
        }
        var shares: [Int64: Double] = [:]
        for (_, trunk) in trunks { shares.merge(Self.allocate(rate: trunk.rate, members: trunk.members)) { $1 } }
        let accounts = Array(shares.keys)
        try await client.query(
            """
            WITH given AS (
                INSERT INTO account_dial_schedules AS s (account_id, next_slot_at, last_lease_started_at, trunk_share_rate)
                SELECT id, clock_timestamp(), clock_timestamp(), share FROM unnest(\(accounts), \(accounts.map { shares[$0]! })) AS u (id, share)
                ON CONFLICT (account_id) DO UPDATE SET trunk_share_rate = excluded.trunk_share_rate
                RETURNING account_id
            )
            UPDATE account_dial_schedules SET trunk_share_rate = NULL
            WHERE trunk_share_rate IS NOT NULL AND account_id NOT IN (SELECT account_id FROM given)
            """, logger: logger)
        return shares
    }
}
