import Foundation
import Shared

/// How the fake provider behaves: what calls come to, how long they ring and talk, and how often it
/// misbehaves the way real providers do (latency, 429s, 500s, its own calls-per-second cap).
public struct FakeProviderSettings: Sendable {
    /// Final outcomes by weight: `completed`, `busy`, `no-answer`, `failed`.
    public var outcomes: [(status: String, weight: Double)] = [("completed", 70), ("busy", 10), ("no-answer", 15), ("failed", 5)]
    /// Seconds a call stays `queued` at the provider, then `ringing`.
    public var queueDuration: Duration = .milliseconds(500)
    public var ringDuration: Duration = .seconds(3)
    /// Seconds an answered call is `in-progress` before `completed`.
    public var talkDuration: Duration = .seconds(10)
    /// Added to every request.
    public var latency: Duration = .zero
    /// Share of create requests answered 429 at random.
    public var throttleRate = 0.0
    /// Share of create requests answered 500 at random (without creating the call).
    public var errorRate = 0.0
    /// Share of create requests that create the call and then answer 500 (the answer lost after the call was
    /// made, as a provider's proxy or a dropped connection does): a client that dials again on a 500 dials the
    /// number twice; one that looks the call up first finds it.
    public var errorAfterCreateRate = 0.0
    /// Creates per second accepted in any one-second window; beyond it, 429. Zero for no cap.
    public var maxCallsPerSecond = 0
    /// When set, requests must carry this auth token (any account sid).
    public var authToken: String?
    /// Which calls' `Url` it asks for TwiML when they are answered: `loopback` (the default: the API of local
    /// mode, not the internet addresses of the seeds' examples, which an offline machine cannot reach), `all`
    /// or `none`.
    public var fetchTwiML: FetchTwiML = .loopback

    public enum FetchTwiML: String, Sendable, CaseIterable {
        case loopback, all, none

        func allows(_ url: String) -> Bool {
            switch self {
            case .all: return true
            case .none: return false
            case .loopback:
                guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
                return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
            }
        }
    }

    public init() {}

    static let outcomeNames = ["completed", "busy", "no-answer", "failed"]

    /// `completed=70,busy=10,no-answer=15,failed=5`.
    public static func parseOutcomes(_ text: String) throws -> [(status: String, weight: Double)] {
        let parsed = try text.split(separator: ",").map { item -> (String, Double) in
            let parts = item.split(separator: "=")
            guard parts.count == 2, let weight = Double(parts[1]), weight >= 0, outcomeNames.contains(String(parts[0])) else {
                throw InvalidOutcomes(text: text)
            }
            return (String(parts[0]), weight)
        }
        guard !parsed.isEmpty, parsed.contains(where: { $0.1 > 0 }) else { throw InvalidOutcomes(text: text) }
        return parsed
    }

    public struct InvalidOutcomes: Error, CustomStringConvertible {
        let text: String
        public var description: String {
            "invalid outcome mix \"\(text)\": expected status=weight pairs of \(outcomeNames.joined(separator: ", "))"
        }
    }

    /// The settings from `FAKE_PROVIDER_*` environment variables (see README.md).
    public init(environment: EnvironmentVariables) throws {
        self.init()
        if let text = environment["FAKE_PROVIDER_OUTCOMES"] { outcomes = try Self.parseOutcomes(text) }
        queueDuration = try environment.seconds("FAKE_PROVIDER_QUEUE_SECONDS", default: queueDuration)
        ringDuration = try environment.seconds("FAKE_PROVIDER_RING_SECONDS", default: ringDuration)
        talkDuration = try environment.seconds("FAKE_PROVIDER_TALK_SECONDS", default: talkDuration)
        latency = try environment.seconds("FAKE_PROVIDER_LATENCY_SECONDS", default: latency)
        throttleRate = try environment.number("FAKE_PROVIDER_429_RATE", default: throttleRate, range: 0...1)
        errorRate = try environment.number("FAKE_PROVIDER_500_RATE", default: errorRate, range: 0...1)
        errorAfterCreateRate = try environment.number("FAKE_PROVIDER_500_AFTER_CREATE_RATE", default: errorAfterCreateRate, range: 0...1)
        maxCallsPerSecond = try environment.integer("FAKE_PROVIDER_MAX_CALLS_PER_SECOND", default: 0, range: 0...1_000_000)
        authToken = environment["FAKE_PROVIDER_AUTH_TOKEN"]
        fetchTwiML = FetchTwiML(
            rawValue: try environment.oneOf("FAKE_PROVIDER_FETCH_TWIML", FetchTwiML.allCases.map(\.rawValue), default: fetchTwiML.rawValue))!
    }
}
