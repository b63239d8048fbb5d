import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import TestSupport
import Testing

@testable import API

/// `/api/webhook_endpoints` and `/api/webhook_deliveries` through the API: the outbound policy on create and
/// update, and another account's endpoints and deliveries out of reach.
@Suite(.timeLimit(.minutes(2))) struct WebhookEndpointsTests {
    let api: TestAPI

    init() async throws {
        api = try await TestAPI.make(suite: "webhookendpoints")
    }

    /// Each URL the hardening issue created with a 201 is now a 422 in the seeds' error format, on create
    /// and on update; a public URL is accepted.
    @Test func endpointsNamingInternalAddressesAreRefused() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            for url in [
                "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[fd00::1]/", "http://100.64.0.1/",
                "http://127.0.0.1:9090/metrics", "http://localhost:3000/api/contacts", "http://2130706433/",
            ] {
                let response = try await client.request(
                    .post, "/api/webhook_endpoints", token: token,
                    form: "url=\(url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
                #expect(response.status == .unprocessableContent, "\(url)")
                let message = try response.json["errors"]?["url"]?.arrayValue?.first?.stringValue ?? ""
                #expect(message.hasPrefix("must not point at a private"), "\(url): \(message)")
            }
            let userInfo = try await client.request(
                .post, "/api/webhook_endpoints", token: token, form: "url=http%3A%2F%2Fa%3Ab%40example.org%2F")
            #expect(try userInfo.json == ["errors": ["url": ["must not contain a user name or password"]]])

            let created = try await client.request(
                .post, "/api/webhook_endpoints", token: token, form: "url=http%3A%2F%2F93.184.216.34%2Fhooks")
            #expect(created.status == .created)
            let id = try created.json["id"]?.integerValue ?? 0
            let moved = try await client.request(
                .patch, "/api/webhook_endpoints/\(id)", token: token, form: "url=http%3A%2F%2F169.254.169.254%2F")
            #expect(moved.status == .unprocessableContent)
            let kept = try await client.request(.get, "/api/webhook_endpoints/\(id)", token: token)
            #expect(try kept.json["url"] == "http://93.184.216.34/hooks")
        }
    }

    /// Another account's token on an endpoint and a delivery: 404 for read, update, delete and replay, and
    /// the records unchanged; its indexes do not list them.
    /// The secret is shown once, at creation; the row holds it sealed (SecretBox), never in plaintext, and
    /// no read renders it.
    @Test func theEndpointSecretIsShownOnceAndStoredSealed() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let created = try await client.request(
                .post, "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fsealed")
            #expect(created.status == .created)
            let secret = try #require(try created.json["secret"]?.stringValue)
            #expect(secret.hasPrefix("whsec_"))
            let id = try #require(try created.json["id"]?.integerValue)
            let stored = try await api.database.query("SELECT secret FROM webhook_endpoints WHERE id = \(id)", logger: api.logger)
                .single { try $0.decode(String.self) }
            #expect(stored.hasPrefix("scfm:v1:") && !stored.contains(secret))
            #expect(try TestAPI.secrets.open(SealedSecret(stored: stored), for: .webhookSecret) == secret)
            let shown = try await client.request(.get, "/api/webhook_endpoints/\(id)", token: token)
            #expect(try shown.json["secret"] == nil)
            #expect(!shown.text.contains(secret))
        }
    }

    @Test func anotherAccountsEndpointsAndDeliveriesAreOutOfReach() async throws {
        let (owner, token) = try await api.account()
        let (_, otherToken) = try await api.account()
        try await api.test { client in
            let created = try await client.request(
                .post, "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fa&event_types[]=callout.finished")
            #expect(created.status == .created)
            let endpoint = try created.json["id"]?.integerValue ?? 0
            try await api.execute(
                """
                INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload, status)
                VALUES (\(owner.id), \(endpoint), 'callout.finished', 'k-1', '{}', 'failed')
                """)
            let delivery = try await api.database.query(
                "SELECT id FROM webhook_deliveries WHERE webhook_endpoint_id = \(endpoint)", logger: api.logger
            ).single { try $0.decode(Int64.self) }

            for (method, path, form) in [
                (HTTPRequest.Method.get, "/api/webhook_endpoints/\(endpoint)", nil),
                (.patch, "/api/webhook_endpoints/\(endpoint)", "enabled=false"),
                (.delete, "/api/webhook_endpoints/\(endpoint)", nil),
                (.get, "/api/webhook_deliveries/\(delivery)", nil),
                (.post, "/api/webhook_deliveries/\(delivery)/replay", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                let response = try await client.request(method, path, token: otherToken, form: form)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let endpoints = try await client.request(.get, "/api/webhook_endpoints", token: otherToken)
            #expect(try endpoints.json.arrayValue?.isEmpty == true)
            let deliveries = try await client.request(.get, "/api/webhook_deliveries", token: otherToken)
            #expect(try deliveries.json.arrayValue?.isEmpty == true)

            let kept = try await client.request(.get, "/api/webhook_endpoints/\(endpoint)", token: token)
            #expect(try kept.json["enabled"] == true)
            let status = try await api.database.query(
                "SELECT status FROM webhook_deliveries WHERE id = \(delivery)", logger: api.logger
            ).single { try $0.decode(String.self) }
            #expect(status == "failed", "not replayed by the other account")
        }
    }

    /// The deliveries API as an integrator uses it: filtered by endpoint, status and event type, paginated
    /// with `Link`, and a failed delivery replayed through `POST /api/webhook_deliveries/:id/replay`.
    @Test func deliveriesAreListedFilteredPaginatedAndReplayed() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let first = try await client.create("/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Ffirst")
            let second = try await client.create(
                "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fsecond&event_types[]=callout.finished")
            for n in 0..<3 {
                try await api.execute(
                    """
                    INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload, status, attempts)
                    VALUES (\(account.id), \(first), 'phone_call.status_changed', \("call:\(n)"), '{}', \(n == 0 ? "failed" : "delivered"), 10)
                    """)
            }
            try await api.execute(
                """
                INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload, status)
                VALUES (\(account.id), \(second), 'callout.finished', 'callout:1', '{}', 'pending')
                """)
            let all = try await client.request(.get, "/api/webhook_deliveries", token: token)
            #expect(all.headers[.totalHeader] == "4")
            #expect(try await client.ids("/api/webhook_deliveries?q[webhook_endpoint_id]=\(second)", token: token).count == 1)
            #expect(try await client.ids("/api/webhook_deliveries?q[status]=delivered", token: token).count == 2)
            #expect(try await client.ids("/api/webhook_deliveries?q[event_type]=callout.finished", token: token).count == 1)
            let unknown = try await client.request(.get, "/api/webhook_deliveries?q[status]=lost", token: token)
            #expect(unknown.status == .badRequest)

            let page = try await client.request(.get, "/api/webhook_deliveries?per_page=1&page=2", token: token)
            #expect(try page.recordIDs.count == 1)
            let link = try #require(page.headers[.linkHeader])
            #expect(link.contains("rel=\"next\"") && link.contains("rel=\"prev\"") && link.contains("page=3"))

            let failed = try #require(try await client.ids("/api/webhook_deliveries?q[status]=failed", token: token).first)
            let replayed = try await client.request(.post, "/api/webhook_deliveries/\(failed)/replay", token: token)
            #expect(replayed.status == .ok)
            #expect(try replayed.json["status"] == "pending")
            #expect(try replayed.json["attempts"] == 0)
            #expect(try await client.request(.get, "/api/webhook_deliveries/\(failed)", token: token).json["status"] == "pending")

            let endpoints = try await client.request(.get, "/api/webhook_endpoints?q[enabled]=true&per_page=1", token: token)
            #expect(endpoints.headers[.totalHeader] == "2")
            #expect(endpoints.headers[.linkHeader]?.contains("rel=\"next\"") == true)
        }
    }

    /// Only endpoints subscribed to `phone_call.status_changed` get a delivery for a status event, once per
    /// status however often the event comes (the webhooks role's recorder, fed the broker's message).
    @Test func statusEventsReachOnlyEndpointsSubscribedToThem() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let subscribed = try await client.create(
                "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fs&event_types[]=phone_call.status_changed")
            let other = try await client.create(
                "/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fo&event_types[]=callout.finished")
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345777"])
            let call = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            let recorder = WebhookEventRecorder(client: api.database, logger: api.logger, subscriptionsMaximumAge: .zero)
            let event = PhoneCallStatusEvent(phoneCallID: call, accountID: account.id, status: .completed, source: .callback)
            let message = KafkaMessage(
                topic: "phone-call-events", partition: 0, offset: 0, key: Array(event.outgoingMessage.key.utf8), value: event.outgoingMessage.value)
            try await recorder.handle(message)
            try await recorder.handle(message)
            try await eventually("the delivery recorded", within: .seconds(10)) {
                try await client.ids("/api/webhook_deliveries?q[webhook_endpoint_id]=\(subscribed)", token: token).count == 1
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.ids("/api/webhook_deliveries?q[webhook_endpoint_id]=\(subscribed)", token: token).count == 1)
            #expect(try await client.ids("/api/webhook_deliveries?q[webhook_endpoint_id]=\(other)", token: token).isEmpty)
        }
    }
}
