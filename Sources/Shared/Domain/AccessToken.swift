import Crypto
import Foundation
import NIOCore
import PostgresNIO

public struct AccessToken: Sendable {
    /// What a token may do: everything its account may (`read_write`), or only read (`read_only`: any method
    /// but GET and HEAD is 403). Super-admin rights come from the account's permissions, as in SCFM.
    public enum Scope: String, Sendable, CaseIterable {
        case readWrite = "read_write"
        case readOnly = "read_only"
    }

    public let id: Int64
    public let accountID: Int64
    public var metadata: JSONValue
    public let scope: Scope
    public let expiresAt: Date?
    public let revokedAt: Date?
    public let lastUsedAt: Date?
    public let tokenPrefix: String?
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL =
        "id, account_id, metadata, scope, expires_at, revoked_at, last_used_at, token_prefix, created_at, updated_at"

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        scope = Scope(rawValue: try columns["scope"].decode(String.self)) ?? .readOnly
        expiresAt = try columns["expires_at"].decode(Date?.self)
        revokedAt = try columns["revoked_at"].decode(Date?.self)
        lastUsedAt = try columns["last_used_at"].decode(Date?.self)
        tokenPrefix = try columns["token_prefix"].decode(String?.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    /// How a token is listed: masked (its first characters only), with its state.
    public var json: JSONValue {
        [
            "id": .integer(id),
            "account_id": .integer(accountID),
            "token": tokenPrefix.map { .string($0 + "…") } ?? .null,
            "scope": .string(scope.rawValue),
            "expires_at": .timestamp(expiresAt),
            "revoked_at": .timestamp(revokedAt),
            "last_used_at": .timestamp(lastUsedAt),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
            "metadata": metadata,
        ]
    }

    /// The representation at creation, the one time the token itself is shown: the seeds' fields (scope and
    /// expiry are read back with `GET /api/access_tokens/:id`).
    public func json(token: String) -> JSONValue {
        [
            "id": .integer(id),
            "token": .string(token),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
            "metadata": metadata,
        ]
    }
}

/// The token a request was authenticated with: its account, which token, and what it may do.
public struct AuthenticatedToken: Sendable {
    public let account: Account
    public let tokenID: Int64
    public let scope: AccessToken.Scope

    public init(account: Account, tokenID: Int64, scope: AccessToken.Scope) {
        self.account = account
        self.tokenID = tokenID
        self.scope = scope
    }
}

/// Access tokens are 32 random bytes in hex; only their SHA-256 digest is stored, so a database dump does
/// not hand out API access.
public enum AccessTokenSecret {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
            .joined()
    }

    /// The SHA-256 of the token, as a buffer so that it binds as `bytea`.
    public static func digest(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Array(token.utf8)))
    }
}
