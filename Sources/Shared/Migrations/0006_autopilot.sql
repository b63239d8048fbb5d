-- Campaign autopilot (issue #10): the `scheduler` role creates and queues the calls of running callouts by
-- itself, retries per policy, keeps calling hours and the do-not-call list, and reports progress.

-- Where each participation stands in the autopilot. `outcome` is final once set (answered, exhausted,
-- do_not_call, expired); while it is NULL the participation is pending: its latest call is under way or not
-- settled yet (its id above `settled_phone_call_id`), or it waits for its next attempt (`next_attempt_at`, NULL
-- for at once). `attempts` counts the calls that reached the provider and ended (a 429 or 5xx never ends a
-- call, so never counts). Creating a call changes nothing here: the new call, as the participation's latest
-- (`is_latest`), is what marks it under way, so a fill writes phone calls and no participation.
ALTER TABLE callout_participations
    ADD COLUMN outcome text CHECK (outcome IN ('answered', 'exhausted', 'do_not_call', 'expired')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN settled_phone_call_id bigint,
    ADD COLUMN finished_at timestamptz;

-- The scheduler's work list: pending participations of a callout, fresh ones (no next attempt time) first,
-- then retries as they fall due. Finished participations leave the index, so it shrinks as a campaign runs.
CREATE INDEX callout_participations_pending
    ON callout_participations (callout_id, next_attempt_at NULLS FIRST, id) WHERE outcome IS NULL;

-- The stuck-call sweeper's scans: unfinished calls by how long they have gone without news.
CREATE INDEX phone_calls_unfinished_updated_at ON phone_calls (updated_at)
    WHERE status IN ('queued', 'remotely_queued', 'in_progress', 'remote_fetch_queued');

-- Which scheduler replica drives a callout: one owner per callout at a time, renewed every tick; a lease that
-- ran out (its replica died or stalled) is taken over by the next replica that ticks.
CREATE TABLE autopilot_leases (
    callout_id bigint PRIMARY KEY,
    owner uuid NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Calls of autopilot callouts that reached a final status, for the scheduler to settle: appended by a
-- statement trigger from the status updates' transition table, consumed (deleted) by the callout's scheduler.
-- The scheduler so settles only what changed, instead of looking at every call in flight each tick.
CREATE TABLE autopilot_settle_queue (
    id bigserial PRIMARY KEY,
    callout_id bigint NOT NULL,
    phone_call_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX autopilot_settle_queue_callout_id ON autopilot_settle_queue (callout_id);

CREATE FUNCTION phone_calls_queue_settlements() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO autopilot_settle_queue (callout_id, phone_call_id)
    SELECT callout_id, id FROM new_rows
    WHERE status IN ('completed', 'busy', 'not_answered', 'failed', 'errored', 'canceled', 'expired')
      AND callout_id IN (SELECT callout_id FROM autopilot_leases);
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_queue_settlements
AFTER UPDATE ON phone_calls REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_queue_settlements();

-- When the autopilot found nothing left to do for the callout: every participation has an outcome.
ALTER TABLE callouts ADD COLUMN autopilot_finished_at timestamptz;

-- The callout's dialling rate now, sampled by the scheduler, so that the progress figure costs one row read.
CREATE TABLE callout_progress_samples (
    callout_id bigint PRIMARY KEY,
    dialled bigint NOT NULL,
    sampled_at timestamptz NOT NULL,
    calls_per_second double precision NOT NULL DEFAULT 0
);

-- Numbers an account must not call. Population records the matching contacts' participations as
-- `do_not_call` instead of leaving them pending, and the scheduler skips (and records) any that joined later.
CREATE TABLE do_not_call_entries (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    msisdn text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT do_not_call_entries_account_id_msisdn UNIQUE (account_id, msisdn)
);
CREATE INDEX do_not_call_entries_account_id_id ON do_not_call_entries (account_id, id);

-- Time zone names PostgreSQL knows, read once: `pg_timezone_names` scans the zone files on every query, and an
-- unknown name in a contact's metadata must fall back to a default instead of failing a whole statement.
CREATE TABLE time_zone_names (name text PRIMARY KEY);
INSERT INTO time_zone_names SELECT DISTINCT name FROM pg_timezone_names;

-- The time zone of phone number prefixes (digits after '+'), filled by the next migration.
CREATE TABLE calling_code_time_zones (
    prefix text PRIMARY KEY,
    time_zone text NOT NULL
);

-- A participation's time zone for calling hours: the contact's `time_zone` metadata when PostgreSQL knows it,
-- else that of the msisdn's longest known prefix, else the fallback (the callout's or account's time zone).
CREATE FUNCTION participation_time_zone(contact_zone text, msisdn text, fallback text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        (SELECT name FROM time_zone_names WHERE name = contact_zone),
        (SELECT time_zone FROM calling_code_time_zones
         WHERE prefix IN (SELECT left(ltrim(msisdn, '+'), n) FROM generate_series(1, 8) n)
         ORDER BY length(prefix) DESC LIMIT 1),
        fallback)
$$;

-- When a calling window is next open at `at`: `at` itself while it is open, else the next opening. The window
-- opens at `opens` local time on each ISO day of week in `days` (1 Monday … 7 Sunday) and lasts until
-- `closes`; a window that closes at or before it opens runs past midnight (20:00–06:00 belongs to the day it
-- starts on), and `opens` = `closes` is a whole day.
CREATE FUNCTION calling_window_opens_at(zone text, days integer[], opens time, closes time, at timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH clock AS (
        SELECT (at AT TIME ZONE zone) AS local_now,
               CASE WHEN closes > opens THEN closes - opens ELSE closes - opens + interval '24 hours' END AS length
    ), openings AS (
        SELECT (clock.local_now::date + k) + opens AS opened, clock.local_now, clock.length
        FROM clock, generate_series(-1, 7) k
        WHERE extract(isodow FROM clock.local_now::date + k)::integer = ANY(days)
    )
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM openings WHERE local_now >= opened AND local_now < opened + length) THEN at
        ELSE (SELECT min(opened) FROM openings WHERE opened > local_now) AT TIME ZONE zone
    END
$$;

-- Running totals of participation outcomes for the progress figure (metric `outcome:<outcome>`), next to the
-- callout's other statistics: the participation triggers of migration 0002 count outcomes too, and updates
-- (the scheduler settling calls) append their net change.
CREATE OR REPLACE FUNCTION callout_participations_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
    SELECT callout_id, metric, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END * count(*)
    FROM (
        SELECT callout_id, 'participations' AS metric FROM changed_rows
        UNION ALL SELECT callout_id, 'outcome:' || outcome FROM changed_rows WHERE outcome IS NOT NULL
    ) changes
    GROUP BY callout_id, metric;
    RETURN NULL;
END
$$;

CREATE FUNCTION callout_participations_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
    SELECT callout_id, metric, sum(delta)
    FROM (
        SELECT callout_id, 'outcome:' || outcome AS metric, 1 AS delta FROM new_rows WHERE outcome IS NOT NULL
        UNION ALL SELECT callout_id, 'outcome:' || outcome, -1 FROM old_rows WHERE outcome IS NOT NULL
    ) changes
    GROUP BY callout_id, metric
    HAVING sum(delta) <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER callout_participations_count_updated
AFTER UPDATE ON callout_participations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION callout_participations_count_updated();
