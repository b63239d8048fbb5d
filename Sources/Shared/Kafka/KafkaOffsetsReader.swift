import CRdKafka
import Dispatch
import Synchronization

/// Where each partition of a topic stands at the broker (its low and high watermarks: the first offset it
/// still keeps and the next offset it will assign) and how far each consumer group has committed, read
/// without joining any group. The job reconciler compares these with the offsets the outbox relay recorded for
/// each job, and the relay holds a topic back while its consumers are too far behind.
///
/// Every call blocks inside librdkafka, so each runs on a Dispatch queue, never on the cooperative pool.
public final class KafkaOffsetsReader: Sendable {
    /// One partition of a topic.
    public struct Partition: Sendable, Equatable {
        public let partition: Int32
        /// The first offset the broker still keeps.
        public let low: Int64
        /// The offset the broker will give the next message: every message it acknowledged on this partition
        /// and still has is below it.
        public let high: Int64
        /// Each asked group's committed offset (the next message it will read), nil where it has none.
        public let committed: [String: Int64]

        /// The lowest committed offset among `groups`, nil when none of them has committed on this partition.
        public func committed(by groups: [String]) -> Int64? {
            groups.compactMap { committed[$0] }.min()
        }
    }

    private let client: KafkaClientHandle
    private let configuration: KafkaConfiguration
    /// A consumer handle per group: `rd_kafka_committed` asks the coordinator of the handle's own `group.id`.
    /// The handles never subscribe, so they never join (or disturb) the group.
    private let groupClients = Mutex<[String: KafkaClientHandle]>([:])
    private let timeoutMilliseconds: Int32

    public init(configuration: KafkaConfiguration, timeout: Duration = .seconds(5)) throws {
        self.configuration = configuration
        timeoutMilliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        client = try KafkaClientHandle(
            kind: .producer,
            properties: configuration.clientProperties(
                defaults: ["log_level": "3"], overrides: ["client.id": configuration.clientID + "-offsets"]))
    }

    /// The partitions of `topic` (its full name, prefix included) with their watermarks and the committed
    /// offsets of `groups`. Throws when the broker does not answer or does not know the topic.
    public func partitions(topic: String, groups: [String]) async throws -> [Partition] {
        let clients = try groups.map { ($0, try groupClient($0)) }
        let client = self.client
        let timeout = timeoutMilliseconds
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try Self.read(topic: topic, client: client, groups: clients, timeoutMilliseconds: timeout)
                    })
            }
        }
    }

    private func groupClient(_ group: String) throws -> KafkaClientHandle {
        try groupClients.withLock { clients in
            if let client = clients[group] { return client }
            let client = try KafkaClientHandle(
                kind: .consumer,
                properties: configuration.clientProperties(
                    defaults: ["log_level": "3", "enable.auto.commit": "false"],
                    overrides: ["group.id": group, "client.id": configuration.clientID + "-offsets"]))
            clients[group] = client
            return client
        }
    }

    private static func read(
        topic: String, client: KafkaClientHandle, groups: [(String, KafkaClientHandle)], timeoutMilliseconds: Int32
    ) throws -> [Partition] {
        let count = try client.partitionCount(topic: topic, timeoutMilliseconds: timeoutMilliseconds)
        var watermarks: [(low: Int64, high: Int64)] = []
        for partition in 0..<count {
            var low: Int64 = 0
            var high: Int64 = 0
            let result = rd_kafka_query_watermark_offsets(client.pointer, topic, partition, &low, &high, timeoutMilliseconds)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError("watermarks of \(topic) [\(partition)]: \(String(cString: rd_kafka_err2str(result)))", code: result.rawValue)
            }
            watermarks.append((low, high))
        }
        var committed = [[String: Int64]](repeating: [:], count: Int(count))
        for (group, handle) in groups {
            guard let list = rd_kafka_topic_partition_list_new(count) else { throw KafkaError("cannot allocate a partition list") }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for partition in 0..<count { rd_kafka_topic_partition_list_add(list, topic, partition) }
            let result = rd_kafka_committed(handle.pointer, list, timeoutMilliseconds)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError("committed offsets of \(group): \(String(cString: rd_kafka_err2str(result)))", code: result.rawValue)
            }
            for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
            where element.err == RD_KAFKA_RESP_ERR_NO_ERROR && element.offset >= 0 {
                committed[Int(element.partition)][group] = element.offset
            }
        }
        return (0..<count).map { partition in
            let index = Int(partition)
            return Partition(
                partition: partition, low: watermarks[index].low, high: watermarks[index].high, committed: committed[index])
        }
    }
}

extension KafkaClientHandle {
    /// How many partitions `topic` has, from the cluster's metadata.
    func partitionCount(topic: String, timeoutMilliseconds: Int32) throws -> Int32 {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(pointer, 1, nil, &metadata, timeoutMilliseconds)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError("metadata request failed: \(String(cString: rd_kafka_err2str(result)))", code: result.rawValue)
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        guard let found = topics.first(where: { String(cString: $0.topic) == topic }), found.err == RD_KAFKA_RESP_ERR_NO_ERROR,
            found.partition_cnt > 0
        else {
            throw KafkaError("the broker does not know topic \(topic)")
        }
        return found.partition_cnt
    }
}
