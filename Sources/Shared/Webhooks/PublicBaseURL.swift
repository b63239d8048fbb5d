import Foundation

/// `PUBLIC_BASE_URL`: where providers reach the API (`https://scfm.example.org`, no trailing slash). The API
/// checks callback signatures against it; the queue workers put it in the `StatusCallback` and `Url` of
/// every dial.
public enum PublicBaseURL {
    public static let variable = "PUBLIC_BASE_URL"

    public static func read(_ environment: EnvironmentVariables) throws -> String? {
        guard let text = environment[variable] else { return nil }
        guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            components.host?.isEmpty == false, components.query == nil
        else {
            throw EnvironmentVariables.InvalidValue(name: variable, value: text, expected: "an http(s) URL such as https://scfm.example.org")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// Whether `url` points at this API (its host and port), which a tenant's own callback parameters may not.
    public static func pointsHere(_ url: String, base: String) -> Bool {
        guard let target = URLComponents(string: url.trimmingCharacters(in: .whitespaces)), let here = URLComponents(string: base) else {
            return false
        }
        func port(_ components: URLComponents) -> Int? { components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80) }
        return target.host?.lowercased() == here.host?.lowercased() && port(target) == port(here)
    }
}

/// Where a dial's provider requests reach this API: the public base URL, and the token that binds each URL to
/// its phone call (`CallbackTokens`).
public struct CallbackEndpoint: Sendable {
    public let base: String
    public let tokens: CallbackTokens
    /// The dial's `FallbackUrl` when its call flow is this API's (`CallFlowFallback`); nil: none.
    public let fallbackURL: String?

    public init(base: String, tokens: CallbackTokens, fallbackURL: String? = nil) {
        self.base = base
        self.tokens = tokens
        self.fallbackURL = fallbackURL
    }

    /// The endpoint providers post call events to, for one phone call.
    public func url(phoneCallID: Int64) -> String {
        "\(base)/api/remote_phone_call_events?phone_call_id=\(phoneCallID)&token=\(tokens.token(phoneCallID: phoneCallID))"
    }
}
