import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@testable import API

@Suite(.timeLimit(.minutes(2))) struct AccessTokensTests {
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

    /// A token can be listed (masked, with when it was last used), read-only, expired, and revoked: a revoked
    /// token is refused at once (401) even with the token cache on, and its account's other tokens still work.
    @Test func tokensAreListedRevokedExpiredAndScoped() async throws {
        let (_, adminToken) = try await api.account(superAdmin: true)
        let (account, ownToken) = try await api.account()
        var settings = APISettings()
        settings.tokenCacheDuration = .seconds(5)
        try await api.test(settings: settings) { client in
            let created = try await client.request(.post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)")
            let id = try #require(try created.json["id"]?.integerValue)
            let token = try #require(try created.json["token"]?.stringValue)
            #expect(try await client.request(.get, "/api/contacts", token: token).status == .ok)

            let listed = try await client.request(.get, "/api/access_tokens?q[account_id]=\(account.id)", token: adminToken)
            #expect(listed.status == .ok)
            let entry = try #require(try listed.json.arrayValue?.first { $0["id"]?.integerValue == id })
            #expect(entry["token"]?.stringValue == String(token.prefix(6)) + "…", "masked")
            #expect(entry["last_used_at"]?.stringValue != nil, "the request above used it")
            #expect(entry["scope"] == "read_write" && entry["revoked_at"] == .null)
            #expect(!listed.text.contains(token), "the token itself is never shown again")

            // Revoked: refused at once, through the cache that had it a moment ago.
            #expect(try await client.request(.delete, "/api/access_tokens/\(id)", token: adminToken).status == .noContent)
            #expect(try await client.request(.get, "/api/contacts", token: token).status == .unauthorized)
            #expect(try await client.request(.get, "/api/access_tokens/\(id)", token: adminToken).json["revoked_at"]?.stringValue != nil)
            #expect(try await client.request(.get, "/api/contacts", token: ownToken).status == .ok, "the account's other token still works")
            #expect(try await client.request(.delete, "/api/access_tokens/999999999", token: adminToken).status == .notFound)

            // Read-only: reads, but any write is 403.
            let reader = try await client.request(
                .post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)&scope=read_only")
            let readOnly = try #require(try reader.json["token"]?.stringValue)
            #expect(try await client.request(.get, "/api/contacts", token: readOnly).status == .ok)
            let write = try await client.request(.post, "/api/contacts", token: readOnly, form: "msisdn=%2B252662345601")
            #expect(write.status == .forbidden)
            #expect(try write.json["message"] == "this access token is read-only")
            #expect(
                try await client.request(.post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)&scope=admin")
                    .status == .unprocessableContent)

            // Expired: refused once its time has passed; a time in the past is refused at creation.
            #expect(
                try await client.request(
                    .post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)&expires_at=2001-01-01T00:00:00Z"
                ).status == .unprocessableContent)
            let expiring = try await client.request(
                .post, "/api/access_tokens", token: adminToken, form: "account_sid=\(account.id)&expires_at=2099-01-01T00:00:00Z")
            let expiringID = try #require(try expiring.json["id"]?.integerValue)
            let expiringToken = try #require(try expiring.json["token"]?.stringValue)
            try await api.execute("UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE id = \(expiringID)")
            #expect(try await client.request(.get, "/api/contacts", token: expiringToken).status == .unauthorized)
        }
    }

    /// Every token route is the super admin's: an account's own token gets 403 on each, and another
    /// account's token cannot read or revoke this account's tokens.
    @Test func onlySuperAdminsListReadAndRevokeTokens() async throws {
        let (account, token) = try await api.account()
        let (_, otherToken) = try await api.account()
        let tokenID = try await api.database.query(
            "SELECT id FROM access_tokens WHERE account_id = \(account.id)", logger: api.logger
        ).single { try $0.decode(Int64.self) }
        try await api.test { client in
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/access_tokens"), (.get, "/api/access_tokens/\(tokenID)"), (.delete, "/api/access_tokens/\(tokenID)"),
            ] {
                let byOther = try await client.request(method, path, token: otherToken).status
                let byOwner = try await client.request(method, path, token: token).status
                #expect(byOther == .forbidden && byOwner == .forbidden, "\(method) \(path): \(byOther), \(byOwner)")
            }
            let stillWorks = try await client.request(.get, "/api/contacts", token: token).status
            #expect(stillWorks == .ok, "not revoked")
        }
    }
}
