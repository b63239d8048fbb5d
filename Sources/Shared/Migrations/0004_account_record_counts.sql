-- Running totals of each account's records per table, so that an unfiltered index answers its `Total` from a
-- few rows instead of counting the account's whole table (100,000 contacts took 4 ms of PostgreSQL per
-- request, which capped the contacts index at ~250 requests/s). Statement-level triggers append one row per
-- account and statement; readers sum them and fold them into one row once they pile up (RecordCounts).
-- Filtered indexes still count, since their Total depends on the filter.
CREATE TABLE account_record_count_deltas (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    table_name text NOT NULL,
    delta bigint NOT NULL
);
CREATE INDEX account_record_count_deltas_account_id_table_name ON account_record_count_deltas (account_id, table_name);

-- Insert and delete triggers name their one transition table `changed_rows`; the sign comes from TG_OP.
CREATE FUNCTION account_record_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_record_count_deltas (account_id, table_name, delta)
    SELECT account_id, TG_TABLE_NAME, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END * count(*)
    FROM changed_rows GROUP BY account_id;
    RETURN NULL;
END
$$;

-- The tables whose indexes clients page through unfiltered. Participations and phone calls are left out: a
-- million-row batch insert would pay for it, and their indexes are mostly read per callout, filtered.
CREATE TRIGGER contacts_record_count_inserted AFTER INSERT ON contacts REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();
CREATE TRIGGER contacts_record_count_deleted AFTER DELETE ON contacts REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();
CREATE TRIGGER callouts_record_count_inserted AFTER INSERT ON callouts REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();
CREATE TRIGGER callouts_record_count_deleted AFTER DELETE ON callouts REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();
CREATE TRIGGER batch_operations_record_count_inserted AFTER INSERT ON batch_operations REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();
CREATE TRIGGER batch_operations_record_count_deleted AFTER DELETE ON batch_operations REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION account_record_count();

-- The rows that exist already; writers wait for this migration's commit, so none is counted twice or missed.
LOCK TABLE contacts, callouts, batch_operations IN SHARE MODE;
INSERT INTO account_record_count_deltas (account_id, table_name, delta)
SELECT account_id, 'contacts', count(*) FROM contacts GROUP BY account_id
UNION ALL SELECT account_id, 'callouts', count(*) FROM callouts GROUP BY account_id
UNION ALL SELECT account_id, 'batch_operations', count(*) FROM batch_operations GROUP BY account_id;
