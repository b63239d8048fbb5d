/// A call flow: what to tell the provider to do when it asks about a call (`POST
/// /api/remote_phone_call_events`). A new flow is one type conforming to this protocol, added to
/// `CallFlowLogicRegistry.implementations`.
public protocol CallFlowLogic: Sendable {
    /// The name phone calls, participations and callouts carry in `call_flow_logic` (`CallFlowLogic::…`).
    static var name: String { get }
    static func response(to request: CallFlowRequest) -> TwiML
}

/// What a flow may read: the provider's parameters and the call's records.
public struct CallFlowRequest: Sendable {
    /// The callback's parameters as the provider sent them (`CallSid`, `CallStatus`, `Digits`, …).
    public var parameters: JSONObject
    public var phoneCallMetadata: JSONValue
    public var calloutMetadata: JSONValue

    public init(parameters: JSONObject, phoneCallMetadata: JSONValue = [:], calloutMetadata: JSONValue = [:]) {
        self.parameters = parameters
        self.phoneCallMetadata = phoneCallMetadata
        self.calloutMetadata = calloutMetadata
    }

    /// A text setting of the message: the phone call's metadata wins over the callout's, so one call of a
    /// campaign can carry its own message.
    public func messageSetting(_ key: String) -> String? {
        for metadata in [phoneCallMetadata, calloutMetadata] {
            if let text = metadata[key]?.scalarText?.trimmingWhitespace(), !text.isEmpty { return String(text) }
        }
        return nil
    }
}

/// SCFM's default flow: a greeting, then a song.
public enum ApplicationCallFlow: CallFlowLogic {
    public static let name = "CallFlowLogic::Application"

    public static func response(to request: CallFlowRequest) -> TwiML {
        TwiML([.say("Thanks for trying our documentation. Enjoy!"), .play("http://demo.twilio.com/docs/classic.mp3")])
    }
}

/// SCFM's documentation example, the same words and song as the default flow.
public enum HelloWorldCallFlow: CallFlowLogic {
    public static let name = "CallFlowLogic::HelloWorld"

    public static func response(to request: CallFlowRequest) -> TwiML {
        TwiML([.say("Thanks for trying our documentation. Enjoy!"), .play("http://demo.twilio.com/docs/classic.mp3")])
    }
}

/// The usual shape of an alert: plays the callout's recorded message (metadata `audio_url`), or, without one,
/// speaks its text (metadata `message`, with optional `voice` and `language`). The phone call's metadata may
/// override either. `play_count` repeats it (default 1). With neither, it says so and hangs up, as SCFM did.
public enum PlayMessageCallFlow: CallFlowLogic {
    public static let name = "CallFlowLogic::PlayMessage"

    public static func response(to request: CallFlowRequest) -> TwiML {
        let repeats = request.messageSetting("play_count").flatMap(Int.init).map { min(max($0, 1), 10) }
        if let audioURL = request.messageSetting("audio_url") {
            return TwiML([.play(audioURL, loop: repeats)])
        }
        if let message = request.messageSetting("message") {
            let say = TwiML.Verb.say(message, voice: request.messageSetting("voice"), language: request.messageSetting("language"))
            return TwiML(Array(repeating: say, count: repeats ?? 1))
        }
        return TwiML([.say("No audio URL to play. Bye Bye")])
    }
}
