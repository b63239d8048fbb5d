import Foundation
import HTTPTypes
import HummingbirdTesting
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct AuthenticationTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "authentication") }

    @Test func missingTokenIsUnauthorizedWithJSONBody() async throws {
        try await api.test { client in
            let response = try await client.request(.get, "/api/contacts", token: nil)
            #expect(response.status == .unauthorized)
            #expect(try response.json == ["status": 401, "error": "Unauthorized"])
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        }
    }

    @Test func unknownTokenIsUnauthorized() async throws {
        try await api.test { client in
            let response = try await client.request(.get, "/api/contacts", token: "nope")
            #expect(response.status == .unauthorized)
        }
    }

    @Test func basicUsernameAndBearerBothAuthenticate() async throws {
        let (_, token) = try await api.account()
        try await api.test { client in
            #expect(try await client.request(.get, "/api/contacts", token: token).status == .ok)
            let bearer = try await client.execute(
                uri: "/api/contacts", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(bearer.status == .ok)
            let malformed = try await client.execute(
                uri: "/api/contacts", method: .get, headers: [.authorization: "Basic %%%"])
            #expect(malformed.status == .unauthorized)
        }
    }

    @Test func unknownRouteIsJSONNotFound() async throws {
        try await api.test { client in
            let response = try await client.request(.get, "/api/nothing-here", token: nil)
            #expect(response.status == .notFound)
            let outside = try await client.request(.get, "/nothing-here", token: nil)
            #expect(outside.status == .notFound)
            #expect(try outside.json == ["status": 404, "error": "Not Found"])
        }
    }

    @Test func tokensAreStoredAsDigestsOnly() async throws {
        let (account, token) = try await api.account()
        let rows = try await api.database.query(
            "SELECT count(*) FROM access_tokens WHERE account_id = \(account.id) AND token_digest = \(AccessTokenSecret.digest(token))",
            logger: api.logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        #expect(count == 1)
        #expect(token.count == 64)
    }
}
