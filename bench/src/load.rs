//! Load: a real `caresoft-bridge serve` process over loopback, a fixed number of keep-alive connections each
//! sending requests back to back until a shared deadline, every answer checked; and the same driver for the
//! raw-SQL floor, so both sides are measured the same way.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::process::{Child, Command};

use crate::engine::{CpuSnapshot, Rss, TICKS_PER_SECOND, rss};
use crate::floor::{Floor, QueryKind};

/// What one timed window measured.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Latency of each successful request, in microseconds.
    pub latencies_us: Vec<u32>,
    /// From the end of the warm-up to the last answer.
    pub seconds: f64,
    /// CPU seconds used during the measured time: by the server, by this process (load generator or floor
    /// client), by everything else (PostgreSQL, chiefly), and the machine's idle time.
    pub cpu: CpuSplit,
}

/// Where the machine's CPU time went during a window, in seconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CpuSplit {
    pub server: f64,
    pub bench: f64,
    pub other: f64,
    pub idle: f64,
}

impl CpuSplit {
    fn between(a: CpuSnapshot, b: CpuSnapshot) -> CpuSplit {
        let secs = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
        let server = secs(b.server.saturating_sub(a.server));
        let bench = secs(b.bench.saturating_sub(a.bench));
        let busy = secs(b.machine_busy.saturating_sub(a.machine_busy));
        let total = secs(b.machine_total.saturating_sub(a.machine_total));
        CpuSplit {
            server,
            bench,
            other: (busy - server - bench).max(0.0),
            idle: (total - busy).max(0.0),
        }
    }
}

impl Window {
    /// Successful requests per second over the measured time.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// One worker's side of a window: sends request number `i` and says whether its answer was right.
pub trait Worker: Send + 'static {
    fn step(&mut self, i: usize) -> impl Future<Output = Result<(), String>> + Send;
}

/// Runs `workers` concurrently, back to back, for `warmup` (not recorded) then `duration`; `server` is the
/// process whose CPU time is reported apart.
pub async fn drive<W: Worker>(
    workers: Vec<W>,
    warmup: Duration,
    duration: Duration,
    server: Option<u32>,
) -> Window {
    let start = Instant::now();
    let measure_from = start + warmup;
    let deadline = measure_from + duration;
    let cpu_start = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        CpuSnapshot::take(server)
    });
    let tasks: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(n, mut worker)| {
            tokio::spawn(async move {
                let mut window = Window::default();
                // Workers start at different offsets so they do not ask for the same variant in lockstep.
                let mut i = n;
                let mut last = measure_from;
                loop {
                    let sent = Instant::now();
                    if sent >= deadline {
                        break;
                    }
                    let result = worker.step(i).await;
                    let done = Instant::now();
                    i += 1;
                    if sent < measure_from {
                        continue;
                    }
                    last = done;
                    match result {
                        Ok(()) => {
                            window.ok += 1;
                            let us = done.duration_since(sent).as_micros();
                            window
                                .latencies_us
                                .push(u32::try_from(us).unwrap_or(u32::MAX));
                        }
                        Err(err) => {
                            window.errors += 1;
                            window.first_error.get_or_insert(err);
                        }
                    }
                }
                (window, last)
            })
        })
        .collect();
    let mut total = Window::default();
    let mut end = measure_from;
    for task in tasks {
        match task.await {
            Ok((window, last)) => {
                total.ok += window.ok;
                total.errors += window.errors;
                if total.first_error.is_none() {
                    total.first_error = window.first_error;
                }
                total.latencies_us.extend(window.latencies_us);
                end = end.max(last);
            }
            Err(err) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert(format!("worker task failed: {err}"));
            }
        }
    }
    total.seconds = end.duration_since(measure_from).as_secs_f64();
    let cpu_end = CpuSnapshot::take(server);
    if let Ok(cpu_start) = cpu_start.await {
        total.cpu = CpuSplit::between(cpu_start, cpu_end);
    }
    total
}

/// Only what the error check needs; serde still validates the whole body as JSON.
#[derive(Deserialize)]
struct Envelope {
    data: Option<IgnoredAny>,
    errors: Option<IgnoredAny>,
}

/// One keep-alive connection sending GraphQL requests.
pub struct GraphqlWorker {
    client: reqwest::Client,
    url: String,
    /// Serialised request bodies, one per variant.
    bodies: Arc<Vec<Bytes>>,
}

impl GraphqlWorker {
    /// Workers for `kind`, each with its own connection (a client whose pool holds one connection).
    pub fn many(
        concurrency: usize,
        url: &str,
        kind: QueryKind,
        groups: &[String],
    ) -> anyhow::Result<Vec<GraphqlWorker>> {
        let variables = (0..groups.len().max(1))
            .map(|i| kind.variables(groups, i))
            .collect();
        GraphqlWorker::for_document(concurrency, url, kind.document(), variables)
    }

    /// Workers sending `document` with each of `variables` in turn (request `i` the `i`-th, cycling),
    /// each on its own connection.
    pub fn for_document(
        concurrency: usize,
        url: &str,
        document: &str,
        variables: Vec<serde_json::Value>,
    ) -> anyhow::Result<Vec<GraphqlWorker>> {
        if variables.is_empty() {
            bail!("no variables to send {document}");
        }
        let bodies: Vec<Bytes> = variables
            .iter()
            .map(|variables| {
                serde_json::to_vec(&serde_json::json!({
                    "query": document,
                    "variables": variables,
                }))
                .map(Bytes::from)
            })
            .collect::<Result<_, _>>()?;
        let bodies = Arc::new(bodies);
        (0..concurrency)
            .map(|_| {
                let client = reqwest::Client::builder()
                    .no_proxy()
                    .pool_max_idle_per_host(1)
                    .tcp_nodelay(true)
                    .timeout(Duration::from_secs(30))
                    .build()
                    .context("cannot build the HTTP client")?;
                Ok(GraphqlWorker {
                    client,
                    url: url.to_string(),
                    bodies: Arc::clone(&bodies),
                })
            })
            .collect()
    }
}

impl Worker for GraphqlWorker {
    async fn step(&mut self, i: usize) -> Result<(), String> {
        let body = self.bodies[i % self.bodies.len()].clone();
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(body)
            .send()
            .await
            .map_err(|err| format!("request failed: {err}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| format!("body failed: {err}"))?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
        }
        let envelope: Envelope = serde_json::from_slice(&bytes)
            .map_err(|err| format!("body is not GraphQL JSON: {err}"))?;
        match (envelope.data, envelope.errors) {
            (Some(_), None) => Ok(()),
            _ => Err(format!(
                "HTTP 200 with errors: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            )),
        }
    }
}

/// One concurrent reader of the floor (they share the pool, as the server's requests do).
pub struct FloorWorker {
    pub floor: Arc<Floor>,
    pub kind: QueryKind,
}

impl Worker for FloorWorker {
    async fn step(&mut self, i: usize) -> Result<(), String> {
        self.floor
            .run(self.kind, i)
            .await
            .map(|_| ())
            .map_err(|err| format!("{err:#}"))
    }
}

/// A running `caresoft-bridge serve`.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub pid: u32,
    pub url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `binary serve` on a free loopback port against `database_url`, scheduled syncs off, and waits
    /// until `/healthz` answers; `extra_env` is added to its environment. `workdir` holds its log and keeps
    /// any `.env` of the checkout out of its way.
    pub async fn start(
        binary: &Path,
        database_url: &str,
        workdir: &Path,
        extra_env: &[(String, String)],
    ) -> anyhow::Result<Server> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")
                .context("cannot find a free loopback port")?;
            probe.local_addr()?.port()
        };
        let log = workdir.join("serve.log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let child = Command::new(binary)
            .arg("serve")
            .current_dir(workdir)
            // Only the settings below: a developer's BRIDGE_* or DATABASE_URL must not leak into the figures.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
            .env("BRIDGE_SYNC_INTERVAL", "0")
            .env("RUST_LOG", "warn")
            .envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            url: format!("http://127.0.0.1:{port}/graphql"),
            log,
        };
        let health = format!("http://127.0.0.1:{port}/healthz");
        let client = reqwest::Client::builder().no_proxy().build()?;
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before answering; its log:\n{}",
                    server.log_tail()
                );
            }
            if let Ok(response) = client.get(&health).send().await
                && response.status().is_success()
            {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the server did not answer /healthz within 60 s; its log:\n{}",
                    server.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's resident memory now and at its peak.
    pub fn rss(&self) -> anyhow::Result<Rss> {
        rss(Some(self.pid))
    }

    /// The end of the server's log, for error reports.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Asks the server to stop (SIGTERM, through `kill`, so it shuts down gracefully) and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        stop_child(self.child, self.pid)
            .await
            .context("cannot stop the server")
    }
}

/// Asks process `pid` (`child`) to stop with SIGTERM, through `kill`, waits up to 10 s for it, then kills it.
pub async fn stop_child(mut child: Child, pid: u32) -> std::io::Result<()> {
    let asked = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .await
        .is_ok_and(|s| s.success());
    if asked
        && tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
    {
        return Ok(());
    }
    child.kill().await
}

/// Sends `kind` once and returns the parsed answer, for the shape checks made before the load.
pub async fn ask(
    url: &str,
    kind: QueryKind,
    groups: &[String],
) -> anyhow::Result<serde_json::Value> {
    ask_document(
        url,
        kind.document(),
        kind.variables(groups, 0),
        kind.label(),
    )
    .await
}

/// Sends `document` with `variables` once and returns the parsed answer; `label` names it in errors.
pub async fn ask_document(
    url: &str,
    document: &str,
    variables: serde_json::Value,
    label: &str,
) -> anyhow::Result<serde_json::Value> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let answer: serde_json::Value = client
        .post(url)
        .json(&serde_json::json!({"query": document, "variables": variables}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if answer.get("errors").is_some() {
        bail!("{label} answered with errors: {answer}");
    }
    Ok(answer)
}
