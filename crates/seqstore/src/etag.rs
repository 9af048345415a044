//! `seqstore etag`: what the store would report for local files (ETag and read counts),
//! computed by the same code that ingests uploads and imports.

use anyhow::{Context, bail};
use seqstore_core::vocabulary::FileType;
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::fasta::FastaIndexer;
use seqstore_formats::read_set::{IngestOptions, SourceKind, SourceSummary, ingest};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Declared source types, as `sourceFileType` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum FileTypeArg {
    /// FASTQ (plain, gzip, BGZF).
    Fastq,
    /// Aligned BAM.
    Bam,
    /// Unaligned BAM.
    Ubam,
    /// CRAM.
    Cram,
}

impl From<FileTypeArg> for FileType {
    fn from(arg: FileTypeArg) -> Self {
        match arg {
            FileTypeArg::Fastq => Self::Fastq,
            FileTypeArg::Bam => Self::Bam,
            FileTypeArg::Ubam => Self::Ubam,
            FileTypeArg::Cram => Self::Cram,
        }
    }
}

/// Prints the `etag` and `sequenceInformation` the store would report, as JSON.
pub fn run(
    files: &[PathBuf],
    kind: FileTypeArg,
    reference: Option<&Path>,
    family: &str,
) -> anyhow::Result<()> {
    let family: EtagFamily = family
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown ETag family {family:?}"))?;
    let kind = FileType::from(kind).source_kind();
    if files.len() == 2 && kind != SourceKind::Fastq {
        bail!("a second file is only for paired FASTQ");
    }
    let (_keep, reference) = match (kind, reference) {
        (SourceKind::Cram, None) => bail!("CRAM needs --reference FASTA"),
        (SourceKind::Cram, Some(path)) => indexed_reference(path)?,
        _ => (None, None),
    };
    let options = IngestOptions {
        family,
        provenance: None,
        reference: reference.as_deref(),
    };
    let summaries = files
        .iter()
        .map(|path| {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            ingest(
                kind,
                BufReader::with_capacity(1 << 20, file),
                None,
                &options,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        })
        .collect::<anyhow::Result<Vec<SourceSummary>>>()?;
    if let [one, two] = summaries.as_slice()
        && one.read_count != two.read_count
    {
        bail!(
            "paired FASTQ: the first file has {} reads, the second {}",
            one.read_count,
            two.read_count
        );
    }
    let alignment = if matches!(kind, SourceKind::Bam | SourceKind::Cram) {
        "ALIGNED"
    } else {
        "UNALIGNED"
    };
    let mut etag = serde_json::json!({
        "algorithm": format!("{}_{}", kind.etag_format(), family.as_str()),
        "source1": summaries[0].etag,
    });
    if let Some(two) = summaries.get(1) {
        etag["source2"] = two.etag.clone().into();
    }
    let report = serde_json::json!({
        "etag": etag,
        "sequenceInformation": {
            "totalReadCount": summaries.iter().map(|s| s.read_count).sum::<u64>(),
            "totalBaseCount": summaries.iter().map(|s| s.base_count).sum::<u64>(),
            "alignment": alignment,
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The reference with a `.fai` beside it: as given when it has one, else a temp dir with
/// a link to it and an index built here.
pub(crate) fn indexed_reference(
    path: &Path,
) -> anyhow::Result<(Option<tempfile::TempDir>, Option<PathBuf>)> {
    let fai = PathBuf::from(format!("{}.fai", path.display()));
    if fai.is_file() {
        return Ok((None, Some(path.to_owned())));
    }
    let dir = tempfile::tempdir()?;
    let linked = dir.path().join("reference.fa");
    std::os::unix::fs::symlink(path.canonicalize()?, &linked)?;
    let mut indexer = FastaIndexer::new();
    let mut file =
        BufReader::new(File::open(path).with_context(|| format!("opening {}", path.display()))?);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        indexer
            .push(&buffer[..n])
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let index = indexer
        .finish()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    std::fs::write(dir.path().join("reference.fa.fai"), index.to_fai())?;
    Ok((Some(dir), Some(linked)))
}
