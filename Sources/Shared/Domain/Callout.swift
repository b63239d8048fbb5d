import Foundation
import PostgresNIO

public enum CalloutStatus: String, Sendable, CaseIterable {
    case initialized, running, paused, stopped
}

/// `POST /api/callouts/:id/callout_events`: the callout state machine of SCFM.
public enum CalloutEvent: String, Sendable, CaseIterable {
    case start, pause, resume, stop

    /// The states the event may leave from.
    public var from: [CalloutStatus] {
        switch self {
        case .start: [.initialized]
        case .pause: [.running]
        case .resume: [.paused, .stopped]
        case .stop: [.running, .paused]
        }
    }

    public var to: CalloutStatus {
        switch self {
        case .start, .resume: .running
        case .pause: .paused
        case .stop: .stopped
        }
    }
}

public struct Callout: Sendable {
    public let id: Int64
    public let accountID: Int64
    public var status: String
    public var callFlowLogic: String?
    public var audioURL: String?
    public var metadata: JSONValue
    public var settings: JSONValue
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL =
        "id, account_id, status, call_flow_logic, audio_url, metadata, settings, created_at, updated_at"

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        status = try columns["status"].decode(String.self)
        callFlowLogic = try columns["call_flow_logic"].decode(String?.self)
        audioURL = try columns["audio_url"].decode(String?.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        settings = try columns["settings"].decode(JSONValue.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "status": .string(status),
            "call_flow_logic": .optional(callFlowLogic),
            "metadata": metadata,
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
