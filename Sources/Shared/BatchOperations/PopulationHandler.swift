/// The `population` role's handler: each `batch-operations` message runs (or resumes) its operation.
public struct PopulationHandler: MessageHandler {
    let runner: BatchOperationRunner

    public init(runner: BatchOperationRunner) {
        self.runner = runner
    }

    public func handle(_ message: KafkaMessage) async throws {
        try await runner.run(BatchOperationJob(payload: try parsePayload(message)))
    }
}
