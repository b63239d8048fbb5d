import Hummingbird
import NIOCore
import Shared
import Synchronization

/// The accounts of recently seen access tokens, kept for `API_TOKEN_CACHE_SECONDS` so that a client polling
/// an index does not pay a token lookup per request (half the database round trips of a small read). An
/// account changed or deleted through this process is forgotten at once; other API replicas see the change
/// within the same few seconds. Only tokens that worked are kept: an unknown one is looked up every time.
final class AuthenticatedAccounts: Sendable {
    private struct Entry {
        let token: AuthenticatedToken
        let expires: ContinuousClock.Instant
    }

    private let timeToLive: Duration
    private let capacity: Int
    private let entries = Mutex<[ByteBuffer: Entry]>([:])

    init(timeToLive: Duration, capacity: Int = 10_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The token's account: from the cache while fresh, else from `load` (nil for an unknown token).
    func account(tokenDigest: ByteBuffer, load: (ByteBuffer) async throws -> AuthenticatedToken?) async throws -> AuthenticatedToken? {
        guard timeToLive > .zero else { return try await load(tokenDigest) }
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[tokenDigest] }), entry.expires > now { return entry.token }
        guard let account = try await load(tokenDigest) else { return nil }
        entries.withLock { entries in
            // Many distinct tokens at once (a scan, or a very large deployment): start over rather than grow.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[tokenDigest] = Entry(token: account, expires: now + timeToLive)
        }
        return account
    }

    /// Drops every token of the account, after it changed or was deleted.
    func forget(accountID: Int64) {
        entries.withLock { entries in entries = entries.filter { $0.value.token.account.id != accountID } }
    }

    /// Drops one token, after it was revoked.
    func forget(tokenDigest: ByteBuffer) {
        _ = entries.withLock { $0.removeValue(forKey: tokenDigest) }
    }
}
