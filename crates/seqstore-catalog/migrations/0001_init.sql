-- The foundation schema. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Times are milliseconds since the Unix epoch (BIGINT); lists are JSON text.

CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    account_id        TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE sequence_stores (
    id                        TEXT PRIMARY KEY,
    account_id                TEXT NOT NULL,
    name                      TEXT NOT NULL,
    description               TEXT,
    sse_type                  TEXT,
    sse_key_arn               TEXT,
    fallback_location         TEXT,
    etag_algorithm_family     TEXT NOT NULL,
    status                    TEXT NOT NULL,
    status_message            TEXT,
    propagated_set_level_tags TEXT NOT NULL,
    access_log_location       TEXT,
    s3_access_point_alias     TEXT NOT NULL UNIQUE,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX sequence_stores_by_account ON sequence_stores (account_id, created_at, id);

CREATE TABLE reference_stores (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL UNIQUE, -- one reference store per account (HealthOmics fixed quota)
    name        TEXT NOT NULL,
    description TEXT,
    sse_type    TEXT,
    sse_key_arn TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE tags (
    account_id    TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    PRIMARY KEY (account_id, resource_kind, resource_id, tag_key)
);

CREATE TABLE idempotency_tokens (
    account_id   TEXT NOT NULL,
    operation    TEXT NOT NULL,
    client_token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, operation, client_token)
);
