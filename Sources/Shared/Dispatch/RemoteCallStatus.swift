/// Twilio's call statuses (Somleng uses the same), mapped to phone call statuses as SCFM did.
public enum RemoteCallStatus {
    /// The phone call status a provider status means; nil for statuses that leave the call where it is
    /// (`queued`, `initiated`: the provider has it but has not rung yet).
    public static func phoneCallStatus(for remoteStatus: String) -> PhoneCallStatus? {
        switch remoteStatus {
        case "ringing", "in-progress": .inProgress
        case "busy": .busy
        case "failed": .failed
        case "no-answer": .notAnswered
        case "canceled": .canceled
        case "completed": .completed
        default: nil
        }
    }
}
