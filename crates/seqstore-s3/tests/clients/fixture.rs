//! The objects every client test sees, and a manifest telling the Python clients about them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::memory::{MemorySource, Object};

pub const REGION: &str = "us-east-1";
pub const OWNER: &str = "111122223333";
/// 63 characters, as the domain's aliases are.
pub const ALIAS: &str = "111122223333-1234567-abcdefghijklmnopqrstuvwxyz0123use1-s3alias";
pub const ARN: &str = "arn:aws:s3:us-east-1:999999999999:accesspoint/111122223333-1234567890";
pub const HANDLE: &str = "111122223333-1234567890";
pub const KEY_ID: &str = "AKIASEQSTORETEST0001";
pub const SECRET: &str = "seqstore/test+secret/0001";
pub const OTHER_KEY_ID: &str = "AKIAOTHERACCOUNT0002";
pub const OTHER_SECRET: &str = "other/secret/0002";
pub const OTHER_ACCOUNT: &str = "444455556666";
pub const PREFIX: &str = "111122223333/sequenceStore/1234567890/";
/// Base domain for virtual-hosted-style tests (reached through an HTTP proxy setting).
pub const BASE_DOMAIN: &str = "s3.seqstore.test";

/// A deterministic, incompressible-looking pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

pub struct Fixture {
    pub source: Arc<MemorySource>,
    pub dir: tempfile::TempDir,
    /// Every object served, by key.
    objects: BTreeMap<String, Object>,
}

impl Fixture {
    /// The standard objects: a 9 MiB object (above the CLI's multipart threshold), a small
    /// one with tags, an empty one, odd key characters, an archived object, and enough read
    /// sets for pagination.
    pub fn new() -> Self {
        let source = Arc::new(MemorySource::default());
        source.add_access_point(ALIAS, ARN, OWNER);
        source.add_key(KEY_ID, SECRET, OWNER);
        source.add_key(OTHER_KEY_ID, OTHER_SECRET, OTHER_ACCOUNT);
        let mut f = Self {
            source,
            dir: tempfile::tempdir().unwrap(),
            objects: BTreeMap::new(),
        };
        let tags: BTreeMap<String, String> = [
            ("omics:subjectId", "subject-1"),
            ("omics:sampleId", "sample-1"),
            ("omics:readSetStatus", "ACTIVE"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        f.add(
            "readSet/1000000002/big.bin",
            pattern(9 * 1024 * 1024 + 123),
            false,
            BTreeMap::new(),
        );
        f.add(
            "readSet/1000000003/small.txt",
            b"hello seqstore\n".to_vec(),
            false,
            tags,
        );
        f.add(
            "readSet/1000000004/a b+c \u{fc}.txt",
            b"odd".to_vec(),
            false,
            BTreeMap::new(),
        );
        f.add(
            "readSet/1000000005/old.bam",
            pattern(1000),
            true,
            BTreeMap::new(),
        );
        f.add(
            "readSet/1000000006/empty.txt",
            Vec::new(),
            false,
            BTreeMap::new(),
        );
        for i in 0..12 {
            let dir = format!("readSet/20000000{i:02}");
            f.add(
                &format!("{dir}/r{i}_source1.fastq.gz"),
                pattern(100 + i),
                false,
                BTreeMap::new(),
            );
            f.add(
                &format!("{dir}/r{i}_source2.fastq.gz"),
                pattern(200 + i),
                false,
                BTreeMap::new(),
            );
        }
        f
    }

    /// Adds an object under the store prefix; `name` is relative to it.
    pub fn add(
        &mut self,
        name: &str,
        data: Vec<u8>,
        archived: bool,
        tags: BTreeMap<String, String>,
    ) {
        let key = format!("{PREFIX}{name}");
        let object = Object {
            etag: format!("{:016x}", fnv1a(&data)),
            data: Bytes::from(data),
            last_modified: Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap(),
            archived,
            tags,
            fail_after: None,
        };
        self.source.put(HANDLE, &key, object.clone());
        self.objects.insert(key, object);
    }

    /// An object whose stream fails after `fail_after` of its `size` bytes.
    pub fn add_broken(&mut self, name: &str, size: usize, fail_after: usize) {
        self.add(name, pattern(size), false, BTreeMap::new());
        let key = Self::key(name);
        let object = self.objects.get_mut(&key).unwrap();
        object.fail_after = Some(fail_after);
        self.source.put(HANDLE, &key, object.clone());
    }

    pub fn key(name: &str) -> String {
        format!("{PREFIX}{name}")
    }

    /// Writes every object to a file and a `manifest.json` for the Python clients; returns
    /// the manifest path.
    pub fn manifest(&self, endpoint: &str, port: u16) -> PathBuf {
        let files = self.dir.path().join("objects");
        std::fs::create_dir_all(&files).unwrap();
        let objects: Vec<_> = self
            .objects
            .iter()
            .enumerate()
            .map(|(i, (key, o))| {
                let path = files.join(format!("{i}.bin"));
                std::fs::write(&path, &o.data).unwrap();
                json!({
                    "key": key, "size": o.data.len(), "etag": o.etag, "path": path,
                    "archived": o.archived, "tags": o.tags,
                })
            })
            .collect();
        let manifest = json!({
            "endpoint": endpoint, "port": port, "region": REGION, "bucket": ALIAS, "arn": ARN,
            "key_id": KEY_ID, "secret": SECRET,
            "other_key_id": OTHER_KEY_ID, "other_secret": OTHER_SECRET,
            "prefix": PREFIX, "base_domain": BASE_DOMAIN, "objects": objects,
        });
        let path = self.dir.path().join("manifest.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
        path
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A stable content hash standing in for the domain's ETag (FNV-1a, 64 bits).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
