import Crypto
import Foundation

/// `SECRETS_KEY`: the installation's 32-byte master key, base64, the same for the API and every worker that
/// reads a secret (queue, remote-fetch, webhooks). Keys for each use are derived from it (HKDF-SHA256 with a
/// label per use: callback tokens, secrets at rest), never used directly.
///
/// Rotation: the new key goes in `SECRETS_KEY`, the old one in `SECRETS_KEY_PREVIOUS` (several, comma
/// separated) until `API secrets rotate` has sealed every stored secret again under the new key and the calls
/// dialled under the old one are finished; then the old key is dropped.
public struct SecretsKey: Sendable {
    public static let variable = "SECRETS_KEY"
    public static let previousVariable = "SECRETS_KEY_PREVIOUS"
    /// The current key's bytes (SymmetricKey is not Sendable).
    let material: [UInt8]
    /// Earlier keys, still accepted for reading (opening sealed secrets, checking callback tokens).
    let previousMaterials: [[UInt8]]

    var allMaterials: [[UInt8]] { [material] + previousMaterials }

    public init(base64: String, previous: [String] = []) throws {
        material = try Self.decode(base64, variable: Self.variable)
        previousMaterials = try previous.map { try Self.decode($0, variable: Self.previousVariable) }
    }

    static func decode(_ base64: String, variable: String) throws -> [UInt8] {
        guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw EnvironmentVariables.InvalidValue(
                name: variable, value: "(hidden)", expected: "32 random bytes in base64 (openssl rand -base64 32)")
        }
        return Array(bytes)
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
        let previous = (environment[Self.previousVariable] ?? "").split(separator: ",").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        try self.init(base64: text, previous: previous)
    }

    static func derive(from material: [UInt8], for label: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), info: Array(label.utf8), outputByteCount: 32)
    }
}
