import Logging
import PostgresNIO

/// The reads every account-scoped resource shares: one record by id, and a filtered, paginated index with
/// its total. `from` names the table with the alias its filters use (`callouts co`).
struct RecordTable<Record: Sendable>: Sendable {
    let from: TrustedSQL
    let columns: TrustedSQL
    let accountColumn: TrustedSQL
    let idColumn: TrustedSQL
    let decode: @Sendable (PostgresRow) throws -> Record
    /// The table's name in `account_record_count_deltas` when triggers keep its per-account totals: an
    /// unfiltered index takes its Total from there.
    var countedTable: String? = nil

    func find(_ client: PostgresClient, logger: Logger, accountID: Int64, id: Int64) async throws -> Record {
        var select = SQLBuilder("SELECT ")
        select.append(trusted: columns)
        select.append(" FROM ")
        select.append(trusted: from)
        select.append(" WHERE ")
        select.append(trusted: idColumn)
        select.append(" = ")
        select.bind(id)
        appendAccount(accountID, to: &select)
        return try await client.query(select.query, logger: logger).single(decode)
    }

    func index(
        _ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter, page: PageRequest
    ) async throws -> Page<Record> {
        var select = SQLBuilder("SELECT ")
        select.append(trusted: columns)
        // An unfiltered page carries the account's running total along (one round trip instead of two: the
        // busiest index of all, the first page of contacts, is then a single query).
        let countedTogether = filter.conditions.isEmpty ? countedTable : nil
        if let countedTogether {
            select.append(", ")
            RecordCounts.appendTotalColumn(accountID: accountID, table: countedTogether, to: &select)
        }
        appendWhere(accountID, filter, to: &select)
        page.appendOrderAndLimit(to: &select, idColumn: idColumn)
        var records: [Record] = []
        records.reserveCapacity(page.perPage)
        var countedTotal: RecordCounts.Total?
        for try await row in try await client.query(select.query, logger: logger) {
            records.append(try decode(row))
            if countedTogether != nil, countedTotal == nil { countedTotal = try RecordCounts.Total(row: row) }
        }
        let total = try await page.total(recordsOnPage: records.count) {
            if let countedTogether {
                if let countedTotal {
                    try await RecordCounts.foldIfNeeded(
                        countedTotal, client, logger: logger, accountID: accountID, table: countedTogether)
                    return countedTotal.total
                }
                return try await RecordCounts.total(client, logger: logger, accountID: accountID, table: countedTogether)
            }
            return try await count(client, logger: logger, accountID: accountID, filter: filter)
        }
        return Page(records: records, total: total, pageRequest: page)
    }

    func count(_ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter) async throws -> Int64 {
        var count = SQLBuilder("SELECT count(*)")
        appendWhere(accountID, filter, to: &count)
        return try await client.query(count.query, logger: logger).single { try $0.decode(Int64.self) }
    }

    /// Whether anything matches, without counting everything that does.
    func anyMatch(_ client: PostgresClient, logger: Logger, accountID: Int64, filter: RecordFilter) async throws -> Bool {
        var exists = SQLBuilder("SELECT EXISTS (SELECT 1")
        appendWhere(accountID, filter, to: &exists)
        exists.append(")")
        return try await client.query(exists.query, logger: logger).single { try $0.decode(Bool.self) }
    }

    private func appendWhere(_ accountID: Int64, _ filter: RecordFilter, to sql: inout SQLBuilder) {
        sql.append(" FROM ")
        sql.append(trusted: from)
        sql.append(" WHERE true")
        appendAccount(accountID, to: &sql)
        filter.appendConditions(to: &sql)
    }

    private func appendAccount(_ accountID: Int64, to sql: inout SQLBuilder) {
        sql.append(" AND ")
        sql.append(trusted: accountColumn)
        sql.append(" = ")
        sql.bind(accountID)
    }
}

/// `UPDATE table SET updated_at = now(), …  WHERE id = … AND account_id = … RETURNING id`, built from the
/// attributes a request sent.
struct UpdateStatement {
    private var sql: SQLBuilder
    private var requiredStatus: String?

    init(_ table: TrustedSQL) {
        sql = SQLBuilder("UPDATE ")
        sql.append(trusted: table)
        sql.append(" SET updated_at = now()")
    }

    mutating func set<Value: PostgresDynamicTypeEncodable>(_ column: TrustedSQL, _ value: Value?) {
        sql.append(", ")
        sql.append(trusted: column)
        sql.append(" = ")
        sql.bind(value)
    }

    mutating func setMetadata(_ column: TrustedSQL, _ value: JSONValue?, mode: MetadataMergeMode) {
        guard let value else { return }
        sql.append(", ")
        sql.append(trusted: column)
        sql.append(" = ")
        mode.appendUpdatedValue(of: column, with: value, to: &sql)
    }

    /// Updates only while the record has this status; otherwise `run` finds no row.
    mutating func requireStatus(_ status: String) {
        requiredStatus = status
    }

    /// Runs the update of one record of the account; `RecordNotFound` when there is none.
    func run(on connection: PostgresConnection, logger: Logger, id: Int64, accountID: Int64) async throws {
        var sql = self.sql
        sql.append(" WHERE id = ")
        sql.bind(id)
        sql.append(" AND account_id = ")
        sql.bind(accountID)
        if let requiredStatus {
            sql.append(" AND status = ")
            sql.bind(requiredStatus)
        }
        sql.append(" RETURNING id")
        _ = try await connection.query(sql.query, logger: logger).single { try $0.decode(Int64.self) }
    }
}
