//! htsget 1.3 tickets for stored BAM, uBAM and CRAM read sets: the byte ranges of the stored
//! file that hold the header, the records of the requested regions and the end-of-file
//! marker, chosen from the read set's `.bai` or `.crai`. A BAI chunk that starts or ends
//! inside a BGZF block gets that block re-encoded from the record boundary, so that the
//! concatenated pieces are a valid file.

use std::ops::Range;

use bytes::Bytes;
use seqstore_formats::slices::{
    self, BGZF_EOF, BGZF_HEADER_LEN, BGZF_MAX_BLOCK, BaiRegions, BamHeaderScan, CRAM_EOF,
    VirtualPosition,
};

use super::tickets::BlockRef;
use super::{Ga4ghCaller, Ga4ghError, denied};
use crate::catalog::{ReadSetFilter, ReadSetRecord, StoreKind};
use crate::ids::{ReadSetId, StoreId};
use crate::vocabulary::{FileType, ReadSetStatus};
use crate::{CoreError, Service};

/// The longest BAM header served (htslib's own limit is 2 GiB; a ticket is not the place).
const MAX_BAM_HEADER: u64 = 64 << 20;

/// The longest CRAM header container served.
const MAX_CRAM_HEADER: u64 = 64 << 20;

/// `.crai` lines read at most (one per slice and reference).
const MAX_CRAI_LINES: usize = 4_000_000;

/// The largest `.bai` or `.crai` read for a ticket.
const MAX_INDEX_BYTES: u64 = 512 << 20;

/// Pieces in one ticket at most.
const MAX_PARTS: usize = 10_000;

/// Regions in one request at most.
pub const MAX_REGIONS: usize = 1_000;

/// Chunks this close (in stored bytes) are served as one piece, with the records between.
const MERGE_GAP: u64 = 256 << 10;

/// BAM pieces per ticket at most: each may need two re-compressed blocks inline (about 87 KB
/// of base64 each), so this bounds a ticket's size. More chunks are joined across their
/// smallest gaps.
const MAX_CHUNKS: usize = 64;

/// What an htsget reads request names, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadsFormat {
    /// BAM (uBAM read sets too).
    Bam,
    /// CRAM.
    Cram,
}

impl ReadsFormat {
    /// As htsget spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadsFormat::Bam => "BAM",
            ReadsFormat::Cram => "CRAM",
        }
    }

    fn serves(self, file_type: FileType) -> bool {
        match self {
            ReadsFormat::Bam => matches!(file_type, FileType::Bam | FileType::Ubam),
            ReadsFormat::Cram => file_type == FileType::Cram,
        }
    }
}

/// Which part of the file a piece (or the whole request) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The header (and, in a header-only ticket, the end-of-file marker).
    Header,
    /// Records and the end-of-file marker.
    Body,
}

/// One region of a request: a reference by name (`*`: unplaced reads) and 0-based,
/// end-exclusive bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Reference name as in the file's header, or `*`.
    pub reference_name: String,
    /// First base (0-based); `None`: the reference's start.
    pub start: Option<u64>,
    /// Base after the last (0-based); `None`: the reference's end.
    pub end: Option<u64>,
}

/// A reads request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadsRequest {
    /// The format asked for.
    pub format: ReadsFormat,
    /// `Some(Header)`: the header only.
    pub class: Option<Class>,
    /// The regions; empty: every record.
    pub regions: Vec<Region>,
}

/// One piece of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes given inline (a `data:` URL).
    Data {
        /// The bytes.
        bytes: Bytes,
        /// What they are; `None` when they mix header and records.
        class: Option<Class>,
    },
    /// A byte range of the stored file.
    Range {
        /// The range.
        range: Range<u64>,
        /// What it is; `None` when it mixes header and records.
        class: Option<Class>,
    },
}

/// A ticket: the pieces whose concatenation is the answer, and the file they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The format of the concatenation.
    pub format: ReadsFormat,
    /// What the ticket's URLs may read.
    pub block: BlockRef,
    /// In order.
    pub parts: Vec<Part>,
}

impl Service {
    /// The ticket for `request` on read set `id` (an id, or the name of ACTIVE read sets) of
    /// sequence store `store_id`, with URLs valid until `expires` (Unix seconds).
    pub async fn htsget_ticket(
        &self,
        caller: &Ga4ghCaller,
        store_id: &StoreId,
        id: &str,
        request: &ReadsRequest,
        expires: u64,
    ) -> Result<Ticket, Ga4ghError> {
        let r = self.reads_read_set(store_id, id, request.format).await?;
        let file = r.source1_name.clone().unwrap_or_default();
        let key = self.read_set_blob_key(&r, &file)?;
        let readable = self
            .ga4gh_may_read(
                caller,
                StoreKind::Sequence,
                &r.account_id,
                &r.sequence_store_id,
                key.as_str(),
            )
            .await?;
        if !readable {
            return Err(denied(caller, &format!("read set {}", r.id)));
        }
        if r.status != ReadSetStatus::Active {
            return Err(Ga4ghError::InvalidInput(format!(
                "read set {} is {}: activate it (StartReadSetActivationJob) to read it",
                r.id, r.status
            )));
        }
        let file_reader = StoredFile {
            service: self,
            key,
            size: r.source1_size.unwrap_or(0).max(0) as u64,
        };
        if request.class.is_none() && request.regions.is_empty() {
            // Every record: the file as it is.
            return Ok(Ticket {
                format: request.format,
                parts: vec![Part::Range {
                    range: 0..file_reader.size,
                    class: None,
                }],
                block: block_ref(&r, file, expires),
            });
        }
        let index = match (&r.index_name, r.index_size) {
            (Some(name), Some(size)) if size > 0 => {
                if size as u64 > MAX_INDEX_BYTES {
                    return Err(too_big("the read set's index"));
                }
                let key = self.read_set_blob_key(&r, name)?;
                Some(file_reader.service.blob_bytes(&key, 0..size as u64).await?)
            }
            _ => None,
        };
        let parts = match request.format {
            ReadsFormat::Bam => bam_parts(&file_reader, index, request).await?,
            ReadsFormat::Cram => cram_parts(&file_reader, index, request).await?,
        };
        if parts.len() > MAX_PARTS {
            return Err(Ga4ghError::InvalidInput(format!(
                "the answer would take over {MAX_PARTS} pieces: ask for fewer or larger regions"
            )));
        }
        Ok(Ticket {
            format: request.format,
            block: block_ref(&r, file, expires),
            parts,
        })
    }

    /// The read set `id` names in the store: by id, or by name among ACTIVE read sets,
    /// `format` choosing between a BAM (or uBAM) and a CRAM of one name.
    async fn reads_read_set(
        &self,
        store_id: &StoreId,
        id: &str,
        format: ReadsFormat,
    ) -> Result<ReadSetRecord, Ga4ghError> {
        let owner = self
            .catalog
            .sequence_store_owner(store_id)
            .await?
            .ok_or_else(|| Ga4ghError::NotFound(format!("no sequence store {store_id}")))?;
        let unsupported = |r: &ReadSetRecord| {
            Ga4ghError::UnsupportedFormat(format!(
                "read set {} is {}; ask for format={}",
                r.id,
                r.file_type,
                if r.file_type == FileType::Cram {
                    "CRAM"
                } else {
                    "BAM"
                }
            ))
        };
        let by_id = if id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit()) {
            self.catalog
                .read_set(&owner, store_id, &ReadSetId::from(id))
                .await?
                .filter(|r| r.status.is_listed())
        } else {
            None
        };
        if let Some(r) = by_id {
            return match r.file_type {
                FileType::Fastq => Err(Ga4ghError::UnsupportedFormat(format!(
                    "read set {} is FASTQ: htsget serves BAM and CRAM read sets",
                    r.id
                ))),
                t if format.serves(t) => Ok(r),
                _ => Err(unsupported(&r)),
            };
        }
        let filter = ReadSetFilter {
            name: Some(id.to_owned()),
            status: Some(ReadSetStatus::Active),
            ..ReadSetFilter::default()
        };
        let named = self
            .catalog
            .list_read_sets(&owner, store_id, &filter, None, 100)
            .await?;
        let (fitting, other): (Vec<_>, Vec<_>) =
            named.into_iter().partition(|r| format.serves(r.file_type));
        match fitting.as_slice() {
            [r] => Ok(r.clone()),
            [] => match other.first() {
                Some(r) => Err(unsupported(r)),
                None => Err(Ga4ghError::NotFound(format!(
                    "no read set {id} in sequence store {store_id}"
                ))),
            },
            many => Err(Ga4ghError::InvalidInput(format!(
                "{} ACTIVE {} read sets are named {id}: ask for one by id ({})",
                many.len(),
                format.as_str(),
                many.iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn blob_bytes(
        &self,
        key: &seqstore_blob::BlobKey,
        range: Range<u64>,
    ) -> Result<Bytes, Ga4ghError> {
        self.blobs
            .get_range(key, range)
            .await
            .map_err(|e| CoreError::storage(format!("reading {key}"))(e).into())
    }
}

fn block_ref(r: &ReadSetRecord, file: String, expires: u64) -> BlockRef {
    BlockRef {
        store_id: r.sequence_store_id.clone(),
        read_set_id: r.id.clone(),
        file,
        expires,
    }
}

fn too_big(what: &str) -> Ga4ghError {
    Ga4ghError::Core(CoreError::NotSupported(format!(
        "{what} is too large to serve through htsget; read the file through the S3 endpoint"
    )))
}

/// The stored file a ticket is cut from.
struct StoredFile<'a> {
    service: &'a Service,
    key: seqstore_blob::BlobKey,
    size: u64,
}

impl StoredFile<'_> {
    async fn bytes(&self, range: Range<u64>) -> Result<Bytes, Ga4ghError> {
        let range = range.start.min(self.size)..range.end.min(self.size);
        self.service.blob_bytes(&self.key, range).await
    }

    /// The BGZF block at `offset`: its size and data.
    async fn block(&self, offset: u64) -> Result<(u64, Vec<u8>), Ga4ghError> {
        let damaged = |e: &dyn std::fmt::Display| {
            Ga4ghError::Core(CoreError::Unavailable(format!(
                "the stored file is damaged at byte {offset} ({e}); run seqstore fsck"
            )))
        };
        let frame = self.bytes(offset..offset + BGZF_MAX_BLOCK as u64).await?;
        let size = slices::bgzf_block_size(&frame[..frame.len().min(BGZF_HEADER_LEN)])
            .map_err(|e| damaged(&e))?;
        if frame.len() < size {
            return Err(damaged(&"the file ends inside the block"));
        }
        let data = slices::inflate_bgzf_block(&frame[..size]).map_err(|e| damaged(&e))?;
        Ok((size as u64, data))
    }

    /// The end-of-file marker: the file's own, or `eof` when the file lacks it; and where
    /// the bytes before it end.
    async fn eof(&self, eof: &'static [u8]) -> Result<(u64, Part), Ga4ghError> {
        let len = eof.len() as u64;
        if self.size >= len && self.bytes(self.size - len..self.size).await? == eof {
            let start = self.size - len;
            let part = Part::Range {
                range: start..self.size,
                class: Some(Class::Body),
            };
            return Ok((start, part));
        }
        let part = Part::Data {
            bytes: Bytes::from_static(eof),
            class: Some(Class::Body),
        };
        Ok((self.size, part))
    }

    /// The pieces holding the data between two virtual positions: whole blocks as ranges,
    /// a block entered or left in its middle as a new block of just the wanted data.
    async fn virtual_parts(
        &self,
        from: VirtualPosition,
        to: VirtualPosition,
        class: Class,
        parts: &mut Vec<Part>,
    ) -> Result<(), Ga4ghError> {
        if to <= from {
            return Ok(());
        }
        // Raw data for now: `compress` makes BGZF blocks of it.
        let data = |bytes: Vec<u8>| Part::Data {
            bytes: Bytes::from(bytes),
            class: Some(class),
        };
        let cut = |data: &[u8], range: Range<usize>| -> Result<Vec<u8>, Ga4ghError> {
            data.get(range).map(<[u8]>::to_vec).ok_or_else(|| {
                Ga4ghError::Core(CoreError::Unavailable(
                    "the index points past a block's data; run seqstore fsck".into(),
                ))
            })
        };
        if from.block == to.block {
            let (_, block) = self.block(from.block).await?;
            parts.push(data(cut(
                &block,
                usize::from(from.within)..usize::from(to.within),
            )?));
            return Ok(());
        }
        let mut whole_from = from.block;
        if from.within > 0 {
            let (size, block) = self.block(from.block).await?;
            parts.push(data(cut(&block, usize::from(from.within)..block.len())?));
            whole_from += size;
        }
        if whole_from < to.block {
            parts.push(Part::Range {
                range: whole_from..to.block,
                class: Some(class),
            });
        }
        if to.within > 0 {
            let (_, block) = self.block(to.block).await?;
            parts.push(data(cut(&block, 0..usize::from(to.within))?));
        }
        Ok(())
    }
}

/// The pieces of a BAM ticket.
async fn bam_parts(
    file: &StoredFile<'_>,
    bai: Option<Bytes>,
    request: &ReadsRequest,
) -> Result<Vec<Part>, Ga4ghError> {
    let (header_end, references) = bam_header(file).await?;
    let (eof_start, eof) = file.eof(&BGZF_EOF).await?;
    let records_end = VirtualPosition {
        block: eof_start,
        within: 0,
    };
    let mut parts = Vec::new();
    let start = VirtualPosition {
        block: 0,
        within: 0,
    };
    file.virtual_parts(start, header_end, Class::Header, &mut parts)
        .await?;
    if request.class == Some(Class::Header) {
        let mut parts = compress(parts).await?;
        parts.push(eof);
        return Ok(header_only(parts));
    }
    let index = match bai {
        Some(bai) => Some(blocking(move || BaiRegions::read(&bai)).await?),
        None => None,
    };
    let mut chunks = Vec::new();
    for region in &request.regions {
        let placed_end = index
            .as_ref()
            .and_then(BaiRegions::placed_end)
            .unwrap_or(header_end)
            .max(header_end);
        if region.reference_name == "*" {
            chunks.push((placed_end, records_end));
            continue;
        }
        let id = reference_id(&references, &region.reference_name)?;
        // Without an index (a uBAM) every record is unplaced: none is on a reference.
        if let Some(index) = &index {
            let found = index.chunks(id, region.start, region.end);
            chunks.extend(found.map_err(Ga4ghError::InvalidRange)?);
        }
    }
    for (from, to) in merge(chunks, MAX_CHUNKS) {
        file.virtual_parts(from, to, Class::Body, &mut parts)
            .await?;
    }
    let mut parts = compress(parts).await?;
    parts.push(eof);
    Ok(parts)
}

/// The pieces with their inline data compressed into BGZF blocks, off the async threads.
async fn compress(parts: Vec<Part>) -> Result<Vec<Part>, Ga4ghError> {
    blocking(move || {
        Ok(parts
            .into_iter()
            .map(|part| match part {
                Part::Data { bytes, class } => Part::Data {
                    bytes: Bytes::from(slices::bgzf_blocks(&bytes)),
                    class,
                },
                range => range,
            })
            .collect())
    })
    .await
}

/// Runs CPU work (index parsing, compression) on a blocking thread; its error means a stored
/// file is damaged.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, Ga4ghError> {
    let damaged =
        |e: String| Ga4ghError::Core(CoreError::Unavailable(format!("{e}; run seqstore fsck")));
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| damaged(format!("a blocking task failed: {e}")))?
        .map_err(damaged)
}

/// Where a BAM's header ends, and its reference names.
async fn bam_header(file: &StoredFile<'_>) -> Result<(VirtualPosition, Vec<String>), Ga4ghError> {
    let mut data = Vec::new();
    let mut blocks: Vec<(u64, usize)> = Vec::new(); // offset and data length of each block read
    let mut offset = 0;
    loop {
        match slices::scan_bam_header(&data, MAX_BAM_HEADER) {
            Ok(BamHeaderScan::Done { len, references }) => {
                let mut at = 0u64;
                for &(block, length) in &blocks {
                    let within = len - at;
                    if within < length as u64 {
                        let end = VirtualPosition {
                            block,
                            within: within as u16,
                        };
                        return Ok((end, references));
                    }
                    at += length as u64;
                }
                let end = VirtualPosition {
                    block: offset,
                    within: 0,
                };
                return Ok((end, references));
            }
            Ok(BamHeaderScan::NeedMore(_)) if offset < file.size => {
                let (size, block) = file.block(offset).await?;
                blocks.push((offset, block.len()));
                data.extend_from_slice(&block);
                offset += size;
            }
            Ok(BamHeaderScan::NeedMore(_)) => {
                return Err(Ga4ghError::Core(CoreError::Unavailable(
                    "the stored BAM ends inside its header; run seqstore fsck".into(),
                )));
            }
            Err(e) => return Err(too_big(&e)),
        }
    }
}

/// The pieces of a CRAM ticket.
async fn cram_parts(
    file: &StoredFile<'_>,
    crai: Option<Bytes>,
    request: &ReadsRequest,
) -> Result<Vec<Part>, Ga4ghError> {
    let (eof_start, eof) = file.eof(&CRAM_EOF).await?;
    let lines = match crai {
        Some(crai) => blocking(move || slices::read_crai(&crai, MAX_CRAI_LINES)).await?,
        None => Vec::new(),
    };
    let mut containers: Vec<u64> = lines.iter().map(|l| l.container_offset).collect();
    containers.sort_unstable();
    containers.dedup();
    let header_end = containers.first().copied().unwrap_or(eof_start);
    if header_end > MAX_CRAM_HEADER || header_end > eof_start {
        return Err(too_big("the CRAM header"));
    }
    let mut parts = vec![Part::Range {
        range: 0..header_end,
        class: Some(Class::Header),
    }];
    if request.class == Some(Class::Header) {
        parts.push(eof);
        return Ok(header_only(parts));
    }
    let head = file.bytes(0..header_end).await?;
    let references = slices::cram_reference_names(&head)
        .map_err(|e| Ga4ghError::Core(CoreError::Unavailable(format!("{e}; run seqstore fsck"))))?;
    let mut wanted = Vec::new();
    for region in &request.regions {
        let id = match region.reference_name.as_str() {
            "*" => -1,
            name => i32::try_from(reference_id(&references, name)?).unwrap_or(i32::MAX),
        };
        // `.crai` coordinates are 1-based and inclusive.
        let (first, last) = (
            region.start.map_or(i64::MIN, |s| s as i64 + 1),
            region.end.map_or(i64::MAX, |e| e as i64),
        );
        for line in lines.iter().filter(|l| l.ref_id == id) {
            let overlaps =
                id == -1 || (line.start <= last && line.start.saturating_add(line.span) > first);
            if overlaps {
                wanted.push(line.container_offset);
            }
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut ranges: Vec<Range<u64>> = Vec::new();
    for offset in wanted {
        let next = containers
            .get(containers.partition_point(|&c| c <= offset))
            .copied()
            .unwrap_or(eof_start);
        match ranges.last_mut() {
            Some(last) if last.end == offset => last.end = next,
            _ => ranges.push(offset..next),
        }
    }
    parts.extend(ranges.into_iter().map(|range| Part::Range {
        range,
        class: Some(Class::Body),
    }));
    parts.push(eof);
    Ok(parts)
}

/// A header-only ticket: every piece, the end-of-file marker included, is of class header.
fn header_only(parts: Vec<Part>) -> Vec<Part> {
    parts
        .into_iter()
        .map(|part| match part {
            Part::Data { bytes, .. } => Part::Data {
                bytes,
                class: Some(Class::Header),
            },
            Part::Range { range, .. } => Part::Range {
                range,
                class: Some(Class::Header),
            },
        })
        .collect()
}

fn reference_id(references: &[String], name: &str) -> Result<usize, Ga4ghError> {
    references
        .iter()
        .position(|r| r == name)
        .ok_or_else(|| Ga4ghError::NotFound(format!("the file's header has no reference {name}")))
}

/// Chunks in file order, overlapping or close ones joined, then joined across their smallest
/// gaps until at most `max` are left. What lies between two chunks is whole records, so a
/// joined chunk is still a run of whole records.
fn merge(
    mut chunks: Vec<(VirtualPosition, VirtualPosition)>,
    max: usize,
) -> Vec<(VirtualPosition, VirtualPosition)> {
    chunks.retain(|(from, to)| from < to);
    chunks.sort_unstable();
    let join = |chunks: Vec<(VirtualPosition, VirtualPosition)>, gap: u64| {
        let mut merged: Vec<(VirtualPosition, VirtualPosition)> = Vec::new();
        for (from, to) in chunks {
            match merged.last_mut() {
                Some(last) if from.block <= last.1.block.saturating_add(gap) => {
                    last.1 = last.1.max(to);
                }
                _ => merged.push((from, to)),
            }
        }
        merged
    };
    let merged = join(chunks, MERGE_GAP);
    if merged.len() <= max.max(1) {
        return merged;
    }
    let mut gaps: Vec<u64> = merged
        .windows(2)
        .map(|pair| pair[1].0.block - pair[0].1.block)
        .collect();
    gaps.sort_unstable();
    // Joining every gap up to the (n - max)-th smallest leaves at most `max` chunks.
    join(merged.clone(), gaps[merged.len() - max.max(1) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(block: u64, within: u16) -> VirtualPosition {
        VirtualPosition { block, within }
    }

    #[test]
    fn chunks_merge_when_they_overlap_or_lie_close() {
        let far = MERGE_GAP + 1_000_000;
        let chunks = vec![
            (v(far, 5), v(far + 10, 0)),
            (v(100, 0), v(200, 3)),
            (v(150, 0), v(180, 0)),
            (v(200, 3), v(300, 0)),
            (v(400, 0), v(400, 0)),
        ];
        let merged = merge(chunks.clone(), 10);
        assert_eq!(
            merged,
            [(v(100, 0), v(300, 0)), (v(far, 5), v(far + 10, 0))]
        );
        assert_eq!(merge(chunks, 1), [(v(100, 0), v(far + 10, 0))]);
    }

    #[test]
    fn many_chunks_are_joined_across_their_smallest_gaps() {
        let step = MERGE_GAP * 10;
        // Chunks at 0, step, 2 step, 3 step, then (a wider gap) 5 step, 6 step, ...
        let chunks: Vec<_> = (0..10u64)
            .map(|i| {
                let at = i * step + if i > 3 { step } else { 0 };
                (v(at, 0), v(at + 10, 0))
            })
            .collect();
        assert_eq!(merge(chunks.clone(), 10).len(), 10);
        let two = merge(chunks, 2);
        assert_eq!(
            two,
            [
                (v(0, 0), v(3 * step + 10, 0)),
                (v(5 * step, 0), v(10 * step + 10, 0))
            ]
        );
    }
}
