import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Whether running campaigns dial (part of the `scheduler` role), for the alert that pages when one stops:
/// every `interval`, for each account with a running callout whose calls wait `queued`,
/// `scfm_dialling_idle_seconds{account_id}` is the time since the account last leased a dial slot, or since
/// the callout last changed status (started, resumed) if that is later. An account that dials at its rate stays
/// near 0 whatever its backlog; one whose calls wait while nothing dials (queue workers gone, jobs lost and not
/// yet sent again, the provider refusing every dial) grows by the second. Accounts no longer waiting are set
/// back to 0, so a finished campaign never leaves a stale figure.
///
/// Invariant: one statement a pass, bounded by the running callouts (each tested for a waiting call through
/// the `(callout_id, status)` index), never by the number of calls.
public final class DiallingWatch: Service, Sendable {
    let client: PostgresClient
    let interval: Duration
    let logger: Logger
    private let reported = Mutex<Set<Int64>>([])

    public init(client: PostgresClient, interval: Duration = .seconds(15), logger: Logger) {
        self.client = client
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: logger, failure: "dialling watch failed") {
            try await self.pass()
        }
    }

    /// One pass: records and returns each waiting account's idle seconds.
    @discardableResult
    public func pass() async throws -> [Int64: Double] {
        let rows = try await client.query(
            """
            SELECT c.account_id,
                   greatest(0, extract(epoch FROM now() - greatest(max(c.updated_at), s.last_lease_started_at)))::float8
            FROM callouts c
            LEFT JOIN account_dial_schedules s ON s.account_id = c.account_id
            WHERE c.status = 'running'
              AND EXISTS (SELECT 1 FROM phone_calls p WHERE p.callout_id = c.id AND p.status = 'queued')
            GROUP BY c.account_id, s.last_lease_started_at
            """, logger: logger)
        var idle: [Int64: Double] = [:]
        for try await (account, seconds) in rows.decode((Int64, Double).self) {
            idle[account] = seconds
        }
        let gone = reported.withLock { reported in
            let gone = reported.subtracting(idle.keys)
            reported = Set(idle.keys)
            return gone
        }
        for (account, seconds) in idle { Self.gauge(account).record(seconds) }
        for account in gone { Self.gauge(account).record(0) }
        return idle
    }

    static func gauge(_ account: Int64) -> Gauge {
        Gauge(label: "scfm_dialling_idle_seconds", dimensions: [("account_id", "\(account)")])
    }
}
