-- Keeps each callout participation's summary of its phone calls (count, latest call and its status) in step
-- with phone_calls, whichever path changes them: the API, the population worker's bulk inserts and the
-- status worker's batched updates. Statement-level triggers with transition tables, so a bulk statement
-- costs one set-based UPDATE of the participations, not one per row.

ALTER TABLE callout_participations ADD COLUMN last_phone_call_id bigint;

CREATE FUNCTION phone_calls_summarize_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE callout_participations p
    SET phone_calls_count = p.phone_calls_count + n.calls,
        last_phone_call_id = CASE WHEN n.last_id > coalesce(p.last_phone_call_id, 0) THEN n.last_id
                                  ELSE p.last_phone_call_id END,
        last_phone_call_attempt = CASE WHEN n.last_id > coalesce(p.last_phone_call_id, 0) THEN n.last_status
                                       ELSE p.last_phone_call_attempt END
    FROM (
        SELECT callout_participation_id, count(*) AS calls, max(id) AS last_id,
               (array_agg(status ORDER BY id DESC))[1] AS last_status
        FROM inserted_phone_calls
        WHERE callout_participation_id IS NOT NULL
        GROUP BY callout_participation_id
    ) n
    WHERE p.id = n.callout_participation_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_summarize_inserted
AFTER INSERT ON phone_calls REFERENCING NEW TABLE AS inserted_phone_calls
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_summarize_inserted();

-- Only a status change of a participation's latest call changes its summary.
CREATE FUNCTION phone_calls_summarize_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE callout_participations p
    SET last_phone_call_attempt = n.status
    FROM updated_phone_calls n
    JOIN previous_phone_calls o ON o.id = n.id
    WHERE p.id = n.callout_participation_id
      AND p.last_phone_call_id = n.id
      AND n.status IS DISTINCT FROM o.status;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_summarize_updated
AFTER UPDATE ON phone_calls REFERENCING OLD TABLE AS previous_phone_calls NEW TABLE AS updated_phone_calls
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_summarize_updated();

CREATE FUNCTION phone_calls_summarize_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE callout_participations p
    SET phone_calls_count = p.phone_calls_count - d.calls,
        last_phone_call_id = latest.id,
        last_phone_call_attempt = latest.status
    FROM (
        SELECT callout_participation_id, count(*) AS calls
        FROM deleted_phone_calls
        WHERE callout_participation_id IS NOT NULL
        GROUP BY callout_participation_id
    ) d
    LEFT JOIN LATERAL (
        SELECT c.id, c.status FROM phone_calls c
        WHERE c.callout_participation_id = d.callout_participation_id
        ORDER BY c.id DESC LIMIT 1
    ) latest ON true
    WHERE p.id = d.callout_participation_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER phone_calls_summarize_deleted
AFTER DELETE ON phone_calls REFERENCING OLD TABLE AS deleted_phone_calls
FOR EACH STATEMENT EXECUTE FUNCTION phone_calls_summarize_deleted();

-- Scopes of the REST API that the first migration did not index.
CREATE INDEX callout_participations_callout_id ON callout_participations (callout_id, id);
CREATE INDEX phone_calls_account_id_id ON phone_calls (account_id, id);
CREATE INDEX remote_phone_call_events_account_id ON remote_phone_call_events (account_id, id);
CREATE INDEX callouts_account_id_id ON callouts (account_id, id);
