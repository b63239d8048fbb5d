/// The message of `phone-calls.queue` and `phone-calls.remote-fetch`: which call to dial or to look up.
/// Versioned JSON, keyed by the phone call id so every job of one call lands on one partition, in order.
public struct PhoneCallJob: Sendable, Equatable {
    public static let version: Int64 = 1

    public let phoneCallID: Int64
    public let accountID: Int64

    public init(phoneCallID: Int64, accountID: Int64) {
        self.phoneCallID = phoneCallID
        self.accountID = accountID
    }

    public func outboxEntry(topic: Topic) -> OutboxEntry {
        OutboxEntry(
            topic: topic, key: String(phoneCallID),
            payload: ["version": .integer(Self.version), "phone_call_id": .integer(phoneCallID), "account_id": .integer(accountID)])
    }

    public init(payload: JSONValue) throws(PoisonMessage) {
        guard case .integer(let version)? = payload["version"], version == Self.version else {
            throw PoisonMessage("unsupported phone call job version")
        }
        guard case .integer(let phoneCallID)? = payload["phone_call_id"], case .integer(let accountID)? = payload["account_id"]
        else { throw PoisonMessage("a phone call job needs phone_call_id and account_id") }
        self.init(phoneCallID: phoneCallID, accountID: accountID)
    }
}
