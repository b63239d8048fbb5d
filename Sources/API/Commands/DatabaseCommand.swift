import Logging
import PostgresNIO
import Shared

/// Runs `body` with a connected pool, for one-shot commands, and closes the pool afterwards.
func withDatabase<Result: Sendable>(
    logger: Logger, _ body: @Sendable @escaping (PostgresClient) async throws -> Result
) async throws -> Result {
    let configuration = try DatabaseConfiguration(environment: EnvironmentVariables(), maximumConnections: 4)
    let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        defer { group.cancelAll() }
        return try await body(client)
    }
}
