-- A counter every write that changes what the S3 endpoint reads (a policy, a store, a read
-- set's or reference's status or files) increments: a node's S3 lookups serve a request only
-- while the revision that request read is the one they were made at.
CREATE TABLE s3_revision (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    revision BIGINT NOT NULL
);
INSERT INTO s3_revision (singleton, revision) VALUES (1, 0);
