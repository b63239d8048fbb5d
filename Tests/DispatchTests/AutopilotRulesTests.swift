import FakeProvider
import Foundation
import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// Each autopilot rule on its own, one scheduler tick or sweep at a time against a real PostgreSQL. Serialized:
/// a scheduler drives every running autopilot callout of the database it holds a lease on.
@Suite(.serialized, .timeLimit(.minutes(10))) struct AutopilotRulesTests {
    let database: PostgresClient
    let logger = Logger(label: "scfm.tests.autopilot")
    var seed: AutopilotSeed { AutopilotSeed(client: database, logger: logger) }

    init() async throws {
        database = try await TestDatabases.shared.client(suite: "autopilotrules")
    }

    func scheduler(owner: UUID = UUID()) -> AutopilotScheduler {
        AutopilotScheduler(
            leases: AutopilotLeases(client: database, logger: logger, owner: owner, ttl: .seconds(5)),
            steps: AutopilotSteps(client: database, logger: logger, owner: owner),
            accounts: ProviderAccounts(client: database, defaults: ProviderDefaults(baseURL: "http://127.0.0.1:9"), secrets: nil, logger: logger),
            logger: logger)
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        Int(try await database.query(query, logger: logger).single { try $0.decode(Int64.self) })
    }

    /// Finishes the call under way of each of the callout's participations with the given statuses, in
    /// participation order.
    func finishCalls(callout: Int64, statuses: [String]) async throws {
        try await database.query(
            """
            UPDATE phone_calls c SET status = s.status, updated_at = now()
            FROM (SELECT l.id, row_number() OVER (ORDER BY l.callout_participation_id) AS n
                  FROM phone_calls l WHERE l.callout_id = \(callout) AND l.is_latest AND l.status = 'queued') a
            JOIN unnest(\(statuses)::text[]) WITH ORDINALITY s (status, n) ON s.n = a.n
            WHERE c.id = a.id
            """, logger: logger)
    }

    struct Participation: Equatable {
        let outcome: String?
        let attempts: Int
        let retryInSeconds: Double?
        let awaiting: Bool
    }

    func participations(callout: Int64) async throws -> [Participation] {
        let rows = try await database.query(
            """
            SELECT outcome, attempts, EXTRACT(epoch FROM next_attempt_at - clock_timestamp())::float8,
                   EXISTS (SELECT 1 FROM phone_calls l WHERE l.callout_participation_id = p.id AND l.is_latest AND l.status = 'queued')
            FROM callout_participations p WHERE callout_id = \(callout) ORDER BY id
            """, logger: logger)
        var result: [Participation] = []
        for try await (outcome, attempts, retry, awaiting) in rows.decode((String?, Int, Double?, Bool).self) {
            result.append(Participation(outcome: outcome, attempts: attempts, retryInSeconds: retry, awaiting: awaiting))
        }
        return result
    }

    /// completed → answered; a retry status with attempts left → another attempt after the delay for that
    /// attempt; a retry status on the last attempt → exhausted; a status not retried → exhausted; expired →
    /// expired; a call deleted before it was dialled → back to pending, no attempt counted.
    @Test func settlingAppliesEachRetryRule() async throws {
        let account = try await seed.createAccount(
            rate: 100,
            autopilot: ["enabled": true, "retry": ["statuses": ["busy", "not_answered"], "delays": ["60s", "600s"], "max_attempts": 2]])
        let callout = try await seed.createCallout(accountID: account, participants: 6)
        let scheduler = scheduler()
        try await scheduler.tick()
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout) AND status = 'queued'") == 6)
        #expect(try await count("SELECT count(*) FROM outbox_messages WHERE topic = 'phone-calls.queue'") >= 6)

        try await finishCalls(callout: callout, statuses: ["completed", "busy", "not_answered", "failed", "expired"])
        // The sixth call is deleted, as a client may delete a call that was not dialled yet.
        try await database.query(
            """
            DELETE FROM phone_calls WHERE id = (
                SELECT id FROM phone_calls WHERE callout_id = \(callout) ORDER BY callout_participation_id DESC LIMIT 1)
            """, logger: logger)
        var policy = AutopilotPolicy(retryStatuses: ["busy", "not_answered"])
        policy.enabled = true
        policy.maxAttempts = 2
        policy.retryDelays = [.seconds(60), .seconds(600)]
        // A full pass, as if the settle queue had lost its rows.
        try await database.query("DELETE FROM autopilot_settle_queue", logger: logger)
        let settled = try await AutopilotSteps(client: database, logger: logger, owner: UUID()).settle(
            AutopilotCallout(id: callout, accountID: account, policy: policy), full: true)
        #expect(settled.finished == 3 && settled.retrying == 2, "\(settled)")
        let after = try await participations(callout: callout)
        #expect(after[0] == Participation(outcome: "answered", attempts: 1, retryInSeconds: nil, awaiting: false))
        #expect(after[1].outcome == nil && after[1].attempts == 1 && (after[1].retryInSeconds ?? 0) > 55 && (after[1].retryInSeconds ?? 0) <= 60)
        #expect(after[2].outcome == nil && after[2].attempts == 1 && (after[2].retryInSeconds ?? 0) > 55)
        #expect(after[3] == Participation(outcome: "exhausted", attempts: 1, retryInSeconds: nil, awaiting: false))
        #expect(after[4] == Participation(outcome: "expired", attempts: 1, retryInSeconds: nil, awaiting: false))
        #expect(after[5] == Participation(outcome: nil, attempts: 0, retryInSeconds: nil, awaiting: false))

        // The next full pass (every 30 s; it also starts the work list over) calls the sixth again; the retries
        // wait for their time. Made due, they are called, and a second busy is the last attempt of two: exhausted.
        try await scheduler.tick(fullSettle: true)
        #expect(try await participations(callout: callout)[5].awaiting)
        #expect(!(try await participations(callout: callout)[1].awaiting))
        try await database.query(
            "UPDATE callout_participations SET next_attempt_at = now() - interval '1 second' WHERE callout_id = \(callout) AND next_attempt_at IS NOT NULL",
            logger: logger)
        try await scheduler.tick()
        try await finishCalls(callout: callout, statuses: ["busy", "completed", "completed"])
        try await scheduler.tick()
        let final = try await participations(callout: callout)
        #expect(final.map(\.outcome) == ["answered", "exhausted", "answered", "exhausted", "expired", "answered"])
        #expect(final.map(\.attempts) == [1, 2, 2, 1, 1, 1])
        #expect(try await seed.isFinished(calloutID: callout))
    }

    /// The delay list: the first retry waits the first delay, later ones the next, the last one repeating.
    @Test func retryDelaysFollowTheListAndRepeatItsLast() async throws {
        let account = try await seed.createAccount(
            rate: 100, autopilot: ["enabled": true, "retry": ["delays": ["10s", "20m"], "max_attempts": 5]])
        let callout = try await seed.createCallout(accountID: account, participants: 1, firstNumber: 85_520_000_000)
        let scheduler = scheduler()
        var waits: [Double] = []
        for _ in 1...3 {
            try await scheduler.tick()
            try await finishCalls(callout: callout, statuses: ["failed"])
            try await scheduler.tick()
            waits.append(try await participations(callout: callout)[0].retryInSeconds ?? -1)
            try await database.query(
                "UPDATE callout_participations SET next_attempt_at = now() WHERE callout_id = \(callout)", logger: logger)
        }
        #expect(waits.count == 3)
        #expect(abs(waits[0] - 10) < 3 && abs(waits[1] - 1200) < 3 && abs(waits[2] - 1200) < 3, "waits: \(waits)")
    }

    /// Numbers on the account's do-not-call list are never called: their participations finish as
    /// `do_not_call` and no phone call is made for them.
    @Test func doNotCallNumbersAreSkippedAndRecorded() async throws {
        let account = try await seed.createAccount(rate: 100, autopilot: ["enabled": true])
        let callout = try await seed.createCallout(accountID: account, participants: 20, firstNumber: 85_530_000_000)
        try await database.query(
            """
            INSERT INTO do_not_call_entries (account_id, msisdn)
            SELECT \(account), '+' || (85530000000 + n)::text FROM generate_series(1, 5) n
            """, logger: logger)
        try await scheduler().tick()
        #expect(try await seed.outcomes(calloutID: callout) == ["do_not_call": 5, "pending": 15])
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout)") == 15)
        #expect(
            try await count(
                """
                SELECT count(*) FROM phone_calls c JOIN do_not_call_entries d ON d.account_id = c.account_id AND d.msisdn = c.msisdn
                WHERE c.callout_id = \(callout)
                """) == 0)
    }

    /// Outside its calling hours a callout calls no one: each participation waits for the window's next opening
    /// in the contact's time zone. An urgent callout calls at once whatever the hours.
    @Test func callingHoursDeferCallsUnlessUrgent() async throws {
        // A one-hour window two hours from now, in the contacts' own time zone (metadata), so it is closed now.
        let zone = "Asia/Tokyo"
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let opening = calendar.dateInterval(of: .hour, for: Date().addingTimeInterval(7200))!.start
        let hour = calendar.component(.hour, from: opening)
        let hours: JSONValue = ["start": .string(String(format: "%02d:00", hour)), "end": .string(String(format: "%02d:00", (hour + 1) % 24))]
        let account = try await seed.createAccount(rate: 100, autopilot: ["enabled": true, "time_zone": "UTC"])
        let deferred = try await seed.createCallout(
            accountID: account, participants: 10, settings: ["autopilot": ["calling_hours": hours]],
            firstNumber: 85_540_000_000, contactMetadata: ["time_zone": .string(zone)])
        let urgent = try await seed.createCallout(
            accountID: account, participants: 10, settings: ["autopilot": ["calling_hours": hours, "urgent": true]],
            firstNumber: 85_541_000_000, contactMetadata: ["time_zone": .string(zone)])
        try await scheduler().tick()

        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(deferred)") == 0)
        let waits = try await participations(callout: deferred).compactMap(\.retryInSeconds)
        let expected = opening.timeIntervalSinceNow
        #expect(waits.count == 10 && waits.allSatisfy { abs($0 - expected) < 5 }, "each waits for \(expected) s: \(waits)")
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(urgent)") == 10)
    }

    /// The window is evaluated in local time, including windows that run past midnight and days of week that
    /// differ between UTC and the contact's zone.
    @Test(arguments: [
        // Weekdays 08:00–20:00 in Phnom Penh (UTC+7). Saturday 10:00 local → Monday 08:00 local.
        ("Asia/Phnom_Penh", [1, 2, 3, 4, 5], "08:00", "20:00", "2026-12-05T03:00:00Z", "2026-12-07T01:00:00Z"),
        // Wednesday 10:00 local: open now.
        ("Asia/Phnom_Penh", [1, 2, 3, 4, 5], "08:00", "20:00", "2026-12-02T03:00:00Z", "2026-12-02T03:00:00Z"),
        // Friday 20:00–06:00: Saturday 03:00 local is still Friday's window.
        ("Asia/Phnom_Penh", [5], "20:00", "06:00", "2026-12-04T20:00:00Z", "2026-12-04T20:00:00Z"),
        // Saturday 06:30 local: Friday's window closed; the next is Friday week.
        ("Asia/Phnom_Penh", [5], "20:00", "06:00", "2026-12-04T23:30:00Z", "2026-12-11T13:00:00Z"),
        // Thursday 23:00 UTC is already Friday 08:00 in Tokyo: a Friday-only window is open.
        ("Asia/Tokyo", [5], "08:00", "12:00", "2026-12-03T23:00:00Z", "2026-12-03T23:00:00Z"),
        // New York, Sunday 23:30 local → Monday 07:00 local, across the day boundary in UTC.
        ("America/New_York", [1], "07:00", "09:00", "2026-12-07T04:30:00Z", "2026-12-07T12:00:00Z"),
        // Daylight saving starts in New York on Sunday 8 March 2026 (02:00 EST → 03:00 EDT). Saturday 23:00 EST
        // → Sunday 08:00, which is EDT (UTC−4): 12:00Z, not 13:00Z.
        ("America/New_York", [7], "08:00", "20:00", "2026-03-08T04:00:00Z", "2026-03-08T12:00:00Z"),
        // A window opening at 02:30, a time that does not exist that night: it opens as the clocks jump, at
        // 03:30 EDT (02:30 read as standard time, 07:30Z).
        ("America/New_York", [7], "02:30", "05:00", "2026-03-08T06:00:00Z", "2026-03-08T07:30:00Z"),
        // Open 08:00–20:00 EDT on Saturday: 19:30 EDT (23:30Z) is still inside, whatever UTC's date says.
        ("America/New_York", [6], "08:00", "20:00", "2026-03-07T23:30:00Z", "2026-03-07T23:30:00Z"),
        // Summer time ends in London on Sunday 25 October 2026 (02:00 BST → 01:00 GMT): Saturday 21:00 BST
        // (20:00Z) → Sunday 08:00 GMT = 08:00Z (a day earlier it would have been 07:00Z).
        ("Europe/London", [1, 2, 3, 4, 5, 6, 7], "08:00", "20:00", "2026-10-24T20:00:00Z", "2026-10-25T08:00:00Z"),
        // The repeated hour: 01:30 happens twice; a window 01:00–03:00 is open at both 00:30Z (BST) and 01:30Z (GMT).
        ("Europe/London", [7], "01:00", "03:00", "2026-10-25T00:30:00Z", "2026-10-25T00:30:00Z"),
        ("Europe/London", [7], "01:00", "03:00", "2026-10-25T01:30:00Z", "2026-10-25T01:30:00Z"),
    ])
    func callingWindowInLocalTime(zone: String, days: [Int], opens: String, closes: String, at: String, expected: String) async throws {
        let result = try await database.query(
            "SELECT to_char(calling_window_opens_at(\(zone), \(days)::integer[], \(opens)::time, \(closes)::time, \(at)::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            logger: logger
        ).single { try $0.decode(String.self) }
        #expect(result == expected)
    }

    /// A contact's time zone: its metadata when valid, else its number's prefix, else the policy's default.
    @Test func participationTimeZoneFallsBack() async throws {
        let zones = try await database.query(
            """
            SELECT participation_time_zone('Europe/Paris', '+85512345678', 'UTC'),
                   participation_time_zone('Not/AZone', '+85512345678', 'UTC'),
                   participation_time_zone(NULL, '+12015550123', 'UTC'),
                   participation_time_zone(NULL, '+99912345', 'Asia/Tokyo')
            """, logger: logger
        ).single { try $0.decode((String, String, String, String).self) }
        #expect(zones.0 == "Europe/Paris" && zones.1 == "Asia/Phnom_Penh" && zones.2 == "America/New_York" && zones.3 == "Asia/Tokyo")
    }

    /// Two scheduler replicas: a callout is driven by one lease holder at a time, and a replica that stops
    /// renewing loses its callouts to the other once the lease ran out.
    @Test func leasesGiveEachCalloutOneSchedulerAtATime() async throws {
        let account = try await seed.createAccount(rate: 100, autopilot: ["enabled": true])
        let callout = try await seed.createCallout(accountID: account, participants: 1, firstNumber: 85_550_000_000)
        // A minute's lease, far longer than these round trips on a loaded machine; its running out is written
        // into the row below rather than waited for.
        let first = AutopilotLeases(client: database, logger: logger, ttl: .seconds(60))
        let second = AutopilotLeases(client: database, logger: logger, ttl: .seconds(60))
        #expect(try await first.acquire().contains { $0.id == callout })
        #expect(!(try await second.acquire().contains { $0.id == callout }))
        #expect(try await first.acquire().contains { $0.id == callout }, "renewed by its holder")
        #expect(!(try await second.acquire().contains { $0.id == callout }), "still held after the renewal")
        // The first replica stops renewing and its lease runs out.
        try await database.query(
            "UPDATE autopilot_leases SET expires_at = clock_timestamp() - interval '1 second' WHERE callout_id = \(callout)", logger: logger)
        #expect(try await second.acquire().contains { $0.id == callout }, "taken over once the lease ran out")
        #expect(!(try await first.acquire().contains { $0.id == callout }))
        try await second.releaseAll()
        #expect(try await first.acquire().contains { $0.id == callout }, "released on shutdown")
    }

    /// A callout that starts is driven at once (the scheduler LISTENs for starts), not at the next tick: with a
    /// tick of a minute, its calls are queued within a couple of seconds of the start.
    @Test func aStartedCalloutIsDrivenWithoutWaitingForTheTick() async throws {
        let account = try await seed.createAccount(rate: 100, autopilot: ["enabled": true])
        let callout = try await seed.createCallout(accountID: account, participants: 3, status: "initialized", firstNumber: 85_551_000_000)
        var settings = AutopilotScheduler.Settings()
        settings.tick = .seconds(60)
        let owner = UUID()
        let scheduler = AutopilotScheduler(
            leases: AutopilotLeases(client: database, logger: logger, owner: owner, ttl: .seconds(5)),
            steps: AutopilotSteps(client: database, logger: logger, owner: owner),
            accounts: ProviderAccounts(client: database, defaults: ProviderDefaults(baseURL: "http://127.0.0.1:9"), secrets: nil, logger: logger),
            settings: settings, logger: logger)
        let running = Task { try await scheduler.run() }
        defer { running.cancel() }
        // Once the scheduler's LISTEN is in place (its first tick follows at once), so that only the notification
        // can drive the callout: the next tick is a minute away.
        try await eventually("the scheduler's LISTEN in place", within: .seconds(30)) {
            try await count(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%callout_status_changes%'") == 1
        }
        try await Task.sleep(for: .milliseconds(200))
        try await database.query("UPDATE callouts SET status = 'running' WHERE id = \(callout)", logger: logger)
        let deadline = ContinuousClock.now + .seconds(10)
        var queued = 0
        while ContinuousClock.now < deadline {
            queued = try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout) AND status = 'queued'")
            if queued == 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(queued == 3)
        running.cancel()
        try await running.value
    }

    /// Each stuck state is settled by the sweeper: a call never claimed from the queue expires; a claim with no
    /// outcome gets its queue job again (the queue worker then looks the call up at the provider); a dialled
    /// call without news is fetched; one dialled too long ago expires. A paused callout's calls are left alone.
    @Test func stuckCallsAreFetchedRedeliveredOrExpired() async throws {
        let account = try await seed.createAccount(rate: 100, autopilot: ["enabled": false])
        let running = try await seed.createCallout(accountID: account, participants: 6, firstNumber: 85_560_000_000)
        let paused = try await seed.createCallout(accountID: account, participants: 1, status: "paused", firstNumber: 85_561_000_000)
        // One call per participation, in the states below, their last news an hour old.
        let states: [(status: String, claimed: Bool, remote: Bool, dialledHoursAgo: Double?)] = [
            ("queued", false, false, nil),  // never claimed
            ("queued", true, false, nil),  // claimed, no outcome
            ("remotely_queued", false, true, 1),  // no news
            ("in_progress", false, true, 1),  // no news
            ("remote_fetch_queued", false, true, 1),  // its fetch never came back
            ("in_progress", false, true, 30),  // dialled longer ago than the call may live
        ]
        for (index, state) in states.enumerated() {
            try await database.query(
                """
                INSERT INTO phone_calls (account_id, callout_participation_id, contact_id, callout_id, msisdn, status,
                                         dial_claimed_at, remote_call_id, remotely_queued_at, created_at, updated_at)
                SELECT account_id, id, contact_id, callout_id, msisdn, \(state.status),
                       CASE WHEN \(state.claimed) THEN now() - interval '1 hour' END,
                       CASE WHEN \(state.remote) THEN 'CA-stuck-' || id END,
                       now() - make_interval(secs => \((state.dialledHoursAgo ?? 0) * 3600)),
                       now() - interval '31 hours', now() - interval '1 hour'
                FROM callout_participations WHERE callout_id = \(running) ORDER BY id OFFSET \(index) LIMIT 1
                """, logger: logger)
        }
        try await database.query(
            """
            INSERT INTO phone_calls (account_id, callout_participation_id, contact_id, callout_id, msisdn, status, created_at, updated_at)
            SELECT account_id, id, contact_id, callout_id, msisdn, 'queued', now() - interval '31 hours', now() - interval '31 hours'
            FROM callout_participations WHERE callout_id = \(paused)
            """, logger: logger)
        var settings = StuckCallSweeper.Settings()
        settings.queuedMaxAge = .seconds(1800)
        settings.claimMaxAge = .seconds(1800)
        settings.fetchAfter = .seconds(1800)
        settings.expireAfter = .seconds(24 * 3600)
        let sweeper = StuckCallSweeper(client: database, settings: settings, logger: logger)
        let counts = try await sweeper.sweep()
        #expect(counts == ["expired_after_dial": 1, "expired_in_queue": 1, "claim_redelivered": 1, "fetched": 3])

        let rows = try await database.query(
            "SELECT status FROM phone_calls WHERE callout_id = \(running) ORDER BY callout_participation_id", logger: logger)
        var statuses: [String] = []
        for try await status in rows.decode(String.self) { statuses.append(status) }
        #expect(statuses == ["expired", "queued", "remote_fetch_queued", "remote_fetch_queued", "remote_fetch_queued", "expired"])
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(paused) AND status = 'queued'") == 1)
        let jobs = try await database.query(
            """
            SELECT topic, count(*) FROM outbox_messages
            WHERE (payload ->> 'phone_call_id')::bigint IN (SELECT id FROM phone_calls WHERE callout_id = \(running))
            GROUP BY topic ORDER BY topic
            """, logger: logger)
        var byTopic: [String: Int64] = [:]
        for try await (topic, count) in jobs.decode((String, Int64).self) { byTopic[topic] = count }
        #expect(byTopic == ["phone-calls.queue": 1, "phone-calls.remote-fetch": 3])
        // A second sweep finds nothing: each call's news is fresh now.
        #expect(try await sweeper.sweep().values.allSatisfy { $0 == 0 })
    }

    /// Past the policy's `expires_at`, the participations still waiting for an attempt (here two waiting for
    /// their retry) finish as `expired` and get no further call; the calls already under way are left to finish
    /// and their participations settled as usual.
    @Test func participationsStillWaitingExpireWithThePolicy() async throws {
        let account = try await seed.createAccount(
            rate: 100, autopilot: ["enabled": true, "retry": ["statuses": ["busy"], "delays": ["60s"], "max_attempts": 3]])
        let callout = try await seed.createCallout(
            accountID: account, participants: 4, settings: ["autopilot": ["expires_at": "2099-01-01T00:00:00Z"]],
            firstNumber: 85_553_000_000)
        let scheduler = scheduler()
        try await scheduler.tick()
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout)") == 4)
        try await finishCalls(callout: callout, statuses: ["busy", "busy"])
        try await scheduler.tick()
        let waiting = try await participations(callout: callout)
        #expect(waiting.map(\.outcome) == [nil, nil, nil, nil])
        #expect(waiting.prefix(2).allSatisfy { ($0.retryInSeconds ?? 0) > 30 }, "two wait for their retry: \(waiting)")

        // The alert's time is over.
        try await database.query(
            """
            UPDATE callouts SET settings = jsonb_set(settings, '{autopilot,expires_at}', to_jsonb(\(Timestamp.iso8601(Date().addingTimeInterval(-1)))::text))
            WHERE id = \(callout)
            """, logger: logger)
        try await scheduler.tick()
        let expired = try await participations(callout: callout)
        #expect(expired.map(\.outcome) == ["expired", "expired", nil, nil], "\(expired)")
        #expect(expired.allSatisfy { $0.retryInSeconds == nil })
        // Made due, the expired ones are not called again; the calls under way finish and settle.
        try await database.query(
            "UPDATE callout_participations SET next_attempt_at = now() WHERE callout_id = \(callout) AND outcome = 'expired'", logger: logger)
        try await finishCalls(callout: callout, statuses: ["completed", "completed"])
        try await scheduler.tick()
        #expect(try await count("SELECT count(*) FROM phone_calls WHERE callout_id = \(callout)") == 4, "no call after the expiry")
        #expect(try await participations(callout: callout).map(\.outcome) == ["expired", "expired", "answered", "answered"])
        #expect(try await seed.isFinished(calloutID: callout))
    }

    /// Settings that do not parse are refused with the seeds' error format.
    @Test func invalidPoliciesAreRefused() throws {
        #expect(throws: ValidationErrors.self) { try AutopilotPolicy.validate(settings: ["autopilot": ["retry": ["max_attempts": 100]]]) }
        #expect(throws: ValidationErrors.self) { try AutopilotPolicy.validate(settings: ["autopilot": ["retry": ["statuses": ["completed"]]]]) }
        #expect(throws: ValidationErrors.self) {
            try AutopilotPolicy.validate(settings: ["autopilot": ["calling_hours": ["start": "8:00", "end": "20:00"]]])
        }
        #expect(throws: ValidationErrors.self) { try AutopilotPolicy.validate(settings: ["autopilot": ["time_zone": "Mars/Olympus"]]) }
        #expect(throws: ValidationErrors.self) { try AutopilotPolicy.validate(settings: ["autopilot": ["enabled": "yes"]]) }
        try AutopilotPolicy.validate(settings: ["autopilot": ["enabled": true, "retry": ["delays": ["5m", 30, "1h"]]]])
        let policy = try AutopilotPolicy.parse(
            account: ["autopilot": ["enabled": true, "retry": ["max_attempts": 4, "delays": ["1m"]]]],
            callout: ["autopilot": ["retry": ["max_attempts": 2]], "urgent": true])
        #expect(policy.enabled && policy.maxAttempts == 2 && policy.retryDelays == [.seconds(60)])
    }
}
