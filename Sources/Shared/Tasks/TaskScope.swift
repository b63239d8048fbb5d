import Logging
import PostgresNIO

/// Which account and callout a task works on. SCFM's tasks ran in a single-tenant database and, without
/// `CALLOUTS_TASK_CALLOUT_ID`, took the only callout, refusing when there were several; here the same rule
/// picks the account too (`--account-id`), and the callout within it.
public struct TaskScope: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public struct Ambiguous: Error, CustomStringConvertible {
        public let description: String
    }

    /// The given account (which must exist), else the only account that is not a super admin.
    public func account(_ id: Int64?) async throws -> Int64 {
        if let id {
            let found = try await client.query("SELECT 1 FROM accounts WHERE id = \(id)", logger: logger).collect { _ in true }
            guard !found.isEmpty else { throw Ambiguous(description: "there is no account \(id)") }
            return id
        }
        let ids = try await client.query(
            "SELECT id FROM accounts WHERE NOT (\(Account.superAdminPermission) = ANY(permissions)) ORDER BY id LIMIT 2",
            logger: logger
        ).collect { try $0.decode(Int64.self) }
        guard ids.count == 1 else {
            throw Ambiguous(description: ids.isEmpty ? "there is no account yet" : "there are several accounts: give --account-id")
        }
        return ids[0]
    }

    /// The given callout of the account, else its only callout (`CALLOUTS_TASK_CALLOUT_ID` unset).
    public func callout(_ id: Int64?, accountID: Int64) async throws -> Int64 {
        if let id {
            try await RecordScope.callout.requireExists(client, logger: logger, id: id, accountID: accountID)
            return id
        }
        let ids = try await client.query(
            "SELECT id FROM callouts WHERE account_id = \(accountID) ORDER BY id LIMIT 2", logger: logger
        ).collect { try $0.decode(Int64.self) }
        guard ids.count == 1 else {
            throw Ambiguous(
                description: ids.isEmpty
                    ? "account \(accountID) has no callout"
                    : "account \(accountID) has several callouts: set CALLOUTS_TASK_CALLOUT_ID or --callout-id")
        }
        return ids[0]
    }
}
