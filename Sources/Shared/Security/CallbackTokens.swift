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
    static let label = "scfm callback tokens v1"
    /// The derived keys' bytes (SymmetricKey is not Sendable): the current key's first, then those of
    /// `SECRETS_KEY_PREVIOUS`, so calls dialled before a key rotation keep their callbacks.
    private let keys: [[UInt8]]

    /// `secretsKey`: the installation's master key (`SECRETS_KEY`); the token key is derived from it (HKDF),
    /// so it is never the key that encrypts anything.
    public init(secretsKey: SecretsKey) {
        keys = secretsKey.allMaterials.map { SecretsKey.derive(from: $0, for: Self.label).withUnsafeBytes { Array($0) } }
    }

    /// The token this installation gives call `phoneCallID` now (under the current key).
    public func token(phoneCallID: Int64) -> String {
        Self.token(phoneCallID: phoneCallID, key: keys[0])
    }

    static func token(phoneCallID: Int64, key: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("phone_call:\(phoneCallID)".utf8), using: SymmetricKey(data: key))
        return Data(mac).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time comparison with the call's token under the current key or a previous one.
    public func isValid(_ token: String, phoneCallID: Int64) -> Bool {
        let given = Array(token.utf8)
        var matched = false
        for key in keys {
            let expected = Array(Self.token(phoneCallID: phoneCallID, key: key).utf8)
            guard given.count == expected.count else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(given, expected) { difference |= a ^ b }
            matched = matched || difference == 0
        }
        return matched
    }
}
