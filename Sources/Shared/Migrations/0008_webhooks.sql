-- Outbound webhooks (issue #10): an account's endpoints for result events, and every delivery with its
-- attempts and the endpoint's last answer. Deliveries are written in the same transaction as the change they
-- report (the scheduler's settle and finish statements) or from `phone-call-events` by the `webhooks` role, and
-- sent by that role alone: a slow or dead endpoint never holds up dialling.
CREATE TABLE webhook_endpoints (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url text NOT NULL,
    -- The HMAC-SHA256 key of the endpoint's signatures: the receiver needs the same key, so it is kept.
    secret text NOT NULL,
    event_types text[] NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_account_id ON webhook_endpoints (account_id, id);

CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    webhook_endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type text NOT NULL,
    -- What happened, once per endpoint (`phone_call:42:completed`): a redelivered event adds nothing.
    event_key text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- Due time of a pending delivery; while one is being sent, the time after which it is tried again should
    -- its sender die (the request timeout and a margin).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_response_status integer,
    last_response_body text,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_endpoint_event UNIQUE (webhook_endpoint_id, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_account_id ON webhook_deliveries (account_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (webhook_endpoint_id, id);
