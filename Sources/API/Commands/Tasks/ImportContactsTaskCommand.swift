import ArgumentParser
import Foundation
import Shared

/// Contacts from a CSV file, in one set-based load.
struct ImportContactsTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-contacts",
        abstract: "Import contacts from a CSV file (header: msisdn, then metadata columns).",
        discussion: """
            The header names the columns: msisdn is required, every other column becomes a metadata key (empty \
            cells are left out). New numbers become contacts; existing contacts get the file's metadata merged \
            into theirs; a number that appears twice takes its last line. Lines with a missing or invalid msisdn, \
            or the wrong number of cells, are reported (line number and reason) and skipped without stopping the \
            import; the valid lines are loaded in one transaction.
            """)

    @OptionGroup var csv: CSVImportRun

    func run() async throws {
        let summary = try await csv.run(into: .contacts)
        print(
            "\(summary.lines) lines: \(summary.created) contacts created, \(summary.updated) updated, \(summary.rejected) rejected, \(summary.repeated) repeated numbers (last line kept)"
        )
    }
}

/// Numbers the account must never call, from a CSV file, in one set-based load.
struct ImportDoNotCallTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-do-not-call",
        abstract: "Import do-not-call numbers from a CSV file (header: msisdn, then metadata columns such as reason).",
        discussion: """
            Same format and rules as import-contacts. The numbers join the account's do-not-call list: the \
            autopilot never calls them (their participations finish as do_not_call) and callout populations \
            record them as do_not_call instead of leaving them to be called.
            """)

    @OptionGroup var csv: CSVImportRun

    func run() async throws {
        let summary = try await csv.run(into: .doNotCallList)
        print(
            "\(summary.lines) lines: \(summary.created) numbers added to the do-not-call list, \(summary.updated) updated, \(summary.rejected) rejected, \(summary.repeated) repeated numbers (last line kept)"
        )
    }
}

/// What both CSV imports take and do: check the files, stream the file with a progress figure, report rejected
/// lines on standard error (and to `errors` when given).
struct CSVImportRun: ParsableArguments {
    @OptionGroup var task: TaskOptions
    @Argument(help: "The CSV file.")
    var file: String
    @Option(help: "Also write the rejected lines' reports to this file.")
    var errors: String?

    func run(into destination: ContactImport.Destination) async throws -> ContactImport.Summary {
        guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let report = try errors.map { path -> FileHandle in
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot write \(path)")
            }
            return handle
        }
        let progress = TaskProgress(label: "reading \(file)")
        let file = self.file
        let summary = try await task.run { client, account, logger in
            try await ContactImport(client: client, logger: logger, destination: destination).run(
                accountID: account, path: file,
                onError: { error in
                    let line = Data("line \(error.line): \(error.message)\n".utf8)
                    FileHandle.standardError.write(line)
                    report?.write(line)
                },
                progress: { read, total in progress.report(read >> 10, of: total >> 10) })
        }
        progress.finish()
        try report?.close()
        return summary
    }
}
