-- A callout that starts or resumes wakes the autopilot schedulers at once (they LISTEN on this channel)
-- instead of at their next tick. NOTIFY is delivered on commit, so a scheduler never wakes to a start that
-- was rolled back.
CREATE FUNCTION callouts_notify_autopilot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('autopilot_callouts_started', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER callouts_notify_autopilot
AFTER UPDATE OF status ON callouts
FOR EACH ROW WHEN (NEW.status = 'running' AND OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION callouts_notify_autopilot();
