import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Sends pending webhook deliveries (the `webhooks` role): signed POSTs (`WebhookSignature`), at most
/// `concurrency` at once and `perEndpoint` per endpoint, so one slow or dead endpoint cannot hold up the
/// others; every answer is recorded (status, the start of the body, or the transport error). A failed attempt
/// is tried again after an exponential back-off with jitter, up to `maximumAttempts`, then the delivery is
/// `failed` (and can be replayed through the API).
///
/// A delivery being sent has its due time moved past the request timeout: if its sender dies, another
/// dispatcher picks it up once that time has passed. So a delivery may arrive twice (at least once), never
/// not at all; receivers deduplicate by `X-SCFM-Delivery`.
///
/// Endpoint URLs are the tenants': each request goes through `OutboundHTTPClients` (the outbound policy: no
/// private or internal address, the connection pinned to the checked one, no redirect followed), and what is
/// kept for the tenant is the status and a short note (the first `noteLength` characters of the answer), so a
/// delivery can neither reach this platform's internal services nor carry their answers back.
public final class WebhookDispatcher: Service, Sendable {
    public struct Settings: Sendable {
        /// WEBHOOK_CONCURRENCY.
        public var concurrency = 32
        /// WEBHOOK_CONCURRENCY_PER_ENDPOINT.
        public var perEndpoint = 4
        /// WEBHOOK_TIMEOUT_SECONDS.
        public var requestTimeout: Duration = .seconds(5)
        /// WEBHOOK_MAX_ATTEMPTS.
        public var maximumAttempts = 10
        /// WEBHOOK_RETRY_BASE_SECONDS: the wait after the first failure, doubling after each further one.
        public var retryBase: Duration = .seconds(10)
        public var retryCap: Duration = .seconds(3600)
        public var poll: Duration = .milliseconds(200)
        /// How much of an answer's body is kept as its note.
        public var noteLength = 256
        public init() {}
    }

    struct Delivery: Sendable {
        let id: Int64
        let endpointID: Int64
        let url: String
        /// The endpoint's secret, opened; an error when it does not open (a key dropped too early): the attempt
        /// then fails with that note instead of sending an unsigned request.
        let secret: Result<String, SecretBox.Failure>
        let eventType: String
        let payload: JSONValue
        let attempts: Int
        let createdAt: Date
    }

    struct Outcome: Sendable {
        let delivery: Delivery
        let status: Int?
        let body: String?
        let error: String?
        var delivered: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    let client: PostgresClient
    let outbound: OutboundHTTPClients
    let settings: Settings
    /// Opens the endpoints' sealed secrets (`SECRETS_KEY`).
    let secrets: SecretBox?
    let logger: Logger
    private let inFlight = Mutex<[Int64: Int]>([:])
    /// Deliveries finished so far: the claim loop looks again as soon as a place frees up instead of waiting
    /// for the poll interval.
    private let finished = Atomic<Int>(0)
    private let recorder: MicroBatcher<Outcome, Void>
    private let sent = LabelledCounters(label: "scfm_webhook_deliveries_total", dimensionNames: ["outcome"])

    public init(client: PostgresClient, outbound: OutboundHTTPClients, settings: Settings = Settings(), secrets: SecretBox?, logger: Logger) {
        self.secrets = secrets
        self.client = client
        self.outbound = outbound
        self.settings = settings
        self.logger = logger
        recorder = MicroBatcher(maximumBatch: 500, linger: .milliseconds(5)) { outcomes in
            try await Self.record(outcomes, settings: settings, client: client, logger: logger)
            return Array(repeating: (), count: outcomes.count)
        }
    }

    public func run() async throws {
        // A discarding group: a plain task group keeps every finished child's result until it is awaited, which
        // in a loop that never awaits them grew with every delivery sent.
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                var claimed = 0
                do {
                    let (free, busy) = inFlight.withLock { counts in
                        (settings.concurrency - counts.values.reduce(0, +), counts.filter { $0.value >= settings.perEndpoint }.map(\.key))
                    }
                    if free > 0 {
                        let due = try await claim(limit: free, excluding: busy)
                        claimed = due.count
                        for delivery in due {
                            inFlight.withLock { $0[delivery.endpointID, default: 0] += 1 }
                            group.addTask { await self.deliver(delivery) }
                        }
                    }
                } catch {
                    logger.error("webhook dispatcher could not read deliveries", metadata: ["error": "\(String(reflecting: error))"])
                }
                if claimed == 0 { await waitForAPlaceOrThePoll() }
            }
            // Leaving the group drains it: the requests under way finish (each within the timeout) and their
            // outcomes are recorded.
        }
    }

    private func waitForAPlaceOrThePoll() async {
        let seen = finished.load(ordering: .relaxed)
        let deadline = ContinuousClock.now + settings.poll
        while ContinuousClock.now < deadline && finished.load(ordering: .relaxed) == seen && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func deliver(_ delivery: Delivery) async {
        let outcome = await send(delivery)
        sent.increment(outcome.delivered ? "delivered" : "failed_attempt")
        do {
            try await recorder.submit(outcome)
        } catch {
            // Not recorded: the delivery is due again after its lease and is sent once more.
            logger.error("could not record a webhook delivery", metadata: ["delivery_id": "\(delivery.id)", "error": "\(String(reflecting: error))"])
        }
        inFlight.withLock { counts in
            counts[delivery.endpointID, default: 1] -= 1
            if counts[delivery.endpointID] == 0 { counts[delivery.endpointID] = nil }
        }
        finished.add(1, ordering: .relaxed)
    }

    /// Takes due deliveries of enabled endpoints, at most `perEndpoint` per endpoint and none of the busy
    /// ones, and moves their due time past the request timeout while they are sent.
    func claim(limit: Int, excluding busy: [Int64]) async throws -> [Delivery] {
        let lease = settings.requestTimeout.seconds + 30
        let rows = try await client.query(
            """
            WITH due AS (
                SELECT d.id, d.webhook_endpoint_id, d.next_attempt_at FROM webhook_deliveries d
                JOIN webhook_endpoints e ON e.id = d.webhook_endpoint_id AND e.enabled
                WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND NOT d.webhook_endpoint_id = ANY(\(busy))
                ORDER BY d.next_attempt_at LIMIT 5000
            ), fair AS (
                SELECT id FROM (
                    SELECT id, next_attempt_at, row_number() OVER (PARTITION BY webhook_endpoint_id ORDER BY next_attempt_at, id) AS n FROM due
                ) ranked
                WHERE n <= \(settings.perEndpoint) ORDER BY next_attempt_at LIMIT \(limit)
            ), locked AS (
                SELECT id FROM webhook_deliveries WHERE id IN (SELECT id FROM fair) AND status = 'pending'
                FOR UPDATE SKIP LOCKED
            )
            UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => \(lease)), updated_at = now()
            FROM locked, webhook_endpoints e
            WHERE d.id = locked.id AND e.id = d.webhook_endpoint_id
            RETURNING d.id, d.webhook_endpoint_id, e.url, e.secret, d.event_type, d.payload, d.attempts, d.created_at
            """, logger: logger)
        var deliveries: [Delivery] = []
        for try await (id, endpointID, url, secret, type, payload, attempts, createdAt) in rows.decode(
            (Int64, Int64, String, String, String, JSONValue, Int32, Date).self)
        {
            deliveries.append(
                Delivery(
                    id: id, endpointID: endpointID, url: url,
                    secret: Result { () throws(SecretBox.Failure) in try secrets.open(SealedSecret(stored: secret), for: .webhookSecret) },
                    eventType: type, payload: payload,
                    attempts: Int(attempts), createdAt: createdAt))
        }
        return deliveries
    }

    /// The body a receiver gets: the delivery id, the event type, when it happened and its data.
    static func body(of delivery: Delivery) -> [UInt8] {
        let envelope: JSONValue = [
            "id": .integer(delivery.id), "type": .string(delivery.eventType), "created_at": .timestamp(delivery.createdAt),
            "data": delivery.payload,
        ]
        return Array(JSONSerializer.string(envelope).utf8)
    }

    func send(_ delivery: Delivery) async -> Outcome {
        let secret: String
        switch delivery.secret {
        case .success(let opened): secret = opened
        case .failure(let failure):
            logger.error("webhook secret does not open", metadata: ["endpoint_id": "\(delivery.endpointID)", "error": "\(failure)"])
            return Outcome(delivery: delivery, status: nil, body: nil, error: "not sent: \(failure)")
        }
        let body = Self.body(of: delivery)
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "SCFM-Webhooks/1")
        request.headers.add(name: "X-SCFM-Event", value: delivery.eventType)
        request.headers.add(name: "X-SCFM-Delivery", value: String(delivery.id))
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.sign(body: body, secret: secret, timestamp: Int64(Date().timeIntervalSince1970)))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await outbound.execute(request, timeout: .nanoseconds(settings.requestTimeout.nanoseconds))
            var note = ""
            for try await part in response.body {
                note += String(buffer: part)
                if note.count >= settings.noteLength { break }
            }
            return Outcome(
                delivery: delivery, status: Int(response.status.code), body: String(note.prefix(settings.noteLength)), error: nil)
        } catch {
            return Outcome(delivery: delivery, status: nil, body: nil, error: String(describing: error).prefix(1024).description)
        }
    }

    /// The wait before attempt `attempts + 1`: `retryBase` doubled per earlier failure, capped, ±20% jitter so
    /// that deliveries failed together do not come back together.
    static func retryDelay(afterAttempts attempts: Int, settings: Settings) -> Double {
        let base = settings.retryBase.seconds * pow(2, Double(max(0, attempts - 1)))
        return min(settings.retryCap.seconds, base) * Double.random(in: 0.8...1.2)
    }

    /// Records a batch of answers with one statement.
    static func record(_ outcomes: [Outcome], settings: Settings, client: PostgresClient, logger: Logger) async throws {
        let statuses = outcomes.map { outcome -> String in
            if outcome.delivered { return "delivered" }
            return outcome.delivery.attempts >= settings.maximumAttempts ? "failed" : "pending"
        }
        let delays = outcomes.map { retryDelay(afterAttempts: $0.delivery.attempts, settings: settings) }
        try await client.query(
            """
            UPDATE webhook_deliveries d SET
                status = r.status,
                last_response_status = nullif(r.code, 0),
                last_response_body = r.body,
                last_error = nullif(r.error, ''),
                delivered_at = CASE WHEN r.status = 'delivered' THEN now() END,
                next_attempt_at = CASE WHEN r.status = 'pending' THEN now() + make_interval(secs => r.delay) ELSE d.next_attempt_at END,
                updated_at = now()
            FROM unnest(\(outcomes.map(\.delivery.id)), \(statuses), \(outcomes.map { Int32($0.status ?? 0) }),
                        \(outcomes.map { $0.body ?? "" }), \(outcomes.map { $0.error ?? "" }), \(delays),
                        \(outcomes.map { Int32($0.delivery.attempts) }))
                 AS r (id, status, code, body, error, delay, attempts)
            -- Only the attempt that was sent: a delivery replayed or taken over meanwhile keeps its newer state.
            WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'pending'
            """, logger: logger)
    }
}
