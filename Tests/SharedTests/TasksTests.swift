import Foundation
import Logging
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

/// SCFM's rake tasks as `API task …`: the set-based work behind each command, on a real PostgreSQL.
/// Serialized: the tasks pick "the only account" and "the only callout", so the tests take turns on their database.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TasksTests {
    let logger = Logger(label: "scfm.tests.tasks")

    func world(_ suite: String, contacts count: Int = 30) async throws -> (PostgresClient, Int64) {
        let database = try await TestDatabases.shared.client(suite: suite)
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let contacts = ContactRepository(client: database, logger: logger)
        for index in 0..<count {
            _ = try await contacts.create(accountID: account.id, msisdn: "+85512\(300_000 + index)", metadata: nil)
        }
        return (database, account.id)
    }

    func count(_ database: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        try await database.query(query, logger: logger).single { try $0.decode(Int.self) }
    }

    @Test func theOnlyAccountAndCalloutAreTakenAndSeveralAreRefused() async throws {
        let (database, account) = try await world("tasks_scope", contacts: 0)
        let scope = TaskScope(client: database, logger: logger)
        #expect(try await scope.account(nil) == account)
        await #expect(throws: TaskScope.Ambiguous.self) { try await scope.callout(nil, accountID: account) }
        let first = try await CalloutTasks(client: database, logger: logger).create(accountID: account, metadata: ["foo": "bar"])
        #expect(first.metadata == ["foo": "bar"])
        #expect(try await scope.callout(nil, accountID: account) == first.id)
        _ = try await CalloutTasks(client: database, logger: logger).create(accountID: account, metadata: nil)
        await #expect(throws: TaskScope.Ambiguous.self) { try await scope.callout(nil, accountID: account) }
        #expect(try await scope.callout(first.id, accountID: account) == first.id)
        _ = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        await #expect(throws: TaskScope.Ambiguous.self) { try await scope.account(nil) }
        await #expect(throws: TaskScope.Ambiguous.self) { try await scope.account(999_999) }
    }

    @Test func populateRunAndStatisticsAsTheRakeTasksDid() async throws {
        let (database, account) = try await world("tasks_callouts")
        let tasks = CalloutTasks(client: database, logger: logger)
        let callout = try await tasks.create(accountID: account, metadata: nil)
        let reports = ProgressLog()
        let operation = try await tasks.populate(
            accountID: account, calloutID: callout.id, metadata: ["campaign": "flood"], chunkSize: 10, progress: { reports.add($0, $1) })
        #expect(operation.status == "finished")
        #expect(
            try await count(
                database,
                "SELECT count(*)::int FROM callout_participations WHERE callout_id = \(callout.id) AND metadata @> '{\"campaign\": \"flood\"}'") == 30
        )
        #expect(reports.values.last?.0 == 30)
        #expect(reports.values.last?.1 == 30)
        #expect(reports.values.count >= 3)
        // Again: nobody twice.
        _ = try await tasks.populate(accountID: account, calloutID: callout.id, metadata: nil)
        #expect(try await count(database, "SELECT count(*)::int FROM callout_participations WHERE callout_id = \(callout.id)") == 30)

        #expect(try await tasks.run(.start, accountID: account, calloutID: callout.id).status == "running")
        await #expect(throws: ValidationErrors.self) { try await tasks.run(.start, accountID: account, calloutID: callout.id) }
        let statistics = try await tasks.statistics(accountID: account, calloutID: callout.id, retryStatuses: ["failed"])
        #expect(statistics.json["callout_status"] == "running")
        #expect(statistics.json["callout_participations"] == 30)
    }

    @Test func enqueueCallsHonoursItsLimitsAndOnlyRunningCallouts() async throws {
        let (database, account) = try await world("tasks_enqueue")
        let tasks = CalloutTasks(client: database, logger: logger)
        let callout = try await tasks.create(accountID: account, metadata: nil)
        _ = try await tasks.populate(accountID: account, calloutID: callout.id, metadata: nil)
        var settings = EnqueueCallsTask.Settings()
        settings.maxCalls = 10
        settings.remoteRequestParams = ["from": "1234", "url": "http://demo.twilio.com/docs/voice.xml", "method": "GET"]
        settings.chunkSize = 4

        // Not running yet: nothing to enqueue.
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 0)
        _ = try await tasks.run(.start, accountID: account, calloutID: callout.id)
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 10)
        #expect(
            try await count(
                database,
                "SELECT count(*)::int FROM phone_calls WHERE callout_id = \(callout.id) AND status = 'queued' AND remote_request_params @> '{\"from\": \"1234\"}'"
            ) == 10)
        #expect(
            try await count(
                database,
                "SELECT count(*)::int FROM outbox_messages WHERE topic = 'phone-calls.queue' AND (payload->>'account_id')::bigint = \(account)") == 10
        )

        // Pessimistic: 10 are awaiting completion, so a maximum of 15 leaves 5.
        settings.maxCalls = 15
        settings.strategy = .pessimistic
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).allowance(accountID: account) == 5)
        // …and never fewer than the minimum.
        settings.maxCalls = 3
        settings.pessimisticMinimum = 2
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).allowance(accountID: account) == 2)
        // Per period: 10 queued in the last day, 12 allowed, so 2 more.
        settings.strategy = .optimistic
        settings.maxCalls = nil
        settings.maxCallsPerPeriod = 12
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 2)

        // No limit: the rest, and no participation twice while its call is under way.
        settings.maxCallsPerPeriod = nil
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 18)
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 0)
        // A failed call is retried (CALLOUT_PARTICIPATION_RETRY_STATUSES = failed); a busy one is not.
        try await database.query(
            "UPDATE phone_calls SET status = CASE WHEN id % 2 = 0 THEN 'failed' ELSE 'busy' END WHERE callout_id = \(callout.id)", logger: logger)
        let failed = try await count(database, "SELECT count(*)::int FROM phone_calls WHERE callout_id = \(callout.id) AND status = 'failed'")
        #expect(try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == failed)
    }

    @Test func updateCallsQueuesFetchesForCallsUnderWay() async throws {
        let (database, account) = try await world("tasks_update", contacts: 8)
        let tasks = CalloutTasks(client: database, logger: logger)
        let callout = try await tasks.create(accountID: account, metadata: nil)
        _ = try await tasks.populate(accountID: account, calloutID: callout.id, metadata: nil)
        _ = try await tasks.run(.start, accountID: account, calloutID: callout.id)
        _ = try await EnqueueCallsTask(client: database, logger: logger, settings: .init()).run(accountID: account)
        // Six under way (two of them created just now), two already final.
        try await database.query(
            """
            UPDATE phone_calls SET status = CASE WHEN id % 4 = 0 THEN 'completed' WHEN id % 4 = 1 THEN 'in_progress' ELSE 'remotely_queued' END,
                created_at = CASE WHEN id % 4 = 2 THEN now() ELSE now() - interval '5 minutes' END
            WHERE callout_id = \(callout.id)
            """, logger: logger)
        let eligible = try await count(
            database,
            "SELECT count(*)::int FROM phone_calls WHERE callout_id = \(callout.id) AND status IN ('remotely_queued', 'in_progress') AND created_at < now() - interval '1 minute'"
        )
        var settings = UpdateCallsTask.Settings()
        settings.maxCalls = 1
        #expect(try await UpdateCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == 1)
        settings.maxCalls = nil
        #expect(try await UpdateCallsTask(client: database, logger: logger, settings: settings).run(accountID: account) == eligible - 1)
        #expect(
            try await count(database, "SELECT count(*)::int FROM phone_calls WHERE callout_id = \(callout.id) AND status = 'remote_fetch_queued'")
                == eligible)
        #expect(
            try await count(
                database,
                "SELECT count(*)::int FROM outbox_messages WHERE topic = 'phone-calls.remote-fetch' AND (payload->>'account_id')::bigint = \(account)"
            ) == eligible)
    }

    @Test func exportResultsWritesALinePerParticipationWithItsLatestCall() async throws {
        let (database, account) = try await world("tasks_export", contacts: 5)
        let tasks = CalloutTasks(client: database, logger: logger)
        let callout = try await tasks.create(accountID: account, metadata: nil)
        _ = try await tasks.populate(accountID: account, calloutID: callout.id, metadata: ["note": #"say "hi", then go"#])
        _ = try await tasks.run(.start, accountID: account, calloutID: callout.id)
        var settings = EnqueueCallsTask.Settings()
        settings.maxCalls = 3
        _ = try await EnqueueCallsTask(client: database, logger: logger, settings: settings).run(accountID: account)
        let output = Mutex("")
        let exported = try await ResultsExport(client: database, logger: logger, chunkSize: 2).run(
            accountID: account, calloutID: callout.id, write: { text in output.withLock { $0 += text } })
        #expect(exported == 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).csv").path
        try output.withLock { $0 }.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try CSVReader(path: path)
        #expect(try reader.next()?.fields == ResultsExport.header)
        var records: [[String]] = []
        while let record = try reader.next() { records.append(record.fields) }
        #expect(records.count == 5)
        #expect(records.allSatisfy { $0.count == ResultsExport.header.count })
        #expect(records[0][3] == #"{"note": "say \"hi\", then go"}"#)
        #expect(records.filter { $0[6] == "queued" }.count == 3)
        #expect(records.filter { $0[4] == "0" && $0[5].isEmpty }.count == 2)
    }

    @Test func theSeedsVariablesConfigureTheTasks() throws {
        let settings = try EnqueueCallsTask.Settings(
            environment: EnvironmentVariables([
                "ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE": "30", "ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY": "pessimistic",
                "ENQUEUE_CALLS_TASK_PESSIMISTIC_MIN_CALLS_TO_ENQUEUE": "1", "ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD": "",
                "ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD_HOURS": "24",
                "ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS": #"{"from":"1234","url":"http://demo.twilio.com/docs/voice.xml","method":"GET"}"#,
            ]))
        #expect(settings.maxCalls == 30)
        #expect(settings.strategy == .pessimistic)
        #expect(settings.maxCallsPerPeriod == nil)
        #expect(settings.remoteRequestParams["method"] == "GET")
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try EnqueueCallsTask.Settings(environment: EnvironmentVariables(["ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS": "from=1234"]))
        }
        #expect(try UpdateCallsTask.Settings(environment: EnvironmentVariables(["UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH": "1000"])).maxCalls == 1000)
    }
}

/// Progress reports heard by a task.
final class ProgressLog: Sendable {
    private let reports = Mutex<[(Int64, Int64)]>([])
    func add(_ done: Int64, _ total: Int64) { reports.withLock { $0.append((done, total)) } }
    var values: [(Int64, Int64)] { reports.withLock { $0 } }
}
