//! The memory of one CRAM ingestion, bounded whatever the file claims.
//!
//! Every container in flight (read, decoding, or decoded and waiting to be hashed in file
//! order) holds a [`Meter`] that is charged before its memory is allocated: the raw bytes,
//! the declared sizes of its blocks, its decoded records and its SAM text. The oldest
//! container (the next to be hashed) is charged up to [`CONTAINER_LIMIT`] and never waits,
//! so decoding always progresses; younger containers wait while the others hold more than
//! [`SHARED_LIMIT`]. An ingestion thus holds at most `SHARED_LIMIT + CONTAINER_LIMIT`, and
//! the reference pages it reads (`CRAM_REFERENCE_CACHE_BYTES`): 256 MiB in all.

use std::sync::{Condvar, Mutex, MutexGuard};

use super::error::CramError;

use crate::limits::{
    MAX_CRAM_CONTAINER_MEMORY as CONTAINER_LIMIT, MAX_CRAM_READ_AHEAD_MEMORY as SHARED_LIMIT,
};
/// Charges are taken in steps of this size, so most checks take no lock.
const STEP: usize = 1 << 20;

/// The shared account of one ingestion.
#[derive(Debug)]
pub(super) struct Budget {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    used: usize,
    /// The container hashed next; it never waits.
    oldest: u64,
    /// The ingestion failed: nobody waits any more.
    cancelled: bool,
}

impl Budget {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                used: 0,
                oldest: 1,
                cancelled: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Container `n` is now the next to be hashed.
    pub(super) fn set_oldest(&self, n: u64) {
        self.lock().oldest = n;
        self.changed.notify_all();
    }

    /// The ingestion failed: charges stop waiting, and workers skip what is left.
    pub(super) fn cancel(&self) {
        self.lock().cancelled = true;
        self.changed.notify_all();
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// A meter for container `n` (1-based, in file order); `what` names it in messages.
    pub(super) fn meter(&self, n: u64, what: String) -> Meter<'_> {
        Meter {
            budget: self,
            container: n,
            held: 0,
            what,
        }
    }

    /// Takes `bytes` for `container` when they fit (or it is the oldest, or the ingestion
    /// is cancelled); otherwise waits for that if `wait`, or answers `false`.
    fn take(&self, container: u64, bytes: usize, wait: bool) -> bool {
        let mut state = self.lock();
        loop {
            if state.oldest == container
                || state.cancelled
                || state.used.saturating_add(bytes) <= SHARED_LIMIT
            {
                state.used += bytes;
                return true;
            }
            if !wait {
                return false;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, bytes: usize) {
        if bytes > 0 {
            self.lock().used -= bytes;
            self.changed.notify_all();
        }
    }
}

/// What one container holds of the [`Budget`]; gives it back when dropped.
#[derive(Debug)]
pub(super) struct Meter<'a> {
    budget: &'a Budget,
    container: u64,
    held: usize,
    what: String,
}

impl Meter<'_> {
    /// Makes sure the container may hold `total` bytes in all, waiting for memory if it is
    /// not the oldest; refuses what would take it over [`CONTAINER_LIMIT`].
    pub(super) fn hold(&mut self, total: usize) -> Result<(), CramError> {
        self.grow(total, true).map(drop)
    }

    /// [`Meter::hold`] without waiting: `false` when the memory is not there now.
    pub(super) fn try_hold(&mut self, total: usize) -> Result<bool, CramError> {
        self.grow(total, false)
    }

    fn grow(&mut self, total: usize, wait: bool) -> Result<bool, CramError> {
        if total <= self.held {
            return Ok(true);
        }
        if total > CONTAINER_LIMIT {
            return Err(CramError::Limit(format!(
                "{} needs more than {} MiB of memory to decode",
                self.what,
                CONTAINER_LIMIT >> 20
            )));
        }
        let target = total.next_multiple_of(STEP).min(CONTAINER_LIMIT);
        let taken = self.budget.take(self.container, target - self.held, wait);
        if taken {
            self.held = target;
        }
        Ok(taken)
    }

    /// [`Meter::hold`] of what is held now plus `more`.
    pub(super) fn hold_more(&mut self, now: usize, more: usize) -> Result<(), CramError> {
        self.hold(now.saturating_add(more))
    }
}

impl Drop for Meter<'_> {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_container_never_waits_and_others_wait_for_it() {
        let budget = Budget::new();
        let mut young = budget.meter(2, "container 2".into());
        young.hold(SHARED_LIMIT).unwrap();
        let mut oldest = budget.meter(1, "container 1".into());
        oldest.hold(CONTAINER_LIMIT).unwrap(); // over the shared limit: the oldest goes on
        assert!(!budget.meter(9, "container 9".into()).try_hold(1).unwrap());
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let mut third = budget.meter(3, "container 3".into());
                third.hold(STEP).unwrap();
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !waiter.is_finished(),
                "container 3 waits while memory is held"
            );
            drop(oldest);
            drop(young);
            waiter.join().unwrap();
        });
        assert!(
            budget
                .meter(9, "container 9".into())
                .try_hold(SHARED_LIMIT)
                .unwrap()
        );
    }

    #[test]
    fn a_container_over_the_limit_is_refused_with_its_name() {
        let budget = Budget::new();
        let mut meter = budget.meter(1, "container 7 (byte 99)".into());
        let err = meter.hold(CONTAINER_LIMIT + 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "container 7 (byte 99) needs more than {} MiB of memory to decode \
                 (a limit of this service)",
                CONTAINER_LIMIT >> 20
            )
        );
    }
}
