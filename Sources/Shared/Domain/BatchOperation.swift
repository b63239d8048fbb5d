import Foundation
import PostgresNIO

public enum BatchOperationType: String, Sendable, CaseIterable {
    case calloutPopulation = "BatchOperation::CalloutPopulation"
    case phoneCallCreate = "BatchOperation::PhoneCallCreate"
    case phoneCallQueue = "BatchOperation::PhoneCallQueue"
    case phoneCallQueueRemoteFetch = "BatchOperation::PhoneCallQueueRemoteFetch"

    /// The column of `phone_calls` that names the operation of this type which created or moved the call.
    var phoneCallColumn: TrustedSQL? {
        switch self {
        case .calloutPopulation: nil
        case .phoneCallCreate: "create_batch_operation_id"
        case .phoneCallQueue: "queue_batch_operation_id"
        case .phoneCallQueueRemoteFetch: "queue_remote_fetch_batch_operation_id"
        }
    }
}

public enum BatchOperationStatus: String, Sendable, CaseIterable {
    case preview, queued, running, finished
}

/// `POST /api/batch_operations/:id/batch_operation_events`.
public enum BatchOperationEvent: String, Sendable, CaseIterable {
    case queue, requeue

    public var from: BatchOperationStatus {
        switch self {
        case .queue: .preview
        case .requeue: .finished
        }
    }
}

public struct BatchOperation: Sendable {
    public let id: Int64
    public let accountID: Int64
    public let calloutID: Int64?
    public let type: BatchOperationType
    public var status: String
    public var parameters: JSONValue
    public var metadata: JSONValue
    public var progressTotal: Int64?
    public var progressDone: Int64
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = """
        id, account_id, callout_id, type, status, parameters, metadata, progress_total, progress_done, created_at,
        updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        calloutID = try columns["callout_id"].decode(Int64?.self)
        let typeName = try columns["type"].decode(String.self)
        guard let type = BatchOperationType(rawValue: typeName) else { throw PoisonMessage("unknown batch operation type \(typeName)") }
        self.type = type
        status = try columns["status"].decode(String.self)
        parameters = try columns["parameters"].decode(JSONValue.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        progressTotal = try columns["progress_total"].decode(Int64?.self)
        progressDone = try columns["progress_done"].decode(Int64.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    /// The seed's shape, plus `progress` (rows done of the total selected) for a running operation.
    public var json: JSONValue {
        [
            "id": .integer(id),
            "callout_id": .optional(calloutID),
            "parameters": parameters,
            "metadata": metadata,
            "status": .string(status),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
            "type": .string(type.rawValue),
            "progress": ["done": .integer(progressDone), "total": .optional(progressTotal)],
        ]
    }

    /// The legacy `callout_population` shape (`/api/callout_populations`).
    public var calloutPopulationJSON: JSONValue {
        [
            "id": .integer(id),
            "callout_id": .optional(calloutID),
            "contact_filter_params": parameters["contact_filter_params"] ?? .emptyObject,
            "metadata": metadata,
            "status": .string(status),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
