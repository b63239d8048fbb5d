import Foundation
import Logging
import Metrics
import Synchronization

/// The `queue` role: dials the call of each `phone-calls.queue` job, exactly once, at the account's rate.
///
/// 1. Claim the call (`DialClaims`): only a `queued`, unclaimed call of a running (or no) callout is dialled;
///    a redelivered or raced job finds it claimed or moved on and does nothing.
/// 2. Wait for a dial slot (`DialRateLimiter`), then `POST …/Calls.json`.
/// 3. Publish the outcome on `phone-call-events`: remotely_queued with the provider's answer, or errored with
///    its message for a 4xx. A 429 or an outage is not the call's failure: back off and dial again (after an
///    outage, only once a lookup at the provider shows the call was not created).
///
/// A claim found without an outcome (its worker died mid-dial) is resolved after the claim timeout, once the
/// claiming worker's lease shows it gone, by looking the call up at the provider, never by a blind re-dial. A
/// worker whose lease lapsed (it lost its database for a while) confirms its claims before dialling them.
public struct QueueHandler: MessageHandler {
    public struct Settings: Sendable {
        public var firstRetryDelay: Duration = .milliseconds(500)
        public var maximumRetryDelay: Duration = .seconds(30)
        /// How often a call held by the account's `max_concurrent_calls` checks for a free place.
        public var concurrencyPoll: Duration = .milliseconds(250)
        /// `PUBLIC_BASE_URL` and `SECRETS_KEY`: where the provider's callbacks reach the API, each URL bound
        /// to its call (see `CallbackParameters`); nil dials with the call's own parameters only.
        public var callbacks: CallbackEndpoint?
        public init() {}
    }

    let claims: DialClaims
    let accounts: ProviderAccounts
    let limiter: DialRateLimiter
    let provider: ProviderClient
    let events: StatusEventPublisher
    /// Paused or stopped callouts, checked just before a dial leaves; nil dials without looking (tests of
    /// calls without callouts).
    let holds: CalloutHolds?
    let settings: Settings
    let logger: Logger

    /// `scfm_calls_dialled_total{account_id,outcome}`: dials per account, the rate an operator compares with
    /// the account's limit. Provider errors are counted by the provider client, by HTTP status.
    private static let dials = LabelledCounters(label: "scfm_calls_dialled_total", dimensionNames: ["account_id", "outcome"])
    private let resolvedClaims = Counter(label: "scfm_dial_claims_resolved_total")
    private let confirmedClaims = Counter(label: "scfm_dial_claims_confirmed_total")
    private let heldBeforeDial = Counter(label: "scfm_dials_held_by_callout_pause_total")
    /// The calls this process's lanes are dialling: a claim of ours on one of them is not an unknown outcome.
    private let dialling = DiallingCalls()

    public init(
        claims: DialClaims, accounts: ProviderAccounts, limiter: DialRateLimiter, provider: ProviderClient,
        events: StatusEventPublisher, holds: CalloutHolds? = nil, settings: Settings = Settings(), logger: Logger
    ) {
        self.holds = holds
        self.claims = claims
        self.accounts = accounts
        self.limiter = limiter
        self.provider = provider
        self.events = events
        self.settings = settings
        self.logger = logger
    }

    /// The pauses pushed by PostgreSQL keep the holds current while the worker runs.
    public func runAlongside() async {
        await holds?.listen()
    }

    public func handle(_ message: KafkaMessage) async throws {
        let job = try PhoneCallJob(payload: try parsePayload(message))
        while true {
            let account = try await accounts.provider(for: job.accountID)
            switch try await claims.claim(phoneCallID: job.phoneCallID, accountID: job.accountID, concurrencyCap: account.maxConcurrentCalls) {
            case .success(let call):
                return try await dial(call, account: account)
            case .failure(.notQueued), .failure(.calloutHeld):
                return
            case .failure(.atConcurrencyCap):
                try await pause(for: settings.concurrencyPoll)
            case .failure(.claimedAt(let claimedAt, let byThisWorker)):
                if byThisWorker && dialling.contains(job.phoneCallID) {
                    // Another lane of this process has it (the job delivered twice): its outcome comes.
                    try await pause(for: .milliseconds(500))
                    continue
                }
                let age = Date().timeIntervalSince(claimedAt)
                let timeout = claims.lease.timeout.seconds
                if !byThisWorker && age < timeout {
                    // Maybe another worker is dialling it right now (a job delivered twice across a rebalance):
                    // look again every half second, until its outcome is applied or its claim has timed out.
                    try await pause(for: .seconds(min(0.5, timeout - age + 0.05)))
                    continue
                }
                // Ours from an attempt that ended without an outcome, or another worker's past the timeout.
                switch try await resolveUnknownOutcome(job, claimedAt: claimedAt, account: account) {
                case .dial(let call):
                    return try await dial(call, account: account)
                case .settled:
                    return
                case .heldByLiveWorker:
                    // Its worker is alive (its lease is fresh): it will dial or give the claim back.
                    try await pause(for: .seconds(1))
                }
            }
        }
    }

    private func dial(_ claimed: ClaimedCall, account: ProviderAccount) async throws {
        dialling.insert(claimed.phoneCallID)
        defer { dialling.remove(claimed.phoneCallID) }
        var call = claimed
        await provider.warmUp(account)
        // Only the provider parameters a tenant may set (written by a batch operation or the autopilot, which
        // the API's 422 does not cover), and this system's own callback URLs, bound to the call.
        let (ownParameters, dropped) = RemoteRequestParams.forDial(call.remoteRequestParams, publicBaseURL: settings.callbacks?.base)
        if !dropped.isEmpty {
            logger.notice("remote request parameters left out of a dial", metadata: ["phone_call_id": "\(call.phoneCallID)", "names": "\(dropped)"])
        }
        let parameters = CallbackParameters.adding(to: ownParameters, phoneCallID: call.phoneCallID, endpoint: settings.callbacks)
        let request = try provider.prepareCreateCall(account, to: call.msisdn, parameters: parameters)
        var delay = settings.firstRetryDelay
        while true {
            let slot = try await limiter.nextSlot(accountID: call.accountID, rate: account.maxCallsPerSecond)
            guard claims.lease.permits(epoch: call.leaseEpoch, at: slot + limiter.lateness) else {
                // The lease lapsed since the claim (or would by the slot): another worker may own the call by
                // now. Dial only after the database confirms the claim is still ours.
                limiter.recordMissedSlot()
                guard let confirmed = try await claims.confirm(call) else { return }
                confirmedClaims.increment()
                call = confirmed
                continue
            }
            if try await heldByPause(call, slot: slot) { return }
            let calloutID = call.calloutID
            let withdrawn: @Sendable () -> Bool = { [holds] in
                guard let holds, let calloutID else { return false }
                return holds.isHeldNow(calloutID)
            }
            guard let (outcome, sentAt) = await provider.send(request, at: slot, lateness: limiter.lateness, unless: withdrawn) else {
                if withdrawn(), try await claims.releaseHeld(call) {
                    // Paused at the last moment: nothing was sent, the claim went back; resuming queues it again.
                    heldBeforeDial.increment()
                    return
                }
                // The dial could not leave in time for its slot: nothing was sent; take the next slot.
                limiter.recordMissedSlot()
                continue
            }
            if case .throttled = outcome {
                await limiter.record(accountID: call.accountID, throttled: true)
            } else {
                await limiter.record(accountID: call.accountID, throttled: false)
            }
            switch outcome {
            case .success(let remote):
                try await events.publish(.remotelyQueued(phoneCallID: call.phoneCallID, accountID: call.accountID, call: remote, at: sentAt))
                Self.dials.increment(String(call.accountID), "remotely_queued")
                return
            case .rejected(_, let message):
                try await events.publish(.errored(phoneCallID: call.phoneCallID, accountID: call.accountID, message: message))
                Self.dials.increment(String(call.accountID), "errored")
                return
            case .throttled(let retryAfter):
                // A 429 means the call was not created: the claim can go back if the worker stops now.
                try await pause(for: retryAfter.map { max($0, delay) } ?? delay) {
                    try? await claims.release(phoneCallID: call.phoneCallID, claimedAt: call.claimedAt)
                }
            case .unavailable(let reason):
                logger.warning(
                    "provider unavailable while dialling; looking the call up before dialling again",
                    metadata: ["phone_call_id": "\(call.phoneCallID)", "reason": "\(reason)"])
                if let existing = try await findAtProvider(call, account: account) {
                    try await events.publish(.remotelyQueued(phoneCallID: call.phoneCallID, accountID: call.accountID, call: existing))
                    Self.dials.increment(String(call.accountID), "remotely_queued")
                    return
                }
                try await pause(for: delay)
            }
            delay = min(delay * 2, settings.maximumRetryDelay)
        }
    }

    /// Whether the call's callout was paused or stopped since the claim, looked at just before the slot so
    /// that a dial never leaves more than the holds' maximum age after a pause; the claim is then given back
    /// (resuming queues the call again).
    private func heldByPause(_ call: ClaimedCall, slot: ContinuousClock.Instant) async throws -> Bool {
        guard let holds, let calloutID = call.calloutID else { return false }
        let release: () async -> Void = { try? await claims.release(phoneCallID: call.phoneCallID, claimedAt: call.claimedAt) }
        let lookAt = slot - holds.maximumAge
        if lookAt > .now { try await pause(for: lookAt - .now, beforeAbandoning: release) }
        guard try await holds.isHeld(calloutID), try await claims.releaseHeld(call) else { return false }
        heldBeforeDial.increment()
        return true
    }

    enum Resolution {
        case dial(ClaimedCall)
        /// Found at the provider and recorded, or no longer queued.
        case settled
        case heldByLiveWorker
    }

    /// A claim with no outcome: its worker died between claim and outcome (or an earlier attempt of ours ended
    /// without one). If the provider has the call, record it; if not, take the claim over (compare-and-set)
    /// and dial.
    private func resolveUnknownOutcome(_ job: PhoneCallJob, claimedAt: Date, account: ProviderAccount) async throws -> Resolution {
        guard let call = try await claims.reclaim(phoneCallID: job.phoneCallID, claimedAt: claimedAt) else { return .heldByLiveWorker }
        resolvedClaims.increment()
        if let existing = try await findAtProvider(call, account: account) {
            try await events.publish(.remotelyQueued(phoneCallID: call.phoneCallID, accountID: call.accountID, call: existing))
            Self.dials.increment(String(call.accountID), "remotely_queued")
            return .settled
        }
        logger.info("claimed call never reached the provider; dialling it", metadata: ["phone_call_id": "\(call.phoneCallID)"])
        return .dial(call)
    }

    /// The provider's newest call to the number that no other phone call has recorded, if any. Retries while
    /// the provider throttles or is down: deciding "not there" on no answer would risk a second dial.
    private func findAtProvider(_ call: ClaimedCall, account: ProviderAccount) async throws -> ProviderCall? {
        var delay = settings.firstRetryDelay
        while true {
            switch await provider.recentCalls(account, to: call.msisdn) {
            case .success(let calls):
                let candidates = calls.filter { $0.to == nil || $0.to == call.msisdn }
                guard !candidates.isEmpty else { return nil }
                let recorded = try await claims.recordedRemoteCallIDs(among: candidates.map(\.sid), byOtherThan: call.phoneCallID)
                return candidates.first { !recorded.contains($0.sid) }
            case .rejected(_, let message):
                // Credentials or the account are wrong: a dial would be refused the same way.
                logger.error("cannot look the call up at the provider", metadata: ["phone_call_id": "\(call.phoneCallID)", "error": "\(message)"])
                return nil
            case .throttled(let retryAfter):
                try await pause(for: retryAfter ?? delay)
            case .unavailable:
                try await pause(for: delay)
            }
            delay = min(delay * 2, settings.maximumRetryDelay)
        }
    }
}

/// The phone calls this process is dialling now.
final class DiallingCalls: Sendable {
    private let ids = Mutex<Set<Int64>>([])
    func insert(_ id: Int64) { _ = ids.withLock { $0.insert(id) } }
    func remove(_ id: Int64) { _ = ids.withLock { $0.remove(id) } }
    func contains(_ id: Int64) -> Bool { ids.withLock { $0.contains(id) } }
}
