-- Who holds a dial claim, and whether that worker is alive (found by make chaos: a worker that lost its
-- database for a few seconds kept claims older than the claim timeout, another worker took them over after a
-- redelivery, and both dialled). A queue worker renews its row every few seconds; a claim may be taken over
-- only when its owner's row has not been renewed for the whole claim timeout, and the owner stops dialling
-- long before that (DialClaimLease).
CREATE TABLE dial_claim_owners (
    id uuid PRIMARY KEY,
    renewed_at timestamptz NOT NULL
);

ALTER TABLE phone_calls ADD COLUMN dial_claimed_by uuid;
