/// The result events an account's webhook endpoints can subscribe to, and the SQL that writes their deliveries
/// from within the statement that makes the change (so an event exists exactly when its change committed).
public enum WebhookEventType: String, Sendable, CaseIterable {
    /// A phone call's status changed (from `phone-call-events`, by the `webhooks` role).
    case phoneCallStatusChanged = "phone_call.status_changed"
    /// The autopilot gave a participation its final outcome.
    case participationFinished = "callout_participation.finished"
    /// The autopilot found nothing left to do for a callout.
    case calloutFinished = "callout.finished"
}

public enum WebhookEvents {
    /// Deliveries for the rows of a `finished_participations` CTE (id, account_id, callout_id, contact_id,
    /// msisdn, outcome, attempts) to every enabled endpoint of their account subscribed to the type.
    public static let participationsFinishedSQL: TrustedSQL = """
        INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload)
        SELECT f.account_id, e.id, 'callout_participation.finished', 'callout_participation:' || f.id || ':' || f.outcome,
               jsonb_build_object(
                   'callout_participation_id', f.id, 'callout_id', f.callout_id, 'contact_id', f.contact_id,
                   'msisdn', f.msisdn, 'outcome', f.outcome, 'attempts', f.attempts)
        FROM finished_participations f
        JOIN webhook_endpoints e
          ON e.account_id = f.account_id AND e.enabled AND 'callout_participation.finished' = ANY(e.event_types)
        ON CONFLICT (webhook_endpoint_id, event_key) DO NOTHING
        """

    /// Deliveries for the rows of a `finished_callouts` CTE (id, account_id, autopilot_finished_at).
    public static let calloutsFinishedSQL: TrustedSQL = """
        INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload)
        SELECT f.account_id, e.id, 'callout.finished',
               'callout:' || f.id || ':finished:' || extract(epoch FROM f.autopilot_finished_at)::bigint,
               jsonb_build_object('callout_id', f.id, 'finished_at', f.autopilot_finished_at)
        FROM finished_callouts f
        JOIN webhook_endpoints e ON e.account_id = f.account_id AND e.enabled AND 'callout.finished' = ANY(e.event_types)
        ON CONFLICT (webhook_endpoint_id, event_key) DO NOTHING
        """
}
