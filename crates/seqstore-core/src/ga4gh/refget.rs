//! refget v2: every sequence of every ACTIVE reference, named by the MD5 and the GA4GH
//! `sha512t24u` of its uppercased residues, served to callers that may read the reference.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use seqstore_formats::fasta::FastaIndex;
use tokio::sync::mpsc;

use super::{Ga4ghCaller, Ga4ghError, denied};
use crate::bridge::ChannelReader;
use crate::catalog::{ReferenceRecord, SequenceRecord, StoreKind};
use crate::{CoreError, Service};

/// References whose sequences are recorded per round of the background pass.
const BACKFILL_BATCH: u32 = 20;

/// Decompressed bytes handed to the response per chunk.
const SERVE_CHUNK: usize = 64 * 1024;

/// A sequence identifier as refget accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceId {
    /// `md5:<hex>` or bare 32 hex digits.
    Md5(String),
    /// `ga4gh:SQ.<sha512t24u>` or `SQ.<sha512t24u>`.
    Sha512t24u(String),
}

impl SequenceId {
    /// The identifier `text` names, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(digest) = text.strip_prefix("ga4gh:SQ.").or(text.strip_prefix("SQ.")) {
            let valid = digest.len() == 32
                && digest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            return valid.then(|| SequenceId::Sha512t24u(digest.to_owned()));
        }
        let digest = text.strip_prefix("md5:").unwrap_or(text);
        let valid = digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| SequenceId::Md5(digest.to_ascii_lowercase()))
    }

    fn digest(&self) -> &str {
        match self {
            SequenceId::Md5(d) | SequenceId::Sha512t24u(d) => d,
        }
    }
}

/// A sequence a caller may read, with the reference it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedSequence {
    /// The sequence, in the first reference holding it that the caller may read.
    pub sequence: SequenceRecord,
    /// That reference.
    pub reference: ReferenceRecord,
    /// Its names in every reference the caller may read, without repeats.
    pub aliases: Vec<String>,
}

impl Service {
    /// The sequence `id` names, if a reference the caller may read holds it.
    pub async fn refget_sequence(
        &self,
        caller: &Ga4ghCaller,
        id: &str,
    ) -> Result<ServedSequence, Ga4ghError> {
        let not_found = || Ga4ghError::NotFound(format!("no sequence {id}"));
        let id = SequenceId::parse(id).ok_or_else(not_found)?;
        let candidates = self.catalog.sequences_by_digest(id.digest()).await?;
        let mut served: Option<ServedSequence> = None;
        let mut held = false;
        for sequence in candidates {
            let matches = match &id {
                SequenceId::Md5(d) => &sequence.md5 == d,
                SequenceId::Sha512t24u(d) => &sequence.sha512t24u == d,
            };
            if !matches {
                continue;
            }
            let Some(reference) = self
                .catalog
                .reference(
                    &sequence.account_id,
                    &sequence.reference_store_id,
                    &sequence.reference_id,
                )
                .await?
            else {
                continue;
            };
            held = true;
            let key = self.reference_blob_key(&reference, &reference.source_file_name)?;
            let readable = self
                .ga4gh_may_read(
                    caller,
                    StoreKind::Reference,
                    &reference.account_id,
                    &reference.reference_store_id,
                    key.as_str(),
                )
                .await?;
            if !readable {
                continue;
            }
            match &mut served {
                Some(s) => {
                    if !s.aliases.contains(&sequence.name) {
                        s.aliases.push(sequence.name);
                    }
                }
                None => {
                    served = Some(ServedSequence {
                        aliases: vec![sequence.name.clone()],
                        sequence,
                        reference,
                    });
                }
            }
        }
        match served {
            Some(served) => Ok(served),
            None if held => Err(denied(caller, &format!("sequence {}", id.digest()))),
            None => Err(not_found()),
        }
    }

    /// Bases `range` (0-based, end exclusive, within the sequence) of a served sequence,
    /// uppercased, without line breaks.
    pub async fn refget_bases(
        &self,
        served: &ServedSequence,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, Ga4ghError> {
        let s = &served.sequence;
        if range.start > range.end || range.end > s.length {
            return Err(Ga4ghError::InvalidRange(format!(
                "{}..{} is outside the sequence's {} bases",
                range.start, range.end, s.length
            )));
        }
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let text =
            |base: u64| s.text_offset + base / s.line_bases * s.line_width + base % s.line_bases;
        let text_range = text(range.start)..text(range.end - 1) + 1;
        let r = &served.reference;
        let key = self.reference_blob_key(r, &r.source_file_name)?;
        let gzipped = self.reference_is_gzip(r).await?;
        let reading = format!("reading reference {}", r.id);
        if !gzipped {
            let stream = self
                .blobs
                .read_range(&key, text_range)
                .await
                .map_err(CoreError::storage(reading))?;
            return Ok(stream
                .map(|chunk| chunk.map(|c| residues(&c)).map_err(std::io::Error::other))
                .boxed());
        }
        // A gzip reference has no index of its members: decompress from the start.
        let size = r.source_size.max(0) as u64;
        let mut compressed = self
            .blobs
            .read_range(&key, 0..size)
            .await
            .map_err(CoreError::storage(reading))?;
        let (in_tx, in_rx) = mpsc::channel::<Bytes>(4);
        let (out_tx, out_rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
        tokio::spawn(async move {
            while let Some(chunk) = compressed.next().await {
                let Ok(chunk) = chunk else { return };
                if in_tx.send(chunk).await.is_err() {
                    return;
                }
            }
        });
        tokio::task::spawn_blocking(move || {
            let result = inflate_range(ChannelReader::new(in_rx), text_range, &out_tx);
            if let Err(e) = result {
                let _ = out_tx.blocking_send(Err(e));
            }
        });
        Ok(tokio_stream_of(out_rx))
    }

    /// Records the sequences of every ACTIVE reference imported before they were recorded
    /// at import; returns how many references it completed. A reference that cannot be
    /// read is logged and left for the next start.
    pub async fn backfill_reference_sequences(&self) -> usize {
        let mut done = 0;
        let mut failed = std::collections::HashSet::new();
        loop {
            let batch = match self
                .catalog
                .references_without_sequences(BACKFILL_BATCH + failed.len() as u32)
                .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "refget backfill: cannot list references");
                    return done;
                }
            };
            let todo: Vec<_> = batch
                .into_iter()
                .filter(|r| !failed.contains(&r.id))
                .collect();
            if todo.is_empty() {
                return done;
            }
            for r in todo {
                match self.index_stored_reference(&r).await {
                    Ok(()) => done += 1,
                    Err(e) => {
                        tracing::warn!(reference = %r.id, error = %crate::error_chain(&e), "refget backfill: cannot index");
                        failed.insert(r.id.clone());
                    }
                }
            }
        }
    }

    async fn index_stored_reference(&self, r: &ReferenceRecord) -> Result<(), CoreError> {
        let key = self.reference_blob_key(r, &r.source_file_name)?;
        let reading = format!("reading reference {}", r.id);
        let mut stream = self
            .blobs
            .read_range(&key, 0..r.source_size.max(0) as u64)
            .await
            .map_err(CoreError::storage(reading.clone()))?;
        let (tx, mut rx) = mpsc::channel::<Bytes>(4);
        let index = tokio::task::spawn_blocking(move || {
            let mut import = seqstore_formats::reference::ReferenceImport::new(u64::MAX);
            while let Some(chunk) = rx.blocking_recv() {
                import.push(&chunk)?;
            }
            import.finish()
        });
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(CoreError::storage(reading.clone()))?;
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
        drop(tx);
        let imported = index
            .await
            .map_err(|e| CoreError::Unavailable(format!("indexing panicked: {e}")))?
            .map_err(|e| {
                CoreError::Unavailable(format!("reference {} no longer parses: {e}", r.id))
            })?;
        let sequences = sequence_records(r, &imported.index);
        self.catalog
            .put_reference_sequences(&r.id, &sequences)
            .await?;
        Ok(())
    }
}

/// The catalog rows of a reference's sequences, from its index with digests.
pub(crate) fn sequence_records(r: &ReferenceRecord, index: &FastaIndex) -> Vec<SequenceRecord> {
    index
        .records
        .iter()
        .zip(0u32..)
        .filter_map(|(fai, ordinal)| {
            let digests = fai.digests.as_ref()?;
            Some(SequenceRecord {
                account_id: r.account_id.clone(),
                reference_store_id: r.reference_store_id.clone(),
                reference_id: r.id.clone(),
                ordinal,
                name: fai.name.clone(),
                length: fai.length,
                text_offset: fai.offset,
                line_bases: fai.line_bases,
                line_width: fai.line_width,
                md5: digests.md5.clone(),
                sha512t24u: digests.sha512t24u.clone(),
            })
        })
        .collect()
}

/// The residues of a piece of FASTA sequence text, uppercased, line breaks removed.
fn residues(text: &[u8]) -> Bytes {
    text.iter()
        .filter(|&&b| b != b'\n' && b != b'\r')
        .map(u8::to_ascii_uppercase)
        .collect::<Vec<u8>>()
        .into()
}

/// Decompresses a gzip reference, skipping to `text_range` and sending its residues.
fn inflate_range(
    reader: ChannelReader,
    text_range: Range<u64>,
    out: &mpsc::Sender<std::io::Result<Bytes>>,
) -> std::io::Result<()> {
    use std::io::Read;
    let mut text = flate2::read::MultiGzDecoder::new(reader);
    let skipped = std::io::copy(
        &mut (&mut text).take(text_range.start),
        &mut std::io::sink(),
    )?;
    if skipped < text_range.start {
        return Err(std::io::Error::other("the reference's text ends early"));
    }
    let mut left = text_range.end - text_range.start;
    let mut buffer = vec![0u8; SERVE_CHUNK];
    while left > 0 {
        let want = (left as usize).min(SERVE_CHUNK);
        let n = text.read(&mut buffer[..want])?;
        if n == 0 {
            return Err(std::io::Error::other("the reference's text ends early"));
        }
        left -= n as u64;
        if out.blocking_send(Ok(residues(&buffer[..n]))).is_err() {
            return Ok(()); // the client went away
        }
    }
    Ok(())
}

fn tokio_stream_of<T: Send + 'static>(mut rx: mpsc::Receiver<T>) -> BoxStream<'static, T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_with_and_without_namespaces() {
        let md5 = "f1f8f4bf413b16ad135722aa4591043e";
        let sq = "aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2";
        assert_eq!(SequenceId::parse(md5), Some(SequenceId::Md5(md5.into())));
        assert_eq!(
            SequenceId::parse(&format!("md5:{}", md5.to_uppercase())),
            Some(SequenceId::Md5(md5.into()))
        );
        for text in [format!("SQ.{sq}"), format!("ga4gh:SQ.{sq}")] {
            assert_eq!(
                SequenceId::parse(&text),
                Some(SequenceId::Sha512t24u(sq.into()))
            );
        }
        for bad in [
            "",
            "md5:",
            "SQ.",
            sq,
            "ga4gh:",
            &md5[1..],
            "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2x",
        ] {
            assert_eq!(SequenceId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn residues_lose_line_breaks_and_case() {
        assert_eq!(&residues(b"ac\r\ngT\nn")[..], b"ACGTN");
    }
}
