//! What the server counts for Prometheus (`/metrics` on the admin listener): requests of
//! every endpoint by operation and status with their latency, bytes in and out, what
//! ingestion reads, and, read from the catalog at scrape time, jobs by kind and status and
//! read sets and bytes per store.
//!
//! The HTTP edges name each request's operation ([`Operation`] in the response's extensions);
//! the shared server counts the request when the answer's head is ready and the bytes as the
//! body goes out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::Service;
use crate::error::Result;

/// Catalog-derived gauges are read again at most this often, however often Prometheus scrapes.
const CATALOG_REFRESH: Duration = Duration::from_secs(10);

/// Which listener a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The omics (rest-json) API.
    Omics,
    /// The read-only S3 endpoint.
    S3,
    /// htsget and refget.
    Ga4gh,
}

impl Endpoint {
    fn as_str(self) -> &'static str {
        match self {
            Endpoint::Omics => "omics",
            Endpoint::S3 => "s3",
            Endpoint::Ga4gh => "ga4gh",
        }
    }
}

/// The operation an answer belongs to, put in its extensions by the edge that routed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation(pub &'static str);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    operation: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    endpoint: &'static str,
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    file_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    file_type: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    account: String,
    store: String,
    tier: &'static str,
}

/// The server's metrics. One per process, shared by every endpoint.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    bytes_in: Family<EndpointLabels, Counter>,
    bytes_out: Family<EndpointLabels, Counter>,
    ingested_bytes: Family<IngestLabels, Counter>,
    ingestions: Family<OutcomeLabels, Counter>,
    ingesting: Gauge,
    jobs: Family<JobLabels, Gauge>,
    read_sets: Family<StatusLabels, Gauge>,
    store_bytes: Family<StoreLabels, Gauge>,
    refreshed: Mutex<Option<Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 65 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 17))
        });
        let mut metrics = Self {
            registry: Registry::default(),
            requests: Family::default(),
            latency,
            bytes_in: Family::default(),
            bytes_out: Family::default(),
            ingested_bytes: Family::default(),
            ingestions: Family::default(),
            ingesting: Gauge::default(),
            jobs: Family::default(),
            read_sets: Family::default(),
            store_bytes: Family::default(),
            refreshed: Mutex::new(None),
        };
        let r = &mut metrics.registry;
        let prefix = "seqstore";
        let r = r.sub_registry_with_prefix(prefix);
        r.register(
            "requests",
            "Requests answered, by endpoint, operation and HTTP status",
            metrics.requests.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer's head, by endpoint and operation",
            metrics.latency.clone(),
        );
        r.register(
            "request_bytes",
            "Request body bytes received (as declared by Content-Length), by endpoint",
            metrics.bytes_in.clone(),
        );
        r.register(
            "response_bytes",
            "Response body bytes sent, by endpoint",
            metrics.bytes_out.clone(),
        );
        r.register(
            "ingested_bytes",
            "Source bytes read by read set ingestion on this node, by file type",
            metrics.ingested_bytes.clone(),
        );
        r.register(
            "ingested_sources",
            "Read set sources whose ingestion ended on this node, by file type and outcome \
             (stored; refused: the file is invalid; interrupted: anything else)",
            metrics.ingestions.clone(),
        );
        r.register(
            "ingestions_running",
            "Read set sources being ingested on this node now (the ingestion queue's head)",
            metrics.ingesting.clone(),
        );
        r.register(
            "jobs",
            "Jobs in the catalog, by kind and status (all nodes)",
            metrics.jobs.clone(),
        );
        r.register(
            "read_sets",
            "Read sets in the catalog, by status (all nodes)",
            metrics.read_sets.clone(),
        );
        r.register(
            "store_bytes",
            "Bytes of each sequence store's read set files, by tier (active, archive)",
            metrics.store_bytes.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(
        &self,
        endpoint: Endpoint,
        operation: &'static str,
        status: u16,
        took: Duration,
    ) {
        let endpoint = endpoint.as_str();
        self.requests
            .get_or_create(&RequestLabels {
                endpoint,
                operation,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                endpoint,
                operation,
            })
            .observe(took.as_secs_f64());
    }

    /// Counts request body bytes.
    pub fn bytes_in(&self, endpoint: Endpoint, n: u64) {
        let labels = EndpointLabels {
            endpoint: endpoint.as_str(),
        };
        self.bytes_in.get_or_create(&labels).inc_by(n);
    }

    /// Counts response body bytes.
    pub fn bytes_out(&self, endpoint: Endpoint, n: u64) {
        let labels = EndpointLabels {
            endpoint: endpoint.as_str(),
        };
        self.bytes_out.get_or_create(&labels).inc_by(n);
    }

    pub(crate) fn ingested(&self, file_type: &'static str, n: u64) {
        let labels = IngestLabels { file_type };
        self.ingested_bytes.get_or_create(&labels).inc_by(n);
    }

    /// A source's ingestion started; the guard counts its end (interrupted unless told).
    pub(crate) fn ingestion(&self, file_type: &'static str) -> IngestionGuard<'_> {
        self.ingesting.inc();
        IngestionGuard {
            metrics: self,
            file_type,
            outcome: "interrupted",
        }
    }

    /// The text exposition format.
    fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts an ingestion's end when dropped.
#[derive(Debug)]
pub(crate) struct IngestionGuard<'a> {
    metrics: &'a Metrics,
    file_type: &'static str,
    outcome: &'static str,
}

impl IngestionGuard<'_> {
    /// How the source's ingestion ended.
    pub(crate) fn finished<T>(
        &mut self,
        result: &std::result::Result<T, crate::jobs::kind::ItemError>,
    ) {
        self.outcome = match result {
            Ok(_) => "stored",
            Err(crate::jobs::kind::ItemError::Failed(_)) => "refused",
            Err(_) => "interrupted",
        };
    }
}

impl Drop for IngestionGuard<'_> {
    fn drop(&mut self) {
        self.metrics.ingesting.dec();
        let labels = OutcomeLabels {
            file_type: self.file_type,
            outcome: self.outcome,
        };
        self.metrics.ingestions.get_or_create(&labels).inc();
    }
}

impl Service {
    /// The server's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Every metric as Prometheus text, the catalog's gauges read at most every 10 seconds.
    pub async fn metrics_text(&self) -> Result<String> {
        let due = {
            let refreshed = self
                .metrics
                .refreshed
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            refreshed.is_none_or(|at| at.elapsed() >= CATALOG_REFRESH)
        };
        if due {
            let jobs = self.catalog.job_counts().await?;
            let usage = self.catalog.usage().await?;
            let m = &self.metrics;
            m.jobs.clear();
            for (kind, status, n) in jobs {
                let labels = JobLabels {
                    kind: kind.as_str(),
                    status: status.as_str(),
                };
                m.jobs.get_or_create(&labels).set(n);
            }
            m.read_sets.clear();
            m.store_bytes.clear();
            for row in usage {
                let status = StatusLabels {
                    status: row.status.as_str(),
                };
                m.read_sets.get_or_create(&status).inc_by(row.read_sets);
                for (tier, bytes) in [("active", row.bytes), ("archive", row.archive_bytes)] {
                    let labels = StoreLabels {
                        account: row.account_id.to_string(),
                        store: row.store_id.to_string(),
                        tier,
                    };
                    m.store_bytes.get_or_create(&labels).inc_by(bytes);
                }
            }
            *m.refreshed.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
        Ok(self.metrics.encode())
    }

    /// Whether the catalog and the blob store answer: `Err` names the one that does not.
    pub async fn ready(&self) -> std::result::Result<(), String> {
        self.catalog
            .s3_revision()
            .await
            .map_err(|e| format!("the catalog does not answer: {}", crate::error_chain(&e)))?;
        self.blobs
            .reachable()
            .await
            .map_err(|e| format!("the blob store does not answer: {}", crate::error_chain(&e)))
    }
}
