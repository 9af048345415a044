//! The alignment section: records cut out of the decompressed stream (across BGZF blocks),
//! checked beyond their structure, counted, formatted as SAM text and indexed.

use noodles_bgzf::VirtualPosition;
use noodles_core::Position;
use noodles_csi::binning_index::Indexer;
use noodles_csi::binning_index::index::reference_sequence::bin::Chunk;
use noodles_csi::binning_index::index::reference_sequence::index::LinearIndex;

use super::BamKind;
use super::error::{BamError, Locus, RecordProblem};
use super::header::Reference;
use crate::sam_text::{BamRecord, FIXED_LEN, RecordError, write_bam_record};

use crate::limits::MAX_BAM_RECORD_BYTES as MAX_RECORD_LEN;

/// FLAG bits (SAM v1 §1.4).
const UNMAPPED: u16 = 0x4;
const SECONDARY_OR_SUPPLEMENTARY: u16 = 0x900;

/// Where an output BGZF block holding `data` starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub(super) struct BlockPlace {
    pub(super) start: u64,
    pub(super) len: u64,
}

impl BlockPlace {
    /// The virtual position of byte `offset` of the block's data; the end of the data is the
    /// start of the next block, as htslib's `bgzf_tell` reports it.
    fn virtual_position(self, offset: usize, data_len: usize) -> VirtualPosition {
        let (c, u) = if offset == data_len {
            (self.start + self.len, 0)
        } else {
            (self.start, offset as u16)
        };
        VirtualPosition::new(c, u).expect("positions stay below 2^48")
    }
}

/// Record state across blocks.
pub(super) struct Records {
    kind: BamKind,
    names: Vec<Vec<u8>>,
    /// The bytes of a record that continues into the next block.
    carry: Vec<u8>,
    carry_start: VirtualPosition,
    /// Records seen, the current one included.
    number: u64,
    pub(super) read_count: u64,
    pub(super) base_count: u64,
    /// (reference id as u32, so unplaced sorts last; 0-based position) of the last record.
    last: Option<(u32, i32)>,
    indexer: Option<Indexer<LinearIndex>>,
}

impl Records {
    pub(super) fn new(kind: BamKind, references: &[Reference], index: bool) -> Self {
        Self {
            kind,
            names: references.iter().map(|r| r.name.clone()).collect(),
            carry: Vec::new(),
            carry_start: VirtualPosition::default(),
            number: 0,
            read_count: 0,
            base_count: 0,
            last: None,
            indexer: index.then(Indexer::default),
        }
    }

    /// Takes the next decompressed bytes (the data of the output block at `place`) and
    /// appends the SAM text of every record they complete to `text`.
    pub(super) fn push(
        &mut self,
        data: &[u8],
        place: BlockPlace,
        text: &mut Vec<u8>,
    ) -> Result<(), BamError> {
        let mut at = 0;
        if !self.carry.is_empty() {
            let mut carry = std::mem::take(&mut self.carry);
            let result = self.continue_carry(&mut carry, data, &mut at, place, text);
            self.carry = carry;
            result?;
        }
        while at < data.len() {
            let rest = &data[at..];
            let total = match rest.first_chunk::<4>() {
                Some(&size) => self.record_len(size)?,
                None => usize::MAX,
            };
            if rest.len() < total {
                self.carry_start = place.virtual_position(at, data.len());
                self.carry.extend_from_slice(rest);
                break;
            }
            let start = place.virtual_position(at, data.len());
            at += total;
            let end = place.virtual_position(at, data.len());
            self.record(&rest[4..total], start, end, text)?;
        }
        Ok(())
    }

    /// Completes the carried record with the first bytes of `data` when they suffice.
    fn continue_carry(
        &mut self,
        carry: &mut Vec<u8>,
        data: &[u8],
        at: &mut usize,
        place: BlockPlace,
        text: &mut Vec<u8>,
    ) -> Result<(), BamError> {
        if carry.len() < 4 {
            let n = (4 - carry.len()).min(data.len());
            carry.extend_from_slice(&data[..n]);
            *at = n;
            if carry.len() < 4 {
                return Ok(());
            }
        }
        let total = self.record_len(carry[..4].try_into().expect("4 bytes"))?;
        let n = (total - carry.len()).min(data.len() - *at);
        carry.extend_from_slice(&data[*at..*at + n]);
        *at += n;
        if carry.len() == total {
            let end = place.virtual_position(*at, data.len());
            self.record(&carry[4..], self.carry_start, end, text)?;
            carry.clear();
        }
        Ok(())
    }

    /// `4 + block_size`, once `block_size` is checked.
    fn record_len(&self, block_size: [u8; 4]) -> Result<usize, BamError> {
        let size = u32::from_le_bytes(block_size);
        if (size as usize) < FIXED_LEN || size > MAX_RECORD_LEN {
            return Err(self.error_next(RecordProblem::InvalidBlockSize(size)));
        }
        Ok(4 + size as usize)
    }

    fn error_next(&self, problem: RecordProblem) -> BamError {
        BamError::Record {
            number: self.number + 1,
            problem,
        }
    }

    /// The end of the data: nothing may be left half-read.
    pub(super) fn finish(self) -> Result<(u64, u64, Option<Vec<u8>>), BamError> {
        if !self.carry.is_empty() {
            return Err(self.error_next(RecordProblem::Truncated));
        }
        let index = self.indexer.map(|indexer| {
            let index = indexer.build(self.names.len());
            let mut writer = noodles_bam::bai::io::Writer::new(Vec::new());
            writer
                .write_index(&index)
                .expect("writing to a Vec cannot fail");
            writer.into_inner()
        });
        Ok((self.read_count, self.base_count, index))
    }

    fn record(
        &mut self,
        bytes: &[u8],
        start: VirtualPosition,
        end: VirtualPosition,
        text: &mut Vec<u8>,
    ) -> Result<(), BamError> {
        self.number += 1;
        let number = self.number;
        let error = |problem| BamError::Record { number, problem };
        let record = BamRecord::parse(bytes).map_err(|e| error(e.into()))?;
        write_bam_record(text, &record, &self.names).map_err(|e| error(e.into()))?;
        let context = self.check(&record).map_err(error)?;

        if record.flags() & SECONDARY_OR_SUPPLEMENTARY == 0 {
            self.read_count += 1;
            self.base_count += record.sequence_len() as u64;
        }
        if let Some(indexer) = &mut self.indexer {
            indexer
                .add_record(context, Chunk::new(start, end))
                .expect("order and limits were checked");
        }
        Ok(())
    }

    /// Everything but structure: positions, CIGAR, kind, order. Returns the index context.
    fn check(
        &mut self,
        record: &BamRecord<'_>,
    ) -> Result<Option<(usize, Position, Position, bool)>, RecordProblem> {
        let flags = record.flags();
        for (field, id) in [
            ("RNAME", record.reference_sequence_id()),
            ("RNEXT", record.mate_reference_sequence_id()),
        ] {
            if id < -1 {
                let count = self.names.len();
                return Err(RecordError::ReferenceOutOfRange { field, id, count }.into());
            }
        }
        for (field, value) in [
            ("POS", record.position()),
            ("PNEXT", record.mate_position()),
        ] {
            if value < -1 {
                return Err(RecordProblem::InvalidPosition { field, value });
            }
        }
        let mut query_len = 0u64;
        let mut reference_len = 0u64;
        for (op, len) in record.cigar_ops() {
            let len = u64::from(len);
            match op {
                0 | 7 | 8 => {
                    query_len += len;
                    reference_len += len;
                }
                1 | 4 => query_len += len,
                2 | 3 => reference_len += len,
                5 | 6 => {}
                _ => return Err(RecordProblem::InvalidCigarOp(op)),
            }
        }
        let mapped = flags & UNMAPPED == 0;
        let seq = record.sequence_len();
        // htslib `bam_read1` refuses the same records.
        if mapped && record.cigar_ops().len() > 0 && seq > 0 && query_len != seq as u64 {
            return Err(RecordProblem::CigarSequenceMismatch {
                cigar: query_len,
                seq,
            });
        }
        match self.kind {
            BamKind::Unaligned if mapped => Err(RecordProblem::MappedInUnaligned { flag: flags }),
            BamKind::Unaligned => Ok(None),
            BamKind::Aligned => self.check_order(record, mapped, reference_len),
        }
    }

    /// Coordinate order (`samtools sort`): by reference in header order, unplaced last, then
    /// by position. Returns the index context: 1-based start and end of the aligned span.
    fn check_order(
        &mut self,
        record: &BamRecord<'_>,
        mapped: bool,
        reference_len: u64,
    ) -> Result<Option<(usize, Position, Position, bool)>, RecordProblem> {
        let tid = record.reference_sequence_id();
        let pos = record.position();
        let key = (tid as u32, if tid < 0 { 0 } else { pos });
        if let Some(last) = self.last
            && key < last
        {
            return Err(RecordProblem::Unsorted {
                current: self.locus(key),
                previous: self.locus(last),
            });
        }
        self.last = Some(key);
        if tid < 0 || pos < 0 {
            return Ok(None);
        }
        // htslib `bam_endpos`: an unmapped or zero-length alignment covers one base.
        let span = if mapped { reference_len.max(1) } else { 1 };
        let start = i64::from(pos) + 1;
        let end = i64::from(pos) + span as i64;
        const MAX_BAI_POSITION: i64 = 1 << 29;
        if end > MAX_BAI_POSITION {
            return Err(RecordProblem::BeyondIndexLimit(self.locus_at(tid, end)));
        }
        let position = |p: i64| Position::new(p as usize).expect("positive");
        Ok(Some((tid as usize, position(start), position(end), mapped)))
    }

    fn locus(&self, (tid, pos): (u32, i32)) -> Locus {
        if tid == u32::MAX {
            Locus::unplaced()
        } else {
            self.locus_at(tid as i32, i64::from(pos) + 1)
        }
    }

    fn locus_at(&self, tid: i32, position: i64) -> Locus {
        Locus::placed(&self.names[tid as usize], position)
    }
}
