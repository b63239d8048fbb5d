import Console
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// The account's settings, for its admins: the telephony provider (auth tokens write-only: sealed with
/// `SECRETS_KEY` and never shown again), the dialling limits and the autopilot's defaults, the console's users
/// (invitation and reset links, disabling) and the REST API's access tokens (created, shown once, revoked).
/// And the page a password link opens, for anyone holding one.
///
/// Invariants: only admins of the session's account read or change any of it (others 403); every change is
/// compare-free but account-scoped (`WHERE account_id = session's`), CSRF-checked and in the audit trail; a
/// secret (auth token, access token, link) is shown once at most, at its making, and never logged.
extension ConsoleController {
    func adminSession(_ request: Request) async throws -> (ConsoleSessions.Session?, Response?) {
        guard let session = try await session(request) else { return (nil, Self.redirect(to: "/console/sign_in")) }
        guard session.user.role.administers else { return (nil, notAllowedPage(session)) }
        return (session, nil)
    }

    /// An admin's POST: the session, its form (CSRF-checked), or the response that refuses it.
    func adminForm(_ request: Request) async throws -> (ConsoleSessions.Session, [String: String])? {
        guard let session = try await session(request), session.user.role.administers else { return nil }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return nil }
        return (session, form)
    }

    @Sendable func settingsPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (found, refusal) = try await adminSession(request)
        guard let session = found else { return refusal! }
        return try await settings(session, notice: nil)
    }

    func settings(_ session: ConsoleSessions.Session, notice: [String: Any]?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let account = try await AccountRepository(client: database, logger: logger).find(id: session.user.accountID)
        let autopilot = account.settings["autopilot"]
        let users = try await ConsoleUsers(client: database, logger: logger).list(accountID: account.id).map { user -> [String: Any] in
            [
                "id": user.id, "email": user.email, "role": user.role.rawValue, "disabled": user.disabledAt != nil,
                "signedIn": user.lastSignedInAt.map(Timestamp.iso8601) ?? "–", "csrf": session.csrfToken,
                "self": user.id == session.user.id,
            ]
        }
        let tokens = try await AccessTokenRepository(client: database, logger: logger).index(
            accountID: account.id, page: PageRequest(page: 1, perPage: 100)
        ).records.map { token -> [String: Any] in
            [
                "id": token.id, "prefix": token.tokenPrefix ?? "", "scope": token.scope.rawValue, "at": Timestamp.iso8601(token.createdAt),
                "used": token.lastUsedAt.map(Timestamp.iso8601) ?? "–", "revoked": token.revokedAt != nil, "csrf": session.csrfToken,
                "name": token.metadata["name"]?.stringValue ?? "",
            ]
        }
        var endpoints: [[String: Any]] = []
        var deliveries: [[String: Any]] = []
        if let webhooks {
            endpoints = try await webhooks.endpointIndex(accountID: account.id, filter: RecordFilter(), page: PageRequest(page: 1, perPage: 100))
                .records.map { endpoint in
                    [
                        "id": endpoint.id, "url": endpoint.url, "types": endpoint.eventTypes.joined(separator: ", "), "enabled": endpoint.enabled,
                        "csrf": session.csrfToken,
                    ]
                }
            deliveries = try await webhooks.deliveryIndex(accountID: account.id, filter: RecordFilter(), page: PageRequest(page: 1, perPage: 20))
                .records.map { delivery in
                    [
                        "id": delivery.id, "endpoint": delivery.endpointID, "type": delivery.eventType, "status": delivery.status,
                        "attempts": delivery.attempts, "response": delivery.lastResponseStatus.map(String.init) ?? (delivery.lastError ?? ""),
                        "at": Timestamp.iso8601(delivery.createdAt), "csrf": session.csrfToken, "replayable": delivery.status != "pending",
                    ]
                }
        }
        var values: [String: Any] = [
            "csrf": session.csrfToken, "endpoints": endpoints, "deliveries": deliveries,
            "eventTypes": WebhookEventType.allCases.map { ["value": $0.rawValue] },
            "provider": [
                "name": account.platformProviderName ?? "", "twilio": account.platformProviderName == "twilio",
                "somleng": account.platformProviderName == "somleng", "twilioSID": account.twilioAccountSID ?? "",
                "somlengSID": account.somlengAccountSID ?? "", "twilioTokenSet": account.twilioAuthToken != nil,
                "somlengTokenSet": account.somlengAuthToken != nil,
            ],
            "limits": [
                "rate": account.settings["max_calls_per_second"]?.scalarText ?? "",
                "concurrent": account.settings["max_concurrent_calls"]?.scalarText ?? "",
                "from": autopilot?["remote_request_params"]?["from"]?.scalarText ?? "",
                "attempts": autopilot?["retry"]?["max_attempts"]?.scalarText ?? "",
            ],
            "users": users, "tokens": tokens, "roles": ConsoleUser.Role.allCases.map { ["value": $0.rawValue] },
        ]
        if let notice { values["notice"] = notice }
        return page("settings", title: text.settingsTitle, session: session, values: values, status: status)
    }

    func settingsProblem(_ session: ConsoleSessions.Session, _ error: any Error) async throws -> Response {
        let message =
            (error as? ValidationErrors).map { errors in
                errors.messages.map { "\($0.attribute) \($0.messages.joined(separator: ", "))" }.joined(separator: "; ")
            } ?? String(describing: error)
        return try await settings(session, notice: ["error": message], status: .unprocessableContent)
    }

    /// The provider and its credentials; an empty auth token field leaves the stored one as it is.
    @Sendable func updateProvider(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, form) = try await adminForm(request) else { return forbiddenPage() }
        var changes = AccountChanges()
        let provider = form["platform_provider_name"] ?? ""
        changes.platformProviderName = .some(provider.isEmpty ? nil : provider)
        changes.twilioAccountSID = .some(form["twilio_account_sid"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) })
        changes.somlengAccountSID = .some(form["somleng_account_sid"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) })
        if let token = form["twilio_auth_token"], !token.isEmpty { changes.twilioAuthToken = .some(String(token.prefix(256))) }
        if let token = form["somleng_auth_token"], !token.isEmpty { changes.somlengAuthToken = .some(String(token.prefix(256))) }
        do {
            try await AccountRepository(client: database, logger: logger, secrets: secrets).update(id: session.user.accountID, changes)
        } catch {
            return try await settingsProblem(session, error)
        }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "settings.provider_changed",
            details: [
                "platform_provider_name": .string(provider),
                "auth_tokens_replaced": .array(
                    ["twilio_auth_token", "somleng_auth_token"].filter { !(form[$0] ?? "").isEmpty }.map { .string($0) }),
            ], remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    /// Dialling limits and the autopilot's defaults (empty fields remove a setting: the installation's default).
    @Sendable func updateLimits(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, form) = try await adminForm(request) else { return forbiddenPage() }
        let accounts = AccountRepository(client: database, logger: logger, secrets: secrets)
        var values = try await accounts.find(id: session.user.accountID).settings.objectValue ?? [:]
        func number(_ key: String, range: ClosedRange<Double>) -> JSONValue?? {
            guard let text = form[key]?.trimmingCharacters(in: .whitespaces) else { return .none }
            if text.isEmpty { return .some(nil) }
            guard let value = Double(text), range.contains(value) else { return .none }
            return .some(value == value.rounded() ? .integer(Int64(value)) : .number(value))
        }
        var problems: [String] = []
        for (key, field, range) in [
            ("max_calls_per_second", "rate", 0.01...10_000.0), ("max_concurrent_calls", "concurrent", 1.0...1_000_000.0),
        ] {
            switch number(field, range: range) {
            case .none: problems.append(text.policyOutOfRange)
            case .some(.none): values[key] = nil
            case .some(.some(let value)): values[key] = value
            }
        }
        var autopilot = values["autopilot"]?.objectValue ?? [:]
        var params = autopilot["remote_request_params"]?.objectValue ?? [:]
        let from = (form["from"] ?? "").trimmingCharacters(in: .whitespaces)
        params["from"] = from.isEmpty ? nil : .string(String(from.prefix(32)))
        autopilot["remote_request_params"] = params.isEmpty ? nil : .object(params)
        var retry = autopilot["retry"]?.objectValue ?? [:]
        switch number("attempts", range: 1...10) {
        case .none: problems.append(text.policyOutOfRange)
        case .some(.none): retry["max_attempts"] = nil
        case .some(.some(let value)): retry["max_attempts"] = value
        }
        autopilot["retry"] = retry.isEmpty ? nil : .object(retry)
        values["autopilot"] = autopilot.isEmpty ? nil : .object(autopilot)
        guard problems.isEmpty else { return try await settings(session, notice: ["error": problems[0]], status: .unprocessableContent) }
        var changes = AccountChanges()
        changes.settings = .object(values)
        changes.metadataMergeMode = .replace
        do {
            try AutopilotPolicy.validate(settings: .object(values))
            try await accounts.update(id: session.user.accountID, changes)
        } catch {
            return try await settingsProblem(session, error)
        }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "settings.limits_changed",
            details: ["settings": .object(values)], remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    /// Invites a person: their user exists at once; the link to set a password is shown here, once.
    @Sendable func inviteUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, form) = try await adminForm(request) else { return forbiddenPage() }
        guard let role = form["role"].flatMap(ConsoleUser.Role.init(rawValue:)) else { throw APIError.badRequest("unknown role") }
        let links = PasswordLinks(client: database, logger: logger, cost: users.cost)
        let user: ConsoleUser
        let token: String
        do {
            (user, token) = try await links.invite(accountID: session.user.accountID, email: form["email"] ?? "", role: role)
        } catch let errors as ValidationErrors {
            return try await settingsProblem(session, errors)
        }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "user.invited", subjectType: "console_user", subjectID: user.id,
            details: ["email": .string(user.email), "role": .string(role.rawValue)], remoteAddress: context.remoteAddress)
        return try await settings(session, notice: ["link": linkURL(token), "for": user.email])
    }

    @Sendable func resetUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, _) = try await adminForm(request) else { return forbiddenPage() }
        let id = try context.recordID()
        guard
            let token = try await PasswordLinks(client: database, logger: logger, cost: users.cost).reset(
                accountID: session.user.accountID, userID: id)
        else { throw RecordNotFound() }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "user.reset_link_made", subjectType: "console_user", subjectID: id,
            remoteAddress: context.remoteAddress)
        return try await settings(session, notice: ["link": linkURL(token), "for": "#\(id)"])
    }

    @Sendable func disableUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, _) = try await adminForm(request) else { return forbiddenPage() }
        let id = try context.recordID()
        let email = try await database.query(
            "SELECT email FROM console_users WHERE account_id = \(session.user.accountID) AND id = \(id)", logger: logger)
        var found: String?
        for try await value in email.decode(String.self) { found = value }
        guard let found, id != session.user.id else { throw RecordNotFound() }
        _ = try await ConsoleUsers(client: database, logger: logger).disable(accountID: session.user.accountID, email: found)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "user.disabled", subjectType: "console_user", subjectID: id,
            details: ["email": .string(found)], remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    /// A REST API access token of the account, shown once.
    @Sendable func createToken(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, form) = try await adminForm(request) else { return forbiddenPage() }
        let scope = form["scope"].flatMap(AccessToken.Scope.init(rawValue:)) ?? .readWrite
        let name = String((form["name"] ?? "").prefix(100))
        let (token, secret) = try await AccessTokenRepository(client: database, logger: logger).create(
            accountID: session.user.accountID, createdBy: nil, metadata: ["name": .string(name), "created_in": "console"], scope: scope)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "access_token.created", subjectType: "access_token",
            subjectID: token.id, details: ["scope": .string(scope.rawValue), "name": .string(name)], remoteAddress: context.remoteAddress)
        return try await settings(session, notice: ["secret": secret])
    }

    @Sendable func revokeToken(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, _) = try await adminForm(request) else { return forbiddenPage() }
        let id = try context.recordID()
        let owned = try await database.query(
            "SELECT count(*) FROM access_tokens WHERE account_id = \(session.user.accountID) AND id = \(id)", logger: logger
        ).single { try $0.decode(Int64.self) }
        guard owned == 1 else { throw RecordNotFound() }
        _ = try await AccessTokenRepository(client: database, logger: logger).revoke(id: id)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "access_token.revoked", subjectType: "access_token", subjectID: id,
            remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    /// A webhook endpoint for the chosen event types (all when none is ticked); its signing secret is shown once.
    @Sendable func createWebhook(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, form) = try await adminForm(request), let webhooks else { return forbiddenPage() }
        let types = WebhookEventType.allCases.map(\.rawValue).filter { form["type_\($0)"] == "yes" }
        let endpoint: WebhookEndpoint
        do {
            endpoint = try await webhooks.createEndpoint(
                accountID: session.user.accountID, url: form["url"], eventTypes: types.isEmpty ? nil : types, enabled: true, metadata: nil)
        } catch {
            return try await settingsProblem(session, error)
        }
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "webhook_endpoint.created", subjectType: "webhook_endpoint",
            subjectID: endpoint.id, details: ["url": .string(endpoint.url)], remoteAddress: context.remoteAddress)
        return try await settings(session, notice: ["webhookSecret": endpoint.secret ?? ""])
    }

    @Sendable func deleteWebhook(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, _) = try await adminForm(request), let webhooks else { return forbiddenPage() }
        let id = try context.recordID()
        try await webhooks.deleteEndpoint(accountID: session.user.accountID, id: id)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "webhook_endpoint.deleted", subjectType: "webhook_endpoint",
            subjectID: id, remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    @Sendable func replayDelivery(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let (session, _) = try await adminForm(request), let webhooks else { return forbiddenPage() }
        let id = try context.recordID()
        _ = try await webhooks.replay(accountID: session.user.accountID, id: id)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "webhook_delivery.replayed", subjectType: "webhook_delivery",
            subjectID: id, remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/settings")
    }

    func linkURL(_ token: String) -> String { (publicBaseURL ?? "") + PasswordLinks.path(token) }

    // MARK: Password links

    @Sendable func passwordPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let user = try await PasswordLinks(client: database, logger: logger).user(token: token) else {
            return page("message", title: text.linkInvalid, values: ["message": text.linkInvalid], status: .notFound)
        }
        let csrf = ConsoleSessions.randomToken()
        var response = page("password", title: text.setPassword, values: ["csrf": csrf, "email": user.email, "token": token])
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, csrf, maxAge: 3600)))
        return response
    }

    @Sendable func setPassword(_ request: Request, context: APIRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let form = try await Self.form(request)
        guard let expected = Self.cookies(request)[Self.signInCookie], let given = form["csrf_token"], Self.same(expected, given) else {
            return forbiddenPage()
        }
        let password = form["password"] ?? ""
        guard password == form["confirmation"] else {
            return page(
                "password", title: text.setPassword, values: ["csrf": expected, "token": token, "error": text.passwordsDiffer],
                status: .unprocessableContent)
        }
        let user: ConsoleUser?
        do {
            user = try await PasswordLinks(client: database, logger: logger, cost: users.cost).redeem(token: token, password: password)
        } catch let errors as ValidationErrors {
            let message = errors.messages.map { "\($0.attribute) \($0.messages.joined(separator: ", "))" }.joined(separator: "; ")
            return page(
                "password", title: text.setPassword, values: ["csrf": expected, "token": token, "error": message], status: .unprocessableContent)
        }
        guard let user else { return page("message", title: text.linkInvalid, values: ["message": text.linkInvalid], status: .notFound) }
        try await audit.record(accountID: user.accountID, user: user, action: "password.set", remoteAddress: context.remoteAddress)
        var response = Self.redirect(to: "/console/sign_in")
        response.headers.append(HTTPField(name: .setCookie, value: cookie(Self.signInCookie, "", maxAge: 0)))
        return response
    }
}
