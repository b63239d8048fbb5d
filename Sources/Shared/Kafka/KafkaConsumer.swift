import CRdKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A consumer-group member: `messages` yields what the group assigned to it, in order per partition. Offsets
/// are committed only explicitly, by `commit(_:)` once the messages were handled; nothing is auto-committed.
///
/// As a `Service` it polls until graceful shutdown, then commits and leaves the group. At most
/// `maximumBuffered` messages wait between the poll thread and the reader: the poll pauses when they do.
public final class KafkaConsumer: Service, Sendable {
    public let groupID: String
    private let client: KafkaClientHandle
    /// Messages travel from the poll thread in batches: one wake-up of the reader per batch, not per message.
    private let stream: AsyncStream<[KafkaMessage]>
    private let continuation: AsyncStream<[KafkaMessage]>.Continuation
    private let queue: KafkaQueueHandle
    private let buffer: MessageBuffer
    private let pollThread = Mutex<KafkaPollThread?>(nil)
    private let closed = Atomic<Bool>(false)
    private let rebalances = RebalanceState()
    private let logger: Logger

    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], maximumBuffered: Int = defaultMaximumBuffered,
        logger: Logger, overrides: [String: String] = [:]
    ) throws {
        let defaults: [String: String] = [
            "group.id": groupID,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
            "session.timeout.ms": "10000",
            "heartbeat.interval.ms": "1000",
            "log_level": "3",
        ]
        let properties = configuration.clientProperties(defaults: defaults, overrides: configuration.consumerProperties.merging(overrides) { $1 })
        let rebalances = self.rebalances
        client = try KafkaClientHandle(kind: .consumer, properties: properties) { configuration in
            // The consumer owns `rebalances` and outlives the client, so the unretained pointer stays valid.
            rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(rebalances).toOpaque())
            rd_kafka_conf_set_rebalance_cb(configuration, rebalanceCallback)
        }
        rd_kafka_poll_set_consumer(client.pointer)
        queue = KafkaQueueHandle(client: client)

        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let result = rd_kafka_subscribe(client.pointer, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError("cannot subscribe to \(topics): \(String(cString: rd_kafka_err2str(result)))")
        }

        (stream, continuation) = AsyncStream.makeStream(of: [KafkaMessage].self)
        buffer = MessageBuffer(capacity: maximumBuffered)
        self.groupID = groupID
        self.logger = logger
    }

    /// The messages, in order per partition; ends when the consumer stops polling.
    public var messages: KafkaMessageSequence { KafkaMessageSequence(base: stream, buffer: buffer, rebalances: rebalances) }

    /// Starts polling without the service lifecycle (tests and tools). `run()` starts it too.
    public func startPolling() {
        pollThread.withLock { thread in
            guard thread == nil else { return }
            let queue = self.queue
            let continuation = self.continuation
            let buffer = self.buffer
            let rebalances = self.rebalances
            let logger = self.logger
            let client = self.client
            let paused = Atomic<Bool>(false)
            thread = KafkaPollThread(name: "kafka-consumer-poll") {
                // Back-pressure: while the reader is behind, pause fetching but keep polling. A consumer that
                // stops polling cannot answer a rebalance, and the group would stall and then expel it (and
                // rebalance again, and again, while the reader stays behind). A paused consumer's poll serves
                // the group's events and returns no messages; resuming fetches from the next undelivered one.
                if !buffer.hasRoom {
                    KafkaConsumer.setAssignment(of: client, paused: true)
                    paused.store(true, ordering: .relaxed)
                } else if paused.load(ordering: .relaxed), buffer.isBelowHalf {
                    KafkaConsumer.setAssignment(of: client, paused: false)
                    paused.store(false, ordering: .relaxed)
                }
                var raw = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: KafkaConsumer.pollBatchSize)
                // Serves the rebalance callback too, on this thread, like rd_kafka_consumer_poll.
                let count = rd_kafka_consume_batch_queue(queue.pointer, 100, &raw, raw.count)
                guard count > 0 else { return }
                // Read after the call, so it is the generation these messages were fetched under.
                let generation = rebalances.generation
                var batch: [KafkaMessage] = []
                batch.reserveCapacity(count)
                for index in 0..<count {
                    guard let message = raw[index] else { continue }
                    defer { rd_kafka_message_destroy(message) }
                    guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        logger.warning(
                            "Kafka consumer error",
                            metadata: ["error": "\(String(cString: rd_kafka_err2str(message.pointee.err)))"])
                        continue
                    }
                    batch.append(KafkaConsumer.copy(message, generation: generation))
                }
                guard !batch.isEmpty else { return }
                buffer.added(batch.count)
                continuation.yield(batch)
            }
        }
    }

    /// Pauses or resumes fetching for every partition currently assigned.
    static func setAssignment(of client: KafkaClientHandle, paused: Bool) {
        var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.pointer, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        guard assignment.pointee.cnt > 0 else { return }
        _ = paused ? rd_kafka_pause_partitions(client.pointer, assignment) : rd_kafka_resume_partitions(client.pointer, assignment)
    }

    /// Messages taken from librdkafka per call of the poll thread.
    static let pollBatchSize = 500

    /// Each resume of fetching waits for a fetch cycle of the broker. Against the local broker that was half a
    /// second (it answers an empty fetch only after `fetch.wait.max.ms`; its clients now ask for 100 ms, see
    /// `KafkaConfiguration.localBrokerConsumerProperties`), and a reader that kept falling behind a buffer of
    /// 1,000 got about 1,600 messages/s. Readers that must keep up with a flood (the outbox benchmark) take
    /// 10,000. The workers keep 1,000: their handlers, not the fetching, set their pace, and a larger buffer
    /// holds more jobs that a rebalance makes stale (the three-worker rate test fell from 49 to 45–48 calls/s
    /// with 10,000).
    public static let defaultMaximumBuffered = 1000

    /// Stops taking messages from the broker and ends `messages`. Buffered messages are still delivered.
    public func stopPolling() async {
        let thread = pollThread.withLock { $0 }
        await thread?.stop()
        continuation.finish()
    }

    /// Commits, synchronously, that `messages` were handled: for each partition, the offset after the
    /// highest one given. Call only after the handler's effects are durable. A commit refused while the group
    /// rebalances is retried; one for a partition this member no longer owns is dropped, and the new owner
    /// sees those messages again (at least once). Returns whether the offsets were committed.
    @discardableResult
    public func commit(_ messages: some Sequence<KafkaMessage>) async throws -> Bool {
        var next: [TopicPartition: Int64] = [:]
        for message in messages {
            let key = TopicPartition(topic: message.topic, partition: message.partition)
            next[key] = max(next[key] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return true }
        let offsets = next
        let client = self.client
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<rd_kafka_resp_err_t, Never>) in
                DispatchQueue.global().async {
                    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))
                    defer { rd_kafka_topic_partition_list_destroy(list) }
                    for (key, offset) in offsets {
                        rd_kafka_topic_partition_list_add(list, key.topic, key.partition)?.pointee.offset = offset
                    }
                    continuation.resume(returning: rd_kafka_commit(client.pointer, list, 0))
                }
            }
            switch result {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                return true
            case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS where ContinuousClock.now < deadline:
                try await Task.sleep(for: .milliseconds(100))
            case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR__STATE:
                logger.warning(
                    "offsets not committed: partitions moved to another member",
                    metadata: ["error": "\(String(cString: rd_kafka_err2str(result)))"])
                return false
            default:
                throw KafkaError("commit failed: \(String(cString: rd_kafka_err2str(result)))", code: result.rawValue)
            }
        }
    }

    /// Leaves the group, so its partitions move to the other members at once. Commit what was handled first.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await stopPolling()
        let client = self.client
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = rd_kafka_consumer_close(client.pointer)
                continuation.resume()
            }
        }
        logger.info("Kafka consumer closed", metadata: ["group": "\(groupID)"])
    }

    /// How many partitions the group assigned to this member now.
    public var assignedPartitionCount: Int {
        var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.pointer, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return 0 }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        return Int(assignment.pointee.cnt)
    }

    /// How far this member is behind, per assigned partition: high watermark minus position.
    public func lag() -> [(topic: String, partition: Int32, lag: Int64)] {
        var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.pointer, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        _ = rd_kafka_position(client.pointer, assignment)
        var lags: [(String, Int32, Int64)] = []
        for index in 0..<Int(assignment.pointee.cnt) {
            let element = assignment.pointee.elems[index]
            var low: Int64 = 0
            var high: Int64 = 0
            guard
                rd_kafka_get_watermark_offsets(client.pointer, element.topic, element.partition, &low, &high)
                    == RD_KAFKA_RESP_ERR_NO_ERROR
            else { continue }
            let position = element.offset >= 0 ? element.offset : low
            lags.append((String(cString: element.topic), element.partition, max(0, high - position)))
        }
        return lags
    }

    public func run() async throws {
        startPolling()
        try? await gracefulShutdown()
        await close()
    }

    /// Copies a message out of librdkafka's buffers. Takes the original pointer: librdkafka finds the headers
    /// through the structure that embeds it.
    private static func copy(_ raw: UnsafeMutablePointer<rd_kafka_message_t>, generation: Int) -> KafkaMessage {
        let message = raw.pointee
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        var headers: [KafkaHeader] = []
        var rawHeaders: OpaquePointer?
        if rd_kafka_message_headers(raw, &rawHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let rawHeaders {
            var index = 0
            var name: UnsafePointer<CChar>?
            var headerValue: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(rawHeaders, index, &name, &headerValue, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = headerValue.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        var copy = KafkaMessage(
            topic: String(cString: rd_kafka_topic_name(message.rkt)), partition: message.partition,
            offset: message.offset, key: key, value: value, headers: headers)
        copy.assignmentGeneration = generation
        return copy
    }
}

/// The consumer's messages as an `AsyncSequence`; taking a message frees its slot in the poll buffer.
public struct KafkaMessageSequence: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let base: AsyncStream<[KafkaMessage]>
    let buffer: MessageBuffer
    let rebalances: RebalanceState

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<[KafkaMessage]>.AsyncIterator
        let buffer: MessageBuffer
        let rebalances: RebalanceState
        var batch: [KafkaMessage] = []
        var position = 0

        public mutating func next() async -> KafkaMessage? {
            while true {
                while position < batch.count {
                    let message = batch[position]
                    position += 1
                    buffer.removed()
                    // Fetched before a revocation: the partition's next owner (maybe this member again, from
                    // the committed offset) reads it anew, so handling it here would handle it twice.
                    guard message.assignmentGeneration == rebalances.generation else { continue }
                    return message
                }
                guard let next = await base.next() else { return nil }
                batch = next
                position = 0
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), buffer: buffer, rebalances: rebalances)
    }
}

/// The consumer queue of a client, destroyed once. It holds its client, because librdkafka wants every queue
/// destroyed before `rd_kafka_destroy`.
final class KafkaQueueHandle: @unchecked Sendable {
    let pointer: OpaquePointer?
    private let client: KafkaClientHandle

    init(client: KafkaClientHandle) {
        self.client = client
        pointer = rd_kafka_queue_get_consumer(client.pointer)
    }

    deinit { if let pointer { rd_kafka_queue_destroy(pointer) } }
}

/// Counts revocations, so messages fetched before one can be recognised and dropped.
final class RebalanceState: Sendable {
    private let revocations = Atomic<Int>(0)
    var generation: Int { revocations.load(ordering: .acquiring) }
    func revoked() { revocations.add(1, ordering: .releasing) }
}

/// Applies the group's (eager) assignment decisions, counting each revocation first.
private let rebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { client, error, partitions, opaque in
        if error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            _ = rd_kafka_assign(client, partitions)
        } else {
            if let opaque { Unmanaged<RebalanceState>.fromOpaque(opaque).takeUnretainedValue().revoked() }
            _ = rd_kafka_assign(client, nil)
        }
    }

struct TopicPartition: Hashable {
    let topic: String
    let partition: Int32
}

/// Counts messages between the poll thread and the reader.
final class MessageBuffer: Sendable {
    private let count = Atomic<Int>(0)
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var hasRoom: Bool { count.load(ordering: .relaxed) < capacity }
    var isBelowHalf: Bool { count.load(ordering: .relaxed) < capacity / 2 }
    func added(_ messages: Int) { count.add(messages, ordering: .relaxed) }
    func removed() { count.subtract(1, ordering: .relaxed) }
}
