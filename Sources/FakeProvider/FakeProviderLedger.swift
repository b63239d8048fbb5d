import Foundation
import Shared
import Synchronization

/// The fake provider's memory: every call it created (for fetch and list) and a ledger of every create
/// request it answered, so a test or a demo can prove each number was dialled once and the rate was kept.
final class FakeProviderLedger: Sendable {
    struct Create: Sendable {
        let at: ContinuousClock.Instant
        /// The wall clock, to compare with times recorded elsewhere (a callout's pause).
        let wallClock: Date
        let to: String
        let sid: String
    }

    enum Decision: Sendable {
        case created(FakeCall)
        /// Created (it rings, it is in the ledger and the list), but answered 500.
        case createdThenFailed(FakeCall)
        case throttled
        case failed
    }

    private struct State {
        var calls: [String: FakeCall] = [:]
        var callsByAccount: [String: [String]] = [:]
        /// Sids by account and number, for the list filter `To` (a lookup after an outage must be cheap).
        var callsByNumber: [String: [String]] = [:]
        var creates: [Create] = []
        /// Accepted creates of the last second, for the provider's own cap.
        var lastSecond: [ContinuousClock.Instant] = []
        var lastSecondHead = 0
        var throttled = 0
        var failed = 0
        var failedAfterCreate = 0
        /// Requests to the calls' `StatusCallback` and `Url`, by whether the answer was a 2xx.
        var callbacks = (delivered: 0, failed: 0)
        var callFlowRequests = (delivered: 0, failed: 0)
        var generator = SystemRandomNumberGenerator()
    }

    private let state = Mutex(State())
    let settings: FakeProviderSettings

    init(settings: FakeProviderSettings) {
        self.settings = settings
    }

    /// Decides a create request: random 429 or 500 as configured, 429 past the provider's own cap, else a new
    /// call with an outcome drawn from the mix (answered 500 all the same at `errorAfterCreateRate`).
    func create(
        accountSID: String, signingToken: String?, parameters: [(String, String)], arrivedAt now: ContinuousClock.Instant
    ) -> Decision {
        state.withLock { state in
            if settings.throttleRate > 0, Double.random(in: 0..<1, using: &state.generator) < settings.throttleRate {
                state.throttled += 1
                return .throttled
            }
            if settings.errorRate > 0, Double.random(in: 0..<1, using: &state.generator) < settings.errorRate {
                state.failed += 1
                return .failed
            }
            if settings.maxCallsPerSecond > 0 {
                while state.lastSecondHead < state.lastSecond.count, now - state.lastSecond[state.lastSecondHead] >= .seconds(1) {
                    state.lastSecondHead += 1
                }
                if state.lastSecondHead > 10_000 {
                    state.lastSecond.removeFirst(state.lastSecondHead)
                    state.lastSecondHead = 0
                }
                if state.lastSecond.count - state.lastSecondHead >= settings.maxCallsPerSecond {
                    state.throttled += 1
                    return .throttled
                }
                state.lastSecond.append(now)
            }
            let value = { (name: String) in parameters.last { $0.0 == name }?.1 }
            let created = Date()
            let call = FakeCall(
                sid: FakeCall.newSID(using: &state.generator),
                accountSID: accountSID, to: value("To") ?? "", from: value("From") ?? "",
                statusCallback: value("StatusCallback"), statusCallbackMethod: value("StatusCallbackMethod") ?? "POST",
                statusCallbackEvents: Set(
                    parameters.filter { $0.0 == "StatusCallbackEvent" }.flatMap { $0.1.split(separator: " ").map(String.init) }),
                url: value("Url"), method: value("Method") ?? "POST", signingToken: signingToken,
                createdAt: created, dateCreated: RFC2822.format(created), outcome: drawOutcome(using: &state.generator),
                queueDuration: settings.queueDuration, ringDuration: settings.ringDuration, talkDuration: settings.talkDuration)
            state.calls[call.sid] = call
            state.callsByAccount[accountSID, default: []].append(call.sid)
            state.callsByNumber[accountSID + " " + call.to, default: []].append(call.sid)
            state.creates.append(Create(at: now, wallClock: Date(), to: call.to, sid: call.sid))
            if settings.errorAfterCreateRate > 0, Double.random(in: 0..<1, using: &state.generator) < settings.errorAfterCreateRate {
                state.failedAfterCreate += 1
                return .createdThenFailed(call)
            }
            return .created(call)
        }
    }

    private func drawOutcome(using generator: inout SystemRandomNumberGenerator) -> String {
        let total = settings.outcomes.reduce(0) { $0 + $1.weight }
        var point = Double.random(in: 0..<total, using: &generator)
        for outcome in settings.outcomes {
            if point < outcome.weight { return outcome.status }
            point -= outcome.weight
        }
        return settings.outcomes.last!.status
    }

    func call(sid: String, accountSID: String) -> FakeCall? {
        state.withLock { state in state.calls[sid].flatMap { $0.accountSID == accountSID ? $0 : nil } }
    }

    /// The account's calls, newest first, optionally only those to `to`.
    func calls(accountSID: String, to: String?) -> [FakeCall] {
        state.withLock { state in
            let sids = (to.map { state.callsByNumber[accountSID + " " + $0] } ?? state.callsByAccount[accountSID]) ?? []
            return sids.reversed().compactMap { state.calls[$0] }
        }
    }

    /// Records an inbound call (simulated, not created by a request), so fetches find it.
    func addInbound(_ call: FakeCall) {
        state.withLock { state in
            state.calls[call.sid] = call
            state.callsByAccount[call.accountSID, default: []].append(call.sid)
        }
    }

    enum ProviderRequestKind { case statusCallback, callFlow }

    func recordRequest(_ kind: ProviderRequestKind, delivered: Bool) {
        state.withLock { state in
            switch (kind, delivered) {
            case (.statusCallback, true): state.callbacks.delivered += 1
            case (.statusCallback, false): state.callbacks.failed += 1
            case (.callFlow, true): state.callFlowRequests.delivered += 1
            case (.callFlow, false): state.callFlowRequests.failed += 1
            }
        }
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    /// The ledger's summary: creates, numbers dialled more than once, and the busiest one-second window.
    func summary() -> JSONValue {
        state.withLock { state in
            var perNumber: [String: Int] = [:]
            for create in state.creates { perNumber[create.to, default: 0] += 1 }
            let repeated = perNumber.filter { $0.value > 1 }.keys.sorted()
            let times = Self.secondsFromFirst(state.creates)
            var perSecond: [Int] = []
            for time in times {
                while perSecond.count <= Int(time) { perSecond.append(0) }
                perSecond[Int(time)] += 1
            }
            return [
                "creates": .integer(Int64(state.creates.count)),
                "distinct_to": .integer(Int64(perNumber.count)),
                "repeated_to": .array(repeated.prefix(100).map { .string($0) }),
                "repeated_to_count": .integer(Int64(repeated.count)),
                "throttled": .integer(Int64(state.throttled)),
                "failed": .integer(Int64(state.failed)),
                "failed_after_create": .integer(Int64(state.failedAfterCreate)),
                "status_callbacks_delivered": .integer(Int64(state.callbacks.delivered)),
                "status_callbacks_failed": .integer(Int64(state.callbacks.failed)),
                "call_flow_requests_delivered": .integer(Int64(state.callFlowRequests.delivered)),
                "call_flow_requests_failed": .integer(Int64(state.callFlowRequests.failed)),
                "max_creates_in_any_second": .integer(Int64(CreateRate.busiestSlidingSecond(times))),
                "first_to_last_create_seconds": .number(times.last ?? 0),
                "last_create_at": .timestamp(state.creates.last?.wallClock),
                "creates_per_second": .array(perSecond.map { .integer(Int64($0)) }),
            ]
        }
    }

    /// Creates with their times in seconds from the first, for precise checks in tests.
    func createTimes() -> [Double] {
        state.withLock { Self.secondsFromFirst($0.creates) }
    }

    private static func secondsFromFirst(_ creates: [Create]) -> [Double] {
        guard let first = creates.first?.at else { return [] }
        return creates.map { ($0.at - first).seconds }
    }
}
