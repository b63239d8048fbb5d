-- Dispatch (issue #9): the dial schedule every queue worker of an account shares, the index that counts an
-- account's calls in progress, and the order of status events.

-- One row per account. A queue worker leases k dial slots with one statement: the slots start at
-- greatest(next_slot_at, now) and are 1 / (rate * rate_factor) seconds apart, and next_slot_at moves past
-- them. Every worker leases from the same row, so slots never overlap: the account's dials are spaced by the
-- rate whatever the number of workers.
CREATE TABLE account_dial_schedules (
    account_id bigint PRIMARY KEY,
    next_slot_at timestamptz NOT NULL,
    -- The last lease: whether it was granted (the schedule was not booked beyond the worker's horizon) and
    -- where its slots start, so the leasing worker learns its slots from the RETURNING row alone.
    last_lease_granted boolean NOT NULL DEFAULT true,
    last_lease_started_at timestamptz NOT NULL,
    -- The share of the configured rate in use: lowered when the provider answers 429, raised step by step
    -- while it does not.
    rate_factor double precision NOT NULL DEFAULT 1 CHECK (rate_factor > 0 AND rate_factor <= 1),
    rate_lowered_at timestamptz NOT NULL DEFAULT '-infinity',
    rate_raised_at timestamptz NOT NULL DEFAULT '-infinity',
    throttled_total bigint NOT NULL DEFAULT 0
);

-- Calls that hold one of the account's concurrency places (max_concurrent_calls): claimed for dialling and
-- not final yet. Small by construction when a cap is set, so counting it is cheap.
CREATE INDEX phone_calls_in_progress_by_account ON phone_calls (account_id)
    WHERE dial_claimed_at IS NOT NULL AND status IN ('queued', 'remotely_queued', 'in_progress', 'remote_fetch_queued');

-- The time of the status event that set the current status: a status event of the same rank applies only
-- when newer, so an older event never overwrites a newer status.
ALTER TABLE phone_calls ADD COLUMN status_event_at timestamptz;

-- How far along a call is. A status event applies when its rank is higher than the call's (or equal and
-- newer); a final status never changes.
CREATE FUNCTION phone_call_status_rank(status text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN 'created' THEN 0
        WHEN 'queued' THEN 1
        WHEN 'remotely_queued' THEN 2
        WHEN 'remote_fetch_queued' THEN 2
        WHEN 'in_progress' THEN 3
        ELSE 4
    END
$$;
