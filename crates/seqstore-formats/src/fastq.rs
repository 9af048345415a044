//! Placeholder; filled in by the fastq work.
