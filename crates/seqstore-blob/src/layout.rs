//! The blob key layout, identical to the S3 URIs that `s3Access` reports.

/// A key part that would escape or corrupt the layout.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid blob key part {0:?}")]
pub struct KeyError(pub String);

/// `<account>/sequenceStore/<storeId>/`: the prefix of a sequence store's files.
pub fn sequence_store_prefix(account_id: &str, store_id: &str) -> Result<String, KeyError> {
    Ok(format!(
        "{}/sequenceStore/{}/",
        part(account_id)?,
        part(store_id)?
    ))
}

/// `<account>/sequenceStore/<storeId>/readSet/<readSetId>/<file>`.
pub fn read_set_key(
    account_id: &str,
    store_id: &str,
    read_set_id: &str,
    file: &str,
) -> Result<String, KeyError> {
    Ok(format!(
        "{}{}",
        read_set_prefix(account_id, store_id, read_set_id)?,
        part(file)?
    ))
}

/// `<account>/sequenceStore/<storeId>/readSet/<readSetId>/`: a read set's files.
pub fn read_set_prefix(
    account_id: &str,
    store_id: &str,
    read_set_id: &str,
) -> Result<String, KeyError> {
    Ok(format!(
        "{}readSet/{}/",
        sequence_store_prefix(account_id, store_id)?,
        part(read_set_id)?
    ))
}

/// `staging/uploads/<uploadId>/<SOURCE>/<partNumber>-<nonce>`: one upload of one part (a
/// re-upload gets a new nonce, so the part it replaces stays readable until the swap).
pub fn upload_part_key(
    upload_id: &str,
    source: &str,
    number: i64,
    nonce: &str,
) -> Result<String, KeyError> {
    Ok(format!(
        "staging/uploads/{}/{}/{number}-{}",
        part(upload_id)?,
        part(source)?,
        part(nonce)?
    ))
}

/// `<account>/referenceStore/<storeId>/reference/<referenceId>/`: a reference's files.
pub fn reference_prefix(
    account_id: &str,
    store_id: &str,
    reference_id: &str,
) -> Result<String, KeyError> {
    Ok(format!(
        "{}/referenceStore/{}/reference/{}/",
        part(account_id)?,
        part(store_id)?,
        part(reference_id)?
    ))
}

/// `<account>/referenceStore/<storeId>/reference/<referenceId>/<file>`.
pub fn reference_key(
    account_id: &str,
    store_id: &str,
    reference_id: &str,
    file: &str,
) -> Result<String, KeyError> {
    Ok(format!(
        "{}/referenceStore/{}/reference/{}/{}",
        part(account_id)?,
        part(store_id)?,
        part(reference_id)?,
        part(file)?
    ))
}

/// Rejects empty, `.`, `..` and parts containing a separator or a control character.
fn part(p: &str) -> Result<&str, KeyError> {
    let bad = p.is_empty()
        || p == "."
        || p == ".."
        || p.contains(['/', '\\'])
        || p.chars().any(char::is_control);
    if bad {
        Err(KeyError(p.to_owned()))
    } else {
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_the_s3_layout() {
        assert_eq!(
            sequence_store_prefix("111122223333", "0000000001").unwrap(),
            "111122223333/sequenceStore/0000000001/"
        );
    }

    #[test]
    fn escaping_parts_are_rejected() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
            assert_eq!(
                reference_key("1", "2", "3", bad),
                Err(KeyError(bad.to_owned()))
            );
        }
    }
}
