//! The linked reference: sequences loaded from FASTA + `.fai` on first use, checked against
//! the `@SQ M5` of the CRAM header, and shared between decoding threads.
//!
//! Bases are uppercased as htslib's `load_ref_portion` does, so `MD` and the bases copied
//! from the reference match `samtools view`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use super::error::CramError;
use super::header::SamHeader;
use crate::message::QuotedName;

/// How many loaded sequences are kept for reuse.
const CACHED_SEQUENCES: usize = 3;

#[derive(Debug, Clone)]
struct FaiEntry {
    name: String,
    length: usize,
    offset: u64,
    line_bases: u64,
    line_width: u64,
}

/// Reference sequences by CRAM reference ID.
#[derive(Debug)]
pub(super) struct References {
    path: PathBuf,
    /// For each `@SQ` (by index): its `.fai` entry, if the FASTA has it.
    entries: Vec<Option<FaiEntry>>,
    names: Vec<String>,
    m5: Vec<Option<[u8; 16]>>,
    cache: Mutex<Vec<(usize, Arc<[u8]>)>>,
}

impl References {
    /// Reads `<reference>.fai` and matches it to the `@SQ` lines by name.
    pub(super) fn open(path: &Path, header: &SamHeader) -> Result<Self, CramError> {
        let fai_path = PathBuf::from(format!("{}.fai", path.display()));
        let io_err = |p: &Path, source| CramError::ReferenceIo {
            path: p.display().to_string(),
            source,
        };
        let text = std::fs::read_to_string(&fai_path).map_err(|e| io_err(&fai_path, e))?;
        let mut fai = std::collections::HashMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let parsed = (|| {
                Some(FaiEntry {
                    name: (*f.first()?).to_owned(),
                    length: f.get(1)?.parse().ok()?,
                    offset: f.get(2)?.parse().ok()?,
                    line_bases: f.get(3)?.parse().ok()?,
                    line_width: f.get(4)?.parse().ok()?,
                })
            })();
            let entry = parsed.ok_or_else(|| {
                CramError::Reference(format!(
                    "the reference index {} is malformed",
                    fai_path.display()
                ))
            })?;
            fai.insert(entry.name.clone(), entry);
        }
        let entries = header
            .references
            .iter()
            .map(|sq| fai.get(&sq.name).cloned())
            .collect();
        Ok(Self {
            path: path.to_owned(),
            entries,
            names: header.references.iter().map(|sq| sq.name.clone()).collect(),
            m5: header.references.iter().map(|sq| sq.m5).collect(),
            cache: Mutex::new(Vec::new()),
        })
    }

    /// Name of reference `id` as the CRAM header gives it.
    pub(super) fn name(&self, id: usize) -> &str {
        self.names.get(id).map_or("?", String::as_str)
    }

    /// Uppercased bases of reference `id`, loaded and checked on first use.
    pub(super) fn get(&self, id: usize) -> Result<Arc<[u8]>, CramError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.iter().position(|(k, _)| *k == id) {
            let entry = cache.remove(i);
            let seq = Arc::clone(&entry.1);
            cache.push(entry);
            return Ok(seq);
        }
        let seq: Arc<[u8]> = self.load(id)?.into();
        if cache.len() >= CACHED_SEQUENCES {
            cache.remove(0);
        }
        cache.push((id, Arc::clone(&seq)));
        Ok(seq)
    }

    fn load(&self, id: usize) -> Result<Vec<u8>, CramError> {
        let name = self.name(id);
        let entry = self
            .entries
            .get(id)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                CramError::Reference(format!(
                    "reference sequence {} of the CRAM is not in the linked reference",
                    QuotedName(name)
                ))
            })?;
        let io_err = |source| CramError::ReferenceIo {
            path: self.path.display().to_string(),
            source,
        };
        let mut file = File::open(&self.path).map_err(io_err)?;
        file.seek(SeekFrom::Start(entry.offset)).map_err(io_err)?;
        let lines = (entry.length as u64).div_ceil(entry.line_bases.max(1));
        let span = lines * entry.line_width;
        let mut raw = Vec::with_capacity(span as usize);
        file.take(span).read_to_end(&mut raw).map_err(io_err)?;
        let mut seq: Vec<u8> = raw
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .take(entry.length)
            .collect();
        if seq.len() != entry.length {
            return Err(CramError::Reference(format!(
                "reference sequence {} is shorter than its .fai says",
                QuotedName(name)
            )));
        }
        seq.make_ascii_uppercase();
        if let Some(expected) = self.m5[id] {
            let actual: [u8; 16] = Md5::digest(&seq).into();
            if actual != expected {
                return Err(CramError::Reference(format!(
                    "reference sequence {} MD5 {} does not match the CRAM's M5 {}",
                    QuotedName(name),
                    short_hex(&actual),
                    short_hex(&expected)
                )));
            }
        }
        Ok(seq)
    }
}

/// The first 8 hex digits of a digest, enough to tell two apart in a message.
pub(super) fn short_hex(bytes: &[u8]) -> String {
    format!("{}...", &hex(bytes)[..8])
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
