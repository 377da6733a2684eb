-- The kit's tables, present in every service database.

-- Transactional outbox: rows are written in the same transaction as the state change
-- they describe and published by the relay afterwards.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    event_id      UUID        NOT NULL UNIQUE,
    topic         TEXT        NOT NULL,
    partition_key TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,
    source        TEXT        NOT NULL,
    subject       TEXT,
    occurred_at   TIMESTAMPTZ NOT NULL,
    traceparent   TEXT,
    tracestate    TEXT,
    request_id    TEXT,
    payload       BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at  TIMESTAMPTZ
);

-- The relay scans only unpublished rows; the pruner only published ones.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Inbox: one row per event a consumer group has applied. Inserted in the handler's
-- transaction, so a redelivered event finds its row and is skipped.
CREATE TABLE processed_events (
    consumer_group TEXT        NOT NULL,
    event_id       UUID        NOT NULL,
    topic          TEXT        NOT NULL,
    event_type     TEXT        NOT NULL,
    processed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);

CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
