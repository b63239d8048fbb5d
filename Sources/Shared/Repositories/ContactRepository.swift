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
        } catch where error.isUniqueViolation {
            throw ValidationErrors("msisdn", ValidationErrors.taken)
        }
    }

    public func find(accountID: Int64, id: Int64) async throws -> Contact {
        try await client.query(
            "SELECT \(unescaped: Contact.columns.text) FROM contacts WHERE id = \(id) AND account_id = \(accountID)",
            logger: logger
        ).single(Contact.init(row:))
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
        } catch where error.isUniqueViolation {
            throw ValidationErrors("msisdn", ValidationErrors.taken)
        }
    }

    /// Deletes the contact unless callout participations or phone calls refer to it (422, as SCFM's
    /// `restrict_with_error`).
    public func delete(accountID: Int64, id: Int64) async throws {
        let state = try await client.query(
            """
            SELECT
                EXISTS (SELECT 1 FROM callout_participations WHERE contact_id = c.id),
                EXISTS (SELECT 1 FROM phone_calls WHERE contact_id = c.id)
            FROM contacts c WHERE c.id = \(id) AND c.account_id = \(accountID)
            """, logger: logger
        ).single { try $0.decode((Bool, Bool).self) }
        if state.0 {
            throw ValidationErrors("base", "Cannot delete record because dependent callout participations exist")
        }
        if state.1 { throw ValidationErrors("base", "Cannot delete record because dependent phone calls exist") }
        do {
            try await client.query("DELETE FROM contacts WHERE id = \(id) AND account_id = \(accountID)", logger: logger)
        } catch where error.isForeignKeyViolation {
            // A participation was added between the check and the delete.
            throw ValidationErrors("base", "Cannot delete record because dependent records exist")
        }
    }

    public func index(accountID: Int64, filter: ContactFilter, page: PageRequest) async throws -> Page<Contact> {
        var select = SQLBuilder("SELECT ")
        select.append(trusted: Contact.columns)
        select.append(" FROM contacts c WHERE c.account_id = ")
        select.bind(accountID)
        filter.appendConditions(to: &select)
        page.appendOrderAndLimit(to: &select, idColumn: "c.id")
        var contacts: [Contact] = []
        contacts.reserveCapacity(page.perPage)
        for try await row in try await client.query(select.query, logger: logger) {
            contacts.append(try Contact(row: row))
        }

        let total = try await page.total(recordsOnPage: contacts.count) {
            var count = SQLBuilder("SELECT count(*) FROM contacts c WHERE c.account_id = ")
            count.bind(accountID)
            filter.appendConditions(to: &count)
            return try await client.query(count.query, logger: logger).single { try $0.decode(Int64.self) }
        }
        return Page(records: contacts, total: total, pageRequest: page)
    }
}
