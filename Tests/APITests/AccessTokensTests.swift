import HTTPTypes
import HummingbirdTesting
import Shared
import Testing

@Suite struct AccessTokensTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "accesstokens") }

    @Test func superAdminCreatesATokenThatWorksForTheAccount() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        let (account, _) = try await api.account()
        try await api.test { client in
            let created = try await client.request(.post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)")
            #expect(created.status == .created)
            let body = try created.json
            #expect(body.objectValue?.keys == ["id", "token", "created_at", "updated_at", "metadata"])
            let token = try #require(body["token"]?.stringValue)
            #expect(token.count == 64)

            let contact = try await client.request(.post, "/api/contacts", token: token, form: "msisdn=%2B252662345699")
            #expect(contact.status == .created)
            let owner = try await api.database.query(
                "SELECT account_id FROM contacts WHERE msisdn = '+252662345699' AND account_id = \(account.id)",
                logger: api.logger)
            var found = false
            for try await _ in owner { found = true }
            #expect(found)
        }
    }

    @Test func unknownOrMissingAccountIsAValidationError() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        try await api.test { client in
            for form in ["account_sid=999999999", "account_sid=abc", ""] {
                let response = try await client.request(.post, "/api/access_tokens", token: adminToken, form: form)
                #expect(response.status == .unprocessableContent, "\(form)")
                #expect(try response.json == ["errors": ["account": ["must exist"]]])
            }
        }
    }

    @Test func onlySuperAdminsCreateTokens() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let response = try await client.request(.post, "/api/access_tokens", token: token, form: "account_sid=\(account.id)")
            #expect(response.status == .forbidden)
        }
    }
}
