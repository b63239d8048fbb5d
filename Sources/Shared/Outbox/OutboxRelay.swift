import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Publishes `outbox_messages` to Kafka in id order and marks each row published only after the broker
/// acknowledged it, with the partition and offset the broker gave it. One relay publishes at a time (a
/// PostgreSQL advisory lock), so order per key holds whichever process runs it; the others wait to take over.
/// A broker outage stops publishing, not the API: rows wait in the table and the relay retries with back-off.
///
/// Published rows stay until the job reconciler (`JobReconciler`) has seen every consumer group of their topic
/// commit past them; `retention` only bounds how long a row nobody reconciles is kept. With
/// `maximumPartitionLag` set, a topic whose consumers are that many messages behind on some partition is held
/// back (its rows wait here, the other topics go on), so a backlog never outgrows what the broker keeps (the
/// local broker drops a partition's oldest messages past 5 MB).
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        public var batchSize = 10_000
        public var idleInterval: Duration = .milliseconds(50)
        public var maximumBackoff: Duration = .seconds(30)
        /// Published rows that no reconciler removed are deleted after this long (OUTBOX_RETENTION_SECONDS).
        public var retention: Duration = .seconds(24 * 3600)
        /// OUTBOX_MAX_PARTITION_LAG: hold a topic back while its consumers are this many messages behind on a
        /// partition (nil: never). Needs `offsets`.
        public var maximumPartitionLag: Int64?
        /// How often the consumers' lag is read for `maximumPartitionLag`.
        public var lagInterval: Duration = .seconds(1)
        /// How long the publishing loop may go without finishing a step (a batch acknowledged or failed, an
        /// idle look at the table) before it is abandoned and started over: longer than a delivery timeout
        /// (`message.timeout.ms`, 30 s) plus the longest back-off.
        public var stallTimeout: Duration = .seconds(120)
        public init() {}

        /// OUTBOX_RETENTION_SECONDS and OUTBOX_MAX_PARTITION_LAG (0 or unset: never hold a topic back).
        public init(environment: EnvironmentVariables) throws {
            retention = try environment.seconds("OUTBOX_RETENTION_SECONDS", default: retention, range: 60...31_536_000)
            if let lag = try environment.optionalInteger("OUTBOX_MAX_PARTITION_LAG", range: 0...1_000_000_000), lag > 0 {
                maximumPartitionLag = Int64(lag)
            }
        }
    }

    /// The relay as every process runs it, configured from the environment (the API and the `outbox-relay`
    /// role alike).
    public static func fromEnvironment(
        database: PostgresClient, producer: KafkaProducer, kafka: KafkaConfiguration, environment: EnvironmentVariables,
        logger: Logger
    ) throws -> OutboxRelay {
        let settings = try Settings(environment: environment)
        let offsets = settings.maximumPartitionLag == nil ? nil : try KafkaOffsetsReader(configuration: kafka)
        return OutboxRelay(database: database, producer: producer, kafka: kafka, offsets: offsets, settings: settings, logger: logger)
    }

    /// Arbitrary constant naming the relay's advisory lock.
    static let leadershipLock: Int64 = 0x5C_F0_0B_0C

    private let database: PostgresClient
    private let producer: KafkaProducer
    private let kafka: KafkaConfiguration
    private let offsets: KafkaOffsetsReader?
    /// Topics held back because their consumers are too far behind (`maximumPartitionLag`).
    private let held = Mutex<Set<Topic>>([])
    private let settings: Settings
    private let logger: Logger
    private let published = Counter(label: "scfm_outbox_published_total")
    private let failures = Counter(label: "scfm_outbox_publish_failures_total")
    private let backlog = Gauge(label: "scfm_outbox_backlog")
    private let stalls = Counter(label: "scfm_outbox_relay_stalls_total")
    /// When the publishing loop last finished a step (ContinuousClock nanoseconds since `started`).
    private let lastStep = Atomic<Int64>(0)
    /// When a standby relay last counted the backlog (nanoseconds since `started`; -1: never).
    private let lastStandbyCount = Atomic<Int64>(-1)
    private let started = ContinuousClock.now

    public init(
        database: PostgresClient, producer: KafkaProducer, kafka: KafkaConfiguration, offsets: KafkaOffsetsReader? = nil,
        settings: Settings = Settings(), logger: Logger
    ) {
        self.offsets = offsets
        self.database = database
        self.producer = producer
        self.kafka = kafka
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.markStep()
                // Leadership runs as its own task, watched: a step that never finishes (seen once after a
                // PostgreSQL crash in make chaos, with nothing logged) must not stop publishing for good.
                let leading = Task { try await self.leadWhileHoldingTheLock() }
                let finished = await self.watch(leading)
                if !finished {
                    self.stalls.increment()
                    self.logger.error(
                        "outbox relay stalled; starting it over",
                        metadata: ["stall_timeout_seconds": "\(self.settings.stallTimeout.seconds)"])
                    leading.cancel()
                } else {
                    do {
                        try await leading.value
                    } catch is CancellationError {
                        return
                    } catch {
                        self.logger.error("outbox relay interrupted", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Waits for `leading` to end (true), or for its loop to go `stallTimeout` without a step (false).
    /// Cancellation (shutdown) is passed on and waited for.
    private func watch(_ leading: Task<Void, any Error>) async -> Bool {
        let finished = Atomic<Bool>(false)
        let watcher = Task {
            _ = await leading.result
            finished.store(true, ordering: .releasing)
        }
        defer { watcher.cancel() }
        return await withTaskCancellationHandler {
            while !finished.load(ordering: .acquiring) {
                if Task.isCancelled {
                    leading.cancel()
                    _ = await leading.result
                    return true
                }
                if ContinuousClock.now - stepInstant() > settings.stallTimeout { return false }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return true
        } onCancel: {
            leading.cancel()
        }
    }

    private func markStep() {
        lastStep.store((ContinuousClock.now - started).nanoseconds, ordering: .relaxed)
    }

    private func stepInstant() -> ContinuousClock.Instant {
        started + .nanoseconds(lastStep.load(ordering: .relaxed))
    }

    /// Holds one connection for the advisory lock (a session lock lives as long as its connection) and
    /// publishes while it is held.
    private func leadWhileHoldingTheLock() async throws {
        try await database.withConnection { connection in
            let acquired = try await connection.query(
                "SELECT pg_try_advisory_lock(\(Self.leadershipLock))", logger: self.logger
            ).single { try $0.decode(Bool.self) }
            guard acquired else {
                // A standby relay still reports the backlog (every 15 s), so the alert on it does not depend on
                // which process leads or on the leader being alive.
                try await self.recordBacklogIfDue(connection)
                return
            }
            self.logger.info("outbox relay is publishing")
            defer { self.logger.info("outbox relay stopped publishing") }
            do {
                try await self.publishContinuously()
            } catch {
                await self.unlock(connection)
                throw error
            }
            await self.unlock(connection)
        }
    }

    /// Gives the leadership lock up before the connection goes back to the pool: a session lock outlives the
    /// relay that took it, and a pooled connection still holding it kept every later relay of the process
    /// (after a stall's restart, or a new relay on the same pool) from publishing until the pool happened to
    /// hand that very connection out again (`make bench` saw nine-second stalls). Run unstructured, so that
    /// the cancellation that stopped the relay does not stop the unlock.
    private func unlock(_ connection: PostgresConnection) async {
        let logger = self.logger
        await Task {
            do {
                try await connection.query("SELECT pg_advisory_unlock(\(Self.leadershipLock))", logger: logger)
            } catch {
                logger.warning("outbox relay could not give up its lock", metadata: ["error": "\(String(reflecting: error))"])
            }
        }.value
    }

    public typealias Row = (id: Int64, topic: String, key: String, payload: String)

    /// A pipeline of three stages on different connections: while batch N is in flight at the broker, batch
    /// N-1 is marked published and batch N+1 is read. Batch N+1 is handed to the producer only after every
    /// message of batch N was acknowledged, so after a failure no message overtakes an earlier one with the
    /// same key: the acknowledged prefix is marked and the rest is read again after a back-off.
    func publishContinuously() async throws {
        var backoff: Duration = .milliseconds(100)
        var lastCleanup = ContinuousClock.now
        var lastLagCheck = ContinuousClock.now - settings.lagInterval
        var acknowledged: [Delivered] = []
        var batch = try await readBatch(after: 0)
        while !Task.isCancelled {
            if ContinuousClock.now - lastCleanup > .seconds(60) {
                try await deletePublished()
                lastCleanup = .now
            }
            if ContinuousClock.now - lastLagCheck >= settings.lagInterval {
                lastLagCheck = .now
                if await refreshHeldTopics() {
                    // Read again from the start (a released topic's rows lie behind the cursor), after marking
                    // what the broker acknowledged, which would otherwise be read and sent a second time.
                    try await markPublished(acknowledged)
                    acknowledged = []
                    batch = try await readBatch(after: 0)
                }
            }
            markStep()
            guard let lastID = batch.last?.id else {
                try await markPublished(acknowledged)
                acknowledged = []
                try await Task.sleep(for: settings.idleInterval)
                batch = try await readBatch(after: 0)
                continue
            }
            let prefix = kafka.topicPrefix
            let inFlight = await producer.enqueue(
                batch: batch.map { KafkaOutgoingMessage(topic: prefix + $0.topic, key: $0.key, value: Array($0.payload.utf8)) })
            let previous = acknowledged
            async let marked: Void = markPublished(previous)
            async let ahead = readBatch(after: lastID)
            let results = await inFlight.reports()
            markStep()
            try await marked
            let delivered = results.firstIndex { if case .failure = $0 { true } else { false } } ?? batch.count
            let positions = zip(batch, results).prefix(delivered).compactMap { row, result -> Delivered? in
                guard case .success(let report) = result else { return nil }
                return Delivered(id: row.id, partition: report.partition, offset: report.offset)
            }
            guard delivered == batch.count else {
                _ = try? await ahead
                try await markPublished(positions)
                acknowledged = []
                failures.increment()
                logger.warning(
                    "outbox publish failed; will retry",
                    metadata: ["published": "\(delivered)", "pending": "\(batch.count - delivered)"])
                try await Task.sleep(for: backoff)
                markStep()
                backoff = min(backoff * 2, settings.maximumBackoff)
                batch = try await readBatch(after: 0)
                continue
            }
            backoff = .milliseconds(100)
            acknowledged = positions
            batch = try await ahead
        }
        // Stopping: what the broker acknowledged is marked even though this task is cancelled.
        let remaining = acknowledged
        try await Task { try await self.markPublished(remaining) }.value
    }

    /// A published job and where the broker put it.
    struct Delivered {
        let id: Int64
        let partition: Int32
        let offset: Int64
    }

    func readBatch(after id: Int64) async throws -> [Row] {
        let held = self.held.withLock { $0 }
        if held.isEmpty {
            return try await Self.readUnpublished(after: id, limit: settings.batchSize, database: database, logger: logger)
        }
        return try await Self.readUnpublished(
            after: id, limit: settings.batchSize, topics: Topic.allCases.filter { !held.contains($0) }, database: database,
            logger: logger)
    }

    /// Reads the consumers' lag of every topic and holds back those past `maximumPartitionLag` on some
    /// partition; answers whether the set changed. A broker that does not answer changes nothing (publishing
    /// fails on its own then).
    private func refreshHeldTopics() async -> Bool {
        guard let limit = settings.maximumPartitionLag, let offsets else { return false }
        var now: Set<Topic> = []
        var lags: [String: Int64] = [:]
        for topic in Topic.allCases {
            do {
                let partitions = try await offsets.partitions(topic: kafka.topic(topic), groups: kafka.consumerGroups(of: topic))
                let lag = partitions.map { $0.high - ($0.committed(by: kafka.consumerGroups(of: topic)) ?? $0.low) }.max() ?? 0
                lags[topic.rawValue] = lag
                if lag >= limit { now.insert(topic) }
            } catch {
                if held.withLock({ $0.contains(topic) }) { now.insert(topic) }
            }
        }
        let previous = held.withLock { held in
            let previous = held
            held = now
            return previous
        }
        for topic in Topic.allCases {
            Gauge(label: "scfm_outbox_topic_held", dimensions: [("topic", topic.rawValue)]).record(now.contains(topic) ? 1 : 0)
        }
        guard previous != now else { return false }
        logger.info(
            "outbox topics held back while their consumers catch up",
            metadata: [
                "held": "\(now.map(\.rawValue).sorted())", "maximum_partition_lag": "\(limit)", "largest_partition_lags": "\(lags)",
            ])
        return true
    }

    /// Unpublished rows after `id`, in id order: the relay's read, public so that the outbox benchmark's SQL
    /// floor runs the very same statements. The payload leaves as PostgreSQL renders it: no parse and
    /// re-serialisation per row.
    ///
    /// Always by walking the partial index in id order. Statistics of a table that just took a burst (taken
    /// while it was nearly empty) made the planner expect a few thousand rows and pick a bitmap scan of every
    /// unpublished row and a sort of them all: 100,000 rows of 1 KiB sorted on disk, 0.5 s, for each batch of
    /// 10,000 (and a backlog of millions after a broker outage would have been sorted for every batch). The
    /// index walk reads only the batch.
    public static func readUnpublished(
        after id: Int64, limit: Int, database: PostgresClient, logger: Logger
    ) async throws -> [Row] {
        try await walkingIndexes(
            """
            SELECT id, topic, message_key, payload::text FROM outbox_messages
            WHERE published_at IS NULL AND id > \(id) ORDER BY id LIMIT \(limit)
            """, limit: limit, database: database, logger: logger)
    }

    /// The same read limited to `topics`, while others are held back: one index walk per topic (the partial
    /// index by topic and id), merged in id order, so rows of a held topic are never walked past.
    public static func readUnpublished(
        after id: Int64, limit: Int, topics: [Topic], database: PostgresClient, logger: Logger
    ) async throws -> [Row] {
        precondition(Topic.allCases.count == 4, "one branch per topic below")
        // A held topic's branch asks for a topic that does not exist, which its index answers at once.
        let open = Topic.allCases.map { topics.contains($0) ? $0.rawValue : "" }
        return try await walkingIndexes(
            """
            SELECT id, topic, message_key, payload FROM (
                (SELECT id, topic, message_key, payload::text AS payload FROM outbox_messages
                 WHERE published_at IS NULL AND topic = \(open[0]) AND id > \(id) ORDER BY id LIMIT \(limit))
                UNION ALL
                (SELECT id, topic, message_key, payload::text FROM outbox_messages
                 WHERE published_at IS NULL AND topic = \(open[1]) AND id > \(id) ORDER BY id LIMIT \(limit))
                UNION ALL
                (SELECT id, topic, message_key, payload::text FROM outbox_messages
                 WHERE published_at IS NULL AND topic = \(open[2]) AND id > \(id) ORDER BY id LIMIT \(limit))
                UNION ALL
                (SELECT id, topic, message_key, payload::text FROM outbox_messages
                 WHERE published_at IS NULL AND topic = \(open[3]) AND id > \(id) ORDER BY id LIMIT \(limit))
            ) unpublished ORDER BY id LIMIT \(limit)
            """, limit: limit, database: database, logger: logger)
    }

    /// Runs a read of unpublished rows with sorts and bitmap scans off for its transaction, so that the planner
    /// walks the partial indexes in id order whatever its statistics say.
    private static func walkingIndexes(
        _ query: PostgresQuery, limit: Int, database: PostgresClient, logger: Logger
    ) async throws -> [Row] {
        try await database.transaction(logger: logger) { connection in
            try await connection.query(
                "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)",
                logger: logger)
            var rows: [Row] = []
            rows.reserveCapacity(limit)
            for try await row in try await connection.query(query, logger: logger).decode((Int64, String, String, String).self) {
                rows.append(row)
            }
            return rows
        }
    }

    /// Marks rows published, with the partition and offset of each acknowledgement (one statement).
    private func markPublished(_ delivered: [Delivered]) async throws {
        guard !delivered.isEmpty else { return }
        try await database.query(
            """
            UPDATE outbox_messages o SET published_at = now(), kafka_partition = d.part, kafka_offset = d.kafka_offset
            FROM UNNEST(\(delivered.map(\.id)), \(delivered.map { Int32($0.partition) }), \(delivered.map(\.offset)))
                AS d(id, part, kafka_offset)
            WHERE o.id = d.id
            """, logger: logger)
        published.increment(by: delivered.count)
    }

    private func recordBacklogIfDue(_ connection: PostgresConnection) async throws {
        let now = (ContinuousClock.now - started).nanoseconds
        let last = lastStandbyCount.load(ordering: .relaxed)
        guard last < 0 || now - last >= Duration.seconds(15).nanoseconds else { return }
        lastStandbyCount.store(now, ordering: .relaxed)
        let pending = try await connection.query(
            "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: logger
        ).single { try $0.decode(Int64.self) }
        backlog.record(pending)
    }

    private func deletePublished() async throws {
        let seconds = Double(settings.retention.components.seconds)
        try await database.query(
            "DELETE FROM outbox_messages WHERE published_at < now() - make_interval(secs => \(seconds))",
            logger: logger)
        let pending = try await database.query(
            "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: logger
        ).single { try $0.decode(Int64.self) }
        backlog.record(pending)
    }
}
