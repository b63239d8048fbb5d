import CRdKafka
import Foundation

/// A Kafka-protocol broker for one machine: librdkafka's mock cluster, serving other processes over TCP on
/// loopback. It keeps messages in memory only and loses them when it stops, so it is for `make run`, demos
/// and tests; production uses Apache Kafka (docker-compose.yml).
public final class LocalKafkaBroker: @unchecked Sendable {
    private let host: KafkaClientHandle
    private let cluster: OpaquePointer
    /// `host:port,…` for `bootstrap.servers`.
    public let bootstrapServers: String

    public init(brokerCount: Int32 = 1, topics: [String], partitions: Int32) throws {
        // The mock cluster lives inside a client instance; a producer with no other use hosts it.
        host = try KafkaClientHandle(kind: .producer, properties: ["log_level": "3"])
        guard let cluster = rd_kafka_mock_cluster_new(host.pointer, brokerCount) else {
            throw KafkaError("cannot start the mock cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        for topic in topics {
            let result = rd_kafka_mock_topic_create(cluster, topic, partitions, 1)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                rd_kafka_mock_cluster_destroy(cluster)
                throw KafkaError("cannot create topic \(topic): \(String(cString: rd_kafka_err2str(result)))")
            }
        }
    }

    /// Simulates an outage of one broker (ids start at 1): connections to it fail until `setUp`.
    public func setDown(broker: Int32 = 1) {
        _ = rd_kafka_mock_broker_set_down(cluster, broker)
    }

    public func setUp(broker: Int32 = 1) {
        _ = rd_kafka_mock_broker_set_up(cluster, broker)
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }
}
