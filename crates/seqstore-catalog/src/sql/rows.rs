//! Rows as records: each record's columns are listed once, in [`table!`], which derives
//! its column list, its decoder and its binds; plus a small `$n` query builder for filters.

use super::Db;
use seqstore_blob::BlobKey;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    AccessKeyRecord, BearerTokenRecord, CatalogError, FileEtags, IdempotencyRecord, JobItemRecord,
    JobRecord, ListCursor, PartRecord, ReadSetRecord, ReferenceRecord, ReferenceStoreRecord,
    Result, SequenceRecord, SequenceStoreRecord, UploadRecord,
};
use seqstore_core::ids::{AccountId, JobId, ReadSetId, ReferenceId, StoreId, TokenId, UploadId};
use seqstore_core::vocabulary::{
    CreationType, EtagAlgorithm, EtagFamily, FileType, ItemStatus, JobKind, JobStatus, PartSource,
    ReadSetStatus, ReferenceStatus, SseType, StoreStatus, UploadStatus,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Row};
use std::collections::BTreeMap;

/// A query on the `Any` driver.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// A value kept in the catalog: how it is read from its column and bound to a query.
pub(crate) trait Column: Sized {
    /// Reads it from `column` of `row`.
    fn read(row: &AnyRow, column: &'static str) -> Result<Self>;
    /// Binds it as the next parameter(s) of `query`.
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q>;
}

/// Values sqlx reads and binds as they are.
macro_rules! plain {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
                row.try_get(column).db()
            }
            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                query.bind(self)
            }
        }
    )+};
}
plain!(String, Option<String>, i64, Option<i64>);

/// Values kept as text: ids, and names of the domain's vocabulary (an unknown name is
/// [`CatalogError::Corrupt`]).
macro_rules! text {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
                let text: String = row.try_get(column).db()?;
                text.parse().map_err(|e| corrupt(column, e))
            }
            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                query.bind(self.to_string())
            }
        }

        impl Column for Option<$ty> {
            fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
                let text: Option<String> = row.try_get(column).db()?;
                text.map(|t| t.parse().map_err(|e| corrupt(column, e))).transpose()
            }
            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                query.bind(self.as_ref().map(ToString::to_string))
            }
        }
    )+};
}
text!(
    TokenId,
    AccountId,
    StoreId,
    ReadSetId,
    ReferenceId,
    UploadId,
    JobId,
    ReadSetStatus,
    ReferenceStatus,
    StoreStatus,
    JobKind,
    JobStatus,
    ItemStatus,
    FileType,
    PartSource,
    CreationType,
    UploadStatus,
    SseType,
    EtagAlgorithm,
    EtagFamily
);

/// Values kept as JSON text.
macro_rules! json {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
                let text: String = row.try_get(column).db()?;
                serde_json::from_str(&text).map_err(|e| corrupt(column, e))
            }
            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                query.bind(serde_json::to_string(self).unwrap_or_default())
            }
        }
    )+};
}
json!(Vec<String>, BTreeMap<String, String>);

/// Sizes, offsets and positions: `BIGINT` (`INTEGER`) columns that are never negative.
macro_rules! unsigned {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
                let value: i64 = row.try_get(column).db()?;
                <$ty>::try_from(value).map_err(|e| corrupt(column, e))
            }
            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                // Every value kept fits: sizes are checked against far smaller limits.
                query.bind(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )+};
}
unsigned!(u32, u64);

impl Column for Timestamp {
    fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
        Ok(Timestamp::from_millis(row.try_get(column).db()?))
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query.bind(self.millis())
    }
}

impl Column for Option<Timestamp> {
    fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
        let ms: Option<i64> = row.try_get(column).db()?;
        Ok(ms.map(Timestamp::from_millis))
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query.bind(self.map(Timestamp::millis))
    }
}

impl Column for BlobKey {
    fn read(row: &AnyRow, column: &'static str) -> Result<Self> {
        let text: String = row.try_get(column).db()?;
        BlobKey::recorded(&text).map_err(|e| corrupt(column, e))
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query.bind(self.as_str())
    }
}

/// The three S3 ETag columns of a read set (its `table!` entry names all three).
impl Column for FileEtags {
    fn read(row: &AnyRow, _: &'static str) -> Result<Self> {
        Ok(FileEtags {
            source1: Column::read(row, "source1_s3_etag")?,
            source2: Column::read(row, "source2_s3_etag")?,
            index: Column::read(row, "index_s3_etag")?,
        })
    }
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(self.source1.as_deref())
            .bind(self.source2.as_deref())
            .bind(self.index.as_deref())
    }
}

fn corrupt(column: &'static str, reason: impl std::fmt::Display) -> CatalogError {
    CatalogError::Corrupt {
        column,
        reason: reason.to_string(),
    }
}

/// A record kept as one row of a table.
pub(crate) trait Table: Sized {
    /// Its table.
    const TABLE: &'static str;
    /// Its columns, comma-separated, in binding order.
    const COLUMNS: &'static str;
    /// How many parameters [`Table::bind`] binds.
    const WIDTH: usize = columns_in(Self::COLUMNS);
    /// Decodes a row selected with [`Table::COLUMNS`].
    fn decode(row: &AnyRow) -> Result<Self>;
    /// Binds every column, in [`Table::COLUMNS`] order.
    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q>;

    /// `INSERT INTO <table> (<columns>) VALUES ($1, ...)`.
    fn insert() -> String {
        let values: Vec<String> = (1..=Self::WIDTH).map(|i| format!("${i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            Self::TABLE,
            Self::COLUMNS,
            values.join(", ")
        )
    }

    /// `SELECT <columns> FROM <table> WHERE <condition>`.
    fn select(condition: &str) -> String {
        format!(
            "SELECT {} FROM {} WHERE {condition}",
            Self::COLUMNS,
            Self::TABLE
        )
    }
}

/// Implements [`Table`] for a record: each field is kept in the column of its name, or in
/// the column(s) given after `=`.
macro_rules! table {
    ($($record:ident in $table:literal {
        $first:ident $(= $first_column:literal)? $(, $field:ident $(= $column:literal)?)* $(,)?
    })+) => {$(
        impl Table for $record {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static str = concat!(
                table!(@column $first $($first_column)?),
                $(", ", table!(@column $field $($column)?),)*
            );

            fn decode(row: &AnyRow) -> Result<Self> {
                Ok(Self {
                    $first: Column::read(row, table!(@column $first $($first_column)?))?,
                    $($field: Column::read(row, table!(@column $field $($column)?))?,)*
                })
            }

            fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                let query = self.$first.bind(query);
                $(let query = self.$field.bind(query);)*
                query
            }
        }
    )+};
    (@column $field:ident) => { stringify!($field) };
    (@column $field:ident $column:literal) => { $column };
}

/// How many columns a comma-separated list names.
const fn columns_in(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut n) = (0, 1);
    while i < bytes.len() {
        if bytes[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
}

table! {
    AccessKeyRecord in "access_keys" {
        access_key_id, secret_access_key, account_id, user_name, created_at,
    }
    IdempotencyRecord in "idempotency_tokens" {
        account_id, operation, client_token, request_hash, response, created_at,
    }
    SequenceStoreRecord in "sequence_stores" {
        id, account_id, name, description, sse_type, sse_key_arn, fallback_location,
        etag_algorithm_family, status, status_message, propagated_set_level_tags,
        access_log_location, s3_access_point_alias, created_at, updated_at,
    }
    ReferenceStoreRecord in "reference_stores" {
        id, account_id, name, description, sse_type, sse_key_arn, s3_access_point_alias,
        created_at,
    }
    ReferenceRecord in "genome_references" {
        id, account_id, reference_store_id, name, description, md5, status, source_file_name,
        source_size, index_size, creation_job_id, created_at, updated_at, source_s3_etag,
        index_s3_etag,
    }
    JobRecord in "jobs" {
        id, account_id, kind, store_id, role_arn, status, status_message, created_at,
        completed_at, attempts, destination,
    }
    JobItemRecord in "job_items" {
        job_id, index = "item_index", status, status_message, spec, result_id, attempts,
    }
    ReadSetRecord in "read_sets" {
        id, account_id, sequence_store_id, name, description, subject_id, sample_id,
        generated_from, reference_arn, file_type, status, status_message, creation_type,
        creation_job_id, etag_algorithm, etag_source1, etag_source2, total_read_count,
        total_base_count, source1_name, source1_size, source2_name, source2_size, index_name,
        index_size, created_at, updated_at,
        s3_etags = "source1_s3_etag, source2_s3_etag, index_s3_etag",
        accessed_at, archive_size, lifecycle_job_id,
    }
    UploadRecord in "uploads" {
        id, account_id, sequence_store_id, source_file_type, subject_id, sample_id,
        generated_from, reference_arn, name, description, tags, status, read_set_id,
        created_at,
    }
    PartRecord in "upload_parts" {
        upload_id, part_source, part_number, size, checksum, blob_key, created_at, updated_at,
    }
    SequenceRecord in "reference_sequences" {
        reference_id, ordinal, account_id, reference_store_id, name, length, text_offset,
        line_bases, line_width, md5, sha512t24u,
    }
    BearerTokenRecord in "bearer_tokens" {
        token_id, secret_sha256, account_id, user_name, created_at, expires_at,
    }
}

/// A bound value of a dynamic query.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// Builds `SELECT ... WHERE a AND b ... ORDER BY created_at, id LIMIT n` with `$n` binds.
#[derive(Debug, Default)]
pub(crate) struct Select {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Select {
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds `column <op> value`.
    pub(crate) fn cmp(&mut self, column: &str, op: &str, arg: Arg) {
        let p = self.bind(arg);
        self.conditions.push(format!("{column} {op} {p}"));
    }

    /// Adds `column <op> value` when the value is present.
    pub(crate) fn cmp_opt<T: Into<Arg> + Clone>(
        &mut self,
        column: &str,
        op: &str,
        value: &Option<T>,
    ) {
        if let Some(v) = value {
            self.cmp(column, op, v.clone().into());
        }
    }

    /// Adds a condition without binds.
    pub(crate) fn raw(&mut self, condition: &str) {
        self.conditions.push(condition.to_owned());
    }

    /// Adds the keyset condition for the page after `cursor`. As a row value comparison both
    /// catalogs start an index range on `(..., created_at, id)` at the cursor; spelled as
    /// `created_at > t OR (created_at = t AND id > i)` they walked the index from its start.
    pub(crate) fn after(&mut self, cursor: Option<&ListCursor>) {
        if let Some(c) = cursor {
            let t = self.bind(Arg::Int(c.created_at.millis()));
            let id = self.bind(Arg::Text(c.id.clone()));
            self.conditions
                .push(format!("(created_at, id) > ({t}, {id})"));
        }
    }

    /// Runs `SELECT ... ORDER BY <order> LIMIT n` and decodes the rows.
    pub(crate) async fn fetch<T: Table>(
        self,
        pool: &AnyPool,
        order: &str,
        limit: u32,
    ) -> Result<Vec<T>> {
        let mut sql = format!("SELECT {} FROM {}", T::COLUMNS, T::TABLE);
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY {order} LIMIT {limit}"));
        let query = self
            .args
            .into_iter()
            .fold(sqlx::query(&sql), |q, arg| match arg {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            });
        query
            .fetch_all(pool)
            .await
            .db()?
            .iter()
            .map(T::decode)
            .collect()
    }

    /// One page in creation order (`ORDER BY created_at, id`).
    pub(crate) async fn page<T: Table>(self, pool: &AnyPool, limit: u32) -> Result<Vec<T>> {
        self.fetch(pool, "created_at, id", limit).await
    }
}

/// The row of `T` that `condition` selects, with `args` bound to `$1`, `$2`, ...
pub(crate) async fn one<'c, T: Table>(
    executor: impl Executor<'c, Database = Any>,
    condition: &str,
    args: &[&str],
) -> Result<Option<T>> {
    let sql = T::select(condition);
    let query = args.iter().fold(sqlx::query(&sql), |q, arg| q.bind(*arg));
    query
        .fetch_optional(executor)
        .await
        .db()?
        .as_ref()
        .map(T::decode)
        .transpose()
}

/// Every row of `T` that `condition` selects, with `args` bound to `$1`, `$2`, ...
pub(crate) async fn all<'c, T: Table>(
    executor: impl Executor<'c, Database = Any>,
    condition: &str,
    args: &[&str],
) -> Result<Vec<T>> {
    let sql = T::select(condition);
    let query = args.iter().fold(sqlx::query(&sql), |q, arg| q.bind(*arg));
    query
        .fetch_all(executor)
        .await
        .db()?
        .iter()
        .map(T::decode)
        .collect()
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<Timestamp> for Arg {
    fn from(t: Timestamp) -> Self {
        Self::Int(t.millis())
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
