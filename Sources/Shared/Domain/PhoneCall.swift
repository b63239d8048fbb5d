import Foundation
import PostgresNIO

public struct PhoneCall: Sendable {
    public let id: Int64
    public let accountID: Int64
    public let calloutParticipationID: Int64?
    public let contactID: Int64
    public let calloutID: Int64?
    public let createBatchOperationID: Int64?
    public let queueBatchOperationID: Int64?
    public let queueRemoteFetchBatchOperationID: Int64?
    public var status: String
    public var msisdn: String
    public var remoteCallID: String?
    public var remoteStatus: String?
    public var remoteDirection: String?
    public var remoteErrorMessage: String?
    public var metadata: JSONValue
    public var remoteResponse: JSONValue
    public var remoteRequestParams: JSONValue
    public var remoteQueueResponse: JSONValue
    public var callFlowLogic: String?
    public var remotelyQueuedAt: Date?
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = """
        id, account_id, callout_participation_id, contact_id, callout_id, create_batch_operation_id,
        queue_batch_operation_id, queue_remote_fetch_batch_operation_id, status, msisdn, remote_call_id,
        remote_status, remote_direction, remote_error_message, metadata, remote_response, remote_request_params,
        remote_queue_response, call_flow_logic, remotely_queued_at, created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        calloutParticipationID = try columns["callout_participation_id"].decode(Int64?.self)
        contactID = try columns["contact_id"].decode(Int64.self)
        calloutID = try columns["callout_id"].decode(Int64?.self)
        createBatchOperationID = try columns["create_batch_operation_id"].decode(Int64?.self)
        queueBatchOperationID = try columns["queue_batch_operation_id"].decode(Int64?.self)
        queueRemoteFetchBatchOperationID = try columns["queue_remote_fetch_batch_operation_id"].decode(Int64?.self)
        status = try columns["status"].decode(String.self)
        msisdn = try columns["msisdn"].decode(String.self)
        remoteCallID = try columns["remote_call_id"].decode(String?.self)
        remoteStatus = try columns["remote_status"].decode(String?.self)
        remoteDirection = try columns["remote_direction"].decode(String?.self)
        remoteErrorMessage = try columns["remote_error_message"].decode(String?.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        remoteResponse = try columns["remote_response"].decode(JSONValue.self)
        remoteRequestParams = try columns["remote_request_params"].decode(JSONValue.self)
        remoteQueueResponse = try columns["remote_queue_response"].decode(JSONValue.self)
        callFlowLogic = try columns["call_flow_logic"].decode(String?.self)
        remotelyQueuedAt = try columns["remotely_queued_at"].decode(Date?.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "callout_participation_id": .optional(calloutParticipationID),
            "contact_id": .integer(contactID),
            "create_batch_operation_id": .optional(createBatchOperationID),
            "queue_batch_operation_id": .optional(queueBatchOperationID),
            "queue_remote_fetch_batch_operation_id": .optional(queueRemoteFetchBatchOperationID),
            "status": .string(status),
            "msisdn": .string(msisdn),
            "remote_call_id": .optional(remoteCallID),
            "remote_status": .optional(remoteStatus),
            "remote_direction": .optional(remoteDirection),
            "remote_error_message": .optional(remoteErrorMessage),
            "metadata": metadata,
            "remote_response": remoteResponse,
            "remote_request_params": remoteRequestParams,
            "remote_queue_response": remoteQueueResponse,
            "call_flow_logic": .optional(callFlowLogic),
            "remotely_queued_at": .timestamp(remotelyQueuedAt),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
