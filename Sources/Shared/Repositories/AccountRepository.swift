import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The writable attributes of an account; nil leaves a value as it is.
public struct AccountChanges: Sendable {
    public var metadata: JSONValue?
    public var metadataMergeMode: MetadataMergeMode = .merge
    public var settings: JSONValue?
    public var permissions: [String]?
    public var platformProviderName: String??
    public var twilioAccountSID: String??
    public var twilioAuthToken: String??
    public var somlengAccountSID: String??
    public var somlengAuthToken: String??

    public init() {}

    public func validate() throws(ValidationErrors) {
        var errors = ValidationErrors()
        if let permissions, permissions.contains(where: { !Account.permissions.contains($0) }) {
            errors.add("permissions", ValidationErrors.notIncluded)
        }
        if case .some(.some(let provider)) = platformProviderName, !Account.platformProviders.contains(provider) {
            errors.add("platform_provider_name", ValidationErrors.notIncluded)
        }
        try errors.throwIfAny()
    }
}

public struct AccountRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Seals the provider auth tokens before they are written (`SECRETS_KEY`); without it, an auth token to
    /// store is refused rather than written in plaintext.
    let secrets: SecretBox?

    public init(client: PostgresClient, logger: Logger, secrets: SecretBox? = nil) {
        self.client = client
        self.logger = logger
        self.secrets = secrets
    }

    /// A token as the column holds it: sealed; nil stays nil (clearing it).
    func sealed(_ token: String?, _ field: SecretField) throws -> String? {
        guard let token else { return nil }
        return try secrets.seal(token, for: field).stored
    }

    public func create(_ changes: AccountChanges) async throws -> Account {
        try changes.validate()
        let twilioAuthToken = try sealed(changes.twilioAuthToken ?? nil, .twilioAuthToken)
        let somlengAuthToken = try sealed(changes.somlengAuthToken ?? nil, .somlengAuthToken)
        do {
            return try await client.query(
                """
                INSERT INTO accounts (metadata, settings, permissions, platform_provider_name, twilio_account_sid,
                    twilio_auth_token, somleng_account_sid, somleng_auth_token)
                VALUES (\(changes.metadata ?? .emptyObject), \(changes.settings ?? .emptyObject),
                    \(changes.permissions ?? []), \(changes.platformProviderName ?? nil),
                    \(changes.twilioAccountSID ?? nil), \(twilioAuthToken),
                    \(changes.somlengAccountSID ?? nil), \(somlengAuthToken))
                RETURNING \(unescaped: Account.columns.text)
                """, logger: logger
            ).single(Account.init(row:))
        } catch {
            throw Self.translate(error)
        }
    }

    public func find(id: Int64) async throws -> Account {
        let rows = try await client.query(
            "SELECT \(unescaped: Account.columns.text) FROM accounts WHERE id = \(id)", logger: logger)
        return try await rows.single(Account.init(row:))
    }

    /// The account of the access token with this SHA-256 digest, unless the token is revoked or expired, with
    /// the token's id and scope. Notes the token's use (`last_used_at`), at most once a minute per token.
    public func find(tokenDigest: ByteBuffer) async throws -> AuthenticatedToken? {
        let rows = try await client.query(
            """
            WITH valid AS (
                SELECT id, account_id, scope FROM access_tokens
                WHERE token_digest = \(tokenDigest) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            ), used AS (
                UPDATE access_tokens t SET last_used_at = now() FROM valid
                WHERE t.id = valid.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')
            )
            SELECT \(unescaped: Account.columns.text), token_id, token_scope FROM (
                SELECT accounts.*, valid.id AS token_id, valid.scope AS token_scope
                FROM accounts JOIN valid ON valid.account_id = accounts.id
            ) a
            """, logger: logger)
        for try await row in rows {
            let columns = row.makeRandomAccess()
            return AuthenticatedToken(
                account: try Account(row: row), tokenID: try columns["token_id"].decode(Int64.self),
                scope: AccessToken.Scope(rawValue: try columns["token_scope"].decode(String.self)) ?? .readOnly)
        }
        return nil
    }

    public func index(page: PageRequest) async throws -> Page<Account> {
        var sql = SQLBuilder("SELECT ")
        sql.append(trusted: Account.columns)
        sql.append(" FROM accounts WHERE true")
        page.appendOrderAndLimit(to: &sql, idColumn: "id")
        var accounts: [Account] = []
        for try await row in try await client.query(sql.query, logger: logger) { accounts.append(try Account(row: row)) }
        let total = try await page.total(recordsOnPage: accounts.count) {
            try await client.query("SELECT count(*) FROM accounts", logger: logger).single { try $0.decode(Int64.self) }
        }
        return Page(records: accounts, total: total, pageRequest: page)
    }

    public func update(id: Int64, _ changes: AccountChanges) async throws {
        try changes.validate()
        var sql = SQLBuilder("UPDATE accounts SET updated_at = now()")
        if let metadata = changes.metadata {
            sql.append(", metadata = ")
            changes.metadataMergeMode.appendUpdatedValue(of: "metadata", with: metadata, to: &sql)
        }
        if let settings = changes.settings {
            sql.append(", settings = ")
            changes.metadataMergeMode.appendUpdatedValue(of: "settings", with: settings, to: &sql)
        }
        if let permissions = changes.permissions { sql.append(", permissions = "); sql.bind(permissions) }
        if let value = changes.platformProviderName { sql.append(", platform_provider_name = "); sql.bind(value) }
        if let value = changes.twilioAccountSID { sql.append(", twilio_account_sid = "); sql.bind(value) }
        if let value = changes.twilioAuthToken { sql.append(", twilio_auth_token = "); sql.bind(try sealed(value, .twilioAuthToken)) }
        if let value = changes.somlengAccountSID { sql.append(", somleng_account_sid = "); sql.bind(value) }
        if let value = changes.somlengAuthToken { sql.append(", somleng_auth_token = "); sql.bind(try sealed(value, .somlengAuthToken)) }
        sql.append(" WHERE id = ")
        sql.bind(id)
        sql.append(" RETURNING id")
        do {
            _ = try await client.query(sql.query, logger: logger).single { try $0.decode(Int64.self) }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Deletes the account and its access tokens. Refused (422) while it still owns contacts, callouts or
    /// batch operations, as SCFM's `dependent: :restrict_with_error` did.
    public func delete(id: Int64) async throws {
        let rows = try await client.query(
            """
            SELECT
                EXISTS (SELECT 1 FROM accounts WHERE id = \(id)),
                EXISTS (SELECT 1 FROM contacts WHERE account_id = \(id)),
                EXISTS (SELECT 1 FROM callouts WHERE account_id = \(id)),
                EXISTS (SELECT 1 FROM batch_operations WHERE account_id = \(id))
            """, logger: logger
        ).decode((Bool, Bool, Bool, Bool).self)
        for try await (exists, hasContacts, hasCallouts, hasBatchOperations) in rows {
            guard exists else { throw RecordNotFound() }
            for (dependent, present) in [
                ("contacts", hasContacts), ("callouts", hasCallouts), ("batch operations", hasBatchOperations),
            ] where present {
                throw ValidationErrors("base", "Cannot delete record because dependent \(dependent) exist")
            }
        }
        do {
            try await client.query("DELETE FROM accounts WHERE id = \(id)", logger: logger)
        } catch  where error.isForeignKeyViolation {
            throw ValidationErrors("base", "Cannot delete record because dependent records exist")
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard error.isUniqueViolation else { return error }
        let constraint = (error as? PSQLError)?.serverInfo?[.constraintName] ?? ""
        if constraint.contains("twilio") { return ValidationErrors("twilio_account_sid", ValidationErrors.taken) }
        if constraint.contains("somleng") { return ValidationErrors("somleng_account_sid", ValidationErrors.taken) }
        return error
    }
}

extension AccountRepository {
    public func findFirstSuperAdmin() async throws -> Account? {
        try await client.query(
            """
            SELECT \(unescaped: Account.columns.text) FROM accounts
            WHERE permissions @> ARRAY[\(Account.superAdminPermission)] ORDER BY id LIMIT 1
            """, logger: logger
        ).first(Account.init(row:))
    }
}
