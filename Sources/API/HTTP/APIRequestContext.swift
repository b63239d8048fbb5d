import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// Per-request state: the authenticated account, set by `AuthenticationMiddleware`.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var account: Account?
    /// The connection, kept so that the peer's address is read only by the requests that need it.
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's IP address (the console's audit trail records it); nil when not known.
    var remoteAddress: String? { channel.remoteAddress?.ipAddress }

    /// The caller's account; routes behind the authentication middleware always have one.
    func requireAccount() throws -> Account {
        guard let account else { throw APIError.unauthorized }
        return account
    }

    /// Account endpoints are for super admins only.
    func requireSuperAdmin() throws -> Account {
        let account = try requireAccount()
        guard account.isSuperAdmin else { throw APIError.forbidden }
        return account
    }

    /// The numeric `:id` of the route. A non-numeric id names no record: 404, as Rails answers.
    func recordID(_ name: String = "id") throws -> Int64 {
        guard let text = parameters.get(name), let id = Int64(text), id > 0 else { throw RecordNotFound() }
        return id
    }
}
