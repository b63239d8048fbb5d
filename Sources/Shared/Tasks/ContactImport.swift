import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Imports contacts from a CSV file into an account in one set-based load: the file is streamed through
/// `COPY … FROM STDIN` into a temporary table, then one INSERT … SELECT … ON CONFLICT creates the new
/// contacts and merges the metadata of existing ones, in one transaction (all or nothing).
///
/// The header names the columns: `msisdn` is required; every other column is a metadata key, its cell the
/// value (empty cells are left out). A line whose msisdn is missing or not a number, or whose cell count
/// differs from the header's, is reported with its line number and skipped; the import goes on. When a number
/// appears twice, its last line wins.
public struct ContactImport: Sendable {
    public struct LineError: Sendable, Equatable {
        public let line: Int
        public let message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public struct Summary: Sendable, Equatable {
        public var lines = 0
        public var rejected = 0
        public var created = 0
        public var updated = 0
        /// Valid lines whose number an earlier line of the file had too.
        public var repeated = 0

        public init(lines: Int = 0, rejected: Int = 0, created: Int = 0, updated: Int = 0, repeated: Int = 0) {
            self.lines = lines
            self.rejected = rejected
            self.created = created
            self.updated = updated
            self.repeated = repeated
        }
    }

    public struct BadHeader: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where the numbers go: the account's contacts, or its do-not-call list (same columns, same merge).
    public enum Destination: String, Sendable {
        case contacts
        case doNotCallList = "do_not_call_entries"
    }

    let client: PostgresClient
    let logger: Logger
    let destination: Destination

    public init(client: PostgresClient, logger: Logger, destination: Destination = .contacts) {
        self.client = client
        self.logger = logger
        self.destination = destination
    }

    public func run(
        accountID: Int64, path: String, onError: @Sendable (LineError) -> Void = { _ in },
        progress: @Sendable (Int64, Int64) -> Void = { _, _ in }
    ) async throws -> Summary {
        var reader = try CSVReader(path: path)
        guard let header = try reader.next() else { throw BadHeader(description: "the file is empty: expected a header line with msisdn") }
        let names = header.fields.map { String($0.trimmingWhitespace()) }
        guard let msisdnColumn = names.firstIndex(where: { $0.lowercased() == "msisdn" }) else {
            throw BadHeader(description: "the header has no msisdn column (it has: \(names.joined(separator: ", ")))")
        }
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            try await connection.query(
                "CREATE TEMPORARY TABLE contact_import (line integer, msisdn text, metadata jsonb) ON COMMIT DROP", logger: logger)
            // The last line of each number is picked by a sort of the whole file: in memory, not in temporary files.
            try await connection.query("SET LOCAL work_mem = '256MB'", logger: logger)
            var summary = Summary()
            try await connection.copyFrom(table: "contact_import", columns: ["line", "msisdn", "metadata"], logger: logger) { writer in
                var batch = ByteBuffer()
                var lastReport = Int64(0)
                while true {
                    let record: CSVReader.Record
                    do {
                        guard let next = try reader.next() else { break }
                        record = next
                    } catch let malformed as CSVReader.MalformedRecord {
                        summary.lines += 1
                        summary.rejected += 1
                        onError(LineError(line: malformed.line, message: malformed.description))
                        break
                    }
                    if record.fields.count == 1, record.fields[0].isEmpty { continue }  // a blank line
                    summary.lines += 1
                    guard record.fields.count == names.count else {
                        summary.rejected += 1
                        onError(LineError(line: record.line, message: "has \(record.fields.count) cells, the header has \(names.count)"))
                        continue
                    }
                    let raw = record.fields[msisdnColumn]
                    guard let msisdn = MSISDN(raw) else {
                        summary.rejected += 1
                        onError(LineError(line: record.line, message: raw.isEmpty ? "msisdn can't be blank" : "msisdn \(raw) is an invalid number"))
                        continue
                    }
                    var metadata = JSONObject()
                    for (index, name) in names.enumerated() where index != msisdnColumn && !record.fields[index].isEmpty {
                        metadata[name] = .string(record.fields[index])
                    }
                    batch.writeString("\(record.line)\t\(msisdn.e164)\t")
                    batch.writeString(Self.copyEscaped(JSONSerializer.string(.object(metadata))))
                    batch.writeString("\n")
                    if batch.readableBytes >= 1 << 16 {
                        try await writer.write(batch)
                        batch.clear()
                    }
                    if reader.bytesRead - lastReport >= 1 << 20 {
                        lastReport = reader.bytesRead
                        progress(reader.bytesRead, reader.byteCount)
                    }
                }
                if batch.readableBytes > 0 { try await writer.write(batch) }
                progress(reader.bytesRead, reader.byteCount)
            }
            let (created, total, distinct) = try await connection.query(
                """
                WITH latest AS (
                    SELECT DISTINCT ON (msisdn) msisdn, metadata FROM contact_import ORDER BY msisdn, line DESC
                ),
                upserted AS (
                    INSERT INTO \(unescaped: destination.rawValue) AS target (account_id, msisdn, metadata)
                    SELECT \(accountID), msisdn, metadata FROM latest
                    ON CONFLICT (account_id, msisdn)
                    DO UPDATE SET metadata = target.metadata || excluded.metadata, updated_at = now()
                    RETURNING (xmax = 0) AS created
                )
                SELECT (SELECT count(*) FILTER (WHERE created) FROM upserted), (SELECT count(*) FROM contact_import),
                       (SELECT count(*) FROM upserted)
                """, logger: logger
            ).single { try $0.decode((Int, Int, Int).self) }
            summary.created = created
            summary.updated = distinct - created
            summary.repeated = total - distinct
            return summary
        }
    }

    /// COPY's text format: backslash, tab, newline and carriage return escaped.
    static func copyEscaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return text }
        var output = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": output += "\\\\"
            case "\t": output += "\\t"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            default: output.unicodeScalars.append(character)
            }
        }
        return output
    }
}
