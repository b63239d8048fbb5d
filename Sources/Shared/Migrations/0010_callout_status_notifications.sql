-- Every change of a callout's status is announced on the channel `callout_status_changes` (payload
-- "<callout id> <status>"): the autopilot schedulers LISTEN to drive a started or resumed callout at once
-- instead of at their next tick, and the queue workers to hold a paused or stopped callout's calls at the very
-- moment of their dial instead of up to a refresh later. NOTIFY is delivered on commit, so nobody acts on a
-- change that was rolled back.
CREATE FUNCTION callouts_notify_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('callout_status_changes', NEW.id::text || ' ' || NEW.status);
    RETURN NULL;
END
$$;

CREATE TRIGGER callouts_notify_status_change
AFTER UPDATE OF status ON callouts
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION callouts_notify_status_change();
