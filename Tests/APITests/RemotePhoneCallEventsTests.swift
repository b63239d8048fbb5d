import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct RemotePhoneCallEventsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "remote_phone_call_events") }

    /// The webhook that creates events is its own piece of work; here they are written as it would.
    func insertEvent(accountID: Int64, phoneCallID: Int64, callSid: String, status: String) async throws -> Int64 {
        let details: JSONValue = [
            "From": "+1234", "To": "+252662345699", "CallSid": .string(callSid), "CallStatus": .string(status),
            "Direction": "outbound-api", "AccountSid": "ddda6f6c-f698-40f7-be5b-53056ec1c52c", "ApiVersion": "2010-04-01",
        ]
        return try await api.database.query(
            """
            INSERT INTO remote_phone_call_events (account_id, phone_call_id, details, remote_call_id, remote_direction, call_flow_logic)
            VALUES (\(accountID), \(phoneCallID), \(details), \(callSid), 'outbound-api', 'CallFlowLogic::AvfCapom::CapomShort')
            RETURNING id
            """, logger: api.logger
        ).single { try $0.decode(Int64.self) }
    }

    @Test func fetchUpdateIndexFiltersAndNestedRoutes() async throws {
        let (account, token) = try await api.account()
        let (_, stranger) = try await api.account()
        try await api.test { client in
            let campaign = try await Campaign.make(client, token: token, msisdns: ["252662345800", "252662345801"])
            let firstCall = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[0])/phone_calls", token: token, form: seedRemoteRequestParams)
            let secondCall = try await client.create(
                "/api/callout_participations/\(campaign.participationIDs[1])/phone_calls", token: token, form: seedRemoteRequestParams)
            let ringing = try await insertEvent(
                accountID: account.id, phoneCallID: firstCall, callSid: "06d9ebf7-4d71-4470-8b57-09235979781e", status: "ringing")
            let completed = try await insertEvent(
                accountID: account.id, phoneCallID: secondCall, callSid: "16d9ebf7-4d71-4470-8b57-09235979781e", status: "completed")

            let fetched = try await client.request(.get, "/api/remote_phone_call_events/\(ringing)", token: token)
            #expect(fetched.status == .ok)
            let body = try fetched.json
            #expect(
                body.objectValue?.keys == [
                    "id", "phone_call_id", "details", "metadata", "remote_call_id", "remote_direction", "call_flow_logic",
                    "created_at", "updated_at",
                ])
            #expect(body["details"]?["CallStatus"] == "ringing")
            #expect(try await client.request(.get, "/api/remote_phone_call_events/\(ringing)", token: stranger).status == .notFound)

            let update = try await client.request(.patch, "/api/remote_phone_call_events/\(ringing)", token: token, form: "metadata[foo]=bar")
            #expect(update.status == .noContent)
            _ = try await client.request(
                .patch, "/api/remote_phone_call_events/\(ringing)", token: token, form: "metadata_merge_mode=replace&metadata[gender]=f")
            #expect(try await client.request(.get, "/api/remote_phone_call_events/\(ringing)", token: token).json["metadata"] == ["gender": "f"])

            let base = "/api/remote_phone_call_events"
            #expect(try await client.ids(base, token: token) == [ringing, completed])
            #expect(try await client.ids("/api/phone_calls/\(firstCall)/remote_phone_call_events", token: token) == [ringing])
            #expect(try await client.ids("/api/contacts/\(campaign.contactIDs[1])/remote_phone_call_events", token: token) == [completed])
            #expect(try await client.ids("/api/callouts/\(campaign.calloutID)/remote_phone_call_events", token: token) == [ringing, completed])
            #expect(
                try await client.ids(
                    "/api/callout_participations/\(campaign.participationIDs[1])/remote_phone_call_events", token: token) == [completed])
            #expect(try await client.ids("\(base)?q[details][CallStatus]=ringing", token: token) == [ringing])
            #expect(try await client.ids("\(base)?q[call_flow_logic]=CallFlowLogic::AvfCapom::CapomShort", token: token) == [ringing, completed])
            #expect(try await client.ids("\(base)?q[remote_call_id]=16d9ebf7-4d71-4470-8b57-09235979781e", token: token) == [completed])
            #expect(try await client.ids("\(base)?q[remote_direction]=inbound", token: token) == [])
            #expect(try await client.ids("\(base)?q[metadata][gender]=f", token: token) == [ringing])
            #expect(try await client.ids("\(base)?q[created_at_or_before]=2017-11-29+01:36:02", token: token) == [])
            #expect(try await client.ids("\(base)?q[updated_at_or_after]=2017-11-29+01:36:02", token: token) == [ringing, completed])
            #expect(try await client.ids(base, token: stranger) == [])
            #expect(try await client.request(.get, "/api/phone_calls/\(firstCall)/remote_phone_call_events", token: stranger).status == .notFound)
        }
    }
}
