//! Placeholder; filled in by the cram work.
