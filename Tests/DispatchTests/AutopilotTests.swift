import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// The autopilot end to end: the scheduler, the outbox relay, queue, status and remote-fetch workers and the
/// stuck-call sweeper over the mock cluster, a real PostgreSQL and the fake provider.
@Suite(.serialized, .timeLimit(.minutes(10))) struct AutopilotTests {
    /// Every service of a campaign, as `make run` starts them.
    func campaignServices(_ harness: DispatchHarness, producer: KafkaProducer) throws -> [any Service] {
        let id = UUID().uuidString
        return [
            producer, try harness.outboxRelay(producer: producer), harness.scheduler(), harness.sweeper(),
            try harness.queueWorker(group: "scfm-queue-\(id)", producer: producer),
            try harness.statusWorker(group: "scfm-status-\(id)"),
            try harness.remoteFetchWorker(group: "scfm-remote-fetch-\(id)", producer: producer),
        ]
    }

    static let callParams: JSONValue = ["from": "1234", "url": "https://demo.twilio.com/docs/voice.xml"]

    /// A callout started once runs to completion by itself: busy and unanswered calls are retried after the
    /// policy's delay until the attempts run out, and the provider's 429s and 500s never count as attempts.
    @Test func runsACalloutToCompletionRetryingPerPolicy() async throws {
        var provider = FakeProviderSettings()
        provider.outcomes = [("completed", 60), ("busy", 20), ("no-answer", 20)]
        provider.queueDuration = .milliseconds(50)
        provider.ringDuration = .milliseconds(100)
        provider.talkDuration = .milliseconds(100)
        provider.throttleRate = 0.05
        provider.errorRate = 0.02
        let harness = try await DispatchHarness.start(suite: "autopilotretries", provider: provider)
        defer { Task { await harness.stop() } }
        let seed = harness.autopilotSeed
        let account = try await seed.createAccount(
            rate: 200,
            autopilot: [
                "enabled": true, "remote_request_params": Self.callParams,
                "retry": ["statuses": ["busy", "not_answered"], "delays": ["0.3s"], "max_attempts": 3],
            ])
        let callout = try await seed.createCallout(accountID: account, participants: 300)
        // Results pushed to the account's own system, which fails every delivery once.
        let endpoint = try await WebhookRepository(
            client: harness.database, logger: harness.logger, outbound: OutboundPolicy(allowPrivateAddresses: true), secrets: harness.secrets
        ).createEndpoint(
            accountID: account, url: harness.providerURL + "/_fake/webhooks/results?fail=1", eventTypes: nil, enabled: nil, metadata: nil)

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let services = try campaignServices(harness, producer: producer) + harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)")
        let finished = try await running(services, logger: harness.logger) {
            let finished = try await harness.wait(timeout: .seconds(180)) { try await seed.isFinished(calloutID: callout) }
            // Then every result reached the endpoint (each after one failed attempt and its back-off: with make
            // bench beside, 30 s saw 156 of the 300 arrive, so the wait is long and its outcome checked).
            let allDelivered = try await harness.wait(timeout: .seconds(150)) {
                try await harness.database.query(
                    "SELECT count(*) = 0 FROM webhook_deliveries WHERE webhook_endpoint_id = \(endpoint.id) AND status <> 'delivered'",
                    logger: harness.logger
                ).single { try $0.decode(Bool.self) }
            }
            #expect(allDelivered, "every result delivered to the endpoint")
            return finished
        }
        #expect(finished)
        let deliveries = try await harness.database.query(
            "SELECT event_type, count(*)::int8, min(attempts) FROM webhook_deliveries WHERE webhook_endpoint_id = \(endpoint.id) AND status = 'delivered' GROUP BY 1",
            logger: harness.logger)
        var delivered: [String: Int] = [:]
        for try await (type, count, attempts) in deliveries.decode((String, Int64, Int32).self) {
            delivered[type] = Int(count)
            #expect(attempts == 2, "each delivery failed once, then arrived")
        }
        #expect(delivered["callout_participation.finished"] == 300)
        #expect(delivered["callout.finished"] == 1)
        #expect((delivered["phone_call.status_changed"] ?? 0) >= 300)
        let received = try await harness.receivedWebhooks("results", secret: endpoint.secret!)
        #expect(received.allSatisfy { $0["signature_valid"] == true })

        let outcomes = try await seed.outcomes(calloutID: callout)
        #expect(outcomes.keys.sorted() == ["answered", "exhausted"], "outcomes: \(outcomes)")
        #expect(outcomes.values.reduce(0, +) == 300)

        // Each participation: its calls in order, and what the policy should have made of them.
        let rows = try await harness.database.query(
            """
            SELECT p.outcome, p.attempts, array_agg(c.status ORDER BY c.id),
                   coalesce(min(EXTRACT(epoch FROM c.created_at - prev.updated_at)), 1e9)::float8
            FROM callout_participations p
            JOIN phone_calls c ON c.callout_participation_id = p.id
            LEFT JOIN LATERAL (
                SELECT updated_at FROM phone_calls e WHERE e.callout_participation_id = p.id AND e.id < c.id ORDER BY e.id DESC LIMIT 1
            ) prev ON true
            WHERE p.callout_id = \(callout)
            GROUP BY p.id
            """, logger: harness.logger)
        var calls = 0
        var retried = 0
        for try await (outcome, attempts, statuses, shortestGap) in rows.decode((String, Int, [String], Double).self) {
            calls += statuses.count
            #expect(attempts == statuses.count, "every call ended and counted once: \(attempts) vs \(statuses)")
            #expect(statuses.count <= 3, "never more than max_attempts calls: \(statuses)")
            #expect(statuses.dropLast().allSatisfy { ["busy", "not_answered"].contains($0) }, "only retry statuses are retried: \(statuses)")
            if statuses.count > 1 {
                retried += 1
                #expect(shortestGap >= 0.29, "a retry waits for the policy's delay after the call ended, saw \(shortestGap) s")
            }
            switch outcome {
            case "answered": #expect(statuses.last == "completed")
            default: #expect(statuses.count == 3 && ["busy", "not_answered"].contains(statuses.last!), "exhausted after \(statuses)")
            }
        }
        #expect(retried > 50, "about 40% of first attempts are retried, saw \(retried)")
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == calls, "one create per counted call: the provider's 429s and 500s counted none")
        #expect((ledger["throttled"]?.intValue ?? 0) > 0)
    }

    /// Pausing halts dialling within a second (no create at the provider after that, the calls not dialled
    /// yet stay queued); resuming finishes the callout with every participant called exactly once.
    @Test func pauseHaltsDiallingAndResumeFinishes() async throws {
        var provider = FakeProviderSettings()
        provider.outcomes = [("completed", 100)]
        provider.queueDuration = .milliseconds(50)
        provider.ringDuration = .milliseconds(50)
        provider.talkDuration = .milliseconds(50)
        let harness = try await DispatchHarness.start(suite: "autopilotpause", provider: provider)
        defer { Task { await harness.stop() } }
        let seed = harness.autopilotSeed
        let account = try await seed.createAccount(rate: 20, autopilot: ["enabled": true, "remote_request_params": Self.callParams])
        let callout = try await seed.createCallout(accountID: account, participants: 200)
        let callouts = CalloutRepository(client: harness.database, logger: harness.logger)

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        try await running(try campaignServices(harness, producer: producer), logger: harness.logger) {
            #expect(try await harness.wait(timeout: .seconds(60)) { (try await harness.ledger()["creates"]?.intValue ?? 0) >= 40 })
            _ = try await callouts.apply(.pause, accountID: account, id: callout)
            let paused = Date()
            try await Task.sleep(for: .seconds(3))
            let ledger = try await harness.ledger()
            let lastCreate = ledger["last_create_at"]?.stringValue.flatMap { text -> Date? in
                if case .instant(let date)? = TimestampFilter.parseValue(text) { return date }
                return nil
            }
            let lateness = lastCreate.map { $0.timeIntervalSince(paused) } ?? -1
            #expect(
                lateness < 0.1,
                "no dial leaves after the pause commits (a queue worker hears of it at once): the last create came \(lateness) s after it")
            let createdBeforeResume = ledger["creates"]?.intValue ?? 0
            #expect(createdBeforeResume < 200)
            let claimedButHeld = try await harness.database.query(
                "SELECT count(*) FROM phone_calls WHERE callout_id = \(callout) AND status = 'queued' AND dial_claimed_at IS NOT NULL",
                logger: harness.logger
            ).single { try $0.decode(Int64.self) }
            #expect(claimedButHeld == 0, "calls held by the pause gave their claims back")

            _ = try await callouts.apply(.resume, accountID: account, id: callout)
            #expect(try await harness.wait(timeout: .seconds(120)) { try await seed.isFinished(calloutID: callout) })
        }
        #expect(try await seed.outcomes(calloutID: callout) == ["answered": 200])
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == 200)
        #expect(ledger["distinct_to"]?.intValue == 200)
    }
}
