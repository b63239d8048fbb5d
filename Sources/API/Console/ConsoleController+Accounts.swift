import Console
import Foundation
import Hummingbird
import Shared

/// A super admin's account switch: the console users of the super admin's account see every account
/// (`/console/accounts`) and act in one; every page then reads and changes that account, as its own admins
/// would, and each change is recorded in that account's audit trail under the super admin's email
/// (`account.entered`, `account.left` too). Anyone else gets 403, and the switch is checked again on every
/// request (`ConsoleSessions.find` honours it only while the user's own account is a super admin's).
extension ConsoleController {
    @Sendable func accountsPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        guard session.superAdmin else { return notAllowedPage(session) }
        let rows = try await database.query(
            """
            SELECT a.id, coalesce(a.metadata ->> 'name', 'Account ' || a.id),
                   (SELECT count(*) FROM callouts c WHERE c.account_id = a.id AND c.status = 'running')
            FROM accounts a ORDER BY a.id LIMIT 500
            """, logger: logger)
        var accounts: [[String: Any]] = []
        for try await (id, name, running) in rows.decode((Int64, String, Int64).self) {
            accounts.append([
                "id": id, "name": name, "running": running, "current": id == session.user.accountID, "csrf": session.csrfToken,
            ])
        }
        return page("accounts", title: text.accountsTitle, session: session, values: ["accounts": accounts])
    }

    @Sendable func actInAccount(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        guard session.superAdmin else { return notAllowedPage(session) }
        let target = try context.recordID()
        guard try await sessions.actAs(session, accountID: target) else { throw RecordNotFound() }
        let own = session.ownAccountID ?? session.user.accountID
        if session.user.accountID != own {
            try await audit.record(
                accountID: session.user.accountID, user: session.user, action: "account.left", remoteAddress: context.remoteAddress)
        }
        if target != own {
            try await audit.record(accountID: target, user: session.user, action: "account.entered", remoteAddress: context.remoteAddress)
        }
        return Self.redirect(to: "/console")
    }
}
