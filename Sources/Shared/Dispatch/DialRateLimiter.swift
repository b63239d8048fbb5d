import Foundation
import Logging
import Metrics
import Synchronization

/// The global calls-per-second limit, as seen by one queue worker. Each account's dials happen at slots leased
/// from its schedule row (`DialSchedule`), spaced 1 / rate apart across all workers; a worker leases a few tens
/// of milliseconds' worth at a time, only when it has calls waiting, and hands them to its calls in order.
///
/// Headroom: the schedule runs at `rate × (1 − headroom)` and a call that wakes up more than `lateness` after
/// its slot gives the slot up and takes the next one. Together they keep every one-second window at or under
/// the rate even though wake-ups and requests jitter by a few milliseconds: slots `s` apart, each dialled at most
/// `lateness` late, put at most ⌈(1 s + lateness) / s⌉ dials in any second.
public final class DialRateLimiter: Sendable {
    public struct Settings: Sendable {
        /// The share of the rate left unused as a safety margin.
        public var headroom = 0.015
        /// How much of a lease window (seconds of slots) one lease takes at most.
        public var leaseWindow: Duration = .milliseconds(50)
        public init() {}

        /// How late a slot may still be used: 40 % of what the headroom absorbs, the rest left to the request's
        /// own jitter on the way to the provider.
        var lateness: Duration { .seconds(0.4 * headroom / (1 - headroom)) }
    }

    let schedule: DialSchedule
    let settings: Settings
    private let accounts = Mutex<[Int64: AccountDialSlots]>([:])
    private let clock = DatabaseClock()
    private let answers = Mutex<[Int64: ThrottleWindow]>([:])
    private let waitTimer = Timer(label: "scfm_dial_slot_wait_seconds")
    private let missedSlots = Counter(label: "scfm_dial_slots_missed_total")

    public init(schedule: DialSchedule, settings: Settings = Settings()) {
        self.schedule = schedule
        self.settings = settings
    }

    /// The account's next dial slot, for a caller that waits for it itself (see `ProviderClient.send(_:at:lateness:)`).
    public func nextSlot(accountID: Int64, rate: Double) async throws -> ContinuousClock.Instant {
        try await clock.calibrateOnce(schedule)
        let asked = ContinuousClock.now
        let slot = try await slots(for: accountID).nextSlot(rate: rate)
        waitTimer.recordNanoseconds(max(0, (slot - asked).nanoseconds))
        return slot
    }

    /// How late a slot may still be used.
    public var lateness: Duration { settings.lateness }

    /// A slot given up because its dial could not leave in time.
    public func recordMissedSlot() { missedSlots.increment() }

    /// Notes the provider's answer to a dial; lowers the account's rate when the provider throttles a large
    /// share of them.
    public func record(accountID: Int64, throttled: Bool) async {
        let shouldLower = answers.withLock { answers in
            answers[accountID, default: ThrottleWindow()].record(throttled: throttled)
        }
        if shouldLower {
            if let factor = try? await schedule.lowerRate(accountID: accountID) {
                Counter(label: "scfm_dial_rate_lowered_total").increment()
                Gauge(label: "scfm_dial_rate_factor", dimensions: [("account_id", "\(accountID)")]).record(factor)
            }
        }
    }

    private func slots(for accountID: Int64) -> AccountDialSlots {
        accounts.withLock { accounts in
            if let existing = accounts[accountID] { return existing }
            let made = AccountDialSlots(accountID: accountID, schedule: schedule, settings: settings, clock: clock)
            accounts[accountID] = made
            return made
        }
    }
}

/// One account's slots in this worker: leased in batches, handed out earliest first.
actor AccountDialSlots {
    let accountID: Int64
    let schedule: DialSchedule
    let settings: DialRateLimiter.Settings
    private var slots: [ContinuousClock.Instant] = []
    /// Callers waiting for a slot: the size of the next lease.
    private var waiting = 0
    private var lease: (id: Int, task: Task<[ContinuousClock.Instant], any Error>)?
    private var leasesTaken = 0
    private let clock: DatabaseClock

    private let missedSlots = Counter(label: "scfm_dial_slots_missed_total")
    private let rateFactor: Gauge

    init(accountID: Int64, schedule: DialSchedule, settings: DialRateLimiter.Settings, clock: DatabaseClock) {
        rateFactor = Gauge(label: "scfm_dial_rate_factor", dimensions: [("account_id", "\(accountID)")])
        self.clock = clock
        self.accountID = accountID
        self.schedule = schedule
        self.settings = settings
    }

    /// The earliest leased slot not already too late; leases more when none is left.
    func nextSlot(rate: Double) async throws -> ContinuousClock.Instant {
        waiting += 1
        defer { waiting -= 1 }
        while true {
            let now = ContinuousClock.now
            let firstUsable = slots.firstIndex { now - $0 <= settings.lateness }
            if let firstUsable {
                if firstUsable > 0 { missedSlots.increment(by: Int64(firstUsable)) }
                let slot = slots[firstUsable]
                slots.removeFirst(firstUsable + 1)
                return slot
            }
            if !slots.isEmpty { missedSlots.increment(by: Int64(slots.count)) }
            slots.removeAll()
            if let lease {
                do {
                    let leased = try await lease.task.value
                    if self.lease?.id == lease.id {
                        self.lease = nil
                        slots += leased
                    }
                } catch {
                    if self.lease?.id == lease.id { self.lease = nil }
                    throw error
                }
                continue
            }
            let windowSlots = Int(rate * (1 - settings.headroom) * settings.leaseWindow.seconds)
            let count = min(max(1, waiting), max(1, windowSlots))
            leasesTaken += 1
            let id = leasesTaken
            let schedule = schedule
            let accountID = accountID
            let clock = clock
            let rateFactor = rateFactor
            let headroom = settings.headroom
            lease = (
                id,
                Task {
                    let lease = try await schedule.lease(accountID: accountID, count: count, rate: rate, headroom: headroom)
                    // The gauge follows the database's value, raised as well as lowered, whichever worker changed it.
                    rateFactor.record(lease.rateFactor)
                    let slots = clock.place(lease)
                    if !lease.granted {
                        // Booked ahead by other workers: come back when booking opens again.
                        try await Task.sleep(until: clock.instant(databaseTime: lease.retryAt), tolerance: .zero, clock: .continuous)
                    }
                    return slots
                }
            )
        }
    }

}

/// The provider's last answers to one account's dials, for the share of 429s. A provider that is over its
/// limit refuses a large share of dials; a few scattered 429s (some providers send them at random under
/// load) must not ratchet the rate down, so the share is judged over the last 50 answers, and only a fifth or
/// more counts. After a step down the evidence starts over.
struct ThrottleWindow {
    static let size = 50
    static let threshold = 0.2

    private var recent: [Bool] = []
    private var next = 0
    private var throttled = 0

    /// Returns true when the account's rate should come down.
    mutating func record(throttled isThrottled: Bool) -> Bool {
        if recent.count < Self.size {
            recent.append(isThrottled)
        } else {
            if recent[next] { throttled -= 1 }
            recent[next] = isThrottled
            next = (next + 1) % Self.size
        }
        if isThrottled { throttled += 1 }
        guard isThrottled, recent.count == Self.size, Double(throttled) / Double(Self.size) >= Self.threshold else { return false }
        self = ThrottleWindow()
        return true
    }
}

/// Maps the database's clock onto this process's. Each lease answer is a sample of (local time − database
/// time) that is too large by however long the answer took to arrive; the smallest recent sample is the best
/// estimate, so slots of different workers land where the schedule put them to within a fraction of a
/// millisecond instead of within one answer's delay.
final class DatabaseClock: Sendable {
    private let offset = Mutex<Double?>(nil)
    private let calibration = Mutex<Task<Void, any Error>?>(nil)
    private let calibrated = Atomic<Bool>(false)

    /// Before the first lease: ten samples, so the first slots are placed as well as later ones (a single
    /// slow first answer would put them late, and later slots would crowd them).
    func calibrateOnce(_ schedule: DialSchedule) async throws {
        if calibrated.load(ordering: .acquiring) { return }
        let task = calibration.withLock { task in
            if let task { return task }
            let made = Task {
                for _ in 0..<10 { self.record(databaseNow: try await schedule.databaseNow()) }
            }
            task = made
            return made
        }
        try await task.value
        calibrated.store(true, ordering: .releasing)
    }

    @discardableResult
    private func record(databaseNow: Double) -> Double {
        let sample = Date().timeIntervalSince1970 - databaseNow
        // The estimate creeps up by 50 µs a sample, so it follows a clock that drifts or steps.
        return offset.withLock { offset in
            let next = min((offset ?? sample) + 0.000_05, sample)
            offset = next
            return next
        }
    }

    /// The lease's slots as instants of the continuous clock.
    func place(_ lease: DialSchedule.Lease) -> [ContinuousClock.Instant] {
        let estimate = record(databaseNow: lease.databaseNow)
        let now = ContinuousClock.now
        let wallNow = Date().timeIntervalSince1970
        return (0..<lease.count).map { index in
            now + .seconds(lease.start + lease.spacing * Double(index) + estimate - wallNow)
        }
    }

    func instant(databaseTime: Double) -> ContinuousClock.Instant {
        let estimate = offset.withLock { $0 } ?? 0
        return ContinuousClock.now + .seconds(databaseTime + estimate - Date().timeIntervalSince1970)
    }
}
