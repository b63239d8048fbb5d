import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// Watches whether the Kafka cluster answers, for `/health`. The metadata request blocks inside librdkafka,
/// so it runs on a Dispatch queue rather than on the cooperative thread pool.
public final class KafkaBrokerProbe: Service, Sendable {
    private let client: KafkaClientHandle
    private let reachable = Atomic<Bool>(false)
    private let interval: Duration
    private let logger: Logger

    public init(configuration: KafkaConfiguration, interval: Duration = .seconds(2), logger: Logger) throws {
        client = try KafkaClientHandle(
            kind: .producer,
            properties: configuration.clientProperties(
                defaults: ["log_level": "3"], overrides: ["client.id": configuration.clientID + "-health"]))
        self.interval = interval
        self.logger = logger
    }

    public var isReachable: Bool { reachable.load(ordering: .relaxed) }

    /// Checks once and records the answer.
    @discardableResult
    public func check(timeoutMilliseconds: Int32 = 1000) async -> Bool {
        let client = self.client
        let ok = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: (try? client.fetchTopicNames(timeoutMilliseconds: timeoutMilliseconds)) != nil)
            }
        }
        let previous = reachable.exchange(ok, ordering: .relaxed)
        if previous != ok {
            if ok { logger.info("Kafka reachable") } else { logger.warning("Kafka unreachable") }
        }
        return ok
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.check()
                try await Task.sleep(for: self.interval)
            }
        }
    }
}
