import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct TwilioSignatureTests {
    /// Twilio's published example (the one its helper libraries test with).
    static let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    static let parameters = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"), ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    static let expected = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

    @Test func twiliosPublishedVector() {
        #expect(TwilioSignature.compute(url: Self.url, parameters: Self.parameters, authToken: "12345") == Self.expected)
        // The parameters' order on the wire does not matter.
        #expect(TwilioSignature.compute(url: Self.url, parameters: Self.parameters.reversed(), authToken: "12345") == Self.expected)
        #expect(TwilioSignature.isValid(signature: Self.expected, url: Self.url, parameters: Self.parameters, authToken: "12345"))
    }

    @Test func theDefaultPortMayBeThereOrNot() {
        for url in ["https://mycompany.com:443/myapp.php?foo=1&bar=2", Self.url] {
            #expect(TwilioSignature.isValid(signature: Self.expected, url: url, parameters: Self.parameters, authToken: "12345"), "\(url)")
        }
        #expect(
            !TwilioSignature.isValid(
                signature: Self.expected, url: "https://mycompany.com:8443/myapp.php?foo=1&bar=2", parameters: Self.parameters, authToken: "12345"))
    }

    @Test func anythingChangedFails() {
        #expect(!TwilioSignature.isValid(signature: Self.expected, url: Self.url, parameters: Self.parameters, authToken: "54321"))
        #expect(!TwilioSignature.isValid(signature: Self.expected, url: Self.url + "&x=1", parameters: Self.parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid(signature: Self.expected, url: Self.url, parameters: Self.parameters + [("Extra", "1")], authToken: "12345"))
        #expect(!TwilioSignature.isValid(signature: Self.expected, url: Self.url, parameters: Array(Self.parameters.dropLast()), authToken: "12345"))
        #expect(!TwilioSignature.isValid(signature: nil, url: Self.url, parameters: Self.parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid(signature: "", url: Self.url, parameters: Self.parameters, authToken: "12345"))
        // An account without a token authenticates nothing, not even an empty-key signature.
        let emptyKey = TwilioSignature.compute(url: Self.url, parameters: Self.parameters, authToken: "")
        #expect(!TwilioSignature.isValid(signature: emptyKey, url: Self.url, parameters: Self.parameters, authToken: ""))
    }

    /// Cases the published vector does not cover (non-ASCII, reserved characters, empty values, ports, no
    /// parameters), checked against the official `twilio` library's RequestValidator.
    @Test(.enabled(if: TwilioReference.isAvailable, "needs TWILIO_PYTHON (make test sets it up)"))
    func agreesWithTheOfficialLibrary() throws {
        let urls = [
            "https://scfm.example.org/api/remote_phone_call_events",
            "https://scfm.example.org/api/remote_phone_call_events?phone_call_id=42",
            "http://127.0.0.1:3000/api/remote_phone_call_events?phone_call_id=7&x=%20y",
            "https://scfm.example.org:443/api/remote_phone_call_events",
            "http://scfm.example.org:80/hooks?a=1",
        ]
        let parameterSets: [[(String, String)]] = [
            [],
            [("CallSid", "CA123"), ("AccountSid", "AC456"), ("CallStatus", "completed"), ("Direction", "outbound-api")],
            [("From", "+855 12 345 678"), ("To", "1294"), ("Body", "a&b=c+d %20 ü ខ្មែរ 🚨"), ("Empty", "")],
            [("b", "2"), ("B", "1"), ("a_b", "3"), ("aB", "4"), ("Ä", "5"), ("z", "6")],
        ]
        let tokens = ["12345", "a long token with spaces and ünicode"]
        var cases: [(url: String, parameters: [(String, String)], token: String)] = []
        for url in urls { for parameters in parameterSets { for token in tokens { cases.append((url, parameters, token)) } } }

        // Offer each case our signature of the URL's other port form, so validation's port handling is compared too.
        let request: JSONValue = [
            "signatures": .array(
                cases.map { item in
                    var params = JSONObject()
                    for (name, value) in item.parameters { params[name] = .string(value) }
                    let other = item.url.contains(":443/") ? item.url.replacingOccurrences(of: ":443/", with: "/") : item.url
                    return [
                        "url": .string(item.url), "params": .object(params), "token": .string(item.token),
                        "signature": .string(TwilioSignature.compute(url: other, parameters: item.parameters, authToken: item.token)),
                    ]
                })
        ]
        let answer = try TwilioReference.answer(request)
        let signatures = answer["signatures"]?.arrayValue ?? []
        let valid = answer["valid"]?.arrayValue ?? []
        #expect(signatures.count == cases.count)
        for (index, item) in cases.enumerated() where index < signatures.count && index < valid.count {
            #expect(
                .string(TwilioSignature.compute(url: item.url, parameters: item.parameters, authToken: item.token)) == signatures[index],
                "\(item.url) \(item.parameters)")
            let other = item.url.contains(":443/") ? item.url.replacingOccurrences(of: ":443/", with: "/") : item.url
            let ours = TwilioSignature.isValid(
                signature: TwilioSignature.compute(url: other, parameters: item.parameters, authToken: item.token), url: item.url,
                parameters: item.parameters, authToken: item.token)
            #expect(.bool(ours) == valid[index], "\(item.url)")
        }
    }
}
