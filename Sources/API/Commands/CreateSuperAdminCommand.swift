import ArgumentParser
import Foundation
import Logging
import Shared

/// Creates the first super-admin account and token, the way into a new installation.
struct CreateSuperAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-super-admin",
        abstract: "Create a super-admin account with an access token and print the token.",
        discussion: """
            With --token-file, does nothing when the file already holds a token that works, so `make run` can \
            call it on every start; otherwise creates the account (if none exists) and a new token, and writes \
            the token to the file.
            """)

    @Option(help: "Write the token to this file (one line), and reuse a working token found there.")
    var tokenFile: String?

    func run() async throws {
        try StructuredLogHandler.bootstrap(environment: EnvironmentVariables())
        let logger = Logger(label: "scfm.create-super-admin")
        let tokenFile = self.tokenFile
        let existing = tokenFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .trimmingWhitespace().description
        let token: String? = try await withDatabase(logger: logger) { client in
            let accounts = AccountRepository(client: client, logger: logger)
            if let existing, !existing.isEmpty,
                let authenticated = try await accounts.find(tokenDigest: AccessTokenSecret.digest(existing)),
                authenticated.account.isSuperAdmin
            {
                return nil
            }
            var admin = try await accounts.findFirstSuperAdmin()
            if admin == nil {
                var changes = AccountChanges()
                changes.permissions = [Account.superAdminPermission]
                changes.metadata = ["name": "Super Admin"]
                admin = try await accounts.create(changes)
            }
            guard let admin else { throw RecordNotFound() }
            let tokens = AccessTokenRepository(client: client, logger: logger)
            return try await tokens.create(accountID: admin.id, createdBy: admin.id).secret
        }
        guard let token else {
            print("Super-admin token in \(tokenFile ?? "") is valid: \(existing ?? "")")
            return
        }
        if let tokenFile {
            // Readable by its owner only: the token is the key to every account.
            try? FileManager.default.removeItem(atPath: tokenFile)
            guard FileManager.default.createFile(atPath: tokenFile, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ValidationErrors("token_file", "could not be written: \(tokenFile)")
            }
        }
        print("Super-admin access token: \(token)")
    }
}
