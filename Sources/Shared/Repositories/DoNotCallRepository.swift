import Logging
import PostgresNIO

/// The account's do-not-call list. Numbers are normalized as contacts' are, so a listed number matches the
/// contact (and participation) with the same number however either was written.
public struct DoNotCallRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func create(accountID: Int64, msisdn: String?, metadata: JSONValue?) async throws -> DoNotCallEntry {
        let normalized = try ContactRepository.normalize(msisdn: msisdn)
        do {
            return try await client.query(
                """
                INSERT INTO do_not_call_entries (account_id, msisdn, metadata)
                VALUES (\(accountID), \(normalized), \(metadata ?? .emptyObject))
                RETURNING \(unescaped: DoNotCallEntry.columns.text)
                """, logger: logger
            ).single(DoNotCallEntry.init(row:))
        } catch  where error.isUniqueViolation {
            throw ValidationErrors("msisdn", ValidationErrors.taken)
        }
    }

    public func find(accountID: Int64, id: Int64) async throws -> DoNotCallEntry {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    /// Only the metadata changes: a different number is a different entry.
    public func update(accountID: Int64, id: Int64, metadata: JSONValue?, mergeMode: MetadataMergeMode) async throws {
        var statement = UpdateStatement("do_not_call_entries")
        statement.setMetadata("metadata", metadata, mode: mergeMode)
        try await client.withConnection { try await statement.run(on: $0, logger: logger, id: id, accountID: accountID) }
    }

    public func delete(accountID: Int64, id: Int64) async throws {
        _ = try await client.query(
            "DELETE FROM do_not_call_entries WHERE id = \(id) AND account_id = \(accountID) RETURNING id", logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    /// Aliased `c` like contacts, so that the contacts' filter (metadata, msisdn, created/updated) serves the
    /// list as it is.
    static let table = RecordTable<DoNotCallEntry>(
        from: "do_not_call_entries c", columns: DoNotCallEntry.columns, accountColumn: "c.account_id", idColumn: "c.id",
        decode: DoNotCallEntry.init(row:))

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<DoNotCallEntry> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }
}
