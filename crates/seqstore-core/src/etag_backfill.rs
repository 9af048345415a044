//! S3 ETags for files stored before they were recorded at write time: hashed once, in the
//! background, when the server starts. Until then the S3 endpoint asks clients to retry.

use crate::Service;
use crate::catalog::FileEtags;
use crate::references::index_name;
use seqstore_blob::{BlobKey, KeyError};

/// Rows fetched per round.
const BATCH: u32 = 50;

impl Service {
    /// Hashes every stored file that has no S3 ETag yet; returns how many rows it completed.
    /// Rows whose files cannot be read are logged and left for the next start.
    pub async fn backfill_s3_etags(&self) -> usize {
        let mut done = 0;
        loop {
            let (read_sets, references) = match self.catalog.files_missing_etags(BATCH).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "S3 ETag backfill: cannot list files");
                    return done;
                }
            };
            if read_sets.is_empty() && references.is_empty() {
                return done;
            }
            let mut progress = false;
            for r in read_sets {
                let file = |name: &Option<String>, size: Option<i64>| {
                    name.as_ref()
                        .map(|n| (self.read_set_blob_key(&r, n), size.unwrap_or(0)))
                };
                let files = [
                    file(&r.source1_name, r.source1_size),
                    file(&r.source2_name, r.source2_size),
                    file(&r.index_name, r.index_size),
                ];
                let mut etags = [None, None, None];
                let mut complete = true;
                for (slot, f) in files.iter().enumerate() {
                    if let Some((key, size)) = f {
                        etags[slot] = self.hash_blob(key.as_ref(), *size as u64).await;
                        complete &= etags[slot].is_some();
                    }
                }
                if !complete {
                    continue;
                }
                let [source1, source2, index] = etags;
                let etags = FileEtags {
                    source1,
                    source2,
                    index,
                };
                if let Err(e) = self.catalog.set_read_set_etags(&r.id, &etags).await {
                    tracing::warn!(read_set = %r.id, error = %e, "S3 ETag backfill: cannot record");
                    continue;
                }
                progress = true;
                done += 1;
            }
            for r in references {
                let source = self.reference_blob_key(&r, &r.source_file_name);
                let index = self.reference_blob_key(&r, &index_name(&r));
                let (Some(source), Some(index)) = (
                    self.hash_blob(source.as_ref(), r.source_size as u64).await,
                    self.hash_blob(index.as_ref(), r.index_size as u64).await,
                ) else {
                    continue;
                };
                if let Err(e) = self
                    .catalog
                    .set_reference_etags(&r.id, &source, &index)
                    .await
                {
                    tracing::warn!(reference = %r.id, error = %e, "S3 ETag backfill: cannot record");
                    continue;
                }
                progress = true;
                done += 1;
            }
            if !progress {
                return done; // only unreadable files remain
            }
        }
    }

    /// MD5 (hex) of a stored file, or `None` (logged) when it cannot be read whole.
    async fn hash_blob(&self, key: Result<&BlobKey, &KeyError>, size: u64) -> Option<String> {
        let key = match key {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!(error = %e, "S3 ETag backfill: no key for a file");
                return None;
            }
        };
        match self.digest(key, size, None, |_| {}).await {
            Ok((md5, _)) => Some(md5),
            Err(fault) => {
                tracing::warn!(%key, why = fault.detail, "S3 ETag backfill: cannot read");
                None
            }
        }
    }
}
