/// Every status a phone call can have. `created` calls are ours to change; `queued` ones wait for a queue
/// worker; after the provider accepted the call it is `remotely_queued` and moves on by status events.
public enum PhoneCallStatus: String, Sendable, CaseIterable {
    case created, queued, remotelyQueued = "remotely_queued", errored
    case remoteFetchQueued = "remote_fetch_queued"
    case failed, inProgress = "in_progress", busy, notAnswered = "not_answered", canceled, completed, expired

    /// The outcome is known and no status event changes it any more.
    public var isFinal: Bool {
        switch self {
        case .errored, .failed, .busy, .notAnswered, .canceled, .completed, .expired: true
        default: false
        }
    }

    public static let finalStatuses = allCases.filter(\.isFinal)
    /// Between queued and final: the call holds its participation until its outcome is known.
    public static let unfinishedStatuses: [PhoneCallStatus] = [.created, .queued, .remotelyQueued, .inProgress, .remoteFetchQueued]
}

/// `POST /api/phone_calls/:id/phone_call_events`.
public enum PhoneCallEvent: String, Sendable, CaseIterable {
    case queue
    case queueRemoteFetch = "queue_remote_fetch"

    public var from: [PhoneCallStatus] {
        switch self {
        case .queue: [.created]
        case .queueRemoteFetch: [.remotelyQueued, .inProgress]
        }
    }

    public var to: PhoneCallStatus {
        switch self {
        case .queue: .queued
        case .queueRemoteFetch: .remoteFetchQueued
        }
    }

    /// The topic of the job the event hands to the workers.
    public var topic: Topic {
        switch self {
        case .queue: .phoneCallsQueue
        case .queueRemoteFetch: .phoneCallsRemoteFetch
        }
    }
}
