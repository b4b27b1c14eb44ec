//! `bench`: the benchmark at scale. It generates a deterministic data set, measures sync,
//! reconcile and HR import on SQLite and PostgreSQL (median, min and max of several runs, with peak RSS), then
//! GraphQL under load on a real `caresoft-bridge serve` over loopback against the raw-SQL floor (the same
//! statements through sqlx), prints a table and writes the figures as JSON. `BENCHMARKS.md` explains the
//! figures and records the latest ones.
//!
//! ```sh
//! cargo run --release -p bench -- --engine both --agents 20000 --employees 100000 --runs 5 \
//!     --load-runs 3 --duration 10s --concurrency 32 --json target/bench-results.json
//! ```
//!
//! Layout: `dataset` (the generator), `engine` (fresh databases, memory readings), `phases` (the timed
//! library calls), `floor` (the resolvers' SQL, checked against them), `load` (server process, load driver),
//! `peer` (PostGraphile, loaded beside our server on PostgreSQL), `report` (statistics, table, JSON,
//! targets).

mod dataset;
mod domains;
mod engine;
mod floor;
mod hr_pull;
mod load;
mod peer;
mod phases;
mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use sea_orm::ConnectionTrait as _;

use crate::dataset::{Dataset, Shape};
use crate::engine::{Engine, FreshDb};
use crate::floor::{Floor, QueryKind};
use crate::load::{FloorWorker, GraphqlWorker, Server, drive};
use crate::phases::Sources;
use crate::report::{EngineResult, LoadResult, PeerLoad, PeerResult, QueryLoad, Report};

/// The allocator of the `caresoft-bridge` binary, so the phases measured in this process allocate as a
/// `caresoft-bridge sync` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default administrative PostgreSQL URL: loopback, trust auth, TLS off (sqlx 0.9.0 stalls ~44 ms per
/// statement over TLS, see README).
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// Which engines to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Engines {
    Sqlite,
    Postgres,
    Both,
}

/// Benchmarks caresoft-bridge at scale: sync, reconcile, import, and GraphQL under load against raw SQL.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// Engines to measure.
    #[arg(long, value_enum, default_value = "both")]
    engine: Engines,
    /// CareSoft agents in the data set.
    #[arg(long, default_value_t = 20_000)]
    agents: usize,
    /// HR employees in the data set (and in the imported CSV).
    #[arg(long, default_value_t = 100_000)]
    employees: usize,
    /// Runs of the sync / reconcile / import phases per engine, each on a fresh database.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Runs of the load phase per engine (each: every query over GraphQL, then on the floor; on
    /// PostgreSQL the agents query on PostGraphile too, right after ours).
    #[arg(long, default_value_t = 3)]
    load_runs: usize,
    /// Measured time of each load window.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Unmeasured time before each load window (connections opened, statements prepared).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Concurrent keep-alive connections (GraphQL) and concurrent readers (floor).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seed of the data set.
    #[arg(long, default_value_t = 6)]
    seed: u64,
    /// Where to write the figures as JSON.
    #[arg(long, default_value = "target/bench-results.json")]
    json: PathBuf,
    /// PostgreSQL database to create the benchmark's databases from. Keep `sslmode=disable` on loopback.
    #[arg(long, default_value = DEFAULT_PG_URL)]
    pg_url: String,
    /// The `caresoft-bridge` binary to serve with; default: beside this one, built first when run by cargo.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Skip the sync / reconcile / import phases.
    #[arg(long)]
    skip_phases: bool,
    /// Skip GraphQL under load.
    #[arg(long)]
    skip_load: bool,
    /// Do not load PostGraphile beside our server on PostgreSQL (installed into `bench/postgraphile/` with
    /// `npm ci` when missing; skipped, and said so, without Node or npm).
    #[arg(long)]
    no_peer: bool,
    /// Load a freshly synced PostgreSQL database without ANALYZE first (the planner then has no statistics
    /// until autovacuum's next pass; see BENCHMARKS.md).
    #[arg(long)]
    no_analyze: bool,
    /// SQL run on every benchmark database right after its migrations (e.g. `CREATE INDEX ...`, `DROP INDEX
    /// ...`): to measure a proposed schema change without changing the library. Repeatable.
    #[arg(long)]
    setup_sql: Vec<String>,
    /// Extra environment of the server process, `KEY=VALUE` (e.g. `LD_PRELOAD=...` to try another
    /// allocator). Repeatable.
    #[arg(long, value_parser = parse_env)]
    server_env: Vec<(String, String)>,
    /// Print, per phase of each run, the time spent in SQL statements and the heaviest ones (to stderr).
    #[arg(long)]
    sql_profile: bool,
    /// Keep the load phase's database (its URL is printed), to profile its queries by hand afterwards.
    #[arg(long)]
    keep_db: bool,
    /// Measure only the pull of the HR table from the `--hr-sources` databases into each `--engine` (first
    /// pull into an empty table, then a no-change pull), `--runs` times each.
    #[arg(long)]
    hr_pull: bool,
    /// Where the HR table lives for `--hr-pull`. Repeatable.
    #[arg(long, value_enum, default_values_t = [hr_pull::HrEngine::Postgres, hr_pull::HrEngine::Mariadb])]
    hr_sources: Vec<hr_pull::HrEngine>,
    /// Measure only syncs of the agents split over this many CareSoft domains (one stand-in each, synced
    /// at once) beside the same agents in one domain, in alternating runs (`--runs` of each): the
    /// all-domain first sync and the no-change resync.
    #[arg(long)]
    domains: Option<usize>,
    /// MariaDB (or MySQL) database to create the `--hr-pull` HR database from.
    #[arg(long, default_value = DEFAULT_MARIADB_URL)]
    mariadb_url: String,
}

/// The default administrative MariaDB URL: loopback, root without a password.
const DEFAULT_MARIADB_URL: &str = "mysql://root@127.0.0.1:3306/test";

impl Args {
    /// The command that reproduces this run, every value spelled out.
    fn command(&self) -> String {
        let engine = match self.engine {
            Engines::Sqlite => "sqlite",
            Engines::Postgres => "postgres",
            Engines::Both => "both",
        };
        let mut command = format!(
            "cargo run --release -p bench -- --engine {engine} --agents {} --employees {} --runs {} \
             --load-runs {} --duration {} --warmup {} --concurrency {} --seed {} --json {}",
            self.agents,
            self.employees,
            self.runs,
            self.load_runs,
            humantime::format_duration(self.duration),
            humantime::format_duration(self.warmup),
            self.concurrency,
            self.seed,
            self.json.display()
        );
        if self.pg_url != DEFAULT_PG_URL {
            command.push_str(&format!(" --pg-url '{}'", self.pg_url));
        }
        if let Some(bin) = &self.server_bin {
            command.push_str(&format!(" --server-bin {}", bin.display()));
        }
        if self.skip_phases {
            command.push_str(" --skip-phases");
        }
        if self.skip_load {
            command.push_str(" --skip-load");
        }
        if self.no_peer {
            command.push_str(" --no-peer");
        }
        if self.no_analyze {
            command.push_str(" --no-analyze");
        }
        for sql in &self.setup_sql {
            command.push_str(&format!(" --setup-sql '{sql}'"));
        }
        for (key, value) in &self.server_env {
            command.push_str(&format!(" --server-env '{key}={value}'"));
        }
        if self.sql_profile {
            command.push_str(" --sql-profile");
        }
        if self.keep_db {
            command.push_str(" --keep-db");
        }
        if let Some(domains) = self.domains {
            command.push_str(&format!(" --domains {domains}"));
        }
        if self.hr_pull {
            command.push_str(" --hr-pull");
            for source in &self.hr_sources {
                let name = match source {
                    hr_pull::HrEngine::Postgres => "postgres",
                    hr_pull::HrEngine::Mariadb => "mariadb",
                };
                command.push_str(&format!(" --hr-sources {name}"));
            }
            if self.mariadb_url != DEFAULT_MARIADB_URL {
                command.push_str(&format!(" --mariadb-url '{}'", self.mariadb_url));
            }
        }
        command
    }

    fn engines(&self) -> Vec<Engine> {
        match self.engine {
            Engines::Sqlite => vec![Engine::Sqlite],
            Engines::Postgres => vec![Engine::Postgres],
            Engines::Both => vec![Engine::Sqlite, Engine::Postgres],
        }
    }
}

fn parse_env(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {raw:?}"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.runs == 0 || args.concurrency == 0 || args.agents == 0 {
        bail!("--runs, --concurrency and --agents must be at least 1");
    }
    // The library logs warnings only; the figures go to stdout.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let command = args.command();
    println!("rerun: {command}");
    if cfg!(debug_assertions) {
        println!("WARNING: a debug build; these figures say nothing about release performance");
    }
    let engines = args.engines();
    if let Some(domains) = args.domains {
        if domains < 2 {
            bail!("--domains must be at least 2 (one domain is what the other phases measure)");
        }
        let data = dataset::generate(Shape {
            agents: args.agents,
            employees: args.employees,
            seed: args.seed,
        })?;
        let scratch = tempfile::Builder::new()
            .prefix("caresoft-bench-")
            .tempdir()
            .context("cannot create a scratch directory")?;
        let csv = scratch.path().join("employees.csv");
        std::fs::write(&csv, &data.employees_csv)
            .with_context(|| format!("cannot write {}", csv.display()))?;
        println!(
            "data: {} agents in {domains} domains and in one, {} employees (seed {}); PostgreSQL sslmode={}",
            args.agents,
            args.employees,
            args.seed,
            engine::sslmode(&args.pg_url)
        );
        domains::measure(&data, &csv, &engines, domains, args.runs, &args.pg_url).await?;
        println!("\nrerun: {command}");
        return Ok(());
    }
    if args.hr_pull {
        let data = dataset::generate(Shape {
            agents: args.agents,
            employees: args.employees,
            seed: args.seed,
        })?;
        println!(
            "data: {} agents, {} employees (seed {}); PostgreSQL sslmode={}",
            args.agents,
            args.employees,
            args.seed,
            engine::sslmode(&args.pg_url)
        );
        let results = hr_pull::measure(
            &data,
            &engines,
            &args.hr_sources,
            args.runs,
            &args.pg_url,
            &args.mariadb_url,
        )
        .await?;
        hr_pull::print(&results, args.runs);
        println!("\nrerun: {command}");
        return Ok(());
    }
    let load = if args.skip_load {
        None
    } else {
        let server_bin = server_binary(args.server_bin.as_deref())?;
        // Prepared before anything is measured, so that an `npm ci` is not timed and a skip is said at once.
        let peer_plan = if !engines.contains(&Engine::Postgres) {
            None
        } else if args.no_peer {
            Some(peer::Plan::Skipped("--no-peer given".into()))
        } else {
            Some(peer::prepare().await)
        };
        if let Some(peer::Plan::Skipped(reason)) = &peer_plan {
            eprintln!("PostGraphile peer skipped: {reason}");
        }
        Some(LoadSetup {
            server_bin,
            peer_plan,
        })
    };
    let mut report = Report::new(command, &args.pg_url, engines.contains(&Engine::Postgres)).await;
    println!("{}", report.machine_line());

    let shape = Shape {
        agents: args.agents,
        employees: args.employees,
        seed: args.seed,
    };
    let data = dataset::generate(shape)?;
    let scratch = tempfile::Builder::new()
        .prefix("caresoft-bench-")
        .tempdir()
        .context("cannot create a scratch directory")?;
    let csv = scratch.path().join("employees.csv");
    std::fs::write(&csv, &data.employees_csv)
        .with_context(|| format!("cannot write {}", csv.display()))?;
    report.describe_data(shape, &data, data.employees_csv.len());
    println!("{}", report.data_line());

    let sources = Sources::start(&data).await?;
    let outcome = measure(
        &args,
        &engines,
        &data,
        &csv,
        &sources,
        load.as_ref(),
        &mut report,
    )
    .await;
    sources.shutdown().await;
    outcome?;

    report.print();
    let json = serde_json::to_string_pretty(&report.to_json())?;
    if let Some(dir) = args.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&args.json, json)
        .with_context(|| format!("cannot write {}", args.json.display()))?;
    println!("\nfigures written to {}", args.json.display());
    Ok(())
}

async fn measure(
    args: &Args,
    engines: &[Engine],
    data: &Dataset,
    csv: &Path,
    sources: &Sources,
    load: Option<&LoadSetup>,
    report: &mut Report,
) -> anyhow::Result<()> {
    for &engine in engines {
        let mut result = EngineResult::new(engine);
        if !args.skip_phases {
            for run in 0..args.runs {
                eprintln!(
                    "[{}] run {}/{}: import, syncs, reconcile",
                    engine.name(),
                    run + 1,
                    args.runs
                );
                let label = format!("run{run}");
                let spec = phases::DbSpec {
                    engine,
                    admin_url: &args.pg_url,
                    setup_sql: &args.setup_sql,
                    sql_profile: args.sql_profile,
                };
                let outcome = phases::run_once(&spec, data, csv, sources, &label)
                    .await
                    .with_context(|| format!("{} run {}", engine.name(), run + 1))?;
                result.runs.push(outcome);
            }
        }
        if let Some(load) = load {
            result.load = Some(load_engine(args, engine, data, csv, sources, load).await?);
        }
        report.engines.push(result);
    }
    Ok(())
}

/// What the load phase runs: our server's binary, and the peer on PostgreSQL (`None`: no PostgreSQL).
#[derive(Debug)]
struct LoadSetup {
    server_bin: PathBuf,
    peer_plan: Option<peer::Plan>,
}

/// The `caresoft-bridge` binary to serve with. Run by `cargo run`, the default one beside this binary is
/// built first, so that the server measured is the library measured.
fn server_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("--server-bin {} is not a file", path.display());
        }
        // Absolute: the server runs in a directory of its own.
        return path
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", path.display()));
    }
    let exe = std::env::current_exe().context("cannot locate this binary")?;
    let dir = exe.parent().context("this binary has no directory")?;
    let path = dir.join(format!("caresoft-bridge{}", std::env::consts::EXE_SUFFIX));
    // `cargo run` tells its child where cargo is; the build is a no-op when the binary is fresh.
    if let Some(cargo) = std::env::var_os("CARGO") {
        let mut build = std::process::Command::new(cargo);
        build.args([
            "build",
            "-p",
            "caresoft-bridge",
            "--bin",
            "caresoft-bridge",
            "--quiet",
        ]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        eprintln!("building caresoft-bridge (the server under load) ...");
        let status = build
            .status()
            .context("cannot run cargo to build caresoft-bridge")?;
        if !status.success() {
            bail!(
                "cargo could not build caresoft-bridge; pass --server-bin to use an existing binary"
            );
        }
    }
    if !path.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release --bin caresoft-bridge` or pass --server-bin",
            path.display()
        );
    }
    Ok(path)
}

/// GraphQL under load and the floor, on one engine, against a database holding the whole data set.
async fn load_engine(
    args: &Args,
    engine: Engine,
    data: &Dataset,
    csv: &Path,
    sources: &Sources,
    setup: &LoadSetup,
) -> anyhow::Result<LoadResult> {
    eprintln!("[{}] load: preparing the database", engine.name());
    let fresh = FreshDb::create(engine, &args.pg_url, "load", &args.setup_sql).await?;
    let workdir = tempfile::Builder::new()
        .prefix("caresoft-bench-serve-")
        .tempdir()
        .context("cannot create the server's directory")?;
    let outcome = async {
        phases::import(&fresh.db, csv).await?;
        phases::sync(&phases::syncer(&fresh.db, &sources.full)?).await?;
        if engine == Engine::Postgres && !args.no_analyze {
            // What autovacuum does within a minute or so of a bulk load: a server that has run for a while
            // has statistics. Without them PostgreSQL guesses, and unmatchedEmployees takes seconds.
            fresh.db.execute_unprepared("ANALYZE").await?;
        }
        let floor = Floor::capture(&fresh.url, &fresh.db, &data.load_groups)
            .await
            .context("cannot record the resolvers' SQL for the floor")?;
        let floor = Arc::new(floor);
        let server = Server::start(
            &setup.server_bin,
            &fresh.url,
            workdir.path(),
            &args.server_env,
        )
        .await?;
        eprintln!(
            "[{}] load: server pid {} at {}",
            engine.name(),
            server.pid,
            server.url
        );
        // PostGraphile serves PostgreSQL only.
        let peer_plan = setup
            .peer_plan
            .as_ref()
            .filter(|_| engine == Engine::Postgres);
        let started = match peer_plan {
            Some(peer::Plan::Ready(installed)) => {
                match peer::Peer::start(installed, &fresh.url, workdir.path()).await {
                    Ok(running) => {
                        eprintln!(
                            "[{}] load: PostGraphile {} pid {} at {}",
                            engine.name(),
                            installed.version,
                            running.pid,
                            running.url
                        );
                        Ok(Some((installed, running)))
                    }
                    Err(err) => {
                        let reason = format!("it did not start: {err:#}");
                        eprintln!("PostGraphile peer skipped: {reason}");
                        Err(reason)
                    }
                }
            }
            // Said on stderr when it was decided.
            Some(peer::Plan::Skipped(reason)) => Err(reason.clone()),
            None => Ok(None),
        };
        let (running, skipped) = match started {
            Ok(running) => (running, None),
            Err(reason) => (None, Some(reason)),
        };
        let measured = load_windows(
            args,
            engine,
            data,
            &floor,
            &server,
            running
                .as_ref()
                .map(|(installed, running)| (*installed, running)),
        )
        .await;
        let peer_stopped = match running {
            Some((_, running)) => running.stop().await,
            None => Ok(()),
        };
        let stopped = server.stop().await;
        let mut measured = measured?;
        stopped?;
        peer_stopped?;
        if let Some(reason) = skipped {
            measured.peer = Some(PeerResult::Skipped(reason));
        }
        Ok::<_, anyhow::Error>(measured)
    }
    .await;
    if args.keep_db {
        eprintln!("[{}] load database kept: {}", engine.name(), fresh.keep());
        return outcome;
    }
    let dropped = fresh.drop_now().await;
    let outcome = outcome?;
    dropped?;
    Ok(outcome)
}

async fn load_windows(
    args: &Args,
    engine: Engine,
    data: &Dataset,
    floor: &Arc<Floor>,
    server: &Server,
    peer_running: Option<(&peer::Installed, &peer::Peer)>,
) -> anyhow::Result<LoadResult> {
    shape_checks(&server.url, data).await?;
    let mut peer_load = match peer_running {
        Some((installed, running)) => {
            let variants_checked = peer_checks(&server.url, &running.url, data).await?;
            eprintln!(
                "[{}] load: PostGraphile's agents equal ours for all {variants_checked} load groups",
                engine.name()
            );
            Some(PeerLoad {
                version: installed.version.clone(),
                node: installed.node.clone(),
                command: peer::command_line(),
                pool_size: peer::POOL_SIZE,
                variants_checked,
                windows: Vec::new(),
                rss: Vec::new(),
                rss_end: None,
            })
        }
        None => None,
    };
    let mut result = LoadResult::default();
    for kind in QueryKind::ALL {
        let statements = floor
            .statements(kind)
            .iter()
            .map(|s| s.sql.to_string())
            .collect();
        result.queries.push(QueryLoad::new(kind, statements));
    }
    for run in 0..args.load_runs {
        for query in &mut result.queries {
            let kind = query.kind;
            eprintln!(
                "[{}] load run {}/{}: {} (GraphQL, then floor)",
                engine.name(),
                run + 1,
                args.load_runs,
                kind.key()
            );
            let workers =
                GraphqlWorker::many(args.concurrency, &server.url, kind, &data.load_groups)?;
            query
                .graphql
                .push(drive(workers, args.warmup, args.duration, Some(server.pid)).await);
            query.server_rss.push(server.rss()?);
            if kind == QueryKind::Agents
                && let (Some((_, running)), Some(peer_load)) = (peer_running, peer_load.as_mut())
            {
                // Right after our window, so that the pair sees the same host.
                eprintln!(
                    "[{}] load run {}/{}: agents on PostGraphile",
                    engine.name(),
                    run + 1,
                    args.load_runs
                );
                let workers = GraphqlWorker::for_document(
                    args.concurrency,
                    &running.url,
                    peer::DOCUMENT,
                    agents_variables(data),
                )?;
                peer_load
                    .windows
                    .push(drive(workers, args.warmup, args.duration, Some(running.pid)).await);
                peer_load.rss.push(running.rss()?);
            }
            let workers = (0..args.concurrency)
                .map(|_| FloorWorker {
                    floor: Arc::clone(floor),
                    kind,
                })
                .collect();
            query
                .floor
                .push(drive(workers, args.warmup, args.duration, Some(server.pid)).await);
        }
    }
    result.server_rss_end = Some(server.rss()?);
    if let (Some((_, running)), Some(mut peer_load)) = (peer_running, peer_load) {
        peer_load.rss_end = Some(running.rss()?);
        result.peer = Some(PeerResult::Measured(peer_load));
    }
    Ok(result)
}

/// The variables of the agents query, one set per load group, in the order both servers rotate through.
fn agents_variables(data: &Dataset) -> Vec<serde_json::Value> {
    (0..QueryKind::Agents.variants(&data.load_groups))
        .map(|i| QueryKind::Agents.variables(&data.load_groups, i))
        .collect()
}

/// Before loading the peer: for every load group, PostGraphile's agents page equals ours (normalised, see
/// `peer::ours` and `peer::theirs`), and ours is a full page with employees. Returns the groups checked.
async fn peer_checks(ours_url: &str, peer_url: &str, data: &Dataset) -> anyhow::Result<usize> {
    let variants = agents_variables(data);
    for variables in &variants {
        let group = &variables["group"];
        let ours = load::ask_document(
            ours_url,
            QueryKind::Agents.document(),
            variables.clone(),
            QueryKind::Agents.label(),
        )
        .await?;
        let ours = peer::ours(&ours)?;
        let with_employee = ours.nodes.iter().filter(|n| n.employee.is_some()).count();
        if ours.nodes.len() != 50 || with_employee == 0 {
            bail!(
                "agents(group: {group}) answered {} nodes, {with_employee} with an employee; expected a full \
                 page with employees",
                ours.nodes.len()
            );
        }
        let theirs =
            load::ask_document(peer_url, peer::DOCUMENT, variables.clone(), "PostGraphile").await?;
        let theirs = peer::theirs(&theirs)?;
        if let Some(difference) = peer::first_difference(&ours, &theirs) {
            bail!(
                "PostGraphile's agents differ from ours for group {group}, so its figures would not be of \
                 the same answer: {difference}"
            );
        }
    }
    Ok(variants.len())
}

/// Before any load: each query answers what the data set says it must (a wrong answer fast is no figure).
async fn shape_checks(url: &str, data: &Dataset) -> anyhow::Result<()> {
    let agents = load::ask(url, QueryKind::Agents, &data.load_groups).await?;
    let nodes = agents["data"]["agents"]["nodes"]
        .as_array()
        .context("agents answered without nodes")?;
    let with_employee = nodes.iter().filter(|n| n["employee"].is_object()).count();
    if nodes.len() != 50 || with_employee == 0 {
        bail!(
            "agents answered {} nodes, {with_employee} with an employee; expected a full page with employees",
            nodes.len()
        );
    }
    let unseated = load::ask(url, QueryKind::UnmatchedEmployees, &data.load_groups).await?;
    let total = unseated["data"]["unmatchedEmployees"]["totalCount"].as_u64();
    if total != Some(data.expected.employees_without_seat as u64) {
        bail!(
            "unmatchedEmployees.totalCount is {total:?}, the data set has {} employees without a seat",
            data.expected.employees_without_seat
        );
    }
    let groups = load::ask(url, QueryKind::Groups, &data.load_groups).await?;
    let count = groups["data"]["groups"].as_array().map(Vec::len);
    if count != Some(data.groups) {
        bail!(
            "groups answered {count:?} groups, the data set has {}",
            data.groups
        );
    }
    let found = load::ask(url, QueryKind::EmployeeSearch, &data.load_groups).await?;
    let total = found["data"]["employees"]["totalCount"].as_u64();
    if total != Some(data.expected.nguyen as u64) {
        bail!(
            "employees(search: \"nguyen\") found {total:?}, the data set has {} Nguyễn",
            data.expected.nguyen
        );
    }
    Ok(())
}
