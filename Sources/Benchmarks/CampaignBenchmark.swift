import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// A whole campaign at scale: populate a callout from every contact with a metadata filter, create a phone
/// call per participation, queue every call until its job is on the topic, then read the campaign back
/// through the API (phone call index with `Total`, callout statistics). Each step is printed beside its
/// floor measured in the same run on the same database: the bare INSERT … SELECT (or UPDATE) of the same
/// rows into a copy of the table with the same indexes.
struct CampaignBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Batch operations over a million contacts and the reads of the campaign they make.")

    @Option(help: "Contacts in the benchmark account (seeded once, reused while the count matches).")
    var contacts = 1_000_000

    @Option(help: "Rows per batch chunk (BATCH_CHUNK_SIZE of the population worker).")
    var chunkSize = 50_000

    @Option(help: "Measured requests per read scenario.")
    var requests = 50

    @Option(help: "Base URL of a running API serving the same DATABASE_URL.")
    var apiURL = "http://127.0.0.1:3999"

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let options = self
        try await withDatabase(logger: logger, maximumConnections: 8) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let seed = try await BenchmarkSeed.ensure(client: client, contacts: options.contacts, logger: logger)
            let run = CampaignRun(client: client, accountID: seed.accountID, chunkSize: options.chunkSize, logger: logger)
            try await run.reset()
            say("campaign: \(options.contacts) contacts, chunks of \(options.chunkSize) rows")
            try await run.population()
            try await run.phoneCallCreate()
            try await run.phoneCallQueue()
            try await run.reads(apiURL: options.apiURL, token: seed.token, requests: options.requests)
            // The next benchmark (or run) finds the contacts alone, as it would on a fresh database.
            try await run.reset()
        }
    }
}

/// The steps of the campaign benchmark, on one callout of the benchmark account.
struct CampaignRun {
    let client: PostgresClient
    let accountID: Int64
    let chunkSize: Int
    let logger: Logger

    var operations: BatchOperationRepository { BatchOperationRepository(client: client, logger: logger) }

    /// Earlier runs' campaigns go; the contacts stay.
    func reset() async throws {
        try await client.query(
            "TRUNCATE remote_phone_call_events, phone_calls, callout_participations, batch_operations, outbox_messages, callouts",
            logger: logger)
        for table in ["bench_floor_participations", "bench_floor_phone_calls", "bench_floor_outbox"] {
            try await client.query("DROP TABLE IF EXISTS \(unescaped: table)", logger: logger)
        }
    }

    /// The campaign's running callout, made on first use.
    func calloutID() async throws -> Int64 {
        if let id = try await client.query(
            "SELECT id FROM callouts WHERE account_id = \(accountID) ORDER BY id LIMIT 1", logger: logger
        ).first({ try $0.decode(Int64.self) }) {
            return id
        }
        let callouts = CalloutRepository(client: client, logger: logger)
        let callout = try await callouts.create(accountID: accountID, CalloutChanges())
        return try await callouts.apply(.start, accountID: accountID, id: callout.id).id
    }

    /// Creates, queues and runs an operation as a population worker would: milliseconds of the run, rows done,
    /// and the operation's selection (for the floor).
    func runOperation(
        _ type: BatchOperationType, calloutID: Int64?, parameters: JSONValue
    ) async throws -> (elapsed: Double, rows: Int64, selection: BatchSelection) {
        var changes = BatchOperationChanges()
        changes.type = type.rawValue
        changes.parameters = parameters
        let operation = try await operations.create(accountID: accountID, calloutID: calloutID, changes)
        _ = try await operations.apply(.queue, accountID: accountID, id: operation.id)
        let runner = BatchOperationRunner(client: client, logger: logger, chunkSize: chunkSize)
        let elapsed = try await measure {
            try await runner.run(BatchOperationJob(batchOperationID: operation.id, accountID: accountID))
        }
        let done = try await operations.find(accountID: accountID, id: operation.id).progressDone
        let selection = try BatchSelection(type: type, calloutID: calloutID, parameters: parameters)
        return (elapsed, done, selection)
    }

    /// What autovacuum would have done by the time anyone reads the campaign.
    func vacuum() async throws {
        for table in ["callout_participations", "phone_calls", "callouts", "callout_statistic_deltas"] {
            try await client.query("VACUUM ANALYZE \(unescaped: table)", logger: logger)
        }
    }

    func report(_ name: String, rows: Int64, elapsed: Double, floor: Double) {
        say()
        say("  \(name): \(rows) rows in \(Int(elapsed)) ms (\(Int(Double(rows) / (elapsed / 1000))) rows/s)")
        say("    floor (bare statement, same rows, same indexes): \(Int(floor)) ms")
        say("    ratio to floor: \((elapsed / floor * 100).rounded() / 100)x   peak RSS of this process: \(peakResidentMegabytes()) MB")
    }

    func population() async throws {
        let callout = try await calloutID()
        let filter: JSONValue = ["metadata": ["country": "KH"]]
        let (elapsed, rows, selection) = try await runOperation(
            .calloutPopulation, calloutID: callout, parameters: ["contact_filter_params": filter])
        try await vacuum()
        try await client.query("CREATE TABLE bench_floor_participations (LIKE callout_participations INCLUDING ALL)", logger: logger)
        var insert = SQLBuilder(
            """
            INSERT INTO bench_floor_participations (account_id, callout_id, contact_id, callout_population_id, msisdn, call_flow_logic)
            SELECT c.account_id,
            """)
        insert.bind(callout)
        insert.append(", c.id, NULL, c.msisdn, NULL FROM contacts c WHERE c.account_id = ")
        insert.bind(accountID)
        selection.filter.appendConditions(to: &insert)
        let floor = try await measure { try await client.query(insert.query, logger: logger) }
        report("CalloutPopulation (metadata filter)", rows: rows, elapsed: elapsed, floor: floor)
    }

    func phoneCallCreate() async throws {
        let (elapsed, rows, selection) = try await runOperation(
            .phoneCallCreate, calloutID: nil,
            parameters: [
                "callout_filter_params": ["status": "running"],
                "callout_participation_filter_params": ["no_phone_calls_or_last_attempt": "failed,errored"],
                "remote_request_params": ["from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"],
            ])
        try await vacuum()
        // The floor selects the same participations with the same filter, against the table as it was before
        // the run: the real calls are set aside while it runs.
        try await client.query("CREATE TABLE bench_floor_phone_calls (LIKE phone_calls INCLUDING ALL)", logger: logger)
        try await client.query("ALTER TABLE phone_calls RENAME TO bench_made_phone_calls", logger: logger)
        try await client.query("CREATE TABLE phone_calls (LIKE bench_made_phone_calls INCLUDING ALL)", logger: logger)
        var insert = SQLBuilder(
            """
            INSERT INTO bench_floor_phone_calls (
                account_id, callout_participation_id, contact_id, callout_id, msisdn, remote_request_params, call_flow_logic)
            SELECT p.account_id, p.id, p.contact_id, p.callout_id, p.msisdn,
            """)
        insert.bind(selection.remoteRequestParams ?? .emptyObject)
        insert.append(", p.call_flow_logic FROM callout_participations p WHERE p.account_id = ")
        insert.bind(accountID)
        selection.filter.appendConditions(to: &insert)
        let floor = try await measure { try await client.query(insert.query, logger: logger) }
        try await client.query("DROP TABLE phone_calls", logger: logger)
        try await client.query("ALTER TABLE bench_made_phone_calls RENAME TO phone_calls", logger: logger)
        report("PhoneCallCreate", rows: rows, elapsed: elapsed, floor: floor)
    }

    /// Until every job is on the topic: the operation's chunks, then the relay publishing the outbox to the
    /// local broker.
    func phoneCallQueue() async throws {
        let broker = try LocalKafkaBroker(topics: Topic.allCases.map(\.rawValue), partitions: 32)
        let kafka = KafkaConfiguration.local(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        let relay = OutboxRelay(database: client, producer: producer, kafka: kafka, logger: logger)
        let services = ServiceGroup(services: [producer], logger: logger)
        let running = Task { try await services.run() }
        try await producer.send(KafkaOutgoingMessage(topic: Topic.phoneCallsQueue.rawValue, key: "warm-up", value: []))

        // The relay publishes while the operation writes, as in production.
        let relaying = Task { try await relay.run() }
        let clock = ContinuousClock()
        let start = clock.now
        let (operationElapsed, rows, selection) = try await runOperation(
            .phoneCallQueue, calloutID: nil,
            parameters: ["callout_filter_params": ["status": "running"], "phone_call_filter_params": ["status": "created"]])
        while try await client.query("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL", logger: logger)
            .single({ try $0.decode(Int64.self) }) > 0
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        let total = clock.now - start
        relaying.cancel()
        _ = try? await relaying.value
        await services.triggerGracefulShutdown()
        try await running.value
        withExtendedLifetime(broker) {}

        try await vacuum()
        try await client.query("VACUUM ANALYZE bench_floor_phone_calls", logger: logger)
        try await client.query("CREATE TABLE bench_floor_outbox (LIKE outbox_messages INCLUDING ALL)", logger: logger)
        var move = SQLBuilder(
            """
            WITH moved AS (
                UPDATE bench_floor_phone_calls pc SET status = 'queued', updated_at = now() WHERE pc.account_id =
            """)
        move.bind(accountID)
        selection.filter.appendConditions(to: &move)
        move.append(
            """
             RETURNING pc.id, pc.account_id)
            INSERT INTO bench_floor_outbox (topic, message_key, payload)
            SELECT 'phone-calls.queue', id::text, jsonb_build_object('version', 1, 'phone_call_id', id, 'account_id', account_id)
            FROM moved
            """)
        let floor = try await measure { try await client.query(move.query, logger: logger) }
        report("PhoneCallQueue, SQL (status moved + outbox jobs written)", rows: rows, elapsed: operationElapsed, floor: floor)
        let totalMilliseconds = total.seconds * 1000
        say(
            "    until every job is on the topic (relay to the local broker): \(Int(totalMilliseconds)) ms "
                + "(\(Int(Double(rows) / (totalMilliseconds / 1000))) jobs/s)")
    }

    /// The reads a campaign dashboard makes, through the API and as the repository's SQL alone.
    func reads(apiURL: String, token: String, requests: Int) async throws {
        let callout = try await calloutID()
        let phoneCalls = PhoneCallRepository(client: client, logger: logger)
        // A realistic mix of outcomes for the statistics to count.
        try await client.query(
            """
            UPDATE phone_calls SET status = (ARRAY['completed','completed','completed','busy','not_answered','failed'])[1 + id % 6]
            WHERE callout_id = \(callout) AND id % 3 = 0
            """, logger: logger)
        try await vacuum()

        let scenarios: [(name: String, path: String, sql: () async throws -> Void)] = [
            (
                "phone calls index, Total over every call", "/api/phone_calls",
                {
                    _ = try await phoneCalls.index(accountID: accountID, filter: RecordFilter(), page: PageRequest())
                }
            ),
            (
                "phone calls of the callout with status=completed", "/api/callouts/\(callout)/phone_calls?q%5Bstatus%5D=completed",
                {
                    _ = try await phoneCalls.index(
                        accountID: accountID,
                        filter: RecordFilter([.anyOf("pc.status", ["completed"]), .equalsInteger("pc.callout_id", callout)]),
                        page: PageRequest())
                }
            ),
            (
                "callout statistics", "/api/callouts/\(callout)/callout_statistics",
                {
                    _ = try await CalloutStatistics.compute(
                        client, logger: logger, accountID: accountID, calloutID: callout, retryStatuses: ["failed"])
                }
            ),
        ]
        for scenario in scenarios {
            let api = try await ContactsIndexBenchmark.measureAPI(
                http: HTTPClient.shared, url: apiURL + scenario.path, token: token, requests: requests)
            var samples: [Double] = []
            for index in 0..<(requests + 5) {
                let elapsed = try await measure { try await scenario.sql() }
                if index >= 5 { samples.append(elapsed) }
            }
            let sql = LatencyStatistics(samples)
            say()
            say("  \(scenario.name)\(api.total.isEmpty ? "" : "  (Total: \(api.total))")")
            say("    API     \(api.latency.summary())")
            say("    raw SQL \(sql.summary())")
        }
    }
}

/// The process's peak resident set, in megabytes: flat memory means it does not grow with the campaign.
func peakResidentMegabytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss / 1024)
}
