import Logging
import PostgresNIO
import Shared

/// Runs a one-shot command's database work (`DATABASE_URL`): logging set up (warnings only), the pool open
/// for `body`, record errors reported in the API's words.
func commandDatabase<Result: Sendable>(
    label: String, _ body: @Sendable @escaping (PostgresClient, Logger) async throws -> Result
) async throws -> Result {
    try StructuredLogHandler.bootstrap(environment: EnvironmentVariables())
    var logger = Logger(label: label)
    logger.logLevel = .warning
    let commandLogger = logger
    return try await CommandFailure.explaining { try await withDatabase(logger: logger) { client in try await body(client, commandLogger) } }
}

/// A record error in the words the API would use, instead of a Swift dump.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    static func explaining<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let errors as ValidationErrors {
            throw CommandFailure(description: JSONSerializer.string(errors.json))
        } catch is RecordNotFound {
            throw CommandFailure(description: "not found (no such record in this account)")
        } catch let error as PSQLError {
            // The server's own sentence (PSQLError's description hides it): an operator at a terminal needs it.
            if let message = error.serverInfo?[.message] {
                throw CommandFailure(description: "database: \(message)")
            }
            throw CommandFailure(description: "database: \(String(reflecting: error))")
        }
    }
}
