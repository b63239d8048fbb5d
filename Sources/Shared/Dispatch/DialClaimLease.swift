import Foundation
import Logging
import PostgresNIO
import Synchronization

/// This queue worker's proof of life behind its dial claims (`dial_claim_owners`): renewed every fifth of the
/// claim timeout. Another worker takes a claim over only when the owner's row is older than the whole claim
/// timeout; the owner dials only while its last renewal was *sent* less than half the timeout ago. So a
/// worker that loses its database (or stalls) stops dialling before anyone can take its calls, and a dial that
/// leaves has half the timeout to reach the provider before anyone looks for it there.
///
/// A claim remembers the lease's epoch when it was made. The epoch moves on whenever a renewal arrives after
/// the lease had lapsed: the claims of an older epoch may have been taken over meanwhile, and are confirmed in
/// the database (`DialClaims.confirm`) before they are dialled.
public final class DialClaimLease: Sendable {
    public let ownerID = UUID()
    let timeout: Duration
    let client: PostgresClient
    let logger: Logger
    private struct State {
        /// When the newest successful renewal was sent.
        var lastSent: ContinuousClock.Instant?
        var epoch = 0
        var renewing: Task<Void, Never>?
    }
    private let state = Mutex(State())

    public init(client: PostgresClient, timeout: Duration, logger: Logger) {
        self.client = client
        self.timeout = timeout
        self.logger = logger
    }

    deinit {
        state.withLock { $0.renewing?.cancel() }
    }

    /// The current epoch once the lease is valid (waiting for the first renewal, or for the database after a
    /// lapse). Starts the renewals on first use.
    func validEpoch() async throws -> Int {
        startRenewing()
        while true {
            if let epoch = epoch(validAt: .now) { return epoch }
            try await pause(for: .milliseconds(50))
        }
    }

    /// The epoch if the lease is valid at `instant` (now or a dial slot shortly ahead), nil if not.
    func epoch(validAt instant: ContinuousClock.Instant) -> Int? {
        state.withLock { state in
            guard let lastSent = state.lastSent, instant - lastSent < timeout / 2 else { return nil }
            return state.epoch
        }
    }

    /// Whether a claim made in `epoch` may be dialled at `instant` without asking the database.
    func permits(epoch: Int, at instant: ContinuousClock.Instant) -> Bool {
        self.epoch(validAt: instant) == epoch
    }

    private func startRenewing() {
        state.withLock { state in
            guard state.renewing == nil else { return }
            state.renewing = Task { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    await self.renewOnce()
                    try? await Task.sleep(for: self.timeout / 5)
                }
            }
        }
    }

    /// One renewal; failures are logged and the next one tries again.
    func renewOnce() async {
        let sent = ContinuousClock.now
        do {
            try await client.query(
                """
                INSERT INTO dial_claim_owners (id, renewed_at) VALUES (\(ownerID), clock_timestamp())
                ON CONFLICT (id) DO UPDATE SET renewed_at = clock_timestamp()
                """, logger: logger)
        } catch {
            logger.warning("could not renew the dial claim lease", metadata: ["error": "\(error)"])
            return
        }
        let arrived = ContinuousClock.now
        let first = state.withLock { $0.lastSent == nil }
        if first {
            // Rows of workers gone for a day hold no claim anyone waits for: a missing owner counts as dead.
            _ = try? await client.query(
                "DELETE FROM dial_claim_owners WHERE renewed_at < clock_timestamp() - interval '1 day'", logger: logger)
        }
        state.withLock { state in
            if let lastSent = state.lastSent, arrived - lastSent >= timeout / 2 {
                // It lapsed before this renewal arrived: claims made before are no longer certainly ours.
                state.epoch += 1
            }
            if state.lastSent.map({ sent > $0 }) ?? true { state.lastSent = sent }
        }
    }
}
