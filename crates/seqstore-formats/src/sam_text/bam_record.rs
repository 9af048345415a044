//! A zero-copy view of one BAM alignment record (SAM v1 §4.2), checked for structure.

use thiserror::Error;

/// Size of the fixed part of a record, after `block_size` (SAM v1 §4.2).
pub const FIXED_LEN: usize = 32;

/// CIGAR operation code of a soft clip (`S`).
const SOFT_CLIP: u32 = 4;

/// Largest CIGAR length htslib moves from a `CG` tag (`bam_tag2cigar`: `CG_len < 1<<29`).
const MAX_CG_LEN: u32 = 1 << 29;

/// Why the bytes of a record are not a well-formed BAM record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Fewer bytes than the fixed part of a record.
    #[error("the record is {len} bytes, shorter than the 32-byte fixed part")]
    TooShort {
        /// Bytes in the record.
        len: usize,
    },
    /// `l_read_name` is 0: not even the terminating NUL.
    #[error("the read name length is 0")]
    EmptyName,
    /// The read name does not end with a NUL byte.
    #[error("the read name is not NUL-terminated")]
    NameNotTerminated,
    /// The read name has a NUL byte before its end.
    #[error("the read name contains a NUL byte")]
    NameHasNul,
    /// A variable-length field runs past the end of the record.
    #[error("{field} runs past the end of the record (block_size too small)")]
    Truncated {
        /// Which field: `read name`, `CIGAR`, `SEQ` or `QUAL`.
        field: &'static str,
    },
    /// `l_seq` does not fit htslib's signed 32-bit length.
    #[error("the sequence length {len} is too large")]
    SequenceTooLong {
        /// The stored `l_seq`.
        len: u32,
    },
    /// An aux field with a type code that is not one of `AcCsSiIfZHB`.
    #[error("tag {} has the invalid type {}", Tag(*tag), crate::message::QuotedByte(*ty))]
    InvalidTagType {
        /// The two tag characters.
        tag: [u8; 2],
        /// The type byte.
        ty: u8,
    },
    /// A `B` array whose element type is not one of `cCsSiIf`.
    #[error("tag {} has the invalid array type {}", Tag(*tag), crate::message::QuotedByte(*subtype))]
    InvalidArrayType {
        /// The two tag characters.
        tag: [u8; 2],
        /// The subtype byte.
        subtype: u8,
    },
    /// An aux value runs past the end of the record.
    #[error("tag {} runs past the end of the record", Tag(*tag))]
    TagTruncated {
        /// The two tag characters.
        tag: [u8; 2],
    },
    /// A `Z` or `H` value without its terminating NUL.
    #[error("tag {} is not NUL-terminated", Tag(*tag))]
    TagNotTerminated {
        /// The two tag characters.
        tag: [u8; 2],
    },
    /// 1 to 3 bytes after the last aux field: too few for another field.
    #[error("{count} stray bytes after the last tag")]
    StrayAuxBytes {
        /// How many.
        count: usize,
    },
    /// A reference id that is not in the header's reference dictionary.
    #[error("{field} reference id {id} is not in the header ({count} references)")]
    ReferenceOutOfRange {
        /// `RNAME` or `RNEXT`.
        field: &'static str,
        /// The stored id.
        id: i32,
        /// References in the header.
        count: usize,
    },
}

/// A tag shown in messages: its two characters, escaped when not printable.
struct Tag([u8; 2]);

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            if b.is_ascii_graphic() {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// One BAM record (the bytes after `block_size`), split into its fields.
///
/// [`parse`](Self::parse) checks that every length-prefixed field fits and that the read name
/// is NUL-terminated; aux values are checked while the record is formatted. Like htslib's
/// `bam_read1`, a placeholder CIGAR `<l_seq>S<n>N` with the real CIGAR in a `CG:B:I` tag
/// (records with more than 65535 operations) shows the `CG` CIGAR and hides the tag.
#[derive(Debug, Clone, Copy)]
pub struct BamRecord<'a> {
    src: &'a [u8],
    name: &'a [u8],
    cigar: &'a [u8],
    seq: &'a [u8],
    qual: &'a [u8],
    aux: &'a [u8],
    /// The `CG` field's byte range in `aux` when its CIGAR replaces the stored one.
    hidden_tag: Option<(usize, usize)>,
}

impl<'a> BamRecord<'a> {
    /// Splits the bytes of one record (without the leading `block_size`) into fields.
    pub fn parse(src: &'a [u8]) -> Result<Self, RecordError> {
        if src.len() < FIXED_LEN {
            return Err(RecordError::TooShort { len: src.len() });
        }
        let l_read_name = usize::from(src[8]);
        let n_cigar = usize::from(u16_at(src, 12));
        let l_seq = u32_at(src, 16);
        if l_read_name == 0 {
            return Err(RecordError::EmptyName);
        }
        if l_seq > i32::MAX as u32 {
            return Err(RecordError::SequenceTooLong { len: l_seq });
        }
        let l_seq = l_seq as usize;

        let mut rest = &src[FIXED_LEN..];
        let name = take(&mut rest, l_read_name, "read name")?;
        let (&last, name) = name.split_last().expect("l_read_name >= 1");
        if last != 0 {
            return Err(RecordError::NameNotTerminated);
        }
        if memchr::memchr(0, name).is_some() {
            return Err(RecordError::NameHasNul);
        }
        let cigar = take(&mut rest, 4 * n_cigar, "CIGAR")?;
        let seq = take(&mut rest, l_seq.div_ceil(2), "SEQ")?;
        let qual = take(&mut rest, l_seq, "QUAL")?;

        let mut record = Self {
            src,
            name,
            cigar,
            seq,
            qual,
            aux: rest,
            hidden_tag: None,
        };
        record.move_cg_cigar()?;
        Ok(record)
    }

    /// htslib `bam_tag2cigar`: take the CIGAR from `CG:B:I`/`CG:B:i` when the stored one is
    /// the `<l_seq>S...` placeholder of a placed record.
    fn move_cg_cigar(&mut self) -> Result<(), RecordError> {
        let Some(&first) = self.cigar.first_chunk::<4>() else {
            return Ok(());
        };
        let first = u32::from_le_bytes(first);
        if self.reference_sequence_id() < 0
            || self.position() < 0
            || first & 0xf != SOFT_CLIP
            || (first >> 4) as usize != self.sequence_len()
        {
            return Ok(());
        }
        let Some(field) = find_tag(self.aux, *b"CG")? else {
            return Ok(());
        };
        let value = &self.aux[field.0 + 3..field.1];
        if self.aux[field.0 + 2] != b'B' || !matches!(value[0], b'I' | b'i') {
            return Ok(());
        }
        let count = u32_at(value, 1);
        if (count as usize) < self.cigar.len() / 4 || count >= MAX_CG_LEN {
            return Ok(());
        }
        self.cigar = &value[5..];
        self.hidden_tag = Some(field);
        Ok(())
    }

    /// The record's bytes, as given to [`parse`](Self::parse).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.src
    }

    /// `refID`: -1 when unplaced.
    pub fn reference_sequence_id(&self) -> i32 {
        i32_at(self.src, 0)
    }

    /// `pos`: 0-based, -1 when unset.
    pub fn position(&self) -> i32 {
        i32_at(self.src, 4)
    }

    /// `mapq`.
    pub fn mapping_quality(&self) -> u8 {
        self.src[9]
    }

    /// `bin` as stored.
    pub fn bin(&self) -> u16 {
        u16_at(self.src, 10)
    }

    /// `flag`.
    pub fn flags(&self) -> u16 {
        u16_at(self.src, 14)
    }

    /// `l_seq`: bases in SEQ (0 when SEQ is `*`).
    pub fn sequence_len(&self) -> usize {
        u32_at(self.src, 16) as usize
    }

    /// `next_refID`: -1 when unset.
    pub fn mate_reference_sequence_id(&self) -> i32 {
        i32_at(self.src, 20)
    }

    /// `next_pos`: 0-based, -1 when unset.
    pub fn mate_position(&self) -> i32 {
        i32_at(self.src, 24)
    }

    /// `tlen`.
    pub fn template_length(&self) -> i32 {
        i32_at(self.src, 28)
    }

    /// The read name without its NUL.
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// The CIGAR as htslib shows it: `(op code, length)` pairs, op codes 0..=8 for `MIDNSHP=X`.
    pub fn cigar_ops(&self) -> impl ExactSizeIterator<Item = (u8, u32)> + 'a {
        self.cigar.chunks_exact(4).map(|op| {
            let op = u32::from_le_bytes(op.try_into().expect("chunks of 4"));
            ((op & 0xf) as u8, op >> 4)
        })
    }

    /// Whether the CIGAR shown comes from a `CG` tag (which is then not shown).
    pub fn has_cg_cigar(&self) -> bool {
        self.hidden_tag.is_some()
    }

    /// SEQ packed two bases a byte (`=ACMGRSVTWYHKDBN`).
    pub fn packed_sequence(&self) -> &'a [u8] {
        self.seq
    }

    /// QUAL as stored (Phred, no offset; 0xFF in the first byte when absent).
    pub fn quality_scores(&self) -> &'a [u8] {
        self.qual
    }

    /// The aux fields as stored, `CG` included.
    pub fn aux(&self) -> &'a [u8] {
        self.aux
    }

    pub(crate) fn raw_cigar(&self) -> &'a [u8] {
        self.cigar
    }

    pub(crate) fn hidden_tag(&self) -> Option<(usize, usize)> {
        self.hidden_tag
    }
}

/// The byte range of the first field with `tag` in `aux`, checking the fields before it.
fn find_tag(aux: &[u8], tag: [u8; 2]) -> Result<Option<(usize, usize)>, RecordError> {
    let mut start = 0;
    while start < aux.len() {
        let end = field_end(aux, start)?;
        if aux[start..start + 2] == tag {
            return Ok(Some((start, end)));
        }
        start = end;
    }
    Ok(None)
}

/// Where the aux field starting at `start` ends.
pub(crate) fn field_end(aux: &[u8], start: usize) -> Result<usize, RecordError> {
    let rest = &aux[start..];
    if rest.len() < 4 {
        return Err(RecordError::StrayAuxBytes { count: rest.len() });
    }
    let tag = [rest[0], rest[1]];
    let value_len = match rest[2] {
        b'A' | b'c' | b'C' => 1,
        b's' | b'S' => 2,
        b'i' | b'I' | b'f' => 4,
        b'Z' | b'H' => match memchr::memchr(0, &rest[3..]) {
            Some(n) => n + 1,
            None => return Err(RecordError::TagNotTerminated { tag }),
        },
        b'B' => {
            let subtype = rest[3];
            let size = array_element_size(subtype)
                .ok_or(RecordError::InvalidArrayType { tag, subtype })?;
            let Some(count) = rest.get(4..8) else {
                return Err(RecordError::TagTruncated { tag });
            };
            let count = u32::from_le_bytes(count.try_into().expect("4 bytes")) as usize;
            5 + count
                .checked_mul(size)
                .ok_or(RecordError::TagTruncated { tag })?
        }
        ty => return Err(RecordError::InvalidTagType { tag, ty }),
    };
    if rest.len() < 3 + value_len {
        return Err(RecordError::TagTruncated { tag });
    }
    Ok(start + 3 + value_len)
}

/// Bytes per element of a `B` array subtype.
pub(crate) fn array_element_size(subtype: u8) -> Option<usize> {
    match subtype {
        b'c' | b'C' => Some(1),
        b's' | b'S' => Some(2),
        b'i' | b'I' | b'f' => Some(4),
        _ => None,
    }
}

fn take<'a>(rest: &mut &'a [u8], len: usize, field: &'static str) -> Result<&'a [u8], RecordError> {
    if rest.len() < len {
        return Err(RecordError::Truncated { field });
    }
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    Ok(head)
}

pub(crate) fn u16_at(src: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([src[at], src[at + 1]])
}

pub(crate) fn u32_at(src: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(src[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn i32_at(src: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(src[at..at + 4].try_into().expect("4 bytes"))
}
