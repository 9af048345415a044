//! Row decoding and a small `$n` query builder for dynamic filters.

use super::Db;
use seqstore_blob::BlobKey;
use seqstore_core::catalog::{
    CatalogError, FileEtags, JobItemRecord, JobRecord, ListCursor, PartRecord, ReadSetRecord,
    ReferenceRecord, ReferenceStoreRecord, Result, SequenceStoreRecord, UploadRecord,
};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::str::FromStr;

pub(crate) const SEQUENCE_STORE_COLUMNS: &str = "id, account_id, name, description, sse_type, \
     sse_key_arn, fallback_location, etag_algorithm_family, status, status_message, \
     propagated_set_level_tags, access_log_location, s3_access_point_alias, created_at, updated_at";

pub(crate) const REFERENCE_STORE_COLUMNS: &str =
    "id, account_id, name, description, sse_type, sse_key_arn, s3_access_point_alias, created_at";

pub(crate) const REFERENCE_COLUMNS: &str = "id, account_id, reference_store_id, name, description, \
     md5, status, source_file_name, source_size, index_size, creation_job_id, created_at, updated_at, \
     source_s3_etag, index_s3_etag";

pub(crate) const JOB_COLUMNS: &str = "id, account_id, kind, store_id, role_arn, status, \
     status_message, created_at, completed_at, attempts";

pub(crate) const READ_SET_COLUMNS: &str = "id, account_id, sequence_store_id, name, description, \
     subject_id, sample_id, generated_from, reference_arn, file_type, status, status_message, \
     creation_type, creation_job_id, etag_algorithm, etag_source1, etag_source2, total_read_count, \
     total_base_count, source1_name, source1_size, source2_name, source2_size, index_name, \
     index_size, created_at, updated_at, source1_s3_etag, source2_s3_etag, index_s3_etag";

pub(crate) const UPLOAD_COLUMNS: &str = "id, account_id, sequence_store_id, source_file_type, \
     subject_id, sample_id, generated_from, reference_arn, name, description, tags, status, \
     read_set_id, created_at";

pub(crate) const PART_COLUMNS: &str =
    "upload_id, part_source, part_number, size, checksum, blob_key, created_at, updated_at";

pub(crate) const JOB_ITEM_COLUMNS: &str =
    "job_id, item_index, status, status_message, spec, result_id, attempts";

/// A column holding a name of the domain's vocabulary (a status, a kind).
fn name<T: FromStr<Err: std::fmt::Display>>(row: &AnyRow, column: &'static str) -> Result<T> {
    let text: String = row.try_get(column).db()?;
    text.parse().map_err(|e: T::Err| CatalogError::Corrupt {
        column,
        reason: e.to_string(),
    })
}

/// The `blob_key` column: a key the blob layout wrote.
pub(crate) fn blob_key(row: &AnyRow) -> Result<BlobKey> {
    let text: String = row.try_get("blob_key").db()?;
    BlobKey::recorded(&text).map_err(|e| CatalogError::Corrupt {
        column: "blob_key",
        reason: e.to_string(),
    })
}

pub(crate) fn sequence_store(row: &AnyRow) -> Result<SequenceStoreRecord> {
    let tags: String = row.try_get("propagated_set_level_tags").db()?;
    Ok(SequenceStoreRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        name: row.try_get("name").db()?,
        description: row.try_get("description").db()?,
        sse_type: row.try_get("sse_type").db()?,
        sse_key_arn: row.try_get("sse_key_arn").db()?,
        fallback_location: row.try_get("fallback_location").db()?,
        etag_algorithm_family: name(row, "etag_algorithm_family")?,
        status: name(row, "status")?,
        status_message: row.try_get("status_message").db()?,
        propagated_set_level_tags: serde_json::from_str(&tags).map_err(|e| {
            CatalogError::Corrupt {
                column: "propagated_set_level_tags",
                reason: e.to_string(),
            }
        })?,
        access_log_location: row.try_get("access_log_location").db()?,
        s3_access_point_alias: row.try_get("s3_access_point_alias").db()?,
        created_at_ms: row.try_get("created_at").db()?,
        updated_at_ms: row.try_get("updated_at").db()?,
    })
}

pub(crate) fn reference_store(row: &AnyRow) -> Result<ReferenceStoreRecord> {
    Ok(ReferenceStoreRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        name: row.try_get("name").db()?,
        description: row.try_get("description").db()?,
        sse_type: row.try_get("sse_type").db()?,
        sse_key_arn: row.try_get("sse_key_arn").db()?,
        s3_access_point_alias: row.try_get("s3_access_point_alias").db()?,
        created_at_ms: row.try_get("created_at").db()?,
    })
}

pub(crate) fn reference(row: &AnyRow) -> Result<ReferenceRecord> {
    Ok(ReferenceRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        reference_store_id: row.try_get("reference_store_id").db()?,
        name: row.try_get("name").db()?,
        description: row.try_get("description").db()?,
        md5: row.try_get("md5").db()?,
        status: name(row, "status")?,
        source_file_name: row.try_get("source_file_name").db()?,
        source_size: row.try_get("source_size").db()?,
        index_size: row.try_get("index_size").db()?,
        source_s3_etag: row.try_get("source_s3_etag").db()?,
        index_s3_etag: row.try_get("index_s3_etag").db()?,
        creation_job_id: row.try_get("creation_job_id").db()?,
        created_at_ms: row.try_get("created_at").db()?,
        updated_at_ms: row.try_get("updated_at").db()?,
    })
}

pub(crate) fn read_set(row: &AnyRow) -> Result<ReadSetRecord> {
    Ok(ReadSetRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        sequence_store_id: row.try_get("sequence_store_id").db()?,
        name: row.try_get("name").db()?,
        description: row.try_get("description").db()?,
        subject_id: row.try_get("subject_id").db()?,
        sample_id: row.try_get("sample_id").db()?,
        generated_from: row.try_get("generated_from").db()?,
        reference_arn: row.try_get("reference_arn").db()?,
        file_type: name(row, "file_type")?,
        status: name(row, "status")?,
        status_message: row.try_get("status_message").db()?,
        creation_type: name(row, "creation_type")?,
        creation_job_id: row.try_get("creation_job_id").db()?,
        etag_algorithm: row.try_get("etag_algorithm").db()?,
        etag_source1: row.try_get("etag_source1").db()?,
        etag_source2: row.try_get("etag_source2").db()?,
        total_read_count: row.try_get("total_read_count").db()?,
        total_base_count: row.try_get("total_base_count").db()?,
        source1_name: row.try_get("source1_name").db()?,
        source1_size: row.try_get("source1_size").db()?,
        source2_name: row.try_get("source2_name").db()?,
        source2_size: row.try_get("source2_size").db()?,
        index_name: row.try_get("index_name").db()?,
        index_size: row.try_get("index_size").db()?,
        s3_etags: FileEtags {
            source1: row.try_get("source1_s3_etag").db()?,
            source2: row.try_get("source2_s3_etag").db()?,
            index: row.try_get("index_s3_etag").db()?,
        },
        created_at_ms: row.try_get("created_at").db()?,
        updated_at_ms: row.try_get("updated_at").db()?,
    })
}

pub(crate) fn upload(row: &AnyRow) -> Result<UploadRecord> {
    let tags: String = row.try_get("tags").db()?;
    Ok(UploadRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        sequence_store_id: row.try_get("sequence_store_id").db()?,
        source_file_type: name(row, "source_file_type")?,
        subject_id: row.try_get("subject_id").db()?,
        sample_id: row.try_get("sample_id").db()?,
        generated_from: row.try_get("generated_from").db()?,
        reference_arn: row.try_get("reference_arn").db()?,
        name: row.try_get("name").db()?,
        description: row.try_get("description").db()?,
        tags: serde_json::from_str(&tags).map_err(|e| CatalogError::Corrupt {
            column: "uploads.tags",
            reason: e.to_string(),
        })?,
        status: name(row, "status")?,
        read_set_id: row.try_get("read_set_id").db()?,
        created_at_ms: row.try_get("created_at").db()?,
    })
}

pub(crate) fn part(row: &AnyRow) -> Result<PartRecord> {
    Ok(PartRecord {
        upload_id: row.try_get("upload_id").db()?,
        part_source: name(row, "part_source")?,
        part_number: row.try_get("part_number").db()?,
        size: row.try_get("size").db()?,
        checksum: row.try_get("checksum").db()?,
        blob_key: blob_key(row)?,
        created_at_ms: row.try_get("created_at").db()?,
        updated_at_ms: row.try_get("updated_at").db()?,
    })
}

pub(crate) fn job(row: &AnyRow) -> Result<JobRecord> {
    Ok(JobRecord {
        id: row.try_get("id").db()?,
        account_id: row.try_get("account_id").db()?,
        kind: name(row, "kind")?,
        store_id: row.try_get("store_id").db()?,
        role_arn: row.try_get("role_arn").db()?,
        status: name(row, "status")?,
        status_message: row.try_get("status_message").db()?,
        created_at_ms: row.try_get("created_at").db()?,
        completed_at_ms: row.try_get("completed_at").db()?,
        attempts: row.try_get("attempts").db()?,
    })
}

pub(crate) fn job_item(row: &AnyRow) -> Result<JobItemRecord> {
    Ok(JobItemRecord {
        job_id: row.try_get("job_id").db()?,
        index: row.try_get("item_index").db()?,
        status: name(row, "status")?,
        status_message: row.try_get("status_message").db()?,
        spec: row.try_get("spec").db()?,
        result_id: row.try_get("result_id").db()?,
        attempts: row.try_get("attempts").db()?,
    })
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

    /// Adds the keyset condition for the page after `cursor`.
    pub(crate) fn after(&mut self, cursor: Option<&ListCursor>) {
        if let Some(c) = cursor {
            let t1 = self.bind(Arg::Int(c.created_at_ms));
            let t2 = self.bind(Arg::Int(c.created_at_ms));
            let id = self.bind(Arg::Text(c.id.clone()));
            self.conditions.push(format!(
                "(created_at > {t1} OR (created_at = {t2} AND id > {id}))"
            ));
        }
    }

    /// `SELECT ... ORDER BY <order> LIMIT n` for tables not paged by creation time.
    pub(crate) fn ordered(
        self,
        columns: &str,
        table: &str,
        order: &str,
        limit: u32,
    ) -> (String, Vec<Arg>) {
        let mut sql = format!("SELECT {columns} FROM {table}");
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY {order} LIMIT {limit}"));
        (sql, self.args)
    }

    /// The final SQL and query with all binds applied.
    pub(crate) fn page(self, columns: &str, table: &str, limit: u32) -> (String, Vec<Arg>) {
        let mut sql = format!("SELECT {columns} FROM {table}");
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY created_at, id LIMIT {limit}"));
        (sql, self.args)
    }
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

impl From<i64> for Arg {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

/// Applies the binds of a dynamic query.
pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    args: Vec<Arg>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(s) => query.bind(s),
            Arg::Int(i) => query.bind(i),
        };
    }
    query
}
