import FakeProvider
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// PostgreSQL is the record, Kafka the carrier: after the broker forgot every message (a new, empty broker, as
/// after a restart of the local one), the job reconciler finds what was lost from the outbox and it is sent
/// again; every call is dialled exactly once, the batch operation finishes, the provider's callback status is
/// applied. Redelivery of jobs that had already been handled changes nothing.
@Suite(.timeLimit(.minutes(3))) struct JobReconcilerTests {
    @Test func everyJobTheBrokerForgotIsSentAgainAndHandledOnce() async throws {
        let harness = try await DispatchHarness.start(suite: "jobreconciler", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 20)
        var calls = try await harness.seedQueuedCalls(accountID: account, count: 62)
        // A call the provider reported on: the callback's status event waits in the outbox, as the API writes it.
        let answered = calls.removeLast()
        // A call dialled at the provider and queued for a fetch (a PhoneCallQueueRemoteFetch would leave it so).
        let fetched = calls.removeLast()
        let msisdn = try await harness.database.query("SELECT msisdn FROM phone_calls WHERE id = \(fetched)", logger: harness.logger)
            .single { try $0.decode(String.self) }
        let accountSID = try await harness.database.query(
            "SELECT twilio_account_sid FROM accounts WHERE id = \(account)", logger: harness.logger
        ).single { try $0.decode(String.self) }
        let providerAccount = ProviderAccount(
            platform: .twilio, baseURL: harness.providerURL, accountSID: accountSID, authToken: "secret", maxCallsPerSecond: 100)
        guard
            case .success(let remote) = await ProviderClient(http: DispatchHarness.providerHTTP, logger: harness.logger)
                .createCall(providerAccount, to: msisdn, parameters: ["from": "1234", "url": "https://x"])
        else { Issue.record("the fake provider did not create the call"); return }
        try await harness.database.query(
            "UPDATE phone_calls SET status = 'remote_fetch_queued', remote_call_id = \(remote.sid) WHERE id = \(fetched)",
            logger: harness.logger)
        try await harness.database.query(
            "UPDATE phone_calls SET status = 'in_progress', remote_call_id = 'CAreconciled' WHERE id = \(answered)",
            logger: harness.logger)
        let callback = PhoneCallStatusEvent(phoneCallID: answered, accountID: account, status: .completed, source: .callback)
        try await harness.database.transaction(logger: harness.logger) { connection in
            try await Outbox.enqueue(
                calls.map { PhoneCallJob(phoneCallID: $0, accountID: account).outboxEntry(topic: .phoneCallsQueue) }
                    + [OutboxEntry(topic: .phoneCallEvents, key: String(answered), payload: callback.payload)]
                    + [PhoneCallJob(phoneCallID: fetched, accountID: account).outboxEntry(topic: .phoneCallsRemoteFetch)],
                on: connection, logger: harness.logger)
        }
        // A batch operation queued through its repository (the job goes to the outbox in the same transaction).
        let callout = try await CalloutRepository(client: harness.database, logger: harness.logger).create(accountID: account, CalloutChanges())
        let operations = BatchOperationRepository(client: harness.database, logger: harness.logger)
        var changes = BatchOperationChanges()
        changes.type = BatchOperationType.calloutPopulation.rawValue
        let operation = try await operations.create(accountID: account, calloutID: callout.id, changes)
        _ = try await operations.apply(.queue, accountID: account, id: operation.id)

        // Before: the relay publishes everything to the first broker. Ten of the calls were dialled already (as
        // a queue worker would have before the broker went away): their jobs come back too and must change nothing.
        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let before = ServiceGroup(services: [producer, try harness.outboxRelay(producer: producer)], logger: harness.logger)
        let beforeRunning = Task { try await before.run() }
        let allPublished = try await harness.wait(timeout: .seconds(30)) { try await unpublished(harness) == 0 }
        await before.triggerGracefulShutdown()
        try await beforeRunning.value
        try #require(allPublished, "the first relay did not publish the outbox")
        let dialled = Array(calls.prefix(10))
        try await harness.database.query(
            """
            UPDATE phone_calls SET status = 'remotely_queued', remote_call_id = 'CAbefore' || id, dial_claimed_at = now()
            WHERE id = ANY(\(dialled))
            """, logger: harness.logger)

        // After: a new broker that holds nothing. Workers of every role and the reconciler run against it.
        let after = try harness.onNewBroker()
        let afterProducer = try KafkaProducer(configuration: after.kafka, logger: after.logger)
        let reconciler = try after.reconciler(redeliverAfter: .seconds(1))
        let started = ContinuousClock.now
        let group = ServiceGroup(
            services: [
                afterProducer, try after.outboxRelay(producer: afterProducer),
                try after.queueWorker(group: after.kafka.consumerGroup(role: "queue"), producer: afterProducer),
                try after.remoteFetchWorker(group: after.kafka.consumerGroup(role: "remote-fetch"), producer: afterProducer),
                try after.statusWorker(group: after.kafka.consumerGroup(role: "status")),
                try after.populationWorker(), reconciler,
            ], logger: after.logger)
        let running = Task { try await group.run() }
        let everyCallDialled = try await after.wait(timeout: .seconds(60)) {
            (try await after.ledger()["creates"]?.intValue ?? 0) >= calls.count - dialled.count + 1
        }
        let elapsed = ContinuousClock.now - started
        let operationFinished = try await after.wait(timeout: .seconds(30)) {
            try await after.database.query("SELECT status FROM batch_operations WHERE id = \(operation.id)", logger: after.logger)
                .single { try $0.decode(String.self) } == "finished"
        }
        let callbackApplied = try await after.wait(timeout: .seconds(30)) {
            try await after.database.query("SELECT status FROM phone_calls WHERE id = \(answered)", logger: after.logger)
                .single { try $0.decode(String.self) } == "completed"
        }
        let fetchAnswered = try await after.wait(timeout: .seconds(30)) {
            try await after.database.query("SELECT status FROM phone_calls WHERE id = \(fetched)", logger: after.logger)
                .single { try $0.decode(String.self) } != "remote_fetch_queued"
        }
        // Every job reached its effect, so the reconciler empties the outbox of what it saw through.
        let outboxDrained = try await after.wait(timeout: .seconds(30)) {
            try await after.database.query("SELECT count(*) FROM outbox_messages", logger: after.logger).single { try $0.decode(Int.self) } == 0
        }
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(everyCallDialled, "calls whose jobs the broker forgot were never dialled")
        #expect(elapsed < .seconds(20), "took \(elapsed) to dial every call after the broker forgot")
        #expect(operationFinished)
        #expect(callbackApplied)
        #expect(fetchAnswered, "the lost remote fetch was never made")
        #expect(outboxDrained)
        let ledger = try await after.ledger()
        // The calls dialled after the broker forgot, and the one the test created for the fetch.
        #expect(ledger["creates"]?.intValue == calls.count - dialled.count + 1)
        #expect(ledger["repeated_to_count"]?.intValue == 0)
        let redialled = try await after.database.query(
            "SELECT count(*) FROM phone_calls WHERE id = ANY(\(dialled)) AND remote_call_id NOT LIKE 'CAbefore%'", logger: after.logger
        ).single { try $0.decode(Int.self) }
        #expect(redialled == 0, "a call dialled before the broker forgot was dialled again")
        let participations = try await after.database.query(
            "SELECT count(*) FROM callout_participations WHERE callout_id = \(callout.id)", logger: after.logger
        ).single { try $0.decode(Int.self) }
        #expect(participations == calls.count + 2)
    }

    /// A topic whose consumers fall behind is held back in the outbox; the other topics keep flowing, and
    /// the held one resumes as its consumers catch up.
    @Test func theRelayHoldsBackATopicWhoseConsumersAreTooFarBehind() async throws {
        let harness = try await DispatchHarness.start(suite: "relaybackpressure", provider: FakeProviderSettings(), partitions: 2)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 1000)
        let calls = try await harness.seedQueuedCalls(accountID: account, count: 400)
        func enqueue(_ ids: ArraySlice<Int64>) async throws {
            try await harness.database.transaction(logger: harness.logger) { connection in
                try await Outbox.enqueue(
                    ids.map { PhoneCallJob(phoneCallID: $0, accountID: account).outboxEntry(topic: .phoneCallsQueue) },
                    on: connection, logger: harness.logger)
            }
        }
        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let relay = ServiceGroup(services: [producer, try harness.outboxRelay(producer: producer, maximumPartitionLag: 50)], logger: harness.logger)
        let relayRunning = Task { try await relay.run() }
        // No queue worker yet: the first 200 jobs go out (100 a partition, past the limit of 50)...
        try await enqueue(calls[0..<200])
        let firstPublished = try await harness.wait(timeout: .seconds(20)) { try await unpublished(harness) == 0 }
        // ...so once the relay has read the consumers' lag, the topic is held and the next jobs wait.
        try await Task.sleep(for: .seconds(1))
        try await enqueue(calls[200...])
        try await Task.sleep(for: .seconds(2))
        let heldBack = try await unpublished(harness)
        // Another topic still flows meanwhile.
        let event = PhoneCallStatusEvent(phoneCallID: calls[0], accountID: account, status: .completed, source: .callback)
        try await harness.database.transaction(logger: harness.logger) { connection in
            try await Outbox.enqueue(
                [OutboxEntry(topic: .phoneCallEvents, key: String(calls[0]), payload: event.payload)], on: connection, logger: harness.logger)
        }
        let eventPublished = try await harness.wait(timeout: .seconds(10)) {
            try await harness.database.query(
                "SELECT count(*) FROM outbox_messages WHERE topic = 'phone-call-events' AND published_at IS NULL", logger: harness.logger
            ).single { try $0.decode(Int.self) } == 0
        }
        // A consumer catches up: the rest is published.
        let worker = ServiceGroup(
            services: [try harness.queueWorker(group: harness.kafka.consumerGroup(role: "queue"), producer: producer)], logger: harness.logger)
        let workerRunning = Task { try await worker.run() }
        let drained = try await harness.wait(timeout: .seconds(60)) { try await unpublished(harness) == 0 }
        await worker.triggerGracefulShutdown()
        try await workerRunning.value
        await relay.triggerGracefulShutdown()
        try await relayRunning.value

        #expect(firstPublished)
        #expect(heldBack == 200, "\(heldBack) of the 200 later jobs left in the outbox while the topic was held")
        #expect(eventPublished, "a held topic stopped the others")
        #expect(drained)
    }

    private func unpublished(_ harness: DispatchHarness) async throws -> Int {
        try await harness.database.query("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: harness.logger)
            .single { try $0.decode(Int.self) }
    }
}
