import ArgumentParser
import FakeProvider
import Logging
import ServiceLifecycle
import Shared

/// `Workers fake-provider`: the Twilio-compatible fake provider that local mode, demos and load tests dial.
struct FakeProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-provider",
        abstract: "Run a Twilio-compatible fake telephony provider (create, fetch and list calls; status callbacks).",
        discussion: """
            Point accounts at it with TWILIO_REST_API_BASE_URL (or SOMLENG_CLIENT_REST_API_BASE_URL) = \
            http://127.0.0.1:<port>. Its behaviour comes from environment variables (options override them): \
            FAKE_PROVIDER_OUTCOMES (completed=70,busy=10,no-answer=15,failed=5), FAKE_PROVIDER_QUEUE_SECONDS, \
            FAKE_PROVIDER_RING_SECONDS, FAKE_PROVIDER_TALK_SECONDS, FAKE_PROVIDER_LATENCY_SECONDS, \
            FAKE_PROVIDER_429_RATE, FAKE_PROVIDER_500_RATE, FAKE_PROVIDER_500_AFTER_CREATE_RATE, FAKE_PROVIDER_MAX_CALLS_PER_SECOND, \
            FAKE_PROVIDER_AUTH_TOKEN. GET /_fake/ledger shows every create it received; DELETE clears it.
            """)

    @Option(help: "Port to listen on (env FAKE_PROVIDER_PORT, default 4010).")
    var port: Int?

    @Option(help: "Share of creates answered 429, 0…1 (env FAKE_PROVIDER_429_RATE).")
    var throttleRate: Double?

    @Option(help: "Share of creates answered 500, 0…1 (env FAKE_PROVIDER_500_RATE).")
    var errorRate: Double?

    @Option(help: "Share of creates that make the call and still answer 500, 0…1 (env FAKE_PROVIDER_500_AFTER_CREATE_RATE).")
    var errorAfterCreateRate: Double?

    @Option(help: "Creates accepted per second before 429, 0 for no cap (env FAKE_PROVIDER_MAX_CALLS_PER_SECOND).")
    var maxCallsPerSecond: Int?

    func validate() throws {
        if let throttleRate, !(0...1).contains(throttleRate) { throw ValidationError("--throttle-rate must be within 0…1") }
        if let errorRate, !(0...1).contains(errorRate) { throw ValidationError("--error-rate must be within 0…1") }
        if let errorAfterCreateRate, !(0...1).contains(errorAfterCreateRate) {
            throw ValidationError("--error-after-create-rate must be within 0…1")
        }
        if let maxCallsPerSecond, maxCallsPerSecond < 0 { throw ValidationError("--max-calls-per-second must be 0 or more") }
    }

    func run() async throws {
        let environment = EnvironmentVariables()
        try StructuredLogHandler.bootstrap(environment: environment)
        let logger = Logger(label: "scfm.fake-provider")
        var settings = try FakeProviderSettings(environment: environment)
        if let throttleRate { settings.throttleRate = throttleRate }
        if let errorRate { settings.errorRate = errorRate }
        if let errorAfterCreateRate { settings.errorAfterCreateRate = errorAfterCreateRate }
        if let maxCallsPerSecond { settings.maxCallsPerSecond = maxCallsPerSecond }
        let port = try port ?? environment.integer("FAKE_PROVIDER_PORT", default: 4010, range: 0...65535)
        let host = environment.string("HOST", default: "127.0.0.1")
        let server = FakeProviderServer(settings: settings, logger: logger)
        let application = server.application(host: host, port: port) { port in
            logger.info("fake provider listening", metadata: ["port": "\(port)"])
        }
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
