import AsyncHTTPClient
import ServiceLifecycle

/// Keeps an `HTTPClient` for as long as its process runs and shuts it down (closing its connections) after
/// the services listed after it have stopped.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
