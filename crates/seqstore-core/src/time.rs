//! The domain's time: milliseconds since the epoch, which the catalog keeps; the wire
//! shows it as `DateTime<Utc>`.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// A moment, to the millisecond.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Now, truncated to the millisecond.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    /// The moment `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// `d` later.
    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(d.as_millis().try_into().unwrap_or(i64::MAX)),
        )
    }

    /// `d` earlier.
    pub fn minus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(d.as_millis().try_into().unwrap_or(i64::MAX)),
        )
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        DateTime::from_timestamp_millis(t.0).unwrap_or_default()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }
}

impl From<&DateTime<Utc>> for Timestamp {
    fn from(t: &DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }
}
