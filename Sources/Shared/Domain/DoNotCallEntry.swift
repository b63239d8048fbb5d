import Foundation
import PostgresNIO

/// A number the account must never call (`/api/do_not_call_entries`): the autopilot and callout populations
/// skip it and record the participation as `do_not_call`.
public struct DoNotCallEntry: Sendable {
    public let id: Int64
    public let accountID: Int64
    public var msisdn: String
    public var metadata: JSONValue
    public let createdAt: Date
    public var updatedAt: Date

    public static let columns: TrustedSQL = "id, account_id, msisdn, metadata, created_at, updated_at"

    init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(Int64.self)
        accountID = try columns["account_id"].decode(Int64.self)
        msisdn = try columns["msisdn"].decode(String.self)
        metadata = try columns["metadata"].decode(JSONValue.self)
        createdAt = try columns["created_at"].decode(Date.self)
        updatedAt = try columns["updated_at"].decode(Date.self)
    }

    public var json: JSONValue {
        [
            "id": .integer(id),
            "msisdn": .string(msisdn),
            "metadata": metadata,
            "created_at": .timestamp(createdAt),
            "updated_at": .timestamp(updatedAt),
        ]
    }
}
