import Console
import Foundation
import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The `API` executable's commands as an operator runs them (the built binary, a real database): the wiring
/// of arguments, environment and exit status that in-process tests do not see.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CommandLineTests {
    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    /// Next to the Workers binary `make test` names (WORKERS_BINARY), else the debug build folder.
    static var binary: String {
        if let workers = ProcessInfo.processInfo.environment["WORKERS_BINARY"] {
            return URL(fileURLWithPath: workers).deletingLastPathComponent().appendingPathComponent("API").path
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/API"
    }

    func run(_ arguments: [String], _ environment: [String: String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECRETS_KEY") }
        inherited["LOG_LEVEL"] = "warning"
        process.environment = inherited.merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), error: String(decoding: err, as: UTF8.self))
    }

    @Test func helpListsEveryCommand() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "\(Self.binary) is built")
        let help = try run(["--help"], [:])
        #expect(help.status == 0)
        for command in ["serve", "migrate", "create-super-admin", "accounts", "access-tokens", "secrets", "trunks", "task", "dead-letters", "users"] {
            #expect(help.output.contains(command), "--help names \(command)")
        }
        let secrets = try run(["secrets", "--help"], [:])
        #expect(secrets.output.contains("rotate") && secrets.output.contains("status"))
    }

    /// Accounts with a provider token, an access token, and the secrets key's status and rotation.
    @Test func accountsTokensAndSecretsRotation() async throws {
        let url = try await TestDatabases.shared.url(suite: "command_line")
        let database = try await TestDatabases.shared.client(suite: "command_line")
        let keyA = SecretsKey.generate()
        let keyB = SecretsKey.generate()

        let refused = try run(["accounts", "create", "--twilio-account-sid", "AC-cli", "--twilio-auth-token", "cli-token"], ["DATABASE_URL": url])
        #expect(refused.status != 0)
        #expect(refused.error.contains("SECRETS_KEY"), "\(refused.error)")

        let created = try run(
            ["accounts", "create", "--twilio-account-sid", "AC-cli", "--twilio-auth-token", "cli-token", "--max-calls-per-second", "7"],
            ["DATABASE_URL": url, "SECRETS_KEY": keyA])
        #expect(created.status == 0, "\(created.error)")
        let account = try JSONParser.parse(Array(created.output.utf8))
        let id = try #require(account["id"]?.integerValue)
        #expect(account["twilio_account_sid"] == "AC-cli")
        #expect(account["settings"] == ["max_calls_per_second": 7])
        #expect(!created.output.contains("cli-token"), "the token is never printed")
        let stored = try await database.query("SELECT twilio_auth_token FROM accounts WHERE id = \(id)", logger: .init(label: "cli"))
            .single { try $0.decode(String.self) }
        #expect(stored.hasPrefix("scfm:v1:") && !stored.contains("cli-token"))

        let token = try run(["access-tokens", "create", "--account-id", "\(id)"], ["DATABASE_URL": url])
        #expect(token.status == 0)
        #expect(token.output.trimmingCharacters(in: .whitespacesAndNewlines).count >= 32)
        let missing = try run(["access-tokens", "create", "--account-id", "999999"], ["DATABASE_URL": url])
        #expect(missing.status != 0)

        let list = try run(["accounts", "list"], ["DATABASE_URL": url])
        #expect(list.output.split(separator: "\n").contains { $0.contains("\"id\":\(id)") })

        let status = try run(["secrets", "status"], ["DATABASE_URL": url, "SECRETS_KEY": keyA])
        #expect(status.status == 0, "\(status.error)")
        #expect(status.output.contains("accounts.twilio_auth_token: ") && status.output.contains("(current): 1"), "\(status.output)")

        let unrotated = try run(["secrets", "rotate"], ["DATABASE_URL": url, "SECRETS_KEY": keyB])
        #expect(unrotated.status != 0, "without the old key nothing opens: \(unrotated.output)")
        #expect(unrotated.output.contains("did not open: 1"))
        let rotated = try run(["secrets", "rotate"], ["DATABASE_URL": url, "SECRETS_KEY": keyB, "SECRETS_KEY_PREVIOUS": keyA])
        #expect(rotated.status == 0, "\(rotated.error)")
        #expect(rotated.output.contains(": 1; did not open: 0"), "\(rotated.output)")
        let after = try run(["secrets", "status"], ["DATABASE_URL": url, "SECRETS_KEY": keyB])
        #expect(after.output.contains("(current): 1"), "\(after.output)")
        let rotatedToken = try await database.query("SELECT twilio_auth_token FROM accounts WHERE id = \(id)", logger: .init(label: "cli"))
            .single { try $0.decode(String.self) }
        #expect(try SecretBox(secretsKey: SecretsKey(base64: keyB)).open(SealedSecret(stored: rotatedToken), for: .twilioAuthToken) == "cli-token")
    }

    /// `dead-letters list` shows what workers gave up on; `replay` writes the JSON jobs back to the outbox under
    /// their topic (the published prefix taken off) and removes them, leaving a poison message where it is.
    @Test func deadLettersAreListedAndReplayedThroughTheOutbox() async throws {
        let url = try await TestDatabases.shared.url(suite: "command_line_dead_letters")
        let database = try await TestDatabases.shared.client(suite: "command_line_dead_letters")
        let logger = Logger(label: "cli")
        try await database.query(
            """
            INSERT INTO dead_letters (topic, partition, message_offset, message_key, payload, error, attempts) VALUES
              ('env1.phone-calls.queue', 0, 7, '42', convert_to('{"phone_call_id":42,"account_id":1}', 'UTF8'), 'database unavailable', 5),
              ('env1.phone-calls.queue', 1, 9, '43', convert_to('not json', 'UTF8'), 'poison message: not a job', 1)
            """, logger: logger)
        let environment = ["DATABASE_URL": url, "KAFKA_TOPIC_PREFIX": "env1."]

        let listed = try run(["dead-letters", "list"], environment)
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output.contains("env1.phone-calls.queue[0]@7") && listed.output.contains("database unavailable"), "\(listed.output)")
        #expect(try run(["dead-letters", "replay"], environment).status != 0, "nothing named: refused")

        let replayed = try run(["dead-letters", "replay", "--all"], environment)
        #expect(replayed.status == 0, "\(replayed.error)")
        #expect(replayed.output.contains("Replayed 1 dead letter"), "\(replayed.output)")
        #expect(replayed.output.contains("not a JSON job"), "\(replayed.output)")
        let outbox = try await database.query(
            "SELECT topic, message_key, payload FROM outbox_messages WHERE published_at IS NULL", logger: logger
        ).single { try $0.decode((String, String, JSONValue).self) }
        #expect(outbox.0 == "phone-calls.queue" && outbox.1 == "42" && outbox.2["phone_call_id"] == 42 && outbox.2["account_id"] == 1)
        let left = try await database.query("SELECT message_offset FROM dead_letters", logger: logger).single { try $0.decode(Int64.self) }
        #expect(left == 9, "the poison message stays")
    }

    /// `users create` stores a bcrypt hash and hands the generated password over once (or in a 0600 file);
    /// `--if-missing` leaves an existing user alone; `disable` ends the user's sign-ins.
    @Test func consoleUsersAreCreatedListedAndDisabled() async throws {
        let url = try await TestDatabases.shared.url(suite: "command_line_users")
        let database = try await TestDatabases.shared.client(suite: "command_line_users")
        let account = try await database.query(
            "INSERT INTO accounts (permissions) VALUES ('{super_admin}') RETURNING id", logger: Logger(label: "cli")
        )
        .single { try $0.decode(Int64.self) }
        let environment = ["DATABASE_URL": url, "CONSOLE_BCRYPT_COST": "4"]
        let printed = try run(
            ["users", "create", "--account-id", "\(account)", "--email", "Chief@Agency.example.org", "--role", "admin"], environment)
        #expect(printed.status == 0, "\(printed.error)")
        let password = try #require(
            printed.output.components(separatedBy: "Password (shown once): ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(password.count == 20)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("console-password-\(UUID().uuidString)").path
        let filed = try run(
            ["users", "create", "--of-super-admin-account", "--email", "viewer@agency.example.org", "--role", "viewer", "--password-file", file],
            environment)
        #expect(filed.status == 0, "\(filed.error)")
        #expect(!filed.output.contains("Password (shown once)"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try run(["users", "create", "--account-id", "\(account)", "--email", "viewer@agency.example.org", "--if-missing"], environment)
        #expect(again.status == 0 && again.output.contains("already has a user"), "\(again.output)")
        #expect(
            try run(["users", "create", "--account-id", "\(account)", "--email", "x@agency.example.org", "--role", "root"], environment).status != 0)

        let listed = try run(["users", "list", "--account-id", "\(account)"], environment)
        #expect(
            listed.output.contains("chief@agency.example.org\tadmin") && listed.output.contains("viewer@agency.example.org\tviewer"),
            "\(listed.output)")
        let users = ConsoleUsers(client: database, logger: Logger(label: "cli"), cost: 4)
        #expect(try await users.authenticate(email: "chief@agency.example.org", password: password)?.role == .admin)
        #expect(try run(["users", "disable", "--account-id", "\(account)", "--email", "chief@agency.example.org"], environment).status == 0)
        #expect(try await users.authenticate(email: "chief@agency.example.org", password: password) == nil)
        #expect(try run(["users", "disable", "--account-id", "\(account)", "--email", "nobody@agency.example.org"], environment).status != 0)

        // An invitation and a reset print links of PUBLIC_BASE_URL that the password page accepts.
        var linked = environment
        linked["PUBLIC_BASE_URL"] = "https://alerts.example.org"
        let invited = try run(["users", "invite", "--account-id", "\(account)", "--email", "new@agency.example.org", "--role", "operator"], linked)
        #expect(invited.status == 0, "\(invited.error)")
        let link = try #require(invited.output.split(separator: "\n").last.map(String.init))
        #expect(link.hasPrefix("https://alerts.example.org/console/password/"), "\(invited.output)")
        let links = PasswordLinks(client: database, logger: Logger(label: "cli"), cost: 4)
        #expect(try await links.user(token: String(link.split(separator: "/").last ?? ""))?.email == "new@agency.example.org")
        let reset = try run(["users", "reset-link", "--account-id", "\(account)", "--email", "viewer@agency.example.org"], linked)
        #expect(reset.status == 0, "\(reset.error)")
        let token = String(reset.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/").last ?? "")
        #expect(try await links.redeem(token: token, password: "a new long password")?.email == "viewer@agency.example.org")
        #expect(try await users.authenticate(email: "viewer@agency.example.org", password: "a new long password") != nil)
        #expect(
            try run(["users", "reset-link", "--account-id", "\(account)", "--email", "chief@agency.example.org"], linked).status != 0, "disabled")
    }
}
