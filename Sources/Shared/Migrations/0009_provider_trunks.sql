-- Shared provider trunks (issue #10): several accounts dialling through one provider limit share it by weight.
-- An account joins a trunk by naming it in `settings.trunk`; its weight is `settings.autopilot.weight`.
CREATE TABLE provider_trunks (
    name text PRIMARY KEY,
    max_calls_per_second double precision NOT NULL CHECK (max_calls_per_second > 0),
    -- Calls per second at most to numbers starting with each prefix (digits after '+'), e.g. {"85512": 5}: a
    -- mass call must not flood one local network (mass-notification services cap per region the same way).
    prefix_caps jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The rate an account of a trunk may dial at now: its weighted share of the trunk among the accounts with
-- calls waiting, set by the scheduler every second; the queue workers' leases dial at the lower of it and the
-- account's own limit. NULL: the account shares no trunk.
ALTER TABLE account_dial_schedules ADD COLUMN trunk_share_rate double precision CHECK (trunk_share_rate > 0);

-- Token buckets of the per-prefix caps: the scheduler takes tokens for the calls it creates to a capped prefix
-- (row-locked, so replicas share them), refilled at the cap's rate up to one second's worth.
CREATE TABLE prefix_cap_buckets (
    trunk text NOT NULL REFERENCES provider_trunks (name) ON DELETE CASCADE,
    prefix text NOT NULL,
    tokens double precision NOT NULL,
    refilled_at timestamptz NOT NULL,
    PRIMARY KEY (trunk, prefix)
);
