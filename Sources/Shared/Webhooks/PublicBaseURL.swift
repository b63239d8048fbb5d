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

    /// The endpoint providers post call events to, for one phone call.
    public static func remotePhoneCallEventsURL(base: String, phoneCallID: Int64) -> String {
        "\(base)/api/remote_phone_call_events?phone_call_id=\(phoneCallID)"
    }
}
