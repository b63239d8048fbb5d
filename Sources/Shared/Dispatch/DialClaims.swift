import Foundation
import Logging
import PostgresNIO

/// What a queue worker needs to dial a call it claimed.
public struct ClaimedCall: Sendable, Equatable {
    public let phoneCallID: Int64
    public let accountID: Int64
    /// The call's callout, if any: its pause holds the call back (`CalloutHolds`).
    public let calloutID: Int64?
    public let msisdn: String
    public let remoteRequestParams: JSONValue
    public let claimedAt: Date
    /// The epoch of this worker's `DialClaimLease` when the claim was made.
    public let leaseEpoch: Int
}

/// Why a call could not be claimed.
public enum ClaimRefusal: Error, Sendable, Equatable {
    /// Not `queued` any more (dialled, errored, deleted): the job is done.
    case notQueued
    /// Claimed before, and its outcome not recorded yet: a worker is dialling it or died doing so. `byThisWorker`
    /// when the claim is this process's own (an earlier attempt at the same job ended without an outcome).
    case claimedAt(Date, byThisWorker: Bool)
    /// Its callout is paused or stopped: the call stays `queued`, and resuming the callout queues it again.
    case calloutHeld
    /// The account has `max_concurrent_calls` calls between dial and final status.
    case atConcurrencyCap
}

/// The compare-and-set that makes "never dial twice" hold: a call is dialled only by the worker whose
/// `UPDATE … WHERE status = 'queued' AND dial_claimed_at IS NULL` changed it, while that worker's
/// `DialClaimLease` shows it alive; a claim is taken over only from a worker whose lease ran out.
///
/// Claims without a concurrency cap are batched: the claims a worker's lanes ask for within a millisecond go
/// to the database as one statement.
public struct DialClaims: Sendable {
    let client: PostgresClient
    let logger: Logger
    public let lease: DialClaimLease
    private let batcher: MicroBatcher<Int64, Result<ClaimedCall, ClaimRefusal>>

    /// `claimTimeout`: how long a claim's owner may go without renewing its lease before its claims can be
    /// taken over (`DIAL_CLAIM_TIMEOUT_SECONDS`); at least twice the provider request timeout.
    public init(
        client: PostgresClient, logger: Logger, claimTimeout: Duration = .seconds(30), maximumBatch: Int = 500,
        linger: Duration = .milliseconds(1)
    ) {
        self.client = client
        self.logger = logger
        let lease = DialClaimLease(client: client, timeout: claimTimeout, logger: logger)
        self.lease = lease
        batcher = MicroBatcher(maximumBatch: maximumBatch, linger: linger) { ids in
            let epoch = try await lease.validEpoch()
            return try await client.withConnection {
                try await Self.claim(ids, owner: lease.ownerID, epoch: epoch, on: $0, logger: logger)
            }
        }
    }

    public func claim(phoneCallID: Int64, accountID: Int64, concurrencyCap: Int?) async throws -> Result<ClaimedCall, ClaimRefusal> {
        if let concurrencyCap {
            let epoch = try await lease.validEpoch()
            let owner = lease.ownerID
            return try await client.transaction(logger: logger) { connection in
                // One claimer per account at a time while counting, or two could each see one place left.
                try await connection.query(
                    "SELECT 1 FROM (SELECT pg_advisory_xact_lock(\(Self.capLockNamespace), \(Int32(truncatingIfNeeded: accountID)))) locked",
                    logger: logger)
                let inProgress = try await connection.query(
                    """
                    SELECT count(*) FROM phone_calls
                    WHERE account_id = \(accountID) AND dial_claimed_at IS NOT NULL
                      AND status IN ('queued', 'remotely_queued', 'in_progress', 'remote_fetch_queued')
                    """, logger: logger
                ).single { try $0.decode(Int64.self) }
                if inProgress >= concurrencyCap { return .failure(.atConcurrencyCap) }
                return try await Self.claim([phoneCallID], owner: owner, epoch: epoch, on: connection, logger: logger)[0]
            }
        }
        return try await batcher.submit(phoneCallID)
    }

    /// Claims calls with one statement; one result per id, in order. Rows are locked in id order (the
    /// primary key scan of `= ANY`), so two batches that share ids cannot deadlock.
    static func claim(
        _ ids: [Int64], owner: UUID, epoch: Int, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Result<ClaimedCall, ClaimRefusal>] {
        let rows = try await connection.query(
            """
            WITH claimed AS (
                UPDATE phone_calls p SET dial_claimed_at = clock_timestamp(), dial_claimed_by = \(owner)
                WHERE p.id = ANY(\(ids)) AND p.status = 'queued' AND p.dial_claimed_at IS NULL
                  AND \(unescaped: CalloutHold.notHeld.text)
                RETURNING \(unescaped: returning)
            )
            SELECT id, account_id, callout_id, msisdn, remote_request_params, dial_claimed_at, NULL::text, NULL::text, NULL::uuid FROM claimed
            UNION ALL
            SELECT p.id, p.account_id, p.callout_id, p.msisdn, p.remote_request_params, p.dial_claimed_at, p.status, c.status, p.dial_claimed_by
            FROM phone_calls p LEFT JOIN callouts c ON c.id = p.callout_id
            WHERE p.id = ANY(\(ids)) AND p.id NOT IN (SELECT id FROM claimed)
            """, logger: logger)
        var outcomes: [Int64: Result<ClaimedCall, ClaimRefusal>] = [:]
        for try await row in rows {
            let (id, accountID, calloutID, msisdn, params, claimedAt, status, calloutStatus, claimedBy) = try row.decode(
                (Int64, Int64, Int64?, String, JSONValue, Date?, String?, String?, UUID?).self)
            guard let status else {
                outcomes[id] = .success(
                    ClaimedCall(
                        phoneCallID: id, accountID: accountID, calloutID: calloutID, msisdn: msisdn, remoteRequestParams: params,
                        claimedAt: claimedAt!, leaseEpoch: epoch))
                continue
            }
            outcomes[id] = .failure(
                refusal(status: status, claimedAt: claimedAt, byThisWorker: claimedBy == owner, calloutStatus: calloutStatus))
        }
        return ids.map { outcomes[$0] ?? .failure(.notQueued) }
    }

    private static func refusal(status: String, claimedAt: Date?, byThisWorker: Bool, calloutStatus: String?) -> ClaimRefusal {
        guard status == PhoneCallStatus.queued.rawValue else { return .notQueued }
        if let claimedAt { return .claimedAt(claimedAt, byThisWorker: byThisWorker) }
        if calloutStatus == "paused" || calloutStatus == "stopped" { return .calloutHeld }
        return .notQueued
    }

    /// Takes over a claim whose outcome is unknown, to look the call up at the provider and dial it only if
    /// it is not there: a compare-and-set on the old claim time, so only one worker does; and only from a
    /// worker whose lease ran out (or from this worker itself), never from one that may still be dialling.
    public func reclaim(phoneCallID: Int64, claimedAt: Date) async throws -> ClaimedCall? {
        let epoch = try await lease.validEpoch()
        let timeout = lease.timeout.seconds
        let rows = try await client.query(
            """
            UPDATE phone_calls p SET dial_claimed_at = clock_timestamp(), dial_claimed_by = \(lease.ownerID)
            WHERE p.id = \(phoneCallID) AND p.status = 'queued' AND p.dial_claimed_at = \(claimedAt)
              AND (p.dial_claimed_by IS NULL OR p.dial_claimed_by = \(lease.ownerID) OR NOT EXISTS (
                  SELECT 1 FROM dial_claim_owners o
                  WHERE o.id = p.dial_claimed_by AND o.renewed_at > clock_timestamp() - make_interval(secs => \(timeout))))
            RETURNING \(unescaped: Self.returning)
            """, logger: logger)
        for try await row in rows { return try Self.claimedCall(row, epoch: epoch) }
        return nil
    }

    /// Renews this worker's own claim after its lease lapsed (another worker may have taken it over in the
    /// meantime): the claim back under the current epoch, or nil when it is no longer this worker's.
    public func confirm(_ call: ClaimedCall) async throws -> ClaimedCall? {
        let epoch = try await lease.validEpoch()
        let rows = try await client.query(
            """
            UPDATE phone_calls p SET dial_claimed_at = clock_timestamp()
            WHERE p.id = \(call.phoneCallID) AND p.status = 'queued' AND p.dial_claimed_at = \(call.claimedAt)
              AND p.dial_claimed_by = \(lease.ownerID)
            RETURNING \(unescaped: Self.returning)
            """, logger: logger)
        for try await row in rows { return try Self.claimedCall(row, epoch: epoch) }
        return nil
    }

    /// Gives a claim back when the dial certainly did not reach the provider (the worker is stopping before
    /// dialling), so the next delivery dials at once instead of looking the call up first.
    public func release(phoneCallID: Int64, claimedAt: Date) async throws {
        try await client.query(
            """
            UPDATE phone_calls SET dial_claimed_at = NULL
            WHERE id = \(phoneCallID) AND status = 'queued' AND dial_claimed_at = \(claimedAt)
            """, logger: logger)
    }

    /// Gives back the claim of a call whose callout was paused or stopped after the claim, before its dial
    /// left: the call stays `queued`, and resuming the callout queues it again. The callout row is locked
    /// while checking, so a resume cannot commit between this check and the release (its re-queue would miss
    /// the call). False when the callout runs again: dial after all.
    public func releaseHeld(_ call: ClaimedCall) async throws -> Bool {
        let rows = try await client.query(
            """
            UPDATE phone_calls p SET dial_claimed_at = NULL, dial_claimed_by = NULL
            WHERE p.id = \(call.phoneCallID) AND p.status = 'queued' AND p.dial_claimed_at = \(call.claimedAt)
              AND p.dial_claimed_by = \(lease.ownerID)
              AND EXISTS (SELECT 1 FROM callouts c WHERE c.id = p.callout_id AND c.status IN ('paused', 'stopped') FOR SHARE)
            RETURNING p.id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    static let capLockNamespace: Int32 = 0x5CF0_0001
    static let returning = "p.id, p.account_id, p.callout_id, p.msisdn, p.remote_request_params, p.dial_claimed_at"

    static func claimedCall(_ row: PostgresRow, epoch: Int) throws -> ClaimedCall {
        let (id, accountID, calloutID, msisdn, params, claimedAt) = try row.decode((Int64, Int64, Int64?, String, JSONValue, Date).self)
        return ClaimedCall(
            phoneCallID: id, accountID: accountID, calloutID: calloutID, msisdn: msisdn, remoteRequestParams: params, claimedAt: claimedAt,
            leaseEpoch: epoch)
    }
}

extension DialClaims {
    /// Which of these provider call sids a phone call other than `phoneCallID` already holds. The call's own
    /// sid is not among them: its dial's event may be applied between the takeover and this lookup, and that
    /// sid is the answer, not another call's (make chaos caught a re-dial from exactly that race).
    public func recordedRemoteCallIDs(among sids: [String], byOtherThan phoneCallID: Int64) async throws -> Set<String> {
        let rows = try await client.query(
            "SELECT remote_call_id FROM phone_calls WHERE remote_call_id = ANY(\(sids)) AND id <> \(phoneCallID)", logger: logger)
        var recorded = Set<String>()
        for try await sid in rows.decode(String.self) { recorded.insert(sid) }
        return recorded
    }
}
