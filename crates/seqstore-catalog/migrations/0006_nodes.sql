-- The server processes sharing this catalog: the live one with the smallest id performs the
-- cluster's duties (cleanup, upload expiry, the archive scan, backfills).
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);
