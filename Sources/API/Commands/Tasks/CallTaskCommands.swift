import ArgumentParser
import Foundation
import Shared

/// `task:enqueue_calls:run`.
struct EnqueueCallsTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue-calls",
        abstract: "Create and queue phone calls for the remaining participations of running callouts (task:enqueue_calls:run).",
        discussion: """
            Limits: ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE, ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY (optimistic, or \
            pessimistic: minus the calls awaiting completion, at least ENQUEUE_CALLS_TASK_PESSIMISTIC_MIN_CALLS_TO_ENQUEUE), \
            ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD over ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD_HOURS. The calls get \
            ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS as remote_request_params; the queue workers dial them at \
            the account's rate. Prints how many were queued.
            """)

    @OptionGroup var task: TaskOptions
    @Option(help: "At most this many calls (overrides ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE).")
    var maxCalls: Int?
    @Option(help: "optimistic or pessimistic (overrides ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY).")
    var strategy: String?

    func run() async throws {
        var settings = try EnqueueCallsTask.Settings(environment: EnvironmentVariables())
        if let maxCalls { settings.maxCalls = maxCalls }
        if let strategy {
            guard let parsed = EnqueueCallsTask.Strategy(rawValue: strategy) else {
                throw ValidationError("the strategy must be optimistic or pessimistic, got \(strategy)")
            }
            settings.strategy = parsed
        }
        let progress = TaskProgress(label: "enqueued")
        let settingsValue = settings
        let count = try await task.run { client, account, logger in
            try await EnqueueCallsTask(client: client, logger: logger, settings: settingsValue).run(accountID: account) {
                progress.report(Int64($0), of: nil)
            }
        }
        progress.finish()
        print("\(count) phone calls queued")
    }
}

/// `task:update_calls:run`.
struct UpdateCallsTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-calls",
        abstract: "Queue remote fetches of the calls under way at the provider (task:update_calls:run).",
        discussion: """
            Calls remotely_queued or in_progress and older than PHONE_CALL_TIME_CONSIDERED_RECENTLY_CREATED_SECONDS \
            (60), at most UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH, move to remote_fetch_queued for the remote-fetch \
            workers. Prints how many.
            """)

    @OptionGroup var task: TaskOptions
    @Option(help: "At most this many calls (overrides UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH).")
    var maxCalls: Int?

    func run() async throws {
        var settings = try UpdateCallsTask.Settings(environment: EnvironmentVariables())
        if let maxCalls { settings.maxCalls = maxCalls }
        let progress = TaskProgress(label: "queued for fetching")
        let settingsValue = settings
        let count = try await task.run { client, account, logger in
            try await UpdateCallsTask(client: client, logger: logger, settings: settingsValue).run(accountID: account) {
                progress.report(Int64($0), of: nil)
            }
        }
        progress.finish()
        print("\(count) phone calls queued for a remote fetch")
    }
}
