import Foundation
import HummingbirdBcrypt
import Logging
import PostgresNIO
import Shared

/// Invitations and password resets (`console_password_links`, migration 0015): a one-use link, valid 72 hours,
/// that lets a person set their own password, so no admin ever chooses or sees it. The link's token is random
/// (256 bits); only its SHA-256 is stored. An invited user exists at once, with a random password nobody knows,
/// until the link is used.
public struct PasswordLinks: Sendable {
    public static let lifetime: Duration = .seconds(72 * 3600)

    public enum Purpose: String, Sendable {
        case invitation, reset
    }

    let client: PostgresClient
    let logger: Logger
    let users: ConsoleUsers

    public init(client: PostgresClient, logger: Logger, cost: UInt8 = 12) {
        self.client = client
        self.logger = logger
        users = ConsoleUsers(client: client, logger: logger, cost: cost)
    }

    /// The path a link's token opens (`/console/password/<token>`).
    public static func path(_ token: String) -> String { "/console/password/\(token)" }

    /// A new user of the account and the token of their invitation.
    public func invite(accountID: Int64, email: String, role: ConsoleUser.Role) async throws -> (user: ConsoleUser, token: String) {
        let user = try await users.create(accountID: accountID, email: email, role: role, password: ConsoleUsers.generatePassword())
        return (user, try await issue(userID: user.id, purpose: .invitation))
    }

    /// A reset link for a user of the account (nil when the account has no such user, or it is disabled).
    public func reset(accountID: Int64, userID: Int64) async throws -> String? {
        let rows = try await client.query(
            "SELECT id FROM console_users WHERE account_id = \(accountID) AND id = \(userID) AND disabled_at IS NULL", logger: logger)
        for try await id in rows.decode(Int64.self) { return try await issue(userID: id, purpose: .reset) }
        return nil
    }

    func issue(userID: Int64, purpose: Purpose) async throws -> String {
        let token = ConsoleSessions.randomToken()
        try await client.query(
            """
            INSERT INTO console_password_links (user_id, purpose, token_digest, expires_at)
            VALUES (\(userID), \(purpose.rawValue), \(ConsoleSessions.digest(token)), now() + make_interval(secs => \(Self.lifetime.seconds)))
            """, logger: logger)
        return token
    }

    /// The user a valid, unused link is for (nil for an unknown, spent or expired one).
    public func user(token: String) async throws -> ConsoleUser? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: ConsoleUser.columns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM console_password_links l JOIN console_users u ON u.id = l.user_id
            WHERE l.token_digest = \(ConsoleSessions.digest(token)) AND l.used_at IS NULL AND l.expires_at > now() AND u.disabled_at IS NULL
            """, logger: logger)
        for try await row in rows { return try ConsoleUser(row: row) }
        return nil
    }

    /// Sets the password of the link's user, spends the link and ends the user's sessions; nil when the link is
    /// not valid. Throws the password's validation errors.
    public func redeem(token: String, password: String) async throws -> ConsoleUser? {
        try ConsoleUsers.validate(password: password)
        let hash = Bcrypt.hash(password, cost: users.cost)
        let rows = try await client.query(
            """
            WITH link AS (
                UPDATE console_password_links SET used_at = now()
                WHERE token_digest = \(ConsoleSessions.digest(token)) AND used_at IS NULL AND expires_at > now()
                RETURNING user_id
            ), changed AS (
                UPDATE console_users SET password_hash = \(hash), updated_at = now()
                WHERE id IN (SELECT user_id FROM link) AND disabled_at IS NULL RETURNING id
            ), ended AS (
                UPDATE console_sessions SET ended_at = now() WHERE user_id IN (SELECT id FROM changed) AND ended_at IS NULL
            )
            SELECT id FROM changed
            """, logger: logger)
        for try await id in rows.decode(Int64.self) {
            let found = try await client.query(
                "SELECT \(unescaped: ConsoleUser.columns) FROM console_users WHERE id = \(id)", logger: logger)
            for try await row in found { return try ConsoleUser(row: row) }
        }
        return nil
    }
}
