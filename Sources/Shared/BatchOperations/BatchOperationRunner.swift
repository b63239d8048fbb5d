import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs a queued batch operation as set-based SQL in keyset-paged chunks. Each chunk is one transaction that
/// locks the operation's row, reads its checkpoint (the last source id done), applies one INSERT … SELECT or
/// UPDATE … FROM for the next `chunkSize` source rows, and moves the checkpoint and progress: a worker killed
/// mid-operation, a redelivered job or two workers on one operation continue from the last committed chunk
/// and touch every row exactly once.
public struct BatchOperationRunner: Sendable {
    let client: PostgresClient
    let logger: Logger
    let chunkSize: Int

    public init(client: PostgresClient, logger: Logger, chunkSize: Int = 50_000) {
        self.client = client
        self.logger = logger
        self.chunkSize = chunkSize
    }

    public func run(_ job: BatchOperationJob) async throws {
        guard let operation = try await start(job) else { return }
        let selection: BatchSelection
        do {
            selection = try BatchSelection(type: operation.type, calloutID: operation.calloutID, parameters: operation.parameters)
        } catch {
            throw PoisonMessage("batch operation \(operation.id) has parameters that no longer parse: \(error)")
        }
        if operation.progressTotal == nil {
            try await recordTotal(operation, selection: selection)
        }
        var chunks = 0
        while try await runChunk(operation, selection: selection) {
            chunks += 1
            // Asked to stop (SIGTERM) between chunks: stop now rather than after a million rows. The operation
            // stays `running` at its committed checkpoint and the job is not committed, so it comes again (or
            // another worker of the group takes it) and continues from the next chunk; nothing is lost or
            // done twice.
            if Task.isShuttingDownGracefully || Task.isCancelled {
                logger.notice(
                    "batch operation stopped between chunks for shutdown",
                    metadata: ["batch_operation_id": "\(operation.id)", "chunks": "\(chunks)"])
                throw AbandonedForShutdown()
            }
        }
        logger.info("batch operation finished", metadata: ["batch_operation_id": "\(operation.id)", "chunks": "\(chunks)"])
    }

    /// queued → running; a running operation (a worker died, or the job came again) is resumed; anything else
    /// has nothing left to do.
    public func start(_ job: BatchOperationJob) async throws -> BatchOperation? {
        let started = try await client.query(
            """
            UPDATE batch_operations SET status = 'running', updated_at = now()
            WHERE id = \(job.batchOperationID) AND account_id = \(job.accountID) AND status IN ('queued', 'running')
            RETURNING \(unescaped: BatchOperation.columns.text)
            """, logger: logger
        ).first(BatchOperation.init(row:))
        if started == nil {
            logger.debug("batch operation has nothing to do", metadata: ["batch_operation_id": "\(job.batchOperationID)"])
        }
        return started
    }

    /// The number of source rows the run will go through (capped by `limit`), for the progress figure.
    public func recordTotal(_ operation: BatchOperation, selection: BatchSelection) async throws {
        var count = SQLBuilder("SELECT count(*) FROM (SELECT 1 FROM ")
        selection.appendSource(to: &count, accountID: operation.accountID)
        if let limit = selection.limit {
            count.append(" LIMIT ")
            count.bind(limit)
        }
        count.append(") selected")
        let total = try await client.query(count.query, logger: logger).single { try $0.decode(Int64.self) }
        try await client.query(
            "UPDATE batch_operations SET progress_total = \(total) WHERE id = \(operation.id) AND progress_total IS NULL",
            logger: logger)
    }

    /// One chunk in one transaction; false once the operation is finished.
    public func runChunk(_ operation: BatchOperation, selection: BatchSelection) async throws -> Bool {
        try await client.transaction(logger: logger) { connection in
            // First: the account's deletes wait for this chunk, and its statements see any delete committed before.
            try await DependentRecords.lockAgainstDeletes(connection, accountID: operation.accountID, logger: logger)
            let state = try await connection.query(
                """
                SELECT status, coalesce((checkpoint->>'last_id')::bigint, 0), progress_done
                FROM batch_operations WHERE id = \(operation.id) FOR UPDATE
                """, logger: logger
            ).single { try $0.decode((String, Int64, Int64).self) }
            guard state.0 == BatchOperationStatus.running.rawValue else { return false }
            // A chunk is a short statement run a hundred times: compiling it with JIT costs more than running
            // it. Its cost must not grow with the tables: walk the source in id order from the checkpoint
            // rather than sort every match, and probe indexes row by row (nested loops) rather than merge or
            // hash against a whole table, for the chunk's own rows and the triggers' transition tables alike.
            try await connection.query(
                """
                SELECT set_config('jit', 'off', true), set_config('enable_sort', 'off', true),
                       set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true)
                """, logger: logger)
            var size = Int64(chunkSize)
            if let limit = selection.limit { size = min(size, limit - state.2) }
            var done: (count: Int64, lastID: Int64?) = (0, nil)
            if size > 0 {
                var statement = BatchChunkStatement(operation: operation, selection: selection, afterID: state.1, size: size)
                if operation.type == .calloutPopulation {
                    // Only an account with a do-not-call list pays for the lookup per row.
                    statement.marksDoNotCall = try await connection.query(
                        "SELECT EXISTS (SELECT 1 FROM do_not_call_entries WHERE account_id = \(operation.accountID))", logger: logger
                    ).single { try $0.decode(Bool.self) }
                }
                done = try await connection.query(statement.query, logger: logger).single { try $0.decode((Int64, Int64?).self) }
            }
            guard done.count > 0, let lastID = done.lastID else {
                try await connection.query(
                    "UPDATE batch_operations SET status = 'finished', updated_at = now() WHERE id = \(operation.id)",
                    logger: logger)
                return false
            }
            try await connection.query(
                """
                UPDATE batch_operations
                SET checkpoint = jsonb_build_object('last_id', \(lastID)), progress_done = progress_done + \(done.count),
                    updated_at = now()
                WHERE id = \(operation.id)
                """, logger: logger)
            return true
        }
    }
}

extension BatchSelection {
    /// `<table> <alias> WHERE <alias>.account_id = … <filter>`.
    func appendSource(to sql: inout SQLBuilder, accountID: Int64) {
        switch source {
        case .contacts: sql.append("contacts c WHERE c.account_id = ")
        case .calloutParticipations: sql.append("callout_participations p WHERE p.account_id = ")
        case .phoneCalls: sql.append("phone_calls pc WHERE pc.account_id = ")
        }
        sql.bind(accountID)
        filter.appendConditions(to: &sql)
    }
}
