-- Which phone call is the latest of its participation, kept on the call itself (`is_latest`), so the
-- participation filters (has_phone_calls, last_phone_call_attempt, no_phone_calls_or_last_attempt) and the
-- callout statistics read an index of phone_calls instead of aggregating it. A status change of a call costs
-- nothing extra (status is indexed anyway); only a new call for a participation that had one flips the older
-- call, in one set-based UPDATE per statement (statement-level triggers with transition tables), however
-- many calls a batch inserts. The participation summary columns of the first migration are not needed.

ALTER TABLE callout_participations DROP COLUMN phone_calls_count, DROP COLUMN last_phone_call_attempt;

ALTER TABLE phone_calls ADD COLUMN is_latest boolean NOT NULL DEFAULT true;

-- Statistics count every call of a callout by status, and the latest ones, in one index-only scan.
DROP INDEX phone_calls_callout_id_status;
-- account_id is included so a callout-scoped index count (`Total`) is index-only too.
CREATE INDEX phone_calls_callout_id_status ON phone_calls (callout_id, status, is_latest) INCLUDE (account_id);
-- The participation filters probe the latest call of each participation.
CREATE INDEX phone_calls_latest_by_participation ON phone_calls (callout_participation_id, status) WHERE is_latest;

CREATE FUNCTION phone_calls_mark_latest_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE phone_calls older
    SET is_latest = false
    FROM inserted_phone_calls n
    WHERE older.callout_participation_id = n.callout_participation_id
      AND older.is_latest
      AND older.id < n.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_mark_latest_inserted
AFTER INSERT ON phone_calls REFERENCING NEW TABLE AS inserted_phone_calls
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_mark_latest_inserted();

-- Deleting a participation's latest call makes its previous call the latest again.
CREATE FUNCTION phone_calls_mark_latest_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE phone_calls c
    SET is_latest = true
    FROM (
        SELECT DISTINCT d.callout_participation_id FROM deleted_phone_calls d
        WHERE d.is_latest AND d.callout_participation_id IS NOT NULL
    ) affected
    CROSS JOIN LATERAL (
        SELECT max(id) AS id FROM phone_calls WHERE callout_participation_id = affected.callout_participation_id
    ) latest
    WHERE c.id = latest.id AND NOT c.is_latest;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_mark_latest_deleted
AFTER DELETE ON phone_calls REFERENCING OLD TABLE AS deleted_phone_calls
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_mark_latest_deleted();

-- Running totals per callout for the statistics endpoint: every statement that adds, removes or changes
-- participations or phone calls appends its net change per (callout, metric) here, aggregated from its
-- transition tables, so concurrent writers never wait on one counter row. Statistics sum a callout's rows and
-- fold them into one row per metric once they pile up. Metrics: `participations`, `calls:<status>`,
-- `latest:<status>` (calls that are their participation's latest, by status).
CREATE TABLE callout_statistic_deltas (
    id bigserial PRIMARY KEY,
    callout_id bigint NOT NULL,
    metric text NOT NULL,
    delta bigint NOT NULL
);
CREATE INDEX callout_statistic_deltas_callout_id ON callout_statistic_deltas (callout_id);

-- Insert and delete triggers name their one transition table `changed_rows`; the sign comes from TG_OP.
CREATE FUNCTION callout_participations_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
    SELECT callout_id, 'participations', CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END * count(*)
    FROM changed_rows GROUP BY callout_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER callout_participations_count_inserted
AFTER INSERT ON callout_participations REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION callout_participations_count();
CREATE TRIGGER callout_participations_count_deleted
AFTER DELETE ON callout_participations REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION callout_participations_count();

-- Inserted calls count +1 under their status (and as latest when they are), deleted ones -1.
CREATE FUNCTION phone_calls_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
    SELECT callout_id, metric, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END * count(*)
    FROM (
        SELECT callout_id, 'calls:' || status AS metric FROM changed_rows
        UNION ALL SELECT callout_id, 'latest:' || status FROM changed_rows WHERE is_latest
    ) changes
    WHERE callout_id IS NOT NULL
    GROUP BY callout_id, metric;
    RETURN NULL;
END
$$;

-- An update counts its new rows +1 and its old rows -1, with no join between the two tables; an update that
-- changes neither status nor is_latest nets to nothing and writes nothing.
CREATE FUNCTION phone_calls_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_statistic_deltas (callout_id, metric, delta)
    SELECT callout_id, metric, sum(delta)
    FROM (
        SELECT callout_id, 'calls:' || status AS metric, 1 AS delta FROM new_rows
        UNION ALL SELECT callout_id, 'latest:' || status, 1 FROM new_rows WHERE is_latest
        UNION ALL SELECT callout_id, 'calls:' || status, -1 FROM old_rows
        UNION ALL SELECT callout_id, 'latest:' || status, -1 FROM old_rows WHERE is_latest
    ) changes
    WHERE callout_id IS NOT NULL
    GROUP BY callout_id, metric
    HAVING sum(delta) <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_count_inserted
AFTER INSERT ON phone_calls REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_count_rows();
CREATE TRIGGER phone_calls_count_updated
AFTER UPDATE ON phone_calls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_count_updated();
CREATE TRIGGER phone_calls_count_deleted
AFTER DELETE ON phone_calls REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_count_rows();

-- No foreign keys on the two tables that batch operations fill a million rows at a time: each key cost a
-- lookup per inserted row (40% of a CalloutPopulation chunk). Their references are written from the rows they
-- copy, never by a client, and the deletes that could orphan them (contacts, callouts, participations, batch
-- operations) lock the dependent tables against writes while they check and delete (DependentRecords).
ALTER TABLE callout_participations
    DROP CONSTRAINT callout_participations_account_id_fkey,
    DROP CONSTRAINT callout_participations_callout_id_fkey,
    DROP CONSTRAINT callout_participations_contact_id_fkey,
    DROP CONSTRAINT callout_participations_callout_population_id_fkey;
ALTER TABLE phone_calls
    DROP CONSTRAINT phone_calls_account_id_fkey,
    DROP CONSTRAINT phone_calls_callout_participation_id_fkey,
    DROP CONSTRAINT phone_calls_contact_id_fkey,
    DROP CONSTRAINT phone_calls_callout_id_fkey,
    DROP CONSTRAINT phone_calls_create_batch_operation_id_fkey,
    DROP CONSTRAINT phone_calls_queue_batch_operation_id_fkey,
    DROP CONSTRAINT phone_calls_queue_remote_fetch_batch_operation_id_fkey;

-- Scopes of the REST API that the first migration did not index.
CREATE INDEX callout_participations_callout_id ON callout_participations (callout_id, id);
CREATE INDEX phone_calls_account_id_id ON phone_calls (account_id, id);
CREATE INDEX remote_phone_call_events_account_id ON remote_phone_call_events (account_id, id);
CREATE INDEX callouts_account_id_id ON callouts (account_id, id);
