import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import Shared

/// Secrets at rest (#20): provider auth tokens and webhook secrets are sealed with AES-GCM under a key derived
/// from `SECRETS_KEY`, open under the current or a previous key, refuse tampering and moving between columns,
/// and `API secrets rotate` (StoredSecrets.reseal) seals everything again under a new key.
@Suite(.timeLimit(.minutes(2))) struct SecretsAtRestTests {
    let logger = Logger(label: "scfm.tests.secrets")
    static let keyA = try! SecretsKey(base64: SecretsKey.generate())

    @Test func aSealedSecretOpensOnlyUnderItsKeyAndColumn() throws {
        let box = SecretBox(secretsKey: Self.keyA)
        let sealed = box.seal("auth-token-123", for: .twilioAuthToken)
        #expect(sealed.isSealed && sealed.keyID == box.currentKeyID)
        #expect(!sealed.stored.contains("auth-token-123"))
        #expect("\(sealed)" == "(secret)", "printing never shows the secret")
        #expect(try box.open(sealed, for: .twilioAuthToken) == "auth-token-123")
        #expect(box.seal("auth-token-123", for: .twilioAuthToken) != sealed, "a fresh nonce each time")

        #expect(throws: SecretBox.Failure.damaged(.somlengAuthToken)) { try box.open(sealed, for: .somlengAuthToken) }
        var bytes = Array(sealed.stored.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBox.Failure.damaged(.twilioAuthToken)) {
            try box.open(SealedSecret(stored: String(decoding: bytes, as: UTF8.self)), for: .twilioAuthToken)
        }
        let other = SecretBox(secretsKey: try SecretsKey(base64: SecretsKey.generate()))
        #expect(throws: SecretBox.Failure.unknownKey(box.currentKeyID)) { try other.open(sealed, for: .twilioAuthToken) }
        #expect(try box.open(SealedSecret(stored: "legacy-plaintext"), for: .webhookSecret) == "legacy-plaintext")
    }

    @Test func withoutAKeyNothingIsStoredInPlaintext() throws {
        let none: SecretBox? = nil
        #expect(throws: SecretBox.Failure.noKey) { try none.seal("token", for: .twilioAuthToken) }
        let sealed = SecretBox(secretsKey: Self.keyA).seal("token", for: .twilioAuthToken)
        #expect(throws: SecretBox.Failure.noKey) { try none.open(sealed, for: .twilioAuthToken) }
    }

    @Test func previousKeysStillOpenSecretsAndCallbackTokens() throws {
        let old = SecretBox(secretsKey: Self.keyA)
        let sealed = old.seal("webhook-secret", for: .webhookSecret)
        let rotatedKey = try SecretsKey(base64: SecretsKey.generate(), previous: [Self.keyA.base64ForTests])
        let rotated = SecretBox(secretsKey: rotatedKey)
        #expect(rotated.currentKeyID != old.currentKeyID)
        #expect(try rotated.open(sealed, for: .webhookSecret) == "webhook-secret")
        #expect(rotated.needsResealing(sealed) && !rotated.needsResealing(rotated.seal("x", for: .webhookSecret)))

        let oldToken = CallbackTokens(secretsKey: Self.keyA).token(phoneCallID: 42)
        #expect(CallbackTokens(secretsKey: rotatedKey).isValid(oldToken, phoneCallID: 42), "calls dialled before a rotation keep their callbacks")
        #expect(!CallbackTokens(secretsKey: rotatedKey).isValid(oldToken, phoneCallID: 43))
        let environment = EnvironmentVariables([
            "SECRETS_KEY": SecretsKey.generate(), "SECRETS_KEY_PREVIOUS": "\(Self.keyA.base64ForTests), \(SecretsKey.generate())",
        ])
        #expect(try SecretBox(secretsKey: SecretsKey(environment: environment)).open(sealed, for: .webhookSecret) == "webhook-secret")
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try SecretsKey(environment: EnvironmentVariables(["SECRETS_KEY": SecretsKey.generate(), "SECRETS_KEY_PREVIOUS": "short"]))
        }
    }

    /// The accounts row read back from PostgreSQL holds no plaintext token; the dialling side opens it.
    @Test func accountTokensAreSealedInTheRowAndOpenedToDial() async throws {
        let database = try await TestDatabases.shared.client(suite: "secrets_at_rest")
        let box = SecretBox(secretsKey: Self.keyA)
        var changes = AccountChanges()
        changes.twilioAccountSID = .some("AC-sealed-\(UUID().uuidString.prefix(8))")
        changes.twilioAuthToken = .some("twilio-plain-token")
        changes.somlengAuthToken = .some("somleng-plain-token")
        let account = try await AccountRepository(client: database, logger: logger, secrets: box).create(changes)
        let (twilio, somleng) = try await database.query(
            "SELECT twilio_auth_token, somleng_auth_token FROM accounts WHERE id = \(account.id)", logger: logger
        ).single { try $0.decode((String, String).self) }
        #expect(twilio.hasPrefix("scfm:v1:\(box.currentKeyID):") && !twilio.contains("twilio-plain-token"))
        #expect(somleng.hasPrefix("scfm:v1:") && !somleng.contains("somleng-plain-token"))

        let provider = try await ProviderAccounts(
            client: database, defaults: ProviderDefaults(baseURL: "http://127.0.0.1:9"), secrets: box, logger: logger
        ).provider(for: account.id)
        #expect(provider.authToken == "twilio-plain-token")

        var update = AccountChanges()
        update.twilioAuthToken = .some("rotated-by-operator")
        try await AccountRepository(client: database, logger: logger, secrets: box).update(id: account.id, update)
        let updated = try await database.query("SELECT twilio_auth_token FROM accounts WHERE id = \(account.id)", logger: logger)
            .single { try $0.decode(String.self) }
        #expect(updated.hasPrefix("scfm:v1:") && !updated.contains("rotated-by-operator"))

        await #expect(throws: SecretBox.Failure.noKey) {
            try await AccountRepository(client: database, logger: logger).create(changes)
        }
    }

    @Test func rotationSealsEverythingAgainUnderTheNewKeyAndPlaintextAtStart() async throws {
        let database = try await TestDatabases.shared.client(suite: "secrets_rotation")
        let old = SecretBox(secretsKey: Self.keyA)
        var changes = AccountChanges()
        changes.twilioAuthToken = .some("token-under-old-key")
        let sealedAccount = try await AccountRepository(client: database, logger: logger, secrets: old).create(changes)
        let legacy = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        try await database.query("UPDATE accounts SET somleng_auth_token = 'legacy-plaintext' WHERE id = \(legacy.id)", logger: logger)
        let lost = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let foreign = SecretBox(secretsKey: try SecretsKey(base64: SecretsKey.generate())).seal("x", for: .twilioAuthToken).stored
        try await database.query("UPDATE accounts SET twilio_auth_token = \(foreign) WHERE id = \(lost.id)", logger: logger)

        // `API serve` at start: only the plaintext is sealed.
        let atStart = try await StoredSecrets(client: database, box: old, logger: logger).reseal(onlyPlaintext: true)
        #expect(atStart == StoredSecrets.Report(resealed: 1, failed: 0))
        let legacyNow = try await database.query("SELECT somleng_auth_token FROM accounts WHERE id = \(legacy.id)", logger: logger)
            .single { try $0.decode(String.self) }
        #expect(legacyNow.hasPrefix("scfm:v1:\(old.currentKeyID):"))

        // `API secrets rotate` with the new key and the old one as previous.
        let new = SecretBox(secretsKey: try SecretsKey(base64: SecretsKey.generate(), previous: [Self.keyA.base64ForTests]))
        let stored = StoredSecrets(client: database, box: new, logger: logger)
        let report = try await stored.reseal()
        #expect(report == StoredSecrets.Report(resealed: 2, failed: 1), "the value under an unknown key is reported, not lost")
        let census = try await stored.census()
        let twilio = census.first { $0.field == .twilioAuthToken }!.counts
        #expect(twilio[new.currentKeyID] ?? 0 >= 1 && twilio[old.currentKeyID] == nil)
        #expect(census.allSatisfy { $0.counts["plaintext"] == nil })
        let provider = try await ProviderAccounts(
            client: database, defaults: ProviderDefaults(baseURL: "http://127.0.0.1:9"), secrets: new, logger: logger
        ).provider(for: sealedAccount.id)
        #expect(provider.authToken == "token-under-old-key")
        #expect(try await stored.reseal() == StoredSecrets.Report(resealed: 0, failed: 1), "idempotent")
        try await database.query("UPDATE accounts SET twilio_auth_token = NULL WHERE id = \(lost.id)", logger: logger)
    }
}

extension SecretsKey {
    /// The key as SECRETS_KEY would hold it (tests only).
    var base64ForTests: String { Data(material).base64EncodedString() }
}
