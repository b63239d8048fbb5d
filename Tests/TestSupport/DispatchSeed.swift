import Logging
import PostgresNIO
import Shared

/// Accounts and queued calls for dispatch tests and the dispatch benchmark, written straight to the database,
/// and the queue jobs for them (what the API and the outbox relay would produce).
public struct DispatchSeed: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// An account of its own Twilio sid, dialling at `rate` calls per second.
    public func createAccount(rate: Double, maxConcurrentCalls: Int? = nil) async throws -> Int64 {
        var settings: JSONObject = ["max_calls_per_second": .number(rate)]
        if let maxConcurrentCalls { settings["max_concurrent_calls"] = .integer(Int64(maxConcurrentCalls)) }
        let sid = "AC\(UInt64.random(in: 0...UInt64.max))"
        return try await client.query(
            """
            INSERT INTO accounts (settings, platform_provider_name, twilio_account_sid, twilio_auth_token)
            VALUES (\(JSONValue.object(settings)), 'twilio', \(sid), 'secret') RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    /// `count` (under 100,000 in all for the account) new contacts and a `queued` phone call for each; returns
    /// the call ids. Numbers go on from the account's last contact, so a test can add calls later.
    public func queuedCalls(accountID: Int64, count: Int, calloutID: Int64? = nil) async throws -> [Int64] {
        let rows = try await client.query(
            """
            WITH contacts AS (
                INSERT INTO contacts (account_id, msisdn)
                SELECT \(accountID), '+' || (85510000000 + \(accountID) * 100000 + n)::text
                FROM generate_series(1, \(count)) s (i)
                CROSS JOIN LATERAL (SELECT count(*) + s.i AS n FROM contacts WHERE account_id = \(accountID)) existing
                RETURNING id, msisdn
            )
            INSERT INTO phone_calls (account_id, contact_id, callout_id, msisdn, status, remote_request_params)
            SELECT \(accountID), id, \(calloutID), msisdn, 'queued',
                   '{"from": "1234", "url": "https://demo.twilio.com/docs/voice.xml", "method": "GET"}'::jsonb
            FROM contacts ORDER BY id
            RETURNING id
            """, logger: logger)
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// Publishes one job per call (`phone-calls.queue` unless told) and waits for the broker's acknowledgements.
    public static func publishJobs(
        _ ids: [Int64], accountID: Int64, topic: Topic = .phoneCallsQueue, producer: KafkaProducer, kafka: KafkaConfiguration
    ) async throws {
        let messages = ids.map { id in
            let entry = PhoneCallJob(phoneCallID: id, accountID: accountID).outboxEntry(topic: topic)
            return KafkaOutgoingMessage(topic: kafka.topic(topic), key: entry.key, value: Array(JSONSerializer.string(entry.payload).utf8))
        }
        for result in await producer.send(batch: messages) { _ = try result.get() }
    }
}
