import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct ProviderCallbackTests {
    @Test func parsesTwiliosFormAsSent() {
        let callback = ProviderCallback(
            form: "AccountSid=AC1&CallSid=CA2&CallStatus=in-progress&From=%2B85512345678&To=+1294&Caller=a+b%20c&Digits=1&Digits=2")
        #expect(callback.accountSID == "AC1")
        #expect(callback.callSID == "CA2")
        #expect(callback.callStatus == "in-progress")
        #expect(callback["From"] == "+85512345678")
        // `+` is a space in a form, as Twilio's own validators read it.
        #expect(callback["To"] == " 1294")
        #expect(callback["Caller"] == "a b c")
        // Repeated names stay for the signature; details keep the last value.
        #expect(callback.parameters.filter { $0.0 == "Digits" }.map(\.1) == ["1", "2"])
        #expect(callback.details["Digits"] == "2")
        #expect(callback.direction == "outbound-api")
        #expect(!callback.isInbound)
        #expect(ProviderCallback(form: "Direction=inbound").isInbound)
    }

    @Test func blanksAreErrorsOnlyWhereTheyMatter() {
        #expect(throws: ValidationErrors("CallSid", ValidationErrors.blank)) { try ProviderCallback(form: "AccountSid=AC1&CallSid=").validate() }
        var inbound = ValidationErrors("CallSid", ValidationErrors.blank)
        inbound.add("From", ValidationErrors.blank)
        #expect(throws: inbound) { try ProviderCallback(form: "AccountSid=AC1&Direction=inbound").validate() }
        #expect(throws: Never.self) { try ProviderCallback(form: "AccountSid=AC1&CallSid=CA1").validate() }
        #expect(ProviderCallback(form: "AccountSid=").accountSID == nil)
    }

    /// With a fallback configured, a dial whose call flow is this API's names it as its FallbackUrl; a tenant's
    /// own instructions or fallback are left alone.
    @Test func dialsWhoseCallFlowIsOursFallBackToTheStaticAnswer() throws {
        let tokens = CallbackTokens(secretsKey: try SecretsKey(base64: SecretsKey.generate()))
        let endpoint = CallbackEndpoint(base: "https://scfm.example.org", tokens: tokens, fallbackURL: "https://scfm.example.org/call_flows/fallback")
        let ours = CallbackParameters.adding(to: ["from": "1294"], phoneCallID: 9, endpoint: endpoint)
        #expect(ours["fallback_url"] == "https://scfm.example.org/call_flows/fallback" && ours["fallback_method"] == "POST")
        let theirs = CallbackParameters.adding(to: ["from": "1", "url": "https://tenant.example.org/flow.xml"], phoneCallID: 9, endpoint: endpoint)
        #expect(theirs["fallback_url"] == nil, "the tenant's own call flow: its fallback is the tenant's business")
        let ownFallback = CallbackParameters.adding(
            to: ["from": "1", "FallbackUrl": "https://tenant.example.org/f.xml"], phoneCallID: 9, endpoint: endpoint)
        #expect(ownFallback["fallback_url"] == nil && ownFallback["FallbackUrl"] == "https://tenant.example.org/f.xml")

        let fromMessage = try CallFlowFallback(
            environment: EnvironmentVariables(["CALL_FLOW_FALLBACK_MESSAGE": "Flood warning. Move to high ground."]),
            publicBaseURL: "https://scfm.example.org")
        #expect(fromMessage.url == "https://scfm.example.org/call_flows/fallback")
        #expect(fromMessage.twiml.xml.contains("<Say>Flood warning. Move to high ground.</Say>"))
        let hosted = try CallFlowFallback(
            environment: EnvironmentVariables(["CALL_FLOW_FALLBACK_URL": "https://static.example.org/alert.xml"]), publicBaseURL: nil)
        #expect(hosted.url == "https://static.example.org/alert.xml")
        #expect(try CallFlowFallback(environment: EnvironmentVariables([:]), publicBaseURL: "https://scfm.example.org").url == nil)
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try CallFlowFallback(environment: EnvironmentVariables(["CALL_FLOW_FALLBACK_URL": "ftp://x"]), publicBaseURL: nil)
        }
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try CallFlowFallback(
                environment: EnvironmentVariables(["CALL_FLOW_FALLBACK_MESSAGE": String(repeating: "a", count: 1001)]), publicBaseURL: nil)
        }
    }

    @Test func dialsPointTheirCallbacksAtTheAPIUnlessTheySayOtherwise() throws {
        let tokens = CallbackTokens(secretsKey: try SecretsKey(base64: SecretsKey.generate()))
        let endpoint = CallbackEndpoint(base: "https://scfm.example.org", tokens: tokens)
        let ours = "https://scfm.example.org/api/remote_phone_call_events?phone_call_id=9&token=\(tokens.token(phoneCallID: 9))"
        let plain = CallbackParameters.adding(to: ["from": "1294"], phoneCallID: 9, endpoint: endpoint)
        #expect(plain == ["from": "1294", "status_callback": .string(ours), "url": .string(ours)])
        // The seeds' calls name their own TwiML; it stays, and only the status callback is added.
        let seeded = CallbackParameters.adding(
            to: ["from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"], phoneCallID: 9, endpoint: endpoint)
        #expect(seeded["url"] == "https://demo.twilio.com/docs/voice.xml")
        #expect(seeded["status_callback"] == .string(ours))
        let own = CallbackParameters.adding(
            to: ["StatusCallback": "https://mine.example.org/cb", "twiml": "<Response/>"], phoneCallID: 9, endpoint: endpoint)
        #expect(own == ["StatusCallback": "https://mine.example.org/cb", "twiml": "<Response/>"])
        #expect(CallbackParameters.adding(to: ["from": "1294"], phoneCallID: 9, endpoint: nil) == ["from": "1294"])
        // A token is the call's alone, and a key of the wrong size is refused with the variable's name.
        #expect(tokens.isValid(tokens.token(phoneCallID: 9), phoneCallID: 9) && !tokens.isValid(tokens.token(phoneCallID: 9), phoneCallID: 10))
        #expect(throws: EnvironmentVariables.InvalidValue.self) { try SecretsKey(base64: "c2hvcnQ=") }
        #expect(throws: EnvironmentVariables.InvalidValue.self) { try SecretsKey(environment: EnvironmentVariables([:])) }
    }
}
