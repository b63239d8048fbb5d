/// What every process reads from the environment: where it listens for HTTP (the API, or a worker's
/// `/health` and `/metrics`), its database and its Kafka cluster.
public struct ProcessConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var database: DatabaseConfiguration
    public var kafka: KafkaConfiguration

    /// `portVariable` names the port's variable (`PORT` for the API, `WORKER_HTTP_PORT` for workers).
    public init(environment: EnvironmentVariables, portVariable: String, defaultPort: Int) throws {
        host = environment.string("HOST", default: "127.0.0.1")
        port = try environment.integer(portVariable, default: defaultPort, range: 0...65535)
        database = try DatabaseConfiguration(environment: environment)
        kafka = try KafkaConfiguration(environment: environment)
    }
}
