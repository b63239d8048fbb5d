import CRdKafka
import Foundation

public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// librdkafka's `rd_kafka_resp_err_t`, when the error came from it.
    public let code: Int32?
    public init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }
    public var description: String { "Kafka: \(message)" }
}

/// An `rd_kafka_t`: the thin layer that alone touches librdkafka's C API for client set-up.
///
/// librdkafka handles are thread-safe, so the pointer may be shared across tasks; it is destroyed once, on
/// deinit.
public final class KafkaClientHandle: @unchecked Sendable {
    public enum Kind: Sendable { case producer, consumer }

    let pointer: OpaquePointer

    /// `configure` runs on the configuration before the client is created, to install C callbacks.
    public init(kind: Kind, properties: [String: String], configure: (OpaquePointer) -> Void = { _ in }) throws {
        guard let configuration = rd_kafka_conf_new() else { throw KafkaError("cannot allocate a configuration") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(configuration, key, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(configuration)
                throw KafkaError("invalid property \(key): \(Self.text(errorText))")
            }
        }
        configure(configuration)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        // rd_kafka_new takes ownership of the configuration on success only.
        guard let handle = rd_kafka_new(type, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)
            throw KafkaError("cannot create client: \(Self.text(errorText))")
        }
        pointer = handle
    }

    deinit {
        rd_kafka_destroy(pointer)
    }

    /// The NUL-terminated message librdkafka wrote into an error buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Asks the cluster for its metadata; blocks up to `timeoutMilliseconds`. Returns the topic names.
    public func fetchTopicNames(timeoutMilliseconds: Int32) throws -> [String] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(pointer, 1, nil, &metadata, timeoutMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError("metadata request failed: \(String(cString: rd_kafka_err2str(result)))")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        return topics.map { String(cString: $0.topic) }
    }
}
