//! The URLs of htsget tickets: each names one stored file of one read set and an expiry,
//! signed with the deployment's ticket key (HMAC-SHA256), so that any HTTP client can fetch
//! byte ranges of that file, and only of that file, until the expiry.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::Sha256;

use super::Ga4ghError;
use crate::ids::{ReadSetId, StoreId};
use crate::vocabulary::ReadSetStatus;
use crate::{CoreError, Service};
use seqstore_blob::BlobError;

/// What one ticket URL lets its holder read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    /// The read set's store.
    pub store_id: StoreId,
    /// The read set.
    pub read_set_id: ReadSetId,
    /// The stored file's name (the read set's first source).
    pub file: String,
    /// Seconds since the Unix epoch after which the URL is refused.
    pub expires: u64,
}

impl BlockRef {
    fn message(&self) -> String {
        format!(
            "{}/{}/{}\n{}",
            self.store_id, self.read_set_id, self.file, self.expires
        )
    }
}

impl Service {
    async fn ticket_mac(&self) -> Result<Hmac<Sha256>, CoreError> {
        let key = self
            .ticket_key
            .get_or_try_init(|| async {
                let candidate: String = rand::rng()
                    .sample_iter(Alphanumeric)
                    .take(64)
                    .map(char::from)
                    .collect();
                self.catalog.ticket_key(&candidate).await
            })
            .await?;
        // HMAC takes keys of any length.
        Ok(Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length"))
    }

    /// The signature (lowercase hex) that lets a ticket URL read `block`.
    pub async fn sign_block(&self, block: &BlockRef) -> Result<String, CoreError> {
        let mut mac = self.ticket_mac().await?;
        mac.update(block.message().as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// Bytes `range` (`None`: all; cut at the file's end) of the file a ticket URL names, after checking its
    /// signature and expiry and that the read set is still ACTIVE; with the file's size.
    pub async fn read_block(
        &self,
        block: &BlockRef,
        signature: &str,
        range: Option<Range<u64>>,
    ) -> Result<(u64, Range<u64>, BoxStream<'static, std::io::Result<Bytes>>), Ga4ghError> {
        let mut mac = self.ticket_mac().await?;
        mac.update(block.message().as_bytes());
        let valid = hex::decode(signature)
            .ok()
            .is_some_and(|sig| mac.verify_slice(&sig).is_ok());
        if !valid {
            return Err(Ga4ghError::InvalidAuthentication(
                "the URL's signature does not match: ask the htsget endpoint for a new ticket"
                    .into(),
            ));
        }
        let now = crate::Timestamp::now().millis() / 1000;
        if u64::try_from(now).unwrap_or(u64::MAX) > block.expires {
            return Err(Ga4ghError::InvalidAuthentication(
                "the ticket URL has expired: ask the htsget endpoint for a new ticket".into(),
            ));
        }
        let gone = || Ga4ghError::NotFound(format!("read set {} is gone", block.read_set_id));
        let owner = self
            .catalog
            .sequence_store_owner(&block.store_id)
            .await?
            .ok_or_else(gone)?;
        let r = self
            .catalog
            .read_set(&owner, &block.store_id, &block.read_set_id)
            .await?
            .filter(|r| r.source1_name.as_deref() == Some(block.file.as_str()))
            .ok_or_else(gone)?;
        if r.status != ReadSetStatus::Active {
            return Err(Ga4ghError::NotFound(format!(
                "read set {} is {}: activate it to read it",
                r.id, r.status
            )));
        }
        let size = r.source1_size.unwrap_or(0).max(0) as u64;
        // An open or too long range is cut at the end of the file.
        let range = range.map_or(0..size, |r| r.start..r.end.min(size));
        if range.is_empty() {
            return Err(Ga4ghError::Core(CoreError::RangeNotSatisfiable(format!(
                "the file has {size} bytes"
            ))));
        }
        let key = self.read_set_blob_key(&r, &block.file)?;
        self.note_access(&r.id).await;
        let stream = match self.blobs.read_range(&key, range.clone()).await {
            Ok(stream) => stream.map(|c| c.map_err(std::io::Error::other)).boxed(),
            Err(BlobError::NotFound(_)) => return Err(gone()),
            Err(e) => return Err(CoreError::storage(format!("reading {key}"))(e).into()),
        };
        Ok((size, range, stream))
    }
}
