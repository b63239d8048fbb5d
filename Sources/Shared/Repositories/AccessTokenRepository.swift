import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Access tokens: created, listed, found and revoked by super admins (`/api/access_tokens`). A token is shown
/// once, at creation; the database keeps its SHA-256 and its first 6 characters.
public struct AccessTokenRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates a token for the account and returns it with its secret, which is not stored.
    public func create(
        accountID: Int64, createdBy: Int64?, metadata: JSONValue = .emptyObject, scope: AccessToken.Scope = .readWrite,
        expiresAt: Date? = nil
    ) async throws -> (token: AccessToken, secret: String) {
        if let expiresAt, expiresAt <= Date() { throw ValidationErrors("expires_at", "must be in the future") }
        let secret = AccessTokenSecret.generate()
        do {
            let token = try await client.query(
                """
                INSERT INTO access_tokens (account_id, created_by_account_id, token_digest, metadata, scope, expires_at, token_prefix)
                VALUES (\(accountID), \(createdBy), \(AccessTokenSecret.digest(secret)), \(metadata), \(scope.rawValue), \(expiresAt),
                        \(String(secret.prefix(6))))
                RETURNING \(unescaped: AccessToken.columns.text)
                """, logger: logger
            ).single(AccessToken.init(row:))
            return (token, secret)
        } catch  where error.isForeignKeyViolation {
            throw ValidationErrors("account", ValidationErrors.mustExist)
        }
    }

    public func find(id: Int64) async throws -> AccessToken {
        try await client.query(
            "SELECT \(unescaped: AccessToken.columns.text) FROM access_tokens WHERE id = \(id)", logger: logger
        ).single(AccessToken.init(row:))
    }

    /// Every token, newest first by id (keyset pages), optionally of one account.
    public func index(accountID: Int64?, page: PageRequest) async throws -> Page<AccessToken> {
        var sql = SQLBuilder("SELECT ")
        sql.append(trusted: AccessToken.columns)
        sql.append(" FROM access_tokens WHERE true")
        if let accountID {
            sql.append(" AND account_id = ")
            sql.bind(accountID)
        }
        page.appendOrderAndLimit(to: &sql, idColumn: "id")
        var tokens: [AccessToken] = []
        for try await row in try await client.query(sql.query, logger: logger) { tokens.append(try AccessToken(row: row)) }
        let total = try await page.total(recordsOnPage: tokens.count) {
            try await client.query(
                "SELECT count(*) FROM access_tokens WHERE \(accountID)::bigint IS NULL OR account_id = \(accountID)", logger: logger
            ).single { try $0.decode(Int64.self) }
        }
        return Page(records: tokens, total: total, pageRequest: page)
    }

    /// Revokes the token at once (a revoked token authenticates nothing); revoking it again changes nothing.
    /// Returns its digest, for the caches to forget it.
    public func revoke(id: Int64) async throws -> ByteBuffer {
        try await client.query(
            """
            UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now()), updated_at = now()
            WHERE id = \(id) RETURNING token_digest
            """, logger: logger
        ).single { try $0.decode(ByteBuffer.self) }
    }
}
