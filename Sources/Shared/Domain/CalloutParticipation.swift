import Foundation
import PostgresNIO

/// A contact's place in a callout. `msisdn` is copied from the contact and may be changed for this callout.
public struct CalloutParticipation: Sendable {
    public let id: Int64
    public let accountID: Int64
    public let calloutID: Int64
    public let contactID: Int64
    public let calloutPopulationID: Int64?
    public var msisdn: String
    public var callFlowLogic: String?
    public var metadata: JSONValue
    /// The autopilot's verdict once final (`answered`, `exhausted`, `do_not_call`, `expired`); nil while pending.
    public var outcome: String?
    /// Calls that reached the provider and ended.
    public var attempts: Int
    /// When the autopilot calls again (a retry's delay, or the opening of the calling window).
    public var nextAttemptAt: Date?
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = """
        id, account_id, callout_id, contact_id, callout_population_id, msisdn, call_flow_logic, metadata,
        outcome, attempts, next_attempt_at, created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        calloutID = try columns["callout_id"].decode(Int64.self)
        contactID = try columns["contact_id"].decode(Int64.self)
        calloutPopulationID = try columns["callout_population_id"].decode(Int64?.self)
        msisdn = try columns["msisdn"].decode(String.self)
        callFlowLogic = try columns["call_flow_logic"].decode(String?.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        outcome = try columns["outcome"].decode(String?.self)
        attempts = Int(try columns["attempts"].decode(Int32.self))
        nextAttemptAt = try columns["next_attempt_at"].decode(Date?.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "callout_id": .integer(calloutID),
            "contact_id": .integer(contactID),
            "callout_population_id": .optional(calloutPopulationID),
            "msisdn": .string(msisdn),
            "call_flow_logic": .optional(callFlowLogic),
            "metadata": metadata,
            "outcome": .optional(outcome),
            "attempts": .integer(Int64(attempts)),
            "next_attempt_at": .timestamp(nextAttemptAt),
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
