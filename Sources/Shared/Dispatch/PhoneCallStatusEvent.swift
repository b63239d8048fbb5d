import Foundation

/// The message of `phone-call-events`, keyed by phone call id: something the engine learned about a call
/// (the provider accepted or refused the dial, a fetch or a callback reported its status). The `status`
/// worker applies these to `phone_calls`; other systems may read the topic as the stream of results.
///
/// Events are facts, not commands: applying one twice, or an older one after a newer one, changes nothing
/// (see `PhoneCallStatusUpdates`).
public struct PhoneCallStatusEvent: Sendable, Equatable {
    public static let version: Int64 = 1

    public enum Source: String, Sendable { case queue, remoteFetch = "remote_fetch", callback }

    public var phoneCallID: Int64
    public var accountID: Int64
    /// The status the call moves to. A fetch that finds the call still queued at the provider says
    /// `remotely_queued`, which moves a `remote_fetch_queued` call back there.
    public var status: PhoneCallStatus
    public var occurredAt: Date
    public var source: Source
    public var remoteCallID: String?
    public var remoteStatus: String?
    public var remoteDirection: String?
    public var remoteErrorMessage: String?
    public var remoteQueueResponse: JSONValue?
    public var remoteResponse: JSONValue?
    public var remotelyQueuedAt: Date?

    public init(phoneCallID: Int64, accountID: Int64, status: PhoneCallStatus, occurredAt: Date = Date(), source: Source) {
        self.phoneCallID = phoneCallID
        self.accountID = accountID
        self.status = status
        self.occurredAt = occurredAt
        self.source = source
    }

    /// The provider accepted the dial.
    public static func remotelyQueued(phoneCallID: Int64, accountID: Int64, call: ProviderCall, at time: Date = Date()) -> Self {
        var event = Self(phoneCallID: phoneCallID, accountID: accountID, status: .remotelyQueued, occurredAt: time, source: .queue)
        event.remoteCallID = call.sid
        event.remoteStatus = call.status
        event.remoteDirection = call.direction
        event.remoteQueueResponse = call.json
        event.remotelyQueuedAt = time
        return event
    }

    /// The provider refused the dial (a 4xx other than 429).
    public static func errored(phoneCallID: Int64, accountID: Int64, message: String, at time: Date = Date()) -> Self {
        var event = Self(phoneCallID: phoneCallID, accountID: accountID, status: .errored, occurredAt: time, source: .queue)
        event.remoteErrorMessage = message
        return event
    }

    /// A fetch of the call at the provider.
    public static func fetched(phoneCallID: Int64, accountID: Int64, call: ProviderCall, at time: Date = Date()) -> Self {
        let status = RemoteCallStatus.phoneCallStatus(for: call.status) ?? .remotelyQueued
        var event = Self(phoneCallID: phoneCallID, accountID: accountID, status: status, occurredAt: time, source: .remoteFetch)
        event.remoteCallID = call.sid
        event.remoteStatus = call.status
        event.remoteDirection = call.direction
        event.remoteResponse = call.json
        return event
    }

    /// A provider's callback about the call (`CallStatus` already mapped to `status`).
    public static func reported(
        phoneCallID: Int64, accountID: Int64, status: PhoneCallStatus, callback: ProviderCallback, at time: Date = Date()
    ) -> Self {
        var event = Self(phoneCallID: phoneCallID, accountID: accountID, status: status, occurredAt: time, source: .callback)
        event.remoteCallID = callback.callSID
        event.remoteStatus = callback.callStatus
        event.remoteDirection = callback.direction
        return event
    }

    public var payload: JSONValue {
        var object: JSONObject = [
            "version": .integer(Self.version),
            "phone_call_id": .integer(phoneCallID),
            "account_id": .integer(accountID),
            "status": .string(status.rawValue),
            "occurred_at": .timestamp(occurredAt),
            "occurred_at_us": .integer(Self.microseconds(occurredAt)),
            "source": .string(source.rawValue),
        ]
        if let remoteCallID { object["remote_call_id"] = .string(remoteCallID) }
        if let remoteStatus { object["remote_status"] = .string(remoteStatus) }
        if let remoteDirection { object["remote_direction"] = .string(remoteDirection) }
        if let remoteErrorMessage { object["remote_error_message"] = .string(remoteErrorMessage) }
        if let remoteQueueResponse { object["remote_queue_response"] = remoteQueueResponse }
        if let remoteResponse { object["remote_response"] = remoteResponse }
        if let remotelyQueuedAt { object["remotely_queued_at_us"] = .integer(Self.microseconds(remotelyQueuedAt)) }
        return .object(object)
    }

    public var outgoingMessage: (key: String, value: [UInt8]) {
        (String(phoneCallID), Array(JSONSerializer.string(payload).utf8))
    }

    public init(payload: JSONValue) throws(PoisonMessage) {
        guard case .integer(let version)? = payload["version"], version == Self.version else {
            throw PoisonMessage("unsupported phone call status event version")
        }
        guard case .integer(let phoneCallID)? = payload["phone_call_id"], case .integer(let accountID)? = payload["account_id"],
            let status = payload["status"]?.stringValue.flatMap(PhoneCallStatus.init(rawValue:)),
            case .integer(let occurredAt)? = payload["occurred_at_us"],
            let source = payload["source"]?.stringValue.flatMap(Source.init(rawValue:))
        else { throw PoisonMessage("a phone call status event needs phone_call_id, account_id, status, occurred_at_us and source") }
        self.init(phoneCallID: phoneCallID, accountID: accountID, status: status, occurredAt: Self.date(microseconds: occurredAt), source: source)
        remoteCallID = payload["remote_call_id"]?.stringValue
        remoteStatus = payload["remote_status"]?.stringValue
        remoteDirection = payload["remote_direction"]?.stringValue
        remoteErrorMessage = payload["remote_error_message"]?.stringValue
        remoteQueueResponse = payload["remote_queue_response"]
        remoteResponse = payload["remote_response"]
        if case .integer(let queuedAt)? = payload["remotely_queued_at_us"] { remotelyQueuedAt = Self.date(microseconds: queuedAt) }
    }

    static func microseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    static func date(microseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
}
