//! One blob suite, run against both backends: a local directory in a temp dir and a bucket of
//! the S3 server named by `SEQSTORE_TEST_S3_ENDPOINT` (moto in `scripts/test-all`; a fresh
//! bucket per test). Without that variable the S3 cases are skipped locally and fail under `CI`.

use bytes::Bytes;
use futures::StreamExt;
use seqstore_blob::{BlobConfig, BlobError, BlobKey, BlobPrefix, BlobStore};
use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

struct Fixture {
    store: BlobStore,
    _dir: Option<tempfile::TempDir>,
}

fn local() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(&BlobConfig::Local {
        root: dir.path().join("blobs"),
    })
    .unwrap();
    Some(Fixture {
        store,
        _dir: Some(dir),
    })
}

fn s3() -> Option<Fixture> {
    let Ok(endpoint) = std::env::var("SEQSTORE_TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "SEQSTORE_TEST_S3_ENDPOINT is not set: the S3 blob backend must be tested in CI"
        );
        eprintln!("SEQSTORE_TEST_S3_ENDPOINT is not set: skipping the S3 case");
        return None;
    };
    let bucket = format!("conformance-{:016x}", rand_u64());
    create_bucket(&endpoint, &bucket);
    let store = BlobStore::open(&BlobConfig::S3 {
        bucket,
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        path_style: true,
        credentials: Some(("testing".into(), "testing".into())),
    })
    .unwrap();
    Some(Fixture { store, _dir: None })
}

/// A unique enough bucket name per test without another dependency.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// `PUT /BUCKET` on the test server (moto takes requests unsigned); `object_store` has no
/// call for it.
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(host).expect("connect to the S3 test server");
    write!(
        conn,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "CreateBucket: {answer}");
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_local {
            $(#[tokio::test] async fn $name() {
                if let Some(f) = super::local() { super::$name(&f.store).await }
            })*
        }
        mod on_s3 {
            $(#[tokio::test] async fn $name() {
                if let Some(f) = super::s3() { super::$name(&f.store).await }
            })*
        }
    };
}

conformance!(
    whole_objects_round_trip,
    streamed_writes_appear_only_when_finished,
    ranges_stream_exactly_what_was_asked,
    listing_and_prefix_deletion,
    missing_objects_are_not_found,
);

fn key(text: &str) -> BlobKey {
    BlobKey::recorded(text).unwrap()
}

/// Bytes that differ at every offset a range could cut.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

async fn read_all(store: &BlobStore, k: &BlobKey, range: std::ops::Range<u64>) -> Vec<u8> {
    let mut stream = store.read_range(k, range).await.unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    got
}

async fn whole_objects_round_trip(store: &BlobStore) {
    let k = BlobPrefix::reference("111122223333", "0000000001", "0000000002")
        .unwrap()
        .file("ref.fa")
        .unwrap();
    store
        .put(&k, Bytes::from_static(b">chr1\nACGT\n"))
        .await
        .unwrap();
    assert_eq!(store.size(&k).await.unwrap(), 11);
    assert_eq!(&store.get_range(&k, 1..5).await.unwrap()[..], b"chr1");
    // A second put replaces the object whole.
    store.put(&k, Bytes::from_static(b">c\nA\n")).await.unwrap();
    assert_eq!(store.size(&k).await.unwrap(), 5);
    store.delete(&k).await.unwrap();
    assert!(matches!(store.size(&k).await, Err(BlobError::NotFound(_))));
    store.delete(&k).await.unwrap();
}

async fn streamed_writes_appear_only_when_finished(store: &BlobStore) {
    // More than two S3 write parts (8 MiB each), so the multipart path is taken.
    let data = pattern(20 * 1024 * 1024 + 17);
    let k = key("a/streamed");
    let mut w = store.writer(&k).await.unwrap();
    for chunk in data.chunks(1_000_003) {
        w.write(chunk).await.unwrap();
    }
    assert!(
        matches!(store.size(&k).await, Err(BlobError::NotFound(_))),
        "visible before finish"
    );
    w.finish().await.unwrap();
    assert_eq!(store.size(&k).await.unwrap(), data.len() as u64);
    assert_eq!(read_all(store, &k, 0..data.len() as u64).await, data);

    let aborted = key("a/aborted");
    let mut w = store.writer(&aborted).await.unwrap();
    w.write(&data[..9 * 1024 * 1024]).await.unwrap();
    w.abort().await.unwrap();
    assert!(matches!(
        store.size(&aborted).await,
        Err(BlobError::NotFound(_))
    ));
    let listed: Vec<String> = store
        .list()
        .map(|o| o.unwrap().key)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(listed, ["a/streamed"], "an aborted write leaves no object");
}

async fn ranges_stream_exactly_what_was_asked(store: &BlobStore) {
    let data = pattern(3 * 1024 * 1024 + 5);
    let k = key("r/object");
    store.put(&k, Bytes::from(data.clone())).await.unwrap();
    let len = data.len() as u64;
    for range in [0..1, 0..len, 5..1024 * 1024 + 7, len - 10..len, 1024..1025] {
        let (s, e) = (range.start as usize, range.end as usize);
        assert_eq!(
            read_all(store, &k, range.clone()).await,
            &data[s..e],
            "{range:?}"
        );
        assert_eq!(
            &store.get_range(&k, range.clone()).await.unwrap()[..],
            &data[s..e]
        );
    }
}

async fn listing_and_prefix_deletion(store: &BlobStore) {
    let before = SystemTime::now() - Duration::from_secs(5);
    let read_set = BlobPrefix::read_set("111122223333", "0000000001", "0000000003").unwrap();
    let other = BlobPrefix::read_set("111122223333", "0000000001", "0000000004").unwrap();
    for (prefix, name, len) in [
        (&read_set, "a.bam", 10usize),
        (&read_set, "a.bam.bai", 3),
        (&other, "b.cram", 7),
    ] {
        store
            .put(&prefix.file(name).unwrap(), Bytes::from(pattern(len)))
            .await
            .unwrap();
    }
    let mut listed: Vec<(String, u64)> = Vec::new();
    let mut stream = store.list();
    while let Some(o) = stream.next().await {
        let o = o.unwrap();
        assert!(
            o.modified > before && o.modified < SystemTime::now() + Duration::from_secs(5),
            "{o:?}"
        );
        listed.push((o.key, o.size));
    }
    drop(stream);
    listed.sort();
    let base = "111122223333/sequenceStore/0000000001/readSet";
    assert_eq!(
        listed,
        [
            (format!("{base}/0000000003/a.bam"), 10),
            (format!("{base}/0000000003/a.bam.bai"), 3),
            (format!("{base}/0000000004/b.cram"), 7),
        ]
    );
    store.delete_prefix(&read_set).await.unwrap();
    let left: Vec<String> = store
        .list()
        .map(|o| o.unwrap().key)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(left, [format!("{base}/0000000004/b.cram")]);
}

async fn missing_objects_are_not_found(store: &BlobStore) {
    let k = key("nothing/here");
    assert!(matches!(store.size(&k).await, Err(BlobError::NotFound(_))));
    assert!(matches!(
        store.get_range(&k, 0..1).await,
        Err(BlobError::NotFound(_))
    ));
    assert!(matches!(
        store.read_range(&k, 0..1).await,
        Err(BlobError::NotFound(_))
    ));
    store.delete(&k).await.unwrap();
    store
        .delete_prefix(&BlobPrefix::upload("0000000009").unwrap())
        .await
        .unwrap();
}
