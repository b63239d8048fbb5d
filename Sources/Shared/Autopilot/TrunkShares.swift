import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Shares each provider trunk's calls-per-second among the accounts that dial through it (`settings.trunk`),
/// by weight (`settings.autopilot.weight`, default 1), every second (part of the `scheduler` role): an account
/// with calls waiting gets `trunk rate × its weight / the weights of the accounts with calls waiting`, never
/// more than its own limit, and what an account cannot use goes to the others (water-filling). An idle
/// account keeps the share it would get by joining, so its first calls are not held back. The queue workers
/// dial every account at the lower of its own limit and this share, less their headroom (`DialSchedule`).
///
/// Invariants that keep the trunk's seconds under its rate while shares move:
/// - **Waiting has hysteresis**: an account counts as waiting while it has queued calls or has leased dial
///   slots in the last `activeFor` (5 s), so a callout whose next calls are still being created does not flap
///   between idle and waiting and swing the others' shares.
/// - **Falls before rises**: a lower share is written at once; a higher one only at a refresh at least
///   `riseDelay` after the refresh that first wanted it, by when every slot leased at the old shares (booked at
///   most the schedule's horizon plus one lease window ahead, 150 ms) has been used. So two accounts trading
///   shares never dial at the old high and the new high together.
/// - What is not covered: an idle account that starts dials at its would-be share at once, before the next
///   refresh lowers the others' (at most one refresh interval, 1 s). That is the price of a fast first call;
///   the provider's 429s are handled as everywhere (`DialRateLimiter`).
///
/// Every scheduler replica may run it: the shares depend on the database alone, so replicas write the same.
public final class TrunkShares: Sendable {
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
    let activeFor: Duration
    let riseDelay: Duration
    /// When this replica first wanted to raise each account's share (cleared once written or no longer wanted).
    private let risesWanted = Mutex<[Int64: ContinuousClock.Instant]>([:])

    public init(
        client: PostgresClient, logger: Logger, defaults: ProviderDefaults, activeFor: Duration = .seconds(5),
        riseDelay: Duration = .milliseconds(250)
    ) {
        self.client = client
        self.logger = logger
        self.defaults = defaults
        self.activeFor = activeFor
        self.riseDelay = riseDelay
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

    /// Recomputes every trunk's shares and writes them to the accounts' dial schedules (falls at once, rises
    /// once `riseDelay` has passed since first wanted); clears the share of accounts no longer on a trunk.
    /// Returns the shares computed.
    @discardableResult
    public func refresh() async throws -> [Int64: Double] {
        let rows = try await client.query(
            """
            SELECT t.name, t.max_calls_per_second, a.id, a.settings, s.trunk_share_rate,
                   coalesce(s.last_lease_started_at > clock_timestamp() - make_interval(secs => \(activeFor.seconds)), false)
                   OR EXISTS (
                       SELECT 1 FROM phone_calls p
                       WHERE p.account_id = a.id AND p.status = 'queued'
                         AND \(unescaped: CalloutHold.notHeld.text)
                   )
            FROM provider_trunks t JOIN accounts a ON a.settings ->> 'trunk' = t.name
            LEFT JOIN account_dial_schedules s ON s.account_id = a.id
            ORDER BY t.name, a.id
            """, logger: logger)
        var trunks: [String: (rate: Double, members: [Member])] = [:]
        var current: [Int64: Double] = [:]
        for try await (name, rate, accountID, settings, share, waiting) in rows.decode((String, Double, Int64, JSONValue, Double?, Bool).self) {
            let weight = settings["autopilot"]?["weight"]?.doubleValue ?? 1
            let ownRate = settings["max_calls_per_second"]?.doubleValue ?? defaults.maxCallsPerSecond
            trunks[name, default: (rate, [])].members.append(
                Member(accountID: accountID, weight: weight > 0 ? weight : 1, ownRate: ownRate, waiting: waiting))
            if let share { current[accountID] = share }
        }
        var shares: [Int64: Double] = [:]
        for (_, trunk) in trunks { shares.merge(Self.allocate(rate: trunk.rate, members: trunk.members)) { $1 } }
        let now = ContinuousClock.now
        let written = risesWanted.withLock { wanted in
            var written: [Int64: Double] = [:]
            for (account, share) in shares {
                guard let old = current[account], share > old + 1e-9 else {
                    wanted[account] = nil
                    written[account] = share
                    continue
                }
                let since = wanted[account] ?? now
                if now - since >= riseDelay {
                    wanted[account] = nil
                    written[account] = share
                } else {
                    wanted[account] = since
                    written[account] = old
                }
            }
            wanted = wanted.filter { shares[$0.key] != nil }
            return written
        }
        let accounts = Array(written.keys)
        try await client.query(
            """
            WITH given AS (
                INSERT INTO account_dial_schedules AS s (account_id, next_slot_at, last_lease_started_at, trunk_share_rate)
                SELECT id, clock_timestamp(), '-infinity', share FROM unnest(\(accounts), \(accounts.map { written[$0]! })) AS u (id, share)
                ON CONFLICT (account_id) DO UPDATE SET trunk_share_rate = excluded.trunk_share_rate
                RETURNING account_id
            )
            UPDATE account_dial_schedules SET trunk_share_rate = NULL
            WHERE trunk_share_rate IS NOT NULL AND account_id NOT IN (SELECT account_id FROM given)
            """, logger: logger)
        return shares
    }
}
