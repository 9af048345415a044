//! Streaming inflate of gzip members with ISA-L's igzip, when the build found the library.
//!
//! [`MemberBody::new`] is `None` in a build without it (see build.rs); callers then use
//! another inflater. The caller reads each member's header (RFC 1952 §2.3) itself: ISA-L
//! 2.30 misreads headers whose FNAME, FEXTRA or FHCRC span two calls. ISA-L inflates the
//! deflate data that follows and checks the trailer's CRC32 and ISIZE.

use std::fmt;

/// What one [`MemberBody::inflate`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes consumed. Bytes past the end of a finished member are not.
    pub taken: usize,
    /// Text bytes written at the start of `out`.
    pub produced: usize,
    /// Whether the member's trailer was read and checked; call [`MemberBody::next_member`]
    /// once the next member's header is read.
    pub member_end: bool,
}

/// Why ISA-L refused the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InflateError(i32);

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ISAL_* codes of igzip_lib.h.
        let what = match self.0 {
            -1 => "invalid deflate block",
            -2 => "invalid deflate symbol",
            -3 => "invalid deflate distance",
            -4 => "invalid gzip header",
            -5 => "unsupported compression method",
            -6 => "CRC32 or ISIZE does not match the text",
            _ => "inflate failed",
        };
        write!(f, "{what} (ISA-L status {})", self.0)
    }
}

impl std::error::Error for InflateError {}

/// The deflate data and trailer of one gzip member at a time, reset between members.
#[derive(Debug)]
pub struct MemberBody {
    #[cfg(isal)]
    state: ffi::State,
    #[cfg(not(isal))]
    never: std::convert::Infallible,
}

impl MemberBody {
    /// An inflater for the data just after a member's header, or `None` when built without
    /// ISA-L.
    pub fn new() -> Option<Self> {
        #[cfg(isal)]
        return Some(Self {
            state: ffi::State::new(),
        });
        #[cfg(not(isal))]
        None
    }

    /// Inflates from `input` into `out`. Makes progress (takes or produces bytes, or ends the
    /// member) unless `input` is empty or `out` is, or the member ended before.
    #[cfg_attr(not(isal), allow(unused_variables))]
    pub fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Progress, InflateError> {
        #[cfg(isal)]
        return self.state.inflate(input, out);
        #[cfg(not(isal))]
        match self.never {}
    }

    /// Starts over for the data of the next member, after its header.
    pub fn next_member(&mut self) {
        #[cfg(isal)]
        self.state.reset();
        #[cfg(not(isal))]
        match self.never {}
    }
}

#[cfg(isal)]
#[allow(unsafe_code)]
mod ffi {
    use std::ffi::c_int;
    use std::fmt;
    use std::ptr::NonNull;

    use super::{InflateError, Progress};

    /// `struct inflate_state`, only ever behind a pointer.
    #[repr(C)]
    struct InflateState {
        _opaque: [u8; 0],
    }

    // csrc/isal_inflate.c
    unsafe extern "C" {
        fn seqstore_isal_new() -> *mut InflateState;
        fn seqstore_isal_free(state: *mut InflateState);
        fn seqstore_isal_reset(state: *mut InflateState);
        fn seqstore_isal_inflate(
            state: *mut InflateState,
            input: *const u8,
            in_len: *mut u32,
            out: *mut u8,
            out_len: *mut u32,
            finished: *mut c_int,
        ) -> c_int;
    }

    /// One `struct inflate_state`, freed on drop.
    pub(super) struct State(NonNull<InflateState>);

    // Owned, used only through `&mut`, and holding no thread-bound data.
    unsafe impl Send for State {}

    impl fmt::Debug for State {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("State")
        }
    }

    impl State {
        pub(super) fn new() -> Self {
            // SAFETY: no arguments; null means out of memory.
            let state = unsafe { seqstore_isal_new() };
            Self(NonNull::new(state).unwrap_or_else(|| {
                std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u64; 4096]>())
            }))
        }

        pub(super) fn reset(&mut self) {
            // SAFETY: the state is live.
            unsafe { seqstore_isal_reset(self.0.as_ptr()) }
        }

        pub(super) fn inflate(
            &mut self,
            input: &[u8],
            out: &mut [u8],
        ) -> Result<Progress, InflateError> {
            let offered = u32::try_from(input.len()).unwrap_or(u32::MAX);
            let room = u32::try_from(out.len()).unwrap_or(u32::MAX);
            let (mut taken, mut produced, mut finished) = (offered, room, 0);
            // SAFETY: the state is live; `input` has `offered` readable bytes and `out` `room`
            // writable ones, borrowed for this call only.
            let status = unsafe {
                seqstore_isal_inflate(
                    self.0.as_ptr(),
                    input.as_ptr(),
                    &mut taken,
                    out.as_mut_ptr(),
                    &mut produced,
                    &mut finished,
                )
            };
            if status < 0 {
                return Err(InflateError(status));
            }
            Ok(Progress {
                taken: taken as usize,
                produced: produced as usize,
                member_end: finished != 0,
            })
        }
    }

    impl Drop for State {
        fn drop(&mut self) {
            // SAFETY: made by seqstore_isal_new and freed only here.
            unsafe { seqstore_isal_free(self.0.as_ptr()) }
        }
    }
}

#[cfg(all(test, isal))]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    /// `text` as a gzip member without its header (flate2 writes 10 bytes: no FNAME).
    fn body(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap().split_off(10)
    }

    /// Inflates `source`, member bodies one after the other, fed `chunk` bytes at a time,
    /// each copied to a buffer of its own, into `room`-byte outputs.
    fn inflate_all(
        source: &[u8],
        chunk: usize,
        room: usize,
    ) -> Result<(Vec<u8>, usize), InflateError> {
        let mut inflater = MemberBody::new().unwrap();
        let (mut text, mut members, mut out) = (Vec::new(), 0, vec![0; room]);
        for piece in source.chunks(chunk) {
            let piece = piece.to_vec();
            let mut piece = piece.as_slice();
            while !piece.is_empty() {
                let step = inflater.inflate(piece, &mut out)?;
                text.extend_from_slice(&out[..step.produced]);
                piece = &piece[step.taken..];
                if step.member_end {
                    inflater.next_member();
                    members += 1;
                }
            }
        }
        Ok((text, members))
    }

    #[test]
    fn members_end_exactly_at_their_trailer_whatever_the_chunks() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let source = [body(&text), body(b""), body(b"last\n")].concat();
        for (chunk, room) in [(1, 7), (3, 1000), (4096, 64), (source.len(), 1 << 20)] {
            let (out, members) = inflate_all(&source, chunk, room).unwrap();
            assert_eq!(members, 3, "chunks of {chunk}");
            assert_eq!(out, [text.as_slice(), b"last\n"].concat());
        }
    }

    #[test]
    fn a_wrong_crc_or_isize_is_refused() {
        let source = body(b"some text\n");
        for from_end in [8, 1] {
            let mut bad = source.clone();
            let at = bad.len() - from_end;
            bad[at] ^= 1;
            for chunk in [1, bad.len()] {
                let error = inflate_all(&bad, chunk, 1024).unwrap_err();
                assert_eq!(error, InflateError(-6), "byte {from_end} from the end");
            }
        }
    }
}

#[cfg(test)]
mod build {
    /// `scripts/test-all` installs libisal-dev and sets SEQSTORE_EXPECT_ISAL, so that CI
    /// cannot silently test the zlib-rs fallback only.
    #[test]
    fn isal_is_built_in_where_the_test_command_expects_it() {
        if std::env::var_os("SEQSTORE_EXPECT_ISAL").is_some() {
            assert!(
                super::MemberBody::new().is_some(),
                "built without ISA-L: is libisal-dev installed? (cargo clean -p seqstore-isal \
                 after installing it)"
            );
        }
    }
}
