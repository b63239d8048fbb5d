import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import Shared

/// Claims and the owner's lease (migration 0005): a claim past its timeout is taken over only from a worker
/// whose lease ran out, and a worker whose lease lapsed confirms its claim before dialling.
@Suite(.timeLimit(.minutes(10))) struct DialClaimsTests {
    let logger = Logger(label: "scfm.tests.dial-claims")

    @Test func aClaimIsTakenOverOnlyFromAWorkerWhoseLeaseRanOut() async throws {
        let database = try await TestDatabases.shared.client(suite: "dial_claims_takeover")
        let seed = DispatchSeed(client: database, logger: logger)
        let account = try await seed.createAccount(rate: 10)
        let calls = try await seed.queuedCalls(accountID: account, count: 2)
        let first = DialClaims(client: database, logger: logger, claimTimeout: .seconds(30))
        let second = DialClaims(client: database, logger: logger, claimTimeout: .seconds(30))

        guard case .success(let claimed) = try await first.claim(phoneCallID: calls[0], accountID: account, concurrencyCap: nil) else {
            Issue.record("the first claim failed")
            return
        }
        // The second worker sees a claim of someone else's, and cannot take it while its owner is alive, however
        // old the claim is.
        let seen = try await second.claim(phoneCallID: calls[0], accountID: account, concurrencyCap: nil)
        #expect(seen == .failure(.claimedAt(claimed.claimedAt, byThisWorker: false)))
        #expect(
            try await first.claim(phoneCallID: calls[0], accountID: account, concurrencyCap: nil)
                == .failure(.claimedAt(claimed.claimedAt, byThisWorker: true)))
        #expect(try await second.reclaim(phoneCallID: calls[0], claimedAt: claimed.claimedAt) == nil)

        // The owner's lease runs out (it stopped renewing 31 s ago): the claim can be taken, once.
        try await database.query(
            "UPDATE dial_claim_owners SET renewed_at = clock_timestamp() - interval '31 seconds' WHERE id = \(first.lease.ownerID)",
            logger: logger)
        let taken = try await second.reclaim(phoneCallID: calls[0], claimedAt: claimed.claimedAt)
        #expect(taken?.phoneCallID == calls[0])
        #expect(try await second.reclaim(phoneCallID: calls[0], claimedAt: claimed.claimedAt) == nil)
        // The first worker, back, finds the call no longer its own.
        #expect(try await first.confirm(claimed) == nil)
        // The new owner's own confirmation succeeds.
        #expect(try await second.confirm(taken!)?.phoneCallID == calls[0])

        // A claim with no owner recorded (made before migration 0005) is taken over as before.
        try await database.query(
            "UPDATE phone_calls SET dial_claimed_at = clock_timestamp(), dial_claimed_by = NULL WHERE id = \(calls[1])", logger: logger)
        let orphanClaimedAt = try await database.query("SELECT dial_claimed_at FROM phone_calls WHERE id = \(calls[1])", logger: logger)
            .single { try $0.decode(Date.self) }
        #expect(try await second.reclaim(phoneCallID: calls[1], claimedAt: orphanClaimedAt)?.phoneCallID == calls[1])
    }

    /// A takeover looks the number up at the provider and skips calls other phone calls hold, but not the one
    /// this call holds itself: its own dial's event may land between the takeover and the lookup.
    @Test func theCallsOwnSidIsNotAnotherCallsDial() async throws {
        let database = try await TestDatabases.shared.client(suite: "dial_claims_recorded")
        let seed = DispatchSeed(client: database, logger: logger)
        let account = try await seed.createAccount(rate: 10)
        let calls = try await seed.queuedCalls(accountID: account, count: 2)
        try await database.query(
            """
            UPDATE phone_calls SET remote_call_id = CASE id WHEN \(calls[0]) THEN 'CAown' ELSE 'CAother' END
            WHERE id = ANY(\(calls))
            """, logger: logger)
        let claims = DialClaims(client: database, logger: logger)
        #expect(try await claims.recordedRemoteCallIDs(among: ["CAown", "CAother", "CAnew"], byOtherThan: calls[0]) == ["CAother"])
    }

    @Test func aLeaseThatLapsedMovesToANewEpoch() async throws {
        let database = try await TestDatabases.shared.client(suite: "dial_claims_lease")
        // Connected first, so that no renewal below pays for opening a connection; a timeout of 4 s leaves a
        // 2 s window, wide against a busy machine's round trips (the suites run side by side).
        _ = try await database.query("SELECT 1", logger: logger).collect()
        let lease = DialClaimLease(client: database, timeout: .seconds(4), logger: logger)
        #expect(lease.epoch(validAt: .now) == nil, "not valid before its first renewal")
        await lease.renewOnce()
        #expect(lease.permits(epoch: 0, at: .now))
        #expect(!lease.permits(epoch: 0, at: .now + .seconds(2.1)), "valid for half the timeout after the renewal was sent")
        await lease.renewOnce()
        #expect(lease.permits(epoch: 0, at: .now), "renewed in time: the same epoch")
        try await Task.sleep(for: .seconds(2.2))
        #expect(!lease.permits(epoch: 0, at: .now))
        await lease.renewOnce()
        #expect(!lease.permits(epoch: 0, at: .now), "claims of before the lapse need confirming")
        #expect(lease.permits(epoch: 1, at: .now))
    }
}
