//! HealthOmics ETag hashes (spec D.9): MD5up, SHA256up, SHA512up families.
