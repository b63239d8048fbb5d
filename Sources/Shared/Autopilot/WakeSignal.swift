import Synchronization

/// A sleep that a signal cuts short: the scheduler sleeps between ticks and a started callout wakes it. A
/// signal sent while nobody sleeps is kept for the next sleep (one, however many came), so none is missed
/// between two sleeps.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var sleeper: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var lastID: UInt64 = 0
        /// The newest sleep whose time ran out, so that a timer firing before its sleeper waits still ends it.
        var lastExpiredID: UInt64 = 0
    }

    private let state = Mutex(State())

    func signal() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let sleeper = state.sleeper else {
                state.pending = true
                return nil
            }
            state.sleeper = nil
            return sleeper.continuation
        }
        continuation?.resume()
    }

    /// Returns after `duration`, or sooner when signalled or when the task is cancelled.
    func sleep(for duration: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.lastID += 1
            return state.lastID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends early when the sleep is cancelled (signalled, or the task cancelled): either way it ends the sleep.
                try? await Task.sleep(for: duration)
                self.expire(id)
            }
            await withCheckedContinuation { continuation in
                let wakeNow = state.withLock { state -> Bool in
                    if state.pending || state.lastExpiredID >= id {
                        state.pending = false
                        return true
                    }
                    state.sleeper = (id, continuation)
                    return false
                }
                if wakeNow { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    private func expire(_ id: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.lastExpiredID = max(state.lastExpiredID, id)
            guard let sleeper = state.sleeper, sleeper.id == id else { return nil }
            state.sleeper = nil
            return sleeper.continuation
        }
        continuation?.resume()
    }
}
