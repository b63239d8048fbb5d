import Logging
import PostgresNIO

/// Reads and metadata updates of remote phone call events; the webhook creates them.
public struct RemotePhoneCallEventRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let table = RecordTable<RemotePhoneCallEvent>(
        from: "remote_phone_call_events e", columns: RemotePhoneCallEvent.columns, accountColumn: "e.account_id",
        idColumn: "e.id", decode: RemotePhoneCallEvent.init(row:))

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func find(accountID: Int64, id: Int64) async throws -> RemotePhoneCallEvent {
        try await Self.table.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func index(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<RemotePhoneCallEvent> {
        try await Self.table.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    public func update(accountID: Int64, id: Int64, metadata: JSONValue?, mode: MetadataMergeMode) async throws {
        var update = UpdateStatement("remote_phone_call_events")
        update.setMetadata("metadata", metadata, mode: mode)
        try await client.withConnection { connection in
            try await update.run(on: connection, logger: logger, id: id, accountID: accountID)
        }
    }
}
