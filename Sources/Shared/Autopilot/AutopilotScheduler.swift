import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The `scheduler` role: drives every running callout whose account (or the callout itself) enables the
/// autopilot. Each tick it settles finished calls by the retry policy, then tops each account's queue up to a
/// couple of seconds of dialling at the account's rate, callout by callout, as capacity frees up; the queue
/// workers dial at the rate limit as usual. Several replicas run side by side: each callout is driven by the
/// replica that holds its lease (`AutopilotLeases`).
///
/// Pausing or stopping a callout ends its lease at the next tick and its calls stay in our queue undialled
/// (the queue workers hold them; see `CalloutHolds`); resuming queues them again.
public final class AutopilotScheduler: Service, Sendable {
    public struct Settings: Sendable {
        /// AUTOPILOT_TICK_SECONDS. Pausing does not wait for a tick (the queue workers hold a paused callout's
        /// calls), so the tick only bounds how soon a started callout dials and a retry falls due; half a
        /// second keeps the scheduler's own share of the database small.
        public var tick: Duration = .milliseconds(500)
        /// AUTOPILOT_QUEUE_AHEAD_SECONDS: how much dialling at the account's rate is kept queued ahead.
        public var queueAhead: Duration = .seconds(2)
        /// AUTOPILOT_MAX_QUEUE_DEPTH: the most calls queued ahead for one account, whatever its rate.
        public var maximumQueueDepth = 5000
        /// How often progress is sampled and finished callouts are marked.
        public var progressInterval: Duration = .seconds(1)
        /// How often every call a callout waits on is looked at, not only those the settle queue names.
        public var fullSettleInterval: Duration = .seconds(30)
        /// Whether a callout that starts or resumes is driven at once (LISTEN on a connection of the pool)
        /// rather than at the next tick.
        public var wakeOnStart = true
        public init() {}
    }

    let leases: AutopilotLeases
    let steps: AutopilotSteps
    let accounts: ProviderAccounts
    /// Shares provider trunks among their accounts every progress interval; nil when none are configured.
    let trunks: TrunkShares?
    let settings: Settings
    let logger: Logger

    private let queuedCalls = Counter(label: "scfm_autopilot_calls_queued_total")
    private let retriesScheduled = Counter(label: "scfm_autopilot_retries_scheduled_total")
    private let participationsFinished = Counter(label: "scfm_autopilot_participations_settled_total")
    private let doNotCallSkips = Counter(label: "scfm_autopilot_do_not_call_skips_total")
    private let deferredToCallingHours = Counter(label: "scfm_autopilot_deferred_to_calling_hours_total")
    private let leasedCallouts = Gauge(label: "scfm_autopilot_callouts_leased")
    private let tickDuration = Metrics.Timer(label: "scfm_autopilot_tick_seconds")
    /// Where each callout's fills stopped (per number scope), kept while this replica holds the callout and
    /// dropped at each full settle pass, so the next fill walks its work list from the start once.
    private let cursors = Mutex<[CursorKey: AutopilotSteps.FillCursor]>([:])

    struct CursorKey: Hashable {
        let calloutID: Int64
        let scope: String
    }

    public init(
        leases: AutopilotLeases, steps: AutopilotSteps, accounts: ProviderAccounts, trunks: TrunkShares? = nil,
        settings: Settings = Settings(), logger: Logger
    ) {
        self.trunks = trunks
        self.leases = leases
        self.steps = steps
        self.accounts = accounts
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let wake = WakeSignal()
                if self.settings.wakeOnStart {
                    group.addTask {
                        await CalloutStatusListener(client: self.leases.client, logger: self.logger).run(
                            onListening: { wake.signal() },
                            onChange: { _, status in if status == CalloutStatus.running.rawValue { wake.signal() } })
                    }
                }
                await self.tickUntilCancelled(wake: wake)
                group.cancelAll()
            }
        }
        // Hand the callouts to another replica at once instead of after the lease time.
        try? await leases.releaseAll()
    }

    /// Ticks every `settings.tick`, or at once when a callout starts.
    private func tickUntilCancelled(wake: WakeSignal) async {
        var lastProgress = ContinuousClock.now - settings.progressInterval
        var lastFullSettle = ContinuousClock.now - settings.fullSettleInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            do {
                let sampleProgress = started - lastProgress >= settings.progressInterval
                let fullSettle = started - lastFullSettle >= settings.fullSettleInterval
                try await tick(sampleProgress: sampleProgress, fullSettle: fullSettle)
                if sampleProgress { lastProgress = started }
                if fullSettle { lastFullSettle = started }
            } catch is CancellationError {
                break
            } catch {
                logger.error("autopilot tick failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            let elapsed = ContinuousClock.now - started
            tickDuration.recordNanoseconds(elapsed.nanoseconds)
            await wake.sleep(for: max(.zero, settings.tick - elapsed))
        }
    }

    /// One pass over this replica's callouts.
    public func tick(sampleProgress: Bool = true, fullSettle: Bool = false) async throws {
        if fullSettle { cursors.withLock { $0.removeAll() } }
        if sampleProgress, let trunks {
            // Manual campaigns on a shared trunk are shared too, so this runs whether or not callouts are leased.
            try await trunks.refresh()
        }
        let callouts = try await leases.acquire()
        leasedCallouts.record(callouts.count)
        let held = Set(callouts.map(\.id))
        cursors.withLock { $0 = $0.filter { held.contains($0.key.calloutID) } }
        guard !callouts.isEmpty else { return }
        for callout in callouts {
            let settled = try await steps.settle(callout, full: fullSettle)
            participationsFinished.increment(by: settled.finished)
            retriesScheduled.increment(by: settled.retrying)
            participationsFinished.increment(by: try await steps.expirePending(callout))
        }
        try await fill(callouts)
        if sampleProgress {
            for callout in callouts {
                try await steps.sampleProgress(callout)
                if try await steps.markFinished(callout) {
                    logger.info("autopilot finished a callout", metadata: ["callout_id": "\(callout.id)"])
                }
            }
        }
    }

    /// Tops each account's queue up to its depth, shared by its callouts: an equal share each, then what
    /// callouts with less work left unused goes to those that took all they were offered.
    func fill(_ callouts: [AutopilotCallout]) async throws {
        let byAccount = Dictionary(grouping: callouts, by: \.accountID)
        let queues = try await steps.accountQueues(accountIDs: Array(byAccount.keys), cap: settings.maximumQueueDepth)
        for (accountID, accountCallouts) in byAccount.sorted(by: { $0.key < $1.key }) {
            let provider = try await accounts.provider(for: accountID)
            let queue = queues[accountID] ?? AutopilotSteps.AccountQueue()
            // Queued ahead at the rate the account dials now: its own limit, or its share of a shared trunk.
            let rate = min(provider.maxCallsPerSecond, queue.trunkShareRate ?? .infinity)
            let depth = Self.queueDepth(rate: rate, ahead: settings.queueAhead, maximum: settings.maximumQueueDepth)
            var remaining = max(0, depth - queue.queued)
            var open = accountCallouts
            var round = 0
            while remaining > 0 && !open.isEmpty && round < 3 {
                round += 1
                let share = max(1, remaining / open.count)
                var hungry: [AutopilotCallout] = []
                for callout in open where remaining > 0 {
                    let limit = min(share, remaining)
                    let filled = try await fill(callout, limit: limit, queue: queue)
                    remaining -= filled.queued
                    queuedCalls.increment(by: filled.queued)
                    doNotCallSkips.increment(by: filled.doNotCall)
                    deferredToCallingHours.increment(by: filled.outsideCallingHours)
                    // Skipped rows took places in the limit: a callout that used them all may have more.
                    if filled.taken >= limit { hungry.append(callout) }
                }
                open = hungry
            }
        }
    }

    /// One callout's fill: the numbers of each prefix capped on the account's trunk within the prefix's
    /// tokens, then the others.
    private func fill(_ callout: AutopilotCallout, limit: Int, queue: AutopilotSteps.AccountQueue) async throws -> AutopilotSteps.Filled {
        guard let trunk = queue.trunk, !queue.prefixCaps.isEmpty else { return try await fill(callout, limit: limit, numbers: .all) }
        var total = AutopilotSteps.Filled()
        for (prefix, cap) in queue.prefixCaps.sorted(by: { $0.key < $1.key }) {
            total.add(try await steps.fillCapped(callout, trunk: trunk, prefix: prefix, cap: cap, limit: limit - total.taken))
        }
        total.add(try await fill(callout, limit: limit - total.taken, numbers: .notStartingWithAny(queue.prefixCaps.keys.sorted())))
        return total
    }

    /// A fill from where the callout's last fill of the same numbers stopped.
    private func fill(_ callout: AutopilotCallout, limit: Int, numbers: AutopilotSteps.NumberScope) async throws -> AutopilotSteps.Filled {
        let key = CursorKey(calloutID: callout.id, scope: "\(numbers)")
        let cursor = cursors.withLock { $0[key] } ?? AutopilotSteps.FillCursor()
        let (filled, next) = try await steps.fill(callout, limit: limit, numbers: numbers, cursor: cursor)
        cursors.withLock { $0[key] = next }
        return filled
    }

    /// Calls kept queued ahead for an account dialling at `rate` per second.
    static func queueDepth(rate: Double, ahead: Duration, maximum: Int) -> Int {
        min(maximum, max(1, Int((rate * ahead.seconds).rounded(.up))))
    }
}
