//! Vector tests: AWS's published SigV4 suite, S3 documentation examples, botocore fixtures.

mod aws_suite;
mod botocore;
mod s3_docs;
mod support;
