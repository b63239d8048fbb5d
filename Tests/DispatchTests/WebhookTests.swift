import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// Outbound webhooks: signatures, the dispatcher against the fake provider's webhook sink (failing, slow and
/// dead endpoints), replay.
@Suite(.serialized, .timeLimit(.minutes(10))) struct WebhookTests {
    @Test func signaturesVerifyAndRejectTampering() {
        let body = Array(#"{"id":1,"type":"callout.finished"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: "whsec_test", timestamp: 1_700_000_000)
        // The same HMAC-SHA256 any receiver computes (Python: hmac.new(secret, b"1700000000." + body, sha256)).
        #expect(header == "t=1700000000,v1=a8b56d7f03f1962ec8c25785288f0c5621f38c343de622daa6643fd4e025ccdd")
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        #expect(WebhookSignature.isValid(header: header, body: body, secret: "whsec_test", now: now))
        #expect(!WebhookSignature.isValid(header: header, body: body + [0x20], secret: "whsec_test", now: now))
        #expect(!WebhookSignature.isValid(header: header, body: body, secret: "whsec_other", now: now))
        #expect(!WebhookSignature.isValid(header: header, body: body, secret: "whsec_test", now: now.addingTimeInterval(3600)), "too old")
        #expect(WebhookSignature.newSecret().hasPrefix("whsec_") && WebhookSignature.newSecret().count == 70)
    }

    /// Writes `count` deliveries of `type` for `endpoint` straight to the table (what the scheduler and the
    /// event recorder write).
    func enqueue(_ harness: DispatchHarness, account: Int64, endpoint: Int64, count: Int, prefix: String) async throws {
        try await harness.database.query(
            """
            INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload)
            SELECT \(account), \(endpoint), 'callout.finished', \(prefix) || n, jsonb_build_object('callout_id', n)
            FROM generate_series(1, \(count)) n
            """, logger: harness.logger)
    }

    func endpoint(_ harness: DispatchHarness, account: Int64, url: String) async throws -> WebhookEndpoint {
        try await WebhookRepository(
            client: harness.database, logger: harness.logger, outbound: OutboundPolicy(allowPrivateAddresses: true), secrets: harness.secrets
        ).createEndpoint(
            accountID: account, url: url, eventTypes: nil, enabled: nil, metadata: nil)
    }

    func statuses(_ harness: DispatchHarness, endpoint: Int64) async throws -> [String: Int] {
        let rows = try await harness.database.query(
            "SELECT status, count(*)::int8 FROM webhook_deliveries WHERE webhook_endpoint_id = \(endpoint) GROUP BY status",
            logger: harness.logger)
        var counts: [String: Int] = [:]
        for try await (status, count) in rows.decode((String, Int64).self) { counts[status] = Int(count) }
        return counts
    }

    /// An endpoint that fails twice per delivery gets each on the third attempt, signed each time; one that
    /// never answers 2xx ends `failed` after the maximum attempts, with its last answer recorded, and a replay
    /// sends it again.
    @Test func failingEndpointsAreRetriedWithBackOffThenFailedAndReplayable() async throws {
        let harness = try await DispatchHarness.start(suite: "webhookretries", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.seed.createAccount(rate: 10)
        let flaky = try await endpoint(harness, account: account, url: harness.providerURL + "/_fake/webhooks/flaky?fail=2")
        let broken = try await endpoint(harness, account: account, url: harness.providerURL + "/_fake/webhooks/broken?fail=1000")
        try await enqueue(harness, account: account, endpoint: flaky.id, count: 20, prefix: "flaky-")
        try await enqueue(harness, account: account, endpoint: broken.id, count: 3, prefix: "broken-")

        var settings = WebhookDispatcher.Settings()
        settings.retryBase = .milliseconds(50)
        settings.poll = .milliseconds(50)
        settings.maximumAttempts = 4
        let services = try harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)", settings: settings)
        let settled = try await running(services, logger: harness.logger) {
            try await harness.wait(timeout: .seconds(30)) {
                let flakyDone = try await statuses(harness, endpoint: flaky.id) == ["delivered": 20]
                let brokenDone = try await statuses(harness, endpoint: broken.id) == ["failed": 3]
                return flakyDone && brokenDone
            }
        }
        #expect(settled)
        let received = try await harness.receivedWebhooks("flaky", secret: flaky.secret!)
        #expect(received.count == 60, "each of 20 deliveries tried three times")
        #expect(received.allSatisfy { $0["signature_valid"] == true })
        #expect(Set(received.compactMap { $0["delivery_id"]?.stringValue }).count == 20)
        #expect(received.first?["body"]?["type"] == "callout.finished")
        let attempts = try await harness.database.query(
            "SELECT min(attempts), max(attempts), min(last_response_status) FROM webhook_deliveries WHERE webhook_endpoint_id = \(flaky.id)",
            logger: harness.logger
        ).single { try $0.decode((Int32, Int32, Int32).self) }
        #expect(attempts == (3, 3, 200))

        let webhooks = WebhookRepository(
            client: harness.database, logger: harness.logger, outbound: OutboundPolicy(allowPrivateAddresses: true), secrets: harness.secrets)
        let failed = try await webhooks.deliveryIndex(
            accountID: account, filter: try .webhookDeliveries(["webhook_endpoint_id": .integer(broken.id), "status": "failed"]),
            page: PageRequest())
        #expect(failed.records.count == 3)
        #expect(failed.records.allSatisfy { $0.attempts == 4 && $0.lastResponseStatus == 500 && $0.lastResponseBody?.contains("received") == true })

        // Fixed endpoint, replayed delivery: sent again and delivered.
        try await webhooks.updateEndpoint(
            accountID: account, id: broken.id, url: harness.providerURL + "/_fake/webhooks/fixed", eventTypes: nil, enabled: nil,
            metadata: nil, mergeMode: .merge)
        let replayed = try await webhooks.replay(accountID: account, id: failed.records[0].id)
        #expect(replayed.status == "pending" && replayed.attempts == 0)
        let redelivered = try await running(
            try harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)", settings: settings), logger: harness.logger
        ) {
            try await harness.wait(timeout: .seconds(10)) { try await statuses(harness, endpoint: broken.id) == ["delivered": 1, "failed": 2] }
        }
        #expect(redelivered)
        #expect(try await harness.receivedWebhooks("fixed", secret: broken.secret!).count == 1)
    }

    /// A dead endpoint (nothing listening) and a slow one take their per-endpoint places only: a healthy
    /// endpoint's deliveries go through at once beside them.
    @Test func aDeadOrSlowEndpointDoesNotHoldUpOthers() async throws {
        let harness = try await DispatchHarness.start(suite: "webhookisolation", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.seed.createAccount(rate: 10)
        let slow = try await endpoint(harness, account: account, url: harness.providerURL + "/_fake/webhooks/slow?delay_ms=3000")
        let dead = try await endpoint(harness, account: account, url: "http://10.255.255.1:9/unreachable")
        let healthy = try await endpoint(harness, account: account, url: harness.providerURL + "/_fake/webhooks/healthy")
        try await enqueue(harness, account: account, endpoint: slow.id, count: 50, prefix: "slow-")
        try await enqueue(harness, account: account, endpoint: dead.id, count: 50, prefix: "dead-")
        try await enqueue(harness, account: account, endpoint: healthy.id, count: 200, prefix: "healthy-")

        var settings = WebhookDispatcher.Settings()
        settings.concurrency = 16
        settings.perEndpoint = 4
        settings.requestTimeout = .seconds(5)
        let started = ContinuousClock.now
        let elapsed = try await running(
            try harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)", settings: settings), logger: harness.logger
        ) {
            let delivered = try await harness.wait(timeout: .seconds(20)) { try await statuses(harness, endpoint: healthy.id) == ["delivered": 200] }
            #expect(delivered)
            return ContinuousClock.now - started
        }
        #expect(elapsed < .seconds(5), "200 healthy deliveries beside 100 stuck ones took \(elapsed)")
        // The shutdown waited for the requests under way, each cut at the request timeout.
        #expect(ContinuousClock.now - started < .seconds(12))
    }

    /// An endpoint that answers 302 to an internal service (here the fake provider's own sink named
    /// "internal", standing for `http://127.0.0.1:9090/metrics` or the cloud metadata address): the redirect is
    /// not followed, the internal service is never asked, and what the tenant reads back is the 302 and a
    /// short note. Before the outbound policy the worker followed it and stored the internal answer.
    @Test func redirectsAreNeverFollowedAndInternalAnswersNeverStored() async throws {
        let harness = try await DispatchHarness.start(suite: "webhookssrf", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.seed.createAccount(rate: 10)
        let internalService = harness.providerURL + "/_fake/webhooks/internal"
        let redirecting = try await endpoint(
            harness, account: account, url: harness.providerURL + "/_fake/webhooks/attacker?redirect_to=" + internalService)
        try await enqueue(harness, account: account, endpoint: redirecting.id, count: 3, prefix: "ssrf-")
        var settings = WebhookDispatcher.Settings()
        settings.retryBase = .seconds(60)
        settings.poll = .milliseconds(50)
        let answered = try await running(
            try harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)", settings: settings), logger: harness.logger
        ) {
            try await harness.wait(timeout: .seconds(20)) {
                try await harness.database.query(
                    "SELECT count(*)::int8 FROM webhook_deliveries WHERE webhook_endpoint_id = \(redirecting.id) AND last_response_status = 302",
                    logger: harness.logger
                ).single { try $0.decode(Int64.self) } == 3
            }
        }
        #expect(answered, "each delivery recorded with the redirect's own 302")
        #expect(try await harness.receivedWebhooks("attacker", secret: redirecting.secret!).count == 3)
        #expect(try await harness.receivedWebhooks("internal", secret: redirecting.secret!).isEmpty, "the redirect was followed")
        let deliveries = try await WebhookRepository(client: harness.database, logger: harness.logger).deliveryIndex(
            accountID: account, filter: try .webhookDeliveries(["webhook_endpoint_id": .integer(redirecting.id)]), page: PageRequest())
        #expect(deliveries.records.count == 3)
        for delivery in deliveries.records {
            #expect(delivery.status == "pending", "a 3xx is a failed attempt")
            #expect((delivery.lastResponseBody ?? "").count <= 256)
            #expect(delivery.lastResponseBody?.contains("received") != true, "no internal answer kept")
        }
    }

    /// With the production policy (no private addresses), a delivery to an endpoint whose host is loopback is
    /// refused before any connection: the receiver never hears of it and the attempt records why. Such an
    /// endpoint can only exist if it was saved before the policy or under a different setting, so the row is
    /// written directly.
    @Test func theProductionPolicyRefusesInternalAddressesAtDelivery() async throws {
        let harness = try await DispatchHarness.start(suite: "webhookprivate", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.seed.createAccount(rate: 10)
        let port = URLComponents(string: harness.providerURL)!.port!
        var ids: [Int64] = []
        for url in ["http://127.0.0.1:\(port)/_fake/webhooks/loopback", "http://localhost:\(port)/_fake/webhooks/named"] {
            let id = try await harness.database.query(
                "INSERT INTO webhook_endpoints (account_id, url, secret, event_types) VALUES (\(account), \(url), 'whsec_x', ARRAY['callout.finished']) RETURNING id",
                logger: harness.logger
            ).single { try $0.decode(Int64.self) }
            try await enqueue(harness, account: account, endpoint: id, count: 2, prefix: "private-\(id)-")
            ids.append(id)
        }
        var settings = WebhookDispatcher.Settings()
        settings.retryBase = .seconds(60)
        settings.poll = .milliseconds(50)
        let refused = try await running(
            try harness.webhookServices(group: "scfm-webhooks-\(UUID().uuidString)", settings: settings, policy: OutboundPolicy()),
            logger: harness.logger
        ) {
            try await harness.wait(timeout: .seconds(20)) {
                try await harness.database.query(
                    "SELECT count(*)::int8 FROM webhook_deliveries WHERE webhook_endpoint_id = ANY(\(ids)) AND last_error LIKE '%outbound policy%'",
                    logger: harness.logger
                ).single { try $0.decode(Int64.self) } == 4
            }
        }
        #expect(refused)
        #expect(try await harness.receivedWebhooks("loopback", secret: "whsec_x").isEmpty)
        #expect(try await harness.receivedWebhooks("named", secret: "whsec_x").isEmpty)
    }
}
