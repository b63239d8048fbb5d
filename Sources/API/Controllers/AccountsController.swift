import HTTPTypes
import Hummingbird
import Shared

/// `/api/accounts`: super admins only.
struct AccountsController {
    let accounts: AccountRepository
    let authenticated: AuthenticatedAccounts

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("accounts", use: create)
        group.get("accounts", use: index)
        group.get("accounts/:id", use: show)
        group.patch("accounts/:id", use: update)
        group.put("accounts/:id", use: update)
        group.delete("accounts/:id", use: delete)
    }

    static func changes(from parameters: RequestParameters) throws -> AccountChanges {
        var changes = AccountChanges()
        changes.metadata = try parameters.object("metadata")
        changes.metadataMergeMode = try parameters.mergeMode()
        changes.settings = try parameters.object("settings")
        if let settings = changes.settings { try AutopilotPolicy.validate(settings: settings) }
        changes.permissions = try parameters.stringArray("permissions")
        changes.platformProviderName = try parameters.nullableString("platform_provider_name")
        changes.twilioAccountSID = try parameters.nullableString("twilio_account_sid")
        changes.twilioAuthToken = try parameters.nullableString("twilio_auth_token")
        changes.somlengAccountSID = try parameters.nullableString("somleng_account_sid")
        changes.somlengAuthToken = try parameters.nullableString("somleng_auth_token")
        return changes
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        let parameters = try await RequestParameters.parse(request)
        let account = try await accounts.create(try Self.changes(from: parameters))
        return JSONResponse.created(account.json, location: Location.url(request, path: "/api/accounts/\(account.id)"))
    }

    @Sendable func index(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        let page = try await accounts.index(page: Pagination.pageRequest(request))
        return Pagination.response(page, request: request) { $0.json }
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        return JSONResponse.make(.ok, try await accounts.find(id: try context.recordID()).json)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireSuperAdmin()
        let id = try context.recordID()
        let parameters = try await RequestParameters.parse(request)
        try await accounts.update(id: id, try Self.changes(from: parameters))
        authenticated.forget(accountID: id)
        return JSONResponse.noContent()
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let admin = try context.requireSuperAdmin()
        let id = try context.recordID()
        guard id != admin.id else {
            throw ValidationErrors("base", "Cannot delete the account of the access token in use")
        }
        try await accounts.delete(id: id)
        authenticated.forget(accountID: id)
        return JSONResponse.noContent()
    }
}
