-- What operators upload through the console (issue #23).
--
-- console_audio_files: a recorded message, kept in PostgreSQL (the record of everything; no second store to
-- back up) and served without a session at /audio/<token>.<ext>, the address a provider fetches to <Play> it.
-- The token is 32 random bytes (base64url): knowing it is the permission, as with a provider's own media URLs.
-- `content` is capped at 10 MiB by the API before it is written.
CREATE TABLE console_audio_files (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('audio/mpeg', 'audio/wav')),
    byte_size integer NOT NULL,
    content bytea NOT NULL,
    created_by bigint REFERENCES console_users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX console_audio_files_token ON console_audio_files (token);
CREATE INDEX console_audio_files_account_id ON console_audio_files (account_id, id DESC);

-- One CSV import of contacts or do-not-call numbers: its figures and the lines it refused (the first 1,000,
-- each with its line number and reason; `rejected` counts them all), for the import history and the
-- downloadable error report.
CREATE TABLE console_imports (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id bigint REFERENCES console_users (id) ON DELETE SET NULL,
    destination text NOT NULL CHECK (destination IN ('contacts', 'do_not_call_entries')),
    filename text NOT NULL,
    status text NOT NULL CHECK (status IN ('finished', 'failed')),
    failure text,
    lines integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    repeated integer NOT NULL DEFAULT 0,
    rejected integer NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_imports_account_id ON console_imports (account_id, id DESC);

-- A one-use link that lets a person set their console password: an invitation (a new user) or a reset. The
-- link holds a random token; the table its SHA-256 only. It expires after 72 hours and is spent on use;
-- setting the password ends the user's other sessions.
CREATE TABLE console_password_links (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    token_digest bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE UNIQUE INDEX console_password_links_token_digest ON console_password_links (token_digest);
CREATE INDEX console_password_links_user_id ON console_password_links (user_id);
