//! One page of ListObjects / ListObjectsV2: prefix, delimiter roll-up into common prefixes,
//! resumption after a key or a common prefix, and the `encoding-type=url` encoding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::source::{AccessPoint, ObjectSource, S3Object, SourceError};

/// S3's largest page.
pub(crate) const MAX_KEYS: usize = 1000;

/// Sorts after every key that starts with a given prefix followed by any character.
const AFTER_ALL: char = char::MAX;

/// Where a page resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    /// After this key (`start-after`, a V1 `marker`, or a V2 token naming a key).
    AfterKey(String),
    /// After every key under this common prefix (a V2 token naming a common prefix).
    AfterPrefix(String),
}

impl Resume {
    /// The opaque V2 continuation token for this position.
    pub(crate) fn to_token(&self) -> String {
        let text = match self {
            Resume::AfterKey(k) => format!("k{k}"),
            Resume::AfterPrefix(p) => format!("p{p}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a token made by [`Resume::to_token`]; `None` for anything else.
    pub(crate) fn from_token(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (kind, rest) = text.split_at_checked(1)?;
        match kind {
            "k" => Some(Resume::AfterKey(rest.to_owned())),
            "p" => Some(Resume::AfterPrefix(rest.to_owned())),
            _ => None,
        }
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub(crate) struct Query<'a> {
    pub(crate) prefix: &'a str,
    /// `None` or empty: no roll-up.
    pub(crate) delimiter: Option<&'a str>,
    pub(crate) resume: Option<Resume>,
    /// Keys plus common prefixes on the page, `0..=MAX_KEYS`.
    pub(crate) max_keys: usize,
}

/// One page, in key order.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) contents: Vec<S3Object>,
    pub(crate) common_prefixes: Vec<String>,
    pub(crate) truncated: bool,
    /// The last entry on the page (for the next token or `NextMarker`).
    pub(crate) last: Option<Resume>,
}

/// Lists one page, asking the source for batches of at most `max_keys + 1` objects.
///
/// Keys under a common prefix already on the page are skipped; when a batch ends inside such
/// a prefix the next batch starts after everything under it, so a prefix holding many objects
/// costs one extra query, not one per object.
pub(crate) async fn list_page(
    source: &dyn ObjectSource,
    ap: &AccessPoint,
    query: &Query<'_>,
) -> Result<Page, SourceError> {
    let mut page = Page::default();
    if query.max_keys == 0 {
        return Ok(page);
    }
    let delimiter = query.delimiter.filter(|d| !d.is_empty());
    let (mut cursor, mut rolled_up) = match &query.resume {
        None => (None, None),
        Some(Resume::AfterKey(k)) => (Some(k.clone()), None),
        Some(Resume::AfterPrefix(p)) => (Some(format!("{p}{AFTER_ALL}")), Some(p.clone())),
    };
    // A V1 marker or start-after that is itself a common prefix was listed already.
    if let (Some(Resume::AfterKey(k)), Some(d)) = (&query.resume, delimiter)
        && k.len() > query.prefix.len()
        && k.starts_with(query.prefix)
        && k.ends_with(d)
    {
        rolled_up = Some(k.clone());
    }
    let batch = query.max_keys + 1;
    loop {
        let objects = source
            .list(ap, query.prefix, cursor.as_deref(), batch)
            .await?;
        let exhausted = objects.len() < batch;
        let mut inside_rolled_up = false;
        for object in objects {
            cursor = Some(object.key.clone());
            let common = delimiter.and_then(|d| common_prefix(query.prefix, &object.key, d));
            inside_rolled_up = common.is_some() && common == rolled_up.as_deref();
            if inside_rolled_up {
                continue;
            }
            if page.contents.len() + page.common_prefixes.len() == query.max_keys {
                page.truncated = true;
                return Ok(page);
            }
            match common {
                Some(common) => {
                    let common = common.to_owned();
                    page.last = Some(Resume::AfterPrefix(common.clone()));
                    page.common_prefixes.push(common.clone());
                    rolled_up = Some(common);
                    inside_rolled_up = true;
                }
                None => {
                    page.last = Some(Resume::AfterKey(object.key.clone()));
                    page.contents.push(object);
                }
            }
        }
        if exhausted {
            return Ok(page);
        }
        if inside_rolled_up && let Some(common) = &rolled_up {
            cursor = Some(format!("{common}{AFTER_ALL}"));
        }
    }
}

/// The common prefix `key` rolls up into: `prefix` plus everything up to and including the
/// first `delimiter` after it.
fn common_prefix<'k>(prefix: &str, key: &'k str, delimiter: &str) -> Option<&'k str> {
    let rest = key.get(prefix.len()..)?;
    let at = rest.find(delimiter)?;
    Some(&key[..prefix.len() + at + delimiter.len()])
}

/// Characters `encoding-type=url` leaves alone: unreserved ones and `/`.
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Applies `encoding-type=url` to a key or prefix in a listing (`+` becomes `%2B`, so
/// clients that decode with `unquote_plus` get it back).
pub(crate) fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, URL_ENCODE).to_string()
}

#[cfg(test)]
mod tests;
