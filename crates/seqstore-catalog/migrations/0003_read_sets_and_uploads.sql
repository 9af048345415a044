-- Read sets and direct multipart uploads.

CREATE TABLE read_sets (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    sequence_store_id TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    subject_id        TEXT NOT NULL,
    sample_id         TEXT NOT NULL,
    generated_from    TEXT,
    reference_arn     TEXT,
    file_type         TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_message    TEXT,
    creation_type     TEXT NOT NULL,
    creation_job_id   TEXT,
    etag_algorithm    TEXT,
    etag_source1      TEXT,
    etag_source2      TEXT,
    total_read_count  BIGINT,
    total_base_count  BIGINT,
    source1_name      TEXT,
    source1_size      BIGINT,
    source2_name      TEXT,
    source2_size      BIGINT,
    index_name        TEXT,
    index_size        BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX read_sets_by_store ON read_sets (sequence_store_id, created_at, id);
CREATE INDEX read_sets_by_reference ON read_sets (reference_arn);

CREATE TABLE uploads (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    sequence_store_id TEXT NOT NULL,
    source_file_type  TEXT NOT NULL,
    subject_id        TEXT NOT NULL,
    sample_id         TEXT NOT NULL,
    generated_from    TEXT,
    reference_arn     TEXT,
    name              TEXT NOT NULL,
    description       TEXT,
    tags              TEXT NOT NULL,
    status            TEXT NOT NULL,
    read_set_id       TEXT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX uploads_by_store ON uploads (sequence_store_id, status, created_at, id);

CREATE TABLE upload_parts (
    upload_id   TEXT NOT NULL,
    part_source TEXT NOT NULL,
    part_number BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    checksum    TEXT NOT NULL,
    blob_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_source, part_number)
);
