import AsyncHTTPClient
import FakeProvider
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport

/// One dispatch scenario's world: the suite's PostgreSQL database, a mock Kafka cluster with the SCFM topics,
/// and the fake provider on a free port. Builds queue and status workers as `make run` would, pointed at them.
final class DispatchHarness: Sendable {
    let database: PostgresClient
    let databaseURL: String
    let broker: LocalKafkaBroker
    let kafka: KafkaConfiguration
    let providerURL: String
    let logger: Logger
    private let provider: RunningFakeProvider

    /// `connections`: the size of the pool every worker of the test shares, as several processes would share
    /// the database; each queue worker keeps one of them for LISTEN (CalloutHolds).
    static func start(
        suite: String, provider settings: FakeProviderSettings, partitions: Int32 = 8, connections: Int = 10
    ) async throws -> DispatchHarness {
        let logger = Logger(label: "scfm.tests.dispatch")
        let database = try await TestDatabases.shared.client(suite: suite, maximumConnections: connections)
        let databaseURL = try await TestDatabases.shared.url(suite: suite)
        let kafka = KafkaConfiguration(brokers: "", topicPrefix: "t\(UInt32.random(in: 0...UInt32.max)).")
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map(kafka.topic), partitions: partitions)
        let configured = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers, topicPrefix: kafka.topicPrefix)

        let provider = await RunningFakeProvider.start(settings: settings, logger: logger)
        return DispatchHarness(
            database: database, databaseURL: databaseURL, broker: broker, kafka: configured, logger: logger, provider: provider)
    }

    private init(
        database: PostgresClient, databaseURL: String, broker: LocalKafkaBroker, kafka: KafkaConfiguration, logger: Logger,
        provider: RunningFakeProvider
    ) {
        self.database = database
        self.databaseURL = databaseURL
        self.broker = broker
        self.kafka = kafka
        self.providerURL = provider.url
        self.logger = logger
        self.provider = provider
    }

    func stop() async {
        await provider.stop()
    }

    /// The same world on a new, empty broker: what every process sees after the broker restarted and forgot
    /// every message (same database, same fake provider, same topic names).
    func onNewBroker(partitions: Int32 = 8) throws -> DispatchHarness {
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map(kafka.topic), partitions: partitions)
        return DispatchHarness(
            database: database, databaseURL: databaseURL, broker: broker,
            kafka: KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers, topicPrefix: kafka.topicPrefix),
            logger: logger, provider: provider)
    }

    /// One provider HTTP client for the test process (it lives as long as the process).
    static let providerHTTP = ProviderClient.makeHTTPClient()

    var defaults: ProviderDefaults { ProviderDefaults(baseURL: providerURL, accountSID: "ACdefault") }

    /// The test process's `SECRETS_KEY`, sealing and opening accounts' auth tokens and webhook secrets.
    static let secretsKeyText = SecretsKey.generate()
    static let secretsKey = try! SecretsKey(base64: secretsKeyText)
    var secrets: SecretBox { SecretBox(secretsKey: Self.secretsKey) }

    var seed: DispatchSeed { DispatchSeed(client: database, logger: logger) }

    /// An account dialling through the fake provider at `rate` calls per second.
    func createAccount(rate: Double, maxConcurrentCalls: Int? = nil) async throws -> Int64 {
        try await seed.createAccount(rate: rate, maxConcurrentCalls: maxConcurrentCalls)
    }

    /// `count` contacts and a `queued` phone call for each; returns the call ids.
    func seedQueuedCalls(accountID: Int64, count: Int, calloutID: Int64? = nil) async throws -> [Int64] {
        try await seed.queuedCalls(accountID: accountID, count: count, calloutID: calloutID)
    }

    /// Publishes one job per call (what the outbox relay does in production).
    func publishQueueJobs(_ ids: [Int64], accountID: Int64, topic: Topic = .phoneCallsQueue) async throws {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        try await DispatchSeed.publishJobs(ids, accountID: accountID, topic: topic, producer: producer, kafka: kafka)
        await producer.flush()
    }

    /// The dialling pipeline most tests need: a producer, one queue worker and one status worker, each worker in
    /// a consumer group of its own.
    func dialling(defaults: ProviderDefaults? = nil) throws -> [any Service] {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        return [
            producer, try queueWorker(group: "scfm-queue-\(UUID().uuidString)", producer: producer, defaults: defaults),
            try statusWorker(group: "scfm-status-\(UUID().uuidString)"),
        ]
    }

    func queueWorker(
        group: String, claimTimeout: Duration = .seconds(30), concurrency: Int = 128, producer: KafkaProducer,
        defaults: ProviderDefaults? = nil
    ) throws -> WorkerRuntime {
        var settings = QueueHandler.Settings()
        settings.firstRetryDelay = .milliseconds(100)
        settings.maximumRetryDelay = .seconds(1)
        let handler = QueueHandler(
            claims: DialClaims(client: database, logger: logger, claimTimeout: claimTimeout),
            accounts: ProviderAccounts(client: database, defaults: defaults ?? self.defaults, secrets: secrets, logger: logger),
            limiter: DialRateLimiter(schedule: DialSchedule(client: database, logger: logger)),
            provider: ProviderClient(http: Self.providerHTTP, requestTimeout: .seconds(5), logger: logger),
            events: StatusEventPublisher(producer: producer, kafka: kafka), holds: CalloutHolds(client: database, logger: logger),
            settings: settings, logger: logger)
        return try runtime(role: "queue", group: group, topic: .phoneCallsQueue, handler: handler, concurrency: concurrency)
    }

    func statusWorker(group: String) throws -> WorkerRuntime {
        let handler = StatusEventHandler(updates: PhoneCallStatusUpdates(client: database, logger: logger))
        return try runtime(role: "status", group: group, topic: .phoneCallEvents, handler: handler, concurrency: 256)
    }

    func remoteFetchWorker(group: String, producer: KafkaProducer) throws -> WorkerRuntime {
        let handler = RemoteFetchHandler(
            client: database, accounts: ProviderAccounts(client: database, defaults: defaults, secrets: secrets, logger: logger),
            provider: ProviderClient(http: Self.providerHTTP, requestTimeout: .seconds(5), logger: logger),
            events: StatusEventPublisher(producer: producer, kafka: kafka), logger: logger)
        return try runtime(role: "remote-fetch", group: group, topic: .phoneCallsRemoteFetch, handler: handler, concurrency: 64)
    }

    /// The `scheduler` role's autopilot, ticking fast for tests.
    func scheduler(tick: Duration = .milliseconds(100), owner: UUID = UUID()) -> AutopilotScheduler {
        var settings = AutopilotScheduler.Settings()
        settings.tick = tick
        settings.progressInterval = .milliseconds(300)
        let leases = AutopilotLeases(client: database, logger: logger, owner: owner, ttl: .seconds(3))
        return AutopilotScheduler(
            leases: leases, steps: AutopilotSteps(client: database, logger: logger, owner: owner),
            accounts: ProviderAccounts(client: database, defaults: defaults, secrets: secrets, maximumAge: .milliseconds(200), logger: logger),
            trunks: TrunkShares(client: database, logger: logger, defaults: defaults), settings: settings, logger: logger)
    }

    /// The `scheduler` role's stuck-call sweeper; `fetchAfter` short, so that calls reach their final status by
    /// being fetched from the provider (these tests run no API to take the provider's status callbacks).
    func sweeper(fetchAfter: Duration = .milliseconds(300)) -> StuckCallSweeper {
        var settings = StuckCallSweeper.Settings()
        settings.interval = .milliseconds(200)
        settings.fetchAfter = fetchAfter
        return StuckCallSweeper(client: database, settings: settings, logger: logger)
    }

    func outboxRelay(producer: KafkaProducer, maximumPartitionLag: Int64? = nil) throws -> OutboxRelay {
        var settings = OutboxRelay.Settings()
        settings.idleInterval = .milliseconds(20)
        settings.maximumPartitionLag = maximumPartitionLag
        settings.lagInterval = .milliseconds(200)
        let offsets = maximumPartitionLag == nil ? nil : try KafkaOffsetsReader(configuration: kafka)
        return OutboxRelay(database: database, producer: producer, kafka: kafka, offsets: offsets, settings: settings, logger: logger)
    }

    /// The `scheduler` role's job reconciler, looking often and redelivering after `redeliverAfter`.
    func reconciler(redeliverAfter: Duration = .seconds(1)) throws -> JobReconciler {
        var settings = JobReconciler.Settings()
        settings.interval = .milliseconds(200)
        settings.redeliverAfter = redeliverAfter
        return JobReconciler(
            client: database, offsets: try KafkaOffsetsReader(configuration: kafka), kafka: kafka, settings: settings, logger: logger)
    }

    /// The `population` role (batch operations), in its production consumer group.
    func populationWorker() throws -> WorkerRuntime {
        let handler = PopulationHandler(runner: BatchOperationRunner(client: database, logger: logger, chunkSize: 7))
        var settings = WorkerRuntime.Settings()
        settings.firstRetryDelay = .milliseconds(50)
        let consumer = try KafkaConsumer(
            configuration: kafka, groupID: kafka.consumerGroup(role: "population"), topics: [kafka.topic(.batchOperations)],
            logger: logger)
        return WorkerRuntime(
            role: "population", consumer: consumer, handler: handler,
            deadLetters: DeadLetterRepository(client: database, logger: logger), settings: settings, logger: logger)
    }

    /// The `webhooks` role: the event recorder on `phone-call-events` and the dispatcher, retrying fast.
    func webhookServices(
        group: String, settings: WebhookDispatcher.Settings? = nil, policy: OutboundPolicy = OutboundPolicy(allowPrivateAddresses: true)
    ) throws -> [any Service] {
        var dispatching = settings ?? WebhookDispatcher.Settings()
        if settings == nil {
            dispatching.retryBase = .milliseconds(50)
            dispatching.poll = .milliseconds(50)
        }
        let recorder = WebhookEventRecorder(client: database, logger: logger, subscriptionsMaximumAge: .milliseconds(200))
        var outbound = OutboundHTTPClients.Settings()
        outbound.policy = policy
        let clients = OutboundHTTPClients(settings: outbound, logger: logger)
        return [
            clients,
            WebhookDispatcher(client: database, outbound: clients, settings: dispatching, secrets: secrets, logger: logger),
            try runtime(role: "webhooks", group: group, topic: .phoneCallEvents, handler: recorder, concurrency: 64),
        ]
    }

    /// What the fake provider's webhook sink `name` received (`secret` checks each signature).
    func receivedWebhooks(_ name: String, secret: String) async throws -> [JSONValue] {
        try await getJSON("/_fake/webhooks/\(name)?secret=\(secret)").arrayValue ?? []
    }

    var autopilotSeed: AutopilotSeed { AutopilotSeed(client: database, logger: logger) }

    private func runtime(role: String, group: String, topic: Topic, handler: any MessageHandler, concurrency: Int) throws -> WorkerRuntime {
        var settings = WorkerRuntime.Settings()
        settings.ordering = .key
        settings.concurrency = concurrency
        settings.firstRetryDelay = .milliseconds(50)
        let consumer = try KafkaConsumer(configuration: kafka, groupID: group, topics: [kafka.topic(topic)], logger: logger)
        return WorkerRuntime(
            role: role, consumer: consumer, handler: handler, deadLetters: DeadLetterRepository(client: database, logger: logger),
            settings: settings, logger: logger)
    }

    /// The fake provider's ledger summary.
    func ledger() async throws -> JSONValue {
        try await getJSON("/_fake/ledger")
    }

    /// Times of every create the fake provider accepted, in seconds from the first.
    func createTimes() async throws -> [Double] {
        let json = try await getJSON("/_fake/ledger/create_times")
        return (json["seconds_from_first"]?.arrayValue ?? []).compactMap {
            switch $0 {
            case .number(let value): value
            case .integer(let value): Double(value)
            default: nil
            }
        }
    }

    func getJSON(_ path: String) async throws -> JSONValue {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: providerURL + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        return try JSONParser.parse(Array(body.readableBytesView))
    }

    /// Phone calls of the account by status.
    func statusCounts(accountID: Int64) async throws -> [String: Int] {
        let rows = try await database.query(
            "SELECT status, count(*)::int8 FROM phone_calls WHERE account_id = \(accountID) GROUP BY status", logger: logger)
        var counts: [String: Int] = [:]
        for try await (status, count) in rows.decode((String, Int64).self) { counts[status] = Int(count) }
        return counts
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    func wait(timeout: Duration, until condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

extension JSONValue {
    var intValue: Int? {
        switch self {
        case .integer(let value): Int(value)
        case .number(let value): Int(value)
        default: nil
        }
    }
}
