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

    @OptionGroup var task: TaskOptions
    @Argument(help: "The CSV file.")
    var file: String
    @Option(help: "Also write the rejected lines' reports to this file.")
    var errors: String?

    func run() async throws {
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
            try await ContactImport(client: client, logger: logger).run(
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
        print("\(summary.lines) lines: \(summary.created) contacts created, \(summary.updated) updated, \(summary.rejected) rejected, \(summary.repeated) repeated numbers (last line kept)")
    }
}
