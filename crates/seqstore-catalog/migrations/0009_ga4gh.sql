-- GA4GH htsget and refget: the sequences of every reference by checksum, bearer tokens, and
-- the key that signs htsget ticket URLs.

-- One row per sequence of a reference, written before the reference becomes ACTIVE (and for
-- older references by a background pass); served only while the reference is ACTIVE.
CREATE TABLE reference_sequences (
    reference_id       TEXT NOT NULL,
    ordinal            INTEGER NOT NULL,
    account_id         TEXT NOT NULL,
    reference_store_id TEXT NOT NULL,
    name               TEXT NOT NULL,
    length             BIGINT NOT NULL,
    text_offset        BIGINT NOT NULL,
    line_bases         BIGINT NOT NULL,
    line_width         BIGINT NOT NULL,
    md5                TEXT NOT NULL,
    sha512t24u         TEXT NOT NULL,
    PRIMARY KEY (reference_id, ordinal)
);
CREATE INDEX reference_sequences_by_md5 ON reference_sequences (md5);
CREATE INDEX reference_sequences_by_sha512t24u ON reference_sequences (sha512t24u);

-- Only a SHA-256 of each token's secret is kept.
CREATE TABLE bearer_tokens (
    token_id      TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    user_name     TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT
);

-- Written once by the first node that needs it; every node signs and checks with it.
CREATE TABLE ticket_keys (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    signing_key TEXT NOT NULL
);
