//! One conformance suite, run against both backends: SQLite in a temp dir and a real
//! PostgreSQL server named by `SEQSTORE_TEST_POSTGRES_URL` (a fresh database per test).
//! Without that variable the PostgreSQL cases are skipped locally and fail under `CI`.

use seqstore_blob::BlobKey;
use seqstore_catalog::SqlCatalog;
use seqstore_core::Timestamp;
use seqstore_core::catalog::prelude::*;
use seqstore_core::catalog::{
    AccessKeyRecord, AccessPolicy, BearerTokenRecord, Busy, CatalogError, Claim, FileEtags,
    Finished, IdempotencyRecord, JobFilter, JobItemRecord, JobRecord, Lease, ListCursor, Move,
    PartRecord, ReadSetFilter, ReadSetRecord, ReferenceFilter, ReferenceRecord,
    ReferenceStoreFilter, ReferenceStoreRecord, ResourceKind, SequenceRecord, SequenceStoreFilter,
    SequenceStoreRecord, StoreKind, TagTarget, UploadRecord,
};
use seqstore_core::ids::{AccountId, JobId, NodeId, StoreId};
use seqstore_core::vocabulary::{
    CreationType, FileType, ItemStatus, JobKind, JobStatus, PartSource, ReadSetStatus,
    ReferenceStatus, SseType, StoreStatus, UploadStatus,
};
use seqstore_formats::etag::EtagFamily;
use std::collections::BTreeMap;

struct Fixture {
    catalog: SqlCatalog,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let url = SqlCatalog::sqlite_url(&dir.path().join("catalog.db"));
    Some(Fixture {
        catalog: SqlCatalog::connect(&url).await.unwrap(),
        _dir: Some(dir),
    })
}

async fn postgres() -> Option<Fixture> {
    let Ok(admin_url) = std::env::var("SEQSTORE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set SEQSTORE_TEST_POSTGRES_URL"
        );
        eprintln!("SEQSTORE_TEST_POSTGRES_URL unset: skipping the PostgreSQL case");
        return None;
    };
    let db = format!("conformance_{}", rand::random::<u64>());
    let admin = SqlCatalog::connect(&admin_url).await.unwrap();
    admin
        .execute_raw(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let catalog = SqlCatalog::connect(&format!("{base}/{db}")).await.unwrap();
    Some(Fixture {
        catalog,
        _dir: None,
    })
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $name() {
                if let Some(f) = super::sqlite().await { super::$name(&f.catalog).await }
            })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(f) = super::postgres().await { super::$name(&f.catalog).await }
            })*
        }
    };
}

conformance!(
    access_keys_round_trip,
    sequence_store_crud,
    sequence_store_list_filters_and_paging,
    sequence_store_id_and_alias_are_unique,
    idempotency_token_is_atomic_with_create,
    reference_store_one_per_account,
    reference_store_list_and_delete,
    tags_put_merge_delete_and_quota,
    accounts_are_isolated,
    references_list_delete_and_block_store_deletion,
    jobs_run_one_at_a_time_per_store_in_order,
    leases_expire_renew_and_release,
    finishing_an_item_is_atomic_and_exactly_once,
    jobs_list_and_filter,
    uploads_parts_replace_list_and_abort,
    completing_an_upload_creates_read_set_and_job_atomically,
    read_sets_filter_tombstone_and_block_deletions,
    finishing_a_read_set_item_writes_the_outcome,
    a_deleted_read_set_stays_deleted_and_busy_stores_stay,
    stale_uploads_are_those_in_progress_created_before,
    s3_access_finds_stores_policies_and_objects_in_key_order,
    inventory_walks_every_account_and_marks_unreadable_read_sets,
    lifecycle_claims_guard_moves_and_count_usage,
    nodes_say_they_are_alive_and_leave,
    ga4gh_sequences_tokens_and_ticket_key,
);

fn store(account: &str, id: &str, name: &str, at: i64) -> SequenceStoreRecord {
    SequenceStoreRecord {
        id: id.into(),
        account_id: account.into(),
        name: name.into(),
        description: Some("d".into()),
        sse_type: None,
        sse_key_arn: None,
        fallback_location: Some("s3://bucket/prefix/".into()),
        etag_algorithm_family: EtagFamily::Sha256up,
        status: StoreStatus::Active,
        status_message: None,
        propagated_set_level_tags: vec!["a".into(), "b".into()],
        access_log_location: None,
        s3_access_point_alias: format!("alias-{id}-s3alias"),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
    }
}

fn reference_store(account: &str, id: &str, at: i64) -> ReferenceStoreRecord {
    ReferenceStoreRecord {
        id: id.into(),
        account_id: account.into(),
        name: "refs".into(),
        description: None,
        sse_type: Some(SseType::Kms),
        sse_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
        s3_access_point_alias: format!("ref-{id}-s3alias"),
        created_at: Timestamp::from_millis(at),
    }
}

/// A test time, `n` ms after the epoch.
fn ms(n: i64) -> Timestamp {
    Timestamp::from_millis(n)
}

fn no_tags() -> BTreeMap<String, String> {
    BTreeMap::new()
}

async fn access_keys_round_trip(c: &SqlCatalog) {
    let key = AccessKeyRecord {
        access_key_id: "SSKEXAMPLE".into(),
        secret_access_key: "secret".into(),
        account_id: "111122223333".into(),
        user_name: Some("alice".into()),
        created_at: ms(5),
    };
    c.insert_access_key(&key).await.unwrap();
    assert_eq!(c.access_key("SSKEXAMPLE").await.unwrap(), Some(key.clone()));
    assert_eq!(c.access_key("OTHER").await.unwrap(), None);
    assert!(matches!(
        c.insert_access_key(&key).await,
        Err(CatalogError::AlreadyExists(_))
    ));
    let older = AccessKeyRecord {
        access_key_id: "SSKOLDER".into(),
        user_name: None,
        created_at: ms(4),
        ..key.clone()
    };
    c.insert_access_key(&older).await.unwrap();
    assert_eq!(c.access_keys().await.unwrap(), vec![older, key.clone()]);
    c.delete_access_key("SSKEXAMPLE").await.unwrap();
    assert_eq!(c.access_key("SSKEXAMPLE").await.unwrap(), None);
    assert!(matches!(
        c.delete_access_key("SSKEXAMPLE").await,
        Err(CatalogError::NotFound(_))
    ));
    assert_eq!(c.access_keys().await.unwrap().len(), 1);
}

async fn sequence_store_crud(c: &SqlCatalog) {
    let s = store("111122223333", "0000000001", "one", 1000);
    let tags = BTreeMap::from([("k".to_string(), "v".to_string())]);
    c.create_sequence_store(&s, &tags, None).await.unwrap();
    assert_eq!(
        c.sequence_store(&"111122223333".into(), &"0000000001".into())
            .await
            .unwrap(),
        Some(s.clone())
    );
    let target = TagTarget {
        account_id: s.account_id.clone(),
        kind: ResourceKind::SequenceStore,
        id: s.id.to_string(),
    };
    assert_eq!(c.tags(&target).await.unwrap(), tags);

    let mut changed = s.clone();
    changed.name = "renamed".into();
    changed.fallback_location = None;
    changed.propagated_set_level_tags = vec![];
    changed.updated_at = ms(2000);
    c.update_sequence_store(&changed, None).await.unwrap();
    assert_eq!(
        c.sequence_store(&s.account_id, &s.id).await.unwrap(),
        Some(changed.clone())
    );

    c.delete_sequence_store(&s.account_id, &s.id).await.unwrap();
    assert_eq!(c.sequence_store(&s.account_id, &s.id).await.unwrap(), None);
    assert!(
        c.tags(&target).await.unwrap().is_empty(),
        "tags go with the store"
    );
    assert!(matches!(
        c.delete_sequence_store(&s.account_id, &s.id).await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(matches!(
        c.update_sequence_store(&changed, None).await,
        Err(CatalogError::NotFound(_))
    ));
}

async fn sequence_store_list_filters_and_paging(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    // Two stores share a creation time: the id breaks the tie.
    for (i, at) in [(1, 100), (2, 200), (3, 200), (4, 300), (5, 400)] {
        let mut s = store(
            a,
            &format!("000000000{i}"),
            if i % 2 == 0 { "even" } else { "odd" },
            at,
        );
        s.updated_at = Timestamp::from_millis(at + 10);
        if i == 5 {
            s.status = StoreStatus::Updating;
        }
        c.create_sequence_store(&s, &no_tags(), None).await.unwrap();
    }
    let all = SequenceStoreFilter::default();
    let ids = |v: Vec<SequenceStoreRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let page1 = c.list_sequence_stores(a, &all, None, 2).await.unwrap();
    assert_eq!(ids(page1.clone()), ["0000000001", "0000000002"]);
    let cursor = ListCursor {
        created_at: page1[1].created_at,
        id: page1[1].id.to_string(),
    };
    let page2 = c
        .list_sequence_stores(a, &all, Some(&cursor), 2)
        .await
        .unwrap();
    assert_eq!(ids(page2), ["0000000003", "0000000004"]);

    let by_name = SequenceStoreFilter {
        name: Some("even".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(c.list_sequence_stores(a, &by_name, None, 10).await.unwrap()),
        ["0000000002", "0000000004"]
    );
    let window = SequenceStoreFilter {
        created_after: Some(ms(200)),
        created_before: Some(ms(300)),
        ..Default::default()
    };
    assert_eq!(
        ids(c.list_sequence_stores(a, &window, None, 10).await.unwrap()),
        ["0000000002", "0000000003", "0000000004"],
        "bounds are inclusive"
    );
    let updated = SequenceStoreFilter {
        updated_after: Some(ms(310)),
        updated_before: Some(ms(410)),
        ..Default::default()
    };
    assert_eq!(
        ids(c.list_sequence_stores(a, &updated, None, 10).await.unwrap()),
        ["0000000004", "0000000005"]
    );
    let status = SequenceStoreFilter {
        status: Some(StoreStatus::Updating),
        ..Default::default()
    };
    assert_eq!(
        ids(c.list_sequence_stores(a, &status, None, 10).await.unwrap()),
        ["0000000005"]
    );
}

async fn sequence_store_id_and_alias_are_unique(c: &SqlCatalog) {
    let s = store("111122223333", "0000000001", "one", 1);
    c.create_sequence_store(&s, &no_tags(), None).await.unwrap();
    let mut same_id = store("111122223333", "0000000001", "two", 2);
    same_id.s3_access_point_alias = "other-s3alias".into();
    assert!(matches!(
        c.create_sequence_store(&same_id, &no_tags(), None).await,
        Err(CatalogError::AlreadyExists(_))
    ));
    let mut same_alias = store("111122223333", "0000000002", "two", 2);
    same_alias.s3_access_point_alias = s.s3_access_point_alias.clone();
    assert!(matches!(
        c.create_sequence_store(&same_alias, &no_tags(), None).await,
        Err(CatalogError::AlreadyExists(_))
    ));
    assert_eq!(
        c.list_sequence_stores(
            &"111122223333".into(),
            &SequenceStoreFilter::default(),
            None,
            10
        )
        .await
        .unwrap()
        .len(),
        1
    );
    // Sequence and reference stores share the id space of their access point names.
    assert!(matches!(
        c.create_reference_store(
            &reference_store("111122223333", "0000000001", 3),
            &no_tags(),
            None
        )
        .await,
        Err(CatalogError::AlreadyExists(_))
    ));
    c.create_reference_store(
        &reference_store("444455556666", "0000000009", 3),
        &no_tags(),
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        c.create_sequence_store(
            &store("111122223333", "0000000009", "three", 3),
            &no_tags(),
            None
        )
        .await,
        Err(CatalogError::AlreadyExists(_))
    ));
}

async fn idempotency_token_is_atomic_with_create(c: &SqlCatalog) {
    let record = IdempotencyRecord {
        account_id: "111122223333".into(),
        operation: "CreateSequenceStore".into(),
        client_token: "tok".into(),
        request_hash: "h1".into(),
        response: "{\"id\":\"0000000001\"}".into(),
        created_at: ms(10_000),
    };
    let s = store("111122223333", "0000000001", "one", 10_000);
    c.create_sequence_store(&s, &no_tags(), Some(&record))
        .await
        .unwrap();
    let got = c
        .idempotency_record(&"111122223333".into(), "CreateSequenceStore", "tok", ms(0))
        .await
        .unwrap();
    assert_eq!(got, Some(record.clone()));
    assert_eq!(
        c.idempotency_record(
            &"111122223333".into(),
            "CreateSequenceStore",
            "tok",
            ms(10_001)
        )
        .await
        .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        c.idempotency_record(&"444455556666".into(), "CreateSequenceStore", "tok", ms(0))
            .await
            .unwrap(),
        None,
        "per account"
    );

    // A concurrent request with the same token writes nothing.
    let s2 = store("111122223333", "0000000002", "two", 10_001);
    let mut again = record.clone();
    again.created_at = ms(10_001);
    assert!(matches!(
        c.create_sequence_store(&s2, &no_tags(), Some(&again)).await,
        Err(CatalogError::TokenInUse)
    ));
    assert_eq!(
        c.sequence_store(&"111122223333".into(), &"0000000002".into())
            .await
            .unwrap(),
        None
    );

    // After the 24 h window the token may be used again.
    let mut later = record.clone();
    later.created_at = Timestamp::from_millis(record.created_at.millis() + 24 * 3600 * 1000 + 1);
    later.request_hash = "h2".into();
    c.create_sequence_store(&s2, &no_tags(), Some(&later))
        .await
        .unwrap();
    let got = c
        .idempotency_record(&"111122223333".into(), "CreateSequenceStore", "tok", ms(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.request_hash, "h2");
}

async fn reference_store_one_per_account(c: &SqlCatalog) {
    c.create_reference_store(
        &reference_store("111122223333", "0000000001", 1),
        &no_tags(),
        None,
    )
    .await
    .unwrap();
    assert!(matches!(
        c.create_reference_store(
            &reference_store("111122223333", "0000000002", 2),
            &no_tags(),
            None
        )
        .await,
        Err(CatalogError::QuotaExceeded(_))
    ));
    c.create_reference_store(
        &reference_store("444455556666", "0000000003", 3),
        &no_tags(),
        None,
    )
    .await
    .unwrap();
    c.delete_reference_store(&"111122223333".into(), &"0000000001".into())
        .await
        .unwrap();
    c.create_reference_store(
        &reference_store("111122223333", "0000000004", 4),
        &no_tags(),
        None,
    )
    .await
    .unwrap();
}

async fn reference_store_list_and_delete(c: &SqlCatalog) {
    let r = reference_store("111122223333", "0000000001", 7);
    let tags = BTreeMap::from([("t".to_string(), "1".to_string())]);
    c.create_reference_store(&r, &tags, None).await.unwrap();
    assert_eq!(
        c.reference_store(&"111122223333".into(), &"0000000001".into())
            .await
            .unwrap(),
        Some(r.clone())
    );
    let f = ReferenceStoreFilter {
        name: Some("refs".into()),
        created_after: Some(ms(7)),
        created_before: Some(ms(7)),
    };
    assert_eq!(
        c.list_reference_stores(&"111122223333".into(), &f, None, 10)
            .await
            .unwrap(),
        vec![r.clone()]
    );
    let f = ReferenceStoreFilter {
        name: Some("other".into()),
        ..Default::default()
    };
    assert!(
        c.list_reference_stores(&"111122223333".into(), &f, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    c.delete_reference_store(&"111122223333".into(), &"0000000001".into())
        .await
        .unwrap();
    let target = TagTarget {
        account_id: r.account_id.clone(),
        kind: ResourceKind::ReferenceStore,
        id: r.id.to_string(),
    };
    assert!(c.tags(&target).await.unwrap().is_empty());
    assert!(matches!(
        c.delete_reference_store(&"111122223333".into(), &"0000000001".into())
            .await,
        Err(CatalogError::NotFound(_))
    ));
}

async fn tags_put_merge_delete_and_quota(c: &SqlCatalog) {
    let t = TagTarget {
        account_id: "111122223333".into(),
        kind: ResourceKind::SequenceStore,
        id: "0000000001".into(),
    };
    c.put_tags(
        &t,
        &BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
        3,
    )
    .await
    .unwrap();
    c.put_tags(&t, &BTreeMap::from([("a".into(), "x".into())]), 3)
        .await
        .unwrap();
    assert_eq!(
        c.tags(&t).await.unwrap(),
        BTreeMap::from([("a".into(), "x".into()), ("b".into(), "2".into())])
    );
    let too_many = BTreeMap::from([("c".into(), "3".into()), ("d".into(), "4".into())]);
    assert!(matches!(
        c.put_tags(&t, &too_many, 3).await,
        Err(CatalogError::QuotaExceeded(_))
    ));
    assert_eq!(
        c.tags(&t).await.unwrap().len(),
        2,
        "a refused put changes nothing"
    );
    c.delete_tags(&t, &["a".into(), "missing".into()])
        .await
        .unwrap();
    assert_eq!(
        c.tags(&t).await.unwrap(),
        BTreeMap::from([("b".into(), "2".into())])
    );
}

async fn accounts_are_isolated(c: &SqlCatalog) {
    let s = store("111122223333", "0000000001", "one", 1);
    c.create_sequence_store(&s, &no_tags(), None).await.unwrap();
    assert_eq!(
        c.sequence_store(&"444455556666".into(), &"0000000001".into())
            .await
            .unwrap(),
        None
    );
    assert!(
        c.list_sequence_stores(
            &"444455556666".into(),
            &SequenceStoreFilter::default(),
            None,
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(matches!(
        c.delete_sequence_store(&"444455556666".into(), &"0000000001".into())
            .await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(
        c.sequence_store(&"111122223333".into(), &"0000000001".into())
            .await
            .unwrap()
            .is_some()
    );
}

fn reference(store: &str, id: &str, name: &str, at: i64, job: &str) -> ReferenceRecord {
    ReferenceRecord {
        id: id.into(),
        account_id: "111122223333".into(),
        reference_store_id: store.into(),
        name: name.into(),
        description: None,
        md5: format!("md5-{name}"),
        status: ReferenceStatus::Active,
        source_file_name: format!("{name}.fa"),
        source_size: 100,
        index_size: 20,
        source_s3_etag: Some(format!("etag-{name}")),
        index_s3_etag: Some(format!("etag-{name}.fai")),
        creation_job_id: Some(job.into()),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
    }
}

fn job(id: &str, store: &str, at: i64) -> JobRecord {
    JobRecord {
        id: id.into(),
        account_id: "111122223333".into(),
        kind: JobKind::ReferenceImport,
        store_id: store.into(),
        role_arn: Some("arn:aws:iam::111122223333:role/r".into()),
        destination: None,
        status: JobStatus::Submitted,
        status_message: None,
        created_at: Timestamp::from_millis(at),
        completed_at: None,
        attempts: 0,
    }
}

fn items(job_id: &str, n: i64) -> Vec<JobItemRecord> {
    (0..n)
        .map(|i| JobItemRecord {
            job_id: job_id.into(),
            index: i,
            status: ItemStatus::NotStarted,
            status_message: None,
            spec: format!("{{\"n\":{i}}}"),
            result_id: format!("{job_id}{i}"),
            attempts: 0,
        })
        .collect()
}

fn lease(owner: &str, until: i64) -> Lease {
    Lease {
        owner: owner.into(),
        until: Timestamp::from_millis(until),
    }
}

const KINDS: &[JobKind] = &[JobKind::ReferenceImport];

/// Imports one reference through a job, as the engine does.
async fn import(c: &SqlCatalog, job_id: &str, store: &str, r: &ReferenceRecord) {
    c.create_job(&job(job_id, store, 1), &items(job_id, 1), None)
        .await
        .unwrap();
    let claimed = c
        .claim_job(KINDS, KINDS, &lease("n", 100), ms(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job_id);
    c.finish_reference_item(&job_id.into(), 0, "n", r, &BTreeMap::new())
        .await
        .unwrap();
    c.finish_job(&job_id.into(), "n", JobStatus::Completed, None, ms(60))
        .await
        .unwrap();
}

async fn references_list_delete_and_block_store_deletion(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_reference_store(&reference_store(a, "0000000001", 1), &no_tags(), None)
        .await
        .unwrap();
    let r1 = reference("0000000001", "1000000001", "hg38", 10, "9000000001");
    let r2 = reference("0000000001", "1000000002", "t2t", 20, "9000000002");
    import(c, "9000000001", "0000000001", &r1).await;
    import(c, "9000000002", "0000000001", &r2).await;
    assert_eq!(
        c.reference(a, &"0000000001".into(), &"1000000001".into())
            .await
            .unwrap(),
        Some(r1.clone())
    );
    assert_eq!(
        c.reference(a, &"0000000009".into(), &"1000000001".into())
            .await
            .unwrap(),
        None,
        "wrong store"
    );
    assert_eq!(
        c.reference(
            &"444455556666".into(),
            &"0000000001".into(),
            &"1000000001".into()
        )
        .await
        .unwrap(),
        None,
        "wrong account"
    );
    let all = c
        .list_references(
            a,
            &"0000000001".into(),
            &ReferenceFilter::default(),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(all, vec![r1.clone(), r2.clone()]);
    let by_md5 = ReferenceFilter {
        md5: Some("md5-t2t".into()),
        ..Default::default()
    };
    assert_eq!(
        c.list_references(a, &"0000000001".into(), &by_md5, None, 10)
            .await
            .unwrap(),
        vec![r2.clone()]
    );
    let page2 = c
        .list_references(
            a,
            &"0000000001".into(),
            &ReferenceFilter::default(),
            Some(&ListCursor {
                created_at: ms(10),
                id: r1.id.to_string(),
            }),
            10,
        )
        .await
        .unwrap();
    assert_eq!(page2, vec![r2.clone()]);

    assert!(matches!(
        c.delete_reference_store(a, &"0000000001".into()).await,
        Err(CatalogError::NotEmpty(_))
    ));
    c.delete_reference(a, &"0000000001".into(), &"1000000001".into(), "arn:1")
        .await
        .unwrap();
    c.delete_reference(a, &"0000000001".into(), &"1000000002".into(), "arn:2")
        .await
        .unwrap();
    assert!(matches!(
        c.delete_reference(a, &"0000000001".into(), &"1000000002".into(), "arn:2")
            .await,
        Err(CatalogError::NotFound(_))
    ));
    c.delete_reference_store(a, &"0000000001".into())
        .await
        .unwrap();
}

async fn jobs_run_one_at_a_time_per_store_in_order(c: &SqlCatalog) {
    c.create_job(&job("0000000002", "S1", 20), &items("0000000002", 1), None)
        .await
        .unwrap();
    c.create_job(&job("0000000001", "S1", 10), &items("0000000001", 1), None)
        .await
        .unwrap();
    c.create_job(&job("0000000003", "S2", 30), &items("0000000003", 2), None)
        .await
        .unwrap();
    let first = c
        .claim_job(KINDS, KINDS, &lease("a", 1000), ms(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.id.as_str(), first.status.as_str(), first.attempts),
        ("0000000001", "IN_PROGRESS", 1)
    );
    // The second job of S1 waits for the first; S2's job is free.
    let second = c
        .claim_job(KINDS, KINDS, &lease("b", 1000), ms(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, "0000000003");
    assert_eq!(
        c.claim_job(KINDS, KINDS, &lease("c", 1000), ms(100))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.claim_job(&[JobKind::ReadSetImport], &[], &lease("c", 1000), ms(2000))
            .await
            .unwrap(),
        None,
        "other kinds only"
    );
    // Kinds that are not serial run side by side: job 2 waits only for the serial rule.
    let mut copy = job("0000000005", "S1", 40);
    copy.kind = JobKind::ReadSetImport;
    c.create_job(&copy, &items("0000000005", 1), None)
        .await
        .unwrap();
    c.create_job(
        &{
            let mut j = job("0000000006", "S1", 50);
            j.kind = JobKind::ReadSetImport;
            j
        },
        &items("0000000006", 1),
        None,
    )
    .await
    .unwrap();
    let kinds = &[JobKind::ReadSetImport];
    assert_eq!(
        c.claim_job(kinds, &[], &lease("d", 1000), ms(100))
            .await
            .unwrap()
            .unwrap()
            .id,
        "0000000005"
    );
    assert_eq!(
        c.claim_job(kinds, &[], &lease("d", 1000), ms(100))
            .await
            .unwrap()
            .unwrap()
            .id,
        "0000000006"
    );
    c.finish_job(
        &"0000000001".into(),
        "a",
        JobStatus::Completed,
        None,
        ms(150),
    )
    .await
    .unwrap();
    let third = c
        .claim_job(KINDS, KINDS, &lease("c", 1000), ms(160))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.id, "0000000002");
    let (done, _) = c
        .job(
            &"111122223333".into(),
            JobKind::ReferenceImport,
            &"S1".into(),
            &"0000000001".into(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.completed_at),
        ("COMPLETED", Some(ms(150)))
    );
    assert_eq!(
        c.job(
            &"111122223333".into(),
            JobKind::ReferenceImport,
            &"S2".into(),
            &"0000000001".into()
        )
        .await
        .unwrap(),
        None,
        "wrong store"
    );
}

async fn leases_expire_renew_and_release(c: &SqlCatalog) {
    c.create_job(&job("0000000001", "S1", 10), &items("0000000001", 1), None)
        .await
        .unwrap();
    c.claim_job(KINDS, KINDS, &lease("a", 1000), ms(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.claim_job(KINDS, KINDS, &lease("b", 2000), ms(999))
            .await
            .unwrap(),
        None,
        "lease still live"
    );
    c.renew_lease(&"0000000001".into(), &lease("a", 3000))
        .await
        .unwrap();
    assert_eq!(
        c.claim_job(KINDS, KINDS, &lease("b", 4000), ms(2500))
            .await
            .unwrap(),
        None,
        "renewed"
    );
    // Node a crashes: after the lease lapses, b takes the job over and a is locked out.
    let taken = c
        .claim_job(KINDS, KINDS, &lease("b", 9000), ms(3001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.status.as_str(), taken.attempts), ("IN_PROGRESS", 2));
    assert!(matches!(
        c.renew_lease(&"0000000001".into(), &lease("a", 9999)).await,
        Err(CatalogError::LeaseLost(_))
    ));
    assert!(matches!(
        c.set_item_status(&"0000000001".into(), 0, "a", ItemStatus::Failed, Some("x"))
            .await,
        Err(CatalogError::LeaseLost(_))
    ));
    assert!(matches!(
        c.finish_job(&"0000000001".into(), "a", JobStatus::Failed, None, ms(1))
            .await,
        Err(CatalogError::LeaseLost(_))
    ));
    // b restarts: its leases are dropped and the job can be claimed at once.
    assert_eq!(c.release_leases("b").await.unwrap(), 1);
    let again = c
        .claim_job(KINDS, KINDS, &lease("b2", 9000), ms(3002))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 3);
    c.set_item_status(&"0000000001".into(), 0, "b2", ItemStatus::InProgress, None)
        .await
        .unwrap();
    let items = c.job_items(&"0000000001".into()).await.unwrap();
    assert_eq!(
        (items[0].status.as_str(), items[0].attempts),
        ("IN_PROGRESS", 1)
    );
}

async fn finishing_an_item_is_atomic_and_exactly_once(c: &SqlCatalog) {
    c.create_job(&job("0000000001", "S1", 10), &items("0000000001", 2), None)
        .await
        .unwrap();
    c.claim_job(KINDS, KINDS, &lease("a", 1000), ms(100))
        .await
        .unwrap()
        .unwrap();
    let r = reference("S1", "00000000010", "one", 10, "0000000001");
    let tags = BTreeMap::from([("k".to_string(), "v".to_string())]);
    c.finish_reference_item(&"0000000001".into(), 0, "a", &r, &tags)
        .await
        .unwrap();
    // A resumed worker that redoes the item cannot create a second reference.
    assert!(matches!(
        c.finish_reference_item(&"0000000001".into(), 0, "a", &r, &tags)
            .await,
        Err(CatalogError::AlreadyExists(_))
    ));
    // A worker without the lease writes nothing.
    let r2 = reference("S1", "00000000011", "two", 10, "0000000001");
    assert!(matches!(
        c.finish_reference_item(&"0000000001".into(), 1, "z", &r2, &tags)
            .await,
        Err(CatalogError::LeaseLost(_))
    ));
    assert_eq!(
        c.reference(&"111122223333".into(), &"S1".into(), &"00000000011".into())
            .await
            .unwrap(),
        None
    );
    let items = c.job_items(&"0000000001".into()).await.unwrap();
    assert_eq!(
        (items[0].status.as_str(), items[1].status.as_str()),
        ("FINISHED", "NOT_STARTED")
    );
    let t = TagTarget {
        account_id: "111122223333".into(),
        kind: ResourceKind::Reference,
        id: r.id.to_string(),
    };
    assert_eq!(c.tags(&t).await.unwrap(), tags);
}

async fn jobs_list_and_filter(c: &SqlCatalog) {
    for (id, at) in [("0000000001", 10), ("0000000002", 20), ("0000000003", 30)] {
        c.create_job(&job(id, "S1", at), &items(id, 1), None)
            .await
            .unwrap();
    }
    c.create_job(&job("0000000004", "S2", 5), &items("0000000004", 1), None)
        .await
        .unwrap();
    let a = &AccountId::from("111122223333");
    let ids = |v: Vec<JobRecord>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let all = JobFilter::default();
    assert_eq!(
        ids(c
            .list_jobs(a, JobKind::ReferenceImport, &"S1".into(), &all, None, 10)
            .await
            .unwrap()),
        ["0000000001", "0000000002", "0000000003"]
    );
    let after = ListCursor {
        created_at: ms(10),
        id: "0000000001".into(),
    };
    assert_eq!(
        ids(c
            .list_jobs(
                a,
                JobKind::ReferenceImport,
                &"S1".into(),
                &all,
                Some(&after),
                1
            )
            .await
            .unwrap()),
        ["0000000002"]
    );
    let window = JobFilter {
        created_after: Some(ms(20)),
        created_before: Some(ms(30)),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_jobs(a, JobKind::ReferenceImport, &"S1".into(), &window, None, 10)
            .await
            .unwrap()),
        ["0000000002", "0000000003"]
    );
    c.claim_job(KINDS, KINDS, &lease("a", 1000), ms(100))
        .await
        .unwrap();
    let running = JobFilter {
        status: Some(JobStatus::InProgress),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_jobs(
                a,
                JobKind::ReferenceImport,
                &"S2".into(),
                &running,
                None,
                10
            )
            .await
            .unwrap()),
        ["0000000004"]
    );
    assert!(
        c.list_jobs(a, JobKind::ReadSetImport, &"S1".into(), &all, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn upload(id: &str, at: i64) -> UploadRecord {
    UploadRecord {
        id: id.into(),
        account_id: "111122223333".into(),
        sequence_store_id: "S1".into(),
        source_file_type: FileType::Fastq,
        subject_id: "subj".into(),
        sample_id: "samp".into(),
        name: "rs".into(),
        tags: BTreeMap::from([("k".to_string(), "v".to_string())]),
        status: UploadStatus::InProgress,
        created_at: Timestamp::from_millis(at),
        ..Default::default()
    }
}

fn part(upload_id: &str, source: PartSource, n: i64, key: &str, at: i64) -> PartRecord {
    PartRecord {
        upload_id: upload_id.into(),
        part_source: source,
        part_number: n,
        size: 10 * n,
        checksum: format!("sum-{key}"),
        blob_key: BlobKey::recorded(key).unwrap(),
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
    }
}

fn read_set(id: &str, at: i64, status: ReadSetStatus, reference: Option<&str>) -> ReadSetRecord {
    ReadSetRecord {
        id: id.into(),
        account_id: "111122223333".into(),
        sequence_store_id: "S1".into(),
        name: format!("rs-{id}"),
        subject_id: "subj".into(),
        sample_id: if at % 2 == 0 {
            "even".into()
        } else {
            "odd".into()
        },
        reference_arn: reference.map(str::to_owned),
        file_type: FileType::Bam,
        status,
        creation_type: CreationType::Upload,
        created_at: Timestamp::from_millis(at),
        updated_at: Timestamp::from_millis(at),
        ..Default::default()
    }
}

async fn uploads_parts_replace_list_and_abort(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_upload(&upload("0000000001", 1), None)
        .await
        .unwrap();
    c.create_upload(&upload("0000000002", 2), None)
        .await
        .unwrap();
    assert_eq!(
        c.upload(a, &"S1".into(), &"0000000001".into())
            .await
            .unwrap(),
        Some(upload("0000000001", 1))
    );
    assert_eq!(
        c.upload(a, &"S2".into(), &"0000000001".into())
            .await
            .unwrap(),
        None,
        "wrong store"
    );
    assert_eq!(
        c.put_part(&part("0000000001", PartSource::Source1, 2, "k2", 10))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.put_part(&part("0000000001", PartSource::Source1, 1, "k1", 11))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.put_part(&part("0000000001", PartSource::Source2, 1, "k3", 12))
            .await
            .unwrap(),
        None
    );
    // A re-upload replaces the part, keeps its creation time and hands back the old blob.
    assert_eq!(
        c.put_part(&part("0000000001", PartSource::Source1, 2, "k2b", 20))
            .await
            .unwrap(),
        Some(BlobKey::recorded("k2").unwrap())
    );
    let s1 = c
        .list_parts(
            &"0000000001".into(),
            PartSource::Source1,
            None,
            None,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        s1.iter()
            .map(|p| (p.part_number, p.blob_key.as_str()))
            .collect::<Vec<_>>(),
        [(1, "k1"), (2, "k2b")]
    );
    assert_eq!(
        (s1[1].created_at.millis(), s1[1].updated_at.millis()),
        (10, 20)
    );
    let after = c
        .list_parts(
            &"0000000001".into(),
            PartSource::Source1,
            None,
            None,
            Some(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    let window = c
        .list_parts(
            &"0000000001".into(),
            PartSource::Source1,
            Some(ms(11)),
            Some(ms(11)),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(c.all_parts(&"0000000001".into()).await.unwrap().len(), 3);

    let listed = c.list_uploads(a, &"S1".into(), None, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["0000000001", "0000000002"]
    );
    let removed = c
        .abort_upload(a, &"S1".into(), &"0000000001".into())
        .await
        .unwrap();
    assert_eq!(removed.len(), 3);
    assert!(c.all_parts(&"0000000001".into()).await.unwrap().is_empty());
    assert!(matches!(
        c.abort_upload(a, &"S1".into(), &"0000000001".into()).await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(matches!(
        c.put_part(&part("0000000001", PartSource::Source1, 3, "k4", 30))
            .await,
        Err(CatalogError::NotFound(_))
    ));
    assert_eq!(
        c.list_uploads(a, &"S1".into(), None, 10)
            .await
            .unwrap()
            .len(),
        1,
        "aborted uploads are not listed"
    );
    assert_eq!(
        c.upload(a, &"S1".into(), &"0000000001".into())
            .await
            .unwrap()
            .unwrap()
            .status,
        UploadStatus::Aborted
    );
}

async fn completing_an_upload_creates_read_set_and_job_atomically(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_upload(&upload("0000000001", 1), None)
        .await
        .unwrap();
    let rs = read_set("1000000001", 5, ReadSetStatus::ProcessingUpload, None);
    let tags = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let mut ingest = job("9000000001", "S1", 5);
    ingest.kind = JobKind::ReadSetIngest;
    // Complete ingests exactly the parts it verified: a part uploaded again between its
    // checks and its commit makes it fail, changing nothing.
    let first = part("0000000001", PartSource::Source1, 1, "k1", 10);
    c.put_part(&first).await.unwrap();
    let again = part("0000000001", PartSource::Source1, 1, "k2", 10);
    c.put_part(&again).await.unwrap();
    assert!(matches!(
        c.complete_upload(
            &"0000000001".into(),
            std::slice::from_ref(&first),
            &rs,
            &tags,
            &ingest,
            &items("9000000001", 1),
        )
        .await,
        Err(CatalogError::Changed(_))
    ));
    assert_eq!(
        c.read_set(a, &"S1".into(), &"1000000001".into())
            .await
            .unwrap(),
        None
    );
    c.complete_upload(
        &"0000000001".into(),
        &[again],
        &rs,
        &tags,
        &ingest,
        &items("9000000001", 1),
    )
    .await
    .unwrap();
    assert_eq!(
        c.read_set(a, &"S1".into(), &"1000000001".into())
            .await
            .unwrap(),
        Some(rs.clone())
    );
    let u = c
        .upload(a, &"S1".into(), &"0000000001".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.status.as_str(), u.read_set_id.as_deref()),
        ("COMPLETED", Some("1000000001"))
    );
    assert!(
        c.list_uploads(a, &"S1".into(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let t = TagTarget {
        account_id: a.clone(),
        kind: ResourceKind::ReadSet,
        id: rs.id.to_string(),
    };
    assert_eq!(c.tags(&t).await.unwrap(), tags);
    assert!(
        c.job(
            a,
            JobKind::ReadSetIngest,
            &"S1".into(),
            &"9000000001".into()
        )
        .await
        .unwrap()
        .is_some()
    );
    // Completing twice changes nothing.
    let rs2 = read_set("1000000002", 6, ReadSetStatus::ProcessingUpload, None);
    let mut ingest2 = ingest.clone();
    ingest2.id = "9000000002".into();
    assert!(matches!(
        c.complete_upload(
            &"0000000001".into(),
            &[],
            &rs2,
            &tags,
            &ingest2,
            &items("9000000002", 1)
        )
        .await,
        Err(CatalogError::NotFound(_))
    ));
    assert_eq!(
        c.read_set(a, &"S1".into(), &"1000000002".into())
            .await
            .unwrap(),
        None
    );
    assert!(
        c.job(
            a,
            JobKind::ReadSetIngest,
            &"S1".into(),
            &"9000000002".into()
        )
        .await
        .unwrap()
        .is_none()
    );
}

/// The outcome of an item whose read set is stored.
const FINISHED: (ItemStatus, Option<&str>) = (ItemStatus::Finished, None);

/// Creates read sets the way import jobs do.
async fn import_read_sets(c: &SqlCatalog, sets: &[ReadSetRecord]) {
    let mut import = job("8000000001", "S1", 1);
    import.kind = JobKind::ReadSetImport;
    c.create_job(&import, &items("8000000001", sets.len() as i64), None)
        .await
        .unwrap();
    c.claim_job(&[JobKind::ReadSetImport], &[], &lease("n", i64::MAX), ms(1))
        .await
        .unwrap()
        .unwrap();
    for (i, rs) in sets.iter().enumerate() {
        c.finish_read_set_item(
            &"8000000001".into(),
            i as i64,
            "n",
            rs,
            &BTreeMap::new(),
            FINISHED,
        )
        .await
        .unwrap();
    }
    c.finish_job(&"8000000001".into(), "n", JobStatus::Completed, None, ms(2))
        .await
        .unwrap();
}

async fn read_sets_filter_tombstone_and_block_deletions(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    let arn = "arn:aws:omics:us-east-1:111122223333:referenceStore/R1/reference/0000000001";
    c.create_sequence_store(&store(a, "S1", "s", 1), &no_tags(), None)
        .await
        .unwrap();
    c.create_reference_store(&reference_store(a, "R1", 1), &no_tags(), None)
        .await
        .unwrap();
    import(
        c,
        "7000000001",
        "R1",
        &reference("R1", "0000000001", "hg", 1, "7000000001"),
    )
    .await;
    import_read_sets(
        c,
        &[
            read_set("1000000001", 10, ReadSetStatus::Active, Some(arn)),
            read_set("1000000002", 11, ReadSetStatus::Active, None),
        ],
    )
    .await;
    let ids = |v: Vec<ReadSetRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = ReadSetFilter::default();
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &all, None, 10)
            .await
            .unwrap()),
        ["1000000001", "1000000002"]
    );
    let no_ref = ReadSetFilter {
        reference_arn: Some(String::new()),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &no_ref, None, 10)
            .await
            .unwrap()),
        ["1000000002"]
    );
    let by_ref = ReadSetFilter {
        reference_arn: Some(arn.into()),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &by_ref, None, 10)
            .await
            .unwrap()),
        ["1000000001"]
    );
    let odd = ReadSetFilter {
        sample_id: Some("odd".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &odd, None, 10)
            .await
            .unwrap()),
        ["1000000002"]
    );

    assert!(matches!(
        c.delete_sequence_store(a, &"S1".into()).await,
        Err(CatalogError::NotEmpty(_))
    ));
    assert!(matches!(
        c.delete_reference(a, &"R1".into(), &"0000000001".into(), arn)
            .await,
        Err(CatalogError::NotEmpty(_))
    ));
    let was = c
        .delete_read_set(a, &"S1".into(), &"1000000001".into())
        .await
        .unwrap();
    assert_eq!(was.status, ReadSetStatus::Active);
    assert!(matches!(
        c.delete_read_set(a, &"S1".into(), &"1000000001".into())
            .await,
        Err(CatalogError::NotFound(_))
    ));
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &all, None, 10)
            .await
            .unwrap()),
        ["1000000002"],
        "tombstones hidden"
    );
    let deleted = ReadSetFilter {
        status: Some(ReadSetStatus::Deleted),
        ..Default::default()
    };
    assert_eq!(
        ids(c
            .list_read_sets(a, &"S1".into(), &deleted, None, 10)
            .await
            .unwrap()),
        ["1000000001"]
    );
    c.delete_reference(a, &"R1".into(), &"0000000001".into(), arn)
        .await
        .unwrap();
    c.delete_read_set(a, &"S1".into(), &"1000000002".into())
        .await
        .unwrap();
    c.delete_sequence_store(a, &"S1".into()).await.unwrap();
}

async fn finishing_a_read_set_item_writes_the_outcome(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    let mut ingest = job("9000000001", "S1", 5);
    ingest.kind = JobKind::ReadSetIngest;
    c.create_job(&ingest, &items("9000000001", 2), None)
        .await
        .unwrap();
    c.claim_job(&[JobKind::ReadSetIngest], &[], &lease("n", i64::MAX), ms(6))
        .await
        .unwrap()
        .unwrap();
    let mut ok = read_set("1000000001", 5, ReadSetStatus::Active, None);
    ok.etag_source1 = Some("abc".into());
    ok.total_read_count = Some(7);
    c.finish_read_set_item(
        &"9000000001".into(),
        0,
        "n",
        &ok,
        &BTreeMap::new(),
        FINISHED,
    )
    .await
    .unwrap();
    let mut failed = read_set("1000000002", 5, ReadSetStatus::UploadFailed, None);
    failed.status_message = Some("record 3: bad".into());
    c.finish_read_set_item(
        &"9000000001".into(),
        1,
        "n",
        &failed,
        &BTreeMap::new(),
        (ItemStatus::Failed, Some("record 3: bad")),
    )
    .await
    .unwrap();
    assert_eq!(
        c.read_set(a, &"S1".into(), &"1000000001".into())
            .await
            .unwrap(),
        Some(ok.clone())
    );
    let items = c.job_items(&"9000000001".into()).await.unwrap();
    assert_eq!(
        (items[0].status, items[1].status),
        (ItemStatus::Finished, ItemStatus::Failed)
    );
    assert_eq!(items[1].status_message.as_deref(), Some("record 3: bad"));
    // Replacing the row (an upload's PROCESSING_UPLOAD row becoming ACTIVE) keeps one row.
    let mut again = ok.clone();
    again.status_message = Some("x".into());
    c.finish_read_set_item(
        &"9000000001".into(),
        0,
        "n",
        &again,
        &BTreeMap::new(),
        FINISHED,
    )
    .await
    .unwrap();
    let all = c
        .list_read_sets(
            a,
            &"S1".into(),
            &ReadSetFilter {
                status: Some(ReadSetStatus::Active),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(all, vec![again]);
    assert!(matches!(
        c.finish_read_set_item(
            &"9000000001".into(),
            0,
            "other",
            &ok,
            &BTreeMap::new(),
            FINISHED
        )
        .await,
        Err(CatalogError::LeaseLost(_))
    ));
}

async fn a_deleted_read_set_stays_deleted_and_busy_stores_stay(c: &SqlCatalog) {
    let (a, s1) = (&AccountId::from("111122223333"), &StoreId::from("S1"));
    c.create_sequence_store(&store(a, "S1", "s", 1), &no_tags(), None)
        .await
        .unwrap();
    c.create_upload(&upload("0000000001", 2), None)
        .await
        .unwrap();
    assert!(matches!(
        c.delete_sequence_store(a, s1).await,
        Err(CatalogError::InFlight(Busy::Upload(id))) if id == "0000000001"
    ));
    let processing = read_set("1000000001", 3, ReadSetStatus::ProcessingUpload, None);
    let mut ingest = job("9000000001", "S1", 3);
    ingest.kind = JobKind::ReadSetIngest;
    let job_items = items("9000000001", 1);
    c.complete_upload(
        &"0000000001".into(),
        &[],
        &processing,
        &no_tags(),
        &ingest,
        &job_items,
    )
    .await
    .unwrap();
    // The read set is deleted while its ingestion runs: the tombstone wins the finish.
    c.claim_job(&[JobKind::ReadSetIngest], &[], &lease("n", i64::MAX), ms(4))
        .await
        .unwrap()
        .unwrap();
    c.delete_read_set(a, s1, &"1000000001".into())
        .await
        .unwrap();
    let active = read_set("1000000001", 3, ReadSetStatus::Active, None);
    let tags = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let job_id = &JobId::from("9000000001");
    assert_eq!(
        c.finish_read_set_item(job_id, 0, "n", &active, &tags, FINISHED)
            .await
            .unwrap(),
        Finished::Deleted
    );
    let stored = c.read_set(a, s1, &"1000000001".into()).await.unwrap();
    assert_eq!(stored.map(|r| r.status), Some(ReadSetStatus::Deleted));
    let target = TagTarget {
        account_id: a.clone(),
        kind: ResourceKind::ReadSet,
        id: "1000000001".into(),
    };
    assert!(c.tags(&target).await.unwrap().is_empty());
    assert_eq!(
        c.job_items(job_id).await.unwrap()[0].status,
        ItemStatus::NotStarted
    );
    // Once the job has ended the store can go.
    c.finish_job(job_id, "n", JobStatus::Completed, None, ms(5))
        .await
        .unwrap();
    c.delete_sequence_store(a, s1).await.unwrap();
}

async fn stale_uploads_are_those_in_progress_created_before(c: &SqlCatalog) {
    let (a, s1) = (&AccountId::from("111122223333"), &StoreId::from("S1"));
    for (id, at) in [("0000000001", 10), ("0000000002", 20), ("0000000003", 30)] {
        c.create_upload(&upload(id, at), None).await.unwrap();
    }
    c.abort_upload(a, s1, &"0000000001".into()).await.unwrap();
    let ids = |v: Vec<UploadRecord>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(c.stale_uploads(ms(30), 10).await.unwrap()),
        ["0000000002"]
    );
    assert_eq!(
        ids(c.stale_uploads(ms(31), 10).await.unwrap()),
        ["0000000002", "0000000003"]
    );
    assert_eq!(
        ids(c.stale_uploads(ms(31), 1).await.unwrap()),
        ["0000000002"]
    );
}

async fn s3_access_finds_stores_policies_and_objects_in_key_order(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_sequence_store(&store(a, "S1", "s", 1), &no_tags(), None)
        .await
        .unwrap();
    c.create_reference_store(&reference_store(a, "R1", 1), &no_tags(), None)
        .await
        .unwrap();
    let found = c.store_by_alias("alias-S1-s3alias").await.unwrap().unwrap();
    assert_eq!(
        (found.kind, found.account_id.as_str(), found.id.as_str()),
        (StoreKind::Sequence, a.as_str(), "S1")
    );
    let found = c.store_by_alias("ref-R1-s3alias").await.unwrap().unwrap();
    assert_eq!(
        (found.kind, found.id.as_str()),
        (StoreKind::Reference, "R1")
    );
    assert_eq!(c.store_by_alias("nope-s3alias").await.unwrap(), None);

    // Policies: default until put, a document, then removed; wrong account sees no store.
    let seq = StoreKind::Sequence;
    assert_eq!(
        c.access_policy(seq, a, &"S1".into()).await.unwrap(),
        Some(AccessPolicy::Default)
    );
    assert_eq!(
        c.access_policy(seq, &"999999999999".into(), &"S1".into())
            .await
            .unwrap(),
        None
    );
    let doc = AccessPolicy::Document {
        text: r#"{"Version":"2012-10-17"}"#.into(),
        updated_at: ms(7),
    };
    c.set_access_policy(seq, a, &"S1".into(), &doc)
        .await
        .unwrap();
    assert_eq!(
        c.access_policy(seq, a, &"S1".into()).await.unwrap(),
        Some(doc)
    );
    let removed = AccessPolicy::Removed { updated_at: ms(8) };
    c.set_access_policy(seq, a, &"S1".into(), &removed)
        .await
        .unwrap();
    assert_eq!(
        c.access_policy(seq, a, &"S1".into()).await.unwrap(),
        Some(removed)
    );
    assert!(matches!(
        c.set_access_policy(
            StoreKind::Reference,
            a,
            &"S1".into(),
            &AccessPolicy::Default
        )
        .await,
        Err(CatalogError::NotFound(_))
    ));

    // Objects: readable read sets in id order (tombstones and failed uploads skipped).
    let mut sets = vec![
        read_set("0000000003", 1, ReadSetStatus::Active, None),
        read_set("0000000001", 2, ReadSetStatus::Archived, None),
        read_set("0000000002", 3, ReadSetStatus::UploadFailed, None),
        read_set("0000000004", 4, ReadSetStatus::Active, None),
    ];
    sets[0].source1_name = Some("x.bam".into());
    sets[0].s3_etags.source1 = Some("e1".into());
    import_read_sets(c, &sets).await;
    let ids = |v: Vec<ReadSetRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(c.readable_read_sets(a, &"S1".into(), "", 10).await.unwrap()),
        ["0000000001", "0000000003", "0000000004"]
    );
    assert_eq!(
        ids(c
            .readable_read_sets(a, &"S1".into(), "0000000003", 1)
            .await
            .unwrap()),
        ["0000000003"]
    );
    assert!(
        c.readable_read_sets(&"999999999999".into(), &"S1".into(), "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = c
        .read_set(a, &"S1".into(), &"0000000003".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.s3_etags.source1.as_deref(), Some("e1"));

    // Backfill: files without ETags are found and their ETags recorded.
    let (missing, _) = c.files_missing_etags(10).await.unwrap();
    assert_eq!(ids(missing), ["0000000001", "0000000004"]);
    let etags = FileEtags {
        source1: Some("m1".into()),
        ..Default::default()
    };
    c.set_read_set_etags(&"0000000001".into(), &etags)
        .await
        .unwrap();
    c.set_read_set_etags(&"0000000004".into(), &etags)
        .await
        .unwrap();
    let (missing, _) = c.files_missing_etags(10).await.unwrap();
    assert!(missing.is_empty());
    let r = c
        .read_set(a, &"S1".into(), &"0000000001".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.s3_etags, etags);
}

async fn inventory_walks_every_account_and_marks_unreadable_read_sets(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_sequence_store(&store(a, "S1", "s", 1), &no_tags(), None)
        .await
        .unwrap();
    let mut sets = vec![
        read_set("0000000003", 1, ReadSetStatus::Active, None),
        read_set("0000000001", 2, ReadSetStatus::Archived, None),
        read_set("0000000002", 3, ReadSetStatus::UploadFailed, None),
        read_set("0000000004", 4, ReadSetStatus::Deleted, None),
    ];
    sets[0].source1_size = Some(1000);
    sets[0].index_size = Some(7);
    sets[1].source1_size = Some(20);
    sets[2].source1_size = Some(50_000);
    import_read_sets(c, &sets).await;
    let ids = |v: Vec<ReadSetRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(c.stored_read_sets("", 10).await.unwrap()),
        ["0000000001", "0000000003"]
    );
    assert_eq!(
        ids(c.stored_read_sets("0000000001", 10).await.unwrap()),
        ["0000000003"]
    );
    assert_eq!(
        ids(c.stored_read_sets("", 1).await.unwrap()),
        ["0000000001"]
    );

    // A reference of another account, and one deleted; then the bytes kept by both kinds.
    let other = AccountId::from("444455556666");
    c.create_reference_store(&reference_store(&other, "R9", 1), &no_tags(), None)
        .await
        .unwrap();
    let mut genome = reference("R9", "0000000009", "g", 5, "7000000001");
    genome.account_id = other.clone();
    let mut import = job("7000000001", "R9", 5);
    import.account_id = other.clone();
    c.create_job(&import, &items("7000000001", 2), None)
        .await
        .unwrap();
    // A job in flight: its items' results are being written.
    assert_eq!(
        c.pending_results().await.unwrap(),
        ["70000000010", "70000000011"]
    );
    c.claim_job(
        &[JobKind::ReferenceImport],
        &[],
        &lease("n", i64::MAX),
        ms(6),
    )
    .await
    .unwrap()
    .unwrap();
    c.finish_reference_item(&"7000000001".into(), 0, "n", &genome, &no_tags())
        .await
        .unwrap();
    assert_eq!(c.pending_results().await.unwrap(), ["70000000011"]);
    c.finish_job(&"7000000001".into(), "n", JobStatus::Failed, None, ms(7))
        .await
        .unwrap();
    assert!(
        c.pending_results().await.unwrap().is_empty(),
        "an ended job writes nothing more"
    );
    let refs = c.stored_references("", 10).await.unwrap();
    assert_eq!(refs, [genome]);
    assert_eq!(c.stored_bytes().await.unwrap(), 1000 + 7 + 20 + 100 + 20);

    // Uploads by id alone.
    let mut up = upload("0000000077", 8);
    up.account_id = other.clone();
    c.create_upload(&up, None).await.unwrap();
    assert_eq!(
        c.upload_by_id(&"0000000077".into()).await.unwrap(),
        Some(up)
    );
    assert_eq!(c.upload_by_id(&"0000000078".into()).await.unwrap(), None);

    // Marking: only stored read sets, once.
    let id = "0000000003".into();
    assert!(c.mark_unreadable(&id, "fsck: gone").await.unwrap());
    assert!(!c.mark_unreadable(&id, "again").await.unwrap());
    assert!(
        !c.mark_unreadable(&"0000000004".into(), "deleted")
            .await
            .unwrap()
    );
    let r = c.read_set(a, &"S1".into(), &id).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.status_message.as_deref()),
        (ReadSetStatus::UploadFailed, Some("fsck: gone"))
    );
    assert_eq!(
        ids(c.stored_read_sets("", 10).await.unwrap()),
        ["0000000001"]
    );
}

/// Starts a lifecycle job of `kind` on store S1 whose items name `read_sets`, claimed by
/// node "n".
async fn lifecycle_job(c: &SqlCatalog, id: &str, kind: JobKind, read_sets: &[&str]) -> JobId {
    let mut j = job(id, "S1", 50);
    j.kind = kind;
    let items: Vec<JobItemRecord> = read_sets
        .iter()
        .enumerate()
        .map(|(i, rs)| JobItemRecord {
            index: i as i64,
            result_id: (*rs).to_owned(),
            ..items(id, 1).remove(0)
        })
        .collect();
    c.create_job(&j, &items, None).await.unwrap();
    c.claim_job(&[kind], &[], &lease("n", i64::MAX), ms(51))
        .await
        .unwrap()
        .unwrap();
    id.into()
}

async fn lifecycle_claims_guard_moves_and_count_usage(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    let s1 = &StoreId::from("S1");
    c.create_sequence_store(&store(a, "S1", "s", 1), &no_tags(), None)
        .await
        .unwrap();
    let mut sets = vec![
        read_set("0000000001", 1, ReadSetStatus::Active, None),
        read_set("0000000002", 2, ReadSetStatus::Active, None),
        read_set("0000000003", 3, ReadSetStatus::UploadFailed, None),
    ];
    for r in &mut sets {
        r.source1_size = Some(100);
        r.index_size = Some(10);
    }
    import_read_sets(c, &sets).await;
    let idle = |since: i64| async move {
        c.idle_read_sets(ms(since), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(idle(5).await, ["0000000001", "0000000002"]);
    assert_eq!(
        idle(2).await,
        ["0000000001"],
        "created at 2: not idle since 2"
    );
    // A read makes it busy again; a read of a read set that is not ACTIVE changes nothing.
    c.touch_read_set(&"0000000002".into(), ms(10))
        .await
        .unwrap();
    c.touch_read_set(&"0000000003".into(), ms(10))
        .await
        .unwrap();
    assert_eq!(idle(5).await, ["0000000001"]);
    assert_eq!(idle(11).await, ["0000000001", "0000000002"]);

    // An archive job names 0000000001: it is not idle for another scan.
    let archive = lifecycle_job(c, "9000000001", JobKind::ReadSetArchive, &["0000000001"]).await;
    assert_eq!(idle(11).await, ["0000000002"]);
    let rs1 = &"0000000001".into();
    let claimed = c
        .claim_read_set(rs1, &archive, ReadSetStatus::Active, ReadSetStatus::Active)
        .await
        .unwrap();
    let Claim::Claimed(r) = claimed else {
        panic!("not claimed: {claimed:?}")
    };
    assert_eq!(r.lifecycle_job_id.as_ref(), Some(&archive));
    // The same job claims again (a retry); another is refused and sees who moves it.
    assert!(matches!(
        c.claim_read_set(rs1, &archive, ReadSetStatus::Active, ReadSetStatus::Active)
            .await
            .unwrap(),
        Claim::Claimed(_)
    ));
    let other: JobId = "9000000009".into();
    match c
        .claim_read_set(rs1, &other, ReadSetStatus::Active, ReadSetStatus::Active)
        .await
        .unwrap()
    {
        Claim::Refused(Some(r)) => assert_eq!(r.lifecycle_job_id.as_ref(), Some(&archive)),
        refused => panic!("claimed by two jobs: {refused:?}"),
    }

    // Read after the job began: the move is refused and nothing changes.
    c.touch_read_set(rs1, ms(60)).await.unwrap();
    let archived = Move {
        read_set_id: rs1.clone(),
        to: ReadSetStatus::Archived,
        archive_size: Some(42),
        accessed_at: None,
        idle_since: Some(ms(50)),
    };
    assert!(
        !c.finish_move(&archive, 0, "n", &archived, FINISHED)
            .await
            .unwrap()
    );
    let r = c.read_set(a, s1, rs1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.lifecycle_job_id.as_ref()),
        (ReadSetStatus::Active, Some(&archive))
    );
    // Only the lease holder records anything.
    assert!(matches!(
        c.give_up_move(&archive, 0, "m", rs1, ReadSetStatus::Active, FINISHED)
            .await,
        Err(CatalogError::LeaseLost(_))
    ));
    c.give_up_move(
        &archive,
        0,
        "n",
        rs1,
        ReadSetStatus::Active,
        (ItemStatus::Finished, Some("read meanwhile")),
    )
    .await
    .unwrap();
    let r = c.read_set(a, s1, rs1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.lifecycle_job_id),
        (ReadSetStatus::Active, None)
    );
    let item = &c.job_items(&archive).await.unwrap()[0];
    assert_eq!(
        (item.status, item.status_message.as_deref()),
        (ItemStatus::Finished, Some("read meanwhile"))
    );

    // Not read since: archived, with its copy's size, and its item finished with it.
    let archive2 = lifecycle_job(c, "9000000002", JobKind::ReadSetArchive, &["0000000001"]).await;
    c.claim_read_set(rs1, &archive2, ReadSetStatus::Active, ReadSetStatus::Active)
        .await
        .unwrap();
    let archived = Move {
        idle_since: Some(ms(61)),
        ..archived
    };
    assert!(
        c.finish_move(&archive2, 0, "n", &archived, FINISHED)
            .await
            .unwrap()
    );
    // Moved, still held while the job removes the copy it replaced, then released.
    let r = c.read_set(a, s1, rs1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.archive_size, r.lifecycle_job_id.as_ref()),
        (ReadSetStatus::Archived, Some(42), Some(&archive2))
    );
    assert_eq!(
        c.job_items(&archive2).await.unwrap()[0].status,
        ItemStatus::Finished
    );
    assert!(matches!(
        c.claim_read_set(
            rs1,
            &other,
            ReadSetStatus::Archived,
            ReadSetStatus::Activating
        )
        .await
        .unwrap(),
        Claim::Refused(Some(_))
    ));
    c.release_read_set(rs1, &archive2).await.unwrap();
    let r = c.read_set(a, s1, rs1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.lifecycle_job_id),
        (ReadSetStatus::Archived, None)
    );

    // Usage: per store and status, bytes in each tier.
    let usage = c.usage().await.unwrap();
    let row = |status| usage.iter().find(|u| u.status == status).unwrap();
    assert_eq!(
        (
            row(ReadSetStatus::Active).read_sets,
            row(ReadSetStatus::Active).bytes
        ),
        (1, 110)
    );
    let archived_row = row(ReadSetStatus::Archived);
    assert_eq!(
        (
            archived_row.read_sets,
            archived_row.bytes,
            archived_row.archive_bytes
        ),
        (1, 110, 42)
    );

    // Activation: ARCHIVED becomes ACTIVATING under the claim; a deletion meanwhile wins.
    let activation =
        lifecycle_job(c, "9000000003", JobKind::ReadSetActivation, &["0000000001"]).await;
    assert!(matches!(
        c.claim_read_set(rs1, &activation, ReadSetStatus::Archived, ReadSetStatus::Activating)
            .await
            .unwrap(),
        Claim::Claimed(r) if r.status == ReadSetStatus::Activating
    ));
    c.delete_read_set(a, s1, rs1).await.unwrap();
    let activated = Move {
        read_set_id: rs1.clone(),
        to: ReadSetStatus::Active,
        archive_size: None,
        accessed_at: Some(ms(70)),
        idle_since: None,
    };
    assert!(
        !c.finish_move(&activation, 0, "n", &activated, FINISHED)
            .await
            .unwrap()
    );
    c.give_up_move(
        &activation,
        0,
        "n",
        rs1,
        ReadSetStatus::Archived,
        (ItemStatus::Failed, Some("deleted")),
    )
    .await
    .unwrap();
    let r = c.read_set(a, s1, rs1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.lifecycle_job_id),
        (ReadSetStatus::Deleted, None)
    );

    // An activation that ends: ACTIVE again, its access recorded, no archive copy.
    let rs2 = &"0000000002".into();
    let archive3 = lifecycle_job(c, "9000000004", JobKind::ReadSetArchive, &["0000000002"]).await;
    c.claim_read_set(rs2, &archive3, ReadSetStatus::Active, ReadSetStatus::Active)
        .await
        .unwrap();
    let archived = Move {
        read_set_id: rs2.clone(),
        ..archived
    };
    assert!(
        c.finish_move(&archive3, 0, "n", &archived, FINISHED)
            .await
            .unwrap()
    );
    c.release_read_set(rs2, &archive3).await.unwrap();
    let activation2 =
        lifecycle_job(c, "9000000005", JobKind::ReadSetActivation, &["0000000002"]).await;
    c.claim_read_set(
        rs2,
        &activation2,
        ReadSetStatus::Archived,
        ReadSetStatus::Activating,
    )
    .await
    .unwrap();
    let activated = Move {
        read_set_id: rs2.clone(),
        ..activated
    };
    assert!(
        c.finish_move(&activation2, 0, "n", &activated, FINISHED)
            .await
            .unwrap()
    );
    let r = c.read_set(a, s1, rs2).await.unwrap().unwrap();
    assert_eq!(
        (
            r.status,
            r.archive_size,
            r.accessed_at,
            r.lifecycle_job_id.as_ref()
        ),
        (
            ReadSetStatus::Active,
            None,
            Some(ms(70)),
            Some(&activation2)
        )
    );
    // A holder that died before releasing: once its job has ended, the claim is taken over.
    let next = lifecycle_job(c, "9000000006", JobKind::ReadSetArchive, &["0000000002"]).await;
    assert!(matches!(
        c.claim_read_set(rs2, &next, ReadSetStatus::Active, ReadSetStatus::Active)
            .await
            .unwrap(),
        Claim::Refused(_)
    ));
    c.finish_job(&activation2, "n", JobStatus::Completed, None, ms(80))
        .await
        .unwrap();
    assert!(matches!(
        c.claim_read_set(rs2, &next, ReadSetStatus::Active, ReadSetStatus::Active)
            .await
            .unwrap(),
        Claim::Claimed(r) if r.lifecycle_job_id.as_ref() == Some(&next)
    ));
}

async fn nodes_say_they_are_alive_and_leave(c: &SqlCatalog) {
    let (a, b) = (NodeId::from("node-a"), NodeId::from("node-b"));
    assert!(c.live_nodes(ms(0)).await.unwrap().is_empty());
    c.node_alive(&b, ms(100), ms(100)).await.unwrap();
    c.node_alive(&a, ms(50), ms(150)).await.unwrap();
    let live = c.live_nodes(ms(100)).await.unwrap();
    let ids: Vec<&str> = live.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["node-a", "node-b"], "in id order");
    assert_eq!((live[0].started_at, live[0].seen_at), (ms(50), ms(150)));

    // A heartbeat moves `seen_at`; a restart moves `started_at` too.
    c.node_alive(&b, ms(100), ms(300)).await.unwrap();
    c.node_alive(&a, ms(400), ms(400)).await.unwrap();
    let live = c.live_nodes(ms(301)).await.unwrap();
    assert_eq!(live.len(), 1, "node-b was last seen at 300: {live:?}");
    assert_eq!(
        (live[0].id.as_str(), live[0].started_at),
        ("node-a", ms(400))
    );

    c.node_stopped(&a).await.unwrap();
    let live = c.live_nodes(ms(0)).await.unwrap();
    let ids: Vec<&str> = live.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["node-b"]);
}

fn sequence(r: &ReferenceRecord, ordinal: u32, name: &str, md5: &str) -> SequenceRecord {
    SequenceRecord {
        account_id: r.account_id.clone(),
        reference_store_id: r.reference_store_id.clone(),
        reference_id: r.id.clone(),
        ordinal,
        name: name.into(),
        length: 5_000_000_000,
        text_offset: 7,
        line_bases: 60,
        line_width: 61,
        md5: md5.into(),
        sha512t24u: format!("sq-{md5}"),
    }
}

async fn ga4gh_sequences_tokens_and_ticket_key(c: &SqlCatalog) {
    let a = &AccountId::from("111122223333");
    c.create_reference_store(&reference_store(a, "0000000001", 1), &no_tags(), None)
        .await
        .unwrap();
    let r1 = reference("0000000001", "1000000001", "hg38", 10, "9000000001");
    let r2 = reference("0000000001", "1000000002", "copy", 20, "9000000002");
    import(c, "9000000001", "0000000001", &r1).await;
    import(c, "9000000002", "0000000001", &r2).await;
    assert_eq!(
        c.references_without_sequences(10).await.unwrap(),
        [r1.clone(), r2.clone()]
    );
    let chr1 = sequence(&r1, 0, "chr1", "aaaa");
    let chr2 = sequence(&r1, 1, "chr2", "bbbb");
    c.put_reference_sequences(&r1.id, &[chr1.clone(), sequence(&r1, 1, "old", "cccc")])
        .await
        .unwrap();
    // Written again (a resumed import): the new rows replace the old.
    c.put_reference_sequences(&r1.id, &[chr1.clone(), chr2.clone()])
        .await
        .unwrap();
    assert_eq!(c.sequences_by_digest("cccc").await.unwrap(), []);
    assert_eq!(
        c.sequences_by_digest("bbbb").await.unwrap(),
        std::slice::from_ref(&chr2)
    );
    assert_eq!(
        c.sequences_by_digest("sq-bbbb").await.unwrap(),
        std::slice::from_ref(&chr2)
    );
    let same = sequence(&r2, 0, "1", "aaaa");
    c.put_reference_sequences(&r2.id, std::slice::from_ref(&same))
        .await
        .unwrap();
    assert_eq!(c.sequences_by_digest("aaaa").await.unwrap(), [chr1, same]);
    assert_eq!(c.references_without_sequences(10).await.unwrap(), []);
    // A deleted reference's sequences go with it.
    c.delete_reference(a, &"0000000001".into(), &r1.id, "arn")
        .await
        .unwrap();
    assert_eq!(c.sequences_by_digest("bbbb").await.unwrap(), []);
    assert_eq!(c.sequences_by_digest("aaaa").await.unwrap().len(), 1);

    c.create_sequence_store(
        &store("111122223333", "5000000001", "s", 1),
        &no_tags(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        c.sequence_store_owner(&"5000000001".into()).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        c.sequence_store_owner(&"0000000001".into()).await.unwrap(),
        None
    );

    let token = BearerTokenRecord {
        token_id: "tok1".into(),
        secret_sha256: "00ff".into(),
        account_id: a.clone(),
        user_name: Some("alice".into()),
        created_at: ms(5),
        expires_at: Some(ms(500)),
    };
    c.insert_bearer_token(&token).await.unwrap();
    assert!(matches!(
        c.insert_bearer_token(&token).await,
        Err(CatalogError::AlreadyExists(_))
    ));
    let forever = BearerTokenRecord {
        token_id: "tok0".into(),
        user_name: None,
        expires_at: None,
        created_at: ms(9),
        ..token.clone()
    };
    c.insert_bearer_token(&forever).await.unwrap();
    assert_eq!(
        c.bearer_token(&"tok1".into()).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(c.bearer_tokens().await.unwrap(), [token, forever]);
    c.delete_bearer_token(&"tok1".into()).await.unwrap();
    assert!(matches!(
        c.delete_bearer_token(&"tok1".into()).await,
        Err(CatalogError::NotFound(_))
    ));
    assert_eq!(c.bearer_token(&"tok1".into()).await.unwrap(), None);

    assert_eq!(c.ticket_key("first").await.unwrap(), "first");
    assert_eq!(
        c.ticket_key("second").await.unwrap(),
        "first",
        "the first key stays"
    );
}
