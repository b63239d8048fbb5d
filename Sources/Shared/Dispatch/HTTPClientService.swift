import AsyncHTTPClient
import Logging
import ServiceLifecycle

/// Keeps an `HTTPClient` for as long as its process runs and shuts it down (closing its connections) after
/// the services listed after it have stopped. A shutdown that does not finish within five seconds is left
/// behind, so that it cannot hold the rest of the process's shutdown: exiting closes the sockets anyway.
public struct HTTPClientService: Service {
    public let client: HTTPClient
    let logger: Logger

    public init(client: HTTPClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let client = self.client
        // Unstructured, so that a shutdown that never returns is not awaited by the group below.
        let (done, signal) = AsyncStream.makeStream(of: Void.self)
        Task {
            try? await client.shutdown()
            signal.finish()
        }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in done {}
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first
        }
        if !finished { logger.warning("HTTP client shutdown did not finish in 5 s; leaving it behind") }
    }
}
