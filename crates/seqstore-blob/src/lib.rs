//! Blob storage: the key layout of stored files and a small seam over `object_store`
//! (local file system under the data dir by default, or any S3-compatible service).

mod layout;
mod sources;
mod sweep;

pub use layout::{BlobKey, BlobPrefix, KeyError};
pub use sources::{
    LocalRoots, S3SourceConfig, SourceError, SourceObject, Sources, bucket_of, file_path,
};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload, WriteMultipart};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobConfig {
    /// A directory on the local file system (created when missing).
    Local {
        /// Root directory.
        root: std::path::PathBuf,
    },
    /// A bucket of an S3-compatible service.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Endpoint URL; `None` means AWS.
        endpoint: Option<String>,
        /// Region.
        region: String,
        /// Use `http://ENDPOINT/BUCKET/KEY` instead of virtual-host style.
        path_style: bool,
        /// Static credentials; `None` reads the standard AWS environment variables.
        credentials: Option<(String, String)>,
    },
}

/// A failure of the blob layer, with its source.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The key does not exist.
    #[error("blob {0} not found")]
    NotFound(String),
    /// The key would escape the layout.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The local root cannot be created.
    #[error("cannot create blob directory {path}")]
    CreateRoot {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The object store failed.
    #[error("blob store error")]
    Store(#[source] object_store::Error),
    /// Walking a local store for staging files failed.
    #[error("cannot sweep staging files")]
    Sweep(#[source] std::io::Error),
    /// Reading a local blob failed (or it ended before the requested range did).
    #[error("cannot read blob {key}")]
    Read {
        /// The key.
        key: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl BlobError {
    /// Whether the volume ran out of space (`ENOSPC` anywhere in the chain).
    pub fn is_storage_full(&self) -> bool {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = next {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            {
                return true;
            }
            next = e.source();
        }
        false
    }
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => Self::NotFound(path),
            other => Self::Store(other),
        }
    }
}

/// Part size of streamed writes to S3 (its multipart minimum is 5 MiB).
const S3_WRITE_CHUNK: usize = 8 * 1024 * 1024;

/// Part size of streamed writes to a local directory: each write holds up to
/// `WRITE_CONCURRENCY + 1` of them, so this bounds the memory of every upload in flight.
const LOCAL_WRITE_CHUNK: usize = 1024 * 1024;

/// Parts of one streamed write in flight at once: bounds memory to a few chunks.
const WRITE_CONCURRENCY: usize = 4;

/// Size of one blocking read of a streamed local blob. `object_store` streams local files in
/// 8 KiB reads, each a separate blocking-pool task; the thread hand-offs, not the copying,
/// then cap a GetObject at ~250 MB/s (1 MiB reads: ~2.5 GB/s, as fast as nginx on loopback).
const READ_CHUNK: u64 = 1024 * 1024;

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its key as stored (it may be one this layout never writes).
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// Last written.
    pub modified: std::time::SystemTime,
}

/// A streamed write in progress.
#[derive(Debug)]
pub struct BlobWriter {
    inner: WriteMultipart,
}

impl BlobWriter {
    /// Appends bytes, waiting while too many parts are in flight.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.inner.wait_for_capacity(WRITE_CONCURRENCY).await?;
        self.inner.write(bytes);
        Ok(())
    }

    /// Makes the object visible under its key.
    pub async fn finish(self) -> Result<(), BlobError> {
        self.inner.finish().await?;
        Ok(())
    }

    /// Drops everything written; the key keeps its previous state.
    pub async fn abort(self) -> Result<(), BlobError> {
        self.inner.abort().await?;
        Ok(())
    }
}

/// The blob store used by the domain.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// The directory of a local store, for the staging sweep.
    local_root: Option<std::path::PathBuf>,
    /// Part size of streamed writes.
    write_chunk: usize,
}

impl BlobStore {
    /// Opens the configured store.
    pub fn open(config: &BlobConfig) -> Result<Self, BlobError> {
        let inner: Arc<dyn ObjectStore> = match config {
            BlobConfig::Local { root } => {
                std::fs::create_dir_all(root).map_err(|source| BlobError::CreateRoot {
                    path: root.clone(),
                    source,
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(root)?)
            }
            BlobConfig::S3 {
                bucket,
                endpoint,
                region,
                path_style,
                credentials,
            } => {
                let mut b = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_virtual_hosted_style_request(!path_style);
                if let Some(url) = endpoint {
                    b = b
                        .with_endpoint(url)
                        .with_allow_http(url.starts_with("http://"));
                }
                if let Some((id, secret)) = credentials {
                    b = b.with_access_key_id(id).with_secret_access_key(secret);
                }
                Arc::new(b.build()?)
            }
        };
        let local_root = match config {
            BlobConfig::Local { root } => Some(root.clone()),
            BlobConfig::S3 { .. } => None,
        };
        Ok(Self {
            inner,
            write_chunk: if local_root.is_some() {
                LOCAL_WRITE_CHUNK
            } else {
                S3_WRITE_CHUNK
            },
            local_root,
        })
    }

    /// Writes a whole object atomically (temp file + rename locally, one PUT on S3).
    pub async fn put(&self, key: &BlobKey, data: Bytes) -> Result<(), BlobError> {
        self.inner.put(&path(key), PutPayload::from(data)).await?;
        Ok(())
    }

    /// Reads `range` of an object.
    pub async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<Bytes, BlobError> {
        Ok(self.inner.get_range(&path(key), range).await?)
    }

    /// The size of an object.
    pub async fn size(&self, key: &BlobKey) -> Result<u64, BlobError> {
        Ok(self.inner.head(&path(key)).await?.size)
    }

    /// Streams `range` of an object without holding it in memory.
    pub async fn read_range(
        &self,
        key: &BlobKey,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        if let Some(file) = self.local_path(key) {
            return local_range(file, range, key.as_str().to_owned()).await;
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let result = self.inner.get_opts(&path(key), options).await?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(BlobError::from))
            .boxed())
    }

    /// Whether the store answers: a local store's directory exists; a bucket answers a HEAD
    /// (of a key that need not exist).
    pub async fn reachable(&self) -> Result<(), BlobError> {
        if let Some(root) = &self.local_root {
            let failed = |source| BlobError::Read {
                key: root.display().to_string(),
                source,
            };
            return match std::fs::metadata(root) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(failed(std::io::Error::other("not a directory"))),
                Err(e) => Err(failed(e)),
            };
        }
        match self
            .inner
            .head(&Path::from("seqstore-readiness-probe"))
            .await
        {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Bytes free for an unprivileged writer on a local store's volume; `None` for an object
    /// store, or when the volume cannot be asked.
    pub fn free_bytes(&self) -> Option<u64> {
        let stat = rustix::fs::statvfs(self.local_root.as_deref()?).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    /// Starts a streamed write; nothing is visible under `key` until
    /// [`BlobWriter::finish`] (temp file + rename locally, multipart commit on S3).
    pub async fn writer(&self, key: &BlobKey) -> Result<BlobWriter, BlobError> {
        let upload = self.inner.put_multipart(&path(key)).await?;
        Ok(BlobWriter {
            inner: WriteMultipart::new_with_chunk_size(upload, self.write_chunk),
        })
    }

    /// The file behind `key` when the store is a local directory (CRAM decoding needs
    /// random access to the reference).
    pub fn local_path(&self, key: &BlobKey) -> Option<std::path::PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key.as_str()))
    }

    /// Deletes every object under `prefix`.
    pub async fn delete_prefix(&self, prefix: &BlobPrefix) -> Result<(), BlobError> {
        let mut listing = self.inner.list(Some(&Path::from(prefix.as_str())));
        while let Some(meta) = listing.next().await {
            self.delete_path(&meta?.location).await?;
        }
        Ok(())
    }

    /// Every stored object (the staging files of unfinished local writes excepted: see
    /// [`Self::sweep_staging`]), in no particular order.
    pub fn list(&self) -> BoxStream<'_, Result<StoredObject, BlobError>> {
        self.inner
            .list(None)
            .map(|meta| {
                let meta = meta?;
                Ok(StoredObject {
                    key: meta.location.to_string(),
                    size: meta.size,
                    modified: meta.last_modified.into(),
                })
            })
            .boxed()
    }

    /// Removes what interrupted writes left behind on a local store: staging files
    /// (`name#N`) last modified before `cutoff`, and the empty directories aborted writes
    /// leave; with `dry_run` nothing is removed. Returns the staging files' paths relative
    /// to the root. On S3 an incomplete multipart upload is the bucket's lifecycle rules'
    /// business.
    pub fn sweep_staging(
        &self,
        cutoff: std::time::SystemTime,
        dry_run: bool,
    ) -> Result<Vec<String>, BlobError> {
        match &self.local_root {
            Some(root) => sweep::sweep(root, cutoff, dry_run).map_err(BlobError::Sweep),
            None => Ok(Vec::new()),
        }
    }

    /// Moves an object to `to`, replacing what was there (a rename locally, a copy and a
    /// delete on S3).
    pub async fn rename(&self, from: &BlobKey, to: &BlobKey) -> Result<(), BlobError> {
        self.inner.rename(&path(from), &path(to)).await?;
        Ok(())
    }

    /// Deletes an object; deleting a missing key is not an error.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.delete_path(&path(key)).await
    }

    async fn delete_path(&self, path: &Path) -> Result<(), BlobError> {
        match self.inner.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn path(key: &BlobKey) -> Path {
    Path::from(key.as_str())
}

/// Streams `range` of the local file `path`. A range of up to [`READ_CHUNK`] that the kernel
/// holds in memory is read on the calling thread ([`read_cached`]); otherwise opening the file
/// and reading the first chunk are one blocking task, then [`local_chunks`].
async fn local_range(
    path: std::path::PathBuf,
    range: Range<u64>,
    key: String,
) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
    if let Some(bytes) = read_cached(&path, &range) {
        return Ok(futures::stream::once(async { Ok(bytes) }).boxed());
    }
    let failed_key = key.clone();
    tokio::task::spawn_blocking(move || {
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(key));
            }
            Err(source) => return Err(BlobError::Read { key, source }),
        };
        let first = if range.is_empty() {
            None
        } else {
            Some(read_chunk(&mut file, range.start, range.end, &key)?)
        };
        let start = range.start + first.as_ref().map_or(0, |b| b.len() as u64);
        let rest = local_chunks(file, start..range.end, key);
        Ok(match first {
            Some(first) => futures::stream::once(async { Ok(first) })
                .chain(rest)
                .boxed(),
            None => rest,
        })
    })
    .await
    .unwrap_or_else(|e| {
        Err(BlobError::Read {
            key: failed_key,
            source: std::io::Error::other(e),
        })
    })
}

/// All of `range` (at most [`READ_CHUNK`] bytes) when neither opening the file nor reading it
/// waits for the disk: the path is resolved from the dentry cache only (`openat2`
/// `RESOLVE_CACHED`) and the bytes come from the page cache only (`preadv2` `RWF_NOWAIT`), so
/// that an async thread may do both. `None` when either would wait, the kernel cannot, the
/// file is missing or shorter: the caller then reads on a blocking thread, which reports those.
fn read_cached(path: &std::path::Path, range: &Range<u64>) -> Option<Bytes> {
    use rustix::fs::{CWD, Mode, OFlags, ResolveFlags, openat2};
    use rustix::io::{ReadWriteFlags, preadv2};

    let len = usize::try_from(range.end.checked_sub(range.start)?)
        .ok()
        .filter(|&len| len > 0 && len as u64 <= READ_CHUNK)?;
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let file = openat2(CWD, path, flags, Mode::empty(), ResolveFlags::CACHED).ok()?;
    let mut buf = vec![0; len];
    let read = preadv2(
        &file,
        &mut [std::io::IoSliceMut::new(&mut buf)],
        range.start,
        ReadWriteFlags::NOWAIT,
    )
    .ok()?;
    (read == len).then(|| Bytes::from(buf))
}

/// Up to [`READ_CHUNK`] bytes of `file` from `start` (before `end`); an error if none are
/// left.
fn read_chunk(
    file: &mut std::fs::File,
    start: u64,
    end: u64,
    key: &str,
) -> Result<Bytes, BlobError> {
    let len = (end - start).min(READ_CHUNK);
    let mut buf = Vec::with_capacity(len as usize);
    let read = file
        .seek(SeekFrom::Start(start))
        .and_then(|_| file.take(len).read_to_end(&mut buf));
    match read {
        Ok(0) => Err(BlobError::Read {
            key: key.to_owned(),
            source: std::io::ErrorKind::UnexpectedEof.into(),
        }),
        Ok(_) => Ok(Bytes::from(buf)),
        Err(source) => Err(BlobError::Read {
            key: key.to_owned(),
            source,
        }),
    }
}

/// Streams `range` of a local file in [`READ_CHUNK`] reads on the blocking pool, one at a
/// time as the consumer asks: memory stays at one chunk whatever the file size.
fn local_chunks(
    file: std::fs::File,
    range: Range<u64>,
    key: String,
) -> BoxStream<'static, Result<Bytes, BlobError>> {
    futures::stream::try_unfold((file, range, key), |(mut file, range, key)| async move {
        if range.is_empty() {
            return Ok(None);
        }
        let failed_key = key.clone();
        tokio::task::spawn_blocking(move || {
            let chunk = read_chunk(&mut file, range.start, range.end, &key)?;
            let next = range.start + chunk.len() as u64;
            Ok(Some((chunk, (file, next..range.end, key))))
        })
        .await
        .unwrap_or_else(|e| {
            Err(BlobError::Read {
                key: failed_key,
                source: std::io::Error::other(e),
            })
        })
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_put_range_size_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&BlobConfig::Local {
            root: dir.path().join("blobs"),
        })
        .unwrap();
        let key = BlobPrefix::reference("111122223333", "0000000001", "0000000002")
            .unwrap()
            .file("ref.fa")
            .unwrap();
        store
            .put(&key, Bytes::from_static(b">chr1\nACGT\n"))
            .await
            .unwrap();
        assert!(
            dir.path().join("blobs").join(key.as_str()).is_file(),
            "stored under the layout key"
        );
        assert_eq!(store.size(&key).await.unwrap(), 11);
        assert_eq!(&store.get_range(&key, 1..5).await.unwrap()[..], b"chr1");
        store.delete(&key).await.unwrap();
        assert!(matches!(
            store.size(&key).await,
            Err(BlobError::NotFound(_))
        ));
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn a_small_cached_range_is_read_without_a_blocking_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&BlobConfig::Local {
            root: dir.path().to_owned(),
        })
        .unwrap();
        let key = BlobPrefix::reference("111122223333", "0000000001", "0000000002")
            .unwrap()
            .file("ref.fa")
            .unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
        let file = dir.path().join(key.as_str());
        // Just written, so in the page cache: read on this thread, exactly.
        assert_eq!(
            read_cached(&file, &(1000..66_536)).as_deref(),
            Some(&bytes[1000..66_536])
        );
        // Past the end, empty, too long or missing: the blocking path decides.
        assert_eq!(read_cached(&file, &(199_990..200_010)), None);
        assert_eq!(read_cached(&file, &(5..5)), None);
        assert_eq!(read_cached(&file, &(0..READ_CHUNK + 1)), None);
        assert_eq!(read_cached(&dir.path().join("missing"), &(0..10)), None);
        let mut s = store.read_range(&key, 199_990..200_010).await.unwrap();
        let mut got = Vec::new();
        let mut failed = false;
        while let Some(chunk) = s.next().await {
            match chunk {
                Ok(chunk) => got.extend_from_slice(&chunk),
                Err(_) => failed = true,
            }
        }
        assert_eq!(got, &bytes[199_990..]);
        assert!(failed, "a range past the end is an error");
        let mut s = store.read_range(&key, 7..70_007).await.unwrap();
        assert_eq!(&s.next().await.unwrap().unwrap()[..], &bytes[7..70_007]);
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn streamed_writes_appear_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&BlobConfig::Local {
            root: dir.path().to_owned(),
        })
        .unwrap();
        let (ab, ac) = (
            BlobKey::recorded("a/b").unwrap(),
            BlobKey::recorded("a/c").unwrap(),
        );
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = store.writer(&ab).await.unwrap();
        for chunk in data.chunks(1_000_003) {
            w.write(chunk).await.unwrap();
        }
        assert!(matches!(store.size(&ab).await, Err(BlobError::NotFound(_))));
        w.finish().await.unwrap();
        assert_eq!(store.size(&ab).await.unwrap(), data.len() as u64);
        let mut got = Vec::new();
        let mut s = store.read_range(&ab, 5..9_000_005).await.unwrap();
        while let Some(chunk) = s.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, &data[5..9_000_005]);

        let mut s = store.read_range(&ab, 19_999_990..20_000_000).await.unwrap();
        assert_eq!(&s.next().await.unwrap().unwrap()[..], &data[19_999_990..]);
        assert!(s.next().await.is_none());

        let mut w = store.writer(&ac).await.unwrap();
        w.write(b"partial").await.unwrap();
        w.abort().await.unwrap();
        assert!(matches!(store.size(&ac).await, Err(BlobError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_blob_truncated_while_streamed_ends_in_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ab = BlobKey::recorded("a/b").unwrap();
        let store = BlobStore::open(&BlobConfig::Local {
            root: dir.path().to_owned(),
        })
        .unwrap();
        store
            .put(&ab, Bytes::from(vec![7u8; 3 * 1024 * 1024]))
            .await
            .unwrap();
        let mut s = store.read_range(&ab, 0..3 * 1024 * 1024).await.unwrap();
        assert_eq!(s.next().await.unwrap().unwrap().len(), 1024 * 1024);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("a/b"))
            .unwrap()
            .set_len(1024 * 1024 + 10)
            .unwrap();
        assert_eq!(s.next().await.unwrap().unwrap().len(), 10);
        let err = s.next().await.unwrap().unwrap_err();
        assert!(matches!(err, BlobError::Read { .. }), "{err:?}");
        assert!(s.next().await.is_none());
    }
}
