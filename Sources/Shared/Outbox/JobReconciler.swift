import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// PostgreSQL is the record, Kafka the carrier: finds every job the broker no longer carries, or carried
/// without its effect happening, and sends it again (part of the `scheduler` role).
///
/// The outbox relay records the partition and offset of each job's acknowledgement, and a published row stays
/// until this reconciler has seen it through. Each pass reads, per topic and partition, the broker's low and
/// high watermarks and the committed offsets of the topic's consumer groups (`KafkaConfiguration.consumerGroups(of:)`), then,
/// over the outbox's index of delivered rows and in bounded set-based statements (O(jobs outstanding), never
/// O(history)):
/// - **lost**: rows acknowledged more than `redeliverAfter` before the pass whose offset is at or past the high
///   watermark (the broker forgot them: a restarted local broker, a lost partition, a deleted topic) or below
///   the low watermark and not yet read (dropped by retention or size before anyone read them) are marked
///   unpublished, and the relay sends them again;
/// - **read**: rows below every group's committed offset. Where the handler's effect is in PostgreSQL by the
///   time it commits, the effect is checked: a queue job whose call is still `queued`, unclaimed and not held by
///   its callout (the claim is the handler's first write); a batch-operation job whose operation is still
///   `queued` or `running` (its offset is committed when the operation finished); a status event whose status
///   outranks the call's. Those are sent again (this also covers an offset that a restarted broker gave to
///   another message, and a group an operator moved past its messages); the rest are deleted. A remote-fetch
///   job's effect is not checked: its handler publishes what it found as a status event, applied later by
///   the `status` role, so a call may rightly still be `remote_fetch_queued` when its job is read (the first
///   version checked it and, in a million-call run whose status events waited behind a backlog, sent 159,558
///   fetches again for nothing). A fetch whose answer got lost further on is fetched again by the stuck-call
///   sweeper (`PHONE_CALL_FETCH_AFTER_SECONDS`).
///
/// Redelivery is harmless by design: the dial claim is a compare-and-set, batch operations resume from their
/// checkpoint, status events are ranked. A row sent again `maximumRedeliveries` times is given up (logged and
/// counted) rather than sent forever. One replica reconciles at a time (a transaction-scoped advisory lock).
public final class JobReconciler: Service, Sendable {
    public struct Settings: Sendable {
        /// RECONCILE_INTERVAL_SECONDS.
        public var interval: Duration = .seconds(5)
        /// JOB_REDELIVERY_SECONDS: how long after its acknowledgement a job the broker does not hold is sent
        /// again (a grace for the reads of one pass, which are not one instant).
        public var redeliverAfter: Duration = .seconds(30)
        /// Rows looked at per statement; a pass repeats a statement while it fills its batch.
        public var batchSize = 10_000
        public var maximumRedeliveries = 10
        public init() {}
    }

    /// What a pass did, per topic.
    public struct Pass: Sendable, Equatable {
        /// Rows sent again, by topic and reason (`broker_lost`, `dropped_unread`, `read_without_effect`).
        public var redelivered: [String: [String: Int]] = [:]
        public var completed = 0
        public var abandoned = 0
        /// False when another replica held the lock.
        public var ran = true

        public var redeliveredCount: Int { redelivered.values.flatMap(\.values).reduce(0, +) }
    }

    static let lock: Int64 = 0x5C_F0_0B_0D

    let client: PostgresClient
    let offsets: KafkaOffsetsReader
    let kafka: KafkaConfiguration
    let settings: Settings
    let logger: Logger
    private let redeliveries = LabelledCounters(label: "scfm_jobs_redelivered_total", dimensionNames: ["topic", "reason"])
    private let completions = Counter(label: "scfm_jobs_completed_total")
    private let abandoned = Counter(label: "scfm_jobs_redelivery_abandoned_total")
    private let failures = Counter(label: "scfm_job_reconciler_failures_total")

    public init(client: PostgresClient, offsets: KafkaOffsetsReader, kafka: KafkaConfiguration, settings: Settings = Settings(), logger: Logger) {
        self.client = client
        self.offsets = offsets
        self.kafka = kafka
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(
            every: settings.interval, logger: logger, failure: "job reconciliation failed", onFailure: { self.failures.increment() }
        ) {
            let pass = try await self.reconcile()
            if pass.redeliveredCount > 0 || pass.abandoned > 0 {
                self.logger.warning(
                    "sent jobs again that the broker lost or that had no effect",
                    metadata: ["redelivered": "\(pass.redelivered)", "abandoned": "\(pass.abandoned)"])
            }
        }
    }

    /// Where one topic's partitions stand, as arrays for UNNEST.
    struct Marks {
        var topics: [String] = []
        var partitions: [Int32] = []
        var lows: [Int64] = []
        var highs: [Int64] = []
        /// -1 where no group of the topic has committed on the partition.
        var committed: [Int64] = []
    }

    /// One pass over every topic.
    @discardableResult
    public func reconcile() async throws -> Pass {
        // The database's clock before the broker is asked: a row marked published before this instant was
        // acknowledged before the watermarks were read (the mark's transaction starts after the acknowledgement).
        let asked = try await client.query("SELECT clock_timestamp()", logger: logger).single { try $0.decode(Date.self) }
        var marks = Marks()
        for topic in Topic.allCases {
            let groups = kafka.consumerGroups(of: topic)
            for partition in try await offsets.partitions(topic: kafka.topic(topic), groups: groups) {
                marks.topics.append(topic.rawValue)
                marks.partitions.append(partition.partition)
                marks.lows.append(partition.low)
                marks.highs.append(partition.high)
                marks.committed.append(partition.committed(by: groups) ?? -1)
            }
        }
        let marksRead = marks
        let result: Pass? = try await client.transaction(logger: logger) { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.lock))", logger: self.logger)
                .single { try $0.decode(Bool.self) }
            guard locked else { return nil }
            var pass = Pass()
            try await self.redeliverLost(marksRead, asked: asked, on: connection, into: &pass)
            try await self.settleRead(marksRead, asked: asked, on: connection, into: &pass)
            return pass
        }
        var pass = result ?? Pass()
        pass.ran = result != nil
        for (topic, reasons) in pass.redelivered {
            for (reason, count) in reasons { redeliveries.add(count, topic, reason) }
        }
        completions.increment(by: pass.completed)
        abandoned.increment(by: pass.abandoned)
        return pass
    }

    /// Rows the broker no longer holds, unread: marked unpublished, so the relay sends them again.
    private func redeliverLost(_ marks: Marks, asked: Date, on connection: PostgresConnection, into pass: inout Pass) async throws {
        let cutoff = asked.addingTimeInterval(-settings.redeliverAfter.seconds)
        while true {
            var changed = 0
            for try await (topic, reason, count) in try await connection.query(
                """
                WITH marks AS (
                    SELECT * FROM UNNEST(\(marks.topics), \(marks.partitions), \(marks.lows), \(marks.highs), \(marks.committed))
                        AS m(topic, part, low, high, committed)
                ), lost AS (
                    SELECT o.id, o.topic, o.reason FROM marks m CROSS JOIN LATERAL (
                        (SELECT id, topic, 'broker_lost' AS reason FROM outbox_messages
                         WHERE published_at IS NOT NULL AND topic = m.topic AND kafka_partition = m.part
                           AND kafka_offset >= m.high AND published_at < \(cutoff)
                         LIMIT \(settings.batchSize))
                        UNION ALL
                        (SELECT id, topic, 'dropped_unread' FROM outbox_messages
                         WHERE published_at IS NOT NULL AND topic = m.topic AND kafka_partition = m.part
                           AND kafka_offset < m.low AND kafka_offset >= m.committed AND published_at < \(cutoff)
                         LIMIT \(settings.batchSize))
                    ) o
                    LIMIT \(settings.batchSize)
                ), sent AS (
                    UPDATE outbox_messages o SET published_at = NULL, kafka_partition = NULL, kafka_offset = NULL,
                        redeliveries = o.redeliveries + 1
                    FROM lost WHERE o.id = lost.id
                    RETURNING o.id
                )
                SELECT topic, reason, count(*)::int8 FROM lost WHERE id IN (SELECT id FROM sent) GROUP BY topic, reason
                """, logger: logger
            ).decode((String, String, Int64).self) {
                pass.redelivered[topic, default: [:]][reason, default: 0] += Int(count)
                changed += Int(count)
            }
            if changed < settings.batchSize { break }
        }
    }

    /// Rows every group of their topic has read: those whose effect is missing in PostgreSQL are sent again,
    /// the others deleted.
    private func settleRead(_ marks: Marks, asked: Date, on connection: PostgresConnection, into pass: inout Pass) async throws {
        while true {
            var looked = 0
            for try await (outcome, topic, count) in try await connection.query(
                """
                WITH marks AS (
                    SELECT * FROM UNNEST(\(marks.topics), \(marks.partitions), \(marks.committed)) AS m(topic, part, committed)
                    WHERE committed >= 0
                ), read AS (
                    SELECT o.id, o.topic, o.payload, o.redeliveries FROM marks m CROSS JOIN LATERAL (
                        SELECT id, topic, payload, redeliveries FROM outbox_messages
                        WHERE published_at IS NOT NULL AND topic = m.topic AND kafka_partition = m.part
                          AND kafka_offset < m.committed AND published_at < \(asked)
                        LIMIT \(settings.batchSize)
                    ) o
                    LIMIT \(settings.batchSize)
                ), undone AS (
                    SELECT r.id FROM read r JOIN phone_calls p ON p.id = (r.payload->>'phone_call_id')::bigint
                    WHERE r.topic = \(Topic.phoneCallsQueue.rawValue)
                      AND p.status = 'queued' AND p.dial_claimed_at IS NULL AND \(unescaped: CalloutHold.notHeld.text)

                    UNION ALL
                    SELECT r.id FROM read r JOIN batch_operations b ON b.id = (r.payload->>'batch_operation_id')::bigint
                    WHERE r.topic = \(Topic.batchOperations.rawValue) AND b.status IN ('queued', 'running')
                    UNION ALL
                    SELECT r.id FROM read r JOIN phone_calls p ON p.id = (r.payload->>'phone_call_id')::bigint
                    WHERE r.topic = \(Topic.phoneCallEvents.rawValue)
                      AND phone_call_status_rank(r.payload->>'status') > phone_call_status_rank(p.status)
                ), again AS (
                    UPDATE outbox_messages o SET published_at = NULL, kafka_partition = NULL, kafka_offset = NULL,
                        redeliveries = o.redeliveries + 1
                    FROM read r
                    WHERE o.id = r.id AND r.id IN (SELECT id FROM undone) AND r.redeliveries < \(settings.maximumRedeliveries)
                    RETURNING o.id, o.topic
                ), done AS (
                    DELETE FROM outbox_messages o USING read r
                    WHERE o.id = r.id AND (r.id NOT IN (SELECT id FROM undone) OR r.redeliveries >= \(settings.maximumRedeliveries))
                    RETURNING o.id, o.topic, r.id IN (SELECT id FROM undone) AS abandoned
                )
                SELECT 'again', topic, count(*)::int8 FROM again GROUP BY topic
                UNION ALL SELECT CASE WHEN abandoned THEN 'abandoned' ELSE 'done' END, topic, count(*)::int8 FROM done
                    GROUP BY abandoned, topic
                """, logger: logger
            ).decode((String, String, Int64).self) {
                looked += Int(count)
                switch outcome {
                case "again": pass.redelivered[topic, default: [:]]["read_without_effect", default: 0] += Int(count)
                case "abandoned":
                    pass.abandoned += Int(count)
                    logger.error(
                        "gave up a job sent again too often without its effect",
                        metadata: ["topic": "\(topic)", "jobs": "\(count)", "redeliveries": "\(settings.maximumRedeliveries)"])
                default: pass.completed += Int(count)
                }
            }
            if looked < settings.batchSize { break }
        }
    }
}
