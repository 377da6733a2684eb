-- Idempotency keys (platform::http::idempotency): one row per (caller, route, key) while
-- the first request runs and, afterwards, with the answer it got, which is replayed to
-- retries until the row expires.
CREATE TABLE idempotency_keys (
    -- Whose key: `user:<id>` from the token, or a scope the handler names.
    scope        TEXT        NOT NULL,
    -- Method and route pattern (`POST /orders`): the same key on another route is another key.
    route        TEXT        NOT NULL,
    key          TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- Which request holds the row: completing and releasing touch only their own claim.
    claim_id     UUID        NOT NULL,
    -- SHA-256 of method, path and body: a retry must be the same request.
    fingerprint  BYTEA       NOT NULL,
    -- NULL while the first request runs; then the answer to replay.
    status       SMALLINT    CHECK (status BETWEEN 100 AND 599),
    content_type TEXT,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- In progress: the lease (a crashed request's key frees itself then); completed: the
    -- end of the replay window. An expired row counts as absent and is purged.
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, route, key),
    CHECK ((status IS NULL) = (body IS NULL))
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
