import Logging
import NIOCore
import PostgresNIO

/// Messages no handler could take, kept with the reason: never retried forever, never dropped silently.
public struct DeadLetterRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Idempotent per message: a redelivered message updates its record instead of adding another.
    public func record(_ message: KafkaMessage, error: String, attempts: Int) async throws {
        try await client.query(
            """
            INSERT INTO dead_letters (topic, partition, message_offset, message_key, payload, error, attempts)
            VALUES (\(message.topic), \(message.partition), \(message.offset), \(message.keyString),
                \(ByteBuffer(bytes: message.value)), \(error), \(attempts))
            ON CONFLICT (topic, partition, message_offset)
            DO UPDATE SET error = EXCLUDED.error, attempts = dead_letters.attempts + EXCLUDED.attempts
            """, logger: logger)
    }

    public struct Entry: Sendable {
        public let topic: String
        public let partition: Int32
        public let offset: Int64
        public let error: String
        public let attempts: Int
    }

    public func all(topic: String) async throws -> [Entry] {
        var entries: [Entry] = []
        for try await (partition, offset, error, attempts) in try await client.query(
            """
            SELECT partition, message_offset, error, attempts FROM dead_letters WHERE topic = \(topic)
            ORDER BY partition, message_offset
            """, logger: logger
        ).decode((Int32, Int64, String, Int).self) {
            entries.append(Entry(topic: topic, partition: partition, offset: offset, error: error, attempts: attempts))
        }
        return entries
    }
}
