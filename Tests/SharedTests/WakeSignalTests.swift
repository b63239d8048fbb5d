import Testing

@testable import Shared

/// The scheduler's sleep between ticks: cut short by a signal, kept when the signal came first, and ended by
/// cancellation. Bounds are loose: they tell a minute-long sleep from a woken one, not a precise duration.
struct WakeSignalTests {
    @Test func aSignalEndsTheSleep() async throws {
        let wake = WakeSignal()
        let start = ContinuousClock.now
        Task {
            try await Task.sleep(for: .milliseconds(100))
            wake.signal()
        }
        await wake.sleep(for: .seconds(60))
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func aSignalWhileAwakeEndsTheNextSleepOnlyOnce() async throws {
        let wake = WakeSignal()
        wake.signal()
        wake.signal()
        let start = ContinuousClock.now
        await wake.sleep(for: .seconds(60))
        #expect(ContinuousClock.now - start < .seconds(10))
        let second = ContinuousClock.now
        await wake.sleep(for: .milliseconds(300))
        #expect(ContinuousClock.now - second >= .milliseconds(300), "two signals while awake make one early wake-up")
    }

    @Test func theSleepEndsOnTimeWithoutASignal() async {
        let wake = WakeSignal()
        let start = ContinuousClock.now
        await wake.sleep(for: .milliseconds(200))
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }

    @Test func cancellationEndsTheSleep() async {
        let wake = WakeSignal()
        let start = ContinuousClock.now
        let sleeping = Task { await wake.sleep(for: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(100))
        sleeping.cancel()
        await sleeping.value
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}
