import Logging
import PostgresNIO

/// Runs `body` with a connected pool (`DATABASE_URL`), for one-shot commands and benchmarks, and closes the
/// pool afterwards.
public func withDatabase<Result: Sendable>(
    logger: Logger, maximumConnections: Int = 4, _ body: @Sendable @escaping (PostgresClient) async throws -> Result
) async throws -> Result {
    let configuration = try DatabaseConfiguration(environment: EnvironmentVariables(), maximumConnections: maximumConnections)
    let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        defer { group.cancelAll() }
        // Let `run()` start first: a lease before it logs a warning (harmless, but noise in a command's output).
        try await Task.sleep(for: .milliseconds(10))
        return try await body(client)
    }
}
