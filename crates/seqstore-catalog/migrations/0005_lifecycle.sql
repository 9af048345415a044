-- Archiving: when a read set's files were last read, the size of its archive copy, and the
-- archive or activation job moving it between the active and archive tiers.
ALTER TABLE read_sets ADD COLUMN accessed_at BIGINT;
ALTER TABLE read_sets ADD COLUMN archive_size BIGINT;
ALTER TABLE read_sets ADD COLUMN lifecycle_job_id TEXT;
CREATE INDEX read_sets_by_status ON read_sets (status, lifecycle_job_id);

-- Where an export job writes.
ALTER TABLE jobs ADD COLUMN destination TEXT;
