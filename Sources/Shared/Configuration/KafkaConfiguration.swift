/// How processes reach Kafka: `KAFKA_BROKERS`, `KAFKA_TOPIC_PREFIX`, `KAFKA_CLIENT_ID`, and any librdkafka
/// property through `KAFKA_PROPERTIES` (`security.protocol=SASL_SSL;sasl.mechanism=PLAIN;…`), so SASL and TLS
/// clusters work without code changes.
public struct KafkaConfiguration: Sendable, Equatable {
    public var brokers: String
    public var topicPrefix: String
    public var clientID: String
    public var properties: [String: String]

    public init(brokers: String, topicPrefix: String = "", clientID: String = "scfm", properties: [String: String] = [:]) {
        self.brokers = brokers
        self.topicPrefix = topicPrefix
        self.clientID = clientID
        self.properties = properties
    }

    public init(environment: EnvironmentVariables) throws {
        var properties: [String: String] = [:]
        for pair in (environment["KAFKA_PROPERTIES"] ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw EnvironmentVariables.InvalidValue(
                    name: "KAFKA_PROPERTIES", value: String(pair), expected: "key=value pairs separated by ';'")
            }
            properties[parts[0].trimmingWhitespace().description] = parts[1].trimmingWhitespace().description
        }
        self.init(
            brokers: environment.string("KAFKA_BROKERS", default: "127.0.0.1:9092"),
            topicPrefix: environment.string("KAFKA_TOPIC_PREFIX", default: ""),
            clientID: environment.string("KAFKA_CLIENT_ID", default: "scfm"),
            properties: properties)
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
}

/// The topics of the system (see docs/architecture.md).
public enum Topic: String, Sendable, CaseIterable {
    case batchOperations = "batch-operations"
    case phoneCallsQueue = "phone-calls.queue"
    case phoneCallsRemoteFetch = "phone-calls.remote-fetch"
    case phoneCallEvents = "phone-call-events"
}
