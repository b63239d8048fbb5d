import HummingbirdTesting
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct CalloutParticipationsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "callout_participations") }

    @Test func createByContactOrMsisdnOncePerCallout() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let callout = try await client.create("/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::HelloWorld")
            let contact = try await client.create("/api/contacts", token: token, form: "msisdn=252662345700")
            let response = try await client.request(
                .post, "/api/callouts/\(callout)/callout_participations", token: token, form: "contact_id=\(contact)")
            #expect(response.status == .created)
            let body = try response.json
            #expect(
                body.objectValue?.keys == [
                    "id", "callout_id", "contact_id", "callout_population_id", "msisdn", "call_flow_logic", "metadata",
                    "outcome", "attempts", "next_attempt_at", "created_at", "updated_at",
                ])
            #expect(body["outcome"] == .null && body["attempts"] == 0 && body["next_attempt_at"] == .null)
            #expect(body["msisdn"] == "+252662345700")
            #expect(body["callout_population_id"] == .null)
            #expect(body["call_flow_logic"] == "CallFlowLogic::HelloWorld", "inherited from the callout")

            let twice = try await client.request(
                .post, "/api/callouts/\(callout)/callout_participations", token: token, form: "msisdn=%2B252662345700")
            #expect(twice.status == .unprocessableContent)
            #expect(try twice.json == ["errors": ["contact_id": ["has already been taken"]]])

            let other = try await client.create("/api/callouts", token: token)
            let byMsisdn = try await client.request(
                .post, "/api/callouts/\(other)/callout_participations", token: token, form: "msisdn=252662345700")
            #expect(try byMsisdn.json["contact_id"] == .integer(contact))

            let unknown = try await client.request(
                .post, "/api/callouts/\(other)/callout_participations", token: token, form: "msisdn=252662349999")
            #expect(try unknown.json == ["errors": ["contact": ["must exist"]]])
            let none = try await client.request(.post, "/api/callouts/\(other)/callout_participations", token: token)
            #expect(none.status == .unprocessableContent)
            let noCallout = try await client.request(
                .post, "/api/callouts/999999/callout_participations", token: token, form: "contact_id=\(contact)")
            #expect(noCallout.status == .notFound)
        }
    }

    @Test func updateChangesMsisdnCallFlowLogicAndMetadata() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345700"])
            let path = "/api/callout_participations/\(campaign.participationIDs[0])"
            let update = try await client.request(
                .patch, path, token: token,
                form: "call_flow_logic=CallFlowLogic::Application&metadata[name]=my+callout+participation&msisdn=252662345701")
            #expect(update.status == .noContent)
            _ = try await client.request(.patch, path, token: token, form: "metadata_merge_mode=deep_merge&metadata[gender]=f")
            let fetched = try await client.request(.get, path, token: token).json
            #expect(fetched["msisdn"] == "+252662345701")
            #expect(fetched["call_flow_logic"] == "CallFlowLogic::Application")
            #expect(fetched["metadata"] == ["name": "my callout participation", "gender": "f"])
            let invalid = try await client.request(.patch, path, token: token, form: "msisdn=12")
            #expect(try invalid.json == ["errors": ["msisdn": ["is an invalid number"]]])
        }
    }

    @Test func everyFilterAndNestedRoute() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(
                client, token: token, msisdns: ["252662345710", "252662345711", "252662345712", "252662345713"])
            let p = campaign.participationIDs
            _ = try await client.request(
                .patch, "/api/callout_participations/\(p[0])", token: token,
                form: "metadata[name]=alice&call_flow_logic=CallFlowLogic::PlayMessage")
            var calls: [Int64] = []
            for participation in p[1...3] {
                calls.append(
                    try await client.create(
                        "/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams))
            }
            try await api.execute("UPDATE phone_calls SET status = 'failed' WHERE id = \(calls[0])")
            try await api.execute("UPDATE phone_calls SET status = 'errored' WHERE id = \(calls[1])")
            try await api.execute("UPDATE phone_calls SET status = 'completed' WHERE id = \(calls[2])")

            let base = "/api/callout_participations"
            #expect(try await client.ids("\(base)?q[metadata][name]=alice", token: token) == [p[0]])
            #expect(try await client.ids("\(base)?q[callout_id]=\(campaign.calloutID)", token: token) == p)
            #expect(try await client.ids("\(base)?q[contact_id]=\(campaign.contactIDs[2])", token: token) == [p[2]])
            #expect(try await client.ids("\(base)?q[msisdn]=252662345711", token: token) == [p[1]])
            #expect(try await client.ids("\(base)?q[call_flow_logic]=CallFlowLogic::PlayMessage", token: token) == [p[0]])
            #expect(try await client.ids("\(base)?q[has_phone_calls]=true", token: token) == Array(p[1...3]))
            #expect(try await client.ids("\(base)?q[has_phone_calls]=false", token: token) == [p[0]])
            #expect(try await client.ids("\(base)?q[no_phone_calls]=true", token: token) == [p[0]])
            #expect(try await client.ids("\(base)?q[last_phone_call_attempt]=failed,errored", token: token) == [p[1], p[2]])
            #expect(try await client.ids("\(base)?q[no_phone_calls_or_last_attempt]=failed,errored", token: token) == [p[0], p[1], p[2]])
            #expect(try await client.ids("\(base)?q[created_at_or_after]=2017-11-29+01:36:02", token: token) == p)
            #expect(try await client.ids("\(base)?q[updated_at_or_before]=2017-11-29+01:36:02", token: token) == [])
            #expect(try await client.request(.get, "\(base)?q[last_phone_call_attempt]=lost", token: token).status == .badRequest)

            #expect(try await client.ids("/api/callouts/\(campaign.calloutID)/callout_participations", token: token) == p)
            #expect(
                try await client.ids(
                    "/api/callouts/\(campaign.calloutID)/callout_participations?q[contact_id]=\(campaign.contactIDs[0])", token: token) == [p[0]])
            #expect(try await client.ids("/api/contacts/\(campaign.contactIDs[3])/callout_participations", token: token) == [p[3]])
            #expect(try await client.ids("/api/callouts/\(campaign.calloutID)/contacts", token: token) == campaign.contactIDs)
            #expect(try await client.request(.get, "/api/callouts/999999/contacts", token: token).status == .notFound)
            #expect(try await client.request(.get, "/api/contacts/999999/callout_participations", token: token).status == .notFound)
        }
    }

    @Test func lastAttemptFollowsTheLatestCall() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345720"])
            let participation = campaign.participationIDs[0]
            let first = try await client.create(
                "/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams)
            try await api.execute("UPDATE phone_calls SET status = 'failed' WHERE id = \(first)")
            let failed = "/api/callout_participations?q[last_phone_call_attempt]=failed"
            #expect(try await client.ids(failed, token: token) == [participation])
            let second = try await client.create(
                "/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams)
            #expect(try await client.ids(failed, token: token) == [])
            #expect(try await client.ids("/api/callout_participations?q[last_phone_call_attempt]=created", token: token) == [participation])
            #expect(try await client.request(.delete, "/api/phone_calls/\(second)", token: token).status == .noContent)
            #expect(try await client.ids(failed, token: token) == [participation], "the earlier call is the latest again")
        }
    }

    @Test func deleteIsRefusedWhilePhoneCallsExist() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345730", "252662345731"])
            let (free, called) = (campaign.participationIDs[0], campaign.participationIDs[1])
            _ = try await client.create("/api/callout_participations/\(called)/phone_calls", token: token, form: seedRemoteRequestParams)
            let refused = try await client.request(.delete, "/api/callout_participations/\(called)", token: token)
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json == ["errors": ["base": ["Cannot delete record because dependent phone calls exist"]]])
            #expect(try await client.request(.delete, "/api/callout_participations/\(free)", token: token).status == .noContent)
            #expect(try await client.ids("/api/callouts/\(campaign.calloutID)/contacts", token: token) == [campaign.contactIDs[1]])
        }
    }
}
