-- An account's first page of contacts or participations, in id order. Without an (account_id, id) index the
-- planner walks the primary key from the first row of the table and filters out every other account's rows
-- on the way: fine on a database of one account, but on the benchmark database (3.7M contacts in 136
-- accounts, the newest account holding 1M) a page of its contacts took 550 ms instead of 1 ms, and a page of
-- the newest account's participations 520 ms. phone_calls, callouts and remote_phone_call_events have such an
-- index since the first migrations. IF NOT EXISTS: a database may have been patched by hand before this
-- migration.
CREATE INDEX IF NOT EXISTS contacts_account_id_id ON contacts (account_id, id);
CREATE INDEX IF NOT EXISTS callout_participations_account_id_id ON callout_participations (account_id, id);
