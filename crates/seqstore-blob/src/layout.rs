//! The blob key layout, identical to the S3 URIs that `s3Access` reports. Every key is a
//! [`BlobKey`] and every prefix a [`BlobPrefix`], built only here, from checked parts.

/// A key part that would escape or corrupt the layout.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid blob key part {0:?}")]
pub struct KeyError(pub String);

/// What every key of a store, a read set or a reference starts with (it ends in `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobPrefix(String);

/// One stored object: a file of a read set or a reference, or a staged upload part. It is
/// also the S3 object key of that file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobPrefix {
    /// `<account>/sequenceStore/<storeId>/`: a sequence store's files.
    pub fn sequence_store(account_id: &str, store_id: &str) -> Result<Self, KeyError> {
        Ok(Self(format!(
            "{}/sequenceStore/{}/",
            part(account_id)?,
            part(store_id)?
        )))
    }

    /// `<account>/referenceStore/<storeId>/`: a reference store's files.
    pub fn reference_store(account_id: &str, store_id: &str) -> Result<Self, KeyError> {
        Ok(Self(format!(
            "{}/referenceStore/{}/",
            part(account_id)?,
            part(store_id)?
        )))
    }

    /// `<account>/sequenceStore/<storeId>/readSet/`: the folders of a store's read sets.
    pub fn read_sets(account_id: &str, store_id: &str) -> Result<Self, KeyError> {
        Self::sequence_store(account_id, store_id)?.folder("readSet")
    }

    /// `<account>/referenceStore/<storeId>/reference/`: the folders of a store's references.
    pub fn references(account_id: &str, store_id: &str) -> Result<Self, KeyError> {
        Self::reference_store(account_id, store_id)?.folder("reference")
    }

    /// `<account>/sequenceStore/<storeId>/readSet/<readSetId>/`: a read set's files.
    pub fn read_set(account_id: &str, store_id: &str, id: &str) -> Result<Self, KeyError> {
        Self::read_sets(account_id, store_id)?.folder(id)
    }

    /// `<account>/referenceStore/<storeId>/reference/<referenceId>/`: a reference's files.
    pub fn reference(account_id: &str, store_id: &str, id: &str) -> Result<Self, KeyError> {
        Self::references(account_id, store_id)?.folder(id)
    }

    /// `staging/uploads/<uploadId>/`: the staged parts of an upload.
    pub fn upload(upload_id: &str) -> Result<Self, KeyError> {
        Ok(Self(format!("staging/uploads/{}/", part(upload_id)?)))
    }

    /// The key of the file `name` under this prefix.
    pub fn file(&self, name: &str) -> Result<BlobKey, KeyError> {
        Ok(BlobKey(format!("{}{}", self.0, part(name)?)))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn folder(self, name: &str) -> Result<Self, KeyError> {
        Ok(Self(format!("{}{}/", self.0, part(name)?)))
    }
}

impl BlobKey {
    /// `staging/uploads/<uploadId>/<SOURCE>/<partNumber>-<nonce>`: one upload of one part
    /// (a re-upload gets a new nonce, so the part it replaces stays readable until the
    /// swap).
    pub fn upload_part(
        upload_id: &str,
        source: &str,
        number: i64,
        nonce: &str,
    ) -> Result<Self, KeyError> {
        BlobPrefix::upload(upload_id)?
            .folder(source)?
            .file(&format!("{number}-{}", part(nonce)?))
    }

    /// `staging/uploads/<uploadId>/early/<name>`: a stored file ingested while its upload
    /// arrived, until Complete moves it to its read set.
    pub fn early_ingest(upload_id: &str, name: &str) -> Result<Self, KeyError> {
        BlobPrefix::upload(upload_id)?.folder("early")?.file(name)
    }

    /// A key read back from where one was recorded (the catalog): it must be one this
    /// layout writes, every `/`-separated part valid.
    pub fn recorded(text: &str) -> Result<Self, KeyError> {
        for p in text.split('/') {
            part(p)?;
        }
        Ok(Self(text.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for BlobPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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
    fn keys_and_prefixes_follow_the_s3_layout() {
        assert_eq!(
            BlobPrefix::sequence_store("111122223333", "0000000001")
                .unwrap()
                .as_str(),
            "111122223333/sequenceStore/0000000001/"
        );
        let key = BlobPrefix::read_set("1", "2", "3")
            .unwrap()
            .file("a.bam")
            .unwrap();
        assert_eq!(key.as_str(), "1/sequenceStore/2/readSet/3/a.bam");
        let key = BlobPrefix::reference("1", "2", "3")
            .unwrap()
            .file("r.fa")
            .unwrap();
        assert_eq!(key.as_str(), "1/referenceStore/2/reference/3/r.fa");
        assert_eq!(
            BlobKey::upload_part("9", "SOURCE1", 4, "n")
                .unwrap()
                .as_str(),
            "staging/uploads/9/SOURCE1/4-n"
        );
        assert_eq!(BlobKey::recorded(key.as_str()), Ok(key));
    }

    #[test]
    fn escaping_parts_are_rejected() {
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
            let prefix = BlobPrefix::reference("1", "2", "3").unwrap();
            assert_eq!(prefix.file(bad), Err(KeyError(bad.to_owned())));
        }
        for bad in ["", "a//b", "/a", "a/../b", "a/b/"] {
            assert!(BlobKey::recorded(bad).is_err(), "{bad:?}");
        }
    }
}
