import Logging
import PostgresNIO

/// The parent of a nested route (`/api/callouts/:id/phone_calls`): it must exist in the caller's account,
/// or the whole route is 404.
public enum RecordScope: Sendable {
    case callout, contact, calloutParticipation, phoneCall

    var table: TrustedSQL {
        switch self {
        case .callout: "callouts"
        case .contact: "contacts"
        case .calloutParticipation: "callout_participations"
        case .phoneCall: "phone_calls"
        }
    }

    public func requireExists(_ client: PostgresClient, logger: Logger, id: Int64, accountID: Int64) async throws {
        var sql = SQLBuilder("SELECT 1 FROM ")
        sql.append(trusted: table)
        sql.append(" WHERE id = ")
        sql.bind(id)
        sql.append(" AND account_id = ")
        sql.bind(accountID)
        _ = try await client.query(sql.query, logger: logger).single { _ in true }
    }
}
