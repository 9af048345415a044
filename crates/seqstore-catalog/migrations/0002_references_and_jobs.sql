-- References and the durable job engine.

-- Reference stores get an S3 access point alias, like sequence stores (spec E16/E17).
ALTER TABLE reference_stores ADD COLUMN s3_access_point_alias TEXT;
UPDATE reference_stores SET s3_access_point_alias = account_id || '-' || id || '-s3alias'
    WHERE s3_access_point_alias IS NULL;

CREATE TABLE genome_references (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL,
    reference_store_id TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    md5                TEXT NOT NULL,
    status             TEXT NOT NULL,
    source_file_name   TEXT NOT NULL,
    source_size        BIGINT NOT NULL,
    index_size         BIGINT NOT NULL,
    creation_job_id    TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX genome_references_by_store ON genome_references (reference_store_id, created_at, id);

-- A job is claimed by one node at a time through its lease; items carry the per-source
-- state and the id of the resource they create (allocated up front, so a resumed job
-- rewrites the same blobs and can never create a second resource for one item).
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    store_id         TEXT NOT NULL,
    role_arn         TEXT,
    status           TEXT NOT NULL,
    status_message   TEXT,
    created_at       BIGINT NOT NULL,
    completed_at     BIGINT,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    attempts         BIGINT NOT NULL
);
CREATE INDEX jobs_by_store ON jobs (account_id, kind, store_id, created_at, id);
CREATE INDEX jobs_by_status ON jobs (status, created_at, id);

CREATE TABLE job_items (
    job_id         TEXT NOT NULL,
    item_index     BIGINT NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT,
    spec           TEXT NOT NULL,
    result_id      TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    PRIMARY KEY (job_id, item_index)
);
