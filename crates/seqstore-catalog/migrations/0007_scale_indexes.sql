-- Every list filter is an index range in creation order (bench/lists.py at 1,000,000 read sets:
-- without these, `name`, `sampleId`, `subjectId` and rare statuses scanned the whole store).
CREATE INDEX read_sets_by_store_status ON read_sets (sequence_store_id, status, created_at, id);
CREATE INDEX read_sets_by_store_sample ON read_sets (sequence_store_id, sample_id, created_at, id);
CREATE INDEX read_sets_by_store_subject ON read_sets (sequence_store_id, subject_id, created_at, id);
CREATE INDEX read_sets_by_store_name ON read_sets (sequence_store_id, name, created_at, id);
CREATE INDEX read_sets_by_store_reference ON read_sets (sequence_store_id, reference_arn, created_at, id);
CREATE INDEX genome_references_by_store_name ON genome_references (reference_store_id, name, created_at, id);
CREATE INDEX genome_references_by_store_md5 ON genome_references (reference_store_id, md5, created_at, id);
CREATE INDEX jobs_by_store_status ON jobs (account_id, kind, store_id, status, created_at, id);

-- The chores read only the rows they change (each pass was a walk of every stored read set).
-- The S3 ETag backfill reads the files without an ETag: its query repeats this predicate word for
-- word, which is how SQLite knows the partial index answers it.
CREATE INDEX read_sets_missing_etags ON read_sets (id)
    WHERE source1_s3_etag IS NULL OR (source2_name IS NOT NULL AND source2_s3_etag IS NULL)
        OR (index_name IS NOT NULL AND index_s3_etag IS NULL);
-- The archive scan reads the unclaimed ACTIVE read sets in order of last access; the index of
-- 0005 is a prefix of this one.
DROP INDEX read_sets_by_status;
CREATE INDEX read_sets_by_status
    ON read_sets (status, lifecycle_job_id, COALESCE(accessed_at, created_at), id);
