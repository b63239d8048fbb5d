import Logging
import PostgresNIO

/// What one account (tenant) may hold at once, so that no agency can make the platform work for it without
/// bound: webhook endpoints (each a stream of outbound requests) and batch operations queued or running (each
/// a set-based job over up to millions of rows on the shared population workers).
///
/// Invariant: the check and the write that would pass the cap happen in one transaction holding the account's
/// `capLockNamespace` advisory lock, so concurrent requests cannot together exceed it.
public struct AccountLimits: Sendable {
    static let capLockNamespace: Int32 = 0x5CF0_0003

    /// `MAX_WEBHOOK_ENDPOINTS_PER_ACCOUNT` (20).
    public var webhookEndpoints = 20
    /// `MAX_ACTIVE_BATCH_OPERATIONS_PER_ACCOUNT` (50): queued or running at once.
    public var activeBatchOperations = 50

    public init() {}

    public init(environment: EnvironmentVariables) throws {
        webhookEndpoints = try environment.integer("MAX_WEBHOOK_ENDPOINTS_PER_ACCOUNT", default: webhookEndpoints, range: 1...100_000)
        activeBatchOperations = try environment.integer(
            "MAX_ACTIVE_BATCH_OPERATIONS_PER_ACCOUNT", default: activeBatchOperations, range: 1...100_000)
    }

    /// Takes the account's cap lock until the transaction ends, then counts with `count`; a 422 on `field`
    /// when the count has reached `limit`.
    static func check(
        _ limit: Int, accountID: Int64, on connection: PostgresConnection, logger: Logger, error: String,
        count: PostgresQuery
    ) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(capLockNamespace), \(Int32(truncatingIfNeeded: accountID)))", logger: logger)
        let current = try await connection.query(count, logger: logger).single { try $0.decode(Int64.self) }
        if current >= Int64(limit) { throw ValidationErrors("base", error) }
    }
}
