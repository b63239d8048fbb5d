import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

/// Signed-in browsers. The cookie carries 32 random bytes; the table keeps only their SHA-256, so a copy of it
/// signs no one in. A session lasts `lifetime` (12 h) from sign-in and ends at sign-out, when its user is
/// disabled, or when it has not been seen for `idleTimeout` (1 h). Each session has its own CSRF token, which
/// every form carries and every unsafe request must present.
public struct ConsoleSessions: Sendable {
    let client: PostgresClient
    let logger: Logger
    public let lifetime: Duration
    public let idleTimeout: Duration

    public init(client: PostgresClient, logger: Logger, lifetime: Duration = .seconds(12 * 3600), idleTimeout: Duration = .seconds(3600)) {
        self.client = client
        self.logger = logger
        self.lifetime = lifetime
        self.idleTimeout = idleTimeout
    }

    public struct Session: Sendable {
        public let id: Int64
        public let user: ConsoleUser
        public let csrfToken: String
        /// The password was right; the second factor is still to come. Only the code page accepts such a session.
        public var secondFactorPending = false
        /// The user's own account is a super admin's: it may act in any account (`actAs`).
        public var superAdmin = false
        /// The user's own account, when the session acts in another (`user.accountID` is the one acted in).
        public var ownAccountID: Int64?
    }

    /// How long a session waiting for its second factor lives.
    public static let secondFactorWindow: Duration = .seconds(300)

    /// 32 random bytes, URL-safe base64 without padding.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func digest(_ token: String) -> ByteBuffer { ByteBuffer(bytes: SHA256.hash(data: Array(token.utf8))) }

    /// A new session for the user; returns the cookie's value and the session.
    /// With `secondFactorPending`, the session lives 5 minutes and signs nothing in until `completeSecondFactor`.
    public func start(for user: ConsoleUser, secondFactorPending: Bool = false) async throws -> (cookie: String, session: Session) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        let lifetime = secondFactorPending ? Self.secondFactorWindow : self.lifetime
        let id = try await client.query(
            """
            INSERT INTO console_sessions (user_id, token_digest, csrf_token, expires_at, second_factor_pending)
            VALUES (\(user.id), \(Self.digest(token)), \(csrf), now() + make_interval(secs => \(lifetime.seconds)), \(secondFactorPending))
            RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
        return (token, Session(id: id, user: user, csrfToken: csrf, secondFactorPending: secondFactorPending))
    }

    /// The second factor was given: the session signs in, for the full lifetime from now.
    public func completeSecondFactor(_ session: Session) async throws {
        try await client.query(
            """
            UPDATE console_sessions SET second_factor_pending = false, expires_at = now() + make_interval(secs => \(lifetime.seconds))
            WHERE id = \(session.id) AND second_factor_pending AND ended_at IS NULL
            """, logger: logger)
    }

    /// The live session of a cookie's value, if any; records that it was seen (at most once a minute).
    public func find(cookie: String) async throws -> Session? {
        guard cookie.count >= 40, cookie.count <= 64 else { return nil }
        let rows = try await client.query(
            """
            WITH found AS (
                SELECT s.id AS session_id, s.csrf_token, s.last_seen_at, s.second_factor_pending, u.id AS user_id,
                       CASE WHEN own.super_admin THEN coalesce(s.acting_account_id, u.account_id) ELSE u.account_id END AS account_id,
                       u.account_id AS own_account_id, own.super_admin, u.email, u.role, u.last_signed_in_at, u.disabled_at
                FROM console_sessions s JOIN console_users u ON u.id = s.user_id
                CROSS JOIN LATERAL (
                    SELECT \(Account.superAdminPermission) = ANY(a.permissions) AS super_admin FROM accounts a WHERE a.id = u.account_id
                ) own
                WHERE s.token_digest = \(Self.digest(cookie)) AND s.ended_at IS NULL AND s.expires_at > now()
                  AND s.last_seen_at > now() - make_interval(secs => \(idleTimeout.seconds)) AND u.disabled_at IS NULL
            ), seen AS (
                UPDATE console_sessions SET last_seen_at = now()
                WHERE id IN (SELECT session_id FROM found WHERE last_seen_at < now() - interval '1 minute')
            )
            SELECT session_id, csrf_token, user_id, account_id, email, role, last_signed_in_at, disabled_at, second_factor_pending, own_account_id, super_admin FROM found
            """, logger: logger)
        for try await row in rows {
            let (id, csrf, userID, accountID, email, role, lastSignedIn, disabled, pending, ownAccountID, superAdmin) = try row.decode(
                (Int64, String, Int64, Int64, String, String, Date?, Date?, Bool, Int64, Bool).self)
            let user = ConsoleUser(
                id: userID, accountID: accountID, email: email, role: ConsoleUser.Role(rawValue: role) ?? .viewer,
                lastSignedInAt: lastSignedIn, disabledAt: disabled)
            return Session(
                id: id, user: user, csrfToken: csrf, secondFactorPending: pending, superAdmin: superAdmin,
                ownAccountID: ownAccountID == accountID ? nil : ownAccountID)
        }
        return nil
    }

    /// A super admin's session acts in `accountID` from now (its own account: back to it). False when the
    /// session's user is not a super admin's or the account does not exist.
    public func actAs(_ session: Session, accountID: Int64) async throws -> Bool {
        guard session.superAdmin else { return false }
        let rows = try await client.query(
            """
            UPDATE console_sessions SET acting_account_id = a.id
            FROM accounts a WHERE console_sessions.id = \(session.id) AND a.id = \(accountID) RETURNING console_sessions.id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func end(_ session: Session) async throws {
        try await client.query("UPDATE console_sessions SET ended_at = now() WHERE id = \(session.id) AND ended_at IS NULL", logger: logger)
    }
}
