//! The documented caps on what a file may claim: lengths and counts read from a file are
//! checked against these (and against the bytes actually present) before anything is
//! allocated, so one crafted file can neither abort the server nor take its memory. The
//! README's "Security limits" lists them.

/// Largest header of a BAM file (`l_text` and the reference list) or SAM header text of a
/// CRAM file.
pub const MAX_HEADER_BYTES: usize = 32 << 20;
/// Most `@SQ` references of a BAM or CRAM file (`n_ref`, `@SQ` lines).
pub const MAX_REFERENCES: usize = 1 << 20;
/// Largest BAM record (`block_size`); a 16 MiB record holds a read of about 10 Mb.
pub const MAX_BAM_RECORD_BYTES: u32 = 16 << 20;
/// Longest read of a CRAM record (bases).
pub const MAX_CRAM_READ_LEN: usize = 16 << 20;
/// Largest CRAM container as stored.
pub const MAX_CRAM_CONTAINER_BYTES: usize = 64 << 20;
/// Most memory one CRAM container may take to decode: its bytes, decoded blocks, records
/// and SAM text.
pub const MAX_CRAM_CONTAINER_MEMORY: usize = 192 << 20;
/// Most memory the CRAM containers decoded ahead of the next one may hold together.
pub const MAX_CRAM_READ_AHEAD_MEMORY: usize = 48 << 20;
/// Memory of the linked reference's bases a CRAM ingestion keeps (its page cache).
pub const CRAM_REFERENCE_CACHE_BYTES: usize = 16 << 20;
/// Most sequences of a reference FASTA.
pub const MAX_FASTA_SEQUENCES: usize = 500_000;
/// Longest FASTA sequence name (bytes).
pub use crate::fasta::MAX_NAME_LEN as MAX_FASTA_NAME_BYTES;
