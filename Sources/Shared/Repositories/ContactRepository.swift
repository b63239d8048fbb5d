import Logging
import PostgresNIO

public struct ContactRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Validates `msisdn` as SCFM did: present, a plausible number, unique in the account.
    public static func normalize(msisdn: String?) throws(ValidationErrors) -> String {
        guard let msisdn, !msisdn.trimmingWhitespace().isEmpty else {
            throw ValidationErrors("msisdn", ValidationErrors.blank)
        }
        guard let normalized = MSISDN(msisdn) else {
            throw ValidationErrors("msisdn", ValidationErrors.invalidNumber)
        }
        return normalized.e164
    }

    public func create(accountID: Int64, msisdn: String?, metadata: JSONValue?) async throws -> Contact {
        let normalized = try Self.normalize(msisdn: msisdn)
        do {
            return try await client.query(
                """
                INSERT INTO contacts (account_id, msisdn, metadata)
                VALUES (\(accountID), \(normalized), \(metadata ?? .emptyObject))
                RETURNING \(unescaped: Contact.columns.text)
                """, logger: logger
            ).single(Contact.init(row:))
        } catch  where error.isUniqueViolation {
            throw ValidationErrors("msisdn", ValidationErrors.taken)
        }
    }

    public func find(accountID: Int64, id: Int64) async throws -> Contact {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func update(
        accountID: Int64, id: Int64, msisdn: String??, metadata: JSONValue?, mergeMode: MetadataMergeMode
    ) async throws {
        var sql = SQLBuilder("UPDATE contacts SET updated_at = now()")
        if case .some(let value) = msisdn {
            sql.append(", msisdn = ")
            sql.bind(try Self.normalize(msisdn: value))
        }
        if let metadata {
            sql.append(", metadata = ")
            mergeMode.appendUpdatedValue(of: "metadata", with: metadata, to: &sql)
        }
        sql.append(" WHERE id = ")
        sql.bind(id)
        sql.append(" AND account_id = ")
        sql.bind(accountID)
        sql.append(" RETURNING id")
        do {
            _ = try await client.query(sql.query, logger: logger).single { try $0.decode(Int64.self) }
        } catch  where error.isUniqueViolation {
            throw ValidationErrors("msisdn", ValidationErrors.taken)
        }
    }

    /// Deletes the contact unless callout participations or phone calls refer to it (422, as SCFM's
    /// `restrict_with_error`).
    public func delete(accountID: Int64, id: Int64) async throws {
        try await DependentRecords.delete(
            client, logger: logger, table: "contacts", id: id, accountID: accountID,
            dependents: [
                .init(table: "callout_participations", column: "contact_id", name: "callout participations"),
                .init(table: "phone_calls", column: "contact_id", name: "phone calls"),
            ])
    }

    static let table = RecordTable<Contact>(
        from: "contacts c", columns: Contact.columns, accountColumn: "c.account_id", idColumn: "c.id",
        decode: Contact.init(row:), countedTable: "contacts")

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<Contact> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    /// How many of the account's contacts the filter selects (the console's live recipient count).
    public func count(accountID: Int64, filter: RecordFilter) async throws -> Int64 {
        try await Self.table.count(client, logger: logger, accountID: accountID, filter: filter)
    }
}
