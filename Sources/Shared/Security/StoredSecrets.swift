import Logging
import PostgresNIO

/// The secrets the database holds, as a whole: how many are sealed under which key (`API secrets status`),
/// and sealing again everything not under the current key (`API secrets rotate`; `API serve` seals leftover
/// plaintext at start).
///
/// Invariant: a value is replaced only if it is still the value that was opened (compare-and-set), so a token
/// changed through the API while a rotation runs is never overwritten with the old one. Work is set-based: one
/// SELECT and one UPDATE per 500 values, whatever the number of accounts and endpoints.
public struct StoredSecrets: Sendable {
    let client: PostgresClient
    let box: SecretBox
    let logger: Logger
    static let batchSize = 500

    public init(client: PostgresClient, box: SecretBox, logger: Logger) {
        self.client = client
        self.box = box
        self.logger = logger
    }

    /// For each field, how many values are plaintext (key "plaintext") or sealed under each key id.
    public func census() async throws -> [(field: SecretField, counts: [String: Int])] {
        var result: [(SecretField, [String: Int])] = []
        for field in SecretField.allCases {
            let rows = try await client.query(
                """
                SELECT CASE WHEN \(unescaped: field.column) LIKE 'scfm:v1:%' THEN split_part(\(unescaped: field.column), ':', 3)
                            ELSE 'plaintext' END, count(*)
                FROM \(unescaped: field.table) WHERE \(unescaped: field.column) IS NOT NULL GROUP BY 1
                """, logger: logger)
            var counts: [String: Int] = [:]
            for try await (key, count) in rows.decode((String, Int64).self) { counts[key] = Int(count) }
            result.append((field, counts))
        }
        return result
    }

    public struct Report: Sendable, Equatable {
        /// Values sealed again (or for the first time).
        public var resealed = 0
        /// Values that did not open (a key missing from SECRETS_KEY_PREVIOUS, or damaged), left as they are.
        public var failed = 0
    }

    /// Seals again every value not sealed under the current key (`onlyPlaintext`: only plaintext values).
    /// `progress` hears each field's running total.
    public func reseal(onlyPlaintext: Bool = false, progress: @Sendable (SecretField, Report) -> Void = { _, _ in }) async throws -> Report {
        var total = Report()
        for field in SecretField.allCases {
            var report = Report()
            var after: Int64 = 0
            while true {
                let pattern = onlyPlaintext ? "scfm:v1:%" : "scfm:v1:\(box.currentKeyID):%"
                let rows = try await client.query(
                    """
                    SELECT id, \(unescaped: field.column) FROM \(unescaped: field.table)
                    WHERE id > \(after) AND \(unescaped: field.column) IS NOT NULL AND \(unescaped: field.column) NOT LIKE \(pattern)
                    ORDER BY id LIMIT \(Self.batchSize)
                    """, logger: logger)
                var ids: [Int64] = []
                var old: [String] = []
                var new: [String] = []
                var seen = 0
                for try await (id, stored) in rows.decode((Int64, String).self) {
                    seen += 1
                    after = id
                    do {
                        let plaintext = try box.open(SealedSecret(stored: stored), for: field)
                        ids.append(id)
                        old.append(stored)
                        new.append(box.seal(plaintext, for: field).stored)
                    } catch {
                        report.failed += 1
                        logger.error("stored secret does not open", metadata: ["field": "\(field.rawValue)", "id": "\(id)", "error": "\(error)"])
                    }
                }
                if !ids.isEmpty {
                    let updated = try await client.query(
                        """
                        UPDATE \(unescaped: field.table) t SET \(unescaped: field.column) = v.new
                        FROM unnest(\(ids)::bigint[], \(old)::text[], \(new)::text[]) AS v(id, old, new)
                        WHERE t.id = v.id AND t.\(unescaped: field.column) = v.old
                        RETURNING t.id
                        """, logger: logger)
                    for try await _ in updated { report.resealed += 1 }
                }
                progress(field, report)
                if seen < Self.batchSize { break }
            }
            total.resealed += report.resealed
            total.failed += report.failed
        }
        return total
    }
}

extension SecretField {
    /// Trusted identifiers (this enum's own constants), for the statements above.
    var table: String { String(rawValue.split(separator: ".")[0]) }
    var column: String { String(rawValue.split(separator: ".")[1]) }
}
