//! Placeholder; filled in by the bam work.
