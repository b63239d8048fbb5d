import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// The `webhooks` role's consumer of `phone-call-events` (its own consumer group, so its pace never touches
/// the status workers'): each status event of an account with an endpoint subscribed to
/// `phone_call.status_changed` becomes a delivery per endpoint, many events per statement. Events of other
/// accounts are acknowledged without touching the database. A status reported twice (a callback and a fetch)
/// is delivered once: deliveries are unique per endpoint, call and status.
public final class WebhookEventRecorder: MessageHandler {
    private let subscribers: SubscribedAccounts
    private let batcher: MicroBatcher<PhoneCallStatusEvent, Void>

    public init(client: PostgresClient, logger: Logger, subscriptionsMaximumAge: Duration = .seconds(5), maximumBatch: Int = 500) {
        subscribers = SubscribedAccounts(client: client, logger: logger, maximumAge: subscriptionsMaximumAge)
        let recorded = Counter(label: "scfm_webhook_events_recorded_total")
        batcher = MicroBatcher(maximumBatch: maximumBatch, linger: .milliseconds(5)) { events in
            try await client.query(
                """
                INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload)
                SELECT c.account_id, e.id, 'phone_call.status_changed', 'phone_call:' || c.id || ':' || ev.status,
                       jsonb_build_object(
                           'phone_call_id', c.id, 'callout_id', c.callout_id, 'callout_participation_id', c.callout_participation_id,
                           'contact_id', c.contact_id, 'msisdn', c.msisdn, 'status', ev.status, 'remote_call_id', nullif(ev.remote_call_id, ''),
                           'remote_status', nullif(ev.remote_status, ''), 'occurred_at', ev.occurred_at)
                FROM unnest(\(events.map(\.phoneCallID)), \(events.map(\.status.rawValue)), \(events.map { $0.remoteCallID ?? "" }),
                            \(events.map { $0.remoteStatus ?? "" }), \(events.map(\.occurredAt)))
                     AS ev (phone_call_id, status, remote_call_id, remote_status, occurred_at)
                JOIN phone_calls c ON c.id = ev.phone_call_id
                JOIN webhook_endpoints e
                  ON e.account_id = c.account_id AND e.enabled AND 'phone_call.status_changed' = ANY(e.event_types)
                ON CONFLICT (webhook_endpoint_id, event_key) DO NOTHING
                """, logger: logger)
            recorded.increment(by: Int64(events.count))
            return Array(repeating: (), count: events.count)
        }
    }

    public func handle(_ message: KafkaMessage) async throws {
        let event = try PhoneCallStatusEvent(payload: try parsePayload(message))
        guard try await subscribers.contains(event.accountID) else { return }
        try await batcher.submit(event)
    }
}

/// Accounts with an enabled endpoint subscribed to phone call status changes, read at most `maximumAge` ago.
final class SubscribedAccounts: Sendable {
    let client: PostgresClient
    let logger: Logger
    let maximumAge: Duration
    private let cached = Mutex<(accounts: Set<Int64>, readAt: ContinuousClock.Instant)?>(nil)

    init(client: PostgresClient, logger: Logger, maximumAge: Duration) {
        self.client = client
        self.logger = logger
        self.maximumAge = maximumAge
    }

    func contains(_ accountID: Int64) async throws -> Bool {
        let now = ContinuousClock.now
        if let current = cached.withLock({ $0 }), now - current.readAt < maximumAge { return current.accounts.contains(accountID) }
        var accounts = Set<Int64>()
        let rows = try await client.query(
            """
            SELECT DISTINCT account_id FROM webhook_endpoints
            WHERE enabled AND \(WebhookEventType.phoneCallStatusChanged.rawValue) = ANY(event_types)
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { accounts.insert(id) }
        cached.withLock { $0 = (accounts, now) }
        return accounts.contains(accountID)
    }
}
