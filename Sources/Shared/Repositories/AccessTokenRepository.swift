import Logging
import PostgresNIO

public struct AccessTokenRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates a token for the account and returns it with its secret, which is not stored.
    public func create(
        accountID: Int64, createdBy: Int64?, metadata: JSONValue = .emptyObject
    ) async throws -> (token: AccessToken, secret: String) {
        let secret = AccessTokenSecret.generate()
        do {
            let token = try await client.query(
                """
                INSERT INTO access_tokens (account_id, created_by_account_id, token_digest, metadata)
                VALUES (\(accountID), \(createdBy), \(AccessTokenSecret.digest(secret)), \(metadata))
                RETURNING \(unescaped: AccessToken.columns.text)
                """, logger: logger
            ).single(AccessToken.init(row:))
            return (token, secret)
        } catch where error.isForeignKeyViolation {
            throw ValidationErrors("account", ValidationErrors.mustExist)
        }
    }
}
