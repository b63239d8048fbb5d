-- The operator console (issue #23): the people who sign in to an agency's account, their sessions, and the
-- audit trail of what they did.
--
-- console_users: one account (agency) each; `email` unique whatever its case; `password_hash` a bcrypt hash
-- (never the password); `role` admin (users, settings, tokens, webhooks), operator (contacts and callouts:
-- compose, start, pause, stop) or viewer (read only). A disabled user signs in no more and its sessions end.
CREATE TABLE console_users (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_signed_in_at timestamptz,
    disabled_at timestamptz
);
CREATE UNIQUE INDEX console_users_email ON console_users (email);
CREATE INDEX console_users_account_id ON console_users (account_id, id);

-- A signed-in browser: the cookie holds a random token, the table its SHA-256 (a copy of the table signs no
-- one in). `csrf_token` is the session's form token: every form carries it and every unsafe request must.
CREATE TABLE console_sessions (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    token_digest bytea NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE UNIQUE INDEX console_sessions_token_digest ON console_sessions (token_digest);
CREATE INDEX console_sessions_user_id ON console_sessions (user_id);

-- Who did what and when: sign-ins (and failed ones), and every change an operator makes. Append-only: the
-- table refuses UPDATE and DELETE, so a user who can write cannot erase their traces (an account's deletion
-- keeps its rows: no foreign key).
CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    account_id bigint,
    user_id bigint,
    actor text NOT NULL,
    action text NOT NULL,
    subject_type text,
    subject_id bigint,
    details jsonb NOT NULL DEFAULT '{}',
    remote_address text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_account_id ON audit_events (account_id, id DESC);
-- The sign-in limiter counts recent failures per email.
CREATE INDEX audit_events_failed_sign_ins ON audit_events (actor, created_at) WHERE action = 'sign_in_failed';

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
