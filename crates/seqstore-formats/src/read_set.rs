//! One entry point for every read set source type: validate, count, hash (HealthOmics
//! ETag) and, when asked, write the file to store (FASTQ as gzip, BAM/uBAM/CRAM with the
//! provenance `@CO` line) and its index. The `seqstore etag` command and ingestion share it,
//! so what a user checks locally is what the store reports.

use crate::bam::{BamKind, BamOptions, ingest_bam};
use crate::cram::{CramOptions, ingest_cram};
use crate::etag::EtagFamily;
use crate::fastq::FastqIngest;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::{self, Read, Write};
use std::path::Path;

/// The declared type of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// FASTQ, plain or gzip/BGZF.
    Fastq,
    /// Aligned, coordinate-sorted BAM.
    Bam,
    /// Unaligned BAM.
    Ubam,
    /// CRAM 3.0/3.1, decoded with its reference.
    Cram,
}

impl SourceKind {
    /// The `FASTQ`/`BAM`/`CRAM` prefix of the ETag algorithm name (uBAM hashes as BAM).
    pub fn etag_format(self) -> &'static str {
        match self {
            Self::Fastq => "FASTQ",
            Self::Bam | Self::Ubam => "BAM",
            Self::Cram => "CRAM",
        }
    }

    /// Extension of the index written for this kind, if any.
    pub fn index_extension(self) -> Option<&'static str> {
        match self {
            Self::Bam => Some("bai"),
            Self::Cram => Some("crai"),
            Self::Fastq | Self::Ubam => None,
        }
    }
}

/// How to ingest a source.
#[derive(Debug, Clone)]
pub struct IngestOptions<'a> {
    /// ETag family of the store.
    pub family: EtagFamily,
    /// The `@CO` line added to BAM/uBAM/CRAM headers (without newline).
    pub provenance: Option<String>,
    /// The linked reference FASTA (with its `.fai` beside it); needed for CRAM.
    pub reference: Option<&'a Path>,
}

/// What ingestion found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSummary {
    /// Lowercase hex ETag of the source.
    pub etag: String,
    /// Primary reads (all records for FASTQ).
    pub read_count: u64,
    /// Their bases.
    pub base_count: u64,
    /// The index of the written file (BAM: `.bai`, CRAM: `.crai`).
    pub index: Option<Vec<u8>>,
}

/// Why a source was refused; the message names the record or line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IngestError(pub String);

/// Reads `input` once; writes the file to store into `output` when given.
pub fn ingest(
    kind: SourceKind,
    input: impl Read,
    output: Option<&mut dyn Write>,
    options: &IngestOptions<'_>,
) -> Result<SourceSummary, IngestError> {
    let fail = |e: &dyn std::fmt::Display| IngestError(e.to_string());
    match kind {
        SourceKind::Fastq => ingest_fastq(input, output, options.family),
        SourceKind::Bam | SourceKind::Ubam => {
            let bam_kind = if kind == SourceKind::Bam {
                BamKind::Aligned
            } else {
                BamKind::Unaligned
            };
            let opts = BamOptions {
                family: options.family,
                kind: bam_kind,
                provenance: options.provenance.clone(),
            };
            let s = ingest_bam(input, output, &opts).map_err(|e| fail(&e))?;
            Ok(SourceSummary {
                etag: s.etag,
                read_count: s.read_count,
                base_count: s.base_count,
                index: s.index,
            })
        }
        SourceKind::Cram => {
            let reference = options.reference.ok_or_else(|| {
                IngestError("CRAM needs the linked reference to be decoded".into())
            })?;
            let opts = CramOptions {
                family: options.family,
                provenance: options.provenance.clone(),
            };
            let s = ingest_cram(input, output, reference, &opts).map_err(|e| fail(&e))?;
            Ok(SourceSummary {
                etag: s.etag,
                read_count: s.read_count,
                base_count: s.base_count,
                index: Some(s.index),
            })
        }
    }
}

/// FASTQ is stored gzip-compressed: gzip/BGZF input as received, plain input compressed.
fn ingest_fastq(
    mut input: impl Read,
    output: Option<&mut dyn Write>,
    family: EtagFamily,
) -> Result<SourceSummary, IngestError> {
    let io_error = |e: io::Error| IngestError(format!("reading the source failed: {e}"));
    let mut fastq = FastqIngest::new(family);
    let mut buffer = vec![0u8; 1 << 20];
    let mut sink = output.map(StoredFastq::new);
    loop {
        let n = input.read(&mut buffer).map_err(io_error)?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        fastq.push(chunk).map_err(|e| IngestError(e.to_string()))?;
        if let Some(s) = sink.take() {
            sink = Some(
                s.write(chunk)
                    .map_err(|e| IngestError(format!("storing the source failed: {e}")))?,
            );
        }
    }
    let summary = fastq.finish().map_err(|e| IngestError(e.to_string()))?;
    if let Some(s) = sink {
        s.finish()
            .map_err(|e| IngestError(format!("storing the source failed: {e}")))?;
    }
    Ok(SourceSummary {
        etag: summary.etag,
        read_count: summary.read_count,
        base_count: summary.base_count,
        index: None,
    })
}

/// Where stored FASTQ bytes go, decided by the first two bytes (the gzip magic).
enum StoredFastq<'w> {
    Undecided(&'w mut dyn Write, Vec<u8>),
    AsIs(&'w mut dyn Write),
    Compressed(Box<GzEncoder<&'w mut dyn Write>>),
}

impl<'w> StoredFastq<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Self::Undecided(out, Vec::with_capacity(2))
    }

    fn write(self, chunk: &[u8]) -> io::Result<Self> {
        Ok(match self {
            Self::Undecided(out, mut head) => {
                head.extend_from_slice(chunk);
                if head.len() < 2 {
                    return Ok(Self::Undecided(out, head));
                }
                let mut next = if head.starts_with(&[0x1f, 0x8b]) {
                    Self::AsIs(out)
                } else {
                    Self::Compressed(Box::new(GzEncoder::new(out, Compression::fast())))
                };
                next.write_all(&head)?;
                next
            }
            mut decided => {
                decided.write_all(chunk)?;
                decided
            }
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Undecided(_, head) => {
                head.extend_from_slice(bytes);
                Ok(())
            }
            Self::AsIs(w) => w.write_all(bytes),
            Self::Compressed(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Self::Undecided(w, head) => {
                w.write_all(&head)?;
                w.flush()
            }
            Self::AsIs(w) => w.flush(),
            Self::Compressed(w) => w.finish()?.flush(),
        }
    }
}
