import Logging
import PostgresNIO

/// SCFM's `task:callouts:*`: create a callout, populate it with every contact of the account, run an event
/// on it, print its statistics. Population is a CalloutPopulation batch operation run here and now, chunk by
/// chunk, so its progress can be shown and a killed task resumed by running it again or by a population worker.
public struct CalloutTasks: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// `CALLOUTS_TASK_CREATE_METADATA`.
    public func create(accountID: Int64, metadata: JSONValue?) async throws -> Callout {
        var changes = CalloutChanges()
        changes.metadata = metadata
        return try await CalloutRepository(client: client, logger: logger).create(accountID: accountID, changes)
    }

    /// Every contact of the account becomes a participation (those already in the callout are kept), with
    /// `metadata` (`CALLOUTS_TASK_POPULATE_METADATA`). `progress` hears (done, total) after each chunk.
    /// Returns the batch operation.
    public func populate(
        accountID: Int64, calloutID: Int64, metadata: JSONValue?, chunkSize: Int = 50_000,
        progress: @Sendable (Int64, Int64) -> Void = { _, _ in }
    ) async throws -> BatchOperation {
        var changes = BatchOperationChanges()
        changes.type = BatchOperationType.calloutPopulation.rawValue
        changes.parameters = ["contact_filter_params": .emptyObject, "skip_validate_preview_presence": true]
        let operations = BatchOperationRepository(client: client, logger: logger)
        let operation = try await operations.create(accountID: accountID, calloutID: calloutID, changes)
        // Queued without a job on the topic: this task runs it itself.
        try await client.query("UPDATE batch_operations SET status = 'queued' WHERE id = \(operation.id)", logger: logger)
        let runner = BatchOperationRunner(client: client, logger: logger, chunkSize: chunkSize)
        guard let running = try await runner.start(BatchOperationJob(batchOperationID: operation.id, accountID: accountID)) else {
            throw RecordNotFound()
        }
        let selection = try BatchSelection(type: running.type, calloutID: running.calloutID, parameters: running.parameters)
        try await runner.recordTotal(running, selection: selection)
        while try await runner.runChunk(running, selection: selection) {
            let current = try await operations.find(accountID: accountID, id: operation.id)
            progress(current.progressDone, current.progressTotal ?? current.progressDone)
        }
        if let metadata, metadata.objectValue?.isEmpty == false {
            try await client.query(
                """
                UPDATE callout_participations SET metadata = metadata || \(metadata), updated_at = now()
                WHERE callout_population_id = \(operation.id)
                """, logger: logger)
        }
        return try await operations.find(accountID: accountID, id: operation.id)
    }

    /// `CALLOUTS_TASK_ACTION`: start, stop, pause or resume.
    public func run(_ event: CalloutEvent, accountID: Int64, calloutID: Int64) async throws -> Callout {
        try await CalloutRepository(client: client, logger: logger).apply(event, accountID: accountID, id: calloutID)
    }

    public func statistics(accountID: Int64, calloutID: Int64, retryStatuses: [String]) async throws -> CalloutStatistics {
        try await CalloutStatistics.compute(client, logger: logger, accountID: accountID, calloutID: calloutID, retryStatuses: retryStatuses)
    }
}
