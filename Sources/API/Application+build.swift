import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import Shared

/// What the API needs from the outside world; tests build it around their own database.
struct APIDependencies: Sendable {
    let database: PostgresClient
    let brokerProbe: KafkaBrokerProbe?
    let logger: Logger
    var settings = APISettings()
}

/// The router of the whole REST API, shared by `API serve` and the tests.
func buildRouter(_ dependencies: APIDependencies) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    // Outermost first: the metrics and the request log see the response the error middleware made of an
    // error (a 401 counted as 401 with its duration, not as a bare 500).
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: RequestDeadlineMiddleware(deadline: dependencies.settings.requestTimeout))

    OperationsController(
        database: dependencies.database, brokerProbe: dependencies.brokerProbe, fallback: dependencies.settings.fallback,
        logger: dependencies.logger
    ).addRoutes(to: router)

    // The providers' callbacks carry a signature instead of an access token.
    ProviderWebhooksController(
        recorder: ProviderCallbackRecorder(
            client: dependencies.database, logger: dependencies.logger, registry: dependencies.settings.callFlowLogic,
            defaults: dependencies.settings.providerDefaults, tokens: dependencies.settings.callbackTokens,
            secrets: dependencies.settings.secrets),
        publicBaseURL: dependencies.settings.publicBaseURL
    ).addRoutes(to: router.group("api"))

    let accounts = AccountRepository(client: dependencies.database, logger: dependencies.logger, secrets: dependencies.settings.secrets)
    let authenticated = AuthenticatedAccounts(timeToLive: dependencies.settings.tokenCacheDuration)
    let rateLimiter = RequestRateLimiter(rate: dependencies.settings.rateLimit.perSecond, burst: dependencies.settings.rateLimit.burst)
    let api = router.group("api").add(middleware: AuthenticationMiddleware(accounts: accounts, cache: authenticated, rateLimiter: rateLimiter))
    AccountsController(accounts: accounts, authenticated: authenticated).addRoutes(to: api)
    AccessTokensController(
        accessTokens: AccessTokenRepository(client: dependencies.database, logger: dependencies.logger), authenticated: authenticated
    )
    .addRoutes(to: api)
    let database = dependencies.database
    let logger = dependencies.logger
    let settings = dependencies.settings
    ContactsController(contacts: ContactRepository(client: database, logger: logger), database: database)
        .addRoutes(to: api)
    CalloutsController(callouts: CalloutRepository(client: database, logger: logger), database: database, settings: settings)
        .addRoutes(to: api)
    CalloutParticipationsController(
        participations: CalloutParticipationRepository(client: database, logger: logger), database: database,
        settings: settings
    ).addRoutes(to: api)
    PhoneCallsController(phoneCalls: PhoneCallRepository(client: database, logger: logger), database: database, settings: settings)
        .addRoutes(to: api)
    let batchOperations = BatchOperationRepository(client: database, logger: logger, limits: settings.limits)
    BatchOperationsController(operations: batchOperations, database: database).addRoutes(to: api)
    CalloutPopulationsController(operations: batchOperations, database: database).addRoutes(to: api)
    let webhooks = WebhookRepository(
        client: database, logger: logger, outbound: settings.outbound, secrets: settings.secrets, limits: settings.limits)
    WebhooksController(webhooks: webhooks, database: database).addRoutes(to: api)
    DoNotCallEntriesController(entries: DoNotCallRepository(client: database, logger: logger), database: database)
        .addRoutes(to: api)
    RemotePhoneCallEventsController(events: RemotePhoneCallEventRepository(client: database, logger: logger), database: database)
        .addRoutes(to: api)
    // The operator console: HTML pages on the same port, signed in by cookie rather than token.
    ConsoleController(
        database: database, logger: logger, bcryptCost: settings.consoleBcryptCost, secureCookies: settings.secureCookies,
        publicBaseURL: settings.publicBaseURL, secrets: settings.secrets, webhooks: webhooks
    )
    .addRoutes(to: router)
    return router
}

/// `idleTimeout` (`API_IDLE_TIMEOUT_SECONDS`, 60): a connection with nothing read or written for that long
/// is closed, so idle or trickling clients cannot hold sockets without bound.
func buildApplication(
    _ dependencies: APIDependencies, host: String, port: Int, idleTimeout: Duration = .seconds(60)
) -> Application<RouterResponder<APIRequestContext>> {
    Application(
        router: buildRouter(dependencies),
        server: .http1(configuration: .init(idleTimeout: idleTimeout > .zero ? .nanoseconds(idleTimeout.nanoseconds) : nil)),
        configuration: .init(address: .hostname(host, port: port), serverName: "scfm-api"),
        logger: dependencies.logger)
}
