import HTTPTypes
import HummingbirdTesting
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct CalloutsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "callouts") }

    @Test func createFetchUpdateAndIndexAnswerAsTheSeedShows() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let created = try await client.request(.post, "/api/callouts", token: token)
            #expect(created.status == .created)
            let body = try created.json
            #expect(body.objectValue?.keys == ["id", "status", "call_flow_logic", "metadata", "created_at", "updated_at"])
            #expect(body["status"] == "initialized")
            #expect(body["call_flow_logic"] == .null)
            let id = body["id"]!.scalarText!

            let update = try await client.request(
                .patch, "/api/callouts/\(id)", token: token,
                form: "call_flow_logic=CallFlowLogic::Application&metadata[name]=my+callout")
            #expect(update.status == .noContent)
            let fetched = try await client.request(.get, "/api/callouts/\(id)", token: token).json
            #expect(fetched["call_flow_logic"] == "CallFlowLogic::Application")
            #expect(fetched["metadata"] == ["name": "my callout"])

            _ = try await client.request(.patch, "/api/callouts/\(id)", token: token, form: "metadata_merge_mode=replace&metadata[gender]=f")
            #expect(try await client.request(.get, "/api/callouts/\(id)", token: token).json["metadata"] == ["gender": "f"])

            let index = try await client.request(.get, "/api/callouts", token: token)
            #expect(index.headers[.perPageHeader] == "25")
            #expect(index.headers[.totalHeader] == "1")
        }
    }

    @Test func callFlowLogicMustBeRegistered() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let refused = try await client.request(.post, "/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::OutcomeMonitoring")
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["call_flow_logic": ["is not included in the list"]]])
        }
    }

    @Test func filtersByMetadataStatusCallFlowLogicAndTimestamps() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let first = try await client.create("/api/callouts", token: token, form: "metadata[name]=my+callout")
            let second = try await client.create("/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::HelloWorld")
            _ = try await client.request(.post, "/api/callouts/\(second)/callout_events", token: token, form: "event=start")

            #expect(try await client.ids("/api/callouts?q[metadata][name]=my+callout", token: token) == [first])
            #expect(try await client.ids("/api/callouts?q[status]=running", token: token) == [second])
            #expect(try await client.ids("/api/callouts?q[status]=initialized,running", token: token) == [first, second])
            #expect(try await client.ids("/api/callouts?q[call_flow_logic]=CallFlowLogic::HelloWorld", token: token) == [second])
            #expect(try await client.ids("/api/callouts?q[created_at_after]=2017-11-29+01:36:02", token: token) == [first, second])
            #expect(try await client.ids("/api/callouts?q[updated_at_before]=2017-11-29", token: token) == [])
            let bad = try await client.request(.get, "/api/callouts?q[status]=sleeping", token: token)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func eventsFollowTheStateMachine() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await client.create("/api/callouts", token: token)
            func send(_ event: String) async throws -> (HTTPResponse.Status, JSONValue) {
                let response = try await client.request(.post, "/api/callouts/\(id)/callout_events", token: token, form: "event=\(event)")
                return (response.status, try response.json)
            }
            let refusal: JSONValue = ["errors": ["event": ["is not included in the list"]]]
            #expect(try await send("pause") == (.unprocessableContent, refusal))
            #expect(try await send("resume") == (.unprocessableContent, refusal))
            #expect(try await send("stop") == (.unprocessableContent, refusal))
            #expect(try await send("dance") == (.unprocessableContent, refusal))
            let started = try await send("start")
            #expect(started.0 == .created)
            #expect(started.1["status"] == "running")
            #expect(try await send("start").0 == .unprocessableContent)
            #expect(try await send("resume").0 == .unprocessableContent)
            #expect(try await send("pause").1["status"] == "paused")
            #expect(try await send("pause").0 == .unprocessableContent)
            #expect(try await send("resume").1["status"] == "running")
            #expect(try await send("stop").1["status"] == "stopped")
            #expect(try await send("stop").0 == .unprocessableContent)
            #expect(try await send("pause").0 == .unprocessableContent)
            #expect(try await send("resume").1["status"] == "running")
            #expect(try await send("pause").1["status"] == "paused")
            #expect(try await send("stop").1["status"] == "stopped")
            let missing = try await client.request(.post, "/api/callouts/999999/callout_events", token: token, form: "event=start")
            #expect(missing.status == .notFound)
        }
    }

    @Test func deleteIsRefusedWhileParticipationsExist() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let empty = try await client.create("/api/callouts", token: token)
            #expect(try await client.request(.delete, "/api/callouts/\(empty)", token: token).status == .noContent)
            #expect(try await client.request(.get, "/api/callouts/\(empty)", token: token).status == .notFound)

            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345700"])
            let refused = try await client.request(.delete, "/api/callouts/\(campaign.calloutID)", token: token)
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["base": ["Cannot delete record because dependent callout participations exist"]]])
        }
    }

    @Test func calloutsOfOtherAccountsAreNotFound() async throws {
        let (_, owner) = try await api.account()
        let (_, stranger) = try await api.account()
        try await api.test { client in
            let id = try await client.create("/api/callouts", token: owner)
            #expect(try await client.request(.get, "/api/callouts/\(id)", token: stranger).status == .notFound)
            #expect(try await client.request(.patch, "/api/callouts/\(id)", token: stranger, form: "metadata[a]=b").status == .notFound)
            #expect(try await client.request(.delete, "/api/callouts/\(id)", token: stranger).status == .notFound)
            #expect(try await client.ids("/api/callouts", token: stranger) == [])
            #expect(try await client.request(.get, "/api/callouts/\(id)/callout_statistics", token: stranger).status == .notFound)
        }
    }

    @Test func statisticsCountParticipationsAndCallsByStatus() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345701", "252662345702", "252662345703"])
            let path = "/api/callouts/\(campaign.calloutID)/callout_statistics"
            let empty = try await client.request(.get, path, token: token).json
            #expect(
                empty.objectValue?.keys == [
                    "callout_status", "callout_participations", "callout_participations_remaining",
                    "callout_participations_completed", "calls_completed", "calls_initialized", "calls_scheduling",
                    "calls_fetching_status", "calls_waiting_for_completion", "calls_queued", "calls_in_progress",
                    "calls_errored", "calls_failed", "calls_busy", "calls_not_answered", "calls_canceled",
                ])
            #expect(empty["callout_participations"] == 3)
            #expect(empty["callout_participations_remaining"] == 3)

            var calls: [Int64] = []
            for participation in campaign.participationIDs {
                calls.append(
                    try await client.create(
                        "/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams))
            }
            try await api.execute("UPDATE phone_calls SET status = 'completed' WHERE id = \(calls[0])")
            try await api.execute("UPDATE phone_calls SET status = 'failed' WHERE id = \(calls[1])")
            let figures = try await client.request(.get, path, token: token).json
            #expect(figures["callout_status"] == "initialized")
            #expect(figures["callout_participations"] == 3)
            // The failed one is to be retried; the created one is in hand.
            #expect(figures["callout_participations_remaining"] == 1)
            #expect(figures["callout_participations_completed"] == 1)
            #expect(figures["calls_completed"] == 1)
            #expect(figures["calls_failed"] == 1)
            #expect(figures["calls_initialized"] == 1)

            // Deleting the created call and then its participation takes both out of the running totals.
            #expect(try await client.request(.delete, "/api/phone_calls/\(calls[2])", token: token).status == .noContent)
            #expect(
                try await client.request(
                    .delete, "/api/callout_participations/\(campaign.participationIDs[2])", token: token
                ).status == .noContent)
            let after = try await client.request(.get, path, token: token).json
            #expect(after["callout_participations"] == 2)
            #expect(after["calls_initialized"] == 0)
            #expect(after["callout_participations_remaining"] == 1)
        }
    }

    @Test func statisticsStayRightWhenTheirRunningTotalsAreFolded() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345741", "252662345742"])
            let call = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            // Each status change appends running totals; enough of them to be folded on the next read.
            for round in 0..<400 {
                try await api.execute("UPDATE phone_calls SET status = \(round % 2 == 0 ? "in_progress" : "remotely_queued") WHERE id = \(call)")
            }
            try await api.execute("UPDATE phone_calls SET status = 'completed' WHERE id = \(call)")
            let path = "/api/callouts/\(campaign.calloutID)/callout_statistics"
            let first = try await client.request(.get, path, token: token).json
            let second = try await client.request(.get, path, token: token).json
            #expect(first == second)
            #expect(first["calls_completed"] == 1)
            #expect(first["calls_in_progress"] == 0)
            #expect(first["callout_participations_completed"] == 1)
            #expect(first["callout_participations_remaining"] == 1)
            let rows = try await api.database.query(
                "SELECT count(*) FROM callout_statistic_deltas WHERE callout_id = \(campaign.calloutID)", logger: api.logger
            ).single { try $0.decode(Int64.self) }
            #expect(rows < 10, "folded into one row per metric")
        }
    }
}
