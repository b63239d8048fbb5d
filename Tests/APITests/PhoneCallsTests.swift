import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct PhoneCallsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "phone_calls") }

    @Test func createNeedsRemoteRequestParamsAndCallsTheParticipation() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345699"])
            let path = "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls"
            let blank = try await client.request(.post, path, token: token)
            #expect(blank.status == .unprocessableContent)
            #expect(try blank.json == ["errors": ["remote_request_params": ["can't be blank"]]])

            let response = try await client.request(.post, path, token: token, form: seedRemoteRequestParams)
            #expect(response.status == .created)
            let body = try response.json
            #expect(
                body.objectValue?.keys == [
                    "id", "callout_participation_id", "contact_id", "create_batch_operation_id", "queue_batch_operation_id",
                    "queue_remote_fetch_batch_operation_id", "status", "msisdn", "remote_call_id", "remote_status",
                    "remote_direction", "remote_error_message", "metadata", "remote_response", "remote_request_params",
                    "remote_queue_response", "call_flow_logic", "remotely_queued_at", "created_at", "updated_at",
                ])
            #expect(body["status"] == "created")
            #expect(body["msisdn"] == "+252662345699")
            #expect(body["contact_id"] == .integer(campaign.contactIDs[0]))
            #expect(body["remote_request_params"]?["from"] == "1234")
            #expect(body["remote_request_params"]?["url"] == "https://demo.twilio.com/docs/voice.xml")
            #expect(body["remote_request_params"]?["method"] == "GET")
            #expect(body["remote_response"] == .emptyObject)
            #expect(
                try await client.request(
                    .post, "/api/callout_participations/999999/phone_calls", token: token,
                    form: seedRemoteRequestParams
                ).status == .notFound)
        }
    }

    @Test func callFlowLogicIsInheritedFromParticipationThenCallout() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(
                client, token: token, msisdns: ["252662345601", "252662345602"], calloutForm: "call_flow_logic=CallFlowLogic::HelloWorld")
            _ = try await client.request(
                .patch, "/api/callout_participations/\(campaign.participationIDs[1])", token: token,
                form: "call_flow_logic=CallFlowLogic::PlayMessage")
            let fromCallout = try await client.request(
                .post, "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token,
                form: seedRemoteRequestParams)
            #expect(try fromCallout.json["call_flow_logic"] == "CallFlowLogic::HelloWorld")
            let fromParticipation = try await client.request(
                .post, "/api/callout_participations/\(campaign.participationIDs[1])/phone_calls", token: token,
                form: seedRemoteRequestParams)
            #expect(try fromParticipation.json["call_flow_logic"] == "CallFlowLogic::PlayMessage")
            let own = try await client.request(
                .post, "/api/callout_participations/\(campaign.participationIDs[1])/phone_calls", token: token,
                form: seedRemoteRequestParams + "&call_flow_logic=CallFlowLogic::Application")
            #expect(try own.json["call_flow_logic"] == "CallFlowLogic::Application")
        }
    }

    @Test func updateWhileCreatedOnlyDeleteWhileCreatedOnly() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345610"])
            let participation = "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls"
            let id = try await client.create(participation, token: token, form: seedRemoteRequestParams)
            let path = "/api/phone_calls/\(id)"
            let update = try await client.request(
                .patch, path, token: token,
                form:
                    "remote_request_params[from]=345&remote_request_params[url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml&remote_request_params[method]=GET"
            )
            #expect(update.status == .noContent)
            #expect(try await client.request(.get, path, token: token).json["remote_request_params"]?["from"] == "345")
            let unregistered = try await client.request(.patch, path, token: token, form: "call_flow_logic=CallFlowLogic::OutcomeMonitoring")
            #expect(try unregistered.json == ["errors": ["call_flow_logic": ["is not included in the list"]]])

            #expect(try await client.request(.post, "\(path)/phone_call_events", token: token, form: "event=queue").status == .created)
            let late = try await client.request(.patch, path, token: token, form: "remote_request_params[from]=999")
            #expect(late.status == .unprocessableContent)
            let metadata = try await client.request(.patch, path, token: token, form: "metadata[province]=Kampong+Thom")
            #expect(metadata.status == .noContent, "metadata may change at any time")
            let refused = try await client.request(.delete, path, token: token)
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["base": ["Cannot delete a phone call with status queued"]]])

            let other = try await client.create(participation, token: token, form: seedRemoteRequestParams)
            #expect(try await client.request(.delete, "/api/phone_calls/\(other)", token: token).status == .noContent)
            #expect(try await client.request(.get, "/api/phone_calls/\(other)", token: token).status == .notFound)
        }
    }

    @Test func eventsMoveTheStatusAndWriteTheJobToTheOutbox() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345620"])
            let id = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            let events = "/api/phone_calls/\(id)/phone_call_events"
            let refusal: JSONValue = ["errors": ["event": ["is not included in the list"]]]
            #expect(try await client.request(.post, events, token: token, form: "event=queue_remote_fetch").json == refusal)
            #expect(try await client.request(.post, events, token: token, form: "event=ring").json == refusal)

            let queued = try await client.request(.post, events, token: token, form: "event=queue")
            #expect(queued.status == .created)
            #expect(try queued.json["status"] == "queued")
            let twice = try await client.request(.post, events, token: token, form: "event=queue")
            #expect(twice.status == .unprocessableContent)

            let jobs = try await api.database.query(
                "SELECT topic, message_key, payload FROM outbox_messages WHERE message_key = \(String(id)) ORDER BY id",
                logger: api.logger)
            var rows: [(String, String, JSONValue)] = []
            for try await row in jobs { rows.append(try row.decode((String, String, JSONValue).self)) }
            #expect(rows.count == 1)
            #expect(rows.first?.0 == "phone-calls.queue")
            #expect(rows.first.map { try? PhoneCallJob(payload: $0.2) } == PhoneCallJob(phoneCallID: id, accountID: account.id))

            try await api.execute("UPDATE phone_calls SET status = 'remotely_queued' WHERE id = \(id)")
            let fetch = try await client.request(.post, events, token: token, form: "event=queue_remote_fetch")
            #expect(try fetch.json["status"] == "remote_fetch_queued")
            let topics = try await api.database.query(
                "SELECT topic FROM outbox_messages WHERE message_key = \(String(id)) ORDER BY id", logger: api.logger)
            var names: [String] = []
            for try await row in topics { names.append(try row.decode(String.self)) }
            #expect(names == ["phone-calls.queue", "phone-calls.remote-fetch"])
            #expect(
                try await client.request(
                    .post, "/api/phone_calls/999999/phone_call_events", token: token,
                    form: "event=queue"
                ).status == .notFound)
        }
    }

    @Test func everyFilterAndNestedRoute() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345630", "252662345631"])
            let other = try await Campaign.make(client, token: token, msisdns: ["252662345632"])
            let a = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token,
                form: seedRemoteRequestParams + "&metadata[foo]=bar&call_flow_logic=CallFlowLogic::PlayMessage")
            let b = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[1])/phone_calls", token: token,
                form: "remote_request_params[from]=345&remote_request_params[url]=http%3A%2F%2Fexample.com")
            let c = try await client.create(
                "/api/callout_participations/\(other.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            try await api.execute(
                """
                UPDATE phone_calls SET status = 'in_progress', remote_call_id = '082305b2-a0e4-4921-89bf-7bb544fd6910',
                    remote_status = 'in-progress', remote_direction = 'outbound-api',
                    remote_error_message = 'Unable to create record', remote_queue_response = '{"from":"345"}',
                    remote_response = '{"status":"canceled"}', remotely_queued_at = '2017-11-29 01:00:00+00'
                WHERE id = \(b)
                """)

            let base = "/api/phone_calls"
            #expect(try await client.ids(base, token: token) == [a, b, c])
            #expect(try await client.ids("/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token) == [a])
            #expect(try await client.ids("/api/contacts/\(campaign.contactIDs[1])/phone_calls", token: token) == [b])
            #expect(try await client.ids("/api/callouts/\(campaign.calloutID)/phone_calls", token: token) == [a, b])
            #expect(try await client.ids("\(base)?q[metadata][foo]=bar", token: token) == [a])
            #expect(try await client.ids("\(base)?q[msisdn]=252662345632", token: token) == [c])
            #expect(try await client.ids("\(base)?q[status]=created", token: token) == [a, c])
            #expect(try await client.ids("\(base)?q[status]=in_progress,completed", token: token) == [b])
            #expect(try await client.ids("\(base)?q[call_flow_logic]=CallFlowLogic::PlayMessage", token: token) == [a])
            #expect(try await client.ids("\(base)?q[remote_call_id]=082305b2-a0e4-4921-89bf-7bb544fd6910", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remote_status]=in-progress", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remote_direction]=outbound-api", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remote_error_message]=Unable+to+create+record", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remote_queue_response][from]=345", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remote_response][status]=canceled", token: token) == [b])
            #expect(
                try await client.ids(
                    "\(base)?q[remote_request_params][url]=https://demo.twilio.com/docs/voice.xml", token: token) == [a, c])
            #expect(try await client.ids("\(base)?q[remotely_queued_at_before]=2017-11-29+01:36:02", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remotely_queued_at_after]=2017-11-29+01:36:02", token: token) == [])
            #expect(try await client.ids("\(base)?q[remotely_queued_at_or_after]=2017-11-29", token: token) == [b])
            #expect(try await client.ids("\(base)?q[remotely_queued_at_or_before]=2017-11-28", token: token) == [])
            #expect(try await client.ids("\(base)?q[created_at_before]=2017-11-29+01:36:02", token: token) == [])
            #expect(try await client.ids("\(base)?q[updated_at_after]=2017-11-29+01:36:02", token: token) == [a, b, c])
            #expect(try await client.ids("\(base)?q[callout_id]=\(other.calloutID)", token: token) == [c])
            #expect(try await client.request(.get, "\(base)?q[status]=ringing", token: token).status == .badRequest)
            #expect(try await client.request(.get, "/api/callouts/999999/phone_calls", token: token).status == .notFound)
        }
    }
}
