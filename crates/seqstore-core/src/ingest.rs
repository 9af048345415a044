//! Ingesting one read set source: the bytes stream in once (staged upload parts or the
//! user's S3 object), a blocking thread validates, counts and hashes them while writing
//! the file to store, and the async side moves bytes to and from blob storage.

use crate::bridge::{ChannelReader, ChannelWriter};
use crate::catalog::{ReadSetRecord, ReferenceRecord};
use crate::jobs::kind::ItemError;
use crate::{Service, Timestamp};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use md5::{Digest, Md5};
use seqstore_blob::BlobKey;
use seqstore_formats::etag::EtagFamily;
use seqstore_formats::read_set::{IngestOptions, SourceKind, SourceSummary, ingest};
use std::path::PathBuf;
use tokio::sync::mpsc;

/// Chunks (about 1 MiB each) in flight on each side of the blocking thread: 4 keep it busy
/// (a chunk is milliseconds of work); each one more costs every running ingestion 2 MiB.
pub(crate) const CHANNEL_DEPTH: usize = 4;

/// Source bytes cross to the blocking thread in chunks of at least this size (blob and S3
/// streams yield a few KiB at a time; a channel message each would dominate the cost).
pub(crate) const INPUT_CHUNK: usize = 1 << 20;

/// A source stream of bytes with the error that may interrupt it.
pub(crate) type SourceStream = BoxStream<'static, Result<Bytes, ItemError>>;

/// The stored result of one source.
pub(crate) struct StoredSource {
    pub(crate) summary: SourceSummary,
    pub(crate) file_name: String,
    pub(crate) size: u64,
    /// MD5 (hex) of the stored bytes: the file's S3 ETag.
    pub(crate) md5: String,
}

/// Everything needed to ingest the sources of one read set.
pub(crate) struct IngestPlan {
    pub(crate) kind: SourceKind,
    pub(crate) family: EtagFamily,
    /// `@CO` provenance line for BAM/uBAM/CRAM headers.
    pub(crate) provenance: String,
    /// A local FASTA (+ `.fai`) for CRAM; kept alive by `_reference_dir`.
    pub(crate) reference: Option<PathBuf>,
    pub(crate) _reference_dir: Option<tempfile::TempDir>,
}

impl Service {
    /// Ingests one source into the stored file `file_name`, written at `key`.
    pub(crate) async fn ingest_source(
        &self,
        plan: &IngestPlan,
        key: &BlobKey,
        file_name: &str,
        source: SourceStream,
    ) -> Result<StoredSource, ItemError> {
        let file_type = kind_label(plan.kind);
        let mut counted = self.metrics.ingestion(file_type);
        let metrics = &self.metrics;
        let mut source = coalesce(source, INPUT_CHUNK);
        let mut writer = self
            .blobs
            .writer(key)
            .await
            .map_err(ItemError::from_write(file_name))?;
        let (in_tx, in_rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let (kind, family, provenance, reference) = (
            plan.kind,
            plan.family,
            plan.provenance.clone(),
            plan.reference.clone(),
        );
        let worker = tokio::task::spawn_blocking(move || {
            let mut out = ChannelWriter::new(out_tx);
            let options = IngestOptions {
                family,
                provenance: (kind != SourceKind::Fastq).then_some(provenance),
                reference: reference.as_deref(),
            };
            let result = ingest(kind, ChannelReader::new(in_rx), Some(&mut out), &options);
            std::io::Write::flush(&mut out).ok();
            result
        });
        let feed = async move {
            while let Some(chunk) = source.next().await {
                let chunk = chunk?;
                metrics.ingested(file_type, chunk.len() as u64);
                if in_tx.send(chunk).await.is_err() {
                    break; // the validator stopped early: it reports why
                }
            }
            Ok::<(), ItemError>(())
        };
        // The stored file's MD5 (its S3 ETag) is taken here, on the async side, while the
        // blocking thread goes on parsing.
        let sink = &mut writer;
        let drain = async move {
            let mut size = 0u64;
            let mut md5 = Md5::new();
            while let Some(chunk) = out_rx.recv().await {
                size += chunk.len() as u64;
                md5.update(&chunk);
                sink.write(&chunk)
                    .await
                    .map_err(ItemError::from_write(file_name))?;
            }
            Ok::<_, ItemError>((size, hex::encode(md5.finalize())))
        };
        // The first failure drops the other side, and with it its end of a channel: the
        // blocking thread cannot then wait for ever on a full or empty one.
        let streamed = futures::future::try_join(feed, drain).await;
        let checked = worker
            .await
            .map_err(|e| ItemError::Internal(format!("ingestion panicked: {e}")))?;
        let outcome = match (streamed, checked) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(ItemError::Failed(e.to_string())),
            (Ok(((), stored)), Ok(summary)) => Ok((stored, summary)),
        };
        let settled = settle(writer, outcome).await;
        counted.finished(&settled);
        let ((size, md5), summary) = settled?;
        Ok(StoredSource {
            summary,
            file_name: file_name.to_owned(),
            size,
            md5,
        })
    }

    /// The plan for a read set: its kind, the store's ETag family, and for CRAM the local
    /// copy of the linked reference.
    pub(crate) async fn ingest_plan(
        &self,
        read_set: &ReadSetRecord,
    ) -> Result<IngestPlan, ItemError> {
        let kind = read_set.file_type.source_kind();
        let family = self.etag_family(read_set).await?;
        let provenance = format!(
            "@CO\tHealthOmics sequence store {} ingested {}",
            read_set.sequence_store_id,
            chrono::DateTime::<chrono::Utc>::from(Timestamp::now())
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
        let (reference, dir) = match (&read_set.reference_arn, kind) {
            (Some(arn), SourceKind::Cram) => {
                let r = self
                    .reference_by_arn(&read_set.account_id, arn)
                    .await
                    .map_err(|e| ItemError::Failed(format!("linked reference: {e}")))?;
                let (path, dir) = self.local_reference(&r).await?;
                (Some(path), dir)
            }
            _ => (None, None),
        };
        Ok(IngestPlan {
            kind,
            family,
            provenance,
            reference,
            _reference_dir: dir,
        })
    }

    /// The ETag family of the read set's store.
    pub(crate) async fn etag_family(
        &self,
        read_set: &ReadSetRecord,
    ) -> Result<EtagFamily, ItemError> {
        let store = self
            .catalog
            .sequence_store(&read_set.account_id, &read_set.sequence_store_id)
            .await
            .map_err(|e| ItemError::Transient(e.to_string()))?
            .ok_or_else(|| ItemError::Failed("the sequence store was deleted".into()))?;
        Ok(store.etag_algorithm_family)
    }

    /// A random-access FASTA with its `.fai` for CRAM decoding: the stored files when blobs
    /// are local and uncompressed, otherwise a decompressed copy in a temp dir.
    async fn local_reference(
        &self,
        r: &ReferenceRecord,
    ) -> Result<(PathBuf, Option<tempfile::TempDir>), ItemError> {
        let source_key = self.reference_blob_key(r, &r.source_file_name)?;
        let gzipped = self.reference_is_gzip(r).await.map_err(|e| {
            ItemError::Internal(format!(
                "reading reference {}: {}",
                r.id,
                crate::error_chain(&e)
            ))
        })?;
        if let (Some(path), false) = (self.blobs.local_path(&source_key), gzipped) {
            return Ok((path, None));
        }
        let internal = |e: &dyn std::fmt::Display| {
            ItemError::Internal(format!("materializing reference {}: {e}", r.id))
        };
        let dir = tempfile::tempdir().map_err(|e| internal(&e))?;
        let fasta = dir.path().join("reference.fa");
        let mut stream = self
            .blobs
            .read_range(&source_key, 0..r.source_size as u64)
            .await
            .map_err(|e| internal(&e))?;
        let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let target = fasta.clone();
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let file = std::io::BufWriter::new(std::fs::File::create(&target)?);
            let mut reader = ChannelReader::new(rx);
            let mut file = file;
            if gzipped {
                std::io::copy(&mut flate2::read::MultiGzDecoder::new(reader), &mut file)?;
            } else {
                std::io::copy(&mut reader, &mut file)?;
            }
            std::io::Write::flush(&mut file)
        });
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| internal(&e))?;
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
        drop(tx);
        writer
            .await
            .map_err(|e| internal(&e))?
            .map_err(|e| internal(&e))?;
        let fai_key = self.reference_blob_key(r, &crate::references::index_name(r))?;
        let mut fai = Vec::new();
        let mut s = self
            .blobs
            .read_range(&fai_key, 0..r.index_size as u64)
            .await
            .map_err(|e| internal(&e))?;
        while let Some(chunk) = s.next().await {
            fai.extend_from_slice(&chunk.map_err(|e| internal(&e))?);
        }
        std::fs::write(dir.path().join("reference.fa.fai"), fai).map_err(|e| internal(&e))?;
        Ok((fasta, Some(dir)))
    }
}

/// The `file_type` label of a source's metrics.
fn kind_label(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Fastq => "FASTQ",
        SourceKind::Bam => "BAM",
        SourceKind::Ubam => "UBAM",
        SourceKind::Cram => "CRAM",
    }
}

/// Ends a streamed write: published when `outcome` is a success, discarded otherwise.
pub(crate) async fn settle<T>(
    writer: seqstore_blob::BlobWriter,
    outcome: Result<T, ItemError>,
) -> Result<T, ItemError> {
    match outcome {
        Ok(done) => {
            writer
                .finish()
                .await
                .map_err(ItemError::from_write("a stored file"))?;
            Ok(done)
        }
        Err(e) => {
            let _ = writer.abort().await;
            Err(e)
        }
    }
}

/// Regroups a stream into chunks of at least `target` bytes (the last may be shorter).
pub(crate) fn coalesce(stream: SourceStream, target: usize) -> SourceStream {
    futures::stream::unfold(
        (stream, bytes::BytesMut::new(), false),
        move |(mut s, mut buf, done)| async move {
            if done {
                return None;
            }
            loop {
                match s.next().await {
                    Some(Ok(chunk)) if buf.is_empty() && chunk.len() >= target => {
                        return Some((Ok(chunk), (s, buf, false)));
                    }
                    Some(Ok(chunk)) => {
                        buf.extend_from_slice(&chunk);
                        if buf.len() >= target {
                            let out = buf.split().freeze();
                            return Some((Ok(out), (s, buf, false)));
                        }
                    }
                    Some(Err(e)) => return Some((Err(e), (s, buf, true))),
                    None if buf.is_empty() => return None,
                    None => {
                        let out = buf.split().freeze();
                        return Some((Ok(out), (s, buf, true)));
                    }
                }
            }
        },
    )
    .boxed()
}

/// Stored file names (spec D.6): `<name>_source1.fastq.gz`, `<name>.bam`, `<name>.cram`;
/// characters outside `[A-Za-z0-9._-]` become `_`.
pub(crate) fn stored_name(read_set_name: &str, kind: SourceKind, source: u8) -> String {
    let clean: String = read_set_name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = if clean.trim_matches('.').is_empty() {
        "readset".to_owned()
    } else {
        clean
    };
    match kind {
        SourceKind::Fastq => format!("{clean}_source{source}.fastq.gz"),
        SourceKind::Bam | SourceKind::Ubam => format!("{clean}.bam"),
        SourceKind::Cram => format!("{clean}.cram"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn coalescing_keeps_every_byte_in_order() {
        let pieces: Vec<Result<Bytes, ItemError>> =
            (0..100u8).map(|i| Ok(Bytes::from(vec![i; 7]))).collect();
        let out: Vec<Bytes> = coalesce(futures::stream::iter(pieces).boxed(), 50)
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert!(out[..out.len() - 1].iter().all(|c| c.len() >= 50));
        let joined: Vec<u8> = out.concat();
        let expected: Vec<u8> = (0..100u8).flat_map(|i| vec![i; 7]).collect();
        assert_eq!(joined, expected);
    }

    #[test]
    fn stored_names_are_safe_keys() {
        assert_eq!(
            stored_name("NA12878 run/1", SourceKind::Fastq, 2),
            "NA12878_run_1_source2.fastq.gz"
        );
        assert_eq!(stored_name("..", SourceKind::Bam, 1), "readset.bam");
        assert_eq!(
            stored_name("sample.x", SourceKind::Cram, 1),
            "sample.x.cram"
        );
    }
}
