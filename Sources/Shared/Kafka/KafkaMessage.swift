/// A message read from Kafka: its place in the log and its bytes, copied out of librdkafka's buffers.
public struct KafkaMessage: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [KafkaHeader]
    /// Which assignment of the consumer fetched it; messages of a revoked assignment are not handed out.
    var assignmentGeneration = 0

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
    }

    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

public struct KafkaHeader: Sendable, Hashable {
    public let name: String
    public let value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A message to publish. Messages with the same key go to the same partition, in order.
public struct KafkaOutgoingMessage: Sendable {
    public let topic: String
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [KafkaHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }
}

/// Where the broker stored a published message.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}
