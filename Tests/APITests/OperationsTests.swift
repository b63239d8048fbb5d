import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import API

@Suite(.timeLimit(.minutes(2))) struct OperationsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "operations") }

    @Test func healthIsOkWhenDatabaseAndBrokerAnswer() async throws {
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map(\.rawValue), partitions: 2)
        let probe = try KafkaBrokerProbe(
            configuration: KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers), logger: Logger(label: "test"))
        #expect(await probe.check(timeoutMilliseconds: 5000))
        try await api.test(brokerProbe: probe) { client in
            let response = try await client.request(.get, "/health", token: nil)
            #expect(response.status == .ok)
            #expect(try response.json == ["status": "ok", "database": "ok", "broker": "ok"])
        }
        withExtendedLifetime(broker) {}
    }

    /// The API serves callbacks and call flows with the broker down (jobs wait in the outbox): its readiness
    /// stays 200 so that a broker outage does not take every API pod out of the load balancer; a worker's is 503.
    @Test func theAPIStaysReadyWhenTheBrokerIsDownAndAWorkerDoesNot() async throws {
        // Port 1 on loopback: nothing listens there.
        let probe = try KafkaBrokerProbe(
            configuration: KafkaConfiguration(brokers: "127.0.0.1:1"), logger: Logger(label: "test"))
        #expect(await probe.check(timeoutMilliseconds: 300) == false)
        try await api.test(brokerProbe: probe) { client in
            let response = try await client.request(.get, "/health", token: nil)
            #expect(response.status == .ok)
            #expect(try response.json == ["status": "degraded", "database": "ok", "broker": "unavailable"])
            let callback = try await client.request(.get, "/api/contacts", token: "unknown")
            #expect(callback.status == .unauthorized, "the API still answers")
        }
        let (workerHealthy, body) = await OperationsServer.health(
            database: api.database, brokerProbe: probe, needs: .databaseAndBroker, logger: Logger(label: "test"))
        #expect(!workerHealthy)
        #expect(body == ["status": "unavailable", "database": "ok", "broker": "unavailable"])
    }

    /// The database down (nothing listens on its port): `/health` says so with 503, promptly, rather than
    /// hanging the load balancer's probe.
    @Test func healthIsUnavailableWhenTheDatabaseIsDown() async throws {
        var configuration = PostgresClient.Configuration(
            host: "127.0.0.1", port: 1, username: "postgres", password: nil, database: "none", tls: .disable)
        configuration.options.connectTimeout = .milliseconds(500)
        let database = PostgresClient(configuration: configuration)
        let running = Task { await database.run() }
        defer { running.cancel() }
        let (healthy, body) = try await within(.seconds(30), "the health check's answer with the database down") {
            await OperationsServer.health(database: database, brokerProbe: nil, logger: Logger(label: "test"))
        }
        #expect(!healthy)
        #expect(body == ["status": "unavailable", "database": "unavailable", "broker": "not configured"])
    }

    /// The provider's FallbackUrl: the configured message as TwiML, without a token and without the database
    /// (what a call hears while the database fails over); a hang-up when no message is configured.
    @Test func theCallFlowFallbackIsServedWithoutTheDatabase() async throws {
        var configuration = PostgresClient.Configuration(
            host: "127.0.0.1", port: 1, username: "postgres", password: nil, database: "none", tls: .disable)
        configuration.options.connectTimeout = .milliseconds(500)
        let unreachable = PostgresClient(configuration: configuration)
        let running = Task { await unreachable.run() }
        defer { running.cancel() }
        var dependencies = APIDependencies(database: unreachable, brokerProbe: nil, logger: api.logger)
        dependencies.settings.fallback = CallFlowFallback(message: "Flood warning & evacuation <now>.", url: nil)
        let app = Application(router: buildRouter(dependencies), logger: api.logger)
        try await app.test(.router) { client in
            for method in [HTTPRequest.Method.get, .post] {
                let response = try await client.execute(uri: "/call_flows/fallback", method: method)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/xml")
                #expect(
                    String(buffer: response.body)
                        == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Flood warning &amp; evacuation &lt;now&gt;.</Say><Pause length="1" /><Say>Flood warning &amp; evacuation &lt;now&gt;.</Say></Response>"#
                )
            }
        }
        try await api.test { client in
            let response = try await client.request(.post, "/call_flows/fallback", token: nil)
            #expect(response.text == #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>"#)
        }
    }

    @Test func localBrokerServesTheSystemTopics() async throws {
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map { "test." + $0.rawValue }, partitions: 3)
        let client = try KafkaClientHandle(kind: .producer, properties: ["bootstrap.servers": broker.bootstrapServers])
        let topics = try client.fetchTopicNames(timeoutMilliseconds: 5000)
        for topic in Topic.allCases { #expect(topics.contains("test." + topic.rawValue)) }
        withExtendedLifetime(broker) {}
    }

    @Test func responsesCarryARequestId() async throws {
        try await api.test { client in
            let response = try await client.request(.get, "/health", token: nil)
            #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
        }
    }
}
