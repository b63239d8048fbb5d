-- Where the broker put each published job: the relay records the partition and offset of its acknowledgement,
-- so that the job reconciler can tell a job still waiting in Kafka from one the broker no longer holds (a
-- restarted local broker, retention, a lost partition) or one that was read but whose effect is missing.
-- A published row is now kept until every consumer group of its topic has committed past it, not for a fixed
-- hour: PostgreSQL stays the record of each job until it is done.
ALTER TABLE outbox_messages
    ADD COLUMN kafka_partition integer,
    ADD COLUMN kafka_offset bigint,
    -- How many times the reconciler sent this job again; it gives up (and logs) after a bound, so that a job
    -- whose effect can never happen is not sent forever.
    ADD COLUMN redeliveries integer NOT NULL DEFAULT 0;

-- The reconciler's ranges: per topic and partition, offsets at or past the broker's high watermark (lost),
-- below its low watermark (dropped unread) or below the consumers' committed offset (read).
CREATE INDEX outbox_messages_delivered ON outbox_messages (topic, kafka_partition, kafka_offset)
    WHERE published_at IS NOT NULL;

-- The relay's read of one topic while another is held back (its consumers too far behind).
CREATE INDEX outbox_messages_unpublished_by_topic ON outbox_messages (topic, id) WHERE published_at IS NULL;
