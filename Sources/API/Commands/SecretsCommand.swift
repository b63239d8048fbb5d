import ArgumentParser
import Foundation
import Shared

/// `API secrets …`: the stored provider auth tokens and webhook secrets, sealed under `SECRETS_KEY`.
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Inspect and rotate the key that seals stored secrets (DATABASE_URL, SECRETS_KEY, SECRETS_KEY_PREVIOUS).",
        discussion: """
            Rotating: generate a new key (openssl rand -base64 32); set it as SECRETS_KEY and the old one as \
            SECRETS_KEY_PREVIOUS on the API and every worker; run `API secrets rotate`; once `API secrets status` \
            shows nothing under the old key and the calls dialled before the change are finished, drop \
            SECRETS_KEY_PREVIOUS.
            """,
        subcommands: [Status.self, Rotate.self])

    static func box() throws -> SecretBox { SecretBox(secretsKey: try SecretsKey(environment: EnvironmentVariables())) }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print how many secrets each column holds under each key id (and how many in plaintext).")

        func run() async throws {
            let box = try SecretsCommand.box()
            let census = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await StoredSecrets(client: client, box: box, logger: logger).census()
            }
            print("current key id: \(box.currentKeyID)")
            for (field, counts) in census {
                let parts = counts.sorted { $0.key < $1.key }.map { "\($0.key == box.currentKeyID ? "\($0.key) (current)" : $0.key): \($0.value)" }
                print("\(field.rawValue): \(parts.isEmpty ? "none" : parts.joined(separator: ", "))")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every stored secret again under SECRETS_KEY (those under SECRETS_KEY_PREVIOUS, and any plaintext).")

        func run() async throws {
            let box = try SecretsCommand.box()
            let report = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await StoredSecrets(client: client, box: box, logger: logger).reseal { field, report in
                    FileHandle.standardError.write(Data("\(field.rawValue): \(report.resealed) sealed again\n".utf8))
                }
            }
            print("sealed again under key \(box.currentKeyID): \(report.resealed); did not open: \(report.failed)")
            if report.failed > 0 {
                throw CommandFailure(description: "\(report.failed) secrets did not open: add their key to SECRETS_KEY_PREVIOUS and run again")
            }
        }
    }
}
