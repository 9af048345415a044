//! Milliseconds in the catalog, `DateTime<Utc>` on the wire.

use chrono::{DateTime, Utc};

/// Now, truncated to the millisecond the catalog keeps.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A catalog timestamp as a wire timestamp.
pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A wire timestamp as catalog milliseconds.
pub(crate) fn to_ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}
