import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Runs one role's consumer: messages go to `concurrency` lanes by partition (each partition handled in order)
/// or by key (each key in order, so one partition's keys proceed in parallel: roles whose messages are
/// independent per key, such as one phone call's jobs); at most `maximumInFlight` wait at once. An offset is
/// committed only after it and every offset before it in its partition were handled (or dead-lettered). On graceful shutdown it stops taking messages,
/// lets the lanes finish what they hold, commits, and leaves the group.
public final class WorkerRuntime: Service, Sendable {
    public enum Ordering: Sendable { case partition, key }

    public struct Settings: Sendable {
        public var concurrency = 8
        public var ordering = Ordering.partition
        public var maximumInFlight = 1000
        /// Attempts before a failing message is dead-lettered.
        public var maximumAttempts = 5
        public var firstRetryDelay: Duration = .milliseconds(200)
        public var maximumRetryDelay: Duration = .seconds(10)
        public var commitInterval: Duration = .milliseconds(200)
        public init() {}
    }

    public let role: String
    private let consumer: KafkaConsumer

    /// How many partitions the group assigned to this worker now (benchmarks wait for a settled group).
    public var assignedPartitionCount: Int { consumer.assignedPartitionCount }
    private let handler: any MessageHandler
    private let deadLetters: DeadLetterRepository
    private let settings: Settings
    private let logger: Logger
    private let handledOffsets = HandledOffsets()
    private let metricsByTopic = Mutex<[String: TopicMetrics]>([:])

    /// Metric handles per topic, made once: looking them up in the registry per message is not free.
    struct TopicMetrics {
        let handled: Counter
        let failures: Counter
        let deadLettered: Counter
        let duration: Timer
    }

    func metrics(for topic: String) -> TopicMetrics {
        metricsByTopic.withLock { cache in
            if let existing = cache[topic] { return existing }
            let dimensions = [("role", role), ("topic", topic)]
            let made = TopicMetrics(
                handled: Counter(label: "scfm_worker_messages_total", dimensions: dimensions + [("outcome", "handled")]),
                failures: Counter(label: "scfm_worker_failures_total", dimensions: dimensions),
                deadLettered: Counter(label: "scfm_worker_messages_total", dimensions: dimensions + [("outcome", "dead_lettered")]),
                duration: Timer(label: "scfm_worker_handle_seconds", dimensions: dimensions))
            cache[topic] = made
            return made
        }
    }

    public init(
        role: String, consumer: KafkaConsumer, handler: any MessageHandler, deadLetters: DeadLetterRepository,
        settings: Settings = Settings(), logger: Logger
    ) {
        self.role = role
        self.consumer = consumer
        self.handler = handler
        self.deadLetters = deadLetters
        self.settings = settings
        var logger = logger
        logger[metadataKey: "role"] = "\(role)"
        self.logger = logger
    }

    public func run() async throws {
        consumer.startPolling()
        let limiter = InFlightLimiter(limit: settings.maximumInFlight)
        let lanes = (0..<max(1, settings.concurrency)).map { _ in AsyncStream.makeStream(of: KafkaMessage.self) }

        await withTaskGroup(of: Void.self) { group in
            for lane in lanes {
                group.addTask {
                    for await message in lane.stream {
                        if await self.process(message) { self.handledOffsets.record(message) }
                        limiter.release()
                    }
                }
            }
            let committer = Task { await self.commitPeriodically() }
            let alongside = Task { await self.handler.runAlongside() }

            // Intake ends on graceful shutdown (or when the consumer stops); the lanes then drain.
            await cancelWhenGracefulShutdown {
                for await message in self.consumer.messages {
                    if Task.isCancelled { break }
                    await limiter.acquire()
                    self.handledOffsets.dispatched(message)
                    lanes[self.lane(of: message, lanes: lanes.count)].continuation.yield(message)
                }
            }
            for lane in lanes { lane.continuation.finish() }
            await group.waitForAll()
            committer.cancel()
            alongside.cancel()
            await committer.value
            await alongside.value
        }
        await commitHandled()
        await consumer.close()
        logger.info("worker drained and stopped")
    }

    func lane(of message: KafkaMessage, lanes: Int) -> Int {
        switch settings.ordering {
        case .partition:
            return Int(UInt32(bitPattern: message.partition) % UInt32(lanes))
        case .key:
            // FNV-1a: stable across processes, unlike Hasher.
            var hash: UInt32 = 2_166_136_261
            for byte in message.key ?? [] { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            return Int(hash % UInt32(lanes))
        }
    }

    /// Handles one message with retries; returns whether it may be committed (handled or dead-lettered).
    func process(_ message: KafkaMessage) async -> Bool {
        let metrics = metrics(for: message.topic)
        var attempt = 1
        var delay = settings.firstRetryDelay
        while true {
            do {
                let start = ContinuousClock.now
                try await handler.handle(message)
                metrics.duration.record(duration: ContinuousClock.now - start)
                metrics.handled.increment()
                return true
            } catch is AbandonedForShutdown {
                // Not handled and not committed: it comes again after the restart.
                return false
            } catch let poison as PoisonMessage {
                return await deadLetter(message, error: "poison message: \(poison.reason)", attempts: attempt)
            } catch {
                metrics.failures.increment()
                guard attempt < settings.maximumAttempts else {
                    return await deadLetter(message, error: String(describing: error), attempts: attempt)
                }
                logger.warning(
                    "handler failed; retrying",
                    metadata: ["attempt": "\(attempt)", "error": "\(error)", "partition": "\(message.partition)", "offset": "\(message.offset)"])
                guard (try? await Task.sleep(for: delay)) != nil else { return false }
                attempt += 1
                delay = min(delay * 2, settings.maximumRetryDelay)
            }
        }
    }

    /// Records the dead letter, retrying while the database is unreachable: a message is never committed
    /// without having been handled or recorded.
    private func deadLetter(_ message: KafkaMessage, error: String, attempts: Int) async -> Bool {
        var delay = settings.firstRetryDelay
        while true {
            do {
                try await deadLetters.record(message, error: error, attempts: attempts)
                metrics(for: message.topic).deadLettered.increment()
                logger.error(
                    "message dead-lettered",
                    metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)"])
                return true
            } catch {
                logger.error("cannot record dead letter; retrying", metadata: ["error": "\(String(reflecting: error))"])
                guard (try? await Task.sleep(for: delay)) != nil else { return false }
                delay = min(delay * 2, settings.maximumRetryDelay)
            }
        }
    }

    private func commitPeriodically() async {
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: settings.commitInterval)) != nil else { return }
            await commitHandled()
            for (topic, partition, lag) in consumer.lag() {
                Gauge(
                    label: "scfm_consumer_lag",
                    dimensions: [("role", role), ("topic", topic), ("partition", "\(partition)")]
                ).record(lag)
            }
        }
    }

    private func commitHandled() async {
        let handled = handledOffsets.take()
        guard !handled.isEmpty else { return }
        do {
            try await consumer.commit(handled)
        } catch {
            // Uncommitted messages come again (at least once); the handlers are idempotent.
            logger.error("offset commit failed", metadata: ["error": "\(error)"])
        }
    }
}
