/// `application/x-www-form-urlencoded`, as Twilio's REST API takes its parameters.
public enum FormEncoding {
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    public static func decode(_ body: String) -> [(String, String)] {
        body.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = unescape(String(parts[0]))
            return (name, parts.count > 1 ? unescape(String(parts[1])) : "")
        }
    }

    static func escape(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }

    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// SCFM keeps `remote_request_params` in snake case (`from`, `url`, `status_callback`); Twilio's REST API
/// names them in Pascal case (`From`, `Url`, `StatusCallback`), as the twilio-ruby client translated them.
public enum TwilioParameterNames {
    public static func pascalCase(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The form pairs of a create-call request: `To`, then every request parameter (arrays as repeated
    /// names, as Twilio takes `StatusCallbackEvent`).
    public static func createCallForm(to: String, parameters: JSONValue) -> [(String, String)] {
        var pairs = [("To", to)]
        for (name, value) in parameters.objectValue ?? JSONObject() where name.lowercased() != "to" {
            let twilioName = pascalCase(name)
            switch value {
            case .array(let items): pairs += items.compactMap { $0.scalarText.map { (twilioName, $0) } }
            default: if let text = value.scalarText { pairs.append((twilioName, text)) }
            }
        }
        return pairs
    }
}
