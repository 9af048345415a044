//! The linked reference, read in pages: each sequence is checked once against the `@SQ M5`
//! of the CRAM header by streaming it, and slices then read the bases they use through a
//! page cache shared by the decoding threads, so memory stays at
//! [`CRAM_REFERENCE_CACHE_BYTES`] however long the sequences are (a human chromosome 1 is
//! 248 Mb).
//!
//! Bases are uppercased as htslib's `load_ref_portion` does, so `MD` and the bases copied
//! from the reference match `samtools view`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use super::error::CramError;
use super::header::SamHeader;
use crate::limits::CRAM_REFERENCE_CACHE_BYTES;
use crate::message::QuotedName;

/// Bases per page.
const PAGE_BASES: usize = 1 << 16;
const CACHED_PAGES: usize = CRAM_REFERENCE_CACHE_BYTES / PAGE_BASES;

#[derive(Debug, Clone)]
struct FaiEntry {
    name: String,
    length: usize,
    offset: u64,
    line_bases: u64,
    line_width: u64,
}

impl FaiEntry {
    /// File offset of the 0-based base `i`.
    fn offset_of(&self, i: usize) -> u64 {
        let i = i as u64;
        self.offset + i / self.line_bases * self.line_width + i % self.line_bases
    }
}

/// Tells every [`References`] ever opened apart, for [`LAST_PAGE`].
static OPENED: AtomicU64 = AtomicU64::new(0);

/// A page of one opening of a reference: (opened, sequence, page).
type PageKey = (u64, usize, usize);

thread_local! {
    /// The page this thread read last: a slice's reads mostly fall in one page, whose
    /// lookups then skip the shared cache's lock.
    static LAST_PAGE: RefCell<Option<(PageKey, Arc<[u8]>)>> = const { RefCell::new(None) };
}

/// Reference sequences by CRAM reference ID.
#[derive(Debug)]
pub(super) struct References {
    /// Which opening this is ([`OPENED`]).
    opened: u64,
    path: PathBuf,
    file: File,
    /// For each `@SQ` (by index): its `.fai` entry, if the FASTA has it.
    entries: Vec<Option<FaiEntry>>,
    names: Vec<String>,
    m5: Vec<Option<[u8; 16]>>,
    /// Whether each sequence has been read whole and matched its `M5`.
    checked: Vec<AtomicBool>,
    pages: Mutex<Pages>,
}

/// Pages by (reference ID, page number), least recently used evicted first.
#[derive(Debug, Default)]
struct Pages {
    map: HashMap<(usize, usize), Page>,
    clock: u64,
}

#[derive(Debug)]
struct Page {
    bases: Arc<[u8]>,
    /// The clock when it was last read.
    used: u64,
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
        let mut fai = HashMap::new();
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
            })()
            // lines of bases end in LF or CRLF
            .filter(|e| {
                (e.line_bases > 0 || e.length == 0)
                    && (e.line_bases..=e.line_bases + 2).contains(&e.line_width)
            });
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
            opened: OPENED.fetch_add(1, Ordering::Relaxed),
            file: File::open(path).map_err(|e| io_err(path, e))?,
            path: path.to_owned(),
            entries,
            names: header.references.iter().map(|sq| sq.name.clone()).collect(),
            m5: header.references.iter().map(|sq| sq.m5).collect(),
            checked: header
                .references
                .iter()
                .map(|_| AtomicBool::new(false))
                .collect(),
            pages: Mutex::default(),
        })
    }

    /// Name of reference `id` as the CRAM header gives it.
    pub(super) fn name(&self, id: usize) -> &str {
        self.names.get(id).map_or("?", String::as_str)
    }

    /// Reference `id`, read whole and checked against its `M5` on first use.
    pub(super) fn get(&self, id: usize) -> Result<Sequence<'_>, CramError> {
        let entry = self
            .entries
            .get(id)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                CramError::Reference(format!(
                    "reference sequence {} of the CRAM is not in the linked reference",
                    QuotedName(self.name(id))
                ))
            })?;
        if !self.checked[id].load(Ordering::Acquire) {
            self.check(id, entry)?;
            self.checked[id].store(true, Ordering::Release);
        }
        Ok(Sequence {
            refs: self,
            id,
            len: entry.length,
        })
    }

    fn io_err(&self, source: std::io::Error) -> CramError {
        CramError::ReferenceIo {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn too_short(&self, id: usize) -> CramError {
        CramError::Reference(format!(
            "reference sequence {} is shorter than its .fai says",
            QuotedName(self.name(id))
        ))
    }

    /// Streams sequence `id` once: its length must be the `.fai`'s, its MD5 the `M5`.
    fn check(&self, id: usize, entry: &FaiEntry) -> Result<(), CramError> {
        let file = File::open(&self.path).map_err(|e| self.io_err(e))?;
        let mut file = BufReader::with_capacity(PAGE_BASES, file);
        file.seek(SeekFrom::Start(entry.offset))
            .map_err(|e| self.io_err(e))?;
        let lines = (entry.length as u64).div_ceil(entry.line_bases.max(1));
        let mut rest = file.take(lines * entry.line_width);
        let mut md5 = Md5::new();
        let mut left = entry.length;
        let mut chunk = vec![0; PAGE_BASES];
        while left > 0 {
            let n = rest.read(&mut chunk).map_err(|e| self.io_err(e))?;
            if n == 0 {
                return Err(self.too_short(id));
            }
            let mut bases: Vec<u8> = chunk[..n]
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .take(left)
                .collect();
            bases.make_ascii_uppercase();
            md5.update(&bases);
            left -= bases.len();
        }
        let (Some(expected), actual) = (self.m5[id], <[u8; 16]>::from(md5.finalize())) else {
            return Ok(());
        };
        if actual != expected {
            return Err(CramError::Reference(format!(
                "reference sequence {} MD5 {} does not match the CRAM's M5 {}",
                QuotedName(self.name(id)),
                short_hex(&actual),
                short_hex(&expected)
            )));
        }
        Ok(())
    }

    /// Page `p` of sequence `id` from the file, uppercased.
    fn read_page(&self, id: usize, p: usize) -> Result<Vec<u8>, CramError> {
        let entry = self.entries[id]
            .as_ref()
            .ok_or_else(|| self.too_short(id))?;
        let first = p * PAGE_BASES;
        let n = PAGE_BASES.min(entry.length.saturating_sub(first));
        if n == 0 {
            return Err(self.too_short(id));
        }
        let from = entry.offset_of(first);
        let mut raw = vec![0; (entry.offset_of(first + n - 1) + 1 - from) as usize];
        self.file.read_exact_at(&mut raw, from).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.too_short(id)
            } else {
                self.io_err(e)
            }
        })?;
        raw.retain(|b| !b.is_ascii_whitespace());
        if raw.len() != n {
            return Err(self.too_short(id));
        }
        raw.make_ascii_uppercase();
        Ok(raw)
    }
}

/// One reference sequence of the linked reference, read through the page cache.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sequence<'a> {
    refs: &'a References,
    id: usize,
    len: usize,
}

impl Sequence<'_> {
    /// Its length in bases.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The bases `[start, start + len)` (0-based); `None` when they leave the sequence.
    pub(super) fn bases(&self, start: usize, len: usize) -> Result<Option<Vec<u8>>, CramError> {
        let mut out = Vec::new();
        if !self.for_each_chunk(start, len, |chunk| out.extend_from_slice(chunk))? {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// Calls `f` with the bases `[start, start + len)` in order, a page at most at a time;
    /// `false` when they leave the sequence.
    pub(super) fn for_each_chunk(
        &self,
        start: usize,
        len: usize,
        mut f: impl FnMut(&[u8]),
    ) -> Result<bool, CramError> {
        let Some(end) = start.checked_add(len).filter(|&end| end <= self.len) else {
            return Ok(false);
        };
        let mut at = start;
        while at < end {
            let page = self.page(at / PAGE_BASES)?;
            let from = at % PAGE_BASES;
            let to = (end - at + from).min(page.len());
            f(&page[from..to]);
            at += to - from;
        }
        Ok(true)
    }

    /// The base at 0-based `pos`; `None` past the end.
    pub(super) fn base(&self, pos: usize) -> Result<Option<u8>, CramError> {
        if pos >= self.len {
            return Ok(None);
        }
        let page = self.page(pos / PAGE_BASES)?;
        Ok(page.get(pos % PAGE_BASES).copied())
    }

    fn page(&self, p: usize) -> Result<Arc<[u8]>, CramError> {
        let key = (self.refs.opened, self.id, p);
        let last = LAST_PAGE.with_borrow(|last| {
            last.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, bases)| Arc::clone(bases))
        });
        if let Some(bases) = last {
            return Ok(bases);
        }
        let bases = self.shared_page(p)?;
        LAST_PAGE.set(Some((key, Arc::clone(&bases))));
        Ok(bases)
    }

    /// Page `p` from the cache the decoding threads share.
    fn shared_page(&self, p: usize) -> Result<Arc<[u8]>, CramError> {
        let key = (self.id, p);
        let lock = || self.refs.pages.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut pages = lock();
            pages.clock += 1;
            let now = pages.clock;
            if let Some(page) = pages.map.get_mut(&key) {
                page.used = now;
                return Ok(Arc::clone(&page.bases));
            }
        }
        let bases: Arc<[u8]> = self.refs.read_page(self.id, p)?.into();
        let mut pages = lock();
        if pages.map.len() >= CACHED_PAGES {
            let oldest = pages.map.iter().min_by_key(|(_, page)| page.used);
            if let Some(&k) = oldest.map(|(k, _)| k) {
                pages.map.remove(&k);
            }
        }
        pages.clock += 1;
        let used = pages.clock;
        let page = Page {
            bases: Arc::clone(&bases),
            used,
        };
        pages.map.insert(key, page);
        Ok(bases)
    }
}

/// The first 8 hex digits of a digest, enough to tell two apart in a message.
pub(super) fn short_hex(bytes: &[u8]) -> String {
    format!("{}...", &hex(bytes)[..8])
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cram::header::SqLine;

    /// A FASTA of one sequence of `len` bases in lines of `width` ending in `eol`, its
    /// `.fai` as `samtools faidx` writes it, and the bases uppercased.
    fn fasta(dir: &Path, len: usize, width: usize, eol: &str) -> (PathBuf, Vec<u8>) {
        let mut state = 7u64;
        let bases: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"ACGTNacgtn"[(state >> 33) as usize % 10]
            })
            .collect();
        let mut text = b">chr1 test\n".to_vec();
        for line in bases.chunks(width) {
            text.extend_from_slice(line);
            text.extend_from_slice(eol.as_bytes());
        }
        let path = dir.join("ref.fa");
        std::fs::write(&path, &text).unwrap();
        let fai = format!("chr1\t{len}\t11\t{width}\t{}\n", width + eol.len());
        std::fs::write(dir.join("ref.fa.fai"), fai).unwrap();
        (path, bases.to_ascii_uppercase())
    }

    fn header(len: usize, m5: Option<[u8; 16]>) -> SamHeader {
        SamHeader {
            references: vec![SqLine {
                name: "chr1".into(),
                length: len as i64,
                m5,
            }],
            read_groups: Vec::new(),
        }
    }

    fn cached_bytes(refs: &References) -> usize {
        let pages = refs.pages.lock().unwrap();
        pages.map.values().map(|page| page.bases.len()).sum()
    }

    #[test]
    fn a_thread_never_reads_another_openings_page() {
        let len = 3 * PAGE_BASES;
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (path_a, bases_a) = fasta(dir_a.path(), len, 60, "\n");
        let (path_b, _) = fasta(dir_b.path(), len, 60, "\n");
        // The same layout and .fai, other bases.
        let swapped: Vec<u8> = std::fs::read(&path_b)
            .unwrap()
            .into_iter()
            .map(|b| match b {
                b'A' => b'C',
                b'C' => b'A',
                other => other,
            })
            .collect();
        std::fs::write(&path_b, swapped).unwrap();
        let a = References::open(&path_a, &header(len, None)).unwrap();
        let b = References::open(&path_b, &header(len, None)).unwrap();
        let pos = PAGE_BASES
            + bases_a[PAGE_BASES..]
                .iter()
                .position(|&c| c == b'A')
                .unwrap();
        for _ in 0..2 {
            assert_eq!(a.get(0).unwrap().base(pos).unwrap(), Some(b'A'));
            assert_eq!(b.get(0).unwrap().base(pos).unwrap(), Some(b'C'));
        }
        drop(a);
        let again = References::open(&path_b, &header(len, None)).unwrap();
        assert_eq!(again.get(0).unwrap().base(pos).unwrap(), Some(b'C'));
        assert_eq!(again.get(0).unwrap().base(len).unwrap(), None);
    }

    #[test]
    fn bases_are_read_in_pages_and_the_cache_stays_within_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        // longer than the cache holds, so reading it all must evict
        let len = CRAM_REFERENCE_CACHE_BYTES + 3 * PAGE_BASES + 17;
        for eol in ["\n", "\r\n"] {
            let (path, bases) = fasta(dir.path(), len, 61, eol);
            let m5: [u8; 16] = Md5::digest(&bases).into();
            let refs = References::open(&path, &header(len, Some(m5))).unwrap();
            let seq = refs.get(0).unwrap();
            assert_eq!(seq.len(), len);
            for (start, n) in [
                (0, 10),
                (PAGE_BASES - 3, 7),
                (len - 5, 5),
                (12_345, 200_000),
            ] {
                let got = seq.bases(start, n).unwrap().unwrap();
                assert!(
                    got == bases[start..start + n],
                    "bases {start}+{n} with {eol:?}"
                );
            }
            assert!(seq.bases(len - 5, 6).unwrap().is_none(), "past the end");
            let mut whole = Vec::new();
            assert!(
                seq.for_each_chunk(0, len, |b| whole.extend_from_slice(b))
                    .unwrap()
            );
            assert!(whole == bases);
            let held = cached_bytes(&refs);
            assert!(
                (CRAM_REFERENCE_CACHE_BYTES / 2..=CRAM_REFERENCE_CACHE_BYTES).contains(&held),
                "the cache holds {held} bytes"
            );
        }
    }

    #[test]
    fn a_sequence_is_checked_whole_against_its_m5_and_its_fai_length() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bases) = fasta(dir.path(), 100_000, 60, "\n");
        let mut m5: [u8; 16] = Md5::digest(&bases).into();
        m5[0] ^= 1;
        let refs = References::open(&path, &header(100_000, Some(m5))).unwrap();
        let err = refs.get(0).unwrap_err().to_string();
        assert!(err.contains("does not match the CRAM's M5"), "{err}");

        std::fs::write(dir.path().join("ref.fa.fai"), "chr1\t100001\t11\t60\t61\n").unwrap();
        let refs = References::open(&path, &header(100_001, None)).unwrap();
        let err = refs.get(0).unwrap_err().to_string();
        assert!(err.contains("shorter than its .fai says"), "{err}");
    }
}
