//! The two date forms SigV4 requests carry: ISO 8601 basic (`X-Amz-Date`) and HTTP `Date`.

use chrono::{DateTime, NaiveDateTime, Utc};

const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Parses `20150830T123600Z`; anything else (no `Z`, separators, fractions) is `None`.
pub(crate) fn parse_amz_date(s: &str) -> Option<DateTime<Utc>> {
    if s.len() != 16 || !s.is_ascii() {
        return None;
    }
    NaiveDateTime::parse_from_str(s, AMZ_DATE)
        .ok()
        .map(|naive| naive.and_utc())
}

/// Formats a time the way `X-Amz-Date` and the string to sign carry it.
pub(crate) fn format_amz_date(t: DateTime<Utc>) -> String {
    t.format(AMZ_DATE).to_string()
}

/// Parses an HTTP `Date` header (`Fri, 09 Sep 2011 23:36:00 GMT`, RFC 9110 IMF-fixdate).
/// The weekday is not checked: AWS's own 2011 test suite dates 09 Sep 2011 a Monday.
pub(crate) fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let without_weekday = s.split_once(", ").map_or(s, |(_, rest)| rest);
    NaiveDateTime::parse_from_str(without_weekday, "%d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let t = parse_amz_date("20150830T123600Z").expect("valid");
        assert_eq!(format_amz_date(t), "20150830T123600Z");
    }

    #[test]
    fn amz_date_rejects_other_shapes() {
        for bad in [
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150830T123600.5Z",
            "20151330T123600Z",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_date_parses() {
        let t = parse_http_date("Fri, 09 Sep 2011 23:36:00 GMT").expect("valid");
        assert_eq!(format_amz_date(t), "20110909T233600Z");
        let wrong_weekday =
            parse_http_date("Mon, 09 Sep 2011 23:36:00 GMT").expect("weekday ignored");
        assert_eq!(wrong_weekday, t);
        assert_eq!(parse_http_date("Fri, 09 Sep 2011 23:36:00 +0200"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
