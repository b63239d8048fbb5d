import ArgumentParser
import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport

/// Dispatch: queued → remotely_queued through queue workers, the fake provider (no latency) and the status
/// worker, on the local broker; beside it, in the same run, the floors it stands on (the provider's creates
/// alone, and the claim statements alone); then the rate limiter's accuracy at several rates.
struct DispatchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Calls dialled per second with no rate limit, and rate-limit accuracy at 10, 100 and 1,000 calls/s.")

    @Option(help: "Calls for the throughput run.")
    var calls = 20_000

    @Option(help: "Queue workers (each its own consumer in one group).")
    var workers = 2

    @Option(help: "Rates (calls/s) for the accuracy runs, comma-separated.")
    var rates = "10,50,100,1000"

    @Option(help: "Seconds of dialling per accuracy run.")
    var accuracySeconds = 10

    func run() async throws {
        let logger = {
            var logger = Logger(label: "scfm.bench")
            logger.logLevel = .warning
            return logger
        }()
        let rateList = rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        do {
            try await measure(rateList: rateList, logger: logger)
        } catch {
            say("dispatch benchmark failed: \(String(reflecting: error))")
            throw error
        }
    }

    private func measure(rateList: [Double], logger: Logger) async throws {
        try await withDatabase(logger: logger, maximumConnections: 40) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let world = try await DispatchWorld.start(client: client, logger: logger)
            defer { Task { await world.stop() } }
            say(
                "dispatch: \(workers) queue workers, 1 status worker, fake provider without latency, local broker with \(DispatchWorld.partitions) partitions"
            )

            let providerFloor = try await world.providerFloor(calls: calls)
            let sqlFloor = try await world.claimFloor(calls: calls)
            let throughput = try await world.dispatch(calls: calls, rate: 1_000_000, workers: workers)
            say()
            say(
                "  queued → remotely_queued, \(calls) calls, no rate limit: \(Int(throughput.callsPerSecond)) calls/s (\(String(format: "%.1f", throughput.seconds)) s)"
            )
            say("  floor, provider creates alone (64 at a time): \(Int(Double(calls) / providerFloor)) calls/s")
            say("  floor, claim statements alone (64 at a time): \(Int(Double(calls) / sqlFloor)) calls/s")
            say("  ratio dispatch / slower floor (time): \(String(format: "%.2f", throughput.seconds / max(providerFloor, sqlFloor)))x")
            say()
            say("  rate-limit accuracy (3 queue workers, \(accuracySeconds) s of calls each):")
            for rate in rateList {
                let count = Int(rate * Double(accuracySeconds))
                let run = try await world.dispatch(calls: count, rate: rate, workers: 3)
                let times = world.server.createTimes()
                let steady = times.filter { $0 >= 1 }
                let steadyRate = steady.count > 1 ? Double(steady.count - 1) / (steady.last! - steady.first!) : 0
                say(
                    "    limit \(Int(rate))/s: busiest sliding second \(CreateRate.busiestSlidingSecond(times)), "
                        + "busiest clock second \(CreateRate.busiestClockSecond(times)), "
                        + "steady average \(String(format: "%.1f", steadyRate))/s (\(String(format: "%.1f", steadyRate / rate * 100)) % of the limit), "
                        + "\(count) calls in \(String(format: "%.1f", run.seconds)) s")
            }
        }
    }
}

/// The broker, the fake provider and the database the dispatch benchmark runs on.
final class DispatchWorld: Sendable {
    static let partitions: Int32 = 16

    let client: PostgresClient
    let logger: Logger
    let broker: LocalKafkaBroker
    let kafka: KafkaConfiguration
    let fakeProvider: RunningFakeProvider
    let http = ProviderClient.makeHTTPClient(maximumConnections: 128)

    var server: FakeProviderServer { fakeProvider.server }
    var seed: DispatchSeed { DispatchSeed(client: client, logger: logger) }
    var providerURL: String { fakeProvider.url }

    static func start(client: PostgresClient, logger: Logger) async throws -> DispatchWorld {
        let prefix = "bench\(UInt32.random(in: 0...UInt32.max))."
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map { prefix + $0.rawValue }, partitions: partitions)
        var settings = FakeProviderSettings()
        settings.latency = .zero
        // Each run's consumers are a new group on topics that keep the earlier runs' messages: from the
        // earliest offset (the production default for a new group) a run first worked through every job of the
        // runs before it, which made the second run of a process half as fast as the first whatever it ran.
        // The groups settle before anything is published (`waitForSettledGroups`), so `latest` loses nothing.
        var kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers, topicPrefix: prefix)
        kafka.consumerProperties["auto.offset.reset"] = "latest"
        return DispatchWorld(
            client: client, logger: logger, broker: broker, kafka: kafka,
            fakeProvider: await RunningFakeProvider.start(settings: settings, logger: logger))
    }

    private init(client: PostgresClient, logger: Logger, broker: LocalKafkaBroker, kafka: KafkaConfiguration, fakeProvider: RunningFakeProvider) {
        self.client = client
        self.logger = logger
        self.broker = broker
        self.kafka = kafka
        self.fakeProvider = fakeProvider
    }

    func stop() async {
        await fakeProvider.stop()
        try? await http.shutdown()
    }

    var provider: ProviderClient { ProviderClient(http: http, logger: logger) }

    /// Seconds for `calls` creates straight at the fake provider, 64 in flight.
    func providerFloor(calls: Int) async throws -> Double {
        let account = ProviderAccount(platform: .twilio, baseURL: providerURL, accountSID: "ACfloor", authToken: "t", maxCallsPerSecond: 1)
        let provider = self.provider
        let seconds = try await inLanes(Array(0..<calls), concurrency: 64) { index in
            guard case .success = await provider.createCall(account, to: "+855\(100_000_000 + index)", parameters: ["from": "1", "url": "https://x"])
            else {
                throw BenchmarkFailure("the fake provider refused a create")
            }
        }.seconds
        server.resetLedger()
        return seconds
    }

    /// Seconds for the claim statement of `calls` queued calls, one statement per call as the workers run it,
    /// 64 in flight.
    func claimFloor(calls: Int) async throws -> Double {
        let account = try await seed.createAccount(rate: 1)
        let ids = try await seed.queuedCalls(accountID: account, count: calls)
        let claims = DialClaims(client: client, logger: logger)
        return try await inLanes(ids, concurrency: 64) { id in
            _ = try await claims.claim(phoneCallID: id, accountID: account, concurrencyCap: nil)
        }.seconds
    }

    /// Queues `calls` calls of a new account limited to `rate`, runs `workers` queue workers and a status
    /// worker, and times from the first job published to the last call remotely_queued.
    func dispatch(calls: Int, rate: Double, workers: Int) async throws -> (seconds: Double, callsPerSecond: Double) {
        server.resetLedger()
        let account = try await seed.createAccount(rate: rate)
        let ids = try await seed.queuedCalls(accountID: account, count: calls)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let suffix = UUID().uuidString
        let queueWorkers = try (0..<workers).map { _ in try queueWorker(group: "queue-\(suffix)", producer: producer) }
        let statusWorker = try runtime(
            role: "status", group: "status-\(suffix)", topic: .phoneCallEvents,
            handler: StatusEventHandler(updates: PhoneCallStatusUpdates(client: client, logger: logger)), concurrency: 512)
        let group = ServiceGroup(services: [producer] + queueWorkers + [statusWorker], logger: logger)
        let running = Task { try await group.run() }
        try await waitForSettledGroups([queueWorkers, [statusWorker]])

        let start = ContinuousClock.now
        try await DispatchSeed.publishJobs(ids, accountID: account, producer: producer, kafka: kafka)
        while true {
            let dialled = try await client.query(
                "SELECT count(*) FROM phone_calls WHERE account_id = \(account) AND status = 'remotely_queued'", logger: logger
            ).single { try $0.decode(Int.self) }
            if dialled == calls { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = (ContinuousClock.now - start).seconds
        let createSpan = server.createTimes().last ?? 0
        say(
            "    (\(calls) calls: creates at the provider spanned \(String(format: "%.1f", createSpan)) s, all remotely_queued after \(String(format: "%.1f", seconds)) s)"
        )
        await group.triggerGracefulShutdown()
        try await running.value
        return (seconds, Double(calls) / seconds)
    }

    /// Waits until each group's members together hold every partition and have for a second and a half: the
    /// mock broker delays a group's first rebalance by about three seconds and sometimes runs a second one, and
    /// a clock started before that measures the rebalance, not the work.
    func waitForSettledGroups(_ groups: [[WorkerRuntime]]) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var settledSince: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            let complete = groups.allSatisfy { $0.reduce(0) { $0 + $1.assignedPartitionCount } == Int(Self.partitions) }
            if complete {
                let since = settledSince ?? .now
                settledSince = since
                if ContinuousClock.now - since >= .milliseconds(1500) { return }
            } else {
                settledSince = nil
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkFailure("the consumer groups did not settle within a minute")
    }

    func queueWorker(group: String, producer: KafkaProducer) throws -> WorkerRuntime {
        let handler = QueueHandler(
            claims: DialClaims(client: client, logger: logger),
            accounts: ProviderAccounts(client: client, defaults: ProviderDefaults(baseURL: providerURL), secrets: nil, logger: logger),
            limiter: DialRateLimiter(schedule: DialSchedule(client: client, logger: logger)),
            provider: provider, events: StatusEventPublisher(producer: producer, kafka: kafka),
            holds: CalloutHolds(client: client, logger: logger), logger: logger)
        return try runtime(role: "queue", group: group, topic: .phoneCallsQueue, handler: handler, concurrency: 256)
    }

    func runtime(role: String, group: String, topic: Topic, handler: any MessageHandler, concurrency: Int) throws -> WorkerRuntime {
        var settings = WorkerRuntime.Settings()
        settings.ordering = .key
        settings.concurrency = concurrency
        let consumer = try KafkaConsumer(configuration: kafka, groupID: group, topics: [kafka.topic(topic)], logger: logger)
        return WorkerRuntime(
            role: role, consumer: consumer, handler: handler, deadLetters: DeadLetterRepository(client: client, logger: logger),
            settings: settings, logger: logger)
    }
}
