import Foundation
import PostgresNIO

public struct Account: Sendable {
    public static let superAdminPermission = "super_admin"
    public static let permissions = [superAdminPermission]
    public static let platformProviders = ["twilio", "somleng"]

    public let id: Int64
    public var metadata: JSONValue
    public var settings: JSONValue
    public var permissions: [String]
    public var platformProviderName: String?
    public var twilioAccountSID: String?
    /// Sealed (SecretBox); `ProviderDefaults.resolve` opens them where a dial or a signature check needs them.
    public var twilioAuthToken: SealedSecret?
    public var somlengAccountSID: String?
    public var somlengAuthToken: SealedSecret?
    public let createdAt: Date
    public var updatedAt: Date

    public var isSuperAdmin: Bool { permissions.contains(Self.superAdminPermission) }

    /// The columns `init(row:)` reads, for every SELECT and RETURNING of accounts.
    public static let columns: TrustedSQL = """
        id, metadata, settings, permissions, platform_provider_name, twilio_account_sid, twilio_auth_token,
        somleng_account_sid, somleng_auth_token, created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        settings = try columns["settings"].decode(JSONValue.self)
        permissions = try columns["permissions"].decode([String].self)
        platformProviderName = try columns["platform_provider_name"].decode(String?.self)
        twilioAccountSID = try columns["twilio_account_sid"].decode(String?.self)
        twilioAuthToken = try columns["twilio_auth_token"].decode(String?.self).map(SealedSecret.init(stored:))
        somlengAccountSID = try columns["somleng_account_sid"].decode(String?.self)
        somlengAuthToken = try columns["somleng_auth_token"].decode(String?.self).map(SealedSecret.init(stored:))
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    /// The API representation. Auth tokens are write-only and never rendered.
    public var json: JSONValue {
        [
            "id": .integer(id),
            "metadata": metadata,
            "settings": settings,
            "twilio_account_sid": .optional(twilioAccountSID),
            "somleng_account_sid": .optional(somlengAccountSID),
            "platform_provider_name": .optional(platformProviderName),
            "permissions": .array(permissions.map { .string($0) }),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
