//! Placeholder; filled in by the sam_text work.
