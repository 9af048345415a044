//! Moving one stored file between the active tier and the archive tier. A copy is trusted
//! only once it was read back to the file's recorded size and MD5: the archive copy is
//! unpacked before the read set becomes ARCHIVED, and a restored file is published under
//! its key only when its bytes match (spec D.4: same key, same S3 URI, same bytes).

use crate::bridge::{ChannelReader, ChannelWriter};
use crate::ingest::{CHANNEL_DEPTH, INPUT_CHUNK, SourceStream, coalesce};
use crate::jobs::kind::ItemError;
use crate::{Service, error_chain};
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use seqstore_blob::{BlobError, BlobKey, BlobStore, BlobWriter};
use seqstore_formats::archive::{PackError, Packing, pack, unpack};
use tokio::sync::mpsc;

/// A stored file of a read set, as the catalog records it.
#[derive(Debug, Clone)]
pub(crate) struct TierFile {
    /// Its key, the same in both tiers.
    pub(crate) key: BlobKey,
    /// Its size in the active tier.
    pub(crate) size: u64,
    /// Its recorded S3 MD5 (hex).
    pub(crate) md5: String,
}

impl TierFile {
    fn name(&self) -> &str {
        self.key.as_str().rsplit('/').next().unwrap_or_default()
    }
}

/// Size and MD5 of bytes that went by.
#[derive(Default)]
struct Seen {
    size: u64,
    md5: Md5,
}

impl Seen {
    fn update(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        self.md5.update(chunk);
    }

    fn matches(self, file: &TierFile) -> Result<(), String> {
        let md5 = hex::encode(self.md5.finalize());
        if self.size == file.size && md5 == file.md5 {
            Ok(())
        } else {
            Err(format!(
                "{} bytes with MD5 {md5}; recorded {} bytes with MD5 {}",
                self.size, file.size, file.md5
            ))
        }
    }
}

impl Service {
    /// Writes the archive copy of `file` and checks that it restores exactly; returns its
    /// size. A file whose gzip members cannot be re-encoded exactly is archived as it is.
    pub(crate) async fn archive_file(
        &self,
        archive: &BlobStore,
        file: &TierFile,
        level: i32,
    ) -> Result<u64, ItemError> {
        let mut packing = Packing::Deflate;
        loop {
            match self.pack_file(archive, file, packing, level).await? {
                Ok(size) => return Ok(size),
                Err(why) if packing == Packing::Deflate => {
                    tracing::info!(key = %file.key, why, "archiving the file as it is");
                    packing = Packing::Raw;
                }
                Err(why) => {
                    return Err(ItemError::Internal(format!(
                        "the raw archive copy of {} does not restore: {why}",
                        file.key
                    )));
                }
            }
        }
    }

    /// One attempt at archiving `file` with `packing`: the outer error fails the item, the
    /// inner one says why this packing cannot hold the file exactly.
    async fn pack_file(
        &self,
        archive: &BlobStore,
        file: &TierFile,
        packing: Packing,
        level: i32,
    ) -> Result<Result<u64, String>, ItemError> {
        let source = self.read_whole(&self.blobs, &file.key, file.size).await?;
        let mut writer = archive
            .writer(&file.key)
            .await
            .map_err(ItemError::from_write(file.name()))?;
        let piped = pipe(
            source,
            move |input, output| pack(input, output, packing, level),
            Some(&mut writer),
        )
        .await;
        let (packed, source_seen, archive_seen) = match piped {
            Ok(done) => done,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(e);
            }
        };
        let refused = match packed {
            Ok(_) => match source_seen.matches(file) {
                Ok(()) => None,
                Err(why) => Some(Err(ItemError::Failed(format!(
                    "stored file {} is not as recorded ({why}); not archived",
                    file.name()
                )))),
            },
            Err(PackError::NotReproducible(why)) => Some(Ok(Err(why))),
            Err(PackError::Io(e)) => Some(Err(ItemError::Internal(format!(
                "packing {}: {e}",
                file.key
            )))),
        };
        if let Some(refused) = refused {
            let _ = writer.abort().await;
            return refused;
        }
        writer
            .finish()
            .await
            .map_err(ItemError::from_write(file.name()))?;
        Ok(self
            .verify_archived(archive, file)
            .await?
            .map(|()| archive_seen.size))
    }

    /// Restores `file` from its archive copy to its key in the active tier; the key is
    /// written only when the restored bytes have the recorded size and MD5.
    pub(crate) async fn restore_file(
        &self,
        archive: &BlobStore,
        file: &TierFile,
    ) -> Result<(), ItemError> {
        let mut writer = self
            .blobs
            .writer(&file.key)
            .await
            .map_err(ItemError::from_write(file.name()))?;
        let restored = self.unpack_file(archive, file, Some(&mut writer)).await;
        match restored.map(|seen| seen.matches(file)) {
            Ok(Ok(())) => writer
                .finish()
                .await
                .map_err(ItemError::from_write(file.name())),
            Ok(Err(why)) => {
                let _ = writer.abort().await;
                Err(ItemError::Failed(format!(
                    "the archive copy of {} restores to other bytes ({why}); it is kept in the archive",
                    file.name()
                )))
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Whether the archive copy of `file` restores to its recorded size and MD5 (the inner
    /// error says how it differs).
    pub(crate) async fn verify_archived(
        &self,
        archive: &BlobStore,
        file: &TierFile,
    ) -> Result<Result<(), String>, ItemError> {
        match self.unpack_file(archive, file, None).await {
            Ok(seen) => Ok(seen.matches(file)),
            Err(ItemError::Failed(why)) => Ok(Err(why)),
            Err(e) => Err(e),
        }
    }

    /// Unpacks the archive copy of `file`, writing the bytes to `sink` if given.
    async fn unpack_file(
        &self,
        archive: &BlobStore,
        file: &TierFile,
        sink: Option<&mut BlobWriter>,
    ) -> Result<Seen, ItemError> {
        let size = archive.size(&file.key).await.map_err(|e| match e {
            BlobError::NotFound(_) => {
                ItemError::Failed(format!("the archive copy of {} is missing", file.name()))
            }
            e => ItemError::Internal(error_chain(&e)),
        })?;
        let packed = self.read_whole(archive, &file.key, size).await?;
        let (unpacked, _, restored) =
            pipe(packed, |input, output| unpack(input, output), sink).await?;
        unpacked.map_err(|e| {
            ItemError::Failed(format!(
                "the archive copy of {} cannot be read back: {e}",
                file.name()
            ))
        })?;
        Ok(restored)
    }

    /// Every byte of `key` in `store`, in chunks of at least [`INPUT_CHUNK`].
    async fn read_whole(
        &self,
        store: &BlobStore,
        key: &BlobKey,
        size: u64,
    ) -> Result<SourceStream, ItemError> {
        if size == 0 {
            return Ok(futures::stream::empty().boxed());
        }
        let stream = store.read_range(key, 0..size).await.map_err(|e| match e {
            BlobError::NotFound(_) => ItemError::Failed(format!("stored file {key} is missing")),
            e => ItemError::Internal(error_chain(&e)),
        })?;
        Ok(coalesce(
            stream
                .map(|chunk| chunk.map_err(|e| ItemError::Internal(error_chain(&e))))
                .boxed(),
            INPUT_CHUNK,
        ))
    }
}

/// Streams `input` through `work` on a blocking thread and its output into `sink` (when
/// given); returns what `work` returned with the size and MD5 of the input and the output.
async fn pipe<R: Send + 'static>(
    mut input: SourceStream,
    work: impl FnOnce(ChannelReader, &mut ChannelWriter) -> R + Send + 'static,
    mut sink: Option<&mut BlobWriter>,
) -> Result<(R, Seen, Seen), ItemError> {
    let (in_tx, in_rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
    let worker = tokio::task::spawn_blocking(move || {
        let mut output = ChannelWriter::new(out_tx);
        let result = work(ChannelReader::new(in_rx), &mut output);
        std::io::Write::flush(&mut output).ok();
        result
    });
    let feed = async move {
        let mut seen = Seen::default();
        while let Some(chunk) = input.next().await {
            let chunk = chunk?;
            seen.update(&chunk);
            if in_tx.send(chunk).await.is_err() {
                break; // the worker stopped early: it says why
            }
        }
        Ok::<_, ItemError>(seen)
    };
    let drain = async move {
        let mut seen = Seen::default();
        while let Some(chunk) = out_rx.recv().await {
            seen.update(&chunk);
            if let Some(writer) = sink.as_deref_mut() {
                writer
                    .write(&chunk)
                    .await
                    .map_err(ItemError::from_write("an archive or restored file"))?;
            }
        }
        Ok::<_, ItemError>(seen)
    };
    // The first failure drops the other side, and with it its end of a channel: the
    // blocking thread cannot then wait for ever on a full or empty one.
    let streamed = futures::future::try_join(feed, drain).await;
    let result = worker
        .await
        .map_err(|e| ItemError::Internal(format!("the packing thread panicked: {e}")))?;
    let (fed, drained) = streamed?;
    Ok((result, fed, drained))
}
