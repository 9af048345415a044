use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::source::{ByteStream, S3Action, S3Caller, SigningKey};

/// Keys only; counts `list` calls.
struct Keys {
    keys: Vec<String>,
    calls: AtomicUsize,
}

impl Keys {
    fn new(keys: &[&str]) -> Self {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        Self {
            keys,
            calls: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl ObjectSource for Keys {
    async fn access_point(&self, _: &str) -> Result<Option<AccessPoint>, SourceError> {
        unreachable!()
    }
    async fn head(&self, _: &AccessPoint, _: &str) -> Result<Option<S3Object>, SourceError> {
        unreachable!()
    }
    async fn get(
        &self,
        _: &AccessPoint,
        _: &S3Object,
        _: Option<std::ops::Range<u64>>,
    ) -> Result<Option<ByteStream>, SourceError> {
        unreachable!()
    }
    async fn list(
        &self,
        _: &AccessPoint,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<S3Object>, SourceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .keys
            .iter()
            .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|a| k.as_str() > a))
            .take(max)
            .map(|k| info(k))
            .collect())
    }
    async fn tags(
        &self,
        _: &AccessPoint,
        _: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        unreachable!()
    }
    async fn secret_for(&self, _: &str) -> Result<Option<SigningKey>, SourceError> {
        unreachable!()
    }
    async fn authorize(
        &self,
        _: &AccessPoint,
        _: &S3Caller,
        _: S3Action,
        _: &str,
    ) -> Result<bool, SourceError> {
        unreachable!()
    }
}

fn info(key: &str) -> S3Object {
    S3Object {
        key: key.to_owned(),
        size: 1,
        etag: "e".into(),
        last_modified: seqstore_core::Timestamp::from_millis(1_700_000_000_000),
        archived: false,
    }
}

fn ap() -> AccessPoint {
    AccessPoint {
        kind: seqstore_core::StoreKind::Sequence,
        account_id: "1".into(),
        store_id: "2".into(),
        arn: "arn".into(),
        revision: 0,
    }
}

/// Keys, common prefixes, truncated, last.
async fn page(
    src: &Keys,
    prefix: &str,
    delimiter: Option<&str>,
    resume: Option<Resume>,
    max_keys: usize,
) -> (Vec<String>, Vec<String>, bool, Option<Resume>) {
    let q = Query {
        prefix,
        delimiter,
        resume,
        max_keys,
    };
    let p = list_page(src, &ap(), &q).await.unwrap();
    (
        p.contents.into_iter().map(|o| o.key).collect(),
        p.common_prefixes,
        p.truncated,
        p.last,
    )
}

/// Follows pages to the end; every key or common prefix once, in order.
async fn all(src: &Keys, prefix: &str, delimiter: Option<&str>, max_keys: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut resume = None;
    loop {
        let (keys, prefixes, truncated, last) =
            page(src, prefix, delimiter, resume.clone(), max_keys).await;
        let mut entries: Vec<String> = keys.into_iter().chain(prefixes).collect();
        entries.sort();
        seen.extend(entries);
        if !truncated {
            return seen;
        }
        resume = last;
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn flat_listing_with_prefix() {
    let src = Keys::new(&["a/1", "a/2", "b/1", "ab"]);
    let (keys, prefixes, truncated, _) = page(&src, "a/", None, None, 1000).await;
    assert_eq!(keys, strings(&["a/1", "a/2"]));
    assert!(prefixes.is_empty());
    assert!(!truncated);
}

#[tokio::test]
async fn delimiter_rolls_up_common_prefixes() {
    let src = Keys::new(&[
        "acct/x.txt",
        "acct/rs/1/a.bam",
        "acct/rs/1/a.bam.bai",
        "acct/rs/2/b",
    ]);
    let (keys, prefixes, truncated, _) = page(&src, "acct/", Some("/"), None, 1000).await;
    assert_eq!(keys, strings(&["acct/x.txt"]));
    assert_eq!(prefixes, strings(&["acct/rs/"]));
    assert!(!truncated);
    let (keys, prefixes, _, _) = page(&src, "acct/rs/", Some("/"), None, 1000).await;
    assert!(keys.is_empty());
    assert_eq!(prefixes, strings(&["acct/rs/1/", "acct/rs/2/"]));
}

#[tokio::test]
async fn multi_character_delimiter() {
    let src = Keys::new(&["a--b", "a--c", "d"]);
    let (keys, prefixes, _, _) = page(&src, "", Some("--"), None, 10).await;
    assert_eq!(keys, strings(&["d"]));
    assert_eq!(prefixes, strings(&["a--"]));
}

#[tokio::test]
async fn max_keys_counts_keys_and_prefixes_and_truncates_only_when_more_exist() {
    let src = Keys::new(&["a/1", "b", "c/1", "c/2"]);
    let (keys, prefixes, truncated, last) = page(&src, "", Some("/"), None, 2).await;
    assert_eq!(keys, strings(&["b"]));
    assert_eq!(prefixes, strings(&["a/"]));
    assert!(truncated);
    assert_eq!(last, Some(Resume::AfterKey("b".into())));
    let (keys, prefixes, truncated, last) = page(&src, "", Some("/"), last, 2).await;
    assert!(keys.is_empty());
    assert_eq!(prefixes, strings(&["c/"]));
    assert!(!truncated, "nothing is left after c/");
    assert_eq!(last, Some(Resume::AfterPrefix("c/".into())));
    let (_, _, truncated, _) = page(&src, "", None, None, 4).await;
    assert!(!truncated, "exactly max_keys keys is not truncated");
}

#[tokio::test]
async fn resuming_after_a_common_prefix_skips_its_keys() {
    let src = Keys::new(&["a/1", "a/2", "a/3", "b/1", "c"]);
    let (_, prefixes, truncated, last) = page(&src, "", Some("/"), None, 1).await;
    assert_eq!(prefixes, strings(&["a/"]));
    assert!(truncated);
    let (keys, prefixes, _, _) = page(&src, "", Some("/"), last, 1).await;
    assert!(keys.is_empty());
    assert_eq!(prefixes, strings(&["b/"]));
}

#[tokio::test]
async fn paging_visits_everything_once_for_every_page_size() {
    let mut names = Vec::new();
    for d in 0..7 {
        for f in 0..(d * 3) {
            names.push(format!("p/{d}/{f}"));
        }
        names.push(format!("p/file{d}"));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let src = Keys::new(&refs);
    let expected_flat = {
        let mut v = names.clone();
        v.sort();
        v
    };
    let expected_rolled: Vec<String> = {
        let mut v: Vec<String> = (1..7).map(|d| format!("p/{d}/")).collect();
        v.extend((0..7).map(|d| format!("p/file{d}")));
        v.sort();
        v
    };
    for max in 1..12 {
        assert_eq!(all(&src, "p/", None, max).await, expected_flat, "max {max}");
        assert_eq!(
            all(&src, "p/", Some("/"), max).await,
            expected_rolled,
            "max {max}"
        );
    }
}

#[tokio::test]
async fn a_big_common_prefix_costs_one_extra_query_not_one_per_key() {
    let names: Vec<String> = (0..500).map(|i| format!("big/{i:04}")).collect();
    let mut refs: Vec<&str> = names.iter().map(String::as_str).collect();
    refs.push("z");
    let src = Keys::new(&refs);
    let (keys, prefixes, truncated, _) = page(&src, "", Some("/"), None, 10).await;
    assert_eq!(keys, strings(&["z"]));
    assert_eq!(prefixes, strings(&["big/"]));
    assert!(!truncated);
    assert_eq!(src.calls.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn start_after_and_v1_marker_naming_a_common_prefix() {
    let src = Keys::new(&["a/1", "a/2", "b"]);
    let (keys, prefixes, _, _) =
        page(&src, "", Some("/"), Some(Resume::AfterKey("a/".into())), 10).await;
    assert_eq!(keys, strings(&["b"]));
    assert!(prefixes.is_empty());
    let (keys, _, _, _) = page(&src, "", None, Some(Resume::AfterKey("a/1".into())), 10).await;
    assert_eq!(keys, strings(&["a/2", "b"]));
}

#[tokio::test]
async fn zero_max_keys_lists_nothing() {
    let src = Keys::new(&["a"]);
    let (keys, prefixes, truncated, _) = page(&src, "", None, None, 0).await;
    assert!(keys.is_empty() && prefixes.is_empty() && !truncated);
    assert_eq!(src.calls.load(Ordering::Relaxed), 0);
}

#[test]
fn tokens_round_trip_and_reject_garbage() {
    for r in [
        Resume::AfterKey("a/b c+ü".into()),
        Resume::AfterPrefix("x/".into()),
        Resume::AfterKey(String::new()),
    ] {
        assert_eq!(Resume::from_token(&r.to_token()), Some(r));
    }
    assert_eq!(Resume::from_token("not base64!"), None);
    assert_eq!(Resume::from_token(""), None);
    assert_eq!(Resume::from_token(&URL_SAFE_NO_PAD.encode("qzz")), None);
}

#[test]
fn url_encoding_keeps_slashes_and_unreserved() {
    assert_eq!(url_encode("a/b-c_d.e~f"), "a/b-c_d.e~f");
    assert_eq!(url_encode("a b+c"), "a%20b%2Bc");
    assert_eq!(url_encode("ü&="), "%C3%BC%26%3D");
}
