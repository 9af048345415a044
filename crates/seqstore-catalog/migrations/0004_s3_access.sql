-- S3 direct access: stable S3 ETags of stored files, store access point policies and the
-- user names that give access keys their own principal ARN.

-- MD5 (hex) of each stored file, written with the file. NULL only for files stored before
-- this migration until the startup backfill has hashed them.
ALTER TABLE read_sets ADD COLUMN source1_s3_etag TEXT;
ALTER TABLE read_sets ADD COLUMN source2_s3_etag TEXT;
ALTER TABLE read_sets ADD COLUMN index_s3_etag TEXT;
ALTER TABLE genome_references ADD COLUMN source_s3_etag TEXT;
ALTER TABLE genome_references ADD COLUMN index_s3_etag TEXT;

-- The access point policy: NULL = the default policy (owner account reads), '' = deleted
-- (no S3 access), otherwise the policy document the user put.
ALTER TABLE sequence_stores ADD COLUMN s3_access_policy TEXT;
ALTER TABLE sequence_stores ADD COLUMN s3_access_policy_updated_at BIGINT;
ALTER TABLE reference_stores ADD COLUMN s3_access_policy TEXT;
ALTER TABLE reference_stores ADD COLUMN s3_access_policy_updated_at BIGINT;

-- NULL = the account's root principal (arn:<partition>:iam::<account>:root).
ALTER TABLE access_keys ADD COLUMN user_name TEXT;

-- S3 listings walk a store's read sets and references in key (id) order.
CREATE INDEX read_sets_by_store_id ON read_sets (sequence_store_id, id);
CREATE INDEX genome_references_by_store_id ON genome_references (reference_store_id, id);
