//! Streaming inflate of consecutive gzip members, for what is not `bgzip` blocks.
//!
//! ISA-L's igzip when the build found it (crate `seqstore-isal`; each member's header is read
//! here), zlib-rs otherwise; both check every member's header, CRC32 and ISIZE and give the
//! same text.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;
use seqstore_isal::MemberBody;

use super::header::HeaderReader;
use super::{SinkWriter, TextSink};

/// Text inflated per ISA-L call, handed to the consumer at once.
const OUT_LEN: usize = 256 * 1024;

/// Inflates consecutive gzip members into a [`SinkWriter`].
#[derive(Debug)]
pub(super) enum Members<S: TextSink> {
    Isal {
        /// Reading a member's header; `None` while ISA-L inflates what follows it.
        header: Option<HeaderReader>,
        body: MemberBody,
        out: Box<[u8]>,
        writer: SinkWriter<S>,
        /// Whether bytes of a member that has not ended were taken.
        in_member: bool,
    },
    Zlib(Box<MultiGzDecoder<SinkWriter<S>>>),
}

impl<S: TextSink> Members<S> {
    /// ISA-L when this build has it, zlib-rs otherwise.
    pub(super) fn new(writer: SinkWriter<S>) -> Self {
        match MemberBody::new() {
            Some(body) => Self::Isal {
                header: Some(HeaderReader::new()),
                body,
                out: vec![0; OUT_LEN].into_boxed_slice(),
                writer,
                in_member: false,
            },
            None => Self::zlib(writer),
        }
    }

    pub(super) fn zlib(writer: SinkWriter<S>) -> Self {
        Self::Zlib(Box::new(MultiGzDecoder::new(writer)))
    }

    /// Inflates a prefix of a non-empty `compressed`; returns how many bytes it took (> 0).
    pub(super) fn write(&mut self, compressed: &[u8]) -> io::Result<usize> {
        let taken = match self {
            Self::Zlib(decoder) => decoder.write(compressed)?,
            Self::Isal {
                header,
                body,
                out,
                writer,
                in_member,
            } => match header {
                Some(reader) => {
                    let (taken, done) = reader.read(compressed)?;
                    *in_member = true;
                    if done {
                        *header = None;
                    }
                    taken
                }
                None => loop {
                    let step = body
                        .inflate(compressed, out)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    writer.write_all(&out[..step.produced])?;
                    if step.member_end {
                        body.next_member();
                        *header = Some(HeaderReader::new());
                        *in_member = false;
                    }
                    if step.taken > 0 || (step.produced == 0 && !step.member_end) {
                        break step.taken;
                    }
                },
            },
        };
        if taken == 0 {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "decoder stalled"));
        }
        Ok(taken)
    }

    /// Checks that the last member is complete.
    pub(super) fn try_finish(&mut self) -> io::Result<()> {
        match self {
            Self::Zlib(decoder) => decoder.try_finish(),
            Self::Isal {
                in_member: true, ..
            } => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the last gzip member ends before its trailer",
            )),
            Self::Isal { .. } => Ok(()),
        }
    }

    /// The writer back, after [`Members::try_finish`].
    pub(super) fn finish(self) -> io::Result<SinkWriter<S>> {
        match self {
            Self::Zlib(decoder) => decoder.finish(),
            Self::Isal { writer, .. } => Ok(writer),
        }
    }

    /// The consumer's error, if it refused the text.
    pub(super) fn sink_error(&mut self) -> Option<S::Error> {
        match self {
            Self::Zlib(decoder) => decoder.get_mut().error.take(),
            Self::Isal { writer, .. } => writer.error.take(),
        }
    }
}
