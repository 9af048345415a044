//! Timestamps on the wire: RFC 3339 UTC with milliseconds out (spec §E31), lenient in.
//!
//! Requests may carry any fraction length, `Z` or a numeric offset (botocore sends
//! `YYYY-MM-DDTHH:MM:SSZ` or microseconds, other SDKs milliseconds; spec §A.3), or JSON
//! numbers as epoch seconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2024-05-01T10:11:12.345Z`: milliseconds, always `Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp with any fraction length and any offset.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Epoch seconds, possibly fractional.
pub fn from_epoch_seconds(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let whole = seconds.floor();
    // Rounding to whole nanoseconds; the cast is exact for the range chrono accepts.
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    if whole < i64::MIN as f64 || whole > i64::MAX as f64 {
        return None;
    }
    DateTime::from_timestamp(whole as i64, nanos)
}

struct TimestampVisitor;

impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 timestamp or epoch seconds")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse(v).ok_or_else(|| E::custom(format!("'{v}' is not an RFC 3339 timestamp")))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        DateTime::from_timestamp(v, 0).ok_or_else(|| E::custom(format!("{v} is out of range")))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let v = i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))?;
        self.visit_i64(v)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        from_epoch_seconds(v).ok_or_else(|| E::custom(format!("{v} is out of range")))
    }
}

/// `#[serde(with = "crate::time::iso8601")]` for required timestamp members.
pub mod iso8601 {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    /// Writes `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    /// Reads an RFC 3339 string or epoch seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_any(super::TimestampVisitor)
    }
}

/// `#[serde(with = "crate::time::iso8601_opt")]` for optional timestamp members.
pub mod iso8601_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    /// Writes the timestamp like [`super::iso8601`], or `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::iso8601::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// Reads `null` as `None`, anything else like [`super::iso8601`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    struct OptVisitor;

    impl<'de> serde::de::Visitor<'de> for OptVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("null, an RFC 3339 timestamp or epoch seconds")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::iso8601::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        #[serde(with = "iso8601")]
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "iso8601_opt")]
        maybe: Option<DateTime<Utc>>,
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
            + chrono::Duration::milliseconds(i64::from(ms))
    }

    #[test]
    fn writes_milliseconds_and_z() {
        let doc = Doc {
            at: utc(2024, 5, 1, 10, 11, 12, 345),
            maybe: Some(utc(2024, 5, 1, 0, 0, 0, 0)),
        };
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            json,
            r#"{"at":"2024-05-01T10:11:12.345Z","maybe":"2024-05-01T00:00:00.000Z"}"#
        );
        assert_eq!(serde_json::from_str::<Doc>(&json).unwrap(), doc);
    }

    #[test]
    fn omits_absent_optional_timestamps() {
        let doc = Doc {
            at: utc(2024, 1, 1, 0, 0, 0, 0),
            maybe: None,
        };
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(json, r#"{"at":"2024-01-01T00:00:00.000Z"}"#);
        assert_eq!(serde_json::from_str::<Doc>(&json).unwrap(), doc);
        let explicit_null: Doc =
            serde_json::from_str(r#"{"at":"2024-01-01T00:00:00Z","maybe":null}"#).unwrap();
        assert_eq!(explicit_null.maybe, None);
    }

    #[test]
    fn reads_lenient_rfc3339() {
        let want = utc(2024, 5, 1, 10, 11, 12, 0);
        assert_eq!(parse("2024-05-01T10:11:12Z"), Some(want));
        assert_eq!(parse("2024-05-01T12:11:12+02:00"), Some(want));
        assert_eq!(
            parse("2024-05-01T10:11:12.345678Z")
                .unwrap()
                .timestamp_subsec_micros(),
            345_678
        );
        assert_eq!(
            parse("2024-05-01T10:11:12.123456789123Z")
                .unwrap()
                .timestamp_subsec_nanos(),
            123_456_789
        );
        assert_eq!(
            parse("2024-05-01T10:11:12.3-00:30").unwrap(),
            utc(2024, 5, 1, 10, 41, 12, 300)
        );
        assert_eq!(parse("2024-05-01"), None);
        assert_eq!(parse("2024-05-01T10:11:12"), None, "an offset is required");
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn reads_epoch_seconds() {
        let doc: Doc = serde_json::from_str(r#"{"at":1714558272.5}"#).unwrap();
        assert_eq!(doc.at, utc(2024, 5, 1, 10, 11, 12, 500));
        let doc: Doc = serde_json::from_str(r#"{"at":1714558272,"maybe":0}"#).unwrap();
        assert_eq!(doc.at, utc(2024, 5, 1, 10, 11, 12, 0));
        assert_eq!(doc.maybe, Some(utc(1970, 1, 1, 0, 0, 0, 0)));
        assert_eq!(
            from_epoch_seconds(-1.5),
            Some(utc(1969, 12, 31, 23, 59, 58, 500))
        );
        assert_eq!(from_epoch_seconds(f64::NAN), None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<Doc>(r#"{"at":"soon"}"#).is_err());
        assert!(serde_json::from_str::<Doc>(r#"{"at":true}"#).is_err());
        assert!(serde_json::from_str::<Doc>(r#"{"at":1e300}"#).is_err());
    }
}
