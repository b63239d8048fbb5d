import Foundation
import Logging
import PostgresNIO
import Shared

/// The console users' optional TOTP second factor (migration 0016): enrolment (a secret, sealed with
/// `SECRETS_KEY`, that counts once a code from the app confirms it), the check at sign-in, and turning it off.
///
/// Invariants: the secret is never stored in plaintext and never shown again after enrolment; a code is
/// accepted at most once (the step it matched is written with a compare-and-set on `totp_last_step`, so two
/// concurrent sign-ins with one code cannot both pass).
public struct SecondFactors: Sendable {
    let client: PostgresClient
    let logger: Logger
    let box: SecretBox?

    public init(client: PostgresClient, logger: Logger, box: SecretBox?) {
        self.client = client
        self.logger = logger
        self.box = box
    }

    public struct Status: Sendable {
        public let enabled: Bool
        /// The secret of an enrolment begun and not yet confirmed (to show while the user sets up the app).
        public let pendingSecret: String?
    }

    func requireBox() throws -> SecretBox {
        guard let box else { throw SecretBox.Failure.noKey }
        return box
    }

    public func status(userID: Int64) async throws -> Status {
        let (secret, enabledAt) = try await client.query(
            "SELECT totp_secret, totp_enabled_at FROM console_users WHERE id = \(userID)", logger: logger
        ).single { try $0.decode((String?, Date?).self) }
        if enabledAt != nil { return Status(enabled: true, pendingSecret: nil) }
        guard let secret else { return Status(enabled: false, pendingSecret: nil) }
        return Status(enabled: false, pendingSecret: try requireBox().open(SealedSecret(stored: secret), for: .consoleTOTPSecret))
    }

    /// Begins (or begins again) enrolment: a new secret, not yet required at sign-in. Refused while enabled.
    public func begin(userID: Int64) async throws -> String? {
        let secret = TOTP.generateSecret()
        let sealed = try requireBox().seal(secret, for: .consoleTOTPSecret).stored
        let rows = try await client.query(
            """
            UPDATE console_users SET totp_secret = \(sealed), totp_last_step = NULL, updated_at = now()
            WHERE id = \(userID) AND totp_enabled_at IS NULL RETURNING id
            """, logger: logger)
        for try await _ in rows { return secret }
        return nil
    }

    /// The code is right for the user's secret (pending or enabled) and not used before: records its step.
    func accept(userID: Int64, code: String, enabled: Bool) async throws -> Bool {
        let rows = try await client.query(
            """
            SELECT totp_secret, totp_last_step FROM console_users
            WHERE id = \(userID) AND totp_secret IS NOT NULL AND (totp_enabled_at IS NOT NULL) = \(enabled)
            """, logger: logger)
        var found: (String, Int64?)?
        for try await row in rows.decode((String, Int64?).self) { found = row }
        guard let (sealed, lastStep) = found else { return false }
        let secret = try requireBox().open(SealedSecret(stored: sealed), for: .consoleTOTPSecret)
        guard let step = TOTP.verify(code, secret: secret, after: lastStep) else { return false }
        let updated = try await client.query(
            """
            UPDATE console_users SET totp_last_step = \(step),
                   totp_enabled_at = CASE WHEN \(enabled) THEN totp_enabled_at ELSE now() END, updated_at = now()
            WHERE id = \(userID) AND totp_secret = \(sealed) AND (totp_last_step IS NULL OR totp_last_step < \(step))
            RETURNING id
            """, logger: logger)
        for try await _ in updated { return true }
        return false
    }

    /// Confirms enrolment with a code from the app: from now on sign-in asks for one.
    public func confirm(userID: Int64, code: String) async throws -> Bool {
        try await accept(userID: userID, code: code, enabled: false)
    }

    /// The sign-in's check (an enabled second factor).
    public func verify(userID: Int64, code: String) async throws -> Bool {
        try await accept(userID: userID, code: code, enabled: true)
    }

    /// Whether sign-in must ask this user for a code.
    public func required(userID: Int64) async throws -> Bool {
        try await client.query("SELECT totp_enabled_at IS NOT NULL FROM console_users WHERE id = \(userID)", logger: logger)
            .single { try $0.decode(Bool.self) }
    }

    /// Turns it off, with a current code (a stolen session alone cannot).
    public func disable(userID: Int64, code: String) async throws -> Bool {
        guard try await verify(userID: userID, code: code) else { return false }
        try await client.query(
            """
            UPDATE console_users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = now()
            WHERE id = \(userID)
            """, logger: logger)
        return true
    }
}
