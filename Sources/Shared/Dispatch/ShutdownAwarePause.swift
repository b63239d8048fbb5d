import ServiceLifecycle

/// Sleeps for a back-off, unless the worker is shutting down: then it throws `AbandonedForShutdown` (after
/// `beforeAbandoning`), so a drain does not wait out a provider back-off and the message comes again later.
func pause(for delay: Duration, beforeAbandoning: () async -> Void = {}) async throws {
    let deadline = ContinuousClock.now + delay
    while ContinuousClock.now < deadline {
        if Task.isShuttingDownGracefully || Task.isCancelled {
            await beforeAbandoning()
            throw AbandonedForShutdown()
        }
        try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
    }
}
