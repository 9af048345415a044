//! Query strings and `Range` headers, parsed strictly.

/// The `name=value` pairs of a query string, percent-decoded, in order.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// A coordinate: decimal digits of a value that fits 32 bits, as htsget and refget allow.
pub(crate) fn coordinate(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .filter(|&n| n <= u64::from(u32::MAX))
}

/// `bytes=FIRST-LAST` or `bytes=FIRST-` (inclusive), the only form served.
pub(crate) fn byte_range(header: &str) -> Option<(u64, Option<u64>)> {
    let (first, last) = header.strip_prefix("bytes=")?.split_once('-')?;
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let first = number(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    Some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_only_in_their_one_form() {
        assert_eq!(byte_range("bytes=10-19"), Some((10, Some(19))));
        assert_eq!(byte_range("bytes=0-"), Some((0, None)));
        for bad in [
            "units=20-30",
            "bytes=ab-19",
            "bytes=-10--19",
            "bytes=10--19",
            "bytes=-10-",
            "bytes==10-19",
            "bytes=1-2,4-5",
            "bytes=-5",
        ] {
            assert_eq!(byte_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn coordinates_are_unsigned_32_bit_decimals() {
        assert_eq!(coordinate("0"), Some(0));
        assert_eq!(coordinate("4294967295"), Some(4_294_967_295));
        for bad in ["", "-1", "abc", "4294967296", "1.5", " 1"] {
            assert_eq!(coordinate(bad), None, "{bad}");
        }
    }

    #[test]
    fn pairs_are_decoded_in_order() {
        assert_eq!(
            pairs(Some("a=1&&b=x%20y&c")),
            [
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), String::new())
            ]
        );
    }
}
