import Foundation
import Synchronization

/// A dedicated OS thread for librdkafka's blocking poll calls, so they never occupy Swift's cooperative
/// thread pool.
final class KafkaPollThread: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `iteration` in a loop until `stop()`; each iteration should block at most a short while.
    init(name: String, iteration: @escaping @Sendable () -> Void) {
        // The thread keeps this object alive until `stop()` ends the loop.
        let thread = Thread { [self] in
            while self.running.load(ordering: .acquiring) { iteration() }
            self.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Stops the loop and waits for the current iteration to end, off the cooperative pool.
    func stop() async {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finished.wait()
                continuation.resume()
            }
        }
    }
}
