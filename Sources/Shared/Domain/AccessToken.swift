import Crypto
import Foundation
import NIOCore
import PostgresNIO

public struct AccessToken: Sendable {
    public let id: Int64
    public let accountID: Int64
    public var metadata: JSONValue
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = "id, account_id, metadata, created_at, updated_at"

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    /// The representation at creation, the one time the token itself is shown.
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
