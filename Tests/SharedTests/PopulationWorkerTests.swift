import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// Two `population` workers in one consumer group, over the mock cluster and a real PostgreSQL: every
/// operation finishes once, a job sent twice changes nothing, a poison job is dead-lettered.
@Suite(.timeLimit(.minutes(2))) struct PopulationWorkerTests {
    let logger = Logger(label: "scfm.tests.population")

    @Test func twoWorkersShareTheTopicAndRunEveryOperationOnce() async throws {
        let database = try await TestDatabases.shared.client(suite: "populationworker")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let contacts = ContactRepository(client: database, logger: logger)
        for index in 0..<50 {
            _ = try await contacts.create(accountID: account.id, msisdn: "+25566234\(5000 + index)", metadata: ["n": .integer(Int64(index))])
        }
        let callouts = CalloutRepository(client: database, logger: logger)
        let operations = BatchOperationRepository(client: database, logger: logger)
        var jobs: [BatchOperationJob] = []
        for _ in 0..<6 {
            let callout = try await callouts.create(accountID: account.id, CalloutChanges())
            var changes = BatchOperationChanges()
            changes.type = BatchOperationType.calloutPopulation.rawValue
            let operation = try await operations.create(accountID: account.id, calloutID: callout.id, changes)
            _ = try await operations.apply(.queue, accountID: account.id, id: operation.id)
            jobs.append(BatchOperationJob(batchOperationID: operation.id, accountID: account.id))
        }

        let topic = "batch-operations-\(UUID().uuidString.prefix(8))"
        let broker = try LocalKafkaBroker(topics: [topic], partitions: 4)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        // Every job twice (a redelivery), and one that is no job at all.
        var messages = (jobs + jobs).map {
            KafkaOutgoingMessage(topic: topic, key: $0.outboxEntry.key, value: Array(JSONSerializer.string($0.outboxEntry.payload).utf8))
        }
        messages.append(KafkaOutgoingMessage(topic: topic, key: "x", value: Array("not json".utf8)))
        for result in await producer.send(batch: messages) { _ = try result.get() }

        func worker() throws -> WorkerRuntime {
            let consumer = try KafkaConsumer(configuration: kafka, groupID: kafka.consumerGroup(role: "population"), topics: [topic], logger: logger)
            return WorkerRuntime(
                role: "population", consumer: consumer,
                handler: PopulationHandler(runner: BatchOperationRunner(client: database, logger: logger, chunkSize: 7)),
                deadLetters: DeadLetterRepository(client: database, logger: logger), settings: .init(), logger: logger)
        }
        let group = ServiceGroup(services: [try worker(), try worker()], logger: logger)
        let running = Task { try await group.run() }

        let deadline = ContinuousClock.now + .seconds(60)
        var finished = 0
        while ContinuousClock.now < deadline {
            finished = try await database.query(
                "SELECT count(*) FROM batch_operations WHERE account_id = \(account.id) AND status = 'finished'", logger: logger
            ).single { try $0.decode(Int.self) }
            if finished == jobs.count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(finished == jobs.count)

        let participations = try await database.query(
            """
            SELECT count(*), count(DISTINCT (callout_id, contact_id)) FROM callout_participations
            WHERE account_id = \(account.id)
            """, logger: logger
        ).single { try $0.decode((Int, Int).self) }
        #expect(participations.0 == 6 * 50)
        #expect(participations.1 == 6 * 50)
        let letters = try await DeadLetterRepository(client: database, logger: logger).all(topic: topic)
        #expect(letters.count == 1)
        withExtendedLifetime(broker) {}
    }

    /// A worker stopped in the middle of a PhoneCallCreate, either cut off (its task cancelled mid-chunk) or
    /// asked to stop (SIGTERM: it stops after the chunk in hand, within a second, not after the whole
    /// operation), the job not committed: the next member of the group gets the job again and finishes it, one
    /// call per participation.
    @Test(arguments: [false, true])
    func anOperationStoppedMidwayIsFinishedByTheNextWorkerWithEveryRowOnce(gracefully: Bool) async throws {
        let database = try await TestDatabases.shared.client(suite: gracefully ? "populationworkerstop" : "populationworkerkill")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let callout = try await CalloutRepository(client: database, logger: logger).create(accountID: account.id, CalloutChanges())
        let participations = 3000
        try await database.query(
            """
            WITH made AS (
                INSERT INTO contacts (account_id, msisdn)
                SELECT \(account.id), '+2556620' || lpad(i::text, 5, '0') FROM generate_series(1, \(participations)) i
                RETURNING id, msisdn
            )
            INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn)
            SELECT \(account.id), \(callout.id), id, msisdn FROM made
            """, logger: logger)
        let operations = BatchOperationRepository(client: database, logger: logger)
        var changes = BatchOperationChanges()
        changes.type = BatchOperationType.phoneCallCreate.rawValue
        changes.parameters = ["remote_request_params": ["url": "http://example.com"]]
        let operation = try await operations.create(accountID: account.id, calloutID: callout.id, changes)
        _ = try await operations.apply(.queue, accountID: account.id, id: operation.id)

        let topic = "batch-operations-\(UUID().uuidString.prefix(8))"
        let broker = try LocalKafkaBroker(topics: [topic], partitions: 2)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let job = BatchOperationJob(batchOperationID: operation.id, accountID: account.id).outboxEntry
        _ = try await producer.send(
            KafkaOutgoingMessage(topic: topic, key: job.key, value: Array(JSONSerializer.string(job.payload).utf8)))

        func worker() throws -> WorkerRuntime {
            let consumer = try KafkaConsumer(configuration: kafka, groupID: kafka.consumerGroup(role: "population"), topics: [topic], logger: logger)
            return WorkerRuntime(
                role: "population", consumer: consumer,
                handler: PopulationHandler(runner: BatchOperationRunner(client: database, logger: logger, chunkSize: 5)),
                deadLetters: DeadLetterRepository(client: database, logger: logger), settings: .init(), logger: logger)
        }
        func progress() async throws -> (String, Int64) {
            try await database.query(
                "SELECT status, progress_done FROM batch_operations WHERE id = \(operation.id)", logger: logger
            ).single { try $0.decode((String, Int64).self) }
        }

        let first = ServiceGroup(services: [try worker()], logger: logger)
        let firstRun = Task { try await first.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, try await progress().1 < 200 {
            try await Task.sleep(for: .milliseconds(20))
        }
        if gracefully {
            await first.triggerGracefulShutdown()
            try await within(.seconds(5), "the worker stopping between chunks") { try await firstRun.value }
        } else {
            firstRun.cancel()
            _ = try? await firstRun.value
        }
        let cutOff = try await progress()
        #expect(cutOff.0 == "running", "stopped midway: \(cutOff)")
        #expect(cutOff.1 < Int64(participations) / 2, "stopped at once, not after the whole operation: \(cutOff)")

        let second = ServiceGroup(services: [try worker()], logger: logger)
        let secondRun = Task { try await second.run() }
        while ContinuousClock.now < deadline + .seconds(60), try await progress().0 != "finished" {
            try await Task.sleep(for: .milliseconds(100))
        }
        await second.triggerGracefulShutdown()
        try await secondRun.value

        let finished = try await progress()
        #expect(finished.0 == "finished")
        #expect(finished.1 == Int64(participations))
        let calls = try await database.query(
            """
            SELECT count(*), count(DISTINCT callout_participation_id) FROM phone_calls
            WHERE create_batch_operation_id = \(operation.id)
            """, logger: logger
        ).single { try $0.decode((Int, Int).self) }
        #expect(calls.0 == participations)
        #expect(calls.1 == participations)
        withExtendedLifetime(broker) {}
    }
}
