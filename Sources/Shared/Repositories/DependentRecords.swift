import Logging
import PostgresNIO

/// SCFM's `dependent: :restrict_with_error`: a record others refer to is not deleted; 422 with the message
/// Rails gives.
enum DependentRecords {
    /// A table whose rows may refer to the record, and the name the error gives them.
    struct Dependent {
        let table: TrustedSQL
        let column: TrustedSQL
        let name: String
    }

    static func exist(_ name: String) -> ValidationErrors {
        ValidationErrors("base", "Cannot delete record because dependent \(name) exist")
    }

    /// The advisory lock (namespace, account) that serializes an account's deletes against the writers that
    /// add rows referring to its records in bulk (batch operation chunks).
    static let writersLockNamespace: Int32 = 0x5CF0_0002

    /// Taken (shared) by a transaction that adds rows referring to the account's records in bulk, as its first
    /// statement, before the statement that reads the parents: READ COMMITTED gives that statement a snapshot
    /// taken after the lock, so a delete committed meanwhile is seen. Shared holders never wait for one another,
    /// and no other account's delete touches this lock.
    public static func lockAgainstDeletes(_ connection: PostgresConnection, accountID: Int64, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock_shared(\(writersLockNamespace), \(Int32(truncatingIfNeeded: accountID)))", logger: logger)
    }

    /// Deletes one record of the account unless a dependent refers to it. Ownership is checked first, with no
    /// lock at all, so a 404 (another account's id, or none) never waits for anyone. Then, in one transaction:
    /// the account's delete lock (exclusive: waits only for this account's bulk writers, see
    /// `lockAgainstDeletes`), the record's own row (FOR UPDATE: waits for single-row writers, which lock the
    /// parent rows they refer to with FOR KEY SHARE, as a foreign key would), the dependents' check and the
    /// delete. No table is locked, so no other account's writes wait for a delete, and a delete waits for no
    /// other account's writes. That is the guarantee a foreign key gives, paid by the rare delete instead of by
    /// a lookup per row on tables that take a million rows per batch (participations, phone calls). A
    /// deadlock, or a lock wait over 10 s, is retried.
    static func delete(
        _ client: PostgresClient, logger: Logger, table: TrustedSQL, id: Int64, accountID: Int64,
        dependents: [Dependent], extraCheck: (@Sendable (PostgresConnection) async throws -> Void)? = nil
    ) async throws {
        _ = try await client.query(ownedRow(table, id: id, accountID: accountID, forUpdate: false), logger: logger).single { _ in true }
        var attempt = 1
        while true {
            do {
                return try await deleteOnce(
                    client, logger: logger, table: table, id: id, accountID: accountID, dependents: dependents,
                    extraCheck: extraCheck)
            } catch  where error.isDeadlock || error.isLockTimeout {
                guard attempt < 3 else { throw BusyRecord(reason: "the record is being changed by a batch operation") }
                logger.warning("delete met a lock conflict; retrying", metadata: ["attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    /// The record's row if it is the account's (none otherwise: `single` throws RecordNotFound, a 404),
    /// optionally locked for the delete.
    private static func ownedRow(_ table: TrustedSQL, id: Int64, accountID: Int64, forUpdate: Bool) -> PostgresQuery {
        var sql = SQLBuilder("SELECT 1 FROM ")
        sql.append(trusted: table)
        sql.append(" WHERE id = ")
        sql.bind(id)
        sql.append(" AND account_id = ")
        sql.bind(accountID)
        if forUpdate { sql.append(" FOR UPDATE") }
        return sql.query
    }

    private static func deleteOnce(
        _ client: PostgresClient, logger: Logger, table: TrustedSQL, id: Int64, accountID: Int64,
        dependents: [Dependent], extraCheck: (@Sendable (PostgresConnection) async throws -> Void)?
    ) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET LOCAL lock_timeout = '10s'", logger: logger)
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(writersLockNamespace), \(Int32(truncatingIfNeeded: accountID)))", logger: logger)
            _ = try await connection.query(ownedRow(table, id: id, accountID: accountID, forUpdate: true), logger: logger).single { _ in true }
            try await extraCheck?(connection)
            for dependent in dependents {
                var exists = SQLBuilder("SELECT EXISTS (SELECT 1 FROM ")
                exists.append(trusted: dependent.table)
                exists.append(" WHERE ")
                exists.append(trusted: dependent.column)
                exists.append(" = ")
                exists.bind(id)
                exists.append(")")
                if try await connection.query(exists.query, logger: logger).single({ try $0.decode(Bool.self) }) {
                    throw exist(dependent.name)
                }
            }
            var delete = SQLBuilder("DELETE FROM ")
            delete.append(trusted: table)
            delete.append(" WHERE id = ")
            delete.bind(id)
            do {
                try await connection.query(delete.query, logger: logger)
            } catch  where error.isForeignKeyViolation {
                // Tables that keep their foreign keys (remote phone call events, batch operations' callout).
                throw ValidationErrors("base", "Cannot delete record because dependent records exist")
            }
        }
    }
}
