import Logging
import PostgresNIO
import Synchronization

/// Each account's provider and limits, read from `accounts` and kept for a few seconds: a worker dials
/// thousands of calls a second for a handful of accounts, and a changed credential or rate takes effect
/// within `maximumAge`.
public final class ProviderAccounts: Sendable {
    private let accounts: AccountRepository
    private let defaults: ProviderDefaults
    private let maximumAge: Duration
    /// Opens the accounts' sealed auth tokens (`SECRETS_KEY`).
    private let secrets: SecretBox?
    private let cache = Mutex<[Int64: (account: ProviderAccount, readAt: ContinuousClock.Instant)]>([:])

    public init(
        client: PostgresClient, defaults: ProviderDefaults, secrets: SecretBox?, maximumAge: Duration = .seconds(5), logger: Logger
    ) {
        accounts = AccountRepository(client: client, logger: logger)
        self.secrets = secrets
        self.defaults = defaults
        self.maximumAge = maximumAge
    }

    public func provider(for accountID: Int64) async throws -> ProviderAccount {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[accountID] }), now - cached.readAt < maximumAge { return cached.account }
        let resolved = try defaults.resolve(try await accounts.find(id: accountID), secrets: secrets)
        cache.withLock { $0[accountID] = (resolved, now) }
        return resolved
    }
}
