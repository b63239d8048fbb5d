import AsyncHTTPClient
import FakeProvider
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Shared
import Testing

@testable import API

/// The fake provider of local mode and the API over real sockets: a call dialled with the queue worker's
/// callback parameters gets its call flow request and status callback, signed, stored against the right
/// phone call; a simulated inbound call creates its contact and phone call.
@Suite(.timeLimit(.minutes(2))) struct ProviderWebhooksEndToEndTests {
    let api: TestAPI
    let logger = Logger(label: "scfm.tests.webhooks-e2e")

    init() async throws { api = try await .make(suite: "provider_webhooks_e2e") }

    static let tokens = CallbackTokens(secretsKey: try! SecretsKey(base64: SecretsKey.generate()))

    func live(_ body: @escaping @Sendable (_ apiURL: String, _ provider: RunningFakeProvider) async throws -> Void) async throws {
        var providerSettings = FakeProviderSettings()
        providerSettings.outcomes = [("completed", 1)]
        providerSettings.queueDuration = .milliseconds(50)
        providerSettings.ringDuration = .milliseconds(50)
        providerSettings.talkDuration = .milliseconds(100)
        let provider = await RunningFakeProvider.start(settings: providerSettings, logger: logger)
        var dependencies = APIDependencies(database: api.database, brokerProbe: nil, logger: logger)
        // No PUBLIC_BASE_URL: the signature covers the host the provider connected to.
        dependencies.settings.publicBaseURL = nil
        dependencies.settings.callbackTokens = Self.tokens
        let app = Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        do {
            try await app.test(.live) { client in
                try await body("http://127.0.0.1:\(client.port ?? 0)", provider)
            }
        } catch {
            await provider.stop()
            throw error
        }
        await provider.stop()
    }

    func waitFor(_ description: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(description)")
    }

    @Test func aDialledCallsFlowRequestAndCallbackAreSignedStoredAndAnswered() async throws {
        let (account, _) = try await api.account()
        try await api.execute("UPDATE accounts SET twilio_account_sid = 'AC-e2e', twilio_auth_token = 'e2e-token' WHERE id = \(account.id)")
        let contactID = try await api.database.query(
            "INSERT INTO contacts (account_id, msisdn) VALUES (\(account.id), '+85512000001') RETURNING id", logger: logger
        ).single { try $0.decode(Int64.self) }
        let phoneCallID = try await api.database.query(
            """
            INSERT INTO phone_calls (account_id, contact_id, msisdn, status, remote_request_params)
            VALUES (\(account.id), \(contactID), '+85512000001', 'queued', '{"from": "1294"}') RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
        let database = api.database
        let logger = logger

        try await live { apiURL, provider in
            let client = ProviderClient(http: HTTPClient.shared, logger: logger)
            let providerAccount = ProviderAccount(
                platform: .twilio, baseURL: provider.url, accountSID: "AC-e2e", authToken: "e2e-token", maxCallsPerSecond: 10)
            let endpoint = CallbackEndpoint(base: apiURL, tokens: Self.tokens)
            let parameters = CallbackParameters.adding(to: ["from": "1294"], phoneCallID: phoneCallID, endpoint: endpoint)
            #expect(parameters["url"] == .string(endpoint.url(phoneCallID: phoneCallID)))
            #expect(parameters["status_callback"] == parameters["url"])
            guard case .success(let call) = await client.createCall(providerAccount, to: "+85512000001", parameters: parameters) else {
                Issue.record("create failed")
                return
            }
            try await waitFor("the call flow request and the status callback") {
                let ledger = provider.server.ledgerSummary()
                return ledger["call_flow_requests_delivered"] == 1 && ledger["status_callbacks_delivered"] == 1
            }
            let ledger = provider.server.ledgerSummary()
            #expect(ledger["call_flow_requests_failed"] == 0)
            #expect(ledger["status_callbacks_failed"] == 0)

            let rows = try await database.query(
                "SELECT remote_call_id, details->>'CallStatus' FROM remote_phone_call_events WHERE phone_call_id = \(phoneCallID) ORDER BY id",
                logger: logger)
            var events: [(String, String)] = []
            for try await (sid, status) in rows.decode((String, String).self) { events.append((sid, status)) }
            #expect(events.map(\.0) == [call.sid, call.sid])
            #expect(events.map(\.1) == ["in-progress", "completed"])
            let outbox = try await database.query(
                """
                SELECT count(*)::int FROM outbox_messages
                WHERE topic = 'phone-call-events' AND message_key = \(String(phoneCallID)) AND payload->>'source' = 'callback'
                """, logger: logger
            ).single { try $0.decode(Int.self) }
            #expect(outbox == 2)
        }
    }

    @Test func aSimulatedInboundCallCreatesItsContactAndPhoneCall() async throws {
        let (account, token) = try await api.account()
        try await api.execute("UPDATE accounts SET twilio_account_sid = 'AC-inbound', twilio_auth_token = 'inbound-token' WHERE id = \(account.id)")
        let api = api
        try await live { apiURL, provider in
            var request = HTTPClientRequest(url: "\(provider.url)/_fake/inbound_calls")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Basic " + Data("AC-inbound:inbound-token".utf8).base64EncodedString())
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(
                ByteBuffer(
                    string: FormEncoding.encode([
                        ("From", "+85512999888"), ("To", "+8551294"), ("Url", "\(apiURL)/api/remote_phone_call_events"),
                    ])))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .created)
            let body = try JSONParser.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
            #expect(body["direction"] == "inbound")
            #expect(body["call_flow_response"]?["status"] == 201)
            #expect(body["call_flow_response"]?["body"]?.stringValue?.contains("<Say>Thanks for trying our documentation. Enjoy!</Say>") == true)

            let calls = try await api.database.query(
                """
                SELECT p.status, p.remote_direction, c.msisdn FROM phone_calls p JOIN contacts c ON c.id = p.contact_id
                WHERE p.account_id = \(account.id)
                """, logger: api.logger)
            var found: [(String, String, String)] = []
            for try await row in calls.decode((String, String, String).self) { found.append(row) }
            #expect(found.count == 1)
            #expect(found.first?.0 == "in_progress")
            #expect(found.first?.1 == "inbound")
            #expect(found.first?.2 == "+85512999888")
            _ = token
        }
    }
}
