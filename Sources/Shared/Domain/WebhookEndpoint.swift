import Foundation
import PostgresNIO

/// An account's receiver of result events (`/api/webhook_endpoints`). Its secret keys the deliveries'
/// signatures; it is stored sealed (SecretBox), never read back by the API, and shown once, when the endpoint
/// is created.
public struct WebhookEndpoint: Sendable {
    public let id: Int64
    public let accountID: Int64
    public var url: String
    /// The plaintext secret: only in the answer to the endpoint's creation, nil when read back.
    public var secret: String?
    public var eventTypes: [String]
    public var enabled: Bool
    public var metadata: JSONValue
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = "id, account_id, url, event_types, enabled, metadata, created_at, updated_at"

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        url = try columns["url"].decode(String.self)
        secret = nil
        eventTypes = try columns["event_types"].decode([String].self)
        enabled = try columns["enabled"].decode(Bool.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "url": .string(url),
            "event_types": .array(eventTypes.map { .string($0) }),
            "enabled": .bool(enabled),
            "metadata": metadata,
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }

    /// The answer to its creation: the only time the secret is shown.
    public var jsonWithSecret: JSONValue {
        var object = json.objectValue ?? [:]
        object["secret"] = .optional(secret)
        return .object(object)
    }
}

/// One event sent (or to be sent) to one endpoint, with its attempts and the endpoint's last answer.
public struct WebhookDelivery: Sendable {
    public let id: Int64
    public let endpointID: Int64
    public let eventType: String
    public let payload: JSONValue
    public let status: String
    public let attempts: Int
    public let nextAttemptAt: Date
    public let lastResponseStatus: Int?
    public let lastResponseBody: String?
    public let lastError: String?
    public let deliveredAt: Date?
    public let createdAt: Date
    public let updatedAt: Date

    public static let columns: TrustedSQL = """
        id, webhook_endpoint_id, event_type, payload, status, attempts, next_attempt_at, last_response_status,
        last_response_body, last_error, delivered_at, created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        endpointID = try columns["webhook_endpoint_id"].decode(Int64.self)
        eventType = try columns["event_type"].decode(String.self)
        payload = try columns["payload"].decode(JSONValue.self)
        status = try columns["status"].decode(String.self)
        attempts = Int(try columns["attempts"].decode(Int32.self))
        nextAttemptAt = try columns["next_attempt_at"].decode(Date.self)
        lastResponseStatus = try columns["last_response_status"].decode(Int32?.self).map(Int.init)
        lastResponseBody = try columns["last_response_body"].decode(String?.self)
        lastError = try columns["last_error"].decode(String?.self)
        deliveredAt = try columns["delivered_at"].decode(Date?.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "webhook_endpoint_id": .integer(endpointID),
            "event_type": .string(eventType),
            "payload": payload,
            "status": .string(status),
            "attempts": .integer(Int64(attempts)),
            "next_attempt_at": status == "pending" ? .timestamp(nextAttemptAt) : .null,
            "last_response_status": lastResponseStatus.map { .integer(Int64($0)) } ?? .null,
            "last_response_body": .optional(lastResponseBody),
            "last_error": .optional(lastError),
            "delivered_at": .timestamp(deliveredAt),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
