import ArgumentParser
import Console
import Foundation
import Logging
import Shared

/// `API users …`: the operator console's people, without the console (the first admin of an installation, a
/// locked-out agency).
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Create, invite, list and disable operator console users, and make reset links (DATABASE_URL).",
        subcommands: [Create.self, Invite.self, ResetLink.self, List.self, Disable.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a console user with a generated password.",
            discussion: """
                The password (20 random characters) is printed once, or written to --password-file (mode 0600, \
                not printed); only its bcrypt hash (cost CONSOLE_BCRYPT_COST, 12) is stored. With \
                --if-missing, an email that already has a user is left as it is (for `make run`).
                """)

        @Option(help: "The account (agency) the user belongs to.")
        var accountID: Int64?
        @Flag(help: "Of the oldest super-admin account instead (local mode's first admin).")
        var ofSuperAdminAccount = false
        @Option(help: "The user's email, with which they sign in.")
        var email: String
        @Option(help: "admin (users, settings, tokens, webhooks), operator (contacts and callouts) or viewer (read only).")
        var role: String = "operator"
        @Option(help: "Write the password to this file (0600) instead of printing it.")
        var passwordFile: String?
        @Flag(help: "Do nothing when the email already has a user.")
        var ifMissing = false

        func validate() throws {
            guard ConsoleUser.Role(rawValue: role) != nil else { throw ValidationError("--role must be admin, operator or viewer") }
            guard (accountID == nil) == ofSuperAdminAccount else {
                throw ValidationError("name the account: --account-id N or --of-super-admin-account")
            }
        }

        func run() async throws {
            let role = ConsoleUser.Role(rawValue: role)!
            let password = ConsoleUsers.generatePassword()
            let (accountID, email, ifMissing) = (self.accountID, self.email, self.ifMissing)
            let cost = try UInt8(EnvironmentVariables().integer("CONSOLE_BCRYPT_COST", default: 12, range: 4...16))
            let created = try await commandDatabase(label: "scfm.users") { client, logger -> ConsoleUser? in
                let users = ConsoleUsers(client: client, logger: logger, cost: cost)
                var chosen = accountID
                if chosen == nil {
                    chosen = try await client.query(
                        "SELECT min(id) FROM accounts WHERE \(Account.superAdminPermission) = ANY(permissions)", logger: logger
                    ).single { try $0.decode(Int64?.self) }
                }
                guard let accountID = chosen else {
                    throw CommandFailure(description: "no super-admin account: run `API create-super-admin` first")
                }
                do {
                    return try await users.create(accountID: accountID, email: email, role: role, password: password)
                } catch let errors as ValidationErrors where ifMissing && errors.messages.contains(where: { $0.attribute == "email" }) {
                    return nil
                }
            }
            guard let created else {
                print("\(email.lowercased()) already has a user: left as it is.")
                return
            }
            if let passwordFile {
                guard
                    FileManager.default.createFile(
                        atPath: passwordFile, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else {
                    throw CommandFailure(description: "cannot write \(passwordFile); the user was created: disable it and try again")
                }
                print("Created \(created.role.rawValue) \(created.email) of account \(created.accountID); password in \(passwordFile).")
            } else {
                print("Created \(created.role.rawValue) \(created.email) of account \(created.accountID). Password (shown once): \(password)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The account's users: email, role, last sign-in, disabled.")

        @Option(help: "The account (agency).")
        var accountID: Int64

        func run() async throws {
            let accountID = self.accountID
            let users = try await commandDatabase(label: "scfm.users") { client, logger in
                try await ConsoleUsers(client: client, logger: logger).list(accountID: accountID)
            }
            for user in users {
                print(
                    "\(user.email)\t\(user.role.rawValue)\tlast sign-in \(user.lastSignedInAt.map(Timestamp.iso8601) ?? "never")"
                        + (user.disabledAt == nil ? "" : "\tdisabled"))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: no more sign-ins, and their sessions end at once.")

        @Option(help: "The account (agency).")
        var accountID: Int64
        @Option(help: "The user's email.")
        var email: String

        func run() async throws {
            let (accountID, email) = (self.accountID, self.email)
            let disabled = try await commandDatabase(label: "scfm.users") { client, logger in
                try await ConsoleUsers(client: client, logger: logger).disable(accountID: accountID, email: email)
            }
            guard disabled else { throw CommandFailure(description: "account \(accountID) has no user \(email)") }
            print("Disabled \(email.lowercased()).")
        }
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite a person: their user is made now, and a link (printed) lets them set their own password.",
            discussion: """
                The link is PUBLIC_BASE_URL/console/password/<token>: it works once and expires in 72 hours; only \
                the token's SHA-256 is stored. Until it is used, nobody knows the user's password.
                """)

        @Option(help: "The account (agency) the user belongs to.")
        var accountID: Int64
        @Option(help: "The person's email, with which they will sign in.")
        var email: String
        @Option(help: "admin, operator or viewer.")
        var role: String = "operator"

        func validate() throws {
            guard ConsoleUser.Role(rawValue: role) != nil else { throw ValidationError("--role must be admin, operator or viewer") }
        }

        func run() async throws {
            let (accountID, email, role) = (self.accountID, self.email, ConsoleUser.Role(rawValue: role)!)
            let cost = try UInt8(EnvironmentVariables().integer("CONSOLE_BCRYPT_COST", default: 12, range: 4...16))
            let base = try PublicBaseURL.read(EnvironmentVariables()) ?? "http://127.0.0.1:3000"
            let (user, token) = try await commandDatabase(label: "scfm.users") { client, logger in
                try await PasswordLinks(client: client, logger: logger, cost: cost).invite(accountID: accountID, email: email, role: role)
            }
            print("Invited \(user.role.rawValue) \(user.email) of account \(user.accountID). Their link (once, 72 hours):")
            print(base + PasswordLinks.path(token))
        }
    }

    struct ResetLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-link",
            abstract: "Print a one-use link (72 hours) with which a user sets a new password; their sessions end when it is used.")

        @Option(help: "The account (agency).")
        var accountID: Int64
        @Option(help: "The user's email.")
        var email: String

        func run() async throws {
            let (accountID, email) = (self.accountID, self.email.lowercased())
            let base = try PublicBaseURL.read(EnvironmentVariables()) ?? "http://127.0.0.1:3000"
            let token = try await commandDatabase(label: "scfm.users") { client, logger -> String? in
                let users = try await ConsoleUsers(client: client, logger: logger).list(accountID: accountID)
                guard let user = users.first(where: { $0.email == email }) else { return nil }
                return try await PasswordLinks(client: client, logger: logger).reset(accountID: accountID, userID: user.id)
            }
            guard let token else { throw CommandFailure(description: "account \(accountID) has no enabled user \(email)") }
            print(base + PasswordLinks.path(token))
        }
    }
}
