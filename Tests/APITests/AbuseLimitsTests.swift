import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Operations
import Prometheus
import Shared
import Testing

@testable import API

/// Abuse limits (#20 item 7): a token over its request rate gets 429 with Retry-After, a request over its
/// deadline 503, an idle connection is closed, per-account caps on webhook endpoints and active batch
/// operations, a per-route body limit on the unauthenticated callback route, and `/metrics` only on the
/// internal port.
@Suite(.timeLimit(.minutes(2))) struct AbuseLimitsTests {
    let api: TestAPI

    init() async throws { api = try await TestAPI.make(suite: "abuse_limits") }

    @Test func aTokenOverItsRateGets429WithRetryAfterAndOtherTokensAreUntouched() async throws {
        let (_, token) = try await api.account()
        let (_, other) = try await api.account()
        var settings = APISettings()
        // One request per 100 s after the burst: no token refills while a loaded CI machine sends the six.
        settings.rateLimit = (perSecond: 0.01, burst: 5)
        try await api.test(settings: settings) { client in
            for attempt in 1...5 {
                #expect(try await client.request(.get, "/api/contacts", token: token).status == .ok, "request \(attempt) is within the burst")
            }
            let refused = try await client.request(.get, "/api/contacts", token: token)
            #expect(refused.status == .tooManyRequests)
            let retryAfter = refused.headers[.retryAfter].flatMap { Int($0) }
            #expect(retryAfter != nil && retryAfter! > 90 && retryAfter! <= 100, "whole seconds until the next token")
            #expect(try refused.json["error"] == "Too Many Requests")
            #expect(try await client.request(.get, "/api/contacts", token: other).status == .ok, "each token has its own bucket")
            #expect(try await client.request(.get, "/api/contacts", token: "unknown").status == .unauthorized)
        }
    }

    @Test func theBucketRefillsAtTheRate() {
        let limiter = RequestRateLimiter(rate: 10, burst: 2)
        let start = ContinuousClock.now
        #expect(limiter.take(1, now: start) == nil)
        #expect(limiter.take(1, now: start) == nil)
        let wait = limiter.take(1, now: start)
        #expect(wait != nil && wait! <= .milliseconds(100))
        #expect(limiter.take(1, now: start + .milliseconds(100)) == nil, "one more after 1/rate seconds")
        #expect(RateLimited(retryAfter: .milliseconds(1)).retryAfterSeconds == 1)
        #expect(RateLimited(retryAfter: .milliseconds(2500)).retryAfterSeconds == 3)
        #expect(RequestRateLimiter(rate: 0, burst: 1).take(1) == nil, "0 turns it off")
    }

    @Test func aRequestOverItsDeadlineIsStoppedWith503() async throws {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: RequestDeadlineMiddleware(deadline: .milliseconds(200)))
        router.get("slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(30))
            return "too late"
        }
        router.get("fast") { _, _ -> String in "in time" }
        let started = ContinuousClock.now
        try await Application(router: router).test(.router) { client in
            let slow = try await client.execute(uri: "/slow", method: .get)
            #expect(slow.status == .serviceUnavailable)
            #expect(slow.headers[.retryAfter] == "1")
            let fast = try await client.execute(uri: "/fast", method: .get)
            #expect(fast.status == .ok && String(buffer: fast.body) == "in time")
        }
        #expect(ContinuousClock.now - started < .seconds(10), "the slow handler was cancelled, not awaited")
    }

    @Test func anIdleConnectionIsClosed() async throws {
        var dependencies = APIDependencies(database: api.database, brokerProbe: nil, logger: api.logger)
        dependencies.settings.secrets = TestAPI.secrets
        let app = buildApplication(dependencies, host: "127.0.0.1", port: 0, idleTimeout: .milliseconds(300))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            let opened = ContinuousClock.now
            // Nothing sent: the server closes the connection after its idle timeout.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await channel.closeFuture.get() }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    throw CancellationError()
                }
                try await group.next()
                group.cancelAll()
            }
            #expect(ContinuousClock.now - opened < .seconds(5))
        }
    }

    @Test func webhookEndpointsAreCappedPerAccount() async throws {
        let (_, token) = try await api.account()
        let (_, other) = try await api.account()
        var settings = APISettings()
        settings.limits.webhookEndpoints = 2
        try await api.test(settings: settings) { client in
            for _ in 1...2 {
                let created = try await client.request(.post, "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fa")
                #expect(created.status == .created)
            }
            let refused = try await client.request(.post, "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fa")
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["base": ["An account can have at most 2 webhook endpoints"]]])
            let elsewhere = try await client.request(.post, "/api/webhook_endpoints", token: other, form: "url=https%3A%2F%2F93.184.216.34%2Fa")
            #expect(elsewhere.status == .created, "the cap is per account")
        }
    }

    @Test func activeBatchOperationsAreCappedPerAccount() async throws {
        let (_, token) = try await api.account()
        var settings = APISettings()
        settings.limits.activeBatchOperations = 2
        try await api.test(settings: settings) { client in
            var ids: [Int64] = []
            for _ in 1...3 {
                ids.append(
                    try await client.create(
                        "/api/batch_operations", token: token,
                        form: "type=BatchOperation::PhoneCallQueue&parameters[skip_validate_preview_presence]=true"))
            }
            for id in ids.prefix(2) {
                let queued = try await client.request(.post, "/api/batch_operations/\(id)/batch_operation_events", token: token, form: "event=queue")
                #expect(queued.status == .created)
            }
            let refused = try await client.request(.post, "/api/batch_operations/\(ids[2])/batch_operation_events", token: token, form: "event=queue")
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["base": ["An account can have at most 2 batch operations queued or running"]]])
            #expect(try await client.request(.get, "/api/batch_operations/\(ids[2])", token: token).json["status"] == "preview")
            try await api.execute("UPDATE batch_operations SET status = 'finished' WHERE id = \(ids[0])")
            let later = try await client.request(.post, "/api/batch_operations/\(ids[2])/batch_operation_events", token: token, form: "event=queue")
            #expect(later.status == .created, "a finished operation frees its place")
        }
    }

    @Test func providerCallbacksOver64KiBAre413() async throws {
        try await api.test { client in
            let huge = "CallSid=CA1&Junk=" + String(repeating: "x", count: 70_000)
            let response: TestResponse = try await client.request(.post, "/api/remote_phone_call_events", token: nil, form: huge)
            #expect(response.status == .contentTooLarge)
        }
    }

    @Test func metricsAreServedOnTheInternalPortOnly() async throws {
        try await api.test { client in
            let publicMetrics = try await client.request(.get, "/metrics", token: nil)
            #expect(publicMetrics.status == .notFound)
            let health = try await client.request(.get, "/health", token: nil)
            #expect(health.status == .ok)
        }
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "scfm_test_operations", unitName: "total", helpText: "")).increment()
        let operations = OperationsServer.application(
            host: "127.0.0.1", port: 0, serverName: "test", database: api.database, brokerProbe: nil, metrics: registry,
            logger: api.logger)
        try await operations.test(.live) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(String(buffer: metrics.body).contains("scfm_test_operations_total 1"))
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }
}
