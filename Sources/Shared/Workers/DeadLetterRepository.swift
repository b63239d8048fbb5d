import Foundation
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

    /// A dead letter as an operator sees it.
    public struct Listed: Sendable {
        public let id: Int64
        public let topic: String
        public let partition: Int32
        public let offset: Int64
        public let key: String?
        public let error: String
        public let attempts: Int
        public let createdAt: Date
        /// The payload's first 120 bytes as text.
        public let preview: String
    }

    /// The newest first, of one topic or all.
    public func list(topic: String?, limit: Int) async throws -> [Listed] {
        var listed: [Listed] = []
        let rows = try await client.query(
            """
            SELECT id, topic, partition, message_offset, message_key, error, attempts, created_at,
                   convert_from(substring(payload FROM 1 FOR 120), 'SQL_ASCII')
            FROM dead_letters WHERE \(topic)::text IS NULL OR topic = \(topic)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await (id, topic, partition, offset, key, error, attempts, createdAt, preview) in rows.decode(
            (Int64, String, Int32, Int64, String?, String, Int, Date, String).self)
        {
            listed.append(
                Listed(
                    id: id, topic: topic, partition: partition, offset: offset, key: key, error: error, attempts: attempts,
                    createdAt: createdAt, preview: preview))
        }
        return listed
    }

    public struct Replay: Sendable {
        /// Dead letters written back to the outbox (and removed from `dead_letters`).
        public var replayed: [Int64] = []
        /// Left where they are, with the reason: not JSON (a poison message stays poison), or not an SCFM topic.
        public var skipped: [(id: Int64, reason: String)] = []
    }

    /// Sends dead letters again: in one transaction their jobs are written to the outbox (the relay publishes
    /// them to their topic, every consumer group of it sees them; the handlers are idempotent) and their rows
    /// leave `dead_letters`, so a replay is never lost nor done twice. `ids` nil: every letter (of `topic`
    /// when given), oldest first, up to `limit`. Topics are stored as published (with `topicPrefix`).
    public func replay(ids: [Int64]?, topic: String?, topicPrefix: String, limit: Int) async throws -> Replay {
        try await client.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, topic, message_key, payload FROM dead_letters
                WHERE (\(ids)::bigint[] IS NULL OR id = ANY(\(ids))) AND (\(topic)::text IS NULL OR topic = \(topic))
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var result = Replay()
            var entries: [OutboxEntry] = []
            for try await (id, storedTopic, key, payload) in rows.decode((Int64, String, String?, ByteBuffer).self) {
                let name = storedTopic.hasPrefix(topicPrefix) ? String(storedTopic.dropFirst(topicPrefix.count)) : storedTopic
                guard let scfmTopic = Topic(rawValue: name) else {
                    result.skipped.append((id, "not an SCFM topic: \(storedTopic)"))
                    continue
                }
                guard let json = try? JSONParser.parse(Array(payload.readableBytesView)) else {
                    result.skipped.append((id, "not a JSON job (a poison message stays poison)"))
                    continue
                }
                entries.append(OutboxEntry(topic: scfmTopic, key: key ?? "", payload: json))
                result.replayed.append(id)
            }
            try await Outbox.enqueue(entries, on: connection, logger: logger)
            try await connection.query("DELETE FROM dead_letters WHERE id = ANY(\(result.replayed))", logger: logger)
            return result
        }
    }
}
