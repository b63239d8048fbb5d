import Logging
import PostgresNIO

/// The account's dial schedule row (`account_dial_schedules`), shared by every queue worker: leases of dial
/// slots, and the rate factor that provider 429s lower.
public struct DialSchedule: Sendable {
    /// What a lease returned, as epoch seconds of the database's clock.
    public struct Lease: Sendable {
        /// False when the schedule was booked beyond the horizon: no slots, come back at `retryAt`.
        public let granted: Bool
        public let start: Double
        public let spacing: Double
        public let count: Int
        /// The database's clock when it answered, to place the slots on the worker's clock.
        public let databaseNow: Double
        /// When booking will be open again (the booked end minus the horizon).
        public let retryAt: Double
        /// The account's rate factor after this lease (lowered by 429s, raised again by leases).
        public let rateFactor: Double
    }

    let client: PostgresClient
    let logger: Logger
    /// How far ahead of now the schedule may be booked: a worker does not take slots it would wait long for,
    /// so slots go to whichever worker has calls when they come up.
    let horizon: Duration

    public init(client: PostgresClient, logger: Logger, horizon: Duration = .milliseconds(100)) {
        self.client = client
        self.logger = logger
        self.horizon = horizon
    }

    /// Takes `count` consecutive slots at `rate` dials per second (or the account's share of its trunk when
    /// lower, see `TrunkShares`), less the `headroom` (see `DialRateLimiter`) and times the account's rate
    /// factor, unless the schedule is booked beyond the horizon. The headroom applies to the trunk share as to
    /// the account's own rate: shares that add up to the trunk's rate then keep every second under it.
    ///
    /// One statement: the upsert locks the account's row, so concurrent leases queue on it and never overlap.
    /// It also raises a lowered rate factor by a quarter, at most once a second, after five seconds without
    /// a 429.
    public func lease(accountID: Int64, count: Int, rate: Double, headroom: Double = 0) async throws -> Lease {
        let rows = try await client.query(
            """
            WITH clock AS (SELECT clock_timestamp() AS now)
            INSERT INTO account_dial_schedules AS s (account_id, next_slot_at, last_lease_started_at)
            SELECT \(accountID), now + make_interval(secs => \(Double(count)) / (\(rate) * \(1 - headroom))), now FROM clock
            ON CONFLICT (account_id) DO UPDATE SET
                last_lease_granted = s.next_slot_at < (SELECT now FROM clock) + make_interval(secs => \(horizon.seconds)),
                last_lease_started_at = CASE
                    WHEN s.next_slot_at < (SELECT now FROM clock) + make_interval(secs => \(horizon.seconds))
                    THEN greatest(s.next_slot_at, (SELECT now FROM clock)) ELSE s.last_lease_started_at END,
                next_slot_at = CASE
                    WHEN s.next_slot_at < (SELECT now FROM clock) + make_interval(secs => \(horizon.seconds))
                    THEN greatest(s.next_slot_at, (SELECT now FROM clock))
                         + make_interval(secs => \(Double(count)) / (least(\(rate), coalesce(s.trunk_share_rate, \(rate))) * \(1 - headroom) * s.rate_factor))
                    ELSE s.next_slot_at END,
                rate_factor = CASE
                    WHEN s.rate_factor < 1 AND s.rate_lowered_at < (SELECT now FROM clock) - interval '5 seconds'
                         AND s.rate_raised_at < (SELECT now FROM clock) - interval '1 second'
                    THEN least(1, s.rate_factor * 1.25) ELSE s.rate_factor END,
                rate_raised_at = CASE
                    WHEN s.rate_factor < 1 AND s.rate_lowered_at < (SELECT now FROM clock) - interval '5 seconds'
                         AND s.rate_raised_at < (SELECT now FROM clock) - interval '1 second'
                    THEN (SELECT now FROM clock) ELSE s.rate_raised_at END
            RETURNING last_lease_granted, extract(epoch FROM last_lease_started_at)::float8,
                      extract(epoch FROM next_slot_at)::float8, extract(epoch FROM clock_timestamp())::float8, rate_factor::float8
            """, logger: logger)
        let (granted, start, end, now, factor) = try await rows.single { try $0.decode((Bool, Double, Double, Double, Double).self) }
        return Lease(
            granted: granted, start: start, spacing: granted ? (end - start) / Double(count) : 0, count: granted ? count : 0,
            databaseNow: now, retryAt: end - horizon.seconds, rateFactor: factor)
    }

    /// The provider said 429 often enough: dial at 70 % of the current rate, at most one step a second,
    /// never below 5 % of the configured rate. Returns the new factor (nil when a step was taken within the
    /// last second already).
    @discardableResult
    public func lowerRate(accountID: Int64) async throws -> Double? {
        let rows = try await client.query(
            """
            UPDATE account_dial_schedules
            SET rate_factor = greatest(0.05, rate_factor * 0.7), rate_lowered_at = clock_timestamp(),
                throttled_total = throttled_total + 1
            WHERE account_id = \(accountID) AND rate_lowered_at < clock_timestamp() - interval '1 second'
            RETURNING rate_factor
            """, logger: logger)
        for try await factor in rows.decode(Double.self) { return factor }
        return nil
    }

    /// The database's clock, as epoch seconds.
    public func databaseNow() async throws -> Double {
        try await client.query("SELECT extract(epoch FROM clock_timestamp())::float8", logger: logger).single { try $0.decode(Double.self) }
    }

    /// The account's current rate factor (1 when it has no schedule yet).
    public func rateFactor(accountID: Int64) async throws -> Double {
        let rows = try await client.query(
            "SELECT rate_factor FROM account_dial_schedules WHERE account_id = \(accountID)", logger: logger)
        for try await factor in rows.decode(Double.self) { return factor }
        return 1
    }
}
