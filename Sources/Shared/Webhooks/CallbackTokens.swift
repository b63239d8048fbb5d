import Crypto
import Foundation

/// The token that binds a provider callback URL to its phone call: `…/api/remote_phone_call_events?
/// phone_call_id=N&token=T`, T an HMAC-SHA256 of the call's id under a key derived from `SECRETS_KEY`.
///
/// Why: the provider signs every request it sends with the platform's token, whichever tenant's call flow asked
/// for it (a tenant's TwiML can aim a child leg's status callback anywhere), so a valid signature proves only
/// that the provider sent the request, not that it is about the call its URL names. Only this system, which
/// put the token in the dial's own callback URLs, can make a URL that names call N; a callback naming a call
/// without its token is refused (403) and changes nothing. A callback without any token (a call dialled
/// before tokens existed) is found by its `CallSid` alone, which the provider sets and signs.
public struct CallbackTokens: Sendable {
    /// The derived key's bytes (SymmetricKey is not Sendable).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// `secretsKey`: the installation's master key (`SECRETS_KEY`); the token key is derived from it (HKDF),
    /// so it is never the key that encrypts anything.
    public init(secretsKey: SecretsKey) {
        keyBytes = secretsKey.derived(for: "scfm callback tokens v1").withUnsafeBytes { Array($0) }
    }

    public func token(phoneCallID: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("phone_call:\(phoneCallID)".utf8), using: key)
        return Data(mac).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time comparison with the call's token.
    public func isValid(_ token: String, phoneCallID: Int64) -> Bool {
        let expected = Array(self.token(phoneCallID: phoneCallID).utf8)
        let given = Array(token.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }
}

/// `SECRETS_KEY`: the installation's 32-byte master key, base64. Keys for each use are derived from it
/// (HKDF-SHA256 with a label per use), never used directly. Required by the API and the queue workers.
public struct SecretsKey: Sendable {
    public static let variable = "SECRETS_KEY"
    /// The key's bytes (SymmetricKey is not Sendable).
    let material: [UInt8]

    public init(base64: String) throws {
        guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw EnvironmentVariables.InvalidValue(
                name: Self.variable, value: "(hidden)", expected: "32 random bytes in base64 (openssl rand -base64 32)")
        }
        material = Array(bytes)
    }

    /// A new random key, base64 (what `make run` writes to `.scfm/secrets-key`).
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Required: a clear error naming the variable when it is missing.
    public init(environment: EnvironmentVariables) throws {
        guard let text = environment[Self.variable] else {
            throw EnvironmentVariables.InvalidValue(
                name: Self.variable, value: "(unset)",
                expected: "32 random bytes in base64, the same for the API and every worker (openssl rand -base64 32)")
        }
        try self.init(base64: text)
    }

    func derived(for label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), info: Array(label.utf8), outputByteCount: 32)
    }
}
