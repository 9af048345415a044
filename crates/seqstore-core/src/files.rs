//! Part-based downloads (spec D.5, E8, E9, E11): every stored file is served in parts of
//! 104 857 600 bytes, optionally narrowed by an HTTP-style byte range within the part.

use crate::CoreError;
use bytes::Bytes;
use futures::stream::BoxStream;
use seqstore_blob::BlobError;
use seqstore_blob::BlobKey;
use seqstore_model::{FileInformation, ReadSetS3Access};
use std::ops::Range;

/// Download part size of every file.
pub const PART_SIZE: u64 = 104_857_600;

/// A stream of stored bytes with its exact length.
pub struct BlobRead {
    /// Number of bytes `stream` yields.
    pub length: u64,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, BlobError>>,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// `files.<file>` of read set and reference metadata: parts, size and the S3 URI of the
/// object behind the store's access point `alias`.
pub(crate) fn file_information(alias: &str, key: &BlobKey, size: i64) -> FileInformation {
    FileInformation {
        total_parts: Some(total_parts(size as u64)),
        part_size: Some(PART_SIZE as i64),
        content_length: Some(size),
        s3_access: Some(ReadSetS3Access {
            s3_uri: Some(format!("s3://{alias}/{key}")),
        }),
    }
}

/// Number of parts of a file of `size` bytes.
pub(crate) fn total_parts(size: u64) -> i32 {
    size.div_ceil(PART_SIZE).max(1) as i32
}

/// The byte range of `part` (1-based) of a file, narrowed by `range` (`bytes=a-b`,
/// `bytes=a-`, `bytes=-n` or a bare `a-b`) relative to the part's start.
pub(crate) fn part_range(
    size: u64,
    part: i32,
    range: Option<&str>,
) -> Result<Range<u64>, CoreError> {
    let parts = total_parts(size);
    if part < 1 || part > parts {
        return Err(CoreError::RangeNotSatisfiable(format!(
            "partNumber {part} is beyond the last part ({parts}) of this file"
        )));
    }
    let start = (part as u64 - 1) * PART_SIZE;
    let len = (size - start).min(PART_SIZE);
    let Some(spec) = range else {
        return Ok(start..start + len);
    };
    let (a, b) = parse_range(spec, len)?;
    Ok(start + a..start + b)
}

/// `[a, b)` within a part of `len` bytes.
fn parse_range(spec: &str, len: u64) -> Result<(u64, u64), CoreError> {
    let bad = || {
        CoreError::invalid(
            "range",
            format!("range '{spec}' is not bytes=a-b, bytes=a- or bytes=-n"),
        )
    };
    let unsatisfiable = || {
        CoreError::RangeNotSatisfiable(format!(
            "range '{spec}' is outside the {len} bytes of this part"
        ))
    };
    let body = spec.trim().strip_prefix("bytes=").unwrap_or(spec.trim());
    let (first, last) = body.split_once('-').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    let (a, b) = match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => return Err(bad()),
        (true, false) => {
            let n = number(last)?;
            if n == 0 {
                return Err(unsatisfiable());
            }
            (len.saturating_sub(n), len)
        }
        (false, true) => (number(first)?, len),
        (false, false) => {
            let (a, b) = (number(first)?, number(last)?);
            if b < a {
                return Err(bad());
            }
            (a, (b + 1).min(len))
        }
    };
    if a >= len {
        return Err(unsatisfiable());
    }
    Ok((a, b))
}

/// MD5 (lowercase hex) of a stored file's bytes: its S3 ETag.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_ranges() {
        let size = PART_SIZE * 2 + 10;
        assert_eq!(total_parts(size), 3);
        assert_eq!(total_parts(1), 1);
        assert_eq!(part_range(size, 1, None).unwrap(), 0..PART_SIZE);
        assert_eq!(part_range(size, 3, None).unwrap(), 2 * PART_SIZE..size);
        assert_eq!(
            part_range(size, 2, Some("bytes=0-99")).unwrap(),
            PART_SIZE..PART_SIZE + 100
        );
        assert_eq!(
            part_range(size, 3, Some("bytes=5-")).unwrap(),
            2 * PART_SIZE + 5..size
        );
        assert_eq!(
            part_range(size, 3, Some("bytes=-4")).unwrap(),
            size - 4..size
        );
        assert_eq!(
            part_range(size, 3, Some("3-100")).unwrap(),
            2 * PART_SIZE + 3..size
        );
        assert!(matches!(
            part_range(size, 4, None),
            Err(CoreError::RangeNotSatisfiable(_))
        ));
        assert!(matches!(
            part_range(size, 0, None),
            Err(CoreError::RangeNotSatisfiable(_))
        ));
        assert!(matches!(
            part_range(size, 3, Some("bytes=10-")),
            Err(CoreError::RangeNotSatisfiable(_))
        ));
        assert!(matches!(
            part_range(size, 3, Some("bytes=-0")),
            Err(CoreError::RangeNotSatisfiable(_))
        ));
        assert!(matches!(
            part_range(size, 1, Some("bytes=9-3")),
            Err(CoreError::Validation { .. })
        ));
        assert!(matches!(
            part_range(size, 1, Some("items=1-2")),
            Err(CoreError::Validation { .. })
        ));
    }
}
