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
        callFlowLogic = CallFlowLogicRegistry(environment: environment)
        if let text = environment["CALLOUT_PARTICIPATION_RETRY_STATUSES"] {
            let statuses = text.split(separator: ",").map { String(String($0).trimmingWhitespace()) }.filter { !$0.isEmpty }
            let known = PhoneCallStatus.allCases.map(\.rawValue)
            if let unknown = statuses.first(where: { !known.contains($0) }) {
                throw EnvironmentVariables.InvalidValue(
                    name: "CALLOUT_PARTICIPATION_RETRY_STATUSES", value: unknown,
                    expected: "phone call statuses (\(known.joined(separator: ", ")))")
            }
            retryStatuses = statuses
        }
    }
}
