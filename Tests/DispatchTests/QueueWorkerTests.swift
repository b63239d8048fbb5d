import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// Queue and status workers over the mock cluster, a real PostgreSQL and the fake provider.
@Suite(.serialized, .timeLimit(.minutes(10))) struct QueueWorkerTests {
    /// Three workers share one account's 50 calls/s: nothing dialled twice, every call dialled, and no window of
    /// one second, sliding or of the clock, with more than 50 dials, counted when each dial left its slot (the
    /// call's `remotely_queued_at`). Slots 1 / (50 × 0.985) s apart, each used at most the limiter's lateness
    /// (6 ms) late, put at most 50 in any second: the limiter's invariant, checked once, never retried. The
    /// provider's own arrival times are not the measure: on a loaded machine (make bench beside) the in-process
    /// fake provider takes requests that waited in its socket together, and its count judges its own scheduling
    /// (docs/reliability.md). How much of the limit is used is `make bench`'s figure (`dispatch`).
    @Test func threeWorkersShareTheAccountsRateAndDialEveryCallOnce() async throws {
        let sent = try await dialCampaignAtFiftyPerSecond(suite: "queueworkerrate")
        #expect(sent.count == 800, "every call dialled once")
        let first = sent.first ?? 0
        let busiest = CreateRate.busiestSlidingSecond(sent.map { $0 - first })
        #expect(busiest <= 50, "at most 50 dials sent in any sliding one-second window, saw \(busiest)")
        var perClockSecond: [Int: Int] = [:]
        for time in sent { perClockSecond[Int(time.rounded(.down)), default: 0] += 1 }
        let busiestClockSecond = perClockSecond.values.max() ?? 0
        #expect(busiestClockSecond <= 50, "at most 50 dials sent in any second of the clock, saw \(busiestClockSecond)")
    }

    /// 800 calls through three queue workers at 50 calls/s; returns when each dial left its slot (epoch seconds,
    /// in order).
    func dialCampaignAtFiftyPerSecond(suite: String) async throws -> [Double] {
        var settings = FakeProviderSettings()
        settings.latency = .milliseconds(20)
        let harness = try await DispatchHarness.start(suite: suite, provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 50)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 800)
        try await harness.publishQueueJobs(calls, accountID: account)

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let group = "scfm-queue-\(UUID().uuidString)"
        let services: [any Service] = [
            producer, try harness.queueWorker(group: group, producer: producer), try harness.queueWorker(group: group, producer: producer),
            try harness.queueWorker(group: group, producer: producer), try harness.statusWorker(group: "scfm-status-\(UUID().uuidString)"),
        ]
        let done = try await running(services, logger: harness.logger) {
            try await harness.wait(timeout: .seconds(120)) {
                try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
            }
        }
        #expect(done)
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == calls.count)
        #expect(ledger["repeated_to_count"]?.intValue == 0)
        let rows = try await harness.database.query(
            """
            SELECT extract(epoch FROM remotely_queued_at)::float8 FROM phone_calls
            WHERE account_id = \(account) AND remotely_queued_at IS NOT NULL ORDER BY remotely_queued_at
            """, logger: harness.logger)
        var sent: [Double] = []
        for try await time in rows.decode(Double.self) { sent.append(time) }
        return sent
    }

    @Test func aRedeliveredJobIsANoOpAndRefusalsErrorTheCall() async throws {
        let harness = try await DispatchHarness.start(suite: "queueworkerredelivery", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 100)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 20)
        // One call the provider refuses: not a valid number.
        try await harness.database.query("UPDATE phone_calls SET msisdn = '12345' WHERE id = \(calls[0])", logger: harness.logger)

        let services = try harness.dialling()
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(30)) {
                    let counts = try await harness.statusCounts(accountID: account)
                    return counts["remotely_queued"] == calls.count - 1 && counts["errored"] == 1
                })
            // Every job again, then one new call's job behind them: once the new call is dialled, the worker has
            // read the redelivered jobs, and nothing was dialled twice.
            try await harness.publishQueueJobs(calls, accountID: account)
            let control = try await harness.seedQueuedCalls(accountID: account, count: 1)
            try await harness.publishQueueJobs(control, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(30)) {
                    try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
                })
        }
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == calls.count)
        let errored = try await PhoneCallRepository(client: harness.database, logger: harness.logger).find(accountID: account, id: calls[0])
        #expect(errored.status == "errored")
        #expect(errored.remoteErrorMessage == "Unable to create record: The 'To' number 12345 is not a valid phone number.")
        let dialled = try await PhoneCallRepository(client: harness.database, logger: harness.logger).find(accountID: account, id: calls[1])
        #expect(dialled.remoteCallID?.hasPrefix("CA") == true)
        #expect(dialled.remoteStatus == "queued")
        #expect(dialled.remoteDirection == "outbound-api")
        #expect(dialled.remoteQueueResponse["sid"]?.stringValue == dialled.remoteCallID)
        #expect(dialled.remotelyQueuedAt != nil)
    }

    @Test func throttlingAndOutagesAreRetriedNotFailedAndSlowTheAccount() async throws {
        var settings = FakeProviderSettings()
        settings.maxCallsPerSecond = 20
        settings.errorRate = 0.1
        let harness = try await DispatchHarness.start(suite: "queueworkerthrottle", provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 80)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 150)
        let services = try harness.dialling()
        var lowestFactor = 1.0
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(60)) {
                    lowestFactor = min(
                        lowestFactor, try await DialSchedule(client: harness.database, logger: harness.logger).rateFactor(accountID: account))
                    return try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
                })
        }
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == calls.count)
        #expect(ledger["repeated_to_count"]?.intValue == 0)
        #expect((ledger["throttled"]?.intValue ?? 0) > 0)
        #expect((ledger["failed"]?.intValue ?? 0) > 0)
        #expect(lowestFactor < 1, "the 429s lowered the account's rate")
    }

    /// The provider made the call but its answer was a 500 (lost on the way back): the worker must not dial
    /// again blind. It looks the number up at the provider, finds the call and records it: each number is
    /// dialled once and each phone call carries the sid of its own call.
    @Test func aCallCreatedBehindA500IsFoundNotDialledAgain() async throws {
        var settings = FakeProviderSettings()
        settings.errorAfterCreateRate = 0.3
        let harness = try await DispatchHarness.start(suite: "queueworkerlostanswer", provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 100)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 60)
        let services = try harness.dialling()
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(60)) {
                    try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
                })
        }
        let ledger = try await harness.ledger()
        #expect((ledger["failed_after_create"]?.intValue ?? 0) > 0, "some answers were lost after the call was made")
        #expect(ledger["creates"]?.intValue == calls.count, "no number dialled twice")
        #expect(ledger["repeated_to_count"]?.intValue == 0)
        let sids = try await harness.database.query(
            "SELECT count(DISTINCT remote_call_id), count(*) FROM phone_calls WHERE account_id = \(account) AND remote_call_id LIKE 'CA%'",
            logger: harness.logger
        ).single { try $0.decode((Int, Int).self) }
        #expect(sids.0 == calls.count && sids.1 == calls.count, "each call holds its own provider sid: \(sids)")
    }

    /// An account on Somleng dials through Somleng's REST API with its own Somleng credentials (the Twilio
    /// address here leads nowhere, and the provider accepts only the Somleng token).
    @Test func aSomlengAccountDialsThroughSomleng() async throws {
        var settings = FakeProviderSettings()
        settings.authToken = "somleng-token"
        let harness = try await DispatchHarness.start(suite: "queueworkersomleng", provider: settings)
        defer { Task { await harness.stop() } }
        let sid = "AC\(UInt64.random(in: 0...UInt64.max))"
        let account = try await harness.database.query(
            """
            INSERT INTO accounts (settings, platform_provider_name, somleng_account_sid, somleng_auth_token)
            VALUES ('{"max_calls_per_second": 50}', 'somleng', \(sid), 'somleng-token') RETURNING id
            """, logger: harness.logger
        ).single { try $0.decode(Int64.self) }
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 5)
        var defaults = harness.defaults
        defaults.twilioBaseURL = "http://127.0.0.1:9"
        defaults.twilioAuthToken = "not-this-one"
        let services = try harness.dialling(defaults: defaults)
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(30)) {
                    try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
                })
        }
        let dialled = try await PhoneCallRepository(client: harness.database, logger: harness.logger).find(accountID: account, id: calls[0])
        let somleng = ProviderAccount(
            platform: .somleng, baseURL: harness.providerURL, accountSID: sid, authToken: "somleng-token", maxCallsPerSecond: 10)
        guard
            case .success(let found) = await ProviderClient(http: DispatchHarness.providerHTTP, logger: harness.logger)
                .recentCalls(somleng, to: dialled.msisdn)
        else {
            Issue.record("the Somleng account's calls cannot be listed")
            return
        }
        #expect(found.map { $0.sid } == [dialled.remoteCallID].compactMap { $0 }, "created under the Somleng account")
        #expect(try await harness.ledger()["creates"]?.intValue == calls.count)
    }

    @Test func aPausedCalloutHoldsItsCallsUntilResumed() async throws {
        let harness = try await DispatchHarness.start(suite: "queueworkerpause", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 100)
        let callouts = CalloutRepository(client: harness.database, logger: harness.logger)
        let callout = try await callouts.create(accountID: account, CalloutChanges())
        _ = try await callouts.apply(.start, accountID: account, id: callout.id)
        _ = try await callouts.apply(.pause, accountID: account, id: callout.id)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 10, calloutID: callout.id)
        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let relay = OutboxRelay(database: harness.database, producer: producer, kafka: harness.kafka, logger: harness.logger)
        let services: [any Service] = [
            producer, relay, try harness.queueWorker(group: "scfm-queue-\(UUID().uuidString)", producer: producer),
            try harness.statusWorker(group: "scfm-status-\(UUID().uuidString)"),
        ]
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            // A call outside the callout, published behind them: once it is dialled, the worker has read the
            // held jobs too.
            let control = try await harness.seedQueuedCalls(accountID: account, count: 1)
            try await harness.publishQueueJobs(control, accountID: account)
            #expect(
                try await harness.wait(timeout: .seconds(30)) {
                    try await harness.statusCounts(accountID: account)["remotely_queued"] == 1
                })
            #expect(try await harness.ledger()["creates"]?.intValue == 1)
            #expect(try await harness.statusCounts(accountID: account)["queued"] == calls.count)
            // Resuming writes their jobs to the outbox again; the relay publishes them.
            _ = try await callouts.apply(.resume, accountID: account, id: callout.id)
            #expect(
                try await harness.wait(timeout: .seconds(30)) {
                    try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count + 1
                })
        }
        #expect(try await harness.ledger()["creates"]?.intValue == calls.count + 1)
    }

    @Test func theConcurrencyCapHoldsDialsWhileCallsAreInProgress() async throws {
        var settings = FakeProviderSettings()
        settings.outcomes = [("completed", 1)]
        settings.queueDuration = .milliseconds(100)
        settings.ringDuration = .milliseconds(100)
        settings.talkDuration = .milliseconds(300)
        let harness = try await DispatchHarness.start(suite: "queueworkercap", provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 100, maxConcurrentCalls: 3)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 6)
        let services = try harness.dialling()
        try await running(services, logger: harness.logger) {
            try await harness.publishQueueJobs(calls, accountID: account)
            // Three calls hold the three places (nothing reports their end yet): the others wait, queued.
            #expect(try await harness.wait(timeout: .seconds(20)) { try await harness.ledger()["creates"]?.intValue == 3 })
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.ledger()["creates"]?.intValue == 3)
            // The first three finish (as a status callback or a fetch would report): the rest are dialled.
            try await harness.database.query(
                "UPDATE phone_calls SET status = 'completed' WHERE account_id = \(account) AND status = 'remotely_queued'",
                logger: harness.logger)
            #expect(try await harness.wait(timeout: .seconds(10)) { try await harness.ledger()["creates"]?.intValue == 6 })
        }
    }
}
