import CRdKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// An idempotent producer (`enable.idempotence=true`, `acks=all`): `send` returns once the broker
/// acknowledged the message. Runs its delivery-report poll on its own thread; as a `Service` it flushes what
/// is in flight on graceful shutdown.
public final class KafkaProducer: Service, Sendable {
    private let client: KafkaClientHandle
    private let pollThread: KafkaPollThread
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger, overrides: [String: String] = [:]) throws {
        let defaults: [String: String] = [
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "5",
            // Deep local queue: the outbox relay sends whole batches before awaiting their reports.
            "queue.buffering.max.messages": "1000000",
            "queue.buffering.max.kbytes": "1048576",
            "message.timeout.ms": "30000",
            "log_level": "3",
        ]
        let properties = configuration.clientProperties(defaults: defaults, overrides: overrides)
        client = try KafkaClientHandle(kind: .producer, properties: properties) { configuration in
            rd_kafka_conf_set_dr_msg_cb(configuration, deliveryReportCallback)
        }
        pollThread = KafkaPollThread(name: "kafka-producer-poll") { [client] in
            _ = rd_kafka_poll(client.pointer, 50)
        }
        self.logger = logger
    }

    /// Publishes one message and waits for the broker's acknowledgement. A full local queue is waited out;
    /// other failures (broker unreachable past `message.timeout.ms`, …) throw.
    @discardableResult
    public func send(_ message: KafkaOutgoingMessage) async throws -> KafkaDeliveryReport {
        try await enqueueWaitingForRoom(message).report()
    }

    /// Publishes messages in the order given (so order per key holds) and then waits for every
    /// acknowledgement; one result per message, in the same order.
    public func send(batch messages: [KafkaOutgoingMessage]) async -> [Result<KafkaDeliveryReport, any Error>] {
        await enqueue(batch: messages).reports()
    }

    /// Hands the messages to librdkafka in order and returns at once; `reports()` waits for the broker.
    /// Lets a caller prepare the next batch while this one is in flight.
    public func enqueue(batch messages: [KafkaOutgoingMessage]) async -> KafkaBatchDelivery {
        var deliveries: [Result<PendingDelivery, any Error>] = []
        deliveries.reserveCapacity(messages.count)
        for message in messages {
            do {
                deliveries.append(.success(try await enqueueWaitingForRoom(message)))
            } catch {
                deliveries.append(.failure(error))
            }
        }
        return KafkaBatchDelivery(deliveries: deliveries)
    }

    private func enqueueWaitingForRoom(_ message: KafkaOutgoingMessage) async throws -> PendingDelivery {
        while true {
            do {
                return try enqueue(message)
            } catch let error as KafkaError where error.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    /// Hands the message to librdkafka now; the returned delivery completes with the broker's answer.
    private func enqueue(_ message: KafkaOutgoingMessage) throws -> PendingDelivery {
        let pending = PendingDelivery()
        let box = Unmanaged.passRetained(pending).toOpaque()
        let error: OpaquePointer? = message.topic.withCString { topic in
            message.value.withUnsafeBytes { value in
                (message.key ?? []).withUnsafeBytes { key in
                    var fields: [rd_kafka_vu_t] = []
                    var field = rd_kafka_vu_t()
                    field.vtype = RD_KAFKA_VTYPE_TOPIC
                    field.u.cstr = topic
                    fields.append(field)
                    field = rd_kafka_vu_t()
                    field.vtype = RD_KAFKA_VTYPE_VALUE
                    field.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    field.u.mem.size = value.count
                    fields.append(field)
                    if message.key != nil {
                        field = rd_kafka_vu_t()
                        field.vtype = RD_KAFKA_VTYPE_KEY
                        field.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        field.u.mem.size = key.count
                        fields.append(field)
                    }
                    field = rd_kafka_vu_t()
                    field.vtype = RD_KAFKA_VTYPE_OPAQUE
                    field.u.ptr = box
                    fields.append(field)
                    field = rd_kafka_vu_t()
                    field.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    field.u.i = RD_KAFKA_MSG_F_COPY
                    fields.append(field)
                    // librdkafka copies header names and values, so these buffers may go after the call.
                    let headerBuffers = message.headers.map { header in
                        (
                            name: strdup(header.name),
                            value: header.value.withUnsafeBytes { bytes -> UnsafeMutableRawPointer? in
                                guard bytes.count > 0 else { return nil }
                                let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
                                copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                                return copy
                            }, size: header.value.count
                        )
                    }
                    defer {
                        for buffer in headerBuffers {
                            free(buffer.name)
                            buffer.value?.deallocate()
                        }
                    }
                    for buffer in headerBuffers {
                        field = rd_kafka_vu_t()
                        field.vtype = RD_KAFKA_VTYPE_HEADER
                        field.u.header.name = UnsafePointer(buffer.name)
                        field.u.header.val = UnsafeRawPointer(buffer.value)
                        field.u.header.size = buffer.size
                        fields.append(field)
                    }
                    return rd_kafka_produceva(client.pointer, fields, fields.count)
                }
            }
        }
        if let error {
            // Not enqueued: no report will come, so the reference passed to librdkafka is released here.
            let code = rd_kafka_error_code(error)
            let text = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            Unmanaged<PendingDelivery>.fromOpaque(box).release()
            throw KafkaError(text, code: code.rawValue)
        }
        return pending
    }

    /// Waits up to `timeout` for every message in flight to be acknowledged.
    public func flush(timeout: Duration = .seconds(10)) async {
        let milliseconds = Int32(timeout.components.seconds * 1000)
        let client = self.client
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = rd_kafka_flush(client.pointer, milliseconds)
                continuation.resume()
            }
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await flush()
        await pollThread.stop()
        // Reports of messages that never left resolve as failures when the client is destroyed.
        logger.info("Kafka producer flushed")
    }

    deinit {
        let pollThread = self.pollThread
        if pollThread.isRunning { Task { await pollThread.stop() } }
    }
}

/// A batch handed to the producer: its acknowledgements, once they are in.
public struct KafkaBatchDelivery: Sendable {
    let deliveries: [Result<PendingDelivery, any Error>]

    public var count: Int { deliveries.count }

    /// One result per message, in the order they were enqueued.
    public func reports() async -> [Result<KafkaDeliveryReport, any Error>] {
        var results: [Result<KafkaDeliveryReport, any Error>] = []
        results.reserveCapacity(deliveries.count)
        for delivery in deliveries {
            switch delivery {
            case .success(let pending):
                do { results.append(.success(try await pending.report())) } catch { results.append(.failure(error)) }
            case .failure(let error):
                results.append(.failure(error))
            }
        }
        return results
    }
}

/// The outcome of one enqueued message, travelling through librdkafka as the message's opaque pointer.
/// Completed once by the delivery report; awaited by the sender, before or after that.
final class PendingDelivery: Sendable {
    private enum State {
        case waiting(CheckedContinuation<KafkaDeliveryReport, any Error>?)
        case done(Result<KafkaDeliveryReport, any Error>)
    }

    private let state = Mutex<State>(.waiting(nil))

    func complete(_ result: Result<KafkaDeliveryReport, any Error>) {
        let waiter: CheckedContinuation<KafkaDeliveryReport, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        waiter?.resume(with: result)
    }

    func report() async throws -> KafkaDeliveryReport {
        // Usually the report is in by the time a batch is awaited: take it without suspending, since a
        // suspension per message would cost more than the send.
        let finished: Result<KafkaDeliveryReport, any Error>? = state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
        if let finished { return try finished.get() }
        return try await withCheckedThrowingContinuation { continuation in
            let ready: Result<KafkaDeliveryReport, any Error>? = state.withLock { state in
                switch state {
                case .done(let result): return result
                case .waiting: state = .waiting(continuation); return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// Called on the poll thread for each message once it is acknowledged or has failed for good.
private let deliveryReportCallback:
    @convention(c) (
        OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?
    ) -> Void = { _, message, _ in
        guard let message, let opaque = message.pointee._private else { return }
        let delivery = Unmanaged<PendingDelivery>.fromOpaque(opaque).takeRetainedValue()
        let error = message.pointee.err
        if error == RD_KAFKA_RESP_ERR_NO_ERROR {
            delivery.complete(
                .success(
                    KafkaDeliveryReport(
                        topic: String(cString: rd_kafka_topic_name(message.pointee.rkt)),
                        partition: message.pointee.partition, offset: message.pointee.offset)))
        } else {
            delivery.complete(.failure(KafkaError(String(cString: rd_kafka_err2str(error)), code: error.rawValue)))
        }
    }
