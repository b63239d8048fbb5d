import Logging
import ServiceLifecycle

/// A fake provider started in-process on a free port of 127.0.0.1, for tests and benchmarks.
public final class RunningFakeProvider: Sendable {
    public let server: FakeProviderServer
    /// `http://127.0.0.1:<port>`, the base URL to give accounts.
    public let url: String
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    public static func start(settings: FakeProviderSettings, logger: Logger) async -> RunningFakeProvider {
        let server = FakeProviderServer(settings: settings, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let application = server.application(host: "127.0.0.1", port: 0) { listening.yield($0) }
        let group = ServiceGroup(services: [application], logger: logger)
        let running = Task { try await group.run() }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        return RunningFakeProvider(server: server, url: "http://127.0.0.1:\(port)", group: group, running: running)
    }

    private init(server: FakeProviderServer, url: String, group: ServiceGroup, running: Task<Void, any Error>) {
        self.server = server
        self.url = url
        self.group = group
        self.running = running
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}

/// Rate figures of create times (seconds from the first create, in order).
public enum CreateRate {
    /// The most creates in any window [t, t + 1 s).
    public static func busiestSlidingSecond(_ times: [Double]) -> Int {
        var busiest = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= 1 { start += 1 }
            busiest = max(busiest, end - start + 1)
        }
        return busiest
    }

    /// The most creates in one second of the clock that started with the first create.
    public static func busiestClockSecond(_ times: [Double]) -> Int {
        var perSecond: [Int: Int] = [:]
        for time in times { perSecond[Int(time), default: 0] += 1 }
        return perSecond.values.max() ?? 0
    }
}
