//! Prometheus metrics at `/metrics`, through the `metrics` facade and its Prometheus exporter.
//!
//! Counters and histograms are recorded where things happen (sync runs, CareSoft requests, HTTP requests).
//! Gauges that describe the shared database (agents by channel and status, unmatched counts, pool use) are
//! read at scrape time, so every replica reports the same, current figures whoever ran the last sync.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;

use crate::domain::SyncSource;
use crate::store::{self, AgentFilter, EmployeeFilter};

/// Buckets for durations, from a fast HTTP request to a slow sync.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often the recorder's pending histogram samples are folded into their buckets.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The name of the thread that runs the upkeep.
pub const UPKEEP_THREAD: &str = "metrics-upkeep";

/// The process-wide recorder; installed once, on first use (tests build several apps in one process).
///
/// The exporter keeps every histogram sample (one per HTTP request) until something folds them into the
/// buckets: a scrape of `/metrics`, or its upkeep. `install` would run the upkeep, but it also starts a
/// listener of its own; a recorder built by hand must run it itself, or a server nobody scrapes grows by
/// every request it answers (18 MiB over 840,000 requests in the benchmark, BENCHMARKS.md). So a thread
/// of its own runs it every [`UPKEEP_EVERY`], whatever runtime the process has.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name(UPKEEP_THREAD.into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(err) = started {
                tracing::warn!(%err, "no metrics upkeep: histogram samples are folded only when /metrics is scraped");
            }
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_histogram!(
        "caresoft_bridge_sync_duration_seconds",
        metrics::Unit::Seconds,
        "Duration of runs, by source (caresoft, hr) and outcome."
    );
    metrics::describe_counter!(
        "caresoft_bridge_syncs_total",
        "Runs, by source (caresoft, hr), outcome and trigger."
    );
    metrics::describe_gauge!(
        "caresoft_bridge_last_success_timestamp_seconds",
        metrics::Unit::Seconds,
        "When the latest successful run of each source (caresoft, hr) finished, in Unix seconds."
    );
    metrics::describe_counter!(
        "caresoft_bridge_alert_deliveries_total",
        "Attempts to post an alert to a webhook, by outcome (delivered, retried, failed)."
    );
    metrics::describe_histogram!(
        "caresoft_bridge_alert_delivery_delay_seconds",
        metrics::Unit::Seconds,
        "From an alert's event (a run's end) to its delivery."
    );
    metrics::describe_counter!(
        "caresoft_bridge_caresoft_requests_total",
        "CareSoft API request attempts, by list (agents, groups) and outcome."
    );
    metrics::describe_histogram!(
        "caresoft_bridge_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency, by route, method and status."
    );
    metrics::describe_gauge!(
        "caresoft_bridge_agents",
        "Current agents, by channel and status."
    );
    metrics::describe_gauge!(
        "caresoft_bridge_unmatched_agents",
        "Current agents whose match status is UNMATCHED."
    );
    metrics::describe_gauge!(
        "caresoft_bridge_unmatched_employees",
        "ACTIVE employees with no MATCHED current agent."
    );
    metrics::describe_gauge!(
        "caresoft_bridge_db_pool_connections",
        "Database pool connections, by state (idle, in_use)."
    );
}

/// Records a finished run of `source`.
pub fn record_sync(
    source: &'static str,
    domain: &str,
    outcome: &'static str,
    trigger: &'static str,
    duration: Duration,
) {
    metrics::counter!(
        "caresoft_bridge_syncs_total",
        "source" => source,
        "domain" => domain.to_string(),
        "outcome" => outcome,
        "trigger" => trigger
    )
    .increment(1);
    metrics::histogram!("caresoft_bridge_sync_duration_seconds", "source" => source, "outcome" => outcome)
        .record(duration.as_secs_f64());
}

/// Axum middleware: one latency observation per request, labelled by the matched route (not the raw path,
/// which would let clients create unbounded label values).
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let response = next.run(request).await;
    metrics::histogram!(
        "caresoft_bridge_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// Reads the database gauges from the store's rules; a failure is logged and leaves the previous values.
async fn refresh_gauges(db: &DatabaseConnection) {
    match store::agents::status_totals(db, None, None).await {
        Ok(totals) => {
            // Every combination is set, zeros included, so a status that empties does not keep its old value.
            for ((channel, _), counts) in store::agents::CHANNEL_COLUMNS.iter().zip(totals) {
                for (status, count) in store::agents::STATUSES.iter().zip(counts) {
                    metrics::gauge!("caresoft_bridge_agents", "channel" => channel.as_str(), "status" => status.as_str())
                        .set(count as f64);
                }
            }
        }
        Err(err) => tracing::warn!(error = %err, "metrics: cannot count agents"),
    }
    let unmatched_agents = store::pages::count_agents(db, &AgentFilter::unmatched()).await;
    let unmatched_employees =
        store::pages::count_employees(db, &EmployeeFilter::without_seat()).await;
    for (name, count) in [
        ("caresoft_bridge_unmatched_agents", unmatched_agents),
        ("caresoft_bridge_unmatched_employees", unmatched_employees),
    ] {
        match count {
            Ok(count) => metrics::gauge!(name).set(count as f64),
            Err(err) => tracing::warn!(error = %err, metric = name, "metrics: cannot count"),
        }
    }
    for source in SyncSource::ALL {
        match store::runs::last_success_per_domain(db, *source).await {
            Ok(lasts) => {
                for (domain, finished_at) in lasts {
                    metrics::gauge!(
                        "caresoft_bridge_last_success_timestamp_seconds",
                        "source" => source.as_str(),
                        "domain" => domain
                    )
                    .set(finished_at.timestamp_millis() as f64 / 1000.0)
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "metrics: cannot read the last successful run")
            }
        }
    }
    let (size, idle) = store::connection::pool_use(db);
    metrics::gauge!("caresoft_bridge_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("caresoft_bridge_db_pool_connections", "state" => "in_use")
        .set((size as usize).saturating_sub(idle) as f64);
}

/// `GET /metrics`: Prometheus text format.
pub async fn render(State(db): State<DatabaseConnection>) -> Response {
    let Some(handle) = handle() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response();
    };
    refresh_gauges(&db).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
