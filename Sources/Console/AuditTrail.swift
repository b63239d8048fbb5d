import Foundation
import Logging
import PostgresNIO
import Shared

/// Who did what and when, kept in `audit_events`, which refuses UPDATE, DELETE and TRUNCATE (migration 0014):
/// sign-ins (failed ones too, with the email tried), sign-outs, and every change an operator makes.
public struct AuditTrail: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public struct Event: Sendable {
        public let id: Int64
        public let actor: String
        public let action: String
        public let subjectType: String?
        public let subjectID: Int64?
        public let details: JSONValue
        public let remoteAddress: String?
        public let createdAt: Date
    }

    public func record(
        accountID: Int64?, user: ConsoleUser?, actor: String? = nil, action: String, subjectType: String? = nil, subjectID: Int64? = nil,
        details: JSONValue = .emptyObject, remoteAddress: String?
    ) async throws {
        try await client.query(
            """
            INSERT INTO audit_events (account_id, user_id, actor, action, subject_type, subject_id, details, remote_address)
            VALUES (\(accountID ?? user?.accountID), \(user?.id), \(actor ?? user?.email ?? "unknown"), \(action), \(subjectType), \(subjectID),
                    \(details), \(remoteAddress))
            """, logger: logger)
    }

    /// The account's newest events.
    public func recent(accountID: Int64, limit: Int = 100) async throws -> [Event] {
        var events: [Event] = []
        let rows = try await client.query(
            """
            SELECT id, actor, action, subject_type, subject_id, details, remote_address, created_at FROM audit_events
            WHERE account_id = \(accountID) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await (id, actor, action, subjectType, subjectID, details, address, createdAt) in rows.decode(
            (Int64, String, String, String?, Int64?, JSONValue, String?, Date).self)
        {
            events.append(
                Event(
                    id: id, actor: actor, action: action, subjectType: subjectType, subjectID: subjectID, details: details,
                    remoteAddress: address, createdAt: createdAt))
        }
        return events
    }

    /// Failed sign-ins for this email in the last `window`, across every API replica (the limiter of sign-in
    /// attempts reads it).
    public func failedSignIns(email: String, within window: Duration) async throws -> Int {
        Int(
            try await client.query(
                """
                SELECT count(*) FROM audit_events
                WHERE action = 'sign_in_failed' AND actor = \(email.lowercased())
                  AND created_at > now() - make_interval(secs => \(window.seconds))
                """, logger: logger
            ).single { try $0.decode(Int64.self) })
    }
}
