import Console
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOCore
import PostgresNIO
import Shared

/// The operator console (issue #23): pages served by the API process under `/console`, for the people of an
/// agency. Sign-in by email and password (ConsoleUsers) makes a session cookie (ConsoleSessions).
///
/// Invariants:
/// - Every page reads only the signed-in user's account: the account id comes from the session, never from
///   the request, and every query is scoped by it before it reads.
/// - Every unsafe request (POST) carries a CSRF token equal to the session's (signed in) or to the sign-in
///   cookie's (signing in); a request without it is refused with 403 and changes nothing.
/// - Cookies are HttpOnly, SameSite=Strict, path /console, Secure when the public address is https; pages are
///   `Cache-Control: no-store` with a Content-Security-Policy that allows this origin's stylesheet only.
/// - Sign-ins and their failures are in the audit trail; ten failures for one email within 15 minutes refuse
///   further attempts for it (across every API replica: the count is in PostgreSQL).
struct ConsoleController: Sendable {
    let users: ConsoleUsers
    let sessions: ConsoleSessions
    let audit: AuditTrail
    let database: PostgresClient
    let library: MustacheLibrary
    let secureCookies: Bool
    /// Seals provider auth tokens an admin sets (`SECRETS_KEY`).
    let secrets: SecretBox?
    /// The account's webhook endpoints and deliveries (the REST API's, with its outbound policy and limits).
    let webhooks: WebhookRepository?
    /// Where the provider reaches this installation: uploaded recordings are played from here.
    let publicBaseURL: String?
    /// How often the live monitor pushes a snapshot.
    let monitorInterval: Duration
    let logger: Logger
    /// The strings of the request being answered (`ConsoleText.current`, chosen per request by `localized`).
    var text: ConsoleText { ConsoleText.current }

    static let sessionCookie = "scfm_session"
    static let signInCookie = "scfm_sign_in"
    static let failureWindow: Duration = .seconds(15 * 60)
    static let failuresAllowed = 10

    init(
        database: PostgresClient, logger: Logger, bcryptCost: UInt8 = 12, secureCookies: Bool, publicBaseURL: String? = nil,
        monitorInterval: Duration = .seconds(1), secrets: SecretBox? = nil, webhooks: WebhookRepository? = nil
    ) {
        self.secrets = secrets
        self.webhooks = webhooks
        self.publicBaseURL = publicBaseURL
        self.monitorInterval = monitorInterval
        self.database = database
        self.logger = logger
        users = ConsoleUsers(client: database, logger: logger, cost: bcryptCost)
        sessions = ConsoleSessions(client: database, logger: logger)
        audit = AuditTrail(client: database, logger: logger)
        self.secureCookies = secureCookies
        var library = MustacheLibrary()
        for (name, template) in ConsoleTemplates.all {
            // The templates are constants of this file's module: a parse error is a programming error.
            try! library.register(template, named: name)
        }
        self.library = library
    }

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("console/static/console.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleTemplates.stylesheet)))
        }
        router.get("console/static/console.js") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleScript.source)))
        }
        router.get("console/language/:code", use: chooseLanguage)
        router.get("console/sign_in", use: localized(signInPage))
        router.post("console/sign_in", use: localized(signIn))
        router.post("console/sign_out", use: localized(signOut))
        router.get("console", use: localized(home))
        router.get("console/audit", use: localized(auditPage))
        router.get("console/callouts", use: localized(calloutsPage))
        router.post("console/callouts", use: localized(createCallout))
        router.get("console/callouts/new", use: localized(composePage))
        router.get("console/callouts/:id", use: localized(calloutPage))
        router.post("console/callouts/:id/events", use: localized(calloutEvent))
        router.get("console/callouts/:id/monitor", use: localized(monitor))
        router.get("console/callouts/:id/results.csv", use: localized(results))
        router.get("console/contacts", use: localized(contactsPage))
        router.get("console/contacts/count", use: localized(contactsCount))
        router.get("console/do_not_call", use: localized(doNotCallPage))
        router.post("console/imports", use: localized(importNumbers))
        router.get("console/imports/:id", use: localized(importPage))
        router.get("console/imports/:id/errors.csv", use: localized(importErrors))
        router.post("console/recordings", use: localized(uploadAudio))
        router.get("console/audio/:token", use: audio)
        router.get("console/second_factor", use: localized(secondFactorPage))
        router.post("console/second_factor", use: localized(secondFactor))
        router.get("console/security", use: localized(securityPage))
        router.post("console/security", use: localized(changeSecondFactor))
        router.get("console/accounts", use: localized(accountsPage))
        router.post("console/accounts/:id/act", use: localized(actInAccount))
        router.get("console/settings", use: localized(settingsPage))
        router.post("console/settings/provider", use: localized(updateProvider))
        router.post("console/settings/limits", use: localized(updateLimits))
        router.post("console/settings/users", use: localized(inviteUser))
        router.post("console/settings/users/:id/reset", use: localized(resetUser))
        router.post("console/settings/users/:id/disable", use: localized(disableUser))
        router.post("console/settings/tokens", use: localized(createToken))
        router.post("console/settings/webhooks", use: localized(createWebhook))
        router.post("console/settings/webhooks/:id/delete", use: localized(deleteWebhook))
        router.post("console/settings/deliveries/:id/replay", use: localized(replayDelivery))
        router.post("console/settings/tokens/:id/revoke", use: localized(revokeToken))
        router.get("console/password/:token", use: localized(passwordPage))
        router.post("console/password/:token", use: localized(setPassword))
    }

    /// A handler answering in the language the request asks for (`ConsoleText.choose`).
    func localized(
        _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response
    ) -> @Sendable (Request, APIRequestContext) async throws -> Response {
        { request, context in
            let text = ConsoleText.choose(
                cookie: Self.cookies(request)[Self.languageCookie], acceptLanguage: request.headers[.acceptLanguage])
            return try await ConsoleText.$current.withValue(text) { try await handler(request, context) }
        }
    }

    static let languageCookie = "scfm_lang"

    /// `GET /console/language/:code`: remembers the language in a cookie (a year) and returns to the overview.
    @Sendable func chooseLanguage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let code = context.parameters.get("code") ?? "en"
        guard ConsoleText.catalogues[code] != nil else { throw RecordNotFound() }
        var response = Self.redirect(to: "/console")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.languageCookie, code, maxAge: 365 * 24 * 3600)))
        return response
    }

    // MARK: Signing in and out

    @Sendable func signInPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        if try await session(request) != nil { return Self.redirect(to: "/console") }
        let token = ConsoleSessions.randomToken()
        var response = page("sign_in", title: text.signIn, values: ["csrf": token])
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, token, maxAge: 3600)))
        return response
    }

    @Sendable func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard let expected = Self.cookies(request)[Self.signInCookie], let given = form["csrf_token"], Self.same(expected, given) else {
            return forbiddenPage()
        }
        let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let password = form["password"] ?? ""
        let address = context.remoteAddress
        if try await audit.failedSignIns(email: email, within: Self.failureWindow) >= Self.failuresAllowed {
            try await audit.record(
                accountID: try await users.accountID(ofEmail: email), user: nil, actor: email, action: "sign_in_refused", remoteAddress: address)
            return page(
                "sign_in", title: text.signIn, values: ["csrf": expected, "email": email, "error": text.tooManyAttempts], status: .tooManyRequests)
        }
        guard let user = try await users.authenticate(email: email, password: password) else {
            // Shown to the account whose user it names, if any (an attack on its people is its business).
            try await audit.record(
                accountID: try await users.accountID(ofEmail: email), user: nil, actor: email, action: "sign_in_failed", remoteAddress: address)
            return page(
                "sign_in", title: text.signIn, values: ["csrf": expected, "email": email, "error": text.wrongCredentials], status: .unauthorized)
        }
        // With a second factor on, the password opens a session that waits 5 minutes for the code.
        let pending = try await SecondFactors(client: database, logger: logger, box: secrets).required(userID: user.id)
        let (token, _) = try await sessions.start(for: user, secondFactorPending: pending)
        try await audit.record(
            accountID: user.accountID, user: user, action: pending ? "password_accepted" : "signed_in", remoteAddress: address)
        var response = Self.redirect(to: pending ? "/console/second_factor" : "/console")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, token, maxAge: Int(sessions.lifetime.seconds))))
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, "", maxAge: 0)))
        return response
    }

    @Sendable func signOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        try await sessions.end(session)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "signed_out", remoteAddress: context.remoteAddress)
        var response = Self.redirect(to: "/console/sign_in")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, "", maxAge: 0)))
        return response
    }

    // MARK: Pages

    /// Totals of the account (contacts, running callouts, calls today and the share answered) and the running
    /// callouts' progress.
    @Sendable func home(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let account = session.user.accountID
        let contacts = try await RecordCounts.total(database, logger: logger, accountID: account, table: "contacts")
        let (today, answered) = try await database.query(
            """
            SELECT count(*), count(*) FILTER (WHERE status = 'completed') FROM phone_calls
            WHERE account_id = \(account) AND remotely_queued_at >= date_trunc('day', now())
            """, logger: logger
        ).single { try $0.decode((Int64, Int64).self) }
        var running: [[String: Any]] = []
        let rows = try await database.query(
            """
            SELECT id, coalesce(metadata ->> 'name', 'Callout ' || id) FROM callouts
            WHERE account_id = \(account) AND status = 'running' ORDER BY id DESC LIMIT 20
            """, logger: logger)
        var callouts: [(Int64, String)] = []
        for try await (id, name) in rows.decode((Int64, String).self) { callouts.append((id, name)) }
        for (id, name) in callouts {
            let progress = try await CalloutProgress.compute(database, logger: logger, accountID: account, calloutID: id)
            let finished = progress.participations - progress.remaining
            let percent = progress.participations > 0 ? Int(Double(finished) * 100 / Double(progress.participations)) : 0
            running.append([
                "id": id, "name": name, "participations": progress.participations, "finished": finished, "percent": percent,
                "stoppable": session.user.role.operates, "csrf": session.csrfToken,
            ])
        }
        let totals: [String: Any] = [
            "contacts": contacts, "running": callouts.count, "callsToday": today,
            "answerRate": today > 0 ? "\(Int((Double(answered) * 100 / Double(today)).rounded())) %" : "–",
        ]
        return page("home", title: text.home, session: session, values: ["totals": totals, "running": running])
    }

    @Sendable func auditPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let events = try await audit.recent(accountID: session.user.accountID, limit: 200).map { event -> [String: Any] in
            [
                "at": Timestamp.iso8601(event.createdAt), "actor": event.actor, "action": event.action,
                "subject": event.subjectType.map { type in event.subjectID.map { "\(type) \($0)" } ?? type } ?? "",
                "address": event.remoteAddress ?? "",
            ]
        }
        return page("audit", title: text.audit, session: session, values: ["events": events])
    }

    /// A callout of the user's account (404 for any other): its message, its audience's population, the live
    /// monitor (pushed by `monitor`), its results, and the actions its state and the role allow.
    @Sendable func calloutPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let account = session.user.accountID
        let callout = try await CalloutRepository(client: database, logger: logger).find(accountID: account, id: try context.recordID())
        let snapshot = try await CalloutMonitor(client: database, logger: logger).snapshot(accountID: account, calloutID: callout.id)
        let progress = snapshot.progress
        let status = CalloutStatus(rawValue: callout.status)
        let actions: [[String: Any]] =
            session.user.role.operates
            ? CalloutEvent.allCases.filter { event in status.map { event.from.contains($0) } ?? false }.map { event in
                ["event": event.rawValue, "label": label(event), "csrf": session.csrfToken, "confirmed": event == .stop]
            } : []
        let population = try await database.query(
            """
            SELECT status FROM batch_operations
            WHERE account_id = \(account) AND callout_id = \(callout.id) AND type = \(BatchOperationType.calloutPopulation.rawValue)
            ORDER BY id DESC LIMIT 1
            """, logger: logger)
        var populationStatus: String?
        for try await value in population.decode(String.self) { populationStatus = value }
        let audioURL = callout.metadata["audio_url"]?.stringValue
        let localAudio = audioURL.flatMap { url in url.range(of: "/console/audio/").map { String(url[$0.lowerBound...]) } }
        let name = callout.metadata["name"]?.stringValue ?? "Callout \(callout.id)"
        let values: [String: Any] = [
            "callout": [
                "id": callout.id, "name": name, "status": callout.status,
                "participations": progress.participations, "finished": progress.participations - progress.remaining,
                "percent": snapshot.percent,
                "message": callout.metadata["message"]?.stringValue ?? "",
                "voice": callout.metadata["voice"]?.stringValue ?? "", "language": callout.metadata["language"]?.stringValue ?? "",
                "audio": localAudio ?? "", "audioURL": audioURL ?? "",
                "populating": populationStatus.map { $0 != "finished" } ?? false,
            ],
            "monitor": monitorValues(snapshot),
            "actions": actions,
        ]
        return page("callout", title: name, session: session, values: values)
    }

    /// The monitor's figures as the page first draws them (the script then replaces them every second).
    func monitorValues(_ snapshot: CalloutMonitor.Snapshot) -> [String: Any] {
        let json = monitorJSON(snapshot, text: text)
        let total = max(1, snapshot.progress.participations)
        var segments: [[String: Any]] = []
        for key in ["answered", "exhausted", "do_not_call", "expired", "retrying", "waiting"] {
            let count = json[key]?.integerValue ?? 0
            segments.append(["key": key, "label": text.outcome(key), "count": count, "width": Double(count) * 100 / Double(total)])
        }
        return [
            "segments": segments, "rate": json["calls_per_second"]?.doubleValue ?? 0, "reason": json["reason_text"]?.stringValue ?? "",
            "finish": json["estimated_finish_at"]?.stringValue ?? "–", "dialled": snapshot.progress.dialled,
            "calls": snapshot.calls.map { ["id": $0.id, "msisdn": $0.msisdn, "status": $0.status, "at": Timestamp.iso8601($0.updatedAt)] },
        ]
    }

    /// Start, pause, resume or stop, for operators and admins: first a confirmation naming how many people it
    /// concerns, then (with `confirmed=yes`) the change, compare-and-set as the REST API's, and its audit event.
    @Sendable func calloutEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        let id = try context.recordID()
        let callouts = CalloutRepository(client: database, logger: logger)
        // The account's own callout or 404, before anything else is said about it.
        let callout = try await callouts.find(accountID: session.user.accountID, id: id)
        guard session.user.role.operates else {
            return page(
                "callout", title: text.notAllowed, session: session, values: ["callout": ["id": id, "name": text.notAllowed]], status: .forbidden)
        }
        guard let event = form["event"].flatMap(CalloutEvent.init(rawValue:)) else { throw APIError.badRequest("unknown event") }
        guard form["confirmed"] == "yes" else {
            let progress = try await CalloutProgress.compute(database, logger: logger, accountID: session.user.accountID, calloutID: callout.id)
            let people = event == .start ? progress.participations : progress.remaining
            let (question, consequence) = text.confirmation(event.rawValue, people: people)
            return page(
                "confirm", title: question, session: session,
                values: [
                    "question": question, "consequence": consequence, "calloutID": id, "event": event.rawValue, "label": label(event),
                    "csrf": session.csrfToken,
                ])
        }
        do {
            _ = try await callouts.apply(event, accountID: session.user.accountID, id: id)
        } catch is ValidationErrors {
            // The state changed since the page was drawn (another operator, the autopilot): show where it stands.
            return Self.redirect(to: "/console/callouts/\(id)")
        }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "callout.\(Self.pastTense[event]!)", subjectType: "callout",
            subjectID: id, remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/callouts/\(id)")
    }

    static let pastTense: [CalloutEvent: String] = [.start: "started", .pause: "paused", .resume: "resumed", .stop: "stopped"]

    func label(_ event: CalloutEvent) -> String {
        switch event {
        case .start: text.start
        case .pause: text.pause
        case .resume: text.resume
        case .stop: text.stop
        }
    }

    // MARK: Helpers

    /// The signed-in session of the request (nil without one, or while its second factor is still to come).
    func session(_ request: Request) async throws -> ConsoleSessions.Session? {
        guard let session = try await anySession(request), !session.secondFactorPending else { return nil }
        return session
    }

    /// The request's session, a second factor pending or not (only the code page takes a pending one).
    func anySession(_ request: Request) async throws -> ConsoleSessions.Session? {
        guard let token = Self.cookies(request)[Self.sessionCookie], !token.isEmpty else { return nil }
        return try await sessions.find(cookie: token)
    }

    func page(
        _ template: String, title: String, session: ConsoleSessions.Session? = nil, values: [String: Any] = [:],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var context: [String: Any] = [
            "text": text.values, "title": title,
            "uiLanguages": ConsoleText.catalogues.sorted { $0.key < $1.key }.map { ["code": $0.key, "name": $0.value.languageName] },
        ]
        if let session {
            var user: [String: Any] = [
                "email": session.user.email, "role": session.user.role.rawValue, "csrf": session.csrfToken,
                "admin": session.user.role.administers, "superAdmin": session.superAdmin,
            ]
            if let own = session.ownAccountID { user["actingIn"] = ["account": session.user.accountID, "own": own] }
            context["user"] = user
        }
        for (key, value) in values { context[key] = value }
        let html = library.render(context, withTemplate: template) ?? ""
        return Response(status: status, headers: Self.pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func forbiddenPage() -> Response {
        page("sign_in", title: text.signIn, values: ["csrf": "", "error": text.formExpired], status: .forbidden)
    }

    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; media-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secureCookies ? "; Secure" : "")
    }

    static func cookies(_ request: Request) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                cookies[parts[0].trimmingCharacters(in: .whitespaces)] = String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        return cookies
    }

    /// A console form: a few short fields (8 KiB at most), read by the API's own form parser (its key caps
    /// included); a field sent without a value reads as absent.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 8 * 1024)
        let parsed: JSONObject
        do {
            parsed = try NestedQueryParser.parse(String(buffer: body))
        } catch {
            throw APIError.badRequest(error.description)
        }
        var values: [String: String] = [:]
        for (key, value) in parsed { values[key] = value.stringValue }
        return values
    }

    /// Compares two tokens in time independent of where they differ.
    static func same(_ left: String, _ right: String) -> Bool {
        let (a, b) = (Array(left.utf8), Array(right.utf8))
        guard a.count == b.count, !a.isEmpty else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
