import Foundation

/// What an answered call hears when its call flow cannot be had: the provider asks the dial's `FallbackUrl`
/// when the request to its `Url` fails or returns an error (this API down or its database failing over). The
/// answer is static, installation-wide and needs nothing but this process: `CALL_FLOW_FALLBACK_MESSAGE` spoken
/// (`<Say>`), served at `PUBLIC_BASE_URL/call_flows/fallback`, or any static TwiML document hosted elsewhere
/// (`CALL_FLOW_FALLBACK_URL`, say object storage, which outlives every API pod).
///
/// Invariants: the fallback is added only to dials whose instructions come from this API (the tenant gave no
/// `url`, `twiml` or `application_sid`) and that name no `fallback_url` of their own; it reveals nothing of any
/// tenant (no record is read); neither setting: no `FallbackUrl`, as before.
public struct CallFlowFallback: Sendable {
    /// The path under `PUBLIC_BASE_URL` where the API serves the message.
    public static let path = "/call_flows/fallback"

    /// `CALL_FLOW_FALLBACK_MESSAGE`: the words spoken, at most 1,000 characters.
    public let message: String?
    /// Where dials send the provider when their call flow fails.
    public let url: String?

    public init(message: String?, url: String?) {
        self.message = message
        self.url = url
    }

    /// From `CALL_FLOW_FALLBACK_MESSAGE` and `CALL_FLOW_FALLBACK_URL`; the URL defaults to this API's own route
    /// when a message is set.
    public init(environment: EnvironmentVariables, publicBaseURL: String?) throws {
        let message = environment["CALL_FLOW_FALLBACK_MESSAGE"].flatMap { $0.isEmpty ? nil : $0 }
        if let message, message.count > 1_000 {
            throw EnvironmentVariables.InvalidValue(
                name: "CALL_FLOW_FALLBACK_MESSAGE", value: String(message.prefix(40)) + "…", expected: "at most 1,000 characters")
        }
        var url = environment["CALL_FLOW_FALLBACK_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let given = url {
            guard let components = URLComponents(string: given), components.scheme == "https" || components.scheme == "http",
                components.host?.isEmpty == false
            else {
                throw EnvironmentVariables.InvalidValue(name: "CALL_FLOW_FALLBACK_URL", value: given, expected: "an http(s) URL")
            }
        } else if message != nil, let publicBaseURL {
            url = publicBaseURL + Self.path
        }
        self.init(message: message, url: url)
    }

    /// The TwiML the API serves: the message, or a hang-up when none is configured.
    public var twiml: TwiML {
        guard let message else { return TwiML([.hangup]) }
        return TwiML([.say(message), .pause(seconds: 1), .say(message)])
    }
}
