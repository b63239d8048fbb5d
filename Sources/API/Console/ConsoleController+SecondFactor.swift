import Console
import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The optional TOTP second factor: each user turns it on for themselves (`/console/security`: a secret shown
/// once as text and as an `otpauth://` address, confirmed by a code from the app) and off (with a current code).
/// Once on, signing in asks for a code after the password: until it is given the session signs nothing in and
/// lives 5 minutes; a wrong code counts as a failed sign-in (the same limit of ten in 15 minutes).
extension ConsoleController {
    var secondFactors: SecondFactors { SecondFactors(client: database, logger: logger, box: secrets) }

    @Sendable func secondFactorPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await anySession(request), session.secondFactorPending else { return Self.redirect(to: "/console") }
        return page("second_factor", title: text.secondFactorTitle, values: ["csrf": session.csrfToken])
    }

    @Sendable func secondFactor(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await anySession(request), session.secondFactorPending else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        let user = session.user
        if try await audit.failedSignIns(email: user.email, within: Self.failureWindow) >= Self.failuresAllowed {
            try await sessions.end(session)
            return page("sign_in", title: text.signIn, values: ["csrf": "", "error": text.tooManyAttempts], status: .tooManyRequests)
        }
        guard try await secondFactors.verify(userID: user.id, code: form["code"] ?? "") else {
            try await audit.record(
                accountID: user.accountID, user: nil, actor: user.email, action: "sign_in_failed", details: ["factor": "totp"],
                remoteAddress: context.remoteAddress)
            return page(
                "second_factor", title: text.secondFactorTitle, values: ["csrf": session.csrfToken, "error": text.wrongCode],
                status: .unauthorized)
        }
        try await sessions.completeSecondFactor(session)
        try await audit.record(
            accountID: user.accountID, user: user, action: "signed_in", details: ["factor": "totp"], remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console")
    }

    @Sendable func securityPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        return try await security(session, notice: nil)
    }

    func security(_ session: ConsoleSessions.Session, notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let state = try await secondFactors.status(userID: session.user.id)
        var values: [String: Any] = ["csrf": session.csrfToken, "enabled": state.enabled]
        if let secret = state.pendingSecret {
            values["pending"] = ["secret": secret, "uri": TOTP.provisioningURI(secret: secret, account: session.user.email)]
        }
        if let notice { values["notice"] = notice }
        return page("security", title: text.securityTitle, session: session, values: values, status: status)
    }

    /// Begin, confirm or turn off the second factor (`action` = begin, confirm, disable).
    @Sendable func changeSecondFactor(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        let user = session.user
        switch form["action"] {
        case "begin":
            _ = try await secondFactors.begin(userID: user.id)
            return try await security(session, notice: nil)
        case "confirm":
            guard try await secondFactors.confirm(userID: user.id, code: form["code"] ?? "") else {
                return try await security(session, notice: text.wrongCode, status: .unprocessableContent)
            }
            try await audit.record(accountID: user.accountID, user: user, action: "second_factor.enabled", remoteAddress: context.remoteAddress)
            return try await security(session, notice: text.secondFactorOn)
        case "disable":
            guard try await secondFactors.disable(userID: user.id, code: form["code"] ?? "") else {
                return try await security(session, notice: text.wrongCode, status: .unprocessableContent)
            }
            try await audit.record(accountID: user.accountID, user: user, action: "second_factor.disabled", remoteAddress: context.remoteAddress)
            return try await security(session, notice: text.secondFactorOff)
        default:
            throw APIError.badRequest("unknown action")
        }
    }
}
