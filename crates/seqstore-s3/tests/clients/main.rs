//! Real S3 clients — boto3, the AWS CLI, samtools/htslib — against the endpoint on a real
//! listener, over a test-only in-memory object source.
//!
//! A missing client is skipped with a note, but fails the test when `CI` is set.

mod awscli;
mod boto3;
mod fixture;
mod memory;
mod samtools;
mod server;
mod tools;
