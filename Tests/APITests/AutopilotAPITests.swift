import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

/// The API side of the autopilot: the do-not-call list, outcomes on participations, the progress figure and
/// the validation of autopilot settings.
@Suite(.timeLimit(.minutes(2))) struct AutopilotAPITests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "autopilotapi") }

    @Test func doNotCallEntriesAreAnAccountScopedResource() async throws {
        let (_, token) = try await api.account()
        let (_, otherToken) = try await api.account()
        try await api.test { client in
            let created = try await client.request(
                .post, "/api/do_not_call_entries", token: token, form: "msisdn=855+12+345+678&metadata[reason]=asked")
            #expect(created.status == .created, "\(created.text)")
            let body = try created.json
            #expect(body.objectValue?.keys == ["id", "msisdn", "metadata", "created_at", "updated_at"])
            #expect(body["msisdn"] == "+85512345678")
            #expect(body["metadata"] == ["reason": "asked"])
            let id = body["id"]!.scalarText!

            let again = try await client.request(.post, "/api/do_not_call_entries", token: token, form: "msisdn=%2B85512345678")
            #expect(again.status == .unprocessableContent)
            #expect(try again.json == ["errors": ["msisdn": ["has already been taken"]]])
            let invalid = try await client.request(.post, "/api/do_not_call_entries", token: token, form: "msisdn=abc")
            #expect(try invalid.json == ["errors": ["msisdn": ["is an invalid number"]]])

            let listed = try await client.request(.get, "/api/do_not_call_entries?q[msisdn]=%2B85512345678", token: token)
            #expect(listed.headers[HTTPField.Name("Total")!] == "1")
            #expect(try listed.json.arrayValue?.count == 1)
            #expect(try await client.request(.get, "/api/do_not_call_entries/\(id)", token: otherToken).status == .notFound)
            let patched = try await client.request(.patch, "/api/do_not_call_entries/\(id)", token: token, form: "metadata[by]=sms")
            #expect(patched.status == .noContent)
            #expect(
                try await client.request(.get, "/api/do_not_call_entries/\(id)", token: token).json["metadata"] == ["by": "sms", "reason": "asked"])
            #expect(try await client.request(.delete, "/api/do_not_call_entries/\(id)", token: token).status == .noContent)
            #expect(try await client.request(.get, "/api/do_not_call_entries/\(id)", token: token).status == .notFound)
        }
    }

    /// A callout population records do-not-call numbers as such, and the participations index filters by
    /// outcome (`pending` for none yet).
    @Test func populationRecordsDoNotCallAndOutcomesFilter() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            for number in ["85511000001", "85511000002", "85511000003"] {
                _ = try await client.create("/api/contacts", token: token, form: "msisdn=\(number)")
            }
            _ = try await client.create("/api/do_not_call_entries", token: token, form: "msisdn=85511000002")
            let callout = try await client.create("/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::HelloWorld")
            let population = try await client.create("/api/callouts/\(callout)/callout_populations", token: token)
            let queued = try await client.request(
                .post, "/api/batch_operations/\(population)/batch_operation_events", token: token, form: "event=queue")
            #expect(queued.status == .created, "\(queued.text)")
            // Run the population as the population worker does.
            let runner = BatchOperationRunner(client: api.database, logger: api.logger, chunkSize: 2)
            try await runner.run(BatchOperationJob(batchOperationID: population, accountID: account.id))

            let skipped = try await client.request(.get, "/api/callouts/\(callout)/callout_participations?q[outcome]=do_not_call", token: token)
            #expect(try skipped.json.arrayValue?.map { $0["msisdn"] } == ["+85511000002"])
            #expect(try skipped.json.arrayValue?.first?["outcome"] == "do_not_call")
            let pending = try await client.request(.get, "/api/callouts/\(callout)/callout_participations?q[outcome]=pending", token: token)
            #expect(pending.headers[HTTPField.Name("Total")!] == "2")
            let bad = try await client.request(.get, "/api/callout_participations?q[outcome]=maybe", token: token)
            #expect(bad.status == .badRequest)

            let progress = try await client.request(.get, "/api/callouts/\(callout)/callout_progress", token: token)
            #expect(progress.status == .ok)
            let figure = try progress.json
            #expect(figure["participations"] == 3 && figure["do_not_call"] == 1 && figure["remaining"] == 2 && figure["dialled"] == 0)
            #expect(figure["callout_status"] == "initialized" && figure["estimated_finish_at"] == .null && figure["finished_at"] == .null)
        }
    }

    /// The progress figure of a campaign under way: dialled calls, outcomes, the scheduler's rate sample and
    /// the estimated finish.
    @Test func progressReportsRateAndEstimatedFinish() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let callout = try await client.create("/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::HelloWorld")
            _ = try await client.request(.post, "/api/callouts/\(callout)/callout_events", token: token, form: "event=start")
            try await api.execute(
                """
                WITH contacts AS (
                    INSERT INTO contacts (account_id, msisdn)
                    SELECT \(account.id), '+8552200' || n FROM generate_series(1000, 1099) n RETURNING id, msisdn
                ), participations AS (
                    INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn, outcome)
                    SELECT \(account.id), \(callout), id, msisdn, CASE WHEN msisdn < '+85522001040' THEN 'answered' END
                    FROM contacts RETURNING id, contact_id, msisdn, outcome
                )
                INSERT INTO phone_calls (account_id, callout_participation_id, contact_id, callout_id, msisdn, status)
                SELECT \(account.id), id, contact_id, \(callout), msisdn, CASE WHEN outcome IS NULL THEN 'queued' ELSE 'completed' END
                FROM participations
                """)
            try await api.execute(
                "INSERT INTO callout_progress_samples (callout_id, dialled, sampled_at, calls_per_second) VALUES (\(callout), 40, now(), 20)")
            let asked = Date()
            let figure = try await client.request(.get, "/api/callouts/\(callout)/callout_progress", token: token).json
            let answered = Date()
            #expect(figure["participations"] == 100 && figure["answered"] == 40 && figure["remaining"] == 60 && figure["dialled"] == 40)
            #expect(figure["calls_per_second"] == 20)
            let finish = figure["estimated_finish_at"]?.stringValue.flatMap { text -> Date? in
                if case .instant(let date)? = TimestampFilter.parseValue(text) { return date }
                return nil
            }
            // The estimate is the request's moment plus 60 / 20 s: between the asking and the answer, plus 3 s
            // (a millisecond's rounding either side), however long the request took.
            #expect(
                finish.map { $0 >= asked.addingTimeInterval(2.999) && $0 <= answered.addingTimeInterval(3.001) } == true,
                "60 remaining at 20/s: 3 s after the request (\(asked)…\(answered)), got \(String(describing: finish))")
        }
    }

    @Test func autopilotSettingsAreValidated() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let bad = try await client.request(
                .post, "/api/callouts", token: token, json: #"{"settings":{"autopilot":{"retry":{"max_attempts":0}}}}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.json["errors"]?["settings"]?.arrayValue?.first?.stringValue?.contains("max_attempts") == true)
            let good = try await client.request(
                .post, "/api/callouts", token: token,
                json:
                    #"{"settings":{"autopilot":{"enabled":true,"calling_hours":{"days":["mon","fri"],"start":"08:00","end":"20:00"},"retry":{"delays":["5m","1h"]}}}}"#
            )
            #expect(good.status == .created, "\(good.text)")
        }
    }
}
