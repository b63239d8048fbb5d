import ArgumentParser
import Foundation
import Shared

/// `task:callouts:create`, `:populate`, `:run` and `:statistics`.
struct CalloutsTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callouts",
        abstract: "Create, populate, run and inspect callouts.",
        subcommands: [Create.self, Populate.self, Run.self, Statistics.self])

    static let environment = EnvironmentVariables()

    /// `CALLOUTS_TASK_CALLOUT_ID`, else the account's only callout.
    struct CalloutOption: ParsableArguments {
        @Option(help: "The callout (default: CALLOUTS_TASK_CALLOUT_ID, else the account's only callout).")
        var calloutID: Int64?

        func resolve() throws -> Int64? {
            if let calloutID { return calloutID }
            guard let text = CalloutsTaskCommand.environment["CALLOUTS_TASK_CALLOUT_ID"] else { return nil }
            guard let id = Int64(text) else { throw ValidationError("CALLOUTS_TASK_CALLOUT_ID must be a callout id, got \(text)") }
            return id
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a callout and print its id (task:callouts:create).")

        @OptionGroup var task: TaskOptions
        @Option(help: "The callout's metadata as a JSON object (default: CALLOUTS_TASK_CREATE_METADATA).")
        var metadata: String?

        func run() async throws {
            let metadata = try parseMetadata(self.metadata ?? CalloutsTaskCommand.environment["CALLOUTS_TASK_CREATE_METADATA"], name: "metadata")
            let callout = try await task.run { client, account, logger in
                try await CalloutTasks(client: client, logger: logger).create(accountID: account, metadata: metadata)
            }
            print(callout.id)
        }
    }

    struct Populate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Populate a callout with every contact of the account (task:callouts:populate).",
            discussion: "Contacts already in the callout are kept. Prints the CalloutPopulation batch operation it ran.")

        @OptionGroup var task: TaskOptions
        @OptionGroup var callout: CalloutOption
        @Option(help: "Metadata of the new participations as a JSON object (default: CALLOUTS_TASK_POPULATE_METADATA).")
        var metadata: String?

        func run() async throws {
            let metadata = try parseMetadata(self.metadata ?? CalloutsTaskCommand.environment["CALLOUTS_TASK_POPULATE_METADATA"], name: "metadata")
            let calloutID = try callout.resolve()
            let progress = TaskProgress(label: "populating")
            let operation = try await task.run { client, account, logger in
                let callout = try await TaskScope(client: client, logger: logger).callout(calloutID, accountID: account)
                return try await CalloutTasks(client: client, logger: logger).populate(
                    accountID: account, calloutID: callout, metadata: metadata, progress: progress.report)
            }
            progress.finish()
            print(JSONSerializer.string(operation.json))
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start, stop, pause or resume a callout (task:callouts:run).")

        @OptionGroup var task: TaskOptions
        @OptionGroup var callout: CalloutOption
        @Option(help: "start, stop, pause or resume (default: CALLOUTS_TASK_ACTION).")
        var action: String?

        func run() async throws {
            guard let text = action ?? CalloutsTaskCommand.environment["CALLOUTS_TASK_ACTION"] else {
                throw ValidationError("give --action or CALLOUTS_TASK_ACTION: start, stop, pause or resume")
            }
            guard let event = CalloutEvent(rawValue: text) else {
                throw ValidationError("the action must be start, stop, pause or resume, got \(text)")
            }
            let calloutID = try callout.resolve()
            let callout = try await task.run { client, account, logger in
                let callout = try await TaskScope(client: client, logger: logger).callout(calloutID, accountID: account)
                return try await CalloutTasks(client: client, logger: logger).run(event, accountID: account, calloutID: callout)
            }
            print("callout \(callout.id): \(callout.status)")
        }
    }

    struct Statistics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a callout's statistics as JSON (task:callouts:statistics).")

        @OptionGroup var task: TaskOptions
        @OptionGroup var callout: CalloutOption

        func run() async throws {
            let calloutID = try callout.resolve()
            let settings = try APISettings(environment: CalloutsTaskCommand.environment)
            let statistics = try await task.run { client, account, logger in
                let callout = try await TaskScope(client: client, logger: logger).callout(calloutID, accountID: account)
                return try await CalloutTasks(client: client, logger: logger).statistics(
                    accountID: account, calloutID: callout, retryStatuses: settings.retryStatuses)
            }
            print(JSONSerializer.string(statistics.json))
        }
    }
}
