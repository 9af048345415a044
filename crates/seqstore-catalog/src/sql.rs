//! The SQL catalog on sqlx's `Any` driver: one code path for SQLite and PostgreSQL.
//!
//! Queries use `$n` placeholders, which both backends accept, and only portable SQL
//! (`ON CONFLICT ... DO UPDATE`, `BIGINT`, `TEXT`).

mod ga4gh;
mod inventory;
mod jobs;
mod lifecycle;
mod nodes;
mod read_sets;
mod reference_stores;
mod references;
mod rows;
mod s3_access;
mod sequence_stores;
mod tags;
mod uploads;

use async_trait::async_trait;
use rows::Table;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{
    AccessKeyRecord, AccessKeys, Catalog, CatalogError, Idempotency, IdempotencyRecord, Result,
};
use seqstore_core::ids::AccountId;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a client token is remembered (spec E20).
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Why the catalog could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The catalog URL names no supported backend.
    #[error("unsupported catalog url {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// Applying migrations failed.
    #[error("catalog migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("catalog database error")]
    Database(#[from] sqlx::Error),
}

/// A sqlx result as a catalog result: a database error is a backend error.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(backend)
    }
}

pub(crate) fn backend(err: sqlx::Error) -> CatalogError {
    CatalogError::Backend(Box::new(err))
}

/// The catalog on a SQL database.
#[derive(Debug, Clone)]
pub struct SqlCatalog {
    pool: AnyPool,
    backend: &'static str,
    /// The S3 revision of an SQLite catalog, which one server process serves: counted in
    /// memory, so a GET asks the database nothing.
    s3_revision: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SqlCatalog {
    /// Connects to `url` (`sqlite://FILE?mode=rwc` or `postgres://...`) and applies
    /// pending migrations.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == "sqlite" { 4 } else { 16 })
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        // WAL lets readers run beside the writer; the busy timeout makes
                        // concurrent writers (server and `seqstore keys`) wait, not fail.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            s3_revision: Default::default(),
        })
    }

    /// The URL of a SQLite catalog file, created when missing.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Closes every connection, waiting for those in use: SQLite then folds its write-ahead
    /// log into the database file, which alone is a complete copy afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == "postgres"
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later can be
    /// refused at once with "database is locked" when another connection writes meanwhile,
    /// while waiting for the lock honours the busy timeout.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Any>> {
        Ok(if self.is_postgres() {
            self.pool.begin().await.db()?
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await.db()?
        })
    }
}

impl Catalog for SqlCatalog {
    fn backend(&self) -> &'static str {
        self.backend
    }
}

#[async_trait]
impl AccessKeys for SqlCatalog {
    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<()> {
        key.bind(sqlx::query(&AccessKeyRecord::insert()))
            .execute(&self.pool)
            .await
            .map_err(|e| unique_as(e, CatalogError::AlreadyExists("access key")))?;
        Ok(())
    }

    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        rows::one::<AccessKeyRecord>(&self.pool, "access_key_id = $1", &[access_key_id]).await
    }

    async fn access_keys(&self) -> Result<Vec<AccessKeyRecord>> {
        rows::all(&self.pool, "1 = 1 ORDER BY created_at, access_key_id", &[]).await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(&self.pool)
            .await
            .db()?;
        match done.rows_affected() {
            0 => Err(CatalogError::NotFound("access key")),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Idempotency for SqlCatalog {
    async fn idempotency_record(
        &self,
        account_id: &AccountId,
        operation: &str,
        client_token: &str,
        not_before: Timestamp,
    ) -> Result<Option<IdempotencyRecord>> {
        rows::one::<IdempotencyRecord>(
            &self.pool,
            &format!(
                "account_id = $1 AND operation = $2 AND client_token = $3 AND created_at >= {}",
                not_before.millis()
            ),
            &[account_id.as_str(), operation, client_token],
        )
        .await
    }
}

/// Records a client token inside `tx`, replacing an expired record of the same token.
pub(crate) async fn record_idempotency(
    tx: &mut Transaction<'_, Any>,
    record: &IdempotencyRecord,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_tokens \
         WHERE account_id = $1 AND operation = $2 AND client_token = $3 AND created_at < $4",
    )
    .bind(record.account_id.as_str())
    .bind(&record.operation)
    .bind(&record.client_token)
    .bind(record.created_at.millis() - IDEMPOTENCY_WINDOW_MS)
    .execute(&mut **tx)
    .await
    .db()?;
    record
        .bind(sqlx::query(&IdempotencyRecord::insert()))
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_as(e, CatalogError::TokenInUse))?;
    Ok(())
}

/// Maps a unique violation to `instead`, keeping every other error.
pub(crate) fn unique_as(err: sqlx::Error, instead: CatalogError) -> CatalogError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => instead,
        _ => backend(err),
    }
}

fn backend_of(url: &str) -> Result<&'static str, ConnectError> {
    if url.starts_with("sqlite:") {
        Ok("sqlite")
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok("postgres")
    } else {
        Err(ConnectError::UnsupportedUrl(url.to_owned()))
    }
}

impl SqlCatalog {
    /// Runs one statement outside any transaction (administration, e.g. `CREATE DATABASE`).
    pub async fn execute_raw(&self, sql: &str) -> Result<()> {
        self.pool.execute(sql).await.db()?;
        Ok(())
    }
}
