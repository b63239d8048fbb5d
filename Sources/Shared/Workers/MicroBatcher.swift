import Synchronization

/// Gathers items submitted concurrently (by a worker's lanes) into batches: a batch runs when it holds
/// `maximumBatch` items or `linger` after its first item, and each submitter gets its own item's result.
/// Many lanes in flight then make few database round trips.
public final class MicroBatcher<Item: Sendable, Output: Sendable>: Sendable {
    public typealias Run = @Sendable ([Item]) async throws -> [Output]

    private struct Pending {
        var items: [Item] = []
        var waiters: [CheckedContinuation<Output, any Error>] = []
        var flushArmed = false
    }

    private let maximumBatch: Int
    private let linger: Duration
    private let run: Run
    private let pending = Mutex(Pending())

    /// `run` answers one output per item, in the items' order.
    public init(maximumBatch: Int, linger: Duration, run: @escaping Run) {
        self.maximumBatch = max(1, maximumBatch)
        self.linger = linger
        self.run = run
    }

    public func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let next: BatchStep = pending.withLock { pending in
                pending.items.append(item)
                pending.waiters.append(continuation)
                if pending.items.count >= maximumBatch { return .flush }
                if pending.flushArmed { return .wait }
                pending.flushArmed = true
                return .arm
            }
            switch next {
            case .flush:
                Task { await self.flush() }
            case .arm:
                Task {
                    try? await Task.sleep(for: self.linger)
                    await self.flush()
                }
            case .wait:
                break
            }
        }
    }

    private func flush() async {
        let (items, waiters) = pending.withLock { pending in
            defer { pending = Pending() }
            return (pending.items, pending.waiters)
        }
        guard !items.isEmpty else { return }
        do {
            let outputs = try await run(items)
            precondition(outputs.count == items.count, "a batch must answer one output per item")
            for (waiter, output) in zip(waiters, outputs) { waiter.resume(returning: output) }
        } catch {
            for waiter in waiters { waiter.resume(throwing: error) }
        }
    }
}

private enum BatchStep { case flush, arm, wait }
