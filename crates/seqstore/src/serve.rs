//! `seqstore serve`: wire the catalog, blobs and domain together and serve the API.

use crate::config::{BlobBackend, Config, LogFormat};
use crate::credentials::{self, KeyPair, Source};
use crate::data_dir;
use anyhow::{Context, bail};
use hyper_util::service::TowerToHyperService;
use seqstore_api::{AppState, router};
use seqstore_blob::{BlobConfig, BlobStore, LocalRoots, S3SourceConfig, Sources};
use seqstore_catalog::SqlCatalog;
use seqstore_core::catalog::prelude::*;
use seqstore_core::catalog::{AccessKeyRecord, CatalogError};
use seqstore_core::telemetry::Endpoint;
use seqstore_core::{
    JobRunner, JobSettings, LifecycleSettings, Node, NodeId, Service, Settings, Timestamp,
};
use seqstore_s3::Metered;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = SystemTime::now();
    init_logging(config.log_format);
    let mut narrowed = data_dir::prepare(&config.data_dir)?;
    let data_dir = config.data_dir.canonicalize()?;
    warn_about_stray_env();

    // Files found wider than they should be are reported; those SQLite creates now (from the
    // umask) are narrowed silently.
    narrowed.extend(data_dir::secure_catalog(&config.catalog_url())?);
    let catalog = SqlCatalog::connect(&config.catalog_url())
        .await
        .context("opening the catalog")?;
    data_dir::secure_catalog(&config.catalog_url())?;
    for n in narrowed {
        tracing::warn!(
            path = %n.path.display(),
            "narrowed permissions from {:o} to {:o}: it holds secrets",
            n.from,
            n.to
        );
    }
    let (root, source) = match (&config.root_access_key_id, &config.root_secret_access_key) {
        (Some(id), Some(secret)) => (
            KeyPair {
                id: id.clone(),
                secret: secret.clone(),
            },
            Source::Configured,
        ),
        _ => credentials::load_or_create(&data_dir)?,
    };
    ensure_root_key(&catalog, &root, &config.account_id).await?;

    let backend = catalog.backend();
    let closing = catalog.clone();
    let service = service(&config, &data_dir, catalog)?;
    let node = Node {
        id: node_id(&config, &data_dir)?,
        started: Timestamp::from(chrono::DateTime::<chrono::Utc>::from(started)),
        expiry: Duration::from_secs(config.jobs.lease_seconds),
    };
    // Before this node writes anything, so that a node on duty leaves its work alone.
    service
        .node_alive(&node)
        .await
        .context("joining the catalog's nodes")?;
    let jobs = JobSettings {
        node_id: node.id.clone(),
        workers: config.jobs.workers,
        archive_workers: config.lifecycle.workers,
        lease: Duration::from_secs(config.jobs.lease_seconds),
        poll: Duration::from_secs(1),
    };

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let s3_listener = tokio::net::TcpListener::bind(config.s3_listen)
        .await
        .with_context(|| format!("binding the S3 endpoint {}", config.s3_listen))?;
    let s3_options =
        seqstore_s3::ServiceOptions::new(&config.region).with_base_domain(&config.s3_base_domain);
    let s3_endpoint = seqstore_s3::s3_service(
        Arc::new(seqstore_s3::ServiceSource::new(service.clone())),
        &s3_options,
    )
    .context("configuring the S3 endpoint")?;
    let ga4gh_listener = tokio::net::TcpListener::bind(config.ga4gh_listen)
        .await
        .with_context(|| format!("binding the GA4GH endpoint {}", config.ga4gh_listen))?;
    let admin_listener = tokio::net::TcpListener::bind(config.admin_listen)
        .await
        .with_context(|| format!("binding the admin endpoint {}", config.admin_listen))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let s3_address = s3_listener.local_addr()?;
    let ga4gh_address = ga4gh_listener.local_addr()?;
    let admin_address = admin_listener.local_addr()?;
    print_banner(
        &config,
        &endpoint,
        [s3_address, ga4gh_address, admin_address],
        backend,
        &source,
    );
    tracing::info!(endpoint, s3_endpoint = %s3_address, catalog = backend, "serving");

    let stop = CancellationToken::new();
    if config.blob.backend == BlobBackend::S3
        && config.lifecycle.archive_bucket.is_none()
        && !config.lifecycle.archive_after.0.is_zero()
    {
        tracing::warn!("no lifecycle.archive_bucket: read sets are not archived");
    }
    let chores = Chores {
        expire_uploads_after: Duration::from_secs(config.uploads.expire_after_seconds),
        archive_scan: config.lifecycle.scan_interval.0,
    };
    tokio::spawn(heartbeat(service.clone(), node.clone(), stop.clone()));
    let duty = tokio::spawn(cluster_duty(
        service.clone(),
        node.clone(),
        chores,
        stop.clone(),
    ));
    let s3_stop = stop.clone();
    let limits = seqstore_s3::ConnectionLimits {
        header_timeout: Duration::from_secs(config.http.header_timeout_seconds),
        max_connections: config.http.max_connections,
    };
    let metrics = Arc::clone(service.metrics());
    let s3_server = tokio::spawn(seqstore_s3::serve(
        s3_listener,
        Metered::new(s3_endpoint, Arc::clone(&metrics), Endpoint::S3),
        limits,
        async move { s3_stop.cancelled().await },
    ));
    let ga4gh_app = seqstore_ga4gh::router(
        Arc::new(service.clone()),
        seqstore_ga4gh::Ga4ghOptions {
            public_url: config.ga4gh.public_url.clone(),
            ticket_lifetime: Duration::from_secs(config.ga4gh.ticket_seconds),
            listen: ga4gh_address,
        },
    );
    let ga4gh_stop = stop.clone();
    let ga4gh_server = tokio::spawn(seqstore_s3::serve(
        ga4gh_listener,
        Metered::new(
            TowerToHyperService::new(ga4gh_app),
            Arc::clone(&metrics),
            Endpoint::Ga4gh,
        ),
        limits,
        async move { ga4gh_stop.cancelled().await },
    ));
    let admin_stop = stop.clone();
    let admin_server = tokio::spawn(seqstore_s3::serve(
        admin_listener,
        TowerToHyperService::new(crate::admin::router(Arc::new(service.clone()))),
        limits,
        async move { admin_stop.cancelled().await },
    ));
    let runner = tokio::spawn(JobRunner::new(service.clone(), jobs).run(stop.clone()));
    let service_stopping = service.clone();
    let app = router(AppState {
        service: Arc::new(service),
        body_stall: Duration::from_secs(config.http.body_stall_seconds),
    });
    let stopping = stop.clone();
    let app = Metered::new(TowerToHyperService::new(app), metrics, Endpoint::Omics);
    seqstore_s3::serve(listener, app, limits, async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await
    .context("serving")?;
    stop.cancel();
    runner.await.context("job engine")?.context("job engine")?;
    duty.await.context("cluster duty")?;
    if let Err(e) = service_stopping.node_stopped(&node).await {
        tracing::warn!(error = %seqstore_core::error_chain(&e), "cannot leave the catalog's nodes");
    }
    drop(service_stopping);
    closing.close().await;
    s3_server
        .await
        .context("S3 endpoint")?
        .context("S3 endpoint")?;
    ga4gh_server
        .await
        .context("GA4GH endpoint")?
        .context("GA4GH endpoint")?;
    admin_server
        .await
        .context("admin endpoint")?
        .context("admin endpoint")?;
    tracing::info!("stopped");
    Ok(())
}

/// How often the cluster's chores are done.
#[derive(Debug, Clone, Copy)]
struct Chores {
    /// Uploads left in progress this long are aborted.
    expire_uploads_after: Duration,
    /// Idle read sets are looked for this often.
    archive_scan: Duration,
}

/// Says that this node is alive every third of its expiry (at least every second), until
/// it stops; drops this node's early ingestions of uploads that ended elsewhere.
async fn heartbeat(service: Service, node: Node, stop: CancellationToken) {
    let every = (node.expiry / 3).max(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => return,
        }
        if let Err(e) = service.node_alive(&node).await {
            tracing::warn!(error = %seqstore_core::error_chain(&e), "cannot say this node is alive");
        }
        service.drop_stale_early_ingests().await;
    }
}

/// While this node is on duty (the live node with the smallest id), does the cluster's
/// chores: removing what interrupted work left behind (`seqstore_core::fsck`; at once, then
/// hourly), aborting uploads left in progress (every `expire_uploads_after / 2`, at least
/// hourly, at most every second), submitting archive jobs for idle read sets, and recording
/// missing S3 ETags (once). Which node is on duty is asked every second.
async fn cluster_duty(service: Service, node: Node, chores: Chores, stop: CancellationToken) {
    let expiry_every =
        (chores.expire_uploads_after / 2).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let (mut next_cleanup, mut next_expiry, mut next_scan) =
        (Instant::now(), Instant::now(), Instant::now());
    let (mut on_duty, mut backfilled) = (false, false);
    loop {
        let now = Instant::now();
        match service.on_duty(&node).await {
            Ok(Some(settled)) => {
                if !on_duty {
                    tracing::info!(node = %node.id, "this node does the cluster's chores");
                    on_duty = true;
                }
                if now >= next_cleanup {
                    match service.clean_up(settled).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(removed = n, "removed what interrupted work left behind")
                        }
                        Err(e) => {
                            tracing::warn!(error = %seqstore_core::error_chain(&e), "cleanup failed")
                        }
                    }
                    next_cleanup = now + Duration::from_secs(3600);
                }
                if now >= next_expiry {
                    match service.expire_uploads(chores.expire_uploads_after).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(aborted = n, after = ?chores.expire_uploads_after, "expired uploads left in progress")
                        }
                        Err(e) => {
                            tracing::warn!(error = %seqstore_core::error_chain(&e), "upload expiry failed")
                        }
                    }
                    next_expiry = now + expiry_every;
                }
                if now >= next_scan {
                    match service.archive_idle().await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(read_sets = n, "archiving read sets nobody read lately")
                        }
                        Err(e) => {
                            tracing::warn!(error = %seqstore_core::error_chain(&e), "archive scan failed")
                        }
                    }
                    next_scan = now + chores.archive_scan;
                }
                if !backfilled {
                    let n = service.backfill_s3_etags().await;
                    if n > 0 {
                        tracing::info!(files = n, "recorded S3 ETags of files stored without them");
                    }
                    let n = service.backfill_reference_sequences().await;
                    if n > 0 {
                        tracing::info!(
                            references = n,
                            "recorded the refget checksums of references imported without them"
                        );
                    }
                    backfilled = true;
                }
            }
            Ok(None) => {
                if on_duty {
                    tracing::info!(node = %node.id, "another node does the cluster's chores now");
                    on_duty = false;
                }
            }
            Err(e) => {
                tracing::warn!(error = %seqstore_core::error_chain(&e), "cannot tell which node is on duty")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// The domain service over `catalog` and the configured blob store and import sources.
pub(crate) fn service(
    config: &Config,
    data_dir: &std::path::Path,
    catalog: SqlCatalog,
) -> anyhow::Result<Service> {
    let blobs = BlobStore::open(&blob_config(config, data_dir)).context("opening blob storage")?;
    let settings = Settings {
        partition: config.partition.clone(),
        region: config.region.clone(),
        s3_access_point_account: config.s3_access_point_account.clone(),
        max_part_uploads_per_account: config.http.max_part_uploads_per_account,
        bucket_grants: config.bucket_grants(),
        min_free_bytes: config.blob.min_free_bytes,
        early_ingests: config.uploads.early_ingests,
    };
    let service = Service::new(
        Arc::new(catalog),
        blobs,
        Sources::new(source_config(config)).with_local_roots(
            LocalRoots::new(&config.sources.local.roots).context("sources.local.roots")?,
        ),
        settings,
    );
    let Some(archive) = archive_config(config, data_dir) else {
        return Ok(service);
    };
    let archive = BlobStore::open(&archive).context("opening the archive tier")?;
    let after = config.lifecycle.archive_after.0;
    let lifecycle = LifecycleSettings {
        archive_after: (!after.is_zero()).then_some(after),
        level: config.lifecycle.level,
    };
    Ok(service.with_archive(archive, lifecycle))
}

/// The archive tier: a directory beside the local blob store, or the archive bucket of an
/// S3 one (none when it names no bucket).
fn archive_config(config: &Config, data_dir: &std::path::Path) -> Option<BlobConfig> {
    let l = &config.lifecycle;
    match blob_config(config, data_dir) {
        BlobConfig::Local { .. } => Some(BlobConfig::Local {
            root: l
                .archive_root
                .clone()
                .unwrap_or_else(|| data_dir.join("archive")),
        }),
        BlobConfig::S3 {
            endpoint,
            region,
            path_style,
            credentials,
            ..
        } => l.archive_bucket.clone().map(|bucket| BlobConfig::S3 {
            bucket,
            endpoint,
            region,
            path_style,
            credentials,
        }),
    }
}

fn source_config(config: &Config) -> S3SourceConfig {
    let s3 = &config.sources.s3;
    S3SourceConfig {
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        access_key_id: s3.access_key_id.clone(),
        secret_access_key: s3.secret_access_key.clone(),
        path_style: s3.path_style,
    }
}

/// The configured node id, or one generated once into `<data-dir>/node-id`.
fn node_id(config: &Config, data_dir: &std::path::Path) -> anyhow::Result<NodeId> {
    if let Some(id) = &config.node_id {
        return Ok(id.as_str().into());
    }
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().into()),
        _ => {
            let id = format!(
                "node-{}",
                seqstore_core::new_access_key().0.to_ascii_lowercase()
            );
            std::fs::write(&path, format!("{id}\n"))
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(id.into())
        }
    }
}

/// Stores the root key in the catalog on first start; refuses a key that changed owner
/// or secret rather than silently acting as another account.
async fn ensure_root_key(
    catalog: &SqlCatalog,
    root: &KeyPair,
    account_id: &str,
) -> anyhow::Result<()> {
    let stored = match catalog.access_key(&root.id).await? {
        Some(stored) => stored,
        None => {
            let key = AccessKeyRecord {
                access_key_id: root.id.clone(),
                secret_access_key: root.secret.clone(),
                account_id: account_id.to_owned().into(),
                user_name: None,
                created_at: seqstore_core::Timestamp::now(),
            };
            match catalog.insert_access_key(&key).await {
                Ok(()) => return Ok(()),
                // Another node sharing the catalog stored it first: compare with its copy.
                Err(CatalogError::AlreadyExists(_)) => catalog
                    .access_key(&root.id)
                    .await?
                    .context("the root key vanished while this node stored it")?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    match stored {
        stored if stored.account_id != account_id => bail!(
            "root access key {} belongs to account {} in this catalog; start with --account-id {} or use another data dir",
            root.id,
            stored.account_id,
            stored.account_id
        ),
        stored if stored.secret_access_key != root.secret => {
            bail!(
                "access key {} is stored with a different secret in this catalog",
                root.id
            )
        }
        _ => Ok(()),
    }
}

fn blob_config(config: &Config, data_dir: &std::path::Path) -> BlobConfig {
    let b = &config.blob;
    match b.backend {
        BlobBackend::Local => BlobConfig::Local {
            root: b.root.clone().unwrap_or_else(|| data_dir.join("blobs")),
        },
        BlobBackend::S3 => BlobConfig::S3 {
            bucket: b.bucket.clone().unwrap_or_default(),
            endpoint: b.endpoint.clone(),
            region: b.region.clone().unwrap_or_else(|| config.region.clone()),
            path_style: b.path_style,
            credentials: b.access_key_id.clone().zip(b.secret_access_key.clone()),
        },
    }
}

fn print_banner(
    config: &Config,
    endpoint: &str,
    [s3_address, ga4gh_address, admin_address]: [std::net::SocketAddr; 3],
    backend: &str,
    source: &Source,
) {
    println!(
        "seqstore {} — AWS HealthOmics storage API",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "  omics endpoint  {endpoint}  (region {}, account {})",
        config.region, config.account_id
    );
    println!("  s3 endpoint     http://{s3_address}  (read-only; path-style ALIAS/KEY)");
    println!(
        "  ga4gh endpoint  http://{ga4gh_address}  (htsget /reads/STORE/ID, refget /sequence/ID)"
    );
    println!("  admin endpoint  http://{admin_address}  (/metrics, /healthz, /readyz)");
    println!("  catalog         {backend}");
    println!();
    println!("Point boto3 and the AWS CLI at it:");
    println!("  export AWS_ENDPOINT_URL_OMICS={endpoint}");
    println!("  export AWS_DISABLE_HOST_PREFIX_INJECTION=true");
    println!("  export AWS_DEFAULT_REGION={}", config.region);
    println!("  export AWS_ENDPOINT_URL_S3=http://{s3_address}");
    match source {
        Source::File(path) => {
            println!("  export AWS_SHARED_CREDENTIALS_FILE={}", path.display());
            println!("  export AWS_PROFILE={}", credentials::PROFILE);
        }
        Source::Configured => {
            println!("  export AWS_ACCESS_KEY_ID=\"$SEQSTORE_ROOT_ACCESS_KEY_ID\"");
            println!("  export AWS_SECRET_ACCESS_KEY=\"$SEQSTORE_ROOT_SECRET_ACCESS_KEY\"");
        }
    }
    println!();
    println!("Read stored files in place (samtools/htslib; s3Access.s3Uri names the objects):");
    println!("  export HTS_S3_HOST={s3_address}");
    println!("  export HTS_S3_ADDRESS_STYLE=path");
    println!("  samtools view s3+http://ALIAS/KEY");
    println!();
    println!("Read by region (htsget) with a token from `seqstore tokens create`, and let htslib");
    println!("fetch CRAM references (refget) where a reference store's policy grants \"*\":");
    println!("  htsget -b TOKEN -r chr1 -s 0 -e 100000 http://{ga4gh_address}/reads/STORE/ID");
    println!("  REF_PATH=http://{ga4gh_address}/sequence/%s samtools view READS.cram");
}

fn warn_about_stray_env() {
    for (name, _) in std::env::vars() {
        let Some(key) = name.strip_prefix("SEQSTORE_") else {
            continue;
        };
        let top = key.split("__").next().unwrap_or_default();
        if !crate::config::ENV_KEYS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(top))
        {
            tracing::debug!(
                variable = name,
                "ignoring environment variable that names no configuration key"
            );
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,s3s=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
    tracing::info!("shutting down");
}
