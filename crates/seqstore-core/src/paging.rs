//! Opaque `nextToken`s: the keyset position of the last item, bound to one list operation.

use crate::CoreError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use seqstore_catalog::ListCursor;

/// Default page size when `maxResults` is absent.
pub(crate) const DEFAULT_PAGE: u32 = 100;

/// Encodes the position after `cursor` for `operation`.
pub(crate) fn encode(operation: &str, cursor: &ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "v1:{operation}:{}:{}",
        cursor.created_at_ms, cursor.id
    ))
}

/// Decodes a token produced by [`encode`] for the same operation.
pub(crate) fn decode(
    operation: &str,
    token: Option<&str>,
) -> Result<Option<ListCursor>, CoreError> {
    let Some(token) = token else { return Ok(None) };
    let invalid = || CoreError::Validation(format!("invalid nextToken for {operation}"));
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(op), Some(at), Some(id)) if op == operation => Ok(Some(ListCursor {
            created_at_ms: at.parse().map_err(|_| invalid())?,
            id: id.to_owned(),
        })),
        _ => Err(invalid()),
    }
}

/// Splits one extra fetched row off a page: returns the page and the next token.
pub(crate) fn finish<T>(
    operation: &str,
    mut rows: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> ListCursor,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let next = rows.last().map(|last| encode(operation, &cursor_of(last)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The page size asked for, or the default.
pub(crate) fn limit(max_results: Option<i32>) -> u32 {
    max_results.map_or(DEFAULT_PAGE, |n| n.clamp(1, 100) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_operation() {
        let c = ListCursor {
            created_at_ms: 1_700_000_000_123,
            id: "0123456789".into(),
        };
        let t = encode("ListSequenceStores", &c);
        assert_eq!(decode("ListSequenceStores", Some(&t)).unwrap(), Some(c));
        assert!(decode("ListReferenceStores", Some(&t)).is_err());
        assert!(decode("ListSequenceStores", Some("garbage!")).is_err());
        assert!(decode("ListSequenceStores", Some("djE6TGlzdA")).is_err());
        assert_eq!(decode("ListSequenceStores", None).unwrap(), None);
    }
}
