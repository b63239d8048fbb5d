import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Publishes `outbox_messages` to Kafka in id order and marks each row published only after the broker
/// acknowledged it. One relay publishes at a time (a PostgreSQL advisory lock), so order per key holds
/// whichever process runs it; the others wait to take over. A broker outage stops publishing, not the API:
/// rows wait in the table and the relay retries with back-off.
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        public var batchSize = 10_000
        public var idleInterval: Duration = .milliseconds(50)
        public var maximumBackoff: Duration = .seconds(30)
        /// Published rows are deleted after this long.
        public var retention: Duration = .seconds(3600)
        public init() {}
    }

    /// Arbitrary constant naming the relay's advisory lock.
    static let leadershipLock: Int64 = 0x5C_F0_0B_0C

    private let database: PostgresClient
    private let producer: KafkaProducer
    private let kafka: KafkaConfiguration
    private let settings: Settings
    private let logger: Logger
    private let published = Counter(label: "scfm_outbox_published_total")
    private let failures = Counter(label: "scfm_outbox_publish_failures_total")
    private let backlog = Gauge(label: "scfm_outbox_backlog")

    public init(
        database: PostgresClient, producer: KafkaProducer, kafka: KafkaConfiguration, settings: Settings = Settings(),
        logger: Logger
    ) {
        self.database = database
        self.producer = producer
        self.kafka = kafka
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.leadWhileHoldingTheLock()
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("outbox relay interrupted", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Holds one connection for the advisory lock (a session lock lives as long as its connection) and
    /// publishes while it is held.
    private func leadWhileHoldingTheLock() async throws {
        try await database.withConnection { connection in
            let acquired = try await connection.query(
                "SELECT pg_try_advisory_lock(\(Self.leadershipLock))", logger: self.logger
            ).single { try $0.decode(Bool.self) }
            guard acquired else { return }
            self.logger.info("outbox relay is publishing")
            defer { self.logger.info("outbox relay stopped publishing") }
            var backoff: Duration = .milliseconds(100)
            var lastCleanup = ContinuousClock.now
            while !Task.isCancelled {
                let outcome = try await self.publishBatch(on: connection)
                switch outcome {
                case .published(let count):
                    backoff = .milliseconds(100)
                    if count < self.settings.batchSize { try await Task.sleep(for: self.settings.idleInterval) }
                case .failed:
                    try await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, self.settings.maximumBackoff)
                }
                if ContinuousClock.now - lastCleanup > .seconds(60) {
                    try await self.deletePublished(on: connection)
                    lastCleanup = .now
                }
            }
        }
    }

    enum BatchOutcome { case published(Int), failed }

    /// Sends one batch and marks the acknowledged prefix; rows after a failure stay for the next attempt so
    /// that no message overtakes an earlier one with the same key.
    func publishBatch(on connection: PostgresConnection) async throws -> BatchOutcome {
        var rows: [(id: Int64, topic: String, key: String, payload: String)] = []
        rows.reserveCapacity(settings.batchSize)
        // The payload leaves as PostgreSQL renders it: no parse and re-serialisation per row.
        for try await row in try await connection.query(
            """
            SELECT id, topic, message_key, payload::text FROM outbox_messages
            WHERE published_at IS NULL ORDER BY id LIMIT \(settings.batchSize)
            """, logger: logger
        ).decode((Int64, String, String, String).self) {
            rows.append(row)
        }
        guard !rows.isEmpty else {
            backlog.record(0)
            return .published(0)
        }

        // Enqueued in id order, so messages with the same key reach their partition in that order.
        let results = await producer.send(
            batch: rows.map { row in
                KafkaOutgoingMessage(
                    topic: kafka.topicPrefix + row.topic, key: row.key, value: Array(row.payload.utf8))
            })
        let acknowledgedPrefix = results.firstIndex { if case .failure = $0 { true } else { false } } ?? rows.count
        let ids = rows.prefix(acknowledgedPrefix).map(\.id)
        if !ids.isEmpty {
            try await connection.query(
                "UPDATE outbox_messages SET published_at = now() WHERE id = ANY(\(ids))", logger: logger)
            published.increment(by: ids.count)
        }
        if acknowledgedPrefix < rows.count {
            failures.increment()
            logger.warning(
                "outbox publish failed; will retry",
                metadata: ["published": "\(ids.count)", "pending": "\(rows.count - ids.count)"])
            return .failed
        }
        return .published(rows.count)
    }

    private func deletePublished(on connection: PostgresConnection) async throws {
        let seconds = Double(settings.retention.components.seconds)
        try await connection.query(
            "DELETE FROM outbox_messages WHERE published_at < now() - make_interval(secs => \(seconds))",
            logger: logger)
        let pending = try await connection.query(
            "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: logger
        ).single { try $0.decode(Int64.self) }
        backlog.record(pending)
    }
}
