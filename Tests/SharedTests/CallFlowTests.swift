import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct CallFlowTests {
    static let registry = CallFlowLogicRegistry(registered: ["CallFlowLogic::OutcomeMonitoring"])

    @Test func theDefaultFlowGreetsAndPlaysAsSCFMs() {
        #expect(
            ApplicationCallFlow.response(to: CallFlowRequest(parameters: [:])).xml
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thanks for trying our documentation. Enjoy!</Say><Play>http://demo.twilio.com/docs/classic.mp3</Play></Response>"#
        )
    }

    @Test func playMessagePlaysTheAudioOrSaysTheText() {
        let audio = CallFlowRequest(parameters: [:], calloutMetadata: ["audio_url": "https://example.org/flood.mp3", "message": "ignored"])
        #expect(PlayMessageCallFlow.response(to: audio) == TwiML([.play("https://example.org/flood.mp3")]))
        let text = CallFlowRequest(
            parameters: [:], calloutMetadata: ["message": "Flood warning: move to high ground.", "language": "en-GB", "play_count": "2"])
        #expect(
            PlayMessageCallFlow.response(to: text)
                == TwiML(Array(repeating: .say("Flood warning: move to high ground.", language: "en-GB"), count: 2)))
        // The phone call's own message wins over the callout's.
        let own = CallFlowRequest(
            parameters: [:], phoneCallMetadata: ["audio_url": "https://example.org/own.mp3"],
            calloutMetadata: ["audio_url": "https://example.org/all.mp3"])
        #expect(PlayMessageCallFlow.response(to: own) == TwiML([.play("https://example.org/own.mp3")]))
        #expect(PlayMessageCallFlow.response(to: CallFlowRequest(parameters: [:])) == TwiML([.say("No audio URL to play. Bye Bye")]))
    }

    @Test func theRegistryResolvesTheFirstRegisteredNameAndFallsBackToTheDefault() {
        let registry = Self.registry
        #expect(registry.resolve([nil, "CallFlowLogic::PlayMessage", "CallFlowLogic::HelloWorld"]) == "CallFlowLogic::PlayMessage")
        #expect(registry.resolve([nil, nil]) == "CallFlowLogic::Application")
        #expect(registry.resolve(["CallFlowLogic::Unknown"]) == "CallFlowLogic::Application")
        #expect(registry.flow(named: "CallFlowLogic::HelloWorld").name == HelloWorldCallFlow.name)
        // Registered or legacy names without an implementation here answer with the default flow.
        #expect(registry.flow(named: "CallFlowLogic::OutcomeMonitoring").name == ApplicationCallFlow.name)
        #expect(registry.flow(named: "CallFlowLogic::AvfCapom::CapomShort").name == ApplicationCallFlow.name)
        #expect(throws: ValidationErrors.self) { try registry.validate("CallFlowLogic::Nope") }
    }

    @Test func twimlEscapesTextAndAttributes() {
        let twiml = TwiML([.say(#"Floods & "storms" <now>"#, voice: #"a"b"#), .pause(seconds: 1), .hangup])
        #expect(
            twiml.xml
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="a&quot;b">Floods &amp; "storms" &lt;now&gt;</Say><Pause length="1" /><Hangup /></Response>"#
        )
        #expect(TwiML([]).xml == #"<?xml version="1.0" encoding="UTF-8"?><Response />"#)
    }

    @Test(.enabled(if: TwilioReference.isAvailable, "needs TWILIO_PYTHON (make test sets it up)"))
    func twimlAgreesWithTheOfficialLibrary() throws {
        let documents: [(TwiML, JSONValue)] = [
            (TwiML([]), []),
            (
                ApplicationCallFlow.response(to: CallFlowRequest(parameters: [:])),
                [
                    ["verb": "say", "text": "Thanks for trying our documentation. Enjoy!"],
                    ["verb": "play", "url": "http://demo.twilio.com/docs/classic.mp3"],
                ]
            ),
            (
                TwiML([.say("ប្រយ័ត្ន & <ទឹកជំនន់>", voice: "Polly.Joanna", language: "km-KH"), .play("https://x.org/a.mp3?x=1&y=2", loop: 3)]),
                [
                    ["verb": "say", "text": "ប្រយ័ត្ន & <ទឹកជំនន់>", "voice": "Polly.Joanna", "language": "km-KH"],
                    ["verb": "play", "url": "https://x.org/a.mp3?x=1&y=2", "loop": 3],
                ]
            ),
            (
                TwiML([.pause(seconds: 2), .say(#"say "this""#), .hangup]),
                [
                    ["verb": "pause", "length": 2], ["verb": "say", "text": #"say "this""#], ["verb": "hangup"],
                ]
            ),
        ]
        let answer = try TwilioReference.answer(["twiml": .array(documents.map { $0.1 })])
        let theirs = answer["twiml"]?.arrayValue ?? []
        #expect(theirs.count == documents.count)
        for (index, document) in documents.enumerated() where index < theirs.count {
            #expect(.string(document.0.xml) == theirs[index])
        }
    }
}
