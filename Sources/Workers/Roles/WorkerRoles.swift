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

    /// `SECRETS_KEY` (and `SECRETS_KEY_PREVIOUS`): required by the roles that read a stored secret or make a
    /// callback token (queue, remote-fetch, scheduler, webhooks); a clear error at start when it is missing.
    func secrets() throws -> SecretBox { SecretBox(secretsKey: try SecretsKey(environment: environment)) }
}

/// The worker roles, by name. A role is a set of services; consumer roles are a `WorkerRuntime` with the
/// role's handler on the role's topic, in the consumer group named after the role.
enum WorkerRoles {
    static let builders: [String: @Sendable (WorkerRoleContext) throws -> [any Service]] = [
        "outbox-relay": outboxRelay,
        "population": population,
        "queue": queue,
        "remote-fetch": remoteFetch,
        "scheduler": scheduler,
        "status": status,
        "webhooks": webhooks,
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
        let relay = try OutboxRelay.fromEnvironment(
            database: context.database, producer: producer, kafka: context.kafka, environment: context.environment,
            logger: context.logger)
        return [producer, relay]
    }

    /// Runs batch operations from `batch-operations` as chunked set-based SQL (BATCH_CHUNK_SIZE rows a chunk).
    static func population(_ context: WorkerRoleContext) throws -> [any Service] {
        let chunkSize = try context.environment.integer("BATCH_CHUNK_SIZE", default: 50_000, range: 1...1_000_000)
        let runner = BatchOperationRunner(client: context.database, logger: context.logger, chunkSize: chunkSize)
        return try consumer(role: "population", topic: .batchOperations, handler: PopulationHandler(runner: runner), context: context)
    }

    /// Dials `phone-calls.queue` jobs at each account's rate (see QueueHandler). Messages are independent per
    /// call, so lanes go by key: many calls of one partition wait for slots or the provider at once.
    static func queue(_ context: WorkerRoleContext) throws -> [any Service] {
        let environment = context.environment
        let claimTimeout = try environment.seconds("DIAL_CLAIM_TIMEOUT_SECONDS", default: .seconds(30), range: 1...3600)
        // A dial leaves only while the worker's lease has half the claim timeout left, and must reach the
        // provider within that half, before another worker can look for it there.
        let requestTimeout = try providerRequestTimeout(context)
        guard claimTimeout >= requestTimeout * 2 else {
            throw EnvironmentVariables.InvalidValue(
                name: "DIAL_CLAIM_TIMEOUT_SECONDS", value: "\(claimTimeout.seconds)",
                expected: "at least twice PROVIDER_REQUEST_TIMEOUT_SECONDS (\(requestTimeout.seconds))")
        }
        let producer = try KafkaProducer(configuration: context.kafka, logger: context.logger)
        let (http, provider) = try providerClient(context)
        var limiterSettings = DialRateLimiter.Settings()
        limiterSettings.headroom = try environment.number("DIAL_RATE_HEADROOM", default: limiterSettings.headroom, range: 0...0.5)
        var settings = QueueHandler.Settings()
        if let base = try PublicBaseURL.read(environment) {
            settings.callbacks = CallbackEndpoint(
                base: base, tokens: CallbackTokens(secretsKey: try SecretsKey(environment: environment)),
                fallbackURL: try CallFlowFallback(environment: environment, publicBaseURL: base).url)
        }
        let handler = QueueHandler(
            claims: DialClaims(client: context.database, logger: context.logger, claimTimeout: claimTimeout),
            accounts: try providerAccounts(context),
            limiter: DialRateLimiter(schedule: DialSchedule(client: context.database, logger: context.logger), settings: limiterSettings),
            provider: provider, events: StatusEventPublisher(producer: producer, kafka: context.kafka),
            holds: CalloutHolds(client: context.database, logger: context.logger), settings: settings, logger: context.logger)
        return [http, producer]
            + (try consumer(role: "queue", topic: .phoneCallsQueue, handler: handler, context: context, ordering: .key, defaultConcurrency: 256))
    }

    /// Fetches calls at the provider for `phone-calls.remote-fetch` jobs and publishes what it found.
    static func remoteFetch(_ context: WorkerRoleContext) throws -> [any Service] {
        let producer = try KafkaProducer(configuration: context.kafka, logger: context.logger)
        let (http, provider) = try providerClient(context)
        let handler = RemoteFetchHandler(
            client: context.database, accounts: try providerAccounts(context), provider: provider,
            events: StatusEventPublisher(producer: producer, kafka: context.kafka), logger: context.logger)
        return [http, producer]
            + (try consumer(
                role: "remote-fetch", topic: .phoneCallsRemoteFetch, handler: handler, context: context, ordering: .key, defaultConcurrency: 64))
    }

    /// Applies `phone-call-events` to phone calls, many events per statement.
    static func status(_ context: WorkerRoleContext) throws -> [any Service] {
        let handler = StatusEventHandler(
            updates: PhoneCallStatusUpdates(client: context.database, logger: context.logger),
            maximumBatch: try context.environment.integer("STATUS_BATCH_SIZE", default: 1000, range: 1...100_000))
        return try consumer(role: "status", topic: .phoneCallEvents, handler: handler, context: context, ordering: .key, defaultConcurrency: 512)
    }

    /// Drives running callouts whose account enables the autopilot (see AutopilotScheduler), settles calls
    /// stuck in a state for too long (StuckCallSweeper) and sends again every job the broker lost
    /// (JobReconciler). Replicas share the callouts by lease; one reconciles at a time.
    static func scheduler(_ context: WorkerRoleContext) throws -> [any Service] {
        let environment = context.environment
        var settings = AutopilotScheduler.Settings()
        settings.tick = try environment.seconds("AUTOPILOT_TICK_SECONDS", default: settings.tick, range: 0.01...60)
        settings.queueAhead = try environment.seconds("AUTOPILOT_QUEUE_AHEAD_SECONDS", default: settings.queueAhead, range: 0.1...600)
        settings.maximumQueueDepth = try environment.integer("AUTOPILOT_MAX_QUEUE_DEPTH", default: settings.maximumQueueDepth, range: 1...1_000_000)
        var defaults = AutopilotPolicy()
        if let statuses = try CalloutStatistics.retryStatuses(environment) {
            defaults.retryStatuses = statuses
        }
        let leases = AutopilotLeases(
            client: context.database, logger: context.logger,
            ttl: try environment.seconds("AUTOPILOT_LEASE_SECONDS", default: .seconds(10), range: 1...3600), defaults: defaults)
        let scheduler = AutopilotScheduler(
            leases: leases, steps: AutopilotSteps(client: context.database, logger: context.logger, owner: leases.owner),
            accounts: try providerAccounts(context),
            trunks: TrunkShares(client: context.database, logger: context.logger, defaults: try ProviderDefaults(environment: environment)),
            settings: settings, logger: context.logger)
        var sweeping = StuckCallSweeper.Settings()
        sweeping.interval = try environment.seconds("STUCK_CALLS_SWEEP_SECONDS", default: sweeping.interval, range: 0.1...3600)
        sweeping.queuedMaxAge = try environment.seconds("PHONE_CALL_QUEUED_MAX_AGE_SECONDS", default: sweeping.queuedMaxAge, range: 1...31_536_000)
        sweeping.claimMaxAge = try environment.seconds("PHONE_CALL_CLAIM_MAX_AGE_SECONDS", default: sweeping.claimMaxAge, range: 1...31_536_000)
        sweeping.fetchAfter = try environment.seconds("PHONE_CALL_FETCH_AFTER_SECONDS", default: sweeping.fetchAfter, range: 1...31_536_000)
        sweeping.expireAfter = try environment.seconds("PHONE_CALL_EXPIRE_AFTER_SECONDS", default: sweeping.expireAfter, range: 1...31_536_000)
        var reconciling = JobReconciler.Settings()
        reconciling.interval = try environment.seconds("RECONCILE_INTERVAL_SECONDS", default: reconciling.interval, range: 0.1...3600)
        reconciling.redeliverAfter = try environment.seconds("JOB_REDELIVERY_SECONDS", default: reconciling.redeliverAfter, range: 0...86_400)
        let reconciler = JobReconciler(
            client: context.database, offsets: try KafkaOffsetsReader(configuration: context.kafka), kafka: context.kafka,
            settings: reconciling, logger: context.logger)
        let watch = DiallingWatch(
            client: context.database,
            interval: try environment.seconds("DIALLING_WATCH_SECONDS", default: .seconds(15), range: 1...3600), logger: context.logger)
        return [scheduler, StuckCallSweeper(client: context.database, settings: sweeping, logger: context.logger), reconciler, watch]
    }

    /// Records result events for accounts' webhook endpoints (its own consumer group on `phone-call-events`)
    /// and sends every pending delivery, signed, with retries (WebhookDispatcher).
    static func webhooks(_ context: WorkerRoleContext) throws -> [any Service] {
        let environment = context.environment
        var settings = WebhookDispatcher.Settings()
        settings.concurrency = try environment.integer("WEBHOOK_CONCURRENCY", default: settings.concurrency, range: 1...4096)
        settings.perEndpoint = try environment.integer("WEBHOOK_CONCURRENCY_PER_ENDPOINT", default: settings.perEndpoint, range: 1...1024)
        settings.requestTimeout = try environment.seconds("WEBHOOK_TIMEOUT_SECONDS", default: settings.requestTimeout, range: 0.1...120)
        settings.maximumAttempts = try environment.integer("WEBHOOK_MAX_ATTEMPTS", default: settings.maximumAttempts, range: 1...100)
        settings.retryBase = try environment.seconds("WEBHOOK_RETRY_BASE_SECONDS", default: settings.retryBase, range: 0.01...3600)
        var outbound = OutboundHTTPClients.Settings()
        outbound.policy = try OutboundPolicy(environment: environment)
        outbound.connectionsPerHost = settings.perEndpoint
        if outbound.policy.allowPrivateAddresses {
            context.logger.warning("OUTBOUND_ALLOW_PRIVATE_ADDRESSES=true: webhook endpoints may be private and loopback addresses (local use only)")
        }
        let clients = OutboundHTTPClients(settings: outbound, logger: context.logger)
        let recorder = WebhookEventRecorder(client: context.database, logger: context.logger)
        return [
            clients,
            WebhookDispatcher(
                client: context.database, outbound: clients, settings: settings, secrets: try context.secrets(), logger: context.logger),
        ]
            + (try consumer(role: "webhooks", topic: .phoneCallEvents, handler: recorder, context: context, ordering: .key, defaultConcurrency: 256))
    }

    static func providerAccounts(_ context: WorkerRoleContext) throws -> ProviderAccounts {
        ProviderAccounts(
            client: context.database, defaults: try ProviderDefaults(environment: context.environment), secrets: try context.secrets(),
            logger: context.logger)
    }

    static func providerRequestTimeout(_ context: WorkerRoleContext) throws -> Duration {
        try context.environment.seconds("PROVIDER_REQUEST_TIMEOUT_SECONDS", default: .seconds(15), range: 0.1...300)
    }

    /// The provider client and the service that closes its connections when the role has stopped.
    static func providerClient(_ context: WorkerRoleContext) throws -> (HTTPClientService, ProviderClient) {
        let timeout = try providerRequestTimeout(context)
        let connections = try context.environment.integer("PROVIDER_MAX_CONNECTIONS", default: 64, range: 1...4096)
        let http = ProviderClient.makeHTTPClient(maximumConnections: connections)
        return (HTTPClientService(client: http, logger: context.logger), ProviderClient(http: http, requestTimeout: timeout, logger: context.logger))
    }

    /// A consumer role: `handler` on `topic`, consumer group `scfm-<role>`, concurrency (lanes) from
    /// WORKER_CONCURRENCY.
    static func consumer(
        role: String, topic: Topic, handler: any MessageHandler, context: WorkerRoleContext,
        ordering: WorkerRuntime.Ordering = .partition, defaultConcurrency: Int = 8
    ) throws -> [any Service] {
        var settings = WorkerRuntime.Settings()
        settings.ordering = ordering
        settings.concurrency = try context.environment.integer("WORKER_CONCURRENCY", default: defaultConcurrency, range: 1...4096)
        settings.maximumInFlight = try context.environment.integer(
            "WORKER_MAX_IN_FLIGHT", default: max(1000, settings.concurrency), range: 1...100_000)
        let consumer = try KafkaConsumer(
            configuration: context.kafka, groupID: context.kafka.consumerGroup(role: role), topics: [context.kafka.topic(topic)],
            logger: context.logger)
        return [
            WorkerRuntime(
                role: role, consumer: consumer, handler: handler,
                deadLetters: DeadLetterRepository(client: context.database, logger: context.logger),
                settings: settings, logger: context.logger)
        ]
    }
}
