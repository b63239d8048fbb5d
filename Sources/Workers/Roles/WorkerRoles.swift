import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// What a role gets to build its services from.
struct WorkerRoleContext {
    let database: PostgresClient
    let kafka: KafkaConfiguration
    let environment: EnvironmentVariables
    let logger: Logger
}

/// The worker roles, by name. A role is a set of services; consumer roles are a `WorkerRuntime` with the
/// role's handler on the role's topic, in the consumer group named after the role.
enum WorkerRoles {
    static let builders: [String: @Sendable (WorkerRoleContext) throws -> [any Service]] = [
        "outbox-relay": outboxRelay,
        "population": population,
    ]

    static var names: [String] { builders.keys.sorted() }

    static func services(for role: String, context: WorkerRoleContext) throws -> [any Service] {
        guard let build = builders[role] else { return [] }
        return try build(context)
    }

    /// Publishes the outbox. The API runs a relay too; whichever holds the advisory lock publishes.
    static func outboxRelay(_ context: WorkerRoleContext) throws -> [any Service] {
        let producer = try KafkaProducer(configuration: context.kafka, logger: context.logger)
        // The producer comes first so that it is shut down last, after the relay stopped handing it work.
        return [producer, OutboxRelay(database: context.database, producer: producer, kafka: context.kafka, logger: context.logger)]
    }

    /// Runs batch operations from `batch-operations` as chunked set-based SQL (BATCH_CHUNK_SIZE rows a chunk).
    static func population(_ context: WorkerRoleContext) throws -> [any Service] {
        let chunkSize = try context.environment.integer("BATCH_CHUNK_SIZE", default: 50_000, range: 1...1_000_000)
        let runner = BatchOperationRunner(client: context.database, logger: context.logger, chunkSize: chunkSize)
        return try consumer(role: "population", topic: .batchOperations, handler: PopulationHandler(runner: runner), context: context)
    }

    /// A consumer role: `handler` on `topic`, consumer group `scfm-<role>`, concurrency from
    /// WORKER_CONCURRENCY.
    static func consumer(
        role: String, topic: Topic, handler: any MessageHandler, context: WorkerRoleContext
    ) throws -> [any Service] {
        var settings = WorkerRuntime.Settings()
        settings.concurrency = try context.environment.integer("WORKER_CONCURRENCY", default: 8, range: 1...1024)
        let consumer = try KafkaConsumer(
            configuration: context.kafka, groupID: "scfm-\(role)", topics: [context.kafka.topic(topic)],
            logger: context.logger)
        return [
            WorkerRuntime(
                role: role, consumer: consumer, handler: handler,
                deadLetters: DeadLetterRepository(client: context.database, logger: context.logger),
                settings: settings, logger: context.logger)
        ]
    }
}
