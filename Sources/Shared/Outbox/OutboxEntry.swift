import Logging
import PostgresNIO

/// A job message to publish, written to `outbox_messages` in the same transaction as the state change it
/// stands for, so a job exists exactly when its change committed.
public struct OutboxEntry: Sendable {
    public let topic: Topic
    public let key: String
    public let payload: JSONValue

    public init(topic: Topic, key: String, payload: JSONValue) {
        self.topic = topic
        self.key = key
        self.payload = payload
    }
}

public enum Outbox {
    /// Appends entries with one statement, however many (arrays through UNNEST). Call inside the
    /// transaction of the change.
    public static func enqueue(_ entries: [OutboxEntry], on connection: PostgresConnection, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO outbox_messages (topic, message_key, payload)
            SELECT * FROM UNNEST(\(entries.map(\.topic.rawValue)), \(entries.map(\.key)), \(entries.map(\.payload)))
            """, logger: logger)
    }
}
