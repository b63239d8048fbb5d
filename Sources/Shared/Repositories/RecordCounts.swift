import Logging
import PostgresNIO

/// How many records of a table an account has, from the running totals the triggers of migration 0004
/// append (`account_record_count_deltas`): a few rows to sum instead of the account's whole table.
public enum RecordCounts {
    /// More rows than this for one account and table are folded into one.
    static let foldThreshold: Int64 = 1000

    /// The sum of an account's deltas for a table, and how many rows made it.
    struct Total {
        static let column: TrustedSQL = "scfm_record_total"
        let total: Int64
        let rows: Int64

        /// Reads the column `appendTotalColumn` added to a query.
        init(row: PostgresRow) throws {
            let pair = try row.makeRandomAccess()[Self.column.text].decode([Int64].self)
            guard pair.count == 2 else { throw PostgresDecodingError.Code.failure }
            (total, rows) = (pair[0], pair[1])
        }
    }

    public static func total(_ client: PostgresClient, logger: Logger, accountID: Int64, table: String) async throws -> Int64 {
        var select = SQLBuilder("SELECT ")
        appendTotalColumn(accountID: accountID, table: table, to: &select)
        let total = try await client.query(select.query, logger: logger).single(Total.init(row:))
        try await foldIfNeeded(total, client, logger: logger, accountID: accountID, table: table)
        return total.total
    }

    /// `(SELECT ARRAY[sum, rows] …) AS scfm_record_total`: a scalar subquery that can ride along any SELECT.
    static func appendTotalColumn(accountID: Int64, table: String, to sql: inout SQLBuilder) {
        sql.append("(SELECT ARRAY[coalesce(sum(delta), 0)::bigint, count(*)] FROM account_record_count_deltas WHERE account_id = ")
        sql.bind(accountID)
        sql.append(" AND table_name = ")
        sql.bind(table)
        sql.append(") AS ")
        sql.append(trusted: Total.column)
    }

    static func foldIfNeeded(
        _ total: Total, _ client: PostgresClient, logger: Logger, accountID: Int64, table: String
    ) async throws {
        if total.rows > foldThreshold { try await fold(client, logger: logger, accountID: accountID, table: table) }
    }

    /// Replaces the account's rows for the table by their sum, in one statement: rows appended meanwhile are
    /// not among the deleted ones and stay; a concurrent fold skips the rows this one deleted.
    static func fold(_ client: PostgresClient, logger: Logger, accountID: Int64, table: String) async throws {
        try await client.query(
            """
            WITH folded AS (
                DELETE FROM account_record_count_deltas WHERE account_id = \(accountID) AND table_name = \(table) RETURNING delta
            )
            INSERT INTO account_record_count_deltas (account_id, table_name, delta)
            SELECT \(accountID), \(table), sum(delta) FROM folded HAVING count(*) > 0
            """, logger: logger)
    }
}
