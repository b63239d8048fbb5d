-- The console's optional second factor (TOTP, RFC 6238). `totp_secret` is sealed with SECRETS_KEY (field
-- console_users.totp_secret, rotated by `API secrets rotate` like the others); it is set when a user begins
-- enrolment and counts only once `totp_enabled_at` is set (a code from the app confirmed it).
-- `totp_last_step` is the 30-second step of the last code accepted: a code is never accepted twice.
ALTER TABLE console_users
    ADD COLUMN totp_secret text,
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint;

-- A session whose password was right but whose second factor is still to come signs nothing in: only the code
-- page accepts it, for 5 minutes.
ALTER TABLE console_sessions ADD COLUMN second_factor_pending boolean NOT NULL DEFAULT false;

-- A super admin's session may act in another account (the console's account switch): every page then reads
-- and changes that account, and the audit trail records it there under the super admin's email. Only honoured
-- while the user's own account has the super_admin permission.
ALTER TABLE console_sessions ADD COLUMN acting_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL;
