import Logging
import NIOCore
import Shared
import Synchronization
import TestSupport
import Testing

@testable import API

/// The token cache of `API_TOKEN_CACHE_SECONDS`: one lookup per token and time to live, unknown tokens never
/// kept, an account forgotten when it changes, and no caching at all when the time to live is zero.
@Suite(.timeLimit(.minutes(2))) struct AuthenticatedAccountsTests {
    let logger = Logger(label: "scfm.tests.token-cache")

    @Test func keepsKnownTokensForTheirTimeToLiveOnly() async throws {
        let database = try await TestDatabases.shared.client(suite: "token_cache")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let lookups = Atomic<Int>(0)
        let known = ByteBuffer(string: "known"), unknown = ByteBuffer(string: "unknown")
        let load: (ByteBuffer) async throws -> AuthenticatedToken? = { digest in
            lookups.add(1, ordering: .relaxed)
            return digest == known ? AuthenticatedToken(account: account, tokenID: 1, scope: .readWrite) : nil
        }

        // Two seconds: wide against a busy machine (the suites run side by side), where the first lookup alone
        // can take a few hundred milliseconds.
        let cache = AuthenticatedAccounts(timeToLive: .seconds(2))
        #expect(try await cache.account(tokenDigest: known, load: load)?.account.id == account.id)
        #expect(try await cache.account(tokenDigest: known, load: load)?.account.id == account.id)
        #expect(lookups.load(ordering: .relaxed) == 1)
        #expect(try await cache.account(tokenDigest: unknown, load: load) == nil)
        #expect(try await cache.account(tokenDigest: unknown, load: load) == nil)
        #expect(lookups.load(ordering: .relaxed) == 3)

        cache.forget(accountID: account.id)
        _ = try await cache.account(tokenDigest: known, load: load)
        #expect(lookups.load(ordering: .relaxed) == 4)
        cache.forget(tokenDigest: known)
        _ = try await cache.account(tokenDigest: known, load: load)
        #expect(lookups.load(ordering: .relaxed) == 5, "a revoked token is forgotten at once")
        try await Task.sleep(for: .seconds(2.1))
        _ = try await cache.account(tokenDigest: known, load: load)
        #expect(lookups.load(ordering: .relaxed) == 6)

        let uncached = AuthenticatedAccounts(timeToLive: .zero)
        _ = try await uncached.account(tokenDigest: known, load: load)
        _ = try await uncached.account(tokenDigest: known, load: load)
        #expect(lookups.load(ordering: .relaxed) == 8)
    }
}
