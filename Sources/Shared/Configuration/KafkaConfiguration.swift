/// How processes reach Kafka: `KAFKA_BROKERS`, `KAFKA_TOPIC_PREFIX`, `KAFKA_CLIENT_ID`, and any librdkafka
/// property through `KAFKA_PROPERTIES` (`security.protocol=SASL_SSL;sasl.mechanism=PLAIN;…`), so SASL and TLS
/// clusters work without code changes; `KAFKA_CONSUMER_PROPERTIES` the same for consumers only.
public struct KafkaConfiguration: Sendable, Equatable {
    public var brokers: String
    public var topicPrefix: String
    public var clientID: String
    public var properties: [String: String]
    /// Properties only consumers take (`session.timeout.ms`, …): a producer would warn about them.
    public var consumerProperties: [String: String]

    public init(
        brokers: String, topicPrefix: String = "", clientID: String = "scfm", properties: [String: String] = [:],
        consumerProperties: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.topicPrefix = topicPrefix
        self.clientID = clientID
        self.properties = properties
        self.consumerProperties = consumerProperties
    }

    public init(environment: EnvironmentVariables) throws {
        self.init(
            brokers: environment.string("KAFKA_BROKERS", default: "127.0.0.1:9092"),
            topicPrefix: environment.string("KAFKA_TOPIC_PREFIX", default: ""),
            clientID: environment.string("KAFKA_CLIENT_ID", default: "scfm"),
            properties: try Self.properties(environment, "KAFKA_PROPERTIES"),
            consumerProperties: try Self.properties(environment, "KAFKA_CONSUMER_PROPERTIES"))
    }

    /// The local broker (librdkafka's mock cluster) holds every rebalance after a group's first one for
    /// `session.timeout.ms` − 1 s, where Kafka ends it as soon as every member rejoined: with the production
    /// default of 10 s, each membership change (a worker started or stopped, a consumer rejoining after a
    /// metadata change) would stop the group for 9 s. Its clients use a 4 s session instead (`make run`
    /// passes the same through `KAFKA_CONSUMER_PROPERTIES`). The mock keeps one session timeout per group, the
    /// last joiner's, so every member of a group must use the same one: a group that mixed 10 s and 4 s
    /// members did not recover from a killed member within two minutes.
    ///
    /// It also answers a fetch that finds no new data only after the consumer's whole `fetch.wait.max.ms`
    /// (500 ms by default), even when messages arrive meanwhile, where Kafka answers as soon as they do. A
    /// consumer that caught up, or resumed after pausing, so waited half a second for messages already there:
    /// the outbox benchmark's consumer read in steps of 20,000 every half second (~30,000 messages/s). Its
    /// clients ask for 100 ms (59,000–74,000 messages/s). Not less: each idle consumer polls the broker that
    /// often, and at 10 ms the idle consumers of `make run` took enough of two cores (the broker alone 17 %)
    /// that the API fell behind the fake provider's callbacks in a 200 calls/s campaign.
    public static let localBrokerConsumerProperties = ["session.timeout.ms": "4000", "fetch.wait.max.ms": "100"]

    /// A client configuration for the local broker.
    public static func local(bootstrapServers: String, topicPrefix: String = "") -> KafkaConfiguration {
        KafkaConfiguration(brokers: bootstrapServers, topicPrefix: topicPrefix, consumerProperties: localBrokerConsumerProperties)
    }

    static func properties(_ environment: EnvironmentVariables, _ name: String) throws -> [String: String] {
        var properties: [String: String] = [:]
        for pair in (environment[name] ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw EnvironmentVariables.InvalidValue(name: name, value: String(pair), expected: "key=value pairs separated by ';'")
            }
            properties[parts[0].trimmingWhitespace().description] = parts[1].trimmingWhitespace().description
        }
        return properties
    }

    /// The librdkafka configuration for a client of this cluster.
    public var clientProperties: [String: String] {
        var all = properties
        all["bootstrap.servers"] = brokers
        all["client.id"] = clientID
        return all
    }

    /// The properties of one client: the component's `defaults`, then this cluster's settings (which an
    /// operator may use to change a default through `KAFKA_PROPERTIES`), then `overrides`, which win.
    public func clientProperties(defaults: [String: String], overrides: [String: String] = [:]) -> [String: String] {
        defaults.merging(clientProperties) { $1 }.merging(overrides) { $1 }
    }

    public func topic(_ topic: Topic) -> String { topicPrefix + topic.rawValue }

    /// The consumer group of a worker role: `<KAFKA_TOPIC_PREFIX>scfm-<role>`, so two environments sharing a
    /// cluster under different prefixes never join, rebalance or commit for each other's groups.
    public func consumerGroup(role: String) -> String { topicPrefix + Topic.consumerGroup(role: role) }

    /// The consumer groups that read `topic` in this environment (prefixed), for the reconciler and the relay.
    public func consumerGroups(of topic: Topic) -> [String] { topic.consumerGroups.map { topicPrefix + $0 } }
}

/// The topics of the system (see docs/architecture.md).
public enum Topic: String, Sendable, CaseIterable {
    case batchOperations = "batch-operations"
    case phoneCallsQueue = "phone-calls.queue"
    case phoneCallsRemoteFetch = "phone-calls.remote-fetch"
    case phoneCallEvents = "phone-call-events"

    /// The consumer groups that read this topic, before the environment's prefix
    /// (`KafkaConfiguration.consumerGroups(of:)` adds it): each worker role is the group `scfm-<role>`.
    /// A job is done with at the broker once every one of them committed past it (JobReconciler).
    public var consumerGroups: [String] {
        switch self {
        case .batchOperations: [Self.consumerGroup(role: "population")]
        case .phoneCallsQueue: [Self.consumerGroup(role: "queue")]
        case .phoneCallsRemoteFetch: [Self.consumerGroup(role: "remote-fetch")]
        case .phoneCallEvents: [Self.consumerGroup(role: "status"), Self.consumerGroup(role: "webhooks")]
        }
    }

    /// The consumer group of a worker role, before the environment's prefix (`KafkaConfiguration.consumerGroup`).
    public static func consumerGroup(role: String) -> String { "scfm-\(role)" }
}
