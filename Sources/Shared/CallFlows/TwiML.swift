/// A TwiML `<Response>` document, the instructions a provider executes on a call. Written as Twilio's
/// libraries write it (one line, the XML declaration first, attributes sorted by name, empty elements
/// self-closed), so a response can be compared byte for byte with theirs.
public struct TwiML: Sendable, Equatable {
    public struct Verb: Sendable, Equatable {
        let name: String
        let attributes: [(String, String)]
        let text: String?

        public static func == (left: Verb, right: Verb) -> Bool {
            left.name == right.name && left.text == right.text && left.attributes.elementsEqual(right.attributes, by: ==)
        }

        /// `<Say>`: text to speech, optionally with a voice and language (`alice`, `en-US`).
        public static func say(_ text: String, voice: String? = nil, language: String? = nil) -> Verb {
            Verb(
                name: "Say", attributes: [("voice", voice), ("language", language)].compactMap { name, value in value.map { (name, $0) } }, text: text
            )
        }

        /// `<Play>`: an audio file, `loop` times (Twilio's default is once).
        public static func play(_ url: String, loop: Int? = nil) -> Verb {
            Verb(name: "Play", attributes: loop.map { [("loop", String($0))] } ?? [], text: url)
        }

        public static func pause(seconds: Int) -> Verb {
            Verb(name: "Pause", attributes: [("length", String(seconds))], text: nil)
        }

        public static let hangup = Verb(name: "Hangup", attributes: [], text: nil)
    }

    public static let contentType = "application/xml"

    public var verbs: [Verb]

    public init(_ verbs: [Verb]) {
        self.verbs = verbs
    }

    public var xml: String {
        let declaration = #"<?xml version="1.0" encoding="UTF-8"?>"#
        guard !verbs.isEmpty else { return declaration + "<Response />" }
        var output = declaration + "<Response>"
        for verb in verbs {
            output += "<" + verb.name
            for (name, value) in verb.attributes.sorted(by: { $0.0 < $1.0 }) { output += " \(name)=\"\(Self.escape(value, attribute: true))\"" }
            if let text = verb.text {
                output += ">" + Self.escape(text, attribute: false) + "</" + verb.name + ">"
            } else {
                output += " />"
            }
        }
        return output + "</Response>"
    }

    static func escape(_ text: String, attribute: Bool) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"" where attribute: output += "&quot;"
            case "\n" where attribute: output += "&#10;"
            default: output.unicodeScalars.append(character)
            }
        }
        return output
    }
}
