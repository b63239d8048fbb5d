import Foundation
import Logging
import PostgresNIO

/// A callout's results as CSV, a line per participation with its latest phone call: what an agency hands on
/// after a campaign. Read in keyset-paged chunks, so memory stays flat however big the callout.
public struct ResultsExport: Sendable {
    public static let header = [
        "callout_participation_id", "contact_id", "msisdn", "participation_metadata", "phone_calls", "last_phone_call_id",
        "last_status", "last_remote_status", "last_remote_call_id", "last_remotely_queued_at", "last_updated_at",
    ]

    let client: PostgresClient
    let logger: Logger
    let chunkSize: Int

    public init(client: PostgresClient, logger: Logger, chunkSize: Int = 10_000) {
        self.client = client
        self.logger = logger
        self.chunkSize = chunkSize
    }

    /// Calls `write` with the header line, then chunks of lines; returns the number of participations.
    public func run(
        accountID: Int64, calloutID: Int64, progress: (Int) -> Void = { _ in }, write: (String) async throws -> Void
    ) async throws -> Int {
        try await write(Self.csvLine(Self.header))
        var after: Int64 = 0
        var exported = 0
        while true {
            let rows = try await client.query(
                """
                SELECT p.id, p.contact_id, p.msisdn, p.metadata::text,
                       (SELECT count(*) FROM phone_calls c WHERE c.callout_participation_id = p.id),
                       l.id, l.status, l.remote_status, l.remote_call_id, l.remotely_queued_at, l.updated_at
                FROM callout_participations p
                LEFT JOIN phone_calls l ON l.callout_participation_id = p.id AND l.is_latest
                WHERE p.account_id = \(accountID) AND p.callout_id = \(calloutID) AND p.id > \(after)
                ORDER BY p.id LIMIT \(chunkSize)
                """, logger: logger)
            var chunk = ""
            var count = 0
            for try await row in rows {
                let (id, contact, msisdn, metadata, calls, lastID, status, remoteStatus, remoteCallID, queuedAt, updatedAt) = try row.decode(
                    (Int64, Int64, String, String, Int64, Int64?, String?, String?, String?, Date?, Date?).self)
                chunk += Self.csvLine([
                    String(id), String(contact), msisdn, metadata, String(calls), lastID.map(String.init) ?? "", status ?? "",
                    remoteStatus ?? "", remoteCallID ?? "", queuedAt.map(Timestamp.iso8601) ?? "", updatedAt.map(Timestamp.iso8601) ?? "",
                ])
                after = id
                count += 1
            }
            if count > 0 { try await write(chunk) }
            exported += count
            progress(exported)
            if count < chunkSize { return exported }
        }
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A field a spreadsheet
    /// would run as a formula (starting with `=`, `@`, a tab or a carriage return, or `+`/`-` not followed by a
    /// digit: `+85512…` stays a number) gets a leading `'`, as OWASP advises for CSV injection.
    public static func csvLine(_ fields: [String]) -> String {
        fields.map { field in
            var field = field
            if let first = field.first {
                let second = field.dropFirst().first
                let formula = "=@\t\r".contains(first) || ((first == "+" || first == "-") && !(second?.isNumber ?? false))
                if formula { field = "'" + field }
            }
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\n"
    }
}
