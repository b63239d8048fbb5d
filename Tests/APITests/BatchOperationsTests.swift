import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct BatchOperationsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "batch_operations") }

    /// What a population worker does with the operation's job, run in-process.
    func runQueued(_ id: Int64, accountID: Int64, chunkSize: Int = 2) async throws {
        do {
            try await BatchOperationRunner(client: api.database, logger: api.logger, chunkSize: chunkSize)
                .run(BatchOperationJob(batchOperationID: id, accountID: accountID))
        } catch {
            Issue.record("batch operation \(id) failed: \(String(reflecting: error))")
            throw error
        }
    }

    func contacts(_ client: some TestClientProtocol, token: String) async throws -> (women: [Int64], men: [Int64]) {
        var women: [Int64] = []
        var men: [Int64] = []
        for index in 0..<5 {
            women.append(try await client.create("/api/contacts", token: token, form: "msisdn=25266234510\(index)&metadata[gender]=f"))
            men.append(try await client.create("/api/contacts", token: token, form: "msisdn=25266234520\(index)&metadata[gender]=m"))
        }
        return (women, men)
    }

    @Test func calloutPopulationPreviewsQueuesRunsAndShowsResults() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let people = try await contacts(client, token: token)
            let callout = try await client.create("/api/callouts", token: token)
            let created = try await client.request(
                .post, "/api/callouts/\(callout)/batch_operations", token: token,
                form: "type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata][gender]=f")
            #expect(created.status == .created)
            let body = try created.json
            #expect(body["status"] == "preview")
            #expect(body["type"] == "BatchOperation::CalloutPopulation")
            #expect(body["callout_id"] == .integer(callout))
            #expect(body["parameters"] == ["contact_filter_params": ["metadata": ["gender": "f"]]])
            let id = body["id"]!.scalarText!

            let preview = try await client.request(.get, "/api/batch_operations/\(id)/preview/contacts", token: token)
            #expect(preview.headers[.totalHeader] == "5")
            #expect(try preview.recordIDs == people.women)
            #expect(
                try await client.ids("/api/batch_operations/\(id)/preview/contacts?q[msisdn]=252662345100", token: token)
                    == [people.women[0]])
            #expect(try await client.request(.get, "/api/batch_operations/\(id)/preview/phone_calls", token: token).status == .notFound)

            let queued = try await client.request(.post, "/api/batch_operations/\(id)/batch_operation_events", token: token, form: "event=queue")
            #expect(queued.status == .created)
            #expect(try queued.json["status"] == "queued")
            let job = try await api.database.query(
                "SELECT payload FROM outbox_messages WHERE topic = 'batch-operations' AND message_key = \(id)", logger: api.logger
            ).single { try $0.decode(JSONValue.self) }
            #expect(try BatchOperationJob(payload: job) == BatchOperationJob(batchOperationID: Int64(id)!, accountID: account.id))
            let parametersLocked = try await client.request(
                .patch, "/api/batch_operations/\(id)", token: token, form: "parameters[contact_filter_params][metadata][gender]=m")
            #expect(parametersLocked.status == .unprocessableContent)
            #expect(try await client.request(.delete, "/api/batch_operations/\(id)", token: token).status == .unprocessableContent)

            try await runQueued(Int64(id)!, accountID: account.id)
            let finished = try await client.request(.get, "/api/batch_operations/\(id)", token: token).json
            #expect(finished["status"] == "finished")
            #expect(finished["progress"] == ["done": 5, "total": 5])
            #expect(try await client.ids("/api/callouts/\(callout)/contacts", token: token) == people.women)
            #expect(try await client.ids("/api/batch_operations/\(id)/contacts", token: token) == people.women)
            let participations = try await client.request(.get, "/api/batch_operations/\(id)/callout_participations", token: token)
            #expect(try participations.json.arrayValue?.allSatisfy { $0["callout_population_id"] == .integer(Int64(id)!) } == true)

            // Requeue after a participant was removed adds her again, and nobody twice.
            let first = try participations.recordIDs[0]
            #expect(try await client.request(.delete, "/api/callout_participations/\(first)", token: token).status == .noContent)
            #expect(
                try await client.request(
                    .post, "/api/batch_operations/\(id)/batch_operation_events", token: token,
                    form: "event=queue"
                ).status == .unprocessableContent)
            let requeued = try await client.request(.post, "/api/batch_operations/\(id)/batch_operation_events", token: token, form: "event=requeue")
            #expect(try requeued.json["status"] == "queued")
            try await runQueued(Int64(id)!, accountID: account.id)
            #expect(try await client.ids("/api/callouts/\(callout)/contacts", token: token) == people.women)
            let refused = try await client.request(.delete, "/api/batch_operations/\(id)", token: token)
            #expect(try refused.json == ["errors": ["base": ["Cannot delete record because dependent callout participations exist"]]])
        }
    }

    @Test func createValidatesTypeCalloutParametersAndPreviewPresence() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let noType = try await client.request(.post, "/api/batch_operations", token: token)
            #expect(try noType.json == ["errors": ["type": ["is not included in the list"]]])
            let noCallout = try await client.request(.post, "/api/batch_operations", token: token, form: "type=BatchOperation::CalloutPopulation")
            #expect(try noCallout.json == ["errors": ["callout": ["must exist"]]])
            let emptyPreview = try await client.request(
                .post, "/api/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallQueue&parameters[phone_call_filter_params][status]=created")
            #expect(emptyPreview.status == .unprocessableContent)
            #expect(try emptyPreview.json == ["errors": ["preview": ["can't be blank"]]])
            let skipped = try await client.request(
                .post, "/api/batch_operations", token: token,
                form:
                    "type=BatchOperation::PhoneCallQueueRemoteFetch&parameters[phone_call_filter_params][status]=remotely_queued,in_progress&parameters[limit]=30&parameters[skip_validate_preview_presence]=true"
            )
            #expect(skipped.status == .created)
            let noParams = try await client.request(
                .post, "/api/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallCreate&parameters[skip_validate_preview_presence]=true")
            #expect(try noParams.json == ["errors": ["remote_request_params": ["can't be blank"]]])
            let badFilter = try await client.request(
                .post, "/api/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallQueue&parameters[phone_call_filter_params][status]=ringing")
            #expect(badFilter.status == .badRequest)
            #expect(
                try await client.request(
                    .post, "/api/callouts/999999/batch_operations", token: token,
                    form: "type=BatchOperation::CalloutPopulation"
                ).status == .notFound)
        }
    }

    @Test func phoneCallCreateThenQueueThenRemoteFetchAsTheSeedsDoIt() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(
                client, token: token, msisdns: ["252662345300", "252662345301", "252662345302", "252662345303"])
            _ = try await client.request(.post, "/api/callouts/\(campaign.calloutID)/callout_events", token: token, form: "event=start")
            let idle = try await client.create("/api/callouts", token: token)
            let idleContact = try await client.create("/api/contacts", token: token, form: "msisdn=252662345399")
            _ = try await client.create("/api/callouts/\(idle)/callout_participations", token: token, form: "contact_id=\(idleContact)")

            let create = try await client.create(
                "/api/batch_operations", token: token,
                form:
                    "type=BatchOperation::PhoneCallCreate&parameters[callout_filter_params][status]=running&parameters[callout_participation_filter_params][no_phone_calls_or_last_attempt]=failed,errored&parameters[remote_request_params][from]=1234&parameters[remote_request_params][url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml&parameters[remote_request_params][method]=GET&parameters[limit]=3&parameters[skip_validate_preview_presence]=true"
            )
            #expect(
                try await client.ids("/api/batch_operations/\(create)/preview/callout_participations", token: token)
                    == campaign.participationIDs)
            #expect(try await client.ids("/api/batch_operations/\(create)/preview/contacts", token: token) == campaign.contactIDs)
            _ = try await client.request(.post, "/api/batch_operations/\(create)/batch_operation_events", token: token, form: "event=queue")
            try await runQueued(create, accountID: account.id)
            let created = try await client.request(.get, "/api/batch_operations/\(create)/phone_calls", token: token)
            #expect(created.headers[.totalHeader] == "3", "limit 3")
            #expect(
                try created.json.arrayValue?.allSatisfy {
                    $0["create_batch_operation_id"] == .integer(create) && $0["remote_request_params"]?["from"] == "1234"
                } == true)
            #expect(try await client.request(.get, "/api/batch_operations/\(create)", token: token).json["progress"] == ["done": 3, "total": 3])

            let queue = try await client.create(
                "/api/batch_operations", token: token,
                form:
                    "type=BatchOperation::PhoneCallQueue&parameters[callout_filter_params][status]=running&parameters[phone_call_filter_params][status]=created&parameters[limit]=30"
            )
            #expect(
                try await client.ids("/api/batch_operations/\(queue)/preview/phone_calls", token: token)
                    == (try created.recordIDs))
            _ = try await client.request(.post, "/api/batch_operations/\(queue)/batch_operation_events", token: token, form: "event=queue")
            try await runQueued(queue, accountID: account.id)
            let queued = try await client.request(.get, "/api/batch_operations/\(queue)/phone_calls", token: token)
            #expect(try queued.json.arrayValue?.allSatisfy { $0["status"] == "queued" && $0["queue_batch_operation_id"] == .integer(queue) } == true)
            let jobs = try await api.database.query(
                "SELECT count(*) FROM outbox_messages WHERE topic = 'phone-calls.queue'", logger: api.logger
            ).single { try $0.decode(Int64.self) }
            #expect(jobs == 3)

            try await api.execute("UPDATE phone_calls SET status = 'remotely_queued' WHERE queue_batch_operation_id = \(queue)")
            let fetch = try await client.create(
                "/api/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallQueueRemoteFetch&parameters[phone_call_filter_params][status]=remotely_queued,in_progress")
            _ = try await client.request(.post, "/api/batch_operations/\(fetch)/batch_operation_events", token: token, form: "event=queue")
            try await runQueued(fetch, accountID: account.id)
            let fetched = try await client.request(.get, "/api/batch_operations/\(fetch)/phone_calls", token: token)
            #expect(try fetched.recordIDs.count == 3)
            #expect(try fetched.json.arrayValue?.allSatisfy { $0["status"] == "remote_fetch_queued" } == true)
        }
    }

    @Test func indexFiltersAndNestedRoute() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            _ = try await contacts(client, token: token)
            let callout = try await client.create("/api/callouts", token: token)
            let population = try await client.create(
                "/api/callouts/\(callout)/batch_operations", token: token,
                form: "type=BatchOperation::CalloutPopulation&parameters[contact_filter_params][metadata][gender]=f&metadata[foo]=bar")
            let queue = try await client.create(
                "/api/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallQueue&parameters[skip_validate_preview_presence]=true")
            _ = try await client.request(.post, "/api/batch_operations/\(queue)/batch_operation_events", token: token, form: "event=queue")
            let base = "/api/batch_operations"
            #expect(try await client.ids(base, token: token) == [population, queue])
            #expect(try await client.ids("/api/callouts/\(callout)/batch_operations", token: token) == [population])
            #expect(try await client.ids("\(base)?q[parameters][contact_filter_params][metadata][gender]=f", token: token) == [population])
            #expect(try await client.ids("\(base)?q[metadata][foo]=bar", token: token) == [population])
            #expect(try await client.ids("\(base)?q[status]=preview", token: token) == [population])
            #expect(try await client.ids("\(base)?q[status]=queued", token: token) == [queue])
            #expect(try await client.ids("\(base)?q[created_at_before]=2017-11-29+01:36:02", token: token) == [])
            #expect(try await client.ids("\(base)?q[updated_at_or_after]=2017-11-29", token: token) == [population, queue])

            _ = try await client.request(.patch, "\(base)/\(population)", token: token, form: "metadata_merge_mode=replace&metadata[gender]=f")
            #expect(try await client.request(.get, "\(base)/\(population)", token: token).json["metadata"] == ["gender": "f"])
            let reparameterized = try await client.request(
                .patch, "\(base)/\(population)", token: token, form: "parameters[contact_filter_params][metadata][gender]=m")
            #expect(reparameterized.status == .noContent, "parameters change while in preview")
            #expect(try await client.request(.delete, "\(base)/\(population)", token: token).status == .noContent)
        }
    }

    @Test func legacyCalloutPopulationPaths() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let people = try await contacts(client, token: token)
            let callout = try await client.create("/api/callouts", token: token)
            let created = try await client.request(
                .post, "/api/callouts/\(callout)/callout_populations", token: token,
                form: "metadata[foo]=bar&metadata[bar]=baz&contact_filter_params[metadata][gender]=f")
            #expect(created.status == .created)
            let body = try created.json
            #expect(body.objectValue?.keys == ["id", "callout_id", "contact_filter_params", "metadata", "status", "created_at", "updated_at"])
            #expect(body["contact_filter_params"] == ["metadata": ["gender": "f"]])
            let id = body["id"]!.scalarText!

            #expect(try await client.ids("/api/callouts/\(callout)/callout_populations", token: token) == [Int64(id)!])
            #expect(try await client.ids("/api/callout_populations?metadata[foo]=bar", token: token) == [Int64(id)!])
            #expect(try await client.ids("/api/callout_populations?metadata[foo]=baz", token: token) == [])
            #expect(try await client.ids("/api/callout_populations?contact_filter_params[metadata][gender]=f", token: token) == [Int64(id)!])
            #expect(try await client.ids("/api/callout_populations/\(id)/preview/contacts", token: token) == people.women)

            let update = try await client.request(
                .put, "/api/callout_populations/\(id)", token: token, form: "metadata[foo]=baz&contact_filter_params[metadata][gender]=m")
            #expect(update.status == .noContent)
            #expect(try await client.ids("/api/callout_populations/\(id)/preview/contacts", token: token) == people.men)

            let queued = try await client.request(
                .post, "/api/callout_populations/\(id)/callout_population_events", token: token, form: "event=queue")
            #expect(try queued.json["status"] == "queued")
            try await runQueued(Int64(id)!, accountID: account.id)
            #expect(try await client.ids("/api/callout_populations/\(id)/contacts", token: token) == people.men)

            let other = try await client.create(
                "/api/batch_operations", token: token, form: "type=BatchOperation::PhoneCallQueue&parameters[skip_validate_preview_presence]=true")
            #expect(try await client.request(.get, "/api/callout_populations/\(other)", token: token).status == .notFound)
            let spare = try await client.create("/api/callouts/\(callout)/callout_populations", token: token)
            let deleted = try await client.request(.delete, "/api/callout_populations/\(spare)", token: token)
            #expect(deleted.status == .noContent, "\(deleted.text)")
        }
    }

    @Test func aRunKilledMidwayOrRunTwiceTouchesEveryRowOnce() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(
                client, token: token, msisdns: (0..<9).map { "25266234540\($0)" })
            let create = try await client.create(
                "/api/callouts/\(campaign.calloutID)/batch_operations", token: token,
                form: "type=BatchOperation::PhoneCallCreate&parameters[remote_request_params][url]=http%3A%2F%2Fexample.com")
            _ = try await client.request(.post, "/api/batch_operations/\(create)/batch_operation_events", token: token, form: "event=queue")
            let job = BatchOperationJob(batchOperationID: create, accountID: account.id)

            // A worker that dies after its first chunk…
            let dying = BatchOperationRunner(client: api.database, logger: api.logger, chunkSize: 2)
            let started = try #require(try await dying.start(job))
            let selection = try BatchSelection(type: started.type, calloutID: started.calloutID, parameters: started.parameters)
            try await dying.recordTotal(started, selection: selection)
            #expect(try await dying.runChunk(started, selection: selection))
            #expect(try await client.request(.get, "/api/batch_operations/\(create)", token: token).json["progress"] == ["done": 2, "total": 9])

            // …then the redelivered job on two workers at once.
            async let one: Void = runQueued(create, accountID: account.id, chunkSize: 2)
            async let two: Void = runQueued(create, accountID: account.id, chunkSize: 3)
            _ = try await (one, two)
            try await runQueued(create, accountID: account.id)

            let perParticipation = try await api.database.query(
                "SELECT callout_participation_id, count(*) FROM phone_calls WHERE create_batch_operation_id = \(create) GROUP BY 1",
                logger: api.logger)
            var counts: [Int64: Int64] = [:]
            for try await row in perParticipation {
                let (participation, count) = try row.decode((Int64, Int64).self)
                counts[participation] = count
            }
            #expect(counts.count == 9)
            #expect(counts.values.allSatisfy { $0 == 1 })
            let operation = try await client.request(.get, "/api/batch_operations/\(create)", token: token).json
            #expect(operation["status"] == "finished")
            #expect(operation["progress"] == ["done": 9, "total": 9])
        }
    }
}
