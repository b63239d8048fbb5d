import ArgumentParser
import Foundation
import Shared

/// A callout's results to CSV.
struct ExportResultsTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-results",
        abstract: "Write a callout's results as CSV: a line per participation with its latest phone call.",
        discussion: """
            Columns: \(ResultsExport.header.joined(separator: ", ")). The callout is --callout-id, \
            CALLOUTS_TASK_CALLOUT_ID, or the account's only callout.
            """)

    @OptionGroup var task: TaskOptions
    @OptionGroup var callout: CalloutsTaskCommand.CalloutOption
    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    func run() async throws {
        let calloutID = try callout.resolve()
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            handle = file
        } else {
            handle = FileHandle.standardOutput
        }
        let progress = TaskProgress(label: "exported")
        let count = try await task.run { client, account, logger in
            let callout = try await TaskScope(client: client, logger: logger).callout(calloutID, accountID: account)
            return try await ResultsExport(client: client, logger: logger).run(
                accountID: account, calloutID: callout, progress: { progress.report(Int64($0), of: nil) },
                write: { handle.write(Data($0.utf8)) })
        }
        progress.finish()
        if output != nil {
            try handle.close()
            FileHandle.standardError.write(Data("\(count) participations written to \(output ?? "")\n".utf8))
        }
    }
}
