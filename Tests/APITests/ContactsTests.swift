import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct ContactsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "contacts") }

    private func createContact(
        _ client: some TestClientProtocol, token: String, form: String
    ) async throws -> Int64 {
        let response = try await client.request(.post, "/api/contacts", token: token, form: form)
        #expect(response.status == .created, "\(response.text)")
        guard case .integer(let id)? = try response.json["id"] else { throw RecordNotFound() }
        return id
    }

    private func ids(_ response: TestResponse) throws -> [Int64] {
        try response.json.arrayValue?.compactMap { if case .integer(let id)? = $0["id"] { id } else { nil } } ?? []
    }

    @Test func createNormalizesTheMsisdnAndAnswersAsTheSeedShows() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let response = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=%2B252662345699")
            #expect(response.status == .created)
            let body = try response.json
            #expect(body.objectValue?.keys == ["id", "msisdn", "metadata", "created_at", "updated_at"])
            #expect(body["msisdn"] == "+252662345699")
            #expect(body["metadata"] == .emptyObject)
            #expect(body["created_at"]?.stringValue?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
            #expect(response.headers[.location]?.hasSuffix("/api/contacts/\(body["id"]!.scalarText!)") == true)

            let unprefixed = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=855+12+345+678")
            #expect(try unprefixed.json["msisdn"] == "+85512345678")
        }
    }

    @Test func metadataArrivesAsBracketFormOrJSON() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let form = try await client.request(
                .post, "/api/contacts", token: token,
                form: "msisdn=%2B252662345001&metadata[name]=Alice&metadata[address][city]=Phnom+Penh&metadata[tags][]=a&metadata[tags][]=b")
            #expect(try form.json["metadata"] == ["name": "Alice", "tags": ["a", "b"], "address": ["city": "Phnom Penh"]])

            let json = try await client.request(
                .post, "/api/contacts", token: token,
                json: #"{"msisdn":"+252662345002","metadata":{"name":"Bob","age":42,"verified":true}}"#)
            #expect(json.status == .created)
            #expect(try json.json["metadata"] == ["age": 42, "name": "Bob", "verified": true])
        }
    }

    @Test func msisdnIsRequiredValidAndUniquePerAccount() async throws {
        let (_, token) = try await api.account()
        let (_, otherToken) = try await api.account()
        try await api.test { client in
            let blank = try await client.request(.post, "/api/contacts", token: token)
            #expect(blank.status == .unprocessableContent)
            #expect(try blank.json == ["errors": ["msisdn": ["can't be blank"]]])

            for invalid in ["abc", "123", "%2B999123456789", "%2B2526623457001234567"] {
                let response = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=\(invalid)")
                #expect(try response.json == ["errors": ["msisdn": ["is an invalid number"]]], "\(invalid)")
            }

            _ = try await createContact(client, token: token, form: "msisdn=%2B252662345700")
            let duplicate = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=252662345700")
            #expect(duplicate.status == .unprocessableContent)
            #expect(try duplicate.json == ["errors": ["msisdn": ["has already been taken"]]])

            // Another account may hold the same number.
            let elsewhere = try await client.request(.post, "/api/contacts", token: otherToken, form: "msisdn=252662345700")
            #expect(elsewhere.status == .created)
        }
    }

    @Test func updateChangesMsisdnAndMetadataAndAnswers204() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B252662345699")
            let update = try await client.request(
                .patch, "/api/contacts/\(id)", token: token,
                form: "msisdn=%2B252662345700&metadata[name]=Alice&metadata[gender]=f")
            #expect(update.status == .noContent)
            #expect(update.body.readableBytes == 0)
            let fetched = try await client.request(.get, "/api/contacts/\(id)", token: token).json
            #expect(fetched["msisdn"] == "+252662345700")
            #expect(fetched["metadata"] == ["name": "Alice", "gender": "f"])
            #expect(fetched["updated_at"] != fetched["created_at"])

            let invalid = try await client.request(.patch, "/api/contacts/\(id)", token: token, form: "msisdn=nope")
            #expect(try invalid.json == ["errors": ["msisdn": ["is an invalid number"]]])
            let blank = try await client.request(.patch, "/api/contacts/\(id)", token: token, form: "msisdn=")
            #expect(try blank.json == ["errors": ["msisdn": ["can't be blank"]]])

            _ = try await createContact(client, token: token, form: "msisdn=%2B252662345701")
            let taken = try await client.request(.patch, "/api/contacts/\(id)", token: token, form: "msisdn=%2B252662345701")
            #expect(try taken.json == ["errors": ["msisdn": ["has already been taken"]]])
        }
    }

    @Test(arguments: [
        // Keys in jsonb's order (shorter first), as Postgres and so the API return them.
        ("merge", #"{"name":"Alice","address":{"zip":"1"},"province":"Kampong Thom"}"#),
        ("replace", #"{"address":{"zip":"1"},"province":"Kampong Thom"}"#),
        ("deep_merge", #"{"name":"Alice","address":{"zip":"1","city":"Phnom Penh"},"province":"Kampong Thom"}"#),
        ("", #"{"name":"Alice","address":{"zip":"1"},"province":"Kampong Thom"}"#),
    ])
    func metadataMergeModes(mode: String, expected: String) async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(
                client, token: token, form: "msisdn=%2B252662345699&metadata[name]=Alice&metadata[address][city]=Phnom+Penh")
            let modeParameter = mode.isEmpty ? "" : "metadata_merge_mode=\(mode)&"
            let update = try await client.request(
                .patch, "/api/contacts/\(id)", token: token,
                form: "\(modeParameter)metadata[province]=Kampong+Thom&metadata[address][zip]=1")
            #expect(update.status == .noContent)
            let metadata = try await client.request(.get, "/api/contacts/\(id)", token: token).json["metadata"]
            #expect(metadata == (try JSONParser.parse(expected)))
        }
    }

    @Test func unknownMergeModeIsAValidationError() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B252662345699")
            let response = try await client.request(
                .patch, "/api/contacts/\(id)", token: token, form: "metadata_merge_mode=shuffle&metadata[a]=b")
            #expect(try response.json == ["errors": ["metadata_merge_mode": ["is not included in the list"]]])
        }
    }

    @Test func recordsOfAnotherAccountAreNotFound() async throws {
        let (_, token) = try await api.account()
        let (_, otherToken) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B252662345699")
            for method in [HTTPRequest.Method.get, .patch, .delete] {
                let response = try await client.request(method, "/api/contacts/\(id)", token: otherToken, form: "metadata[a]=b")
                #expect(response.status == .notFound, "\(method)")
                #expect(try response.json == ["status": 404, "error": "Not Found"])
            }
            #expect(try ids(try await client.request(.get, "/api/contacts", token: otherToken)).isEmpty)
            #expect(try await client.request(.get, "/api/contacts/\(id)", token: token).status == .ok)
        }
    }

    @Test func deleteAnswers204ThenTheContactIsGone() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B85510202103")
            #expect(try await client.request(.delete, "/api/contacts/\(id)", token: token).status == .noContent)
            let gone = try await client.request(.get, "/api/contacts/\(id)", token: token)
            #expect(gone.status == .notFound)
            #expect(try gone.json == ["status": 404, "error": "Not Found"])
        }
    }

    @Test func deleteIsRefusedWhileTheContactHasParticipationsOrPhoneCalls() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B85510202104")
            try await api.execute(
                """
                WITH callout AS (INSERT INTO callouts (account_id) VALUES (\(account.id)) RETURNING id)
                INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn)
                SELECT \(account.id), callout.id, \(id), '+85510202104' FROM callout
                """)
            let response = try await client.request(.delete, "/api/contacts/\(id)", token: token)
            #expect(response.status == .unprocessableContent)
            #expect(try response.json == ["errors": ["base": ["Cannot delete record because dependent callout participations exist"]]])

            let other = try await createContact(client, token: token, form: "msisdn=%2B85510202105")
            try await api.execute(
                "INSERT INTO phone_calls (account_id, contact_id, msisdn) VALUES (\(account.id), \(other), '+85510202105')")
            let withCall = try await client.request(.delete, "/api/contacts/\(other)", token: token)
            #expect(try withCall.json == ["errors": ["base": ["Cannot delete record because dependent phone calls exist"]]])
        }
    }

    @Test func indexPaginatesWithPerPageTotalAndLinkHeaders() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            var created: [Int64] = []
            for index in 0..<7 {
                created.append(try await createContact(client, token: token, form: "msisdn=%2B25266234\(5600 + index)"))
            }
            let all = try await client.request(.get, "/api/contacts", token: token)
            #expect(all.headers[.perPageHeader] == "25")
            #expect(all.headers[.totalHeader] == "7")
            #expect(all.headers[.linkHeader] == nil)
            #expect(try ids(all) == created)

            let second = try await client.request(.get, "/api/contacts?per_page=3&page=2", token: token)
            #expect(second.headers[.perPageHeader] == "3")
            #expect(second.headers[.totalHeader] == "7")
            #expect(try ids(second) == Array(created[3..<6]))
            let link = try #require(second.headers[.linkHeader])
            #expect(link.contains(#"<http://localhost/api/contacts?per_page=3&page=1>; rel="first""#))
            #expect(link.contains(#"<http://localhost/api/contacts?per_page=3&page=1>; rel="prev""#))
            #expect(link.contains(#"<http://localhost/api/contacts?per_page=3&page=3>; rel="next""#))
            #expect(link.contains(#"<http://localhost/api/contacts?per_page=3&page=3>; rel="last""#))

            let last = try await client.request(.get, "/api/contacts?per_page=3&page=3", token: token)
            #expect(try ids(last) == [created[6]])
            #expect(last.headers[.linkHeader]?.contains("rel=\"next\"") == false)

            let junk = try await client.request(.get, "/api/contacts?per_page=abc&page=xyz", token: token)
            #expect(junk.status == .ok)
            #expect(junk.headers[.perPageHeader] == "25")
        }
    }

    @Test func filterByMetadataMatchesEveryLeafIncludingNestedOnes() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let alice = try await createContact(
                client, token: token, form: "msisdn=%2B252662345678&metadata[name]=Alice&metadata[gender]=f&metadata[address][city]=Phnom+Penh")
            let bob = try await createContact(client, token: token, form: "msisdn=%2B252662345679&metadata[name]=Bob&metadata[gender]=m")
            let carol = try await createContact(
                client, token: token, form: "msisdn=%2B252662345680&metadata[name]=Carol&metadata[gender]=f&metadata[address][city]=Siem+Reap")

            let women = try await client.request(.get, "/api/contacts?q[metadata][gender]=f", token: token)
            #expect(women.headers[.totalHeader] == "2")
            #expect(try ids(women) == [alice, carol])

            let nested = try await client.request(
                .get, "/api/contacts?q%5Bmetadata%5D%5Bgender%5D=f&q[metadata][address][city]=Phnom+Penh", token: token)
            #expect(try ids(nested) == [alice])

            let men = try await client.request(.get, "/api/contacts?q[metadata][gender]=m", token: token)
            #expect(try ids(men) == [bob])

            let none = try await client.request(.get, "/api/contacts?q[metadata][gender]=x", token: token)
            #expect(none.headers[.totalHeader] == "0")
        }
    }

    @Test func filterByMsisdnNormalizesTheQuery() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let id = try await createContact(client, token: token, form: "msisdn=%2B252662345700")
            _ = try await createContact(client, token: token, form: "msisdn=%2B252662345701")
            for query in ["252662345700", "%2B252662345700", "+252662345700"] {
                let response = try await client.request(.get, "/api/contacts?q[msisdn]=\(query)", token: token)
                #expect(try ids(response) == [id], "\(query)")
            }
        }
    }

    @Test func filterByCreatedAtAndUpdatedAtWithInstantsAndDates() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let early = try await createContact(client, token: token, form: "msisdn=%2B252662340001")
            let exact = try await createContact(client, token: token, form: "msisdn=%2B252662340002")
            let late = try await createContact(client, token: token, form: "msisdn=%2B252662340003")
            try await api.execute(
                """
                UPDATE contacts SET
                    created_at = CASE id WHEN \(early) THEN '2017-11-28 10:00:00+00'::timestamptz
                        WHEN \(exact) THEN '2017-11-29 01:36:02+00' ELSE '2017-11-30 08:00:00+00' END,
                    updated_at = CASE id WHEN \(early) THEN '2017-12-28 10:00:00+00'::timestamptz
                        WHEN \(exact) THEN '2017-12-29 01:36:02+00' ELSE '2017-12-30 08:00:00+00' END
                WHERE account_id = \(account.id)
                """)
            let cases: [(String, [Int64])] = [
                ("created_at_before]=2017-11-29+01:36:02", [early]),
                ("created_at_after]=2017-11-29+01:36:02", [late]),
                ("created_at_or_before]=2017-11-29+01:36:02", [early, exact]),
                ("created_at_or_after]=2017-11-29+01:36:02", [exact, late]),
                ("created_at_or_after]=2017-11-29T01:36:02.000Z", [exact, late]),
                ("created_at_before]=2017-11-29T08:36:02%2B07:00", [early]),
                ("created_at_before]=2017-11-29", [early]),
                ("created_at_after]=2017-11-29", [late]),
                ("created_at_or_before]=2017-11-29", [early, exact]),
                ("created_at_or_after]=2017-11-29", [exact, late]),
                ("updated_at_before]=2017-12-29+01:36:02", [early]),
                ("updated_at_after]=2017-12-29+01:36:02", [late]),
                ("updated_at_or_before]=2017-12-29", [early, exact]),
                ("updated_at_or_after]=2017-12-29", [exact, late]),
            ]
            for (filter, expected) in cases {
                let response = try await client.request(.get, "/api/contacts?q[\(filter)", token: token)
                #expect(response.status == .ok, "\(filter)")
                #expect(try ids(response) == expected, "\(filter)")
            }
            let combined = try await client.request(
                .get, "/api/contacts?q[created_at_after]=2017-11-28&q[updated_at_before]=2017-12-30", token: token)
            #expect(try ids(combined) == [exact])
        }
    }

    @Test func malformedInputIsA4xxWithJSONNeverA500() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            let badDate = try await client.request(.get, "/api/contacts?q[created_at_before]=yesterday", token: token)
            #expect(badDate.status == .badRequest)
            #expect(try badDate.json["error"] == "Bad Request")
            #expect(try badDate.json["message"] == "q[created_at_before] is not a valid date or time")

            let impossibleDate = try await client.request(.get, "/api/contacts?q[created_at_before]=2017-02-30", token: token)
            #expect(impossibleDate.status == .badRequest)

            let badJSON = try await client.request(.post, "/api/contacts", token: token, json: #"{"msisdn": "+2526"#)
            #expect(badJSON.status == .badRequest)
            #expect(try badJSON.json["status"] == 400)

            let notObject = try await client.request(.post, "/api/contacts", token: token, json: "[1,2]")
            #expect(notObject.status == .badRequest)

            let conflicting = try await client.request(.post, "/api/contacts", token: token, form: "metadata=a&metadata[b]=c")
            #expect(conflicting.status == .badRequest)

            let arrayMsisdn = try await client.request(.post, "/api/contacts", token: token, form: "msisdn[]=1")
            #expect(arrayMsisdn.status == .unprocessableContent)

            let metadataFilter = try await client.request(.get, "/api/contacts?q[metadata]=f", token: token)
            #expect(metadataFilter.status == .badRequest)
            #expect(try metadataFilter.json["message"] == "q[metadata] must be a hash of keys and values")

            let nonNumeric = try await client.request(.get, "/api/contacts/abc", token: token)
            #expect(nonNumeric.status == .notFound)
            #expect(try nonNumeric.json == ["status": 404, "error": "Not Found"])

            let xml = try await client.request(
                .post, "/api/contacts", token: token, headers: [.contentType: "application/xml"])
            #expect(xml.status == .unprocessableContent, "an empty body of another type carries no parameters: msisdn is missing")
        }
    }
}
