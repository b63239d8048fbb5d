import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// Accounts sharing one provider trunk: capacity by weight, and per-prefix caps.
@Suite(.serialized, .timeLimit(.minutes(10))) struct FairnessTests {
    @Test func sharesFollowWeightsCapsAndIdleMembers() {
        func member(_ id: Int64, weight: Double, own: Double = 1000, waiting: Bool = true) -> TrunkShares.Member {
            TrunkShares.Member(accountID: id, weight: weight, ownRate: own, waiting: waiting)
        }
        #expect(TrunkShares.allocate(rate: 40, members: [member(1, weight: 3), member(2, weight: 1)]) == [1: 30, 2: 10])
        // An account that cannot use its share (its own limit is lower) leaves the rest to the others.
        #expect(TrunkShares.allocate(rate: 40, members: [member(1, weight: 3, own: 20), member(2, weight: 1)]) == [1: 20, 2: 20])
        // An idle account does not take from the busy ones, and keeps what it would get by joining them.
        let shares = TrunkShares.allocate(rate: 40, members: [member(1, weight: 1), member(2, weight: 1), member(3, weight: 2, waiting: false)])
        #expect(shares[1] == 20 && shares[2] == 20 && shares[3] == 20)
        #expect(TrunkShares.allocate(rate: 10, members: [member(1, weight: 1, own: 2), member(2, weight: 1, own: 3)]) == [1: 2, 2: 3])
    }

    /// Two accounts on a 40 calls/s trunk, weights 3 and 1, both with more calls than the trunk can take: the
    /// scheduler gives them shares of 30 and 10 calls/s, both dial (`started`), and together they never exceed
    /// the trunk in any second of the clock once both are dialling (counted when each dial left its slot; the
    /// start, when both were idle and each had the whole trunk as its would-be share, is the transient
    /// `TrunkShares` documents, and CI once saw 41 in a second there before the headroom applied to shares).
    /// These are the invariants; how
    /// close the accounts come to their shares in an 8 s window is a figure of the machine's load (with make
    /// bench beside, one run saw the lighter account at 2.9/s, another the heavier at 0/s while the scheduler
    /// waited for the cores), recorded in the messages, not asserted.
    @Test func twoAccountsShareATrunkByWeight() async throws {
        var provider = FakeProviderSettings()
        provider.outcomes = [("completed", 100)]
        let harness = try await DispatchHarness.start(suite: "fairnessweights", provider: provider)
        defer { Task { await harness.stop() } }
        try await ProviderTrunkRepository(client: harness.database, logger: harness.logger).set(name: "telco", maxCallsPerSecond: 40, prefixCaps: [:])
        let seed = harness.autopilotSeed
        let autopilot: JSONObject = ["enabled": true, "remote_request_params": ["from": "1234", "url": "https://demo.twilio.com/docs/voice.xml"]]
        var heavy = autopilot
        heavy["weight"] = 3
        let first = try await seed.createAccount(rate: 100, autopilot: heavy, extra: ["trunk": "telco"])
        let second = try await seed.createAccount(rate: 100, autopilot: autopilot, extra: ["trunk": "telco"])
        _ = try await seed.createCallout(accountID: first, participants: 600, firstNumber: 85_570_000_000)
        _ = try await seed.createCallout(accountID: second, participants: 600, firstNumber: 85_571_000_000)

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let id = UUID().uuidString
        let services: [any Service] = [
            producer, try harness.outboxRelay(producer: producer), harness.scheduler(),
            try harness.queueWorker(group: "scfm-queue-\(id)", producer: producer),
            try harness.queueWorker(group: "scfm-queue-\(id)", producer: producer),
            try harness.statusWorker(group: "scfm-status-\(id)"),
        ]
        let window: (from: Date, to: Date, shares: [Int64: Double]) = try await running(services, logger: harness.logger) {
            // Past the start (consumers joining and rebalancing, the first shares computed): wait until both
            // accounts are dialling, rather than a fixed time that a loaded CI machine may not meet, and one
            // second more for the shares to settle; then eight seconds of steady dialling.
            let started = try await harness.wait(timeout: .seconds(30)) {
                try await harness.database.query(
                    """
                    SELECT count(DISTINCT account_id) FROM phone_calls
                    WHERE account_id IN (\(first), \(second)) AND remotely_queued_at IS NOT NULL
                    """, logger: harness.logger
                ).single { try $0.decode(Int64.self) } == 2
            }
            #expect(started, "both accounts dialling within 30 s")
            try await Task.sleep(for: .seconds(1))
            let from = Date()
            try await Task.sleep(for: .seconds(8))
            let to = Date()
            var shares: [Int64: Double] = [:]
            let rows = try await harness.database.query(
                "SELECT account_id, trunk_share_rate FROM account_dial_schedules WHERE account_id IN (\(first), \(second))",
                logger: harness.logger)
            for try await (account, share) in rows.decode((Int64, Double?).self) { shares[account] = share }
            return (from, to, shares)
        }
        func dialled(_ account: Int64) async throws -> Double {
            let count = try await harness.database.query(
                """
                SELECT count(*) FROM phone_calls
                WHERE account_id = \(account) AND remotely_queued_at BETWEEN \(window.from) AND \(window.to)
                """, logger: harness.logger
            ).single { try $0.decode(Int64.self) }
            return Double(count) / window.to.timeIntervalSince(window.from)
        }
        let (firstRate, secondRate) = (try await dialled(first), try await dialled(second))
        let figures = "rates \(firstRate)/s and \(secondRate)/s, shares \(window.shares)"
        #expect(abs((window.shares[first] ?? 0) - 30) < 0.5 && abs((window.shares[second] ?? 0) - 10) < 0.5, "shares by weight 3:1 of 40: \(figures)")
        let busiest = try await harness.database.query(
            """
            SELECT coalesce(max(n), 0) FROM (
                SELECT count(*) AS n FROM phone_calls
                WHERE account_id IN (\(first), \(second))
                  AND remotely_queued_at >= date_trunc('second', \(window.from)::timestamptz) + interval '1 second'
                  AND remotely_queued_at < date_trunc('second', \(window.to)::timestamptz)
                GROUP BY date_trunc('second', remotely_queued_at)) per_second
            """, logger: harness.logger
        ).single { try $0.decode(Int64.self) }
        #expect(busiest <= 40, "never above the trunk's 40 in a second of the clock while both dial: \(busiest); \(figures)")
    }

    /// A prefix capped at 5 calls/s on the trunk: its numbers are created no faster, the others at full speed.
    @Test func prefixCapsLimitOneNetwork() async throws {
        var provider = FakeProviderSettings()
        provider.outcomes = [("completed", 100)]
        let harness = try await DispatchHarness.start(suite: "fairnessprefix", provider: provider)
        defer { Task { await harness.stop() } }
        try await ProviderTrunkRepository(client: harness.database, logger: harness.logger).set(
            name: "regional", maxCallsPerSecond: 100, prefixCaps: ["85599": 5])
        let seed = harness.autopilotSeed
        let account = try await seed.createAccount(
            rate: 100, autopilot: ["enabled": true, "remote_request_params": ["from": "1234", "url": "https://demo.twilio.com/docs/voice.xml"]],
            extra: ["trunk": "regional"])
        let capped = try await seed.createCallout(accountID: account, participants: 100, firstNumber: 85_599_000_000)
        let free = try await seed.createCallout(accountID: account, participants: 100, firstNumber: 85_598_000_000)

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let id = UUID().uuidString
        let services: [any Service] = [
            producer, try harness.outboxRelay(producer: producer), harness.scheduler(),
            try harness.queueWorker(group: "scfm-queue-\(id)", producer: producer), try harness.statusWorker(group: "scfm-status-\(id)"),
        ]
        let started = Date()
        let elapsed = try await running(services, logger: harness.logger) {
            _ = try await harness.wait(timeout: .seconds(60)) {
                try await harness.database.query("SELECT count(*) = 100 FROM phone_calls WHERE callout_id = \(free)", logger: harness.logger)
                    .single { try $0.decode(Bool.self) }
            }
            try await Task.sleep(for: .seconds(2))
            return Date().timeIntervalSince(started)
        }
        func calls(_ callout: Int64) async throws -> Int64 {
            try await harness.database.query("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout)", logger: harness.logger)
                .single { try $0.decode(Int64.self) }
        }
        #expect(try await calls(free) == 100)
        let cappedCalls = try await calls(capped)
        // One second's worth to start with, then 5 per second.
        #expect(Double(cappedCalls) <= 5 + 5 * elapsed + 1, "\(cappedCalls) calls to the capped prefix in \(elapsed) s")
        // How close it comes to 5/s is the machine's figure; that it moves at all is the invariant.
        #expect(cappedCalls > 0, "the capped prefix still moves: \(cappedCalls) in \(elapsed) s")
    }
}
