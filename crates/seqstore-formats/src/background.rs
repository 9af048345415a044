//! Work on a stream of bytes, done on a thread of its own so that it overlaps with whatever
//! produces the bytes (decompression, validation) instead of adding to it.

use std::fmt;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

/// Bytes handed to the thread at a time.
pub(crate) const HAND_OVER: usize = 256 << 10;
/// Full buffers that may wait for the thread; the producer blocks beyond.
const QUEUED: usize = 4;

/// What a [`Background`] does with the bytes, in order.
pub trait Work: Send + 'static {
    /// What it makes of all of them.
    type Output: Send + 'static;
    /// Why it refused them; it is given no more bytes after that.
    type Error: Clone + fmt::Debug + Send + Sync + 'static;

    /// Takes the next bytes.
    fn push(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// Ends the bytes.
    fn finish(self) -> Result<Self::Output, Self::Error>;
}

/// A [`Work`] on a thread of its own.
///
/// [`push`](Self::push) copies the bytes into a 256 KiB buffer and hands it over when full: at
/// most four buffers wait, so memory stays at a few MiB whatever the size of the input. The
/// thread starts with the first full buffer (smaller inputs are worked on in place at
/// [`end`](Self::end)); where no thread can be started the work is done in place. Dropped
/// without `end`, it lets its thread end.
pub struct Background<W: Work> {
    buffer: Vec<u8>,
    mode: Mode<W>,
    /// The work's error, as soon as the thread meets it.
    failed: Arc<OnceLock<W::Error>>,
}

enum Mode<W: Work> {
    /// Less than one buffer so far.
    Waiting(W),
    Thread {
        full: SyncSender<Vec<u8>>,
        /// Buffers the thread is done with, to fill again.
        empty: Receiver<Vec<u8>>,
        worker: JoinHandle<Result<W::Output, W::Error>>,
    },
    /// No thread could be started; `None` once the work failed.
    InPlace(Option<W>),
}

impl<W: Work> fmt::Debug for Background<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Waiting(_) => "waiting",
            Mode::Thread { .. } => "thread",
            Mode::InPlace(_) => "in place",
        };
        f.debug_struct("Background")
            .field("buffered", &self.buffer.len())
            .field("mode", &mode)
            .field("failed", &self.failed.get())
            .finish()
    }
}

impl<W: Work> Background<W> {
    /// `work`, not started yet.
    pub fn of(work: W) -> Self {
        Self {
            buffer: Vec::new(),
            mode: Mode::Waiting(work),
            failed: Arc::default(),
        }
    }

    /// Gives the work the next bytes (in order with those before).
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if let Mode::InPlace(work) = &mut self.mode {
                return push_in_place(work, bytes, &self.failed);
            }
            if self.buffer.capacity() == 0 {
                self.buffer = self.spare();
            }
            let take = (HAND_OVER - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == HAND_OVER {
                self.hand_over();
            }
        }
    }

    /// The work's error, once it has met one; it may still be working on bytes pushed before.
    pub fn error(&self) -> Option<&W::Error> {
        self.failed.get()
    }

    /// Ends the bytes and waits for the work's result.
    pub fn end(self) -> Result<W::Output, W::Error> {
        let mut work = match self.mode {
            Mode::Waiting(work) => Some(work),
            Mode::InPlace(work) => work,
            Mode::Thread { full, worker, .. } => {
                if !self.buffer.is_empty() {
                    send(&full, self.buffer);
                }
                drop(full);
                return worker.join().expect("the work's thread does not panic");
            }
        };
        push_in_place(&mut work, &self.buffer, &self.failed);
        match work {
            Some(work) => work.finish(),
            None => Err(self
                .failed
                .get()
                .cloned()
                .expect("set when the work failed")),
        }
    }

    /// An empty buffer: one the thread is done with, or a new one.
    fn spare(&self) -> Vec<u8> {
        let returned = match &self.mode {
            Mode::Thread { empty, .. } => empty.try_recv().ok(),
            _ => None,
        };
        let mut buffer = returned.unwrap_or_else(|| Vec::with_capacity(HAND_OVER));
        buffer.clear();
        buffer
    }

    /// Gives the full buffer to the thread, starting it with the first one.
    fn hand_over(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        if matches!(self.mode, Mode::Waiting(_)) {
            let Mode::Waiting(work) = std::mem::replace(&mut self.mode, Mode::InPlace(None)) else {
                unreachable!("matched above")
            };
            self.mode = start(work, &self.failed);
        }
        match &mut self.mode {
            Mode::Thread { full, .. } => send(full, buffer),
            Mode::InPlace(work) => push_in_place(work, &buffer, &self.failed),
            Mode::Waiting(_) => unreachable!("started above"),
        }
    }
}

/// The work on a thread of its own, or in place when none can be started.
fn start<W: Work>(work: W, failed: &Arc<OnceLock<W::Error>>) -> Mode<W> {
    let (full, queued) = sync_channel::<Vec<u8>>(QUEUED);
    let (done, empty) = sync_channel(QUEUED);
    // The work goes to the thread through this slot, so that it comes back if none starts.
    let slot = Arc::new(std::sync::Mutex::new(Some(work)));
    let (taken, thread_failed) = (Arc::clone(&slot), Arc::clone(failed));
    let spawned = std::thread::Builder::new()
        .name("background-work".to_owned())
        .spawn(move || {
            let mut work = taken.lock().ok().and_then(|mut w| w.take());
            for buffer in queued {
                push_in_place(&mut work, &buffer, &thread_failed);
                // Given back when there is room; otherwise freed.
                let _ = done.try_send(buffer);
            }
            match work {
                Some(work) => work.finish(),
                None => Err(thread_failed
                    .get()
                    .cloned()
                    .expect("set when the work failed")),
            }
        });
    match spawned {
        Ok(worker) => Mode::Thread {
            full,
            empty,
            worker,
        },
        Err(_) => Mode::InPlace(slot.lock().ok().and_then(|mut w| w.take())),
    }
}

/// Pushes `bytes` to the work unless it failed before; keeps its first error in `failed`.
fn push_in_place<W: Work>(work: &mut Option<W>, bytes: &[u8], failed: &OnceLock<W::Error>) {
    if let Some(w) = work
        && let Err(e) = w.push(bytes)
    {
        let _ = failed.set(e);
        *work = None;
    }
}

fn send(full: &SyncSender<Vec<u8>>, buffer: Vec<u8>) {
    full.send(buffer)
        .expect("the work's thread runs until its sender is dropped");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts bytes; refuses the first `!`, saying how many bytes came before it.
    #[derive(Debug, Default)]
    struct Count(u64);

    impl Work for Count {
        type Output = u64;
        type Error = u64;

        fn push(&mut self, bytes: &[u8]) -> Result<(), u64> {
            match bytes.iter().position(|&b| b == b'!') {
                Some(at) => Err(self.0 + at as u64),
                None => {
                    self.0 += bytes.len() as u64;
                    Ok(())
                }
            }
        }

        fn finish(self) -> Result<u64, u64> {
            Ok(self.0)
        }
    }

    #[test]
    fn less_than_a_buffer_needs_no_thread() {
        let mut work = Background::of(Count::default());
        work.push(&[b'a'; HAND_OVER - 1]);
        assert!(matches!(work.mode, Mode::Waiting(_)));
        assert_eq!(work.end(), Ok(HAND_OVER as u64 - 1));
        let mut work = Background::of(Count::default());
        work.push(b"ab!");
        assert_eq!(work.end(), Err(2));
    }

    #[test]
    fn the_first_error_shows_while_pushing_and_at_the_end() {
        let mut bytes = vec![b'a'; 5 * HAND_OVER];
        bytes[HAND_OVER + 10] = b'!';
        bytes[3 * HAND_OVER] = b'!';
        for chunk in [1000, HAND_OVER + 1, bytes.len()] {
            let mut work = Background::of(Count::default());
            for piece in bytes.chunks(chunk) {
                work.push(piece);
            }
            assert!(matches!(work.mode, Mode::Thread { .. }));
            assert_eq!(work.end(), Err(HAND_OVER as u64 + 10), "chunks of {chunk}");
        }
        // The error shows on the producer's side once the thread met it.
        let mut work = Background::of(Count::default());
        work.push(&bytes[..2 * HAND_OVER]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while work.error().is_none() && std::time::Instant::now() < deadline {
            work.push(b"a");
            std::thread::yield_now();
        }
        assert_eq!(work.error(), Some(&(HAND_OVER as u64 + 10)));
    }

    #[test]
    fn a_dropped_background_lets_its_thread_end() {
        let mut work = Background::of(Count::default());
        work.push(&vec![1; 2 * HAND_OVER]);
        let Mode::Thread { worker, .. } = &mut work.mode else {
            panic!("a thread could not be started")
        };
        let worker = std::mem::replace(worker, std::thread::spawn(|| Ok(0)));
        drop(work);
        // The sender went with it: the thread works through what it holds and returns.
        assert_eq!(worker.join().unwrap(), Ok(2 * HAND_OVER as u64));
    }
}
