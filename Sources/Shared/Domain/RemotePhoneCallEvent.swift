import Foundation
import PostgresNIO

/// A request Twilio or Somleng made about a call (status callback or call flow request), as received.
public struct RemotePhoneCallEvent: Sendable {
    public let id: Int64
    public let accountID: Int64
    public let phoneCallID: Int64
    public var details: JSONValue
    public var metadata: JSONValue
    public var remoteCallID: String
    public var remoteDirection: String
    public var callFlowLogic: String
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = """
        id, account_id, phone_call_id, details, metadata, remote_call_id, remote_direction, call_flow_logic,
        created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        phoneCallID = try columns["phone_call_id"].decode(Int64.self)
        details = try columns["details"].decode(JSONValue.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        remoteCallID = try columns["remote_call_id"].decode(String.self)
        remoteDirection = try columns["remote_direction"].decode(String.self)
        callFlowLogic = try columns["call_flow_logic"].decode(String.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "phone_call_id": .integer(phoneCallID),
            "details": details,
            "metadata": metadata,
            "remote_call_id": .string(remoteCallID),
            "remote_direction": .string(remoteDirection),
            "call_flow_logic": .string(callFlowLogic),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
