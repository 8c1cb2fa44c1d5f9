//! What Trent counts and times, in Prometheus's exposition format (`GET /metrics` on the metrics
//! listener): requests by API, operation and outcome (the AWS error code, or `ok`) with their
//! latency, key-cache hits and misses, store call latency by kind, audit flushes (events, time)
//! and the audit queue, scheduler runs, and whether the server is sealed. No label carries a key
//! id, a principal or any request data: only names from closed sets (operations, error codes).

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Label sets of static strings: recording a request allocates nothing.
type Labels<const N: usize> = [(&'static str, &'static str); N];
type LatencyFamily = Family<Labels<2>, Histogram, fn() -> Histogram>;

/// 100 µs … ~26 s, ×2 per bucket.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

/// The service's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels<3>, Counter>,
    latency: LatencyFamily,
    key_cache: Family<Labels<1>, Counter>,
    store: Family<Labels<1>, Histogram, fn() -> Histogram>,
    audit_events: Counter,
    audit_flush: Histogram,
    audit_pending: Gauge,
    cached_keys: Gauge,
    scheduler_runs: Counter,
    sealed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("trent");
        let requests = Family::<Labels<3>, Counter>::default();
        registry.register(
            "requests",
            "Authenticated and unauthenticated requests, by API (kms, iam, sts), operation and outcome (ok or the AWS error code)",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "request_duration_seconds",
            "Time from the request's arrival to its answer, by API and operation",
            latency.clone(),
        );
        let key_cache = Family::<Labels<1>, Counter>::default();
        registry.register(
            "key_cache_lookups",
            "Key lookups by result (hit: served from memory; miss: read from the store)",
            key_cache.clone(),
        );
        let store: Family<Labels<1>, Histogram, fn() -> Histogram> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "store_call_duration_seconds",
            "Store calls (each on the blocking pool), by kind: read or write",
            store.clone(),
        );
        let audit_events = Counter::default();
        registry.register(
            "audit_events_flushed",
            "Audit events written by the flusher",
            audit_events.clone(),
        );
        let audit_flush = latency_histogram();
        registry.register(
            "audit_flush_duration_seconds",
            "Time of each audit flush that wrote events",
            audit_flush.clone(),
        );
        let audit_pending = Gauge::default();
        registry.register(
            "audit_pending_events",
            "Audit events waiting for the next flush",
            audit_pending.clone(),
        );
        let cached_keys = Gauge::default();
        registry.register("cached_keys", "Keys held in memory", cached_keys.clone());
        let scheduler_runs = Counter::default();
        registry.register(
            "scheduler_runs",
            "Scheduler rounds that ran the background jobs (on the leader)",
            scheduler_runs.clone(),
        );
        let sealed = Gauge::default();
        registry.register(
            "sealed",
            "1 while the server is sealed (its root key not available), else 0",
            sealed.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            key_cache,
            store,
            audit_events,
            audit_flush,
            audit_pending,
            cached_keys,
            scheduler_runs,
            sealed,
        }
    }

    /// One answered request: `outcome` is `ok` or the AWS error code.
    pub fn request(&self, api: &'static str, operation: &'static str, outcome: &'static str, elapsed: Duration) {
        self.requests
            .get_or_create(&[("api", api), ("operation", operation), ("outcome", outcome)])
            .inc();
        self.latency
            .get_or_create(&[("api", api), ("operation", operation)])
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn key_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.key_cache.get_or_create(&[("result", result)]).inc();
    }

    pub(crate) fn store_call(&self, kind: &'static str, elapsed: Duration) {
        self.store
            .get_or_create(&[("kind", kind)])
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn audit_flushed(&self, events: usize, elapsed: Duration) {
        if events > 0 {
            self.audit_events.inc_by(u64::try_from(events).unwrap_or(u64::MAX));
            self.audit_flush.observe(elapsed.as_secs_f64());
        }
    }

    pub(crate) fn scheduler_ran(&self) {
        self.scheduler_runs.inc();
    }

    /// The exposition text, with the gauges set to the values given now.
    pub(crate) fn render(&self, audit_pending: usize, cached_keys: usize, sealed: bool) -> String {
        let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.audit_pending.set(to_i64(audit_pending));
        self.cached_keys.set(to_i64(cached_keys));
        self.sealed.set(i64::from(sealed));
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
