import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import Shared

/// `API accounts …`: account administration without the REST API (a new installation, a locked-out operator).
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Create and list accounts (DATABASE_URL).",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account and print it as JSON.")

        @Flag(help: "With the super_admin permission (manages every account through the API).")
        var superAdmin = false
        @Option(help: "Metadata as a JSON object.")
        var metadata: String?
        @Option(help: "twilio or somleng (default: PLATFORM_PROVIDER).")
        var platformProvider: String?
        @Option var twilioAccountSID: String?
        @Option var twilioAuthToken: String?
        @Option var somlengAccountSID: String?
        @Option var somlengAuthToken: String?
        @Option(help: "The account's dial rate (settings max_calls_per_second; default: MAX_CALLS_PER_SECOND).")
        var maxCallsPerSecond: Double?

        func run() async throws {
            var changes = AccountChanges()
            changes.metadata = try parseMetadata(metadata, name: "metadata")
            if superAdmin { changes.permissions = [Account.superAdminPermission] }
            if let platformProvider { changes.platformProviderName = .some(platformProvider) }
            if let twilioAccountSID { changes.twilioAccountSID = .some(twilioAccountSID) }
            if let twilioAuthToken { changes.twilioAuthToken = .some(twilioAuthToken) }
            if let somlengAccountSID { changes.somlengAccountSID = .some(somlengAccountSID) }
            if let somlengAuthToken { changes.somlengAuthToken = .some(somlengAuthToken) }
            if let maxCallsPerSecond {
                guard maxCallsPerSecond > 0 else { throw ValidationError("--max-calls-per-second must be positive") }
                changes.settings = ["max_calls_per_second": .number(maxCallsPerSecond)]
            }
            do {
                try changes.validate()
            } catch {
                throw ValidationError(JSONSerializer.string(error.json))
            }
            let validated = changes
            // Auth tokens are stored sealed: giving one needs SECRETS_KEY (a clear error otherwise).
            let secrets = twilioAuthToken == nil && somlengAuthToken == nil ? nil : try SecretsCommand.box()
            let account = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await AccountRepository(client: client, logger: logger, secrets: secrets).create(validated)
            }
            print(JSONSerializer.string(account.json))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every account, one JSON object per line.")

        func run() async throws {
            try await commandDatabase(label: "scfm.admin") { client, logger in
                let accounts = AccountRepository(client: client, logger: logger)
                var page = 1
                while true {
                    let records = try await accounts.index(page: PageRequest(page: page, perPage: PageRequest.maximumPerPage)).records
                    for account in records { print(JSONSerializer.string(account.json)) }
                    if records.count < PageRequest.maximumPerPage { return }
                    page += 1
                }
            }
        }
    }
}

/// `API access-tokens create`: a token for an account, printed once (only its digest is stored).
struct AccessTokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-tokens",
        abstract: "Create access tokens (DATABASE_URL).",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an access token for an account and print it.")

        @Option(help: "The account the token is for.")
        var accountID: Int64

        func run() async throws {
            let accountID = self.accountID
            let secret = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await AccessTokenRepository(client: client, logger: logger).create(accountID: accountID, createdBy: nil).secret
            }
            print(secret)
        }
    }
}
