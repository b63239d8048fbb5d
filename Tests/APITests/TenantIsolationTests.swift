import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Shared
import Testing

@testable import API

/// Tenant isolation on every route the router serves (#25). Account A owns one record of every kind; account B,
/// an ordinary tenant, tries each route on A's records. A route with an `{id}` naming A's record is 404 for B
/// (403 for the super-admin routes); a listing of B's shows none of A's ids; a create of B's stays in B's
/// account. Afterwards every record of A reads back exactly as before, and A's listings hold as many as before.
/// A read-only token of A's own can write nowhere.
///
/// The table `expectations` names every served route: a route added later without an entry fails
/// `everyServedRouteHasAnIsolationCase`, and an entry for a route no longer served fails it too.
@Suite(.timeLimit(.minutes(2))) struct TenantIsolationTests {
    let api: TestAPI

    init() async throws { api = try await TestAPI.make(suite: "tenant_isolation") }

    enum Expectation {
        /// `{id}` is A's record of `resource` (the path's first segment); B gets `status`, with `form` as body.
        case foreign(status: HTTPResponse.Status = .notFound, form: String? = nil)
        /// Super admins only: B (not one) gets 403 whatever the id.
        case superAdminOnly(form: String? = nil)
        /// B's listing: none of A's records of `resource` in it.
        case listing(resource: String)
        /// B creates in its own account (A's snapshot proves nothing of A's changed).
        case ownCreate(form: String, status: HTTPResponse.Status)
        /// No token: operations and the signed provider callbacks (their isolation: ProviderWebhooksTests).
        case noToken(reason: String)
    }

    static let update = "metadata[tampered]=by-b"
    static let callParameters =
        "parameters[remote_request_params][from]=1234&parameters[remote_request_params][url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml"

    /// Every route, by `METHOD /path` with captures as `{id}`.
    static let expectations: [String: Expectation] = [
        "GET /health": .noToken(reason: "load balancers"),
        "GET /api/openapi.json": .noToken(reason: "the API's description"),
        "GET /call_flows/fallback": .noToken(reason: "the provider's FallbackUrl: static, installation-wide, no record read"),
        "POST /call_flows/fallback": .noToken(reason: "the provider's FallbackUrl: static, installation-wide, no record read"),
        "GET /console": .noToken(reason: "console page, signed in by session cookie: ConsoleTests checks another account's user"),
        "GET /console/audit": .noToken(reason: "console page, signed in by session cookie: ConsoleTests checks another account's user"),
        "GET /console/sign_in": .noToken(reason: "the console's sign-in form"),
        "POST /console/sign_in": .noToken(reason: "the console's sign-in (CSRF-checked, ConsoleTests)"),
        "POST /console/sign_out": .noToken(reason: "the console's sign-out (CSRF-checked, ConsoleTests)"),
        "GET /console/static/console.css": .noToken(reason: "the console's stylesheet"),
        "GET /console/callouts/{id}": .noToken(reason: "console page, signed in by session cookie: ConsoleTests checks another account's callout"),
        "POST /console/callouts/{id}/events": .noToken(reason: "console action (CSRF-checked): ConsoleTests checks another account's callout"),
        "GET /console/static/console.js": .noToken(reason: "the console's script"),
        "GET /console/callouts": .noToken(reason: "console page of the session's account: ConsoleTests"),
        "POST /console/callouts": .noToken(reason: "console compose (CSRF-checked): ConsoleOperationsTests, viewer and tokenless refused"),
        "GET /console/callouts/new": .noToken(reason: "console compose form: ConsoleOperationsTests (viewer 403)"),
        "GET /console/callouts/{id}/monitor": .noToken(reason: "console monitor: ConsoleOperationsTests checks another account's user (404)"),
        "GET /console/callouts/{id}/results.csv": .noToken(reason: "console results: ConsoleOperationsTests checks another account's user (404)"),
        "GET /console/contacts": .noToken(reason: "console search of the session's account: ConsoleOperationsTests"),
        "GET /console/contacts/count": .noToken(reason: "console recipient count of the session's account: ConsoleOperationsTests"),
        "GET /console/do_not_call": .noToken(reason: "console list of the session's account: ConsoleOperationsTests"),
        "POST /console/imports": .noToken(reason: "console CSV import (CSRF header): ConsoleOperationsTests, viewer and tokenless refused"),
        "GET /console/imports/{id}": .noToken(reason: "console import result: ConsoleOperationsTests checks another account's user (404)"),
        "GET /console/imports/{id}/errors.csv": .noToken(reason: "console refused lines: ConsoleOperationsTests checks another account's user (404)"),
        "POST /console/recordings": .noToken(reason: "console recording upload (CSRF header): ConsoleOperationsTests"),
        "GET /console/audio/{token}": .noToken(reason: "a recording for the provider's <Play>, found by its 256-bit random token only"),
        "GET /console/language/{code}": .noToken(reason: "sets the console's language cookie; reads no record"),
        "GET /console/accounts": .noToken(reason: "super admins' account list (403 for others): ConsoleOperationsTests"),
        "POST /console/accounts/{id}/act": .noToken(reason: "super admins' account switch (403 for others, CSRF-checked): ConsoleOperationsTests"),
        "POST /console/settings/webhooks": .noToken(reason: "console webhook endpoint (CSRF-checked, admins only): ConsoleOperationsTests"),
        "POST /console/settings/webhooks/{id}/delete": .noToken(reason: "console: ConsoleOperationsTests checks another account's admin (404)"),
        "POST /console/settings/deliveries/{id}/replay": .noToken(reason: "console: ConsoleOperationsTests checks another account's admin (404)"),
        "GET /console/second_factor": .noToken(reason: "the code page of a session whose password was right: ConsoleOperationsTests"),
        "POST /console/second_factor": .noToken(reason: "the second factor of the session's own user (CSRF-checked): ConsoleOperationsTests"),
        "GET /console/security": .noToken(reason: "the session's own user's sign-in settings: ConsoleOperationsTests"),
        "POST /console/security": .noToken(reason: "the session's own user's second factor (CSRF-checked): ConsoleOperationsTests"),
        "GET /console/settings": .noToken(reason: "console settings of the session's account, admins only: ConsoleOperationsTests"),
        "POST /console/settings/provider": .noToken(reason: "console settings (CSRF-checked, admins only): ConsoleOperationsTests"),
        "POST /console/settings/limits": .noToken(reason: "console settings (CSRF-checked, admins only): ConsoleOperationsTests"),
        "POST /console/settings/users": .noToken(reason: "console invitation (CSRF-checked, admins only): ConsoleOperationsTests"),
        "POST /console/settings/users/{id}/reset": .noToken(reason: "console: ConsoleOperationsTests checks another account's admin (404)"),
        "POST /console/settings/users/{id}/disable": .noToken(reason: "console: ConsoleOperationsTests checks another account's admin (404)"),
        "POST /console/settings/tokens": .noToken(reason: "console token creation (CSRF-checked, admins only): ConsoleOperationsTests"),
        "POST /console/settings/tokens/{id}/revoke": .noToken(reason: "console: ConsoleOperationsTests checks another account's admin (404)"),
        "GET /console/password/{token}": .noToken(reason: "a password link, found by its 256-bit random token only"),
        "POST /console/password/{token}": .noToken(reason: "a password link (CSRF cookie), found by its 256-bit random token only"),
        "POST /api/remote_phone_call_events": .noToken(reason: "signed provider callbacks, bound to their call by a token (ProviderWebhooksTests)"),

        "POST /api/accounts": .superAdminOnly(form: "metadata[name]=b"),
        "GET /api/accounts": .superAdminOnly(),
        "GET /api/accounts/{id}": .superAdminOnly(),
        "PATCH /api/accounts/{id}": .superAdminOnly(form: update),
        "PUT /api/accounts/{id}": .superAdminOnly(form: update),
        "DELETE /api/accounts/{id}": .superAdminOnly(),
        "POST /api/access_tokens": .superAdminOnly(form: "account_id=1"),
        "GET /api/access_tokens": .superAdminOnly(),
        "GET /api/access_tokens/{id}": .superAdminOnly(),
        "DELETE /api/access_tokens/{id}": .superAdminOnly(),

        "POST /api/contacts": .ownCreate(form: "msisdn=+252662345001", status: .created),
        "GET /api/contacts": .listing(resource: "contacts"),
        "GET /api/contacts/{id}": .foreign(),
        "PATCH /api/contacts/{id}": .foreign(form: update),
        "PUT /api/contacts/{id}": .foreign(form: update),
        "DELETE /api/contacts/{id}": .foreign(),
        "GET /api/contacts/{id}/callout_participations": .foreign(),
        "GET /api/contacts/{id}/phone_calls": .foreign(),
        "GET /api/contacts/{id}/remote_phone_call_events": .foreign(),

        "POST /api/callouts": .ownCreate(form: "metadata[name]=b", status: .created),
        "GET /api/callouts": .listing(resource: "callouts"),
        "GET /api/callouts/{id}": .foreign(),
        "PATCH /api/callouts/{id}": .foreign(form: update),
        "PUT /api/callouts/{id}": .foreign(form: update),
        "DELETE /api/callouts/{id}": .foreign(),
        "POST /api/callouts/{id}/callout_events": .foreign(form: "event=start"),
        "GET /api/callouts/{id}/callout_statistics": .foreign(),
        "GET /api/callouts/{id}/callout_progress": .foreign(),
        "GET /api/callouts/{id}/contacts": .foreign(),
        "POST /api/callouts/{id}/callout_participations": .foreign(form: "msisdn=+252662345002"),
        "GET /api/callouts/{id}/callout_participations": .foreign(),
        "GET /api/callouts/{id}/phone_calls": .foreign(),
        "GET /api/callouts/{id}/remote_phone_call_events": .foreign(),
        "POST /api/callouts/{id}/batch_operations": .foreign(
            form: "type=BatchOperation::CalloutPopulation&parameters[skip_validate_preview_presence]=true"),
        "GET /api/callouts/{id}/batch_operations": .foreign(),
        "POST /api/callouts/{id}/callout_populations": .foreign(form: "contact_filter_params[metadata][x]=1"),
        "GET /api/callouts/{id}/callout_populations": .foreign(),

        "GET /api/callout_participations": .listing(resource: "callout_participations"),
        "GET /api/callout_participations/{id}": .foreign(),
        "PATCH /api/callout_participations/{id}": .foreign(form: update),
        "PUT /api/callout_participations/{id}": .foreign(form: update),
        "DELETE /api/callout_participations/{id}": .foreign(),
        "POST /api/callout_participations/{id}/phone_calls": .foreign(form: seedRemoteRequestParams),
        "GET /api/callout_participations/{id}/phone_calls": .foreign(),
        "GET /api/callout_participations/{id}/remote_phone_call_events": .foreign(),

        "GET /api/phone_calls": .listing(resource: "phone_calls"),
        "GET /api/phone_calls/{id}": .foreign(),
        "PATCH /api/phone_calls/{id}": .foreign(form: update),
        "PUT /api/phone_calls/{id}": .foreign(form: update),
        "DELETE /api/phone_calls/{id}": .foreign(),
        "POST /api/phone_calls/{id}/phone_call_events": .foreign(form: "event=queue"),
        "GET /api/phone_calls/{id}/remote_phone_call_events": .foreign(),

        "GET /api/remote_phone_call_events": .listing(resource: "remote_phone_call_events"),
        "GET /api/remote_phone_call_events/{id}": .foreign(),
        "PATCH /api/remote_phone_call_events/{id}": .foreign(form: update),
        "PUT /api/remote_phone_call_events/{id}": .foreign(form: update),

        "POST /api/batch_operations": .ownCreate(
            form: "type=BatchOperation::PhoneCallQueue&parameters[skip_validate_preview_presence]=true", status: .created),
        "GET /api/batch_operations": .listing(resource: "batch_operations"),
        "GET /api/batch_operations/{id}": .foreign(),
        "PATCH /api/batch_operations/{id}": .foreign(form: update),
        "PUT /api/batch_operations/{id}": .foreign(form: update),
        "DELETE /api/batch_operations/{id}": .foreign(),
        "POST /api/batch_operations/{id}/batch_operation_events": .foreign(form: "event=queue"),
        "GET /api/batch_operations/{id}/preview/contacts": .foreign(),
        "GET /api/batch_operations/{id}/preview/callout_participations": .foreign(),
        "GET /api/batch_operations/{id}/preview/phone_calls": .foreign(),
        "GET /api/batch_operations/{id}/contacts": .foreign(),
        "GET /api/batch_operations/{id}/callout_participations": .foreign(),
        "GET /api/batch_operations/{id}/phone_calls": .foreign(),

        "GET /api/callout_populations": .listing(resource: "callout_populations"),
        "GET /api/callout_populations/{id}": .foreign(),
        "PATCH /api/callout_populations/{id}": .foreign(form: update),
        "PUT /api/callout_populations/{id}": .foreign(form: update),
        "DELETE /api/callout_populations/{id}": .foreign(),
        "POST /api/callout_populations/{id}/callout_population_events": .foreign(form: "event=queue"),
        "GET /api/callout_populations/{id}/preview/contacts": .foreign(),
        "GET /api/callout_populations/{id}/contacts": .foreign(),
        "GET /api/callout_populations/{id}/callout_participations": .foreign(),

        "POST /api/webhook_endpoints": .ownCreate(form: "url=https%3A%2F%2F93.184.216.34%2Fb", status: .created),
        "GET /api/webhook_endpoints": .listing(resource: "webhook_endpoints"),
        "GET /api/webhook_endpoints/{id}": .foreign(),
        "PATCH /api/webhook_endpoints/{id}": .foreign(form: update),
        "PUT /api/webhook_endpoints/{id}": .foreign(form: update),
        "DELETE /api/webhook_endpoints/{id}": .foreign(),
        "GET /api/webhook_deliveries": .listing(resource: "webhook_deliveries"),
        "GET /api/webhook_deliveries/{id}": .foreign(),
        "POST /api/webhook_deliveries/{id}/replay": .foreign(),

        "POST /api/do_not_call_entries": .ownCreate(form: "msisdn=+252662345003", status: .created),
        "GET /api/do_not_call_entries": .listing(resource: "do_not_call_entries"),
        "GET /api/do_not_call_entries/{id}": .foreign(),
        "PATCH /api/do_not_call_entries/{id}": .foreign(form: update),
        "PUT /api/do_not_call_entries/{id}": .foreign(form: update),
        "DELETE /api/do_not_call_entries/{id}": .foreign(),
    ]

    static func servedRoutes(_ api: TestAPI) -> [String] {
        let dependencies = APIDependencies(database: api.database, brokerProbe: nil, logger: api.logger)
        return buildRouter(dependencies).routes.map { route in
            "\(route.method.rawValue) /\(route.path.components.map(\.description).joined(separator: "/"))"
        }
    }

    @Test func everyServedRouteHasAnIsolationCase() {
        let served = Set(Self.servedRoutes(api))
        let listed = Set(Self.expectations.keys)
        #expect(served.subtracting(listed).sorted() == [], "served routes without an isolation case")
        #expect(listed.subtracting(served).sorted() == [], "isolation cases for routes not served")
        #expect(served.count > 70)
    }

    /// Account A's world: one record of each kind, made through the API where the API makes them.
    struct World {
        let account: Account
        let token: String
        var ids: [String: Int64] = [:]
        var msisdn = "+252662345900"
    }

    /// `owner`: another set of records for an account that has one already (`variant` keeps numbers distinct).
    func makeWorld(_ client: some TestClientProtocol, owner: (Account, String)? = nil, variant: Int = 0) async throws -> World {
        let (account, token): (Account, String)
        if let owner { (account, token) = owner } else { (account, token) = try await api.account() }
        var world = World(account: account, token: token)
        world.msisdn = "+2526623459\(variant)0"
        let contact = try await client.create("/api/contacts", token: token, form: "msisdn=\(world.msisdn)&metadata[x]=1")
        let callout = try await client.create("/api/callouts", token: token)
        let participation = try await client.create(
            "/api/callouts/\(callout)/callout_participations", token: token, form: "contact_id=\(contact)")
        let call = try await client.create("/api/callout_participations/\(participation)/phone_calls", token: token, form: seedRemoteRequestParams)
        let operation = try await client.create(
            "/api/batch_operations", token: token,
            form: "type=BatchOperation::PhoneCallQueue&parameters[skip_validate_preview_presence]=true")
        let population = try await client.create(
            "/api/callouts/\(callout)/callout_populations", token: token, form: "contact_filter_params[metadata][x]=1")
        let endpoint = try await client.create("/api/webhook_endpoints", token: token, form: "url=https%3A%2F%2F93.184.216.34%2Fa")
        let entry = try await client.create("/api/do_not_call_entries", token: token, form: "msisdn=+2526623459\(variant)1")
        let event = try await api.database.query(
            """
            INSERT INTO remote_phone_call_events (account_id, phone_call_id, remote_call_id, remote_direction, call_flow_logic)
            VALUES (\(account.id), \(call), 'CA-isolation', 'outbound-api', 'CallFlowLogic::Application') RETURNING id
            """, logger: api.logger
        ).single { try $0.decode(Int64.self) }
        let delivery = try await api.database.query(
            """
            INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload, status, attempts)
            VALUES (\(account.id), \(endpoint), 'phone_call.completed', \("isolation-\(endpoint)"), '{}', 'failed', 10) RETURNING id
            """, logger: api.logger
        ).single { try $0.decode(Int64.self) }
        let tokenID = try await api.database.query(
            "SELECT id FROM access_tokens WHERE account_id = \(account.id) ORDER BY id LIMIT 1", logger: api.logger
        ).single { try $0.decode(Int64.self) }
        world.ids = [
            "accounts": account.id, "access_tokens": tokenID, "contacts": contact, "callouts": callout,
            "callout_participations": participation, "phone_calls": call, "batch_operations": operation,
            "callout_populations": population, "webhook_endpoints": endpoint, "webhook_deliveries": delivery,
            "do_not_call_entries": entry, "remote_phone_call_events": event,
        ]
        return world
    }

    /// What A can see of its own records: each one's JSON, and each listing's total.
    func snapshot(_ client: some TestClientProtocol, _ world: World) async throws -> [String: String] {
        var seen: [String: String] = [:]
        for (resource, id) in world.ids where resource != "accounts" && resource != "access_tokens" {
            let member = try await client.request(.get, "/api/\(resource)/\(id)", token: world.token)
            #expect(member.status == .ok, "A reads its own \(resource) \(id)")
            seen["/api/\(resource)/\(id)"] = member.text
            let listing = try await client.request(.get, "/api/\(resource)", token: world.token)
            seen["/api/\(resource) Total"] = listing.headers[.totalHeader] ?? listing.text
        }
        let token = try await api.database.query(
            "SELECT revoked_at IS NULL FROM access_tokens WHERE id = \(world.ids["access_tokens"]!)", logger: api.logger
        ).single { try $0.decode(Bool.self) }
        seen["access token usable"] = "\(token)"
        return seen
    }

    static func path(_ route: String, ids: [String: Int64]) -> (HTTPRequest.Method, String) {
        let parts = route.split(separator: " ", maxSplits: 1)
        let method = HTTPRequest.Method(String(parts[0]))!
        var path = String(parts[1])
        let resource = path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        if let id = ids[resource] { path = path.replacingOccurrences(of: "{id}", with: String(id)) }
        return (method, path)
    }

    @Test func anotherTenantReachesNothingOfAccountA() async throws {
        try await api.test { client in
            let world = try await makeWorld(client)
            let (_, bToken) = try await api.account()
            let before = try await snapshot(client, world)
            var checked = 0
            for route in Self.servedRoutes(api).sorted() {
                guard let expectation = Self.expectations[route] else { continue }
                let (method, path) = Self.path(route, ids: world.ids)
                switch expectation {
                case .noToken:
                    continue
                case .foreign(let status, let form):
                    let response = try await client.request(method, path, token: bToken, form: form)
                    #expect(response.status == status, "\(route) as B on A's record: \(response.text)")
                    if status == .notFound { #expect(try response.json == ["status": 404, "error": "Not Found"], "\(route)") }
                case .superAdminOnly(let form):
                    let response = try await client.request(method, path, token: bToken, form: form)
                    #expect(response.status == .forbidden, "\(route) as B")
                case .listing(let resource):
                    let response = try await client.request(method, path, token: bToken)
                    #expect(response.status == .ok, "\(route) as B")
                    let aID = try #require(world.ids[resource])
                    #expect(try !response.recordIDs.contains(aID), "\(route): B's listing shows A's \(resource) \(aID)")
                case .ownCreate(let form, let status):
                    let response = try await client.request(method, path, token: bToken, form: form)
                    #expect(response.status == status, "\(route) as B: \(response.text)")
                }
                checked += 1
            }
            let withoutToken = Self.expectations.values.filter { if case .noToken = $0 { return true } else { return false } }.count
            #expect(checked == Self.expectations.count - withoutToken, "every route with a token was tried")
            let after = try await snapshot(client, world)
            for (key, value) in before { #expect(after[key] == value, "A's \(key) changed after B's requests") }
        }
    }

    /// Every listing the router serves (top-level and nested under a record) paginates alike: asked for page 2
    /// of pages of one (two of each record exist where the world makes two), it answers `Per-Page: 1`, its
    /// `Total`, and a `Link` whose first and previous pages are the same path with page 1. Found from the route
    /// list, so a listing added later is checked too.
    @Test func everyListingPaginatesWithLinkHeaders() async throws {
        try await api.test { client in
            let world = try await makeWorld(client)
            _ = try await makeWorld(client, owner: (world.account, world.token), variant: 1)
            var listings: [String] = []
            var paged: [String] = []
            for route in Self.servedRoutes(api).sorted() where route.hasPrefix("GET ") && !route.hasSuffix("{id}") {
                let (method, path) = Self.path(route, ids: world.ids)
                let response = try await client.request(method, path + "?per_page=1&page=2", token: world.token)
                guard response.status == .ok, (try? response.json.arrayValue) != nil else { continue }
                listings.append(route)
                #expect(response.headers[.perPageHeader] == "1", "\(route): Per-Page")
                let total = Int(response.headers[.totalHeader] ?? "")
                #expect(total != nil, "\(route): Total")
                guard let total, total >= 2 else { continue }
                paged.append(route)
                let link = response.headers[.linkHeader] ?? ""
                #expect(link.contains("<http://localhost\(path)?per_page=1&page=1>; rel=\"first\""), "\(route): first in \(link)")
                #expect(link.contains("<http://localhost\(path)?per_page=1&page=1>; rel=\"prev\""), "\(route): prev in \(link)")
                if total > 2 { #expect(link.contains("page=3>; rel=\"next\""), "\(route): next in \(link)") }
            }
            #expect(listings.count >= 20, "listings found: \(listings)")
            #expect(paged.count >= 10, "listings with two pages: \(paged)")
        }
    }

    /// A read-only token of A's own account writes nowhere: every route other than GET and HEAD is 403.
    @Test func aReadOnlyTokenCannotWriteAnywhere() async throws {
        try await api.test { client in
            let world = try await makeWorld(client)
            let readOnly = try await AccessTokenRepository(client: api.database, logger: api.logger)
                .create(accountID: world.account.id, createdBy: nil, scope: .readOnly).secret
            let before = try await snapshot(client, world)
            var writes = 0
            for route in Self.servedRoutes(api).sorted() where !route.hasPrefix("GET ") && !route.hasPrefix("HEAD ") {
                if case .noToken = Self.expectations[route] { continue }
                let (method, path) = Self.path(route, ids: world.ids)
                let response = try await client.request(method, path, token: readOnly, form: Self.update)
                #expect(response.status == .forbidden, "\(route) with a read-only token")
                writes += 1
            }
            #expect(writes > 30)
            let after = try await snapshot(client, world)
            for (key, value) in before { #expect(after[key] == value, "A's \(key) changed under a read-only token") }
        }
    }

    /// Records of another account named inside a request body or filter: never linked, never selected.
    @Test func anotherAccountsRecordsNamedInABodyOrFilterAreNotUsed() async throws {
        try await api.test { client in
            let world = try await makeWorld(client)
            let (_, bToken) = try await api.account()
            let bCallout = try await client.create("/api/callouts", token: bToken)

            // A participation naming A's contact: the contact does not exist in B's account.
            let byID = try await client.request(
                .post, "/api/callouts/\(bCallout)/callout_participations", token: bToken, form: "contact_id=\(world.ids["contacts"]!)")
            #expect(byID.status == .unprocessableContent, "\(byID.text)")
            #expect(try byID.json == ["errors": ["contact": ["must exist"]]])
            // By A's contact's number: only a contact of B's own would do, and B has none with it.
            let byNumber = try await client.request(
                .post, "/api/callouts/\(bCallout)/callout_participations", token: bToken, form: "msisdn=\(world.msisdn)")
            #expect(byNumber.status == .unprocessableContent, "\(byNumber.text)")
            #expect(try byNumber.json == ["errors": ["contact": ["must exist"]]])
            #expect(try await client.ids("/api/callouts/\(bCallout)/callout_participations", token: bToken).isEmpty)

            // A batch operation whose filter names A's callout selects nothing of A's.
            let filtered = try await client.request(
                .post, "/api/batch_operations", token: bToken,
                form:
                    "type=BatchOperation::PhoneCallCreate&\(Self.callParameters)&parameters[callout_participation_filter_params][callout_id]=\(world.ids["callouts"]!)"
            )
            #expect(filtered.status == .unprocessableContent, "nothing of B's matches: \(filtered.text)")
            #expect(try filtered.json == ["errors": ["preview": ["can't be blank"]]])
            let forced = try await client.create(
                "/api/batch_operations", token: bToken,
                form:
                    "type=BatchOperation::PhoneCallCreate&\(Self.callParameters)&parameters[skip_validate_preview_presence]=true&parameters[callout_participation_filter_params][callout_id]=\(world.ids["callouts"]!)"
            )
            let preview = try await client.request(.get, "/api/batch_operations/\(forced)/preview/callout_participations", token: bToken)
            #expect(preview.status == .ok)
            #expect(try preview.recordIDs.isEmpty, "B's preview lists A's participations")
            #expect(preview.headers[.totalHeader] == "0")

            // Filters by A's ids on B's listings find nothing.
            for (path, resource) in [
                ("/api/phone_calls?q[callout_id]=", "callouts"), ("/api/callout_participations?q[contact_id]=", "contacts"),
                ("/api/webhook_deliveries?q[webhook_endpoint_id]=", "webhook_endpoints"),
            ] {
                let response = try await client.request(.get, path + String(world.ids[resource]!), token: bToken)
                #expect(response.status == .ok, "\(path)")
                #expect(try response.recordIDs.isEmpty, "\(path) as B lists A's records")
            }
        }
    }
}
