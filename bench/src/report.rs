//! The figures: statistics over runs, the plain-text table, the JSON file, and the targets of BENCHMARKS.md marked
//! met or missed.

use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::dataset::{Dataset, Shape};
use crate::engine::{self, Engine, Rss};
use crate::floor::QueryKind;
use crate::load::{CpuSplit, Window};
use crate::peer;
use crate::phases::{Phase, RunResult};

/// Median, min and max of a set of values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (zeros when there are none).
    pub fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Spread::default();
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }

    fn to_json(self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

/// The `q`-quantile (0..=1) of latencies in microseconds, in milliseconds (nearest rank).
fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

/// The windows of one side (GraphQL or floor) of one query, summarised.
#[derive(Debug, Clone, Copy, Default)]
pub struct SideSummary {
    pub rate: Spread,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub ok: u64,
    pub errors: u64,
    /// CPU milliseconds per successful request: server, this process, the rest (PostgreSQL); and the
    /// machine's idle share.
    pub cpu_ms: CpuSplit,
    pub idle_share: f64,
}

fn summarise(windows: &[Window]) -> SideSummary {
    let rates: Vec<f64> = windows.iter().map(Window::rate).collect();
    let mut latencies: Vec<u32> = windows
        .iter()
        .flat_map(|w| w.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let ok: u64 = windows.iter().map(|w| w.ok).sum();
    let sum = |f: fn(&CpuSplit) -> f64| windows.iter().map(|w| f(&w.cpu)).sum::<f64>();
    let per_request = |seconds: f64| {
        if ok > 0 {
            seconds * 1000.0 / ok as f64
        } else {
            0.0
        }
    };
    let total = sum(|c| c.server + c.bench + c.other + c.idle);
    SideSummary {
        rate: Spread::of(&rates),
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        ok,
        errors: windows.iter().map(|w| w.errors).sum(),
        cpu_ms: CpuSplit {
            server: per_request(sum(|c| c.server)),
            bench: per_request(sum(|c| c.bench)),
            other: per_request(sum(|c| c.other)),
            idle: per_request(sum(|c| c.idle)),
        },
        idle_share: if total > 0.0 {
            sum(|c| c.idle) / total
        } else {
            0.0
        },
    }
}

/// One query under load: every window of both sides.
#[derive(Debug, Clone)]
pub struct QueryLoad {
    pub kind: QueryKind,
    /// The SQL of the statements one request issues (the same on both sides).
    pub statements: Vec<String>,
    pub graphql: Vec<Window>,
    pub floor: Vec<Window>,
    /// The server's memory after each GraphQL window.
    pub server_rss: Vec<Rss>,
}

impl QueryLoad {
    /// A query with no window measured yet.
    pub fn new(kind: QueryKind, statements: Vec<String>) -> QueryLoad {
        QueryLoad {
            kind,
            statements,
            graphql: Vec::new(),
            floor: Vec::new(),
            server_rss: Vec::new(),
        }
    }

    fn ratio(&self) -> f64 {
        let floor = summarise(&self.floor).rate.median;
        if floor > 0.0 {
            summarise(&self.graphql).rate.median / floor
        } else {
            0.0
        }
    }

    fn first_error(&self) -> Option<&str> {
        self.graphql
            .iter()
            .chain(&self.floor)
            .find_map(|w| w.first_error.as_deref())
    }
}

/// The load phase of one engine.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub queries: Vec<QueryLoad>,
    pub server_rss_end: Option<Rss>,
    /// PostGraphile beside our server (PostgreSQL only; `None` on SQLite).
    pub peer: Option<PeerResult>,
}

impl LoadResult {
    fn server_peak_kib(&self) -> u64 {
        self.server_rss_end.map_or(0, |r| r.peak_kib)
    }

    /// Our agents windows' rates over the peer's, window by window.
    fn peer_ratios(&self) -> Vec<Option<f64>> {
        let Some(PeerResult::Measured(peer)) = &self.peer else {
            return Vec::new();
        };
        let ours: Vec<f64> = self
            .queries
            .iter()
            .find(|q| q.kind == QueryKind::Agents)
            .map(|q| q.graphql.iter().map(Window::rate).collect())
            .unwrap_or_default();
        let theirs: Vec<f64> = peer.windows.iter().map(Window::rate).collect();
        peer::pairwise_ratios(&ours, &theirs)
    }
}

/// The windows of one side, as the JSON file holds them.
fn side_json(windows: &[Window]) -> Value {
    let s = summarise(windows);
    json!({
        "requests_per_second": s.rate.to_json(),
        "windows_requests_per_second": windows.iter().map(Window::rate).collect::<Vec<_>>(),
        "p50_ms": s.p50_ms,
        "p99_ms": s.p99_ms,
        "ok": s.ok,
        "errors": s.errors,
        "cpu_ms_per_request": s.cpu_ms,
        "idle_share": s.idle_share,
    })
}

/// The peer, as the JSON file holds it: its windows beside ours, or why it was skipped.
fn peer_json(load: &LoadResult, peer: &PeerResult) -> Value {
    match peer {
        PeerResult::Skipped(reason) => json!({
            "skipped": format!("PostGraphile peer skipped: {reason}"),
        }),
        PeerResult::Measured(p) => {
            let ratios = load.peer_ratios();
            json!({
                "server": "PostGraphile",
                "version": p.version,
                "node": p.node,
                "command": p.command,
                "flags": peer::FLAGS,
                "environment": peer::ENV.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
                "pg_pool_size": p.pool_size,
                "query": peer::DOCUMENT,
                "answers_checked_equal_for_groups": p.variants_checked,
                "windows": side_json(&p.windows),
                "rss_kib_after_windows": p.rss,
                "rss_kib_end": p.rss_end,
                "first_error": p.windows.iter().find_map(|w| w.first_error.as_deref()),
                "ours_windows_requests_per_second": load
                    .queries
                    .iter()
                    .find(|q| q.kind == QueryKind::Agents)
                    .map(|q| q.graphql.iter().map(Window::rate).collect::<Vec<_>>()),
                "ours_over_peer_per_run": ratios,
                "ours_over_peer_median": peer::median_ratio(&ratios),
            })
        }
    }
}

/// PostGraphile's side of a load phase, or why there is none.
#[derive(Debug, Clone)]
pub enum PeerResult {
    Measured(PeerLoad),
    Skipped(String),
}

/// PostGraphile's agents windows, each run right after our agents window of the same run.
#[derive(Debug, Clone)]
pub struct PeerLoad {
    pub version: String,
    pub node: String,
    /// How it was started (`peer::command_line`).
    pub command: String,
    pub pool_size: u32,
    /// How many group variants had their answers checked equal to ours before the load.
    pub variants_checked: usize,
    pub windows: Vec<Window>,
    /// PostGraphile's memory after each window, and at the end.
    pub rss: Vec<Rss>,
    pub rss_end: Option<Rss>,
}

fn ratios_text(ratios: &[Option<f64>]) -> String {
    ratios
        .iter()
        .map(|r| r.map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything measured on one engine.
#[derive(Debug, Clone)]
pub struct EngineResult {
    pub engine: Engine,
    pub runs: Vec<RunResult>,
    pub load: Option<LoadResult>,
}

impl EngineResult {
    /// An engine with nothing measured yet.
    pub fn new(engine: Engine) -> EngineResult {
        EngineResult {
            engine,
            runs: Vec::new(),
            load: None,
        }
    }

    fn phase(&self, phase: Phase) -> Option<(Spread, u64)> {
        let samples: Vec<_> = self
            .runs
            .iter()
            .filter_map(|r| r.samples.get(&phase))
            .collect();
        if samples.is_empty() {
            return None;
        }
        let seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
        let peak = samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0);
        Some((Spread::of(&seconds), peak))
    }
}

/// A target of BENCHMARKS.md and whether it was met.
#[derive(Debug, Clone)]
struct Target {
    what: String,
    goal: String,
    figure: String,
    met: bool,
}

/// The whole report.
#[derive(Debug)]
pub struct Report {
    command: String,
    date: String,
    cpus: usize,
    cpu_model: String,
    memory_kib: u64,
    rustc: String,
    postgres: Option<String>,
    sslmode: String,
    peak_reset: bool,
    /// `/proc/loadavg` when the run started: the machine is shared, and a busy start explains slow figures.
    load_before: String,
    data: Value,
    data_line: String,
    agents: usize,
    employees: usize,
    pub engines: Vec<EngineResult>,
}

fn meminfo_total_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc (version unknown)".into())
}

async fn postgres_version(url: &str) -> Option<String> {
    let db = caresoft_bridge::store::connect(url).await.ok()?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SHOW server_version",
        ))
        .await
        .ok()??;
    let version: String = row.try_get_by_index(0).ok()?;
    let _ = db.close().await;
    Some(format!("PostgreSQL {version}"))
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// 12345.6 → "12,346".
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 150 MB as the target is written (10⁶ bytes), in KiB.
const SERVER_RSS_TARGET_KIB: u64 = 60_000_000 / 1024;

impl Report {
    /// Reads the machine (and PostgreSQL's version when it is measured) and starts an empty report.
    pub async fn new(command: String, pg_url: &str, with_postgres: bool) -> Report {
        let postgres = if with_postgres {
            postgres_version(pg_url).await
        } else {
            None
        };
        Report {
            command,
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: cpu_model(),
            memory_kib: meminfo_total_kib(),
            rustc: rustc_version(),
            postgres,
            sslmode: engine::sslmode(pg_url),
            peak_reset: engine::reset_peak_rss(),
            load_before: loadavg(),
            data: Value::Null,
            data_line: String::new(),
            agents: 0,
            employees: 0,
            engines: Vec::new(),
        }
    }

    /// One line describing the machine, the date and the load at the start.
    pub fn machine_line(&self) -> String {
        let pg = match &self.postgres {
            Some(version) => format!(", {version} on 127.0.0.1 (TCP, sslmode={})", self.sslmode),
            None => String::new(),
        };
        format!(
            "machine: {} CPUs ({}), {:.1} GiB RAM, {}{pg}; {}; load average at start {}",
            self.cpus,
            self.cpu_model,
            self.memory_kib as f64 / 1024.0 / 1024.0,
            self.rustc,
            self.date,
            self.load_before
        )
    }

    /// Records what the data set holds.
    pub fn describe_data(&mut self, shape: Shape, data: &Dataset, csv_bytes: usize) {
        let e = data.expected;
        self.agents = shape.agents;
        self.employees = shape.employees;
        self.data_line = format!(
            "data (seed {}): {} agents in {} groups, {} employees ({:.1} MB CSV); links: {} by email, {} by phone, \
             {} ambiguous, {} conflict, {} unmatched; {} employees without a seat; the 1% resync changes {} agents",
            shape.seed,
            thousands(shape.agents as f64),
            data.groups,
            thousands(shape.employees as f64),
            csv_bytes as f64 / 1e6,
            thousands(e.matched_by_email as f64),
            thousands(e.matched_by_phone as f64),
            thousands(e.ambiguous as f64),
            thousands(e.conflict as f64),
            thousands(e.unmatched as f64),
            thousands(e.employees_without_seat as f64),
            thousands(data.changed as f64),
        );
        self.data = json!({
            "seed": shape.seed,
            "agents": shape.agents,
            "employees": shape.employees,
            "groups": data.groups,
            "csv_bytes": csv_bytes,
            "expected_links": e,
            "changed_in_one_percent_resync": data.changed,
            "load_groups": data.load_groups,
        });
    }

    /// One line describing the data set.
    pub fn data_line(&self) -> &str {
        &self.data_line
    }

    fn phase_label(&self, phase: Phase) -> String {
        match phase {
            Phase::Import => format!(
                "import {} employees (CSV)",
                thousands(self.employees as f64)
            ),
            Phase::FirstSync => format!("first sync ({} agents)", thousands(self.agents as f64)),
            Phase::NoChangeResync => "no-change resync".into(),
            Phase::OnePercentResync => "resync, 1% changed".into(),
            Phase::FullReconcile => "full reconcile".into(),
        }
    }

    fn phase_note(result: &EngineResult, phase: Phase) -> String {
        let all = |f: fn(&RunResult) -> i64| {
            let values: Vec<i64> = result.runs.iter().map(f).collect();
            let min = values.iter().min().copied().unwrap_or(0);
            let max = values.iter().max().copied().unwrap_or(0);
            if min == max {
                min.to_string()
            } else {
                format!("{min}–{max}")
            }
        };
        match phase {
            Phase::NoChangeResync => format!("agent rows written: {}", all(|r| r.no_change_writes)),
            Phase::OnePercentResync => {
                format!("agent rows written: {}", all(|r| r.one_percent_writes))
            }
            Phase::FullReconcile => format!("links written: {}", all(|r| r.links_written as i64)),
            Phase::Import => format!("rows: {}", all(|r| r.employees_imported as i64)),
            Phase::FirstSync => "includes fetch, diff, apply and reconcile".into(),
        }
    }

    /// The targets of BENCHMARKS.md, on PostgreSQL.
    fn targets(&self) -> Vec<Target> {
        let Some(pg) = self.engines.iter().find(|e| e.engine == Engine::Postgres) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut phase = |what: &str, phase: Phase, limit: f64| {
            if let Some((spread, _)) = pg.phase(phase) {
                out.push(Target {
                    what: what.into(),
                    goal: format!("≤ {}", seconds(limit)),
                    figure: format!("{} (median)", seconds(spread.median)),
                    met: spread.median <= limit,
                });
            }
        };
        phase("first sync", Phase::FirstSync, 1.0);
        phase("no-change resync", Phase::NoChangeResync, 0.1);
        phase("full reconcile", Phase::FullReconcile, 0.4);
        phase("import of the employees", Phase::Import, 1.5);
        if !pg.runs.is_empty() {
            let writes = pg
                .runs
                .iter()
                .map(|r| r.no_change_writes)
                .max()
                .unwrap_or(0);
            out.push(Target {
                what: "agent rows written by a no-change resync".into(),
                goal: "0".into(),
                figure: format!("{writes} (max over runs)"),
                met: writes == 0,
            });
        }
        if let Some(load) = &pg.load {
            if let Some(agents) = load.queries.iter().find(|q| q.kind == QueryKind::Agents) {
                let g = summarise(&agents.graphql);
                if let Some(ratio) = peer::median_ratio(&load.peer_ratios()) {
                    out.push(Target {
                        what: "agents(first: 50) against PostGraphile".into(),
                        goal: "≥ 2.0×".into(),
                        figure: format!("{ratio:.2}× (median of pairs)"),
                        met: ratio >= 2.0,
                    });
                }
                out.push(Target {
                    what: "agents(first: 50) p99".into(),
                    goal: "≤ 30 ms".into(),
                    figure: format!("{:.1} ms", g.p99_ms),
                    met: g.p99_ms <= 30.0,
                });
                out.push(Target {
                    what: "agents(first: 50) errors".into(),
                    goal: "0".into(),
                    figure: g.errors.to_string(),
                    met: g.errors == 0,
                });
                let ratio = agents.ratio();
                out.push(Target {
                    what: "agents(first: 50) GraphQL / raw SQL".into(),
                    goal: "≥ 0.70".into(),
                    figure: format!("{ratio:.2}"),
                    met: ratio >= 0.7,
                });
            }
            for kind in [QueryKind::UnmatchedEmployees, QueryKind::Groups] {
                if let Some(query) = load.queries.iter().find(|q| q.kind == kind) {
                    let rate = summarise(&query.graphql).rate.median;
                    out.push(Target {
                        what: format!("{} requests/s", kind.key()),
                        goal: "≥ 1,000".into(),
                        figure: format!("{} (median)", thousands(rate)),
                        met: rate >= 1000.0,
                    });
                }
            }
            let peak = load.server_peak_kib();
            out.push(Target {
                what: "server RSS under load (peak)".into(),
                goal: "≤ 60 MB".into(),
                figure: format!("{:.0} MB", peak as f64 * 1024.0 / 1e6),
                met: peak > 0 && peak <= SERVER_RSS_TARGET_KIB,
            });
        }
        out
    }

    /// The plain-text tables, on stdout.
    pub fn print(&self) {
        let runs = self.engines.iter().map(|e| e.runs.len()).max().unwrap_or(0);
        if runs > 0 {
            println!(
                "\nPHASES ({runs} runs per engine, each on a fresh database; median [min – max]; peak RSS = this \
                 process's during the phase{})",
                if self.peak_reset {
                    ""
                } else {
                    " — NOT reset between phases on this kernel: the process's peak so far"
                }
            );
            println!(
                "{:<34} {:<9} {:>9} {:>9} {:>9} {:>9}  notes",
                "phase", "engine", "median", "min", "max", "peak RSS"
            );
            for phase in Phase::ALL {
                for result in &self.engines {
                    if let Some((spread, peak)) = result.phase(phase) {
                        println!(
                            "{:<34} {:<9} {:>9} {:>9} {:>9} {:>9}  {}",
                            self.phase_label(phase),
                            result.engine.name(),
                            seconds(spread.median),
                            seconds(spread.min),
                            seconds(spread.max),
                            mib(peak),
                            Self::phase_note(result, phase)
                        );
                    }
                }
            }
        }

        if self.engines.iter().any(|e| e.load.is_some()) {
            println!(
                "\nGRAPHQL UNDER LOAD vs THE RAW-SQL FLOOR (median req/s [min – max] over windows; p50/p99 over all \
                 requests; floor = the resolvers' statements through sqlx on a pool of the same size)"
            );
            println!(
                "{:<52} {:<9} {:<8} {:>22} {:>9} {:>9} {:>7} {:>7} {:>11}",
                "query", "engine", "side", "req/s", "p50", "p99", "errors", "ratio", "server RSS"
            );
            for result in &self.engines {
                let Some(load) = &result.load else { continue };
                for query in &load.queries {
                    let g = summarise(&query.graphql);
                    let f = summarise(&query.floor);
                    let rss = query
                        .server_rss
                        .iter()
                        .map(|r| r.current_kib)
                        .max()
                        .unwrap_or(0);
                    let rate = |s: &SideSummary| {
                        format!(
                            "{} [{}–{}]",
                            thousands(s.rate.median),
                            thousands(s.rate.min),
                            thousands(s.rate.max)
                        )
                    };
                    println!(
                        "{:<52} {:<9} {:<8} {:>22} {:>6.1} ms {:>6.1} ms {:>7} {:>7.2} {:>11}",
                        query.kind.label(),
                        result.engine.name(),
                        "graphql",
                        rate(&g),
                        g.p50_ms,
                        g.p99_ms,
                        g.errors,
                        query.ratio(),
                        mib(rss)
                    );
                    println!(
                        "{:<52} {:<9} {:<8} {:>22} {:>6.1} ms {:>6.1} ms {:>7}",
                        format!("  ({} statements per request)", query.statements.len()),
                        "",
                        "floor",
                        rate(&f),
                        f.p50_ms,
                        f.p99_ms,
                        f.errors
                    );
                    if let Some(error) = query.first_error() {
                        println!("    first error: {error}");
                    }
                    if query.kind == QueryKind::Agents
                        && let Some(PeerResult::Measured(peer)) = &load.peer
                    {
                        let p = summarise(&peer.windows);
                        let rss = peer.rss.iter().map(|r| r.current_kib).max().unwrap_or(0);
                        println!(
                            "{:<52} {:<9} {:<8} {:>22} {:>6.1} ms {:>6.1} ms {:>7} {:>7} {:>11}",
                            peer::LABEL,
                            result.engine.name(),
                            "peer",
                            rate(&p),
                            p.p50_ms,
                            p.p99_ms,
                            p.errors,
                            "",
                            mib(rss)
                        );
                        if let Some(error) =
                            peer.windows.iter().find_map(|w| w.first_error.as_deref())
                        {
                            println!("    first error: {error}");
                        }
                        let ratios = load.peer_ratios();
                        println!(
                            "    caresoft-bridge / PostGraphile req/s, run by run: {}; median {}",
                            ratios_text(&ratios),
                            peer::median_ratio(&ratios)
                                .map_or_else(|| "n/a".into(), |r| format!("{r:.2}"))
                        );
                    }
                }
                match &load.peer {
                    Some(PeerResult::Measured(peer)) => {
                        println!(
                            "{:<52} {:<9} peer: PostGraphile {} on Node {} (one process, pool of {}), its answers \
                             equal ours for all {} load groups{}",
                            "",
                            result.engine.name(),
                            peer.version,
                            peer.node,
                            peer.pool_size,
                            peer.variants_checked,
                            peer.rss_end.map_or_else(String::new, |end| format!(
                                ", its peak RSS (VmHWM) {}",
                                mib(end.peak_kib)
                            ))
                        );
                        println!("{:<52} {:<9} peer started as: {}", "", "", peer.command);
                    }
                    Some(PeerResult::Skipped(reason)) => println!(
                        "{:<52} {:<9} PostGraphile peer skipped: {reason}",
                        "",
                        result.engine.name()
                    ),
                    None => {}
                }
                if let Some(end) = load.server_rss_end {
                    println!(
                        "{:<52} {:<9} server peak RSS (VmHWM) {}, RSS at the end {}",
                        "",
                        result.engine.name(),
                        mib(end.peak_kib),
                        mib(end.current_kib)
                    );
                }
            }
        }

        if self.engines.iter().any(|e| e.load.is_some()) {
            println!(
                "\nCPU PER REQUEST (ms of CPU time per answered request, from /proc: the server process — \
                 PostGraphile's on the peer row —, this process — load generator or floor client —, everything \
                 else — PostgreSQL chiefly —, and idle)"
            );
            println!(
                "{:<52} {:<9} {:<8} {:>9} {:>9} {:>9} {:>9}",
                "query", "engine", "side", "server", "bench", "other", "idle %"
            );
            for result in &self.engines {
                let Some(load) = &result.load else { continue };
                for query in &load.queries {
                    for (side, windows) in [("graphql", &query.graphql), ("floor", &query.floor)] {
                        let s = summarise(windows);
                        println!(
                            "{:<52} {:<9} {:<8} {:>9.3} {:>9.3} {:>9.3} {:>8.0}%",
                            query.kind.label(),
                            result.engine.name(),
                            side,
                            s.cpu_ms.server,
                            s.cpu_ms.bench,
                            s.cpu_ms.other,
                            s.idle_share * 100.0
                        );
                    }
                    if query.kind == QueryKind::Agents
                        && let Some(PeerResult::Measured(peer)) = &load.peer
                    {
                        let s = summarise(&peer.windows);
                        println!(
                            "{:<52} {:<9} {:<8} {:>9.3} {:>9.3} {:>9.3} {:>8.0}%",
                            peer::LABEL,
                            result.engine.name(),
                            "peer",
                            s.cpu_ms.server,
                            s.cpu_ms.bench,
                            s.cpu_ms.other,
                            s.idle_share * 100.0
                        );
                    }
                }
            }
        }

        println!(
            "\nload average: {} at the start, {} at the end (1, 5, 15 min; this machine is shared)",
            self.load_before,
            loadavg()
        );
        let targets = self.targets();
        if !targets.is_empty() {
            let scale = if self.agents == 20_000 && self.employees == 100_000 {
                String::new()
            } else {
                format!(
                    "; stated for 20,000 agents and 100,000 employees, NOT this run's {} and {}",
                    self.agents, self.employees
                )
            };
            println!(
                "\nTARGETS (BENCHMARKS.md; PostgreSQL, sslmode={}{scale})",
                self.sslmode
            );
            for t in &targets {
                println!(
                    "  {:<6} {:<44} {:<10} {}",
                    if t.met { "MET" } else { "MISSED" },
                    t.what,
                    t.goal,
                    t.figure
                );
            }
        }
    }

    /// Everything, as the JSON file holds it.
    pub fn to_json(&self) -> Value {
        let engines: serde_json::Map<String, Value> = self
            .engines
            .iter()
            .map(|result| {
                let phases: serde_json::Map<String, Value> = Phase::ALL
                    .iter()
                    .filter_map(|&phase| {
                        let (spread, peak) = result.phase(phase)?;
                        let runs: Vec<f64> = result
                            .runs
                            .iter()
                            .filter_map(|r| r.samples.get(&phase).map(|s| s.seconds))
                            .collect();
                        let peaks: Vec<u64> = result
                            .runs
                            .iter()
                            .filter_map(|r| r.samples.get(&phase).map(|s| s.peak_rss_kib))
                            .collect();
                        Some((
                            phase.key().to_string(),
                            json!({
                                "seconds": spread.to_json(),
                                "runs_seconds": runs,
                                "peak_rss_kib": peak,
                                "runs_peak_rss_kib": peaks,
                            }),
                        ))
                    })
                    .collect();
                let load = result.load.as_ref().map(|load| {
                    let queries: serde_json::Map<String, Value> = load
                        .queries
                        .iter()
                        .map(|q| {
                            (
                                q.kind.key().to_string(),
                                json!({
                                    "query": q.kind.document(),
                                    "statements_per_request": q.statements.len(),
                                    "statements": q.statements,
                                    "graphql": side_json(&q.graphql),
                                    "floor": side_json(&q.floor),
                                    "graphql_over_floor": q.ratio(),
                                    "server_rss_kib_after_windows": q.server_rss,
                                    "first_error": q.first_error(),
                                }),
                            )
                        })
                        .collect();
                    json!({
                        "queries": queries,
                        "server_rss_kib_end": load.server_rss_end,
                        "peer": load.peer.as_ref().map(|peer| peer_json(load, peer)),
                    })
                });
                let writes: Vec<i64> = result.runs.iter().map(|r| r.no_change_writes).collect();
                let one_percent: Vec<i64> =
                    result.runs.iter().map(|r| r.one_percent_writes).collect();
                (
                    result.engine.name().to_string(),
                    json!({
                        "phases": phases,
                        "no_change_resync_agent_rows_written": writes,
                        "one_percent_resync_agent_rows_written": one_percent,
                        "load": load,
                    }),
                )
            })
            .collect();
        let targets: Vec<Value> = self
            .targets()
            .into_iter()
            .map(|t| json!({"target": t.what, "goal": t.goal, "figure": t.figure, "met": t.met}))
            .collect();
        json!({
            "command": self.command,
            "date": self.date,
            "machine": {
                "cpus": self.cpus,
                "cpu_model": self.cpu_model,
                "memory_kib": self.memory_kib,
                "rustc": self.rustc,
                "postgres": self.postgres,
                "postgres_sslmode": self.sslmode,
                "peak_rss_reset_per_phase": self.peak_reset,
                "load_average_start": self.load_before,
                "load_average_end": loadavg(),
            },
            "data": self.data,
            "engines": engines,
            "targets_postgres": targets,
        })
    }
}
