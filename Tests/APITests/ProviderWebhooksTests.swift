import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@testable import API

/// `POST /api/remote_phone_call_events`: signed provider callbacks become remote phone call events and status
/// events, and are answered with the call flow's TwiML.
@Suite(.timeLimit(.minutes(2))) struct ProviderWebhooksTests {
    let api: TestAPI
    static let base = "https://scfm.example.org"
    static let path = "/api/remote_phone_call_events"

    init() async throws { api = try await .make(suite: "provider_webhooks") }

    static let tokens = CallbackTokens(secretsKey: try! SecretsKey(base64: "c2NmbS10ZXN0LWtleS0zMi1ieXRlcy1sb25nLi4uLi4="))

    var settings: APISettings {
        var settings = APISettings()
        settings.publicBaseURL = Self.base
        settings.callbackTokens = Self.tokens
        // The platform's default account, for accounts without credentials of their own.
        settings.providerDefaults = ProviderDefaults(baseURL: ProviderDefaults.twilioBaseURL, accountSID: "AC-platform", authToken: "platform-token")
        return settings
    }

    /// An account with Twilio credentials of its own and one outbound call, dialled as `callSid`.
    func outboundCall(
        _ client: some TestClientProtocol, callSid: String?, calloutForm: String = "", callForm: String = seedRemoteRequestParams
    ) async throws -> (account: Account, token: String, phoneCallID: Int64) {
        let (account, token) = try await api.account()
        try await api.execute(
            "UPDATE accounts SET twilio_account_sid = \("AC-\(account.id)"), twilio_auth_token = \("secret-\(account.id)") WHERE id = \(account.id)")
        let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345\(700 + account.id)"], calloutForm: calloutForm)
        let call = try await client.create("/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: callForm)
        if let callSid { try await api.execute("UPDATE phone_calls SET remote_call_id = \(callSid), status = 'remotely_queued' WHERE id = \(call)") }
        return (account, token, call)
    }

    static func parameters(
        callSid: String, accountSid: String, status: String, direction: String = "outbound-api", from: String = "+1234", to: String = "+252662345700"
    ) -> [(String, String)] {
        [
            ("AccountSid", accountSid), ("ApiVersion", "2010-04-01"), ("CallSid", callSid), ("CallStatus", status),
            ("Direction", direction), ("From", from), ("To", to),
        ]
    }

    func post(
        _ client: some TestClientProtocol, _ parameters: [(String, String)], signedWith token: String, query: String = "",
        signedURL: String? = nil
    ) async throws -> TestResponse {
        let uri = Self.path + query
        let signature = TwilioSignature.compute(url: signedURL ?? Self.base + uri, parameters: parameters, authToken: token)
        return try await client.request(
            .post, uri, token: nil, form: FormEncoding.encode(parameters), headers: [HTTPField.Name(TwilioSignature.header)!: signature])
    }

    /// Rows of one call (the suite's tests run side by side on one database).
    func count(_ table: String, phoneCallID: Int64) async throws -> Int {
        let sql: PostgresQuery =
            table == "outbox_messages"
            ? "SELECT count(*)::int FROM outbox_messages WHERE topic = 'phone-call-events' AND message_key = \(String(phoneCallID))"
            : "SELECT count(*)::int FROM remote_phone_call_events WHERE phone_call_id = \(phoneCallID)"
        return try await api.database.query(sql, logger: api.logger).single { try $0.decode(Int.self) }
    }

    @Test func aSignedCallbackIsStoredSentAsStatusEventAndAnsweredWithTwiML() async throws {
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: "CA-signed")
            let outboxBefore = try await count("outbox_messages", phoneCallID: call.phoneCallID)
            let parameters = Self.parameters(callSid: "CA-signed", accountSid: "AC-\(call.account.id)", status: "completed")
            let response = try await post(client, parameters, signedWith: "secret-\(call.account.id)")
            #expect(response.status == .created)
            #expect(response.headers[.contentType] == "application/xml")
            #expect(response.text == ApplicationCallFlow.response(to: CallFlowRequest(parameters: [:])).xml)

            let events = try await client.request(.get, "/api/phone_calls/\(call.phoneCallID)/remote_phone_call_events", token: call.token).json
            #expect(events.arrayValue?.count == 1)
            let event = events.arrayValue?.first
            #expect(event?["remote_call_id"] == "CA-signed")
            #expect(event?["remote_direction"] == "outbound-api")
            #expect(event?["call_flow_logic"] == "CallFlowLogic::Application")
            for (name, value) in parameters { #expect(event?["details"]?[name] == .string(value)) }
            #expect(event?["details"]?.objectValue?.count == parameters.count)
            #expect(event?["details"]?["CallStatus"] == "completed")

            // The status goes the way of every status: a phone-call-events message, written with the event.
            #expect(try await count("outbox_messages", phoneCallID: call.phoneCallID) == outboxBefore + 1)
            let payload = try await api.database.query(
                """
                SELECT payload FROM outbox_messages WHERE topic = 'phone-call-events' AND message_key = \(String(call.phoneCallID))
                ORDER BY id DESC LIMIT 1
                """, logger: api.logger
            ).single { try $0.decode(JSONValue.self) }
            let statusEvent = try PhoneCallStatusEvent(payload: payload)
            #expect(statusEvent.phoneCallID == call.phoneCallID)
            #expect(statusEvent.status == .completed)
            #expect(statusEvent.source == .callback)
            #expect(statusEvent.remoteStatus == "completed")
            #expect(statusEvent.remoteCallID == "CA-signed")
        }
    }

    /// Callbacks arriving together are written in one batch; each still lands on its own call.
    /// An auth token set through the API is stored sealed, and the signature check opens it: a callback
    /// signed with it is taken, one signed with the sealed text is not.
    @Test func aSealedAccountTokenChecksSignatures() async throws {
        let (admin, adminToken) = try await api.account(superAdmin: true)
        _ = admin
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: "CA-sealed-\(UUID().uuidString.prefix(6))")
            let sid = "AC-\(call.account.id)"
            let update = try await client.request(
                .patch, "/api/accounts/\(call.account.id)", token: adminToken, form: "twilio_auth_token=sealed-plain-\(call.account.id)")
            #expect(update.status == .noContent)
            let stored = try await api.database.query(
                "SELECT twilio_auth_token FROM accounts WHERE id = \(call.account.id)", logger: api.logger
            ).single { try $0.decode(String.self) }
            #expect(stored.hasPrefix("scfm:v1:") && !stored.contains("sealed-plain"), "the row holds no plaintext token")
            let callSid = try await api.database.query(
                "SELECT remote_call_id FROM phone_calls WHERE id = \(call.phoneCallID)", logger: api.logger
            ).single { try $0.decode(String.self) }
            let parameters = Self.parameters(callSid: callSid, accountSid: sid, status: "ringing")
            #expect(try await post(client, parameters, signedWith: stored).status == .forbidden)
            #expect(try await post(client, parameters, signedWith: "sealed-plain-\(call.account.id)").status == .created)
        }
    }

    @Test func concurrentCallbacksEachReachTheirOwnCall() async throws {
        try await api.test(settings: settings) { client in
            let (account, token) = try await api.account()
            try await api.execute(
                "UPDATE accounts SET twilio_account_sid = \("AC-\(account.id)"), twilio_auth_token = 'batch-secret' WHERE id = \(account.id)")
            let campaign = try await Campaign.make(client, token: token, msisdns: (0..<12).map { "25266234\(6000 + $0)" })
            var calls: [Int64] = []
            for participation in campaign.participationIDs {
                let call = try await client.create(
                    "/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams)
                try await api.execute("UPDATE phone_calls SET remote_call_id = \("CA-batch-\(call)"), status = 'remotely_queued' WHERE id = \(call)")
                calls.append(call)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, call) in calls.enumerated() {
                    group.addTask {
                        let status = index.isMultiple(of: 2) ? "busy" : "queued"
                        let parameters = Self.parameters(callSid: "CA-batch-\(call)", accountSid: "AC-\(account.id)", status: status)
                        let response = try await post(client, parameters, signedWith: "batch-secret")
                        #expect(response.status == .created)
                    }
                }
                try await group.waitForAll()
            }
            for (index, call) in calls.enumerated() {
                let events = try await client.request(.get, "/api/phone_calls/\(call)/remote_phone_call_events", token: token).json.arrayValue ?? []
                #expect(events.map { $0["remote_call_id"] } == [.string("CA-batch-\(call)")])
                // `queued` moves nothing, so it sends no status event.
                #expect(try await count("outbox_messages", phoneCallID: call) == (index.isMultiple(of: 2) ? 1 : 0))
            }
        }
    }

    @Test func forgedMissingOrForeignSignaturesAre403AndStoreNothing() async throws {
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: "CA-forged")
            let (other, _, _) = try await outboundCall(client, callSid: "CA-other")
            let eventsBefore = try await count("remote_phone_call_events", phoneCallID: call.phoneCallID)
            let outboxBefore = try await count("outbox_messages", phoneCallID: call.phoneCallID)
            let parameters = Self.parameters(callSid: "CA-forged", accountSid: "AC-\(call.account.id)", status: "completed")

            #expect(try await post(client, parameters, signedWith: "not-the-token").status == .forbidden)
            // Signed for another URL (a replay against another deployment or endpoint).
            #expect(
                try await post(client, parameters, signedWith: "secret-\(call.account.id)", signedURL: "https://elsewhere.example.org\(Self.path)")
                    .status == .forbidden)
            // Parameters changed after signing.
            let signature = TwilioSignature.compute(url: Self.base + Self.path, parameters: parameters, authToken: "secret-\(call.account.id)")
            let tampered = parameters.map { $0.0 == "CallStatus" ? ($0.0, "busy") : $0 }
            let response = try await client.request(
                .post, Self.path, token: nil, form: FormEncoding.encode(tampered), headers: [HTTPField.Name(TwilioSignature.header)!: signature])
            #expect(response.status == .forbidden)
            #expect(try response.json["status"] == 403)
            // No signature at all.
            #expect(try await client.request(.post, Self.path, token: nil, form: FormEncoding.encode(parameters)).status == .forbidden)
            // Another account's genuine signature, about this account's call.
            let foreign = Self.parameters(callSid: "CA-forged", accountSid: "AC-\(other.id)", status: "completed")
            #expect(try await post(client, foreign, signedWith: "secret-\(other.id)").status == .forbidden)
            // An account sid nobody has.
            let unknown = Self.parameters(callSid: "CA-nobody", accountSid: "AC-nobody", status: "completed")
            #expect(try await post(client, unknown, signedWith: "whatever").status == .forbidden)

            // A NUL character anywhere (PostgreSQL stores none): 400, before any lookup (found by make fuzz).
            let withNUL = Self.parameters(callSid: "CA-\u{0}forged", accountSid: "AC-\(call.account.id)", status: "completed")
            let refused = try await post(client, withNUL, signedWith: "secret-\(call.account.id)")
            #expect(refused.status == .badRequest)
            #expect(try refused.json["status"] == 400)

            #expect(try await count("remote_phone_call_events", phoneCallID: call.phoneCallID) == eventsBefore)
            #expect(try await count("outbox_messages", phoneCallID: call.phoneCallID) == outboxBefore)
            #expect(try await client.request(.get, "/api/phone_calls/\(call.phoneCallID)", token: call.token).json["status"] == "remotely_queued")
        }
    }

    @Test func theDiallersPhoneCallIDFindsACallWhoseDialAnswerIsNotRecordedYet() async throws {
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: nil)
            // Dialled (claimed and sent), its answer not applied yet.
            try await api.execute("UPDATE phone_calls SET status = 'queued' WHERE id = \(call.phoneCallID)")
            let parameters = Self.parameters(callSid: "CA-early", accountSid: "AC-\(call.account.id)", status: "ringing")
            let response = try await post(
                client, parameters, signedWith: "secret-\(call.account.id)",
                query: "?phone_call_id=\(call.phoneCallID)&token=\(Self.tokens.token(phoneCallID: call.phoneCallID))")
            #expect(response.status == .created)
            #expect(try await count("remote_phone_call_events", phoneCallID: call.phoneCallID) == 1)
            // Without the id, an outbound CallSid nobody dialled is unknown.
            let stray = Self.parameters(callSid: "CA-stray", accountSid: "AC-\(call.account.id)", status: "completed")
            let strayResponse = try await post(client, stray, signedWith: "secret-\(call.account.id)")
            #expect(strayResponse.status == .notFound)
        }
    }

    @Test func anInboundCallCreatesItsContactAndPhoneCallOnce() async throws {
        try await api.test(settings: settings) { client in
            let (account, token) = try await api.account()
            try await api.execute(
                "UPDATE accounts SET somleng_account_sid = \("SL-\(account.id)"), somleng_auth_token = 'somleng-secret' WHERE id = \(account.id)")
            let ringing = Self.parameters(
                callSid: "CA-in-1", accountSid: "SL-\(account.id)", status: "ringing", direction: "inbound", from: "+855 12 345 678", to: "1294")
            let first = try await post(client, ringing, signedWith: "somleng-secret")
            #expect(first.status == .created)
            #expect(first.text.contains("<Response>"))

            let contacts = try await client.request(.get, "/api/contacts", token: token).json.arrayValue ?? []
            #expect(contacts.map { $0["msisdn"] } == ["+85512345678"])
            let calls = try await client.request(.get, "/api/phone_calls?q[remote_direction]=inbound", token: token).json.arrayValue ?? []
            #expect(calls.count == 1)
            #expect(calls.first?["status"] == "in_progress")
            #expect(calls.first?["remote_call_id"] == "CA-in-1")
            #expect(calls.first?["contact_id"] == contacts.first?["id"])
            #expect(calls.first?["callout_participation_id"] == .null)

            // The call's later callbacks belong to the same phone call.
            let completed = Self.parameters(
                callSid: "CA-in-1", accountSid: "SL-\(account.id)", status: "completed", direction: "inbound", from: "+85512345678", to: "1294")
            #expect(try await post(client, completed, signedWith: "somleng-secret").status == .created)
            let after = try await client.request(.get, "/api/phone_calls?q[remote_direction]=inbound", token: token).json.arrayValue ?? []
            #expect(after.count == 1)
            guard case .integer(let callID)? = after.first?["id"] else { Issue.record("no inbound call"); return }
            #expect(try await client.ids("/api/phone_calls/\(callID)/remote_phone_call_events", token: token).count == 2)
            #expect(try await client.ids("/api/contacts", token: token).count == 1)

            // A caller whose number is not a number.
            let withheld = Self.parameters(
                callSid: "CA-in-2", accountSid: "SL-\(account.id)", status: "ringing", direction: "inbound", from: "anonymous", to: "1294")
            let refused = try await post(client, withheld, signedWith: "somleng-secret")
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["From": ["is invalid"]]])
        }
    }

    @Test func thePlatformDefaultCredentialsAuthenticateAccountsWithoutTheirOwn() async throws {
        try await api.test(settings: settings) { client in
            let (account, token) = try await api.account()
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345990"])
            let call = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            try await api.execute("UPDATE phone_calls SET remote_call_id = 'CA-platform', status = 'remotely_queued' WHERE id = \(call)")
            let parameters = Self.parameters(callSid: "CA-platform", accountSid: "AC-platform", status: "no-answer")
            #expect(try await post(client, parameters, signedWith: "platform-token").status == .created)
            #expect(try await post(client, parameters, signedWith: "secret-\(account.id)").status == .forbidden)
        }
    }

    @Test func theCallsFlowAnswersPlayMessageFromTheCalloutsMetadata() async throws {
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(
                client, callSid: "CA-alert",
                calloutForm: "call_flow_logic=CallFlowLogic::PlayMessage&metadata[audio_url]=https%3A%2F%2Fexample.org%2Fflood.mp3")
            let parameters = Self.parameters(callSid: "CA-alert", accountSid: "AC-\(call.account.id)", status: "in-progress")
            let response = try await post(client, parameters, signedWith: "secret-\(call.account.id)")
            #expect(response.status == .created)
            #expect(response.text == #"<?xml version="1.0" encoding="UTF-8"?><Response><Play>https://example.org/flood.mp3</Play></Response>"#)
            let events = try await client.request(.get, "/api/phone_calls/\(call.phoneCallID)/remote_phone_call_events", token: call.token).json
            #expect(events.arrayValue?.first?["call_flow_logic"] == "CallFlowLogic::PlayMessage")
        }
    }

    @Test func withoutAPublicBaseURLTheForwardedSchemeAndHostAreSigned() async throws {
        var settings = settings
        settings.publicBaseURL = nil
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: "CA-proxy")
            let parameters = Self.parameters(callSid: "CA-proxy", accountSid: "AC-\(call.account.id)", status: "busy")
            let signature = TwilioSignature.compute(
                url: "https://public.example.org\(Self.path)", parameters: parameters, authToken: "secret-\(call.account.id)")
            let response = try await client.request(
                .post, Self.path, token: nil, form: FormEncoding.encode(parameters),
                headers: [
                    HTTPField.Name(TwilioSignature.header)!: signature, HTTPField.Name("X-Forwarded-Proto")!: "https",
                    HTTPField.Name("X-Forwarded-Host")!: "public.example.org",
                ])
            #expect(response.status == .created)
        }
    }

    @Test func aSignedCallbackWithoutCallSidIs422() async throws {
        try await api.test(settings: settings) { client in
            let call = try await outboundCall(client, callSid: "CA-x")
            let parameters = [("AccountSid", "AC-\(call.account.id)"), ("CallStatus", "completed")]
            let response = try await post(client, parameters, signedWith: "secret-\(call.account.id)")
            #expect(response.status == .unprocessableContent)
            #expect(try response.json == ["errors": ["CallSid": ["can't be blank"]]])
        }
    }

    /// The attack of the hardening issue: the provider signs every request with the platform's token, whatever
    /// tenant's call flow asked for it, so a tenant could aim a callback at `?phone_call_id=N` of another
    /// agency's never-dialled call and end it (`created` → `completed`: that person is never alerted). Now the
    /// URL's call counts only with its token, only if it was dialled, and only for its own CallSid; each
    /// attempt is refused and nothing is stored.
    @Test func aProviderSignedCallbackCannotReachAnotherTenantsCall() async throws {
        try await api.test(settings: settings) { client in
            // The victim's account has no credentials of its own: the platform's default account dials for it.
            let (victim, victimToken) = try await api.account()
            let campaign = try await Campaign.make(client, token: victimToken, msisdns: ["252662349001"])
            let call = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: victimToken, form: seedRemoteRequestParams)
            let signed = { (query: String, callSid: String) in
                try await post(
                    client, Self.parameters(callSid: callSid, accountSid: "AC-platform", status: "completed"),
                    signedWith: "platform-token", query: query)
            }
            let right = Self.tokens.token(phoneCallID: call)
            // 1. The issue's request: no token, an unknown CallSid.
            #expect(try await signed("?phone_call_id=\(call)", "CA-child-leg").status == .notFound)
            // 2. A guessed token.
            #expect(try await signed("?phone_call_id=\(call)&token=0123456789abcdef0123456789abcdef", "CA-child-leg").status == .forbidden)
            // 3. Another call's token (the attacker's own call's URL, edited).
            #expect(try await signed("?phone_call_id=\(call)&token=\(Self.tokens.token(phoneCallID: call + 1))", "CA-child-leg").status == .forbidden)
            // 4. The right token, but the call was never dialled.
            #expect(try await signed("?phone_call_id=\(call)&token=\(right)", "CA-child-leg").status == .notFound)
            // 5. Dialled as CA-real: a callback of another CallSid through its URL is not about it.
            try await api.execute("UPDATE phone_calls SET status = 'remotely_queued', remote_call_id = 'CA-real' WHERE id = \(call)")
            #expect(try await signed("?phone_call_id=\(call)&token=\(right)", "CA-child-leg").status == .notFound)
            #expect(try await count("remote_phone_call_events", phoneCallID: call) == 0)
            #expect(try await count("outbox_messages", phoneCallID: call) == 0)
            #expect(try await client.request(.get, "/api/phone_calls/\(call)", token: victimToken).json["status"] == "remotely_queued")
            // The call's own callback through its own URL is recorded, once per request.
            #expect(try await signed("?phone_call_id=\(call)&token=\(right)", "CA-real").status == .created)
            #expect(try await count("remote_phone_call_events", phoneCallID: call) == 1)
            _ = victim
        }
    }

    /// A dial's callback URLs carry the call's id and token; parameters the provider must not be given are
    /// refused by the API (422) and left out of a dial made from a batch operation or the autopilot; a
    /// tenant's callback URL aimed at this API is replaced by the call's own.
    @Test func remoteRequestParamsAreAnAllowList() async throws {
        let endpoint = CallbackEndpoint(base: Self.base, tokens: Self.tokens)
        let url = endpoint.url(phoneCallID: 42)
        #expect(url == "\(Self.base)/api/remote_phone_call_events?phone_call_id=42&token=\(Self.tokens.token(phoneCallID: 42))")
        #expect(Self.tokens.isValid(Self.tokens.token(phoneCallID: 42), phoneCallID: 42))
        #expect(!Self.tokens.isValid(Self.tokens.token(phoneCallID: 42), phoneCallID: 43))

        let (forDial, dropped) = RemoteRequestParams.forDial(
            [
                "from": "1234", "url": .string("\(Self.base)/api/remote_phone_call_events"), "method": "GET",
                "status_callback": .string("\(Self.base)/x"), "account_sid": "AC-other", "record": "true",
            ],
            publicBaseURL: Self.base)
        #expect(forDial == ["from": "1234", "record": "true"])
        #expect(Set(dropped) == ["url", "method", "status_callback", "account_sid"])
        let dialled = CallbackParameters.adding(to: forDial, phoneCallID: 42, endpoint: endpoint)
        #expect(dialled["url"]?.stringValue == url && dialled["status_callback"]?.stringValue == url)
        // The seeds' parameters pass untouched.
        #expect(
            RemoteRequestParams.forDial(["from": "345", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"], publicBaseURL: Self.base)
                .dropped.isEmpty)

        try await api.test(settings: settings) { client in
            let (_, token) = try await api.account()
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662349002"])
            let refused = try await client.request(
                .post, "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token,
                form: "remote_request_params[from]=1234&remote_request_params[account_sid]=AC-other")
            #expect(refused.status == .unprocessableContent)
            #expect(
                try refused.json["errors"]?["remote_request_params"]?.arrayValue?.first?.stringValue?.hasPrefix("may not contain account_sid") == true
            )
        }
    }
}
