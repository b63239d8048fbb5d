import Console
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import API

/// The operator console's sign-in, sessions, CSRF checks, account scoping and audit trail, over HTTP against a
/// real PostgreSQL (the browser tests drive the same pages in Chromium).
@Suite(.timeLimit(.minutes(2))) struct ConsoleTests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "console") }

    /// A browser of the tests: keeps the cookies the console sets, sends forms.
    struct Browser {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]

        mutating func request(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            var body: ByteBuffer?
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                let encoded = form.map { key, value in
                    "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                }.joined(separator: "&")
                body = ByteBuffer(string: encoded)
            }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
            for header in response.headers[values: .setCookie] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count == 2 ? String(pair[1]) : ""
                if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            return response
        }

        /// The hidden `csrf_token` of the page.
        static func csrf(_ response: TestResponse) -> String? {
            let html = String(buffer: response.body)
            guard let range = html.range(of: #"name="csrf_token" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func user(_ role: ConsoleUser.Role, account: Int64, password: String = "correct horse battery") async throws -> ConsoleUser {
        try await ConsoleUsers(client: api.database, logger: api.logger, cost: 4).create(
            accountID: account, email: "\(role.rawValue)-\(UUID().uuidString.prefix(8))@agency.example.org", role: role, password: password)
    }

    func signIn(_ browser: inout Browser, _ user: ConsoleUser, password: String = "correct horse battery") async throws -> TestResponse {
        let page = try await browser.request(.get, "/console/sign_in")
        return try await browser.request(
            .post, "/console/sign_in", form: ["csrf_token": Browser.csrf(page) ?? "", "email": user.email, "password": password])
    }

    @Test func signingInNeedsTheFormsTokenAndTheRightPassword() async throws {
        let (account, _) = try await api.account()
        let admin = try await user(.admin, account: account.id)
        try await api.test { client in
            var browser = Browser(client: client)
            let anonymous = try await browser.request(.get, "/console")
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/sign_in")

            let page = try await browser.request(.get, "/console/sign_in")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            #expect(page.headers[.cacheControl] == "no-store")
            let setCookie = page.headers[.setCookie] ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"))
            let token = try #require(Browser.csrf(page))
            #expect(browser.cookies[ConsoleController.signInCookie] == token)

            // No token in the form, or a token that is not the cookie's: refused, nothing recorded.
            let withoutToken = try await browser.request(
                .post, "/console/sign_in", form: ["email": admin.email, "password": "correct horse battery"])
            #expect(withoutToken.status == .forbidden)
            let forged = try await browser.request(
                .post, "/console/sign_in", form: ["csrf_token": String(token.reversed()), "email": admin.email, "password": "correct horse battery"])
            #expect(forged.status == .forbidden)
            #expect(browser.cookies[ConsoleController.sessionCookie] == nil)

            let wrong = try await browser.request(
                .post, "/console/sign_in", form: ["csrf_token": token, "email": admin.email, "password": "wrong password!"])
            #expect(wrong.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("The email or the password is wrong."))
            let unknown = try await browser.request(
                .post, "/console/sign_in", form: ["csrf_token": token, "email": "nobody@agency.example.org", "password": "correct horse battery"])
            #expect(unknown.status == .unauthorized, "the same answer whether the email exists or not")

            let signedIn = try await browser.request(
                .post, "/console/sign_in", form: ["csrf_token": token, "email": admin.email.uppercased(), "password": "correct horse battery"])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/console")
            #expect(browser.cookies[ConsoleController.sessionCookie] != nil)
            #expect(browser.cookies[ConsoleController.signInCookie] == nil, "the sign-in token is used up")
            let home = try await browser.request(.get, "/console")
            #expect(home.status == .ok)
            #expect(String(buffer: home.body).contains(admin.email))
        }
        // Only the session's digest is stored, and the failures are in the audit trail.
        let sessions = try await api.database.query(
            "SELECT count(*) FROM console_sessions WHERE user_id = \(admin.id) AND length(token_digest) = 32", logger: api.logger
        ).single { try $0.decode(Int64.self) }
        #expect(sessions == 1)
        let actions = try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: account.id).map(\.action)
        #expect(actions == ["signed_in", "sign_in_failed"], "the failure against its user is the account's to see; the unknown email's is not")
        #expect(try await AuditTrail(client: api.database, logger: api.logger).failedSignIns(email: admin.email, within: .seconds(60)) == 1)
    }

    /// Each account's people see only their account: totals and running callouts of their own.
    @Test func aUserSeesOnlyTheirAccount() async throws {
        let (agencyA, _) = try await api.account()
        let (agencyB, _) = try await api.account()
        let viewerB = try await user(.viewer, account: agencyB.id)
        try await api.execute(
            """
            INSERT INTO callouts (account_id, status, call_flow_logic, metadata) VALUES
              (\(agencyA.id), 'running', 'CallFlowLogic::HelloWorld', '{"name": "Flood warning province A"}'),
              (\(agencyB.id), 'running', 'CallFlowLogic::HelloWorld', '{"name": "Cyclone drill B"}')
            """)
        try await api.execute("INSERT INTO contacts (account_id, msisdn) VALUES (\(agencyA.id), '+85512000001'), (\(agencyA.id), '+85512000002')")
        try await api.test { client in
            var browser = Browser(client: client)
            #expect(try await signIn(&browser, viewerB).status == .seeOther)
            let home = String(buffer: try await browser.request(.get, "/console").body)
            #expect(home.contains("Cyclone drill B"))
            #expect(!home.contains("Flood warning province A"), "another agency's callout")
            #expect(home.contains(#"<span class="figure" id="contacts">0</span>"#), "another agency's contacts are not counted")
            let audit = String(buffer: try await browser.request(.get, "/console/audit").body)
            #expect(audit.contains(viewerB.email) && audit.contains("signed_in"))
        }
    }

    /// Signing out needs the session's token; afterwards the cookie signs no one in. A disabled user's
    /// sessions end at once.
    @Test func signingOutAndDisablingEndSessions() async throws {
        let (account, _) = try await api.account()
        let operatorUser = try await user(.operator, account: account.id)
        try await api.test { client in
            var browser = Browser(client: client)
            #expect(try await signIn(&browser, operatorUser).status == .seeOther)
            let home = try await browser.request(.get, "/console")
            let token = try #require(Browser.csrf(home))
            let session = try #require(browser.cookies[ConsoleController.sessionCookie])
            #expect(try await browser.request(.post, "/console/sign_out", form: [:]).status == .forbidden, "no token: refused")
            #expect(try await browser.request(.get, "/console").status == .ok, "still signed in")
            let out = try await browser.request(.post, "/console/sign_out", form: ["csrf_token": token])
            #expect(out.status == .seeOther && out.headers[.location] == "/console/sign_in")
            browser.cookies[ConsoleController.sessionCookie] = session
            #expect(try await browser.request(.get, "/console").status == .seeOther, "the old cookie signs no one in")

            #expect(try await signIn(&browser, operatorUser).status == .seeOther)
            #expect(try await ConsoleUsers(client: api.database, logger: api.logger).disable(accountID: account.id, email: operatorUser.email))
            #expect(try await browser.request(.get, "/console").status == .seeOther, "disabled: signed out at once")
            #expect(try await signIn(&browser, operatorUser).status == .unauthorized)
        }
    }

    /// An operator starts and pauses a callout through a confirmation that names how many people it calls; a
    /// viewer sees no action and is refused one; another agency's callout is 404 for the page and the action;
    /// an action without the form's token changes nothing. Each change is in the audit trail.
    @Test func operatorsControlTheirCalloutsAndViewersCannot() async throws {
        let (agencyA, _) = try await api.account()
        let (agencyB, _) = try await api.account()
        let operatorA = try await user(.operator, account: agencyA.id)
        let viewerA = try await user(.viewer, account: agencyA.id)
        let seed = AutopilotSeed(client: api.database, logger: api.logger)
        let callout = try await seed.createCallout(accountID: agencyA.id, participants: 3, status: "initialized", firstNumber: 85_580_000_000)
        let foreign = try await seed.createCallout(accountID: agencyB.id, participants: 1, status: "running", firstNumber: 85_581_000_000)
        @Sendable func status(_ id: Int64) async throws -> String {
            try await api.database.query("SELECT status FROM callouts WHERE id = \(id)", logger: api.logger).single { try $0.decode(String.self) }
        }
        try await api.test { client in
            var viewer = Browser(client: client)
            #expect(try await signIn(&viewer, viewerA).status == .seeOther)
            let seen = try await viewer.request(.get, "/console/callouts/\(callout)")
            #expect(seen.status == .ok && !String(buffer: seen.body).contains("action-start"), "a viewer sees no action")
            let token = try #require(Browser.csrf(seen))
            let refused = try await viewer.request(
                .post, "/console/callouts/\(callout)/events", form: ["csrf_token": token, "event": "start", "confirmed": "yes"])
            #expect(refused.status == .forbidden)
            #expect(try await status(callout) == "initialized")

            var operatorBrowser = Browser(client: client)
            #expect(try await signIn(&operatorBrowser, operatorA).status == .seeOther)
            #expect(try await operatorBrowser.request(.get, "/console/callouts/\(foreign)").status == .notFound, "another agency's callout")
            let page = try await operatorBrowser.request(.get, "/console/callouts/\(callout)")
            #expect(String(buffer: page.body).contains("action-start"))
            let csrf = try #require(Browser.csrf(page))
            let foreignAction = try await operatorBrowser.request(
                .post, "/console/callouts/\(foreign)/events", form: ["csrf_token": csrf, "event": "stop", "confirmed": "yes"])
            #expect(foreignAction.status == .notFound)
            #expect(try await status(foreign) == "running", "another agency's callout is untouched")
            let tokenless = try await operatorBrowser.request(
                .post, "/console/callouts/\(callout)/events", form: ["event": "start", "confirmed": "yes"])
            #expect(tokenless.status == .forbidden)
            #expect(try await status(callout) == "initialized")

            let confirmation = try await operatorBrowser.request(
                .post, "/console/callouts/\(callout)/events", form: ["csrf_token": csrf, "event": "start"])
            #expect(String(buffer: confirmation.body).contains("It calls 3 people"), "the confirmation names the recipients")
            #expect(try await status(callout) == "initialized", "nothing happens before the confirmation")
            let started = try await operatorBrowser.request(
                .post, "/console/callouts/\(callout)/events", form: ["csrf_token": csrf, "event": "start", "confirmed": "yes"])
            #expect(started.status == .seeOther && started.headers[.location] == "/console/callouts/\(callout)")
            #expect(try await status(callout) == "running")
            let running = String(buffer: try await operatorBrowser.request(.get, "/console/callouts/\(callout)").body)
            #expect(running.contains("action-pause") && running.contains("action-stop") && !running.contains("action-start"))
            _ = try await operatorBrowser.request(
                .post, "/console/callouts/\(callout)/events", form: ["csrf_token": csrf, "event": "pause", "confirmed": "yes"])
            #expect(try await status(callout) == "paused")
        }
        let actions = try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: agencyA.id).map(\.action)
        #expect(actions.prefix(2) == ["callout.paused", "callout.started"], "\(actions)")
    }

    /// Ten failed sign-ins for one email within 15 minutes refuse further tries for it, even the right password.
    @Test func repeatedFailuresAreRefused() async throws {
        let (account, _) = try await api.account()
        let admin = try await user(.admin, account: account.id)
        try await api.test { client in
            var browser = Browser(client: client)
            for _ in 0..<ConsoleController.failuresAllowed {
                #expect(try await signIn(&browser, admin, password: "not the password").status == .unauthorized)
            }
            let refused = try await signIn(&browser, admin)
            #expect(refused.status == .tooManyRequests)
            #expect(String(buffer: refused.body).contains("Too many failed sign-ins"))
        }
    }

    /// The audit trail is append-only: PostgreSQL itself refuses to change or delete its rows.
    @Test func theAuditTrailCannotBeRewritten() async throws {
        let (account, _) = try await api.account()
        try await AuditTrail(client: api.database, logger: api.logger).record(
            accountID: account.id, user: nil, actor: "tester", action: "callout.started", subjectType: "callout", subjectID: 1, remoteAddress: nil)
        await #expect(throws: (any Error).self) { try await api.execute("UPDATE audit_events SET actor = 'someone else'") }
        await #expect(throws: (any Error).self) { try await api.execute("DELETE FROM audit_events") }
        await #expect(throws: (any Error).self) { try await api.execute("TRUNCATE audit_events") }
        #expect(try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: account.id).map(\.actor) == ["tester"])
    }

    @Test func usersAreValidated() async throws {
        let (account, _) = try await api.account()
        let users = ConsoleUsers(client: api.database, logger: api.logger, cost: 4)
        await #expect(throws: ValidationErrors.self) {
            _ = try await users.create(accountID: account.id, email: "not-an-email", role: .viewer, password: "long enough password")
        }
        await #expect(throws: ValidationErrors.self) {
            _ = try await users.create(accountID: account.id, email: "short@agency.example.org", role: .viewer, password: "short")
        }
        let created = try await users.create(accountID: account.id, email: "Dup@Agency.example.org", role: .viewer, password: "long enough password")
        #expect(created.email == "dup@agency.example.org")
        await #expect(throws: ValidationErrors.self) {
            _ = try await users.create(accountID: account.id, email: "dup@agency.example.org", role: .admin, password: "long enough password")
        }
        let stored = try await api.database.query("SELECT password_hash FROM console_users WHERE id = \(created.id)", logger: api.logger)
            .single { try $0.decode(String.self) }
        #expect(stored.hasPrefix("$2") && !stored.contains("long enough password"), "a bcrypt hash, never the password")
    }
}
