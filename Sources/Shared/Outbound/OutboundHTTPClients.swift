import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// HTTP clients for tenant-given URLs, each pinned to an address `OutboundPolicy` checked: a host's name is
/// resolved and judged at most every `resolveEvery`, and the connection goes to that checked address
/// (AsyncHTTPClient's `dnsOverride`, which keeps the name for TLS's SNI and certificate check), so the name
/// cannot resolve to an internal address between the check and the connect. Redirects are never followed
/// (a 3xx is the answer). One client per (host, address); a client not used for `idleAfter` is shut down once
/// no request is under way on it, so a host whose address changed leaves its old client behind only briefly.
///
/// A service: run it beside the role that uses it; it shuts every client down when the role stops.
public final class OutboundHTTPClients: Service, Sendable {
    public struct Settings: Sendable {
        public var policy = OutboundPolicy()
        /// How long a host's checked address is used before it is resolved and checked again.
        public var resolveEvery: Duration = .seconds(60)
        public var idleAfter: Duration = .seconds(120)
        public var connectionsPerHost = 8
        public init() {}
    }

    public enum Failure: Error, CustomStringConvertible {
        case refused(OutboundPolicy.Refusal)
        case stopped

        public var description: String {
            switch self {
            case .refused(let refusal): "refused by the outbound policy: the URL \(refusal)"
            case .stopped: "the outbound HTTP clients are stopped"
            }
        }
    }

    private struct Pinned {
        let address: String
        let resolvedAt: ContinuousClock.Instant
    }

    private final class Entry: Sendable {
        let client: HTTPClient
        let inFlight = Atomic<Int>(0)
        let lastUsed: Mutex<ContinuousClock.Instant>
        init(client: HTTPClient) {
            self.client = client
            lastUsed = Mutex(.now)
        }
    }

    private struct State {
        var pins: [String: Pinned] = [:]
        var clients: [String: Entry] = [:]
        var stopped = false
    }

    public let settings: Settings
    let logger: Logger
    private let state = Mutex(State())

    public init(settings: Settings = Settings(), logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Sends `request` (its URL is tenant-given) to the checked address of its host. The request's own URL is
    /// kept (Host header, TLS name); a refusal throws `Failure.refused` before anything is sent.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        let target: OutboundPolicy.Target
        do { target = try settings.policy.check(url: request.url) } catch { throw Failure.refused(error) }
        let address = try await checkedAddress(target)
        let entry = try client(host: target.host, address: address)
        entry.inFlight.add(1, ordering: .relaxed)
        defer {
            entry.inFlight.subtract(1, ordering: .relaxed)
            entry.lastUsed.withLock { $0 = .now }
        }
        return try await entry.client.execute(request, timeout: timeout, logger: logger)
    }

    private func checkedAddress(_ target: OutboundPolicy.Target) async throws -> String {
        let now = ContinuousClock.now
        if let pinned = state.withLock({ $0.pins[target.host] }), now - pinned.resolvedAt < settings.resolveEvery {
            return pinned.address
        }
        let address: String
        do { address = try await settings.policy.resolve(target) } catch {
            state.withLock { _ = $0.pins.removeValue(forKey: target.host) }
            throw Failure.refused(error)
        }
        state.withLock { $0.pins[target.host] = Pinned(address: address, resolvedAt: now) }
        return address
    }

    private func client(host: String, address: String) throws -> Entry {
        let key = host + " " + address
        let (entry, retired) = try state.withLock { state throws -> (Entry, [Entry]) in
            guard !state.stopped else { throw Failure.stopped }
            let now = ContinuousClock.now
            var retired: [Entry] = []
            for (other, candidate) in state.clients where other != key {
                if candidate.inFlight.load(ordering: .relaxed) == 0, now - candidate.lastUsed.withLock({ $0 }) > settings.idleAfter {
                    retired.append(candidate)
                    state.clients[other] = nil
                }
            }
            if let existing = state.clients[key] { return (existing, retired) }
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.connectionsPerHost)
            if OutboundPolicy.addressBytes(host) == nil { configuration.dnsOverride = [host: address] }
            let made = Entry(client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration))
            state.clients[key] = made
            return (made, retired)
        }
        for old in retired { Self.shutDown(old.client) }
        return entry
    }

    private static func shutDown(_ client: HTTPClient) {
        Task { try? await client.shutdown() }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let clients = state.withLock { state -> [Entry] in
            state.stopped = true
            defer { state.clients = [:] }
            return Array(state.clients.values)
        }
        for entry in clients { try? await entry.client.shutdown() }
    }
}
