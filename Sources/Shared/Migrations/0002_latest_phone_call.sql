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
CREATE INDEX phone_calls_callout_id_status ON phone_calls (callout_id, status, is_latest);
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

-- Scopes of the REST API that the first migration did not index.
CREATE INDEX callout_participations_callout_id ON callout_participations (callout_id, id);
CREATE INDEX phone_calls_account_id_id ON phone_calls (account_id, id);
CREATE INDEX remote_phone_call_events_account_id ON remote_phone_call_events (account_id, id);
CREATE INDEX callouts_account_id_id ON callouts (account_id, id);
