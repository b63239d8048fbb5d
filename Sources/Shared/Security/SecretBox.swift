import Crypto
import Foundation

/// A secret as the database holds it (`accounts.twilio_auth_token`, `somleng_auth_token`,
/// `webhook_endpoints.secret`): sealed by a `SecretBox`, or plaintext written before secrets were sealed
/// (`API serve` seals those at start). Printing it never shows the secret.
public struct SealedSecret: Sendable, Equatable, CustomStringConvertible {
    public let stored: String

    public init(stored: String) { self.stored = stored }

    /// Whether it is sealed at all (false: plaintext from before sealing).
    public var isSealed: Bool { stored.hasPrefix(SecretBox.prefix) }
    /// The id of the key it is sealed under; nil for plaintext.
    public var keyID: String? {
        guard isSealed else { return nil }
        return stored.dropFirst(SecretBox.prefix.count).split(separator: ":", maxSplits: 1).first.map(String.init)
    }
    public var description: String { "(secret)" }
}

/// Which column a secret lives in: sealed with the column's name as associated data, so a sealed value copied
/// into another column does not open.
public enum SecretField: String, Sendable, CaseIterable {
    case twilioAuthToken = "accounts.twilio_auth_token"
    case somlengAuthToken = "accounts.somleng_auth_token"
    case webhookSecret = "webhook_endpoints.secret"
    case consoleTOTPSecret = "console_users.totp_secret"
}

/// Encryption of stored secrets: AES-256-GCM under a key derived (HKDF) from `SECRETS_KEY`, a fresh 96-bit
/// nonce per value. A sealed value is text, `scfm:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`; the key id
/// (8 hex digits of a hash of the derived key, which reveals nothing of it) says which key opens it, so values
/// sealed under a previous key (`SECRETS_KEY_PREVIOUS`) still open while `API secrets rotate` reseals them.
///
/// Invariant: nothing writes a provider token or webhook secret to the database except through `seal`.
public struct SecretBox: Sendable {
    static let prefix = "scfm:v1:"
    static let label = "scfm secrets at rest v1"

    struct Key: Sendable {
        let id: String
        let bytes: [UInt8]
    }
    /// The current key first.
    let keys: [Key]

    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Sealed under a key that is neither `SECRETS_KEY` nor one of `SECRETS_KEY_PREVIOUS`.
        case unknownKey(String)
        /// Altered, truncated, or moved from another column.
        case damaged(SecretField)
        /// A secret to seal or open without `SECRETS_KEY` configured.
        case noKey

        public var description: String {
            switch self {
            case .unknownKey(let id):
                "a secret is sealed under key \(id), which is neither SECRETS_KEY nor one of SECRETS_KEY_PREVIOUS"
            case .damaged(let field): "a sealed secret in \(field.rawValue) does not open (altered or moved)"
            case .noKey: "SECRETS_KEY is not configured: secrets cannot be stored or read"
            }
        }
    }

    public init(secretsKey: SecretsKey) {
        keys = secretsKey.allMaterials.map { material in
            let derived = SecretsKey.derive(from: material, for: Self.label).withUnsafeBytes { Array($0) }
            let digest = SHA256.hash(data: Array("scfm key id".utf8) + derived)
            return Key(id: digest.prefix(4).map { String(format: "%02x", $0) }.joined(), bytes: derived)
        }
    }

    /// The id of the key `seal` uses now.
    public var currentKeyID: String { keys[0].id }

    public func seal(_ plaintext: String, for field: SecretField) -> SealedSecret {
        let key = keys[0]
        // AES.GCM.seal fails only for an invalid key or nonce size, neither possible here.
        let box = try! AES.GCM.seal(Array(plaintext.utf8), using: SymmetricKey(data: key.bytes), authenticating: Array(field.rawValue.utf8))
        return SealedSecret(stored: Self.prefix + key.id + ":" + box.combined!.base64EncodedString())
    }

    public func open(_ secret: SealedSecret, for field: SecretField) throws(Failure) -> String {
        guard let id = secret.keyID else { return secret.stored }
        guard let key = keys.first(where: { $0.id == id }) else { throw .unknownKey(id) }
        let encoded = secret.stored.dropFirst(Self.prefix.count + id.count + 1)
        guard let combined = Data(base64Encoded: String(encoded)),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: SymmetricKey(data: key.bytes), authenticating: Array(field.rawValue.utf8))
        else { throw .damaged(field) }
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// Whether `secret` needs sealing again: plaintext, or sealed under a key other than the current one.
    public func needsResealing(_ secret: SealedSecret) -> Bool { secret.keyID != currentKeyID }
}

extension Optional where Wrapped == SecretBox {
    /// Seals with the configured box; without one, refuses rather than store plaintext.
    func seal(_ plaintext: String, for field: SecretField) throws(SecretBox.Failure) -> SealedSecret {
        guard let box = self else { throw .noKey }
        return box.seal(plaintext, for: field)
    }

    /// Opens with the configured box; plaintext from before sealing opens without one.
    func open(_ secret: SealedSecret, for field: SecretField) throws(SecretBox.Failure) -> String {
        if let box = self { return try box.open(secret, for: field) }
        guard !secret.isSealed else { throw .noKey }
        return secret.stored
    }
}
