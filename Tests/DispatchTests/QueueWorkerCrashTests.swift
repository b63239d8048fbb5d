import FakeProvider
import Foundation
import Logging
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// A queue worker process killed with SIGKILL in the middle of a campaign: another worker takes its
/// partitions over, resolves the calls it had claimed by looking them up at the provider, and every call is
/// dialled exactly once.
@Suite(.timeLimit(.minutes(10))) struct QueueWorkerCrashTests {
    /// The `Workers` executable `make test` builds before the tests.
    static var workersBinary: String {
        ProcessInfo.processInfo.environment["WORKERS_BINARY"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/Workers"
    }

    @Test func aKilledWorkerLosesAndDuplicatesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.workersBinary), "build the Workers executable first (make test does)")
        var settings = FakeProviderSettings()
        // Slow answers, so that the killed worker has dials in flight.
        settings.latency = .milliseconds(300)
        let harness = try await DispatchHarness.start(suite: "queueworkercrash", provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 40)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 400)
        try await harness.publishQueueJobs(calls, accountID: account)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.workersBinary)
        process.arguments = ["run", "--role", "queue"]
        process.environment = [
            "DATABASE_URL": harness.databaseURL, "KAFKA_BROKERS": harness.broker.bootstrapServers,
            "KAFKA_TOPIC_PREFIX": harness.kafka.topicPrefix, "TWILIO_REST_API_BASE_URL": harness.providerURL,
            "WORKER_HTTP_PORT": "0", "DIAL_CLAIM_TIMEOUT_SECONDS": "3", "PROVIDER_REQUEST_TIMEOUT_SECONDS": "1.5",
            "LOG_LEVEL": "error", "SECRETS_KEY": DispatchHarness.secretsKeyText,
            "KAFKA_CONSUMER_PROPERTIES": harness.kafka.consumerProperties.map { "\($0.key)=\($0.value)" }.joined(separator: ";"),
        ]
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let status = try harness.statusWorker(group: harness.kafka.consumerGroup(role: "status"))
        let group = ServiceGroup(services: [producer, status], logger: harness.logger)
        let running = Task { try await group.run() }

        // Let it dial for a while, then kill it without warning.
        let dialling = try await harness.wait(timeout: .seconds(60)) {
            (try await harness.ledger()["creates"]?.intValue ?? 0) >= 80 || !process.isRunning
        }
        try #require(process.isRunning, "the queue worker exited by itself (status \(process.terminationStatus)) before it was killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(dialling)
        let claimedWhenKilled = try await harness.database.query(
            "SELECT count(*) FROM phone_calls WHERE account_id = \(account) AND status = 'queued' AND dial_claimed_at IS NOT NULL",
            logger: harness.logger
        ).single { try $0.decode(Int.self) }

        // A second worker in the same consumer group finishes the campaign.
        let replacement = try harness.queueWorker(group: harness.kafka.consumerGroup(role: "queue"), claimTimeout: .seconds(3), producer: producer)
        let replacementGroup = ServiceGroup(services: [replacement], logger: harness.logger)
        let replacementRunning = Task { try await replacementGroup.run() }
        let finished = try await harness.wait(timeout: .seconds(120)) {
            try await harness.statusCounts(accountID: account)["remotely_queued"] == calls.count
        }
        await replacementGroup.triggerGracefulShutdown()
        try await replacementRunning.value
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(finished)
        #expect(claimedWhenKilled > 0, "the kill left claimed calls whose outcome had to be resolved")
        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == calls.count)
        #expect(ledger["repeated_to_count"]?.intValue == 0)
        let distinctSids = try await harness.database.query(
            "SELECT count(DISTINCT remote_call_id) FROM phone_calls WHERE account_id = \(account)", logger: harness.logger
        ).single { try $0.decode(Int.self) }
        #expect(distinctSids == calls.count)
    }
}
