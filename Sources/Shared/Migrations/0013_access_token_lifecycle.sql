-- Access tokens that can be listed, revoked and expired, with scopes (issue #20). A revoked or expired token
-- authenticates nothing; the row stays (with when it was last used) so an operator can see what a leaked
-- token did and when it stopped. `token_prefix`: the first 6 characters of the token, to recognise it in a
-- list (the token itself is never stored: its SHA-256 is). `last_used_at` is written at most once a minute
-- per token, not on every request.
ALTER TABLE access_tokens
    ADD COLUMN scope text NOT NULL DEFAULT 'read_write' CHECK (scope IN ('read_write', 'read_only')),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN token_prefix text;
