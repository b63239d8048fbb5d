import HTTPTypes
import HummingbirdTesting
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct AccountsTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "accounts") }

    @Test func superAdminCreatesFetchesUpdatesAndDeletesAnAccount() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        try await api.test { client in
            let created = try await client.request(.post, "/api/accounts", token: adminToken)
            #expect(created.status == .created)
            let body = try created.json
            let id = try #require(body["id"].flatMap { if case .integer(let id) = $0 { id } else { nil } })
            #expect(created.headers[.location]?.hasSuffix("/api/accounts/\(id)") == true)
            #expect(body["metadata"] == .emptyObject)
            #expect(body["settings"] == .emptyObject)
            #expect(body["twilio_account_sid"] == .null)
            #expect(body["somleng_account_sid"] == .null)
            #expect(body["permissions"] == [])
            #expect(body.objectValue?.keys.first == "id")

            let update = try await client.request(
                .patch, "/api/accounts/\(id)", token: adminToken,
                form: "somleng_account_sid=abcdefg&metadata[name]=Basic+Account&twilio_auth_token=secret&platform_provider_name=somleng")
            #expect(update.status == .noContent)

            let fetched = try await client.request(.get, "/api/accounts/\(id)", token: adminToken).json
            #expect(fetched["metadata"] == ["name": "Basic Account"])
            #expect(fetched["somleng_account_sid"] == "abcdefg")
            #expect(fetched["platform_provider_name"] == "somleng")
            #expect(fetched["twilio_auth_token"] == nil, "auth tokens are write-only")

            let index = try await client.request(.get, "/api/accounts", token: adminToken)
            #expect(index.status == .ok)
            #expect(index.headers[.perPageHeader] == "25")
            #expect(try index.json.arrayValue?.contains { $0["id"] == .integer(id) } == true)

            #expect(try await client.request(.delete, "/api/accounts/\(id)", token: adminToken).status == .noContent)
            #expect(try await client.request(.get, "/api/accounts/\(id)", token: adminToken).status == .notFound)
        }
    }

    @Test func accountEndpointsAreForSuperAdminsOnly() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/accounts"), (.post, "/api/accounts"),
                (.get, "/api/accounts/\(account.id)"), (.patch, "/api/accounts/\(account.id)"),
                (.delete, "/api/accounts/\(account.id)"),
            ] {
                let response = try await client.request(method, path, token: token)
                #expect(response.status == .forbidden, "\(method) \(path)")
                #expect(try response.json == ["status": 403, "error": "Forbidden"])
            }
        }
    }

    @Test func invalidValuesAreValidationErrors() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        try await api.test { client in
            let provider = try await client.request(.post, "/api/accounts", token: adminToken, form: "platform_provider_name=nexmo")
            #expect(provider.status == .unprocessableContent)
            #expect(try provider.json == ["errors": ["platform_provider_name": ["is not included in the list"]]])

            let permission = try await client.request(.post, "/api/accounts", token: adminToken, form: "permissions[]=god")
            #expect(try permission.json == ["errors": ["permissions": ["is not included in the list"]]])

            let metadata = try await client.request(.post, "/api/accounts", token: adminToken, form: "metadata=flat")
            #expect(try metadata.json == ["errors": ["metadata": ["must be a hash"]]])
        }
    }

    @Test func providerAccountSidsAreUnique() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        let sid = "AC\(UInt32.random(in: 0...UInt32.max))"
        try await api.test { client in
            #expect(try await client.request(.post, "/api/accounts", token: adminToken, form: "twilio_account_sid=\(sid)").status == .created)
            let duplicate = try await client.request(.post, "/api/accounts", token: adminToken, form: "twilio_account_sid=\(sid)")
            #expect(try duplicate.json == ["errors": ["twilio_account_sid": ["has already been taken"]]])
        }
    }

    @Test func settingsAndPermissionsAreWritable() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        try await api.test { client in
            let created = try await client.request(
                .post, "/api/accounts", token: adminToken,
                json: #"{"settings":{"max_calls_per_second":10},"permissions":["super_admin"],"metadata":{"name":"Ops"}}"#)
            #expect(created.status == .created)
            let body = try created.json
            #expect(body["settings"] == ["max_calls_per_second": 10])
            #expect(body["permissions"] == ["super_admin"])
        }
    }

    @Test func deletingAnAccountWithContactsIsRefused() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        let (account, token) = try await api.account()
        try await api.test { client in
            _ = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=%2B85512345678")
            let response = try await client.request(.delete, "/api/accounts/\(account.id)", token: adminToken)
            #expect(response.status == .unprocessableContent)
            #expect(try response.json == ["errors": ["base": ["Cannot delete record because dependent contacts exist"]]])
        }
    }

    @Test func missingAndMalformedIdsAreNotFound() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        try await api.test { client in
            for path in ["/api/accounts/999999999", "/api/accounts/abc", "/api/accounts/-1"] {
                let response = try await client.request(.get, path, token: adminToken)
                #expect(response.status == .notFound)
                #expect(try response.json == ["status": 404, "error": "Not Found"])
            }
        }
    }
}
