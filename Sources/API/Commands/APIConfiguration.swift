import Shared

/// The API process's settings, from environment variables (see README.md, "Configuration").
struct APIConfiguration: Sendable {
    var host: String
    var port: Int
    var database: DatabaseConfiguration
    var kafka: KafkaConfiguration

    init(environment: EnvironmentVariables) throws {
        host = environment.string("HOST", default: "127.0.0.1")
        port = try environment.integer("PORT", default: 3000, range: 0...65535)
        database = try DatabaseConfiguration(environment: environment)
        kafka = try KafkaConfiguration(environment: environment)
    }
}
