import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConfigurationTests {
    @Test func databaseURLIsParsedWithPoolSizeAndTLS() throws {
        let configuration = try DatabaseConfiguration(
            environment: EnvironmentVariables([
                "DATABASE_URL": "postgres://scfm:secret@db.internal:6543/alerts?sslmode=require",
                "DATABASE_POOL_SIZE": "7",
            ]))
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "scfm")
        #expect(configuration.password == "secret")
        #expect(configuration.database == "alerts")
        #expect(configuration.requireTLS)
        #expect(configuration.maximumConnections == 7)
    }

    @Test func listsAreCommaSeparatedAndCheckedAgainstWhatIsAllowed() throws {
        let environment = EnvironmentVariables([
            "REGISTERED_CALL_FLOW_LOGIC": " CallFlowLogic::OutcomeMonitoring, ,CallFlowLogic::Custom ",
            "CALLOUT_PARTICIPATION_RETRY_STATUSES": "failed,lost",
        ])
        #expect(try environment.list("REGISTERED_CALL_FLOW_LOGIC") == ["CallFlowLogic::OutcomeMonitoring", "CallFlowLogic::Custom"])
        #expect(try environment.list("UNSET") == nil)
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try environment.list("CALLOUT_PARTICIPATION_RETRY_STATUSES", allowed: ["failed", "errored"])
        }
        let registry = try CallFlowLogicRegistry(environment: environment)
        #expect(try registry.validate("CallFlowLogic::Custom") == "CallFlowLogic::Custom")
        #expect(throws: ValidationErrors.self) { try registry.validate("CallFlowLogic::Unknown") }
    }

    /// Read in one place for the API, the tasks and the scheduler: a status of a call still under way (which
    /// the API used to accept and which then kept the scheduler from starting) is refused at start.
    @Test func retryStatusesMustBeFinal() throws {
        #expect(
            try CalloutStatistics.retryStatuses(EnvironmentVariables(["CALLOUT_PARTICIPATION_RETRY_STATUSES": "failed,busy"])) == ["failed", "busy"])
        #expect(try CalloutStatistics.retryStatuses(EnvironmentVariables([:])) == nil)
        for status in ["in_progress", "queued", "remotely_queued", "lost"] {
            #expect(throws: EnvironmentVariables.InvalidValue.self, "\(status)") {
                try CalloutStatistics.retryStatuses(EnvironmentVariables(["CALLOUT_PARTICIPATION_RETRY_STATUSES": "failed,\(status)"]))
            }
        }
    }

    @Test func badValuesAreRefusedWithTheirName() {
        #expect(throws: DatabaseConfiguration.InvalidURL.self) {
            try DatabaseConfiguration(environment: EnvironmentVariables(["DATABASE_URL": "mysql://x/y"]))
        }
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try DatabaseConfiguration(environment: EnvironmentVariables(["DATABASE_POOL_SIZE": "many"]))
        }
        #expect(throws: EnvironmentVariables.InvalidValue.self) {
            try KafkaConfiguration(environment: EnvironmentVariables(["KAFKA_PROPERTIES": "security.protocol"]))
        }
    }

    @Test func kafkaPropertiesPassThroughToLibrdkafka() throws {
        let configuration = try KafkaConfiguration(
            environment: EnvironmentVariables([
                "KAFKA_BROKERS": "k1:9092,k2:9092", "KAFKA_TOPIC_PREFIX": "prod.",
                "KAFKA_PROPERTIES": "security.protocol=SASL_SSL; sasl.mechanism=PLAIN",
                "KAFKA_CONSUMER_PROPERTIES": "session.timeout.ms=45000",
            ]))
        #expect(configuration.consumerProperties == ["session.timeout.ms": "45000"])
        #expect(configuration.clientProperties["session.timeout.ms"] == nil)
        #expect(configuration.clientProperties["bootstrap.servers"] == "k1:9092,k2:9092")
        #expect(configuration.clientProperties["security.protocol"] == "SASL_SSL")
        #expect(configuration.clientProperties["sasl.mechanism"] == "PLAIN")
        #expect(configuration.topic(.phoneCallsQueue) == "prod.phone-calls.queue")
        #expect(configuration.consumerGroup(role: "queue") == "prod.scfm-queue", "environments sharing a cluster keep their groups apart")
        #expect(configuration.consumerGroups(of: .phoneCallEvents) == ["prod.scfm-status", "prod.scfm-webhooks"])
    }

    @Test func clientPropertiesLayerDefaultsClusterSettingsAndOverrides() throws {
        let configuration = KafkaConfiguration(brokers: "k:9092", properties: ["linger.ms": "20", "acks": "1"])
        let properties = configuration.clientProperties(
            defaults: ["linger.ms": "5", "log_level": "3"], overrides: ["acks": "all"])
        #expect(properties["linger.ms"] == "20", "the operator's setting beats a default")
        #expect(properties["log_level"] == "3")
        #expect(properties["acks"] == "all", "an override beats the operator")
        #expect(properties["bootstrap.servers"] == "k:9092")
    }
}
