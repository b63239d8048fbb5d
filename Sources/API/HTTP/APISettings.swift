import Shared

/// Behaviour the deployment configures (environment variables named as in the seeds).
struct APISettings: Sendable {
    /// `REGISTERED_CALL_FLOW_LOGIC`.
    var callFlowLogic = CallFlowLogicRegistry()
    /// `CALLOUT_PARTICIPATION_RETRY_STATUSES`: the phone call statuses after which a participation is still
    /// to be called (statistics' `callout_participations_remaining`).
    var retryStatuses = CalloutStatistics.defaultRetryStatuses

    init() {}

    init(environment: EnvironmentVariables) throws {
        callFlowLogic = try CallFlowLogicRegistry(environment: environment)
        if let statuses = try environment.list(
            "CALLOUT_PARTICIPATION_RETRY_STATUSES", allowed: PhoneCallStatus.allCases.map(\.rawValue))
        {
            retryStatuses = statuses
        }
    }
}
