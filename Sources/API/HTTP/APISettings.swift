import Shared

/// Behaviour the deployment configures (environment variables named as in the seeds where they name one).
struct APISettings: Sendable {
    /// `REGISTERED_CALL_FLOW_LOGIC`.
    var callFlowLogic = CallFlowLogicRegistry()
    /// `CALLOUT_PARTICIPATION_RETRY_STATUSES`: the phone call statuses after which a participation is still
    /// to be called (statistics' `callout_participations_remaining`).
    var retryStatuses = CalloutStatistics.defaultRetryStatuses
    /// `PLATFORM_PROVIDER`, `TWILIO_*`, `SOMLENG_*`: the credentials provider callbacks are checked against
    /// for accounts without their own.
    var providerDefaults = ProviderDefaults(baseURL: ProviderDefaults.twilioBaseURL, accountSID: "", authToken: "")
    /// `PUBLIC_BASE_URL` (`https://scfm.example.org`): the scheme and host providers reach this API at, which
    /// their request signatures cover. Unset, it is taken from `X-Forwarded-Proto`/`X-Forwarded-Host` or `Host`.
    var publicBaseURL: String?
    /// `API_TOKEN_CACHE_SECONDS` (5; 0 turns it off): how long a token's account is kept in memory
    /// (AuthenticatedAccounts). Off unless configured, so tests see every change at once.
    var tokenCacheDuration: Duration = .zero
    /// `SECRETS_KEY` (required by `API serve`): checks the token that binds a callback URL to its phone call.
    /// Nil (tests that do not need it): a callback's `phone_call_id` is ignored and its CallSid alone finds the call.
    var callbackTokens: CallbackTokens?
    /// `SECRETS_KEY` (and `SECRETS_KEY_PREVIOUS`): seals the accounts' provider auth tokens and the webhook
    /// endpoints' secrets before they are stored, and opens them to check provider signatures. Nil (tests
    /// that store no secret): storing one is refused.
    var secrets: SecretBox?
    /// `OUTBOUND_ALLOW_PRIVATE_ADDRESSES` (false): whether webhook endpoints may name private addresses.
    var outbound = OutboundPolicy()

    /// `API_RATE_LIMIT_PER_SECOND` (200; 0 turns it off) and `API_RATE_LIMIT_BURST` (2000): each access
    /// token's request rate in this process (RequestRateLimiter). Off unless configured, for tests.
    var rateLimit: (perSecond: Double, burst: Double) = (0, 0)
    /// `API_REQUEST_TIMEOUT_SECONDS` (30; 0 turns it off): the longest a request may take to be answered.
    var requestTimeout: Duration = .zero
    /// `MAX_WEBHOOK_ENDPOINTS_PER_ACCOUNT`, `MAX_ACTIVE_BATCH_OPERATIONS_PER_ACCOUNT`.
    var limits = AccountLimits()
    /// `CALL_FLOW_FALLBACK_MESSAGE`: what `/call_flows/fallback` says (CallFlowFallback).
    var fallback = CallFlowFallback(message: nil, url: nil)
    /// `CONSOLE_BCRYPT_COST` (12): the cost of the console's password hashes (tests: the minimum, 4).
    var consoleBcryptCost: UInt8 = 4
    /// The console's cookies are `Secure` when `PUBLIC_BASE_URL` is https.
    var secureCookies: Bool { publicBaseURL?.hasPrefix("https://") ?? false }

    init() {}

    init(environment: EnvironmentVariables) throws {
        callFlowLogic = try CallFlowLogicRegistry(environment: environment)
        if let statuses = try CalloutStatistics.retryStatuses(environment) {
            retryStatuses = statuses
        }
        providerDefaults = try ProviderDefaults(environment: environment)
        publicBaseURL = try PublicBaseURL.read(environment)
        let secretsKey = try SecretsKey(environment: environment)
        callbackTokens = CallbackTokens(secretsKey: secretsKey)
        secrets = SecretBox(secretsKey: secretsKey)
        outbound = try OutboundPolicy(environment: environment)
        tokenCacheDuration = .milliseconds(Int64(try environment.number("API_TOKEN_CACHE_SECONDS", default: 5, range: 0...3600) * 1000))
        rateLimit = (
            try environment.number("API_RATE_LIMIT_PER_SECOND", default: 200, range: 0...1_000_000),
            try environment.number("API_RATE_LIMIT_BURST", default: 2000, range: 1...10_000_000)
        )
        requestTimeout = .milliseconds(Int64(try environment.number("API_REQUEST_TIMEOUT_SECONDS", default: 30, range: 0...3600) * 1000))
        limits = try AccountLimits(environment: environment)
        fallback = try CallFlowFallback(environment: environment, publicBaseURL: publicBaseURL)
        consoleBcryptCost = UInt8(try environment.integer("CONSOLE_BCRYPT_COST", default: 12, range: 4...16))
    }
}
