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

    /// Every table a delete locks, in the one order all deletes take their locks in.
    static let lockOrder: [TrustedSQL] = ["callouts", "contacts", "batch_operations", "callout_participations", "phone_calls"]

    /// Deletes one record of the account unless a dependent refers to it. The dependent tables are locked
    /// against writes (SHARE ROW EXCLUSIVE, which an INSERT waits for) for the instant of the check and the
    /// delete, so none can appear in between. That is the guarantee a foreign key gives, paid by the rare
    /// delete instead of by a lookup per row on tables that take a million rows per batch (participations,
    /// phone calls). The target table (ROW EXCLUSIVE) and the dependents are locked in `lockOrder`, so deletes
    /// do not deadlock one another; a deadlock with other writers, which PostgreSQL breaks by aborting one side,
    /// or a lock wait over 10 s, is retried.
    static func delete(
        _ client: PostgresClient, logger: Logger, table: TrustedSQL, id: Int64, accountID: Int64,
        dependents: [Dependent], extraCheck: (@Sendable (PostgresConnection) async throws -> Void)? = nil
    ) async throws {
        var attempt = 1
        while true {
            do {
                return try await deleteOnce(
                    client, logger: logger, table: table, id: id, accountID: accountID, dependents: dependents,
                    extraCheck: extraCheck)
            } catch where error.isDeadlock || error.isLockTimeout {
                guard attempt < 3 else { throw BusyRecord(reason: "the record is being changed by a batch operation") }
                logger.warning("delete met a lock conflict; retrying", metadata: ["attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    private static func deleteOnce(
        _ client: PostgresClient, logger: Logger, table: TrustedSQL, id: Int64, accountID: Int64,
        dependents: [Dependent], extraCheck: (@Sendable (PostgresConnection) async throws -> Void)?
    ) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET LOCAL lock_timeout = '10s'", logger: logger)
            let guarded = Set(dependents.map(\.table.text))
            for candidate in lockOrder where candidate == table || guarded.contains(candidate.text) {
                var lock = SQLBuilder("LOCK TABLE ")
                lock.append(trusted: candidate)
                if guarded.contains(candidate.text) {
                    lock.append(" IN SHARE ROW EXCLUSIVE MODE")
                } else {
                    lock.append(" IN ROW EXCLUSIVE MODE")
                }
                try await connection.query(lock.query, logger: logger)
            }
            var find = SQLBuilder("SELECT 1 FROM ")
            find.append(trusted: table)
            find.append(" WHERE id = ")
            find.bind(id)
            find.append(" AND account_id = ")
            find.bind(accountID)
            find.append(" FOR UPDATE")
            _ = try await connection.query(find.query, logger: logger).single { _ in true }
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
            } catch where error.isForeignKeyViolation {
                // Tables that keep their foreign keys (remote phone call events, batch operations' callout).
                throw ValidationErrors("base", "Cannot delete record because dependent records exist")
            }
        }
    }
}
