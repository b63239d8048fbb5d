/// Waiting in tests: every wait has a deadline and says what did not arrive, so a lost message fails the test
/// with that sentence instead of hanging CI.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration
    public var description: String { "\(what): not within \(limit)" }
}

/// `body`'s result, or `DeadlineExceeded(what)` once `limit` has passed (`body` is then cancelled).
public func within<Result: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded(what: what, limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Polls `condition` every `interval` until it holds; `DeadlineExceeded(what)` if it still does not after `limit`.
public func eventually(
    _ what: String, within limit: Duration, every interval: Duration = .milliseconds(100),
    _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw DeadlineExceeded(what: what, limit: limit) }
        try await Task.sleep(for: interval)
    }
}
