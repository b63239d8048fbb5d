-- The whole SCFM schema. Later work fills in behaviour; the tables, constraints and the indexes that the
-- documented filters need are all here.

-- Recursive jsonb merge for metadata_merge_mode=deep_merge: objects merge key by key, anything else is
-- replaced by the newer value (Ruby's Hash#deep_merge).
CREATE FUNCTION jsonb_deep_merge(existing jsonb, incoming jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(existing) = 'object' AND jsonb_typeof(incoming) = 'object' THEN (
            SELECT coalesce(jsonb_object_agg(
                coalesce(e.key, i.key),
                CASE
                    WHEN e.value IS NULL THEN i.value
                    WHEN i.value IS NULL THEN e.value
                    ELSE jsonb_deep_merge(e.value, i.value)
                END), '{}'::jsonb)
            FROM jsonb_each(existing) e FULL OUTER JOIN jsonb_each(incoming) i ON e.key = i.key
        )
        ELSE incoming
    END
$$;

CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    metadata jsonb NOT NULL DEFAULT '{}',
    settings jsonb NOT NULL DEFAULT '{}',
    permissions text[] NOT NULL DEFAULT '{}',
    platform_provider_name text CHECK (platform_provider_name IN ('twilio', 'somleng')),
    twilio_account_sid text,
    twilio_auth_token text,
    somleng_account_sid text,
    somleng_auth_token text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Webhooks find the account by the provider account sid they carry.
CREATE UNIQUE INDEX accounts_twilio_account_sid ON accounts (twilio_account_sid) WHERE twilio_account_sid IS NOT NULL;
CREATE UNIQUE INDEX accounts_somleng_account_sid ON accounts (somleng_account_sid) WHERE somleng_account_sid IS NOT NULL;

CREATE TABLE access_tokens (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    -- SHA-256 of the token: the token itself is shown once, at creation, and never stored.
    token_digest bytea NOT NULL UNIQUE,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_tokens_account_id ON access_tokens (account_id);

CREATE TABLE contacts (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    msisdn text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_account_id_msisdn UNIQUE (account_id, msisdn)
);
-- jsonb_path_ops serves `metadata @> '{...}'`, the shape of every metadata filter.
CREATE INDEX contacts_metadata ON contacts USING gin (metadata jsonb_path_ops);
CREATE INDEX contacts_account_id_created_at ON contacts (account_id, created_at);
CREATE INDEX contacts_account_id_updated_at ON contacts (account_id, updated_at);

CREATE TABLE callouts (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    status text NOT NULL DEFAULT 'initialized'
        CHECK (status IN ('initialized', 'running', 'paused', 'stopped')),
    call_flow_logic text,
    audio_file text,
    audio_url text,
    metadata jsonb NOT NULL DEFAULT '{}',
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callouts_account_id_status ON callouts (account_id, status);
CREATE INDEX callouts_metadata ON callouts USING gin (metadata jsonb_path_ops);

CREATE TABLE batch_operations (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    callout_id bigint REFERENCES callouts (id),
    type text NOT NULL CHECK (type IN (
        'BatchOperation::CalloutPopulation', 'BatchOperation::PhoneCallCreate',
        'BatchOperation::PhoneCallQueue', 'BatchOperation::PhoneCallQueueRemoteFetch')),
    status text NOT NULL DEFAULT 'preview' CHECK (status IN ('preview', 'queued', 'running', 'finished')),
    parameters jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    -- Progress of a running operation, and the keyset checkpoint a restarted worker resumes from.
    progress_total bigint,
    progress_done bigint NOT NULL DEFAULT 0,
    checkpoint jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batch_operations_account_id_status ON batch_operations (account_id, status);
CREATE INDEX batch_operations_callout_id ON batch_operations (callout_id);
CREATE INDEX batch_operations_metadata ON batch_operations USING gin (metadata jsonb_path_ops);
CREATE INDEX batch_operations_parameters ON batch_operations USING gin (parameters jsonb_path_ops);

CREATE TABLE callout_participations (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    callout_id bigint NOT NULL REFERENCES callouts (id),
    contact_id bigint NOT NULL REFERENCES contacts (id),
    callout_population_id bigint REFERENCES batch_operations (id),
    msisdn text NOT NULL,
    call_flow_logic text,
    metadata jsonb NOT NULL DEFAULT '{}',
    -- Denormalized summary of the phone calls, kept by the status path so the participation filters
    -- (has_phone_calls, last_phone_call_attempt) never aggregate over phone_calls.
    phone_calls_count integer NOT NULL DEFAULT 0,
    last_phone_call_attempt text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT callout_participations_callout_id_contact_id UNIQUE (callout_id, contact_id)
);
CREATE INDEX callout_participations_contact_id ON callout_participations (contact_id);
CREATE INDEX callout_participations_callout_population_id ON callout_participations (callout_population_id);
CREATE INDEX callout_participations_account_id_msisdn ON callout_participations (account_id, msisdn);
CREATE INDEX callout_participations_metadata ON callout_participations USING gin (metadata jsonb_path_ops);
CREATE INDEX callout_participations_callout_id_last_attempt
    ON callout_participations (callout_id, last_phone_call_attempt, phone_calls_count);

CREATE TABLE phone_calls (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    callout_participation_id bigint REFERENCES callout_participations (id),
    contact_id bigint NOT NULL REFERENCES contacts (id),
    callout_id bigint REFERENCES callouts (id),
    create_batch_operation_id bigint REFERENCES batch_operations (id),
    queue_batch_operation_id bigint REFERENCES batch_operations (id),
    queue_remote_fetch_batch_operation_id bigint REFERENCES batch_operations (id),
    status text NOT NULL DEFAULT 'created' CHECK (status IN (
        'created', 'queued', 'remotely_queued', 'in_progress', 'errored', 'failed', 'completed', 'busy',
        'not_answered', 'canceled', 'expired', 'remote_fetch_queued')),
    msisdn text NOT NULL,
    remote_call_id text,
    remote_status text,
    remote_direction text,
    remote_error_message text,
    metadata jsonb NOT NULL DEFAULT '{}',
    remote_response jsonb NOT NULL DEFAULT '{}',
    remote_request_params jsonb NOT NULL DEFAULT '{}',
    remote_queue_response jsonb NOT NULL DEFAULT '{}',
    call_flow_logic text,
    remotely_queued_at timestamptz,
    -- When a queue worker claimed the call for dialling (the compare-and-set that prevents a second dial).
    dial_claimed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX phone_calls_remote_call_id ON phone_calls (remote_call_id) WHERE remote_call_id IS NOT NULL;
CREATE INDEX phone_calls_callout_participation_id ON phone_calls (callout_participation_id);
CREATE INDEX phone_calls_contact_id ON phone_calls (contact_id);
CREATE INDEX phone_calls_callout_id_status ON phone_calls (callout_id, status);
CREATE INDEX phone_calls_account_id_status ON phone_calls (account_id, status);
CREATE INDEX phone_calls_create_batch_operation_id ON phone_calls (create_batch_operation_id);
CREATE INDEX phone_calls_queue_batch_operation_id ON phone_calls (queue_batch_operation_id);
CREATE INDEX phone_calls_queue_remote_fetch_batch_operation_id ON phone_calls (queue_remote_fetch_batch_operation_id);
CREATE INDEX phone_calls_metadata ON phone_calls USING gin (metadata jsonb_path_ops);

CREATE TABLE remote_phone_call_events (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    phone_call_id bigint NOT NULL REFERENCES phone_calls (id),
    details jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    remote_call_id text NOT NULL,
    remote_direction text NOT NULL,
    call_flow_logic text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX remote_phone_call_events_phone_call_id ON remote_phone_call_events (phone_call_id);
CREATE INDEX remote_phone_call_events_remote_call_id ON remote_phone_call_events (remote_call_id);
CREATE INDEX remote_phone_call_events_details ON remote_phone_call_events USING gin (details jsonb_path_ops);

-- Transactional outbox: job messages written in the same transaction as the state change they stand for,
-- published to Kafka by the relay in id order per key.
CREATE TABLE outbox_messages (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    message_key text NOT NULL,
    payload jsonb NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_messages_unpublished ON outbox_messages (id) WHERE published_at IS NULL;

-- Messages a worker could not handle: kept with the reason, never retried forever nor dropped silently.
CREATE TABLE dead_letters (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    partition integer NOT NULL,
    message_offset bigint NOT NULL,
    message_key text,
    payload bytea NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dead_letters_message UNIQUE (topic, partition, message_offset)
);
