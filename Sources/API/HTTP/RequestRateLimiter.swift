import Metrics
import Synchronization

/// Each access token's request rate, as a token bucket in this process (`API_RATE_LIMIT_PER_SECOND`,
/// `API_RATE_LIMIT_BURST`): a client may send `burst` requests at once and `rate` a second after that; beyond,
/// 429 with `Retry-After` (whole seconds until a request would be allowed). With several API replicas behind a
/// load balancer each keeps its own buckets, so a token's ceiling is the rate times the replicas it reaches.
///
/// Invariant: one bucket per token id, updated under the lock in O(1); buckets full again are dropped when the
/// table grows past `capacity`, so memory is bounded by the tokens active in the last `burst / rate` seconds.
final class RequestRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let capacity: Int
    private let buckets = Mutex<[Int64: Bucket]>([:])
    private let refused = Counter(label: "scfm_api_requests_rate_limited_total")

    /// `rate` 0 turns the limit off.
    init(rate: Double, burst: Double, capacity: Int = 100_000) {
        self.rate = rate
        self.burst = max(burst, 1)
        self.capacity = capacity
    }

    var isEnabled: Bool { rate > 0 }

    /// Takes one request from `key`'s bucket: nil when allowed, else how long until one would be.
    func take(_ key: Int64, now: ContinuousClock.Instant = .now) -> Duration? {
        guard isEnabled else { return nil }
        let wait: Duration? = buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            if buckets.count >= capacity { Self.dropFull(&buckets, burst: burst, rate: rate, now: now) }
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return .seconds((1 - bucket.tokens) / rate)
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
        if wait != nil { refused.increment() }
        return wait
    }

    private static func dropFull(_ buckets: inout [Int64: Bucket], burst: Double, rate: Double, now: ContinuousClock.Instant) {
        buckets = buckets.filter { _, bucket in
            let elapsed = now - bucket.updated
            return bucket.tokens + Double(elapsed.components.seconds) * rate < burst
        }
    }
}

/// A request over its token's rate: 429 with `Retry-After`.
struct RateLimited: Error {
    let retryAfter: Duration

    /// Whole seconds, at least 1 (HTTP's `Retry-After` has no fractions).
    var retryAfterSeconds: Int64 {
        let components = retryAfter.components
        return max(1, components.seconds + (components.attoseconds > 0 ? 1 : 0))
    }
}
