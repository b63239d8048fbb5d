import Foundation
import PostgresNIO
import Shared

/// A person who signs in to the operator console, for one account (agency).
public struct ConsoleUser: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// Users, settings, API tokens, webhooks; and everything an operator does.
        case admin
        /// Contacts and callouts: compose, start, pause, stop.
        case `operator`
        /// Reads only.
        case viewer

        /// Whether the role may change contacts and callouts (start, pause, stop, import).
        public var operates: Bool { self != .viewer }
        /// Whether the role may manage users, settings, tokens and webhooks.
        public var administers: Bool { self == .admin }
    }

    public let id: Int64
    public let accountID: Int64
    public let email: String
    public let role: Role
    public let lastSignedInAt: Date?
    public let disabledAt: Date?

    static let columns = "id, account_id, email, role, last_signed_in_at, disabled_at"

    init(id: Int64, accountID: Int64, email: String, role: Role, lastSignedInAt: Date?, disabledAt: Date?) {
        self.id = id
        self.accountID = accountID
        self.email = email
        self.role = role
        self.lastSignedInAt = lastSignedInAt
        self.disabledAt = disabledAt
    }

    init(row: PostgresRow) throws {
        let (id, accountID, email, role, lastSignedInAt, disabledAt) = try row.decode((Int64, Int64, String, String, Date?, Date?).self)
        self.id = id
        self.accountID = accountID
        self.email = email
        self.role = Role(rawValue: role) ?? .viewer
        self.lastSignedInAt = lastSignedInAt
        self.disabledAt = disabledAt
    }
}
