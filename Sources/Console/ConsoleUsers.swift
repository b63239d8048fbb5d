import Foundation
import HummingbirdBcrypt
import Logging
import PostgresNIO
import Shared
import Synchronization

/// The console's users: created by an admin or `API users create`, signed in by email and password. Passwords
/// are kept as bcrypt hashes (`CONSOLE_BCRYPT_COST`, 12: about a quarter of a second per check on one core, so a
/// stolen table is slow to guess from), at least 12 characters.
public struct ConsoleUsers: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// bcrypt's cost (4…16); tests use the minimum.
    public let cost: UInt8

    public init(client: PostgresClient, logger: Logger, cost: UInt8 = 12) {
        self.client = client
        self.logger = logger
        self.cost = cost
    }

    public static let minimumPasswordLength = 12

    /// A random password of 20 characters from an unambiguous alphabet (for `API users create`).
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }

    public func create(accountID: Int64, email: String, role: ConsoleUser.Role, password: String) async throws -> ConsoleUser {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        var errors = ValidationErrors()
        if !Self.looksLikeEmail(email) { errors.add("email", "is invalid") }
        errors.add(Self.passwordErrors(password))
        if !errors.isEmpty { throw errors }
        let hash = Bcrypt.hash(password, cost: cost)
        do {
            return try await client.query(
                """
                INSERT INTO console_users (account_id, email, password_hash, role) VALUES (\(accountID), \(email), \(hash), \(role.rawValue))
                RETURNING \(unescaped: ConsoleUser.columns)
                """, logger: logger
            ).single(ConsoleUser.init(row:))
        } catch  where error.isUniqueViolation {
            throw ValidationErrors("email", "has already been taken")
        } catch  where error.isForeignKeyViolation {
            throw ValidationErrors("account", ValidationErrors.mustExist)
        }
    }

    /// The user with this email and password, unless disabled. The same work whether the email exists or not
    /// (a bcrypt check against a stand-in hash), so timing does not tell which emails have accounts.
    public func authenticate(email: String, password: String) async throws -> ConsoleUser? {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        let rows = try await client.query(
            "SELECT \(unescaped: ConsoleUser.columns), password_hash FROM console_users WHERE email = \(email)", logger: logger)
        var found: (ConsoleUser, String)?
        for try await (id, accountID, email, role, lastSignedInAt, disabledAt, hash) in rows.decode(
            (Int64, Int64, String, String, Date?, Date?, String).self)
        {
            let user = ConsoleUser(
                id: id, accountID: accountID, email: email, role: ConsoleUser.Role(rawValue: role) ?? .viewer, lastSignedInAt: lastSignedInAt,
                disabledAt: disabledAt)
            found = (user, hash)
        }
        guard password.utf8.count <= 72 else { return nil }
        guard let (user, hash) = found else {
            _ = Bcrypt.verify(password, hash: Self.standIn(cost: cost))
            return nil
        }
        guard Bcrypt.verify(password, hash: hash), user.disabledAt == nil else { return nil }
        try await client.query("UPDATE console_users SET last_signed_in_at = now() WHERE id = \(user.id)", logger: logger)
        return user
    }

    /// The account of the user with this email, if any: failed sign-ins against a user are shown to its account.
    public func accountID(ofEmail email: String) async throws -> Int64? {
        let rows = try await client.query(
            "SELECT account_id FROM console_users WHERE email = \(email.trimmingCharacters(in: .whitespaces).lowercased())", logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    /// The account's users, by email.
    public func list(accountID: Int64) async throws -> [ConsoleUser] {
        var users: [ConsoleUser] = []
        let rows = try await client.query(
            "SELECT \(unescaped: ConsoleUser.columns) FROM console_users WHERE account_id = \(accountID) ORDER BY email", logger: logger)
        for try await row in rows { users.append(try ConsoleUser(row: row)) }
        return users
    }

    /// Disables a user of the account and ends their sessions; false when the account has no such user.
    public func disable(accountID: Int64, email: String) async throws -> Bool {
        let rows = try await client.query(
            """
            WITH disabled AS (
                UPDATE console_users SET disabled_at = coalesce(disabled_at, now()), updated_at = now()
                WHERE account_id = \(accountID) AND email = \(email.lowercased()) RETURNING id
            ), ended AS (
                UPDATE console_sessions SET ended_at = now() WHERE user_id IN (SELECT id FROM disabled) AND ended_at IS NULL
            )
            SELECT count(*) FROM disabled
            """, logger: logger)
        return try await rows.single { try $0.decode(Int64.self) } > 0
    }

    /// What is wrong with a new password: at least 12 characters, at most 72 bytes (bcrypt's limit).
    static func passwordErrors(_ password: String) -> ValidationErrors {
        var errors = ValidationErrors()
        if password.count < Self.minimumPasswordLength {
            errors.add("password", "is too short (minimum is \(Self.minimumPasswordLength) characters)")
        }
        if password.utf8.count > 72 { errors.add("password", "is too long (maximum is 72 bytes)") }
        return errors
    }

    public static func validate(password: String) throws(ValidationErrors) {
        let errors = passwordErrors(password)
        if !errors.isEmpty { throw errors }
    }

    static func looksLikeEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else {
            return false
        }
        return (3...254).contains(email.count) && !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" })
    }

    private static let standIns = StandInHashes()

    static func standIn(cost: UInt8) -> String { standIns.hash(cost: cost) }
}

/// One bcrypt hash per cost, made once, for checks of emails that have no user.
final class StandInHashes: Sendable {
    private let hashes = Mutex<[UInt8: String]>([:])

    func hash(cost: UInt8) -> String {
        if let known = hashes.withLock({ $0[cost] }) { return known }
        let made = Bcrypt.hash(ConsoleUsers.generatePassword(), cost: cost)
        hashes.withLock { $0[cost] = made }
        return made
    }
}
