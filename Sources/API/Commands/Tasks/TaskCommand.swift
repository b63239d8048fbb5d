import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import Shared

/// `API task …`: SCFM's rake tasks (`task:callouts:*`, `task:enqueue_calls:run`, `task:update_calls:run`) as
/// commands, configured by the same environment variables, for cron jobs and operators.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "SCFM's tasks: callouts (create, populate, run, statistics), enqueue-calls, update-calls.",
        discussion: """
            Each works on one account: --account-id, or the only account that is not a super admin. They read \
            DATABASE_URL and the seeds' task variables (CALLOUTS_TASK_*, ENQUEUE_CALLS_TASK_*, \
            UPDATE_CALLS_TASK_*); options given on the command line win over the variables.
            """,
        subcommands: [
            CalloutsTaskCommand.self, EnqueueCallsTaskCommand.self, UpdateCallsTaskCommand.self, ImportContactsTaskCommand.self,
            ImportDoNotCallTaskCommand.self, ExportResultsTaskCommand.self,
        ])
}

/// What every task takes: the account, and a connection for the task's duration.
struct TaskOptions: ParsableArguments {
    @Option(help: "The account to work on (default: the only account that is not a super admin).")
    var accountID: Int64?

    /// Runs `body` with a database pool and the account, after setting up logging.
    func run<Result: Sendable>(_ body: @Sendable @escaping (PostgresClient, Int64, Logger) async throws -> Result) async throws -> Result {
        let accountID = self.accountID
        return try await commandDatabase(label: "scfm.task") { client, logger in
            let account = try await TaskScope(client: client, logger: logger).account(accountID)
            return try await body(client, account, logger)
        }
    }
}

/// Progress of a long task on stderr: one line redrawn in place on a terminal, a line per step otherwise.
struct TaskProgress: Sendable {
    let label: String
    let isTerminal = isatty(STDERR_FILENO) == 1

    func report(_ done: Int64, of total: Int64?) {
        let figure =
            total.map { total in
                let percent = total > 0 ? Int(Double(done) / Double(total) * 100) : 100
                return "\(done)/\(total) (\(percent) %)"
            } ?? "\(done)"
        let line = "\(label): \(figure)"
        FileHandle.standardError.write(Data((isTerminal ? "\r\(line)" : line + "\n").utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// A JSON object given on the command line or in a seed variable (`CALLOUTS_TASK_CREATE_METADATA="{\"foo\":\"bar\"}"`).
func parseMetadata(_ text: String?, name: String) throws -> JSONValue? {
    guard let text, !text.trimmingWhitespace().isEmpty else { return nil }
    guard let value = try? JSONParser.parse(Array(text.utf8)), value.objectValue != nil else {
        throw ValidationError("\(name) must be a JSON object such as {\"foo\":\"bar\"}, got \(text)")
    }
    return value
}
