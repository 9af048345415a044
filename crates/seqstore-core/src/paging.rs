//! Opaque `nextToken`s: the keyset position of the last item, bound to one list operation.

use crate::catalog::ListCursor;
use crate::{CoreError, Timestamp};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Default page size when `maxResults` is absent.
pub(crate) const DEFAULT_PAGE: u32 = 100;

/// Encodes the position after `cursor` for `operation`.
pub(crate) fn encode(operation: &str, cursor: &ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "v1:{operation}:{}:{}",
        cursor.created_at.millis(),
        cursor.id
    ))
}

/// Decodes a token produced by [`encode`] for the same operation.
pub(crate) fn decode(
    operation: &str,
    token: Option<&str>,
) -> Result<Option<ListCursor>, CoreError> {
    let Some(token) = token else { return Ok(None) };
    let invalid = || CoreError::invalid("nextToken", format!("invalid nextToken for {operation}"));
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(op), Some(at), Some(id)) if op == operation => Ok(Some(ListCursor {
            created_at: Timestamp::from_millis(at.parse().map_err(|_| invalid())?),
            id: id.to_owned(),
        })),
        _ => Err(invalid()),
    }
}

/// The page size asked for (`maxResults`, 1..100), or the default.
pub(crate) fn limit(max_results: Option<i32>) -> u32 {
    max_results.map_or(DEFAULT_PAGE, |n| n.clamp(1, 100) as u32)
}

/// A listed row's keyset position.
pub(crate) trait Keyed {
    /// The cursor that resumes after this row.
    fn cursor(&self) -> ListCursor;
}

/// One page of a list operation: decodes `next_token`, fetches one row more than asked
/// (to know whether another page exists) and encodes the token of the next page.
pub(crate) async fn page<T: Keyed, Fut>(
    operation: &str,
    next_token: Option<&str>,
    max_results: Option<i32>,
    fetch: impl FnOnce(Option<ListCursor>, u32) -> Fut,
) -> Result<(Vec<T>, Option<String>), CoreError>
where
    Fut: Future<Output = Result<Vec<T>, crate::catalog::CatalogError>>,
{
    let after = decode(operation, next_token)?;
    let limit = limit(max_results) as usize;
    let mut rows = fetch(after, limit as u32 + 1).await?;
    if rows.len() <= limit {
        return Ok((rows, None));
    }
    rows.truncate(limit);
    let next = rows.last().map(|last| encode(operation, &last.cursor()));
    Ok((rows, next))
}

/// Every listed record pages by (creation time, id).
macro_rules! keyed_by_creation {
    ($($record:ty),* $(,)?) => {
        $(impl Keyed for $record {
            fn cursor(&self) -> ListCursor {
                ListCursor {
                    created_at: self.created_at,
                    id: self.id.to_string(),
                }
            }
        })*
    };
}

keyed_by_creation!(
    crate::catalog::SequenceStoreRecord,
    crate::catalog::ReferenceStoreRecord,
    crate::catalog::ReferenceRecord,
    crate::catalog::ReadSetRecord,
    crate::catalog::UploadRecord,
    crate::catalog::JobRecord,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_operation() {
        let c = ListCursor {
            created_at: Timestamp::from_millis(1_700_000_000_123),
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
