//! The timed phases of one run on a fresh database: HR import, first sync, no-change resync, resync with 1%
//! changed, full reconcile. Each is timed by wall clock around the library call, with this process's peak
//! RSS during it (reset before each phase where the kernel allows it).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use caresoft_bridge::caresoft::{CareSoftClient, ClientConfig};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::demo::stand_in::{StandIn, StandInConfig};
use caresoft_bridge::domain::{LinkCause, SyncOutcome, Trigger};
use caresoft_bridge::hr::{ImportOptions, import_rows, parse_employees};
use caresoft_bridge::reconcile::recompute;
use caresoft_bridge::sync::{SyncReport, SyncRequest, Syncer};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement, TransactionTrait};
use serde_json::Value;

use crate::dataset::{Dataset, Expected};
use crate::engine::{self, Engine, FreshDb};

/// The tenant the stand-ins serve and the syncers ask for.
pub const DOMAIN: &str = "acme";
const TOKEN: &str = "bench-token";

/// The phases, in the order a run takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Import,
    FirstSync,
    NoChangeResync,
    OnePercentResync,
    FullReconcile,
}

impl Phase {
    /// Every phase, in run order.
    pub const ALL: [Phase; 5] = [
        Phase::Import,
        Phase::FirstSync,
        Phase::NoChangeResync,
        Phase::OnePercentResync,
        Phase::FullReconcile,
    ];

    /// The phase's key in JSON and in `--sql-profile` lines.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Import => "import",
            Phase::FirstSync => "first_sync",
            Phase::NoChangeResync => "no_change_resync",
            Phase::OnePercentResync => "one_percent_resync",
            Phase::FullReconcile => "full_reconcile",
        }
    }
}

/// One phase of one run.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Sample {
    pub seconds: f64,
    pub peak_rss_kib: u64,
}

/// One run on one engine.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub samples: HashMap<Phase, Sample>,
    /// Agent rows inserted or updated by the no-change resync (must be 0) and by the 1% resync.
    pub no_change_writes: i64,
    pub one_percent_writes: i64,
    pub links_written: usize,
    pub employees_imported: usize,
}

/// The two CareSoft stand-ins: the full list, and the list with 1% of agents changed.
#[derive(Debug)]
pub struct Sources {
    pub full: StandIn,
    pub changed: StandIn,
}

impl Sources {
    /// Starts both stand-ins on loopback ports of their own, churn off.
    pub async fn start(data: &Dataset) -> anyhow::Result<Sources> {
        Ok(Sources {
            full: stand_in(data.agents.clone()).await?,
            changed: stand_in(data.changed_agents.clone()).await?,
        })
    }

    /// Stops both stand-ins.
    pub async fn shutdown(self) {
        self.full.shutdown().await;
        self.changed.shutdown().await;
    }
}

async fn stand_in(agents: Vec<Value>) -> anyhow::Result<StandIn> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind the stand-in on loopback")?;
    let config = StandInConfig {
        domain: DOMAIN.into(),
        token: TOKEN.into(),
        // No churn: the no-change resync must see exactly the list of the first sync.
        churn_every: Duration::ZERO,
        seed: 0,
    };
    StandIn::start(listener, config, agents)
        .await
        .context("cannot start the CareSoft stand-in")
}

/// A syncer reading `source`.
pub fn syncer(db: &DatabaseConnection, source: &StandIn) -> anyhow::Result<Syncer> {
    let config = ClientConfig::new(source.base_url(), DOMAIN, TOKEN.to_string().into());
    let client = CareSoftClient::new(config).context("cannot build the CareSoft client")?;
    Ok(Syncer::new(
        db.clone(),
        Ok(Arc::new(client)),
        DOMAIN.into(),
        MaxRemoval::default(),
    ))
}

/// Times `work`, with the process's peak RSS during it.
async fn timed<T>(
    log: Option<&SqlLog>,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<(T, Sample)> {
    if let Some(log) = log {
        log.clear();
    }
    engine::reset_peak_rss();
    let started = Instant::now();
    let value = work.await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_kib = engine::rss(None)?.peak_kib;
    Ok((
        value,
        Sample {
            seconds,
            peak_rss_kib,
        },
    ))
}

/// Parses and imports the HR CSV into the (empty) employees table; returns the rows imported.
pub async fn import(db: &DatabaseConnection, csv: &Path) -> anyhow::Result<usize> {
    let file =
        std::fs::File::open(csv).with_context(|| format!("cannot open {}", csv.display()))?;
    let parsed = parse_employees(std::io::BufReader::new(file))
        .with_context(|| format!("cannot parse {}", csv.display()))?;
    if !parsed.errors.is_empty() {
        bail!(
            "the generated CSV has {} bad rows, first: {}",
            parsed.errors.len(),
            parsed.errors[0]
        );
    }
    let report = import_rows(db, parsed.rows, parsed.errors, ImportOptions::default())
        .await
        .context("import failed")?;
    Ok(report.added)
}

/// Runs one sync and insists it succeeded.
pub async fn sync(syncer: &Syncer) -> anyhow::Result<SyncReport> {
    let report = syncer.run(SyncRequest::new(Trigger::Cli)).await?;
    if report.outcome != SyncOutcome::Succeeded {
        bail!("sync did not succeed: {}", report.summary_line());
    }
    Ok(report)
}

/// The links of the first sync, by status and method, against what the data set was built to produce.
pub async fn check_links(db: &DatabaseConnection, expected: &Expected) -> anyhow::Result<()> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT status, COALESCE(method, ''), COUNT(*) FROM agent_links GROUP BY status, method",
        ))
        .await?;
    let mut found = Expected::default();
    for row in rows {
        let status: String = row.try_get_by_index(0)?;
        let method: String = row.try_get_by_index(1)?;
        let count = usize::try_from(row.try_get_by_index::<i64>(2)?)?;
        match (status.as_str(), method.as_str()) {
            ("MATCHED", "EMAIL") => found.matched_by_email = count,
            ("MATCHED", "PHONE") => found.matched_by_phone = count,
            ("AMBIGUOUS", _) => found.ambiguous = count,
            ("CONFLICT", _) => found.conflict = count,
            ("UNMATCHED", _) => found.unmatched = count,
            other => bail!("unexpected link kind {other:?} ({count})"),
        }
    }
    found.employees_without_seat = expected.employees_without_seat;
    found.nguyen = expected.nguyen;
    if found != *expected {
        bail!("the first sync linked {found:?}, the data set was built for {expected:?}");
    }
    Ok(())
}

/// Where and how a run's databases are made.
#[derive(Debug, Clone, Copy)]
pub struct DbSpec<'a> {
    pub engine: Engine,
    /// The PostgreSQL database to create the run's database from.
    pub admin_url: &'a str,
    /// Run on the fresh database after its migrations.
    pub setup_sql: &'a [String],
    /// Log the phases' statements (`--sql-profile`).
    pub sql_profile: bool,
}

/// One run: a fresh database, then every phase in order; the database is dropped whatever happens.
pub async fn run_once(
    on: &DbSpec<'_>,
    data: &Dataset,
    csv: &Path,
    sources: &Sources,
    label: &str,
) -> anyhow::Result<RunResult> {
    let mut fresh = FreshDb::create(on.engine, on.admin_url, label, on.setup_sql).await?;
    let log = on
        .sql_profile
        .then(|| SqlLog::attach(&mut fresh.db, on.engine));
    let result = phases(&fresh.db, data, csv, sources, log.as_ref()).await;
    let dropped = fresh.drop_now().await;
    let result = result?;
    dropped?;
    Ok(result)
}

/// With `--sql-profile`: every statement sea-orm sends and how long it took, printed per phase, to tell the
/// database's share of a phase from the rest.
#[derive(Debug, Clone)]
pub struct SqlLog {
    engine: Engine,
    statements: Arc<Mutex<Vec<(String, Duration)>>>,
}

impl SqlLog {
    fn attach(db: &mut DatabaseConnection, engine: Engine) -> SqlLog {
        let statements: Arc<Mutex<Vec<(String, Duration)>>> = Arc::default();
        let sink = Arc::clone(&statements);
        db.set_metric_callback(move |info| {
            // Statements are told apart by their first words; values and long column lists do not matter.
            let head: String = info.statement.sql.chars().take(70).collect();
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((head, info.elapsed));
        });
        SqlLog { engine, statements }
    }

    fn clear(&self) {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Times what a sync does before any SQL: HTTP and the client's decoding (the stand-in serves an answer
    /// it encoded once, as a static list would be served).
    async fn fetch_alone(&self, source: &StandIn, served: &[Value]) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&serde_json::json!({"code": "ok", "agents": served}))?;
        let config = ClientConfig::new(source.base_url(), DOMAIN, TOKEN.to_string().into());
        let client = CareSoftClient::new(config)?;
        let started = Instant::now();
        let agents = client.fetch_agents().await?;
        eprintln!(
            "[{}] fetch alone (HTTP and decoding of {} agents, {:.1} MB): {:.0} ms",
            self.engine.name(),
            agents.len(),
            body.len() as f64 / 1e6,
            started.elapsed().as_secs_f64() * 1000.0,
        );
        Ok(())
    }

    /// Times a read of the whole mirror through sea-orm, against the SQL part of it: what a resync would cost
    /// without fingerprints (it reads presence and fingerprints, then only the rows that differ).
    async fn mirror_load_alone(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        self.clear();
        let started = Instant::now();
        let rows = entity::agent::Entity::find().all(db).await?;
        let total = started.elapsed();
        let sql: Duration = self
            .statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, d)| *d)
            .sum();
        eprintln!(
            "[{}] mirror read alone ({} agent rows through sea-orm): {:.0} ms, of which {:.0} ms fetching rows",
            self.engine.name(),
            rows.len(),
            total.as_secs_f64() * 1000.0,
            sql.as_secs_f64() * 1000.0
        );
        self.clear();
        Ok(())
    }

    /// Prints the statements of the phase just timed, heaviest first.
    fn report(&self, phase: Phase, sample: &Sample) {
        let statements = std::mem::take(
            &mut *self
                .statements
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let total: Duration = statements.iter().map(|(_, d)| *d).sum();
        let mut by_head: HashMap<String, (usize, Duration)> = HashMap::new();
        for (head, elapsed) in statements.iter() {
            let entry = by_head.entry(head.clone()).or_default();
            entry.0 += 1;
            entry.1 += *elapsed;
        }
        let mut heads: Vec<_> = by_head.into_iter().collect();
        heads.sort_by_key(|head| std::cmp::Reverse(head.1.1));
        eprintln!(
            "[{}] {}: {:.0} ms, of which {:.0} ms in {} statements",
            self.engine.name(),
            phase.key(),
            sample.seconds * 1000.0,
            total.as_secs_f64() * 1000.0,
            statements.len()
        );
        for (head, (count, elapsed)) in heads.iter().take(6) {
            eprintln!(
                "    {:>7.1} ms  x{count:<4} {head}",
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
}

async fn phases(
    db: &DatabaseConnection,
    data: &Dataset,
    csv: &Path,
    sources: &Sources,
    log: Option<&SqlLog>,
) -> anyhow::Result<RunResult> {
    let mut out = RunResult::default();
    let mut record = |phase: Phase, sample: Sample| {
        if let Some(log) = log {
            log.report(phase, &sample);
        }
        out.samples.insert(phase, sample);
    };
    let agents = data.agents.len();
    let mut tally = RunCounts::default();

    let (imported, sample) = timed(log, import(db, csv)).await?;
    tally.employees_imported = imported;
    record(Phase::Import, sample);

    if let Some(log) = log {
        log.fetch_alone(&sources.full, &data.agents).await?;
    }
    let full = syncer(db, &sources.full)?;
    let (report, sample) = timed(log, sync(&full)).await?;
    if report.counts.added != agents {
        bail!(
            "first sync added {} agents, not {agents}",
            report.counts.added
        );
    }
    record(Phase::FirstSync, sample);
    check_links(db, &data.expected).await?;

    // Counted from here on only: the trigger would slow the first sync's 20,000 inserts.
    if let Some(log) = log {
        log.mirror_load_alone(db).await?;
    }
    engine::count_agent_writes(db).await?;
    let (report, sample) = timed(log, sync(&full)).await?;
    tally.no_change_writes = engine::agent_writes(db).await?;
    if report.counts.unchanged != agents {
        bail!(
            "no-change resync saw {} unchanged agents, not {agents}",
            report.counts.unchanged
        );
    }
    record(Phase::NoChangeResync, sample);

    let changed = syncer(db, &sources.changed)?;
    let (report, sample) = timed(log, sync(&changed)).await?;
    tally.one_percent_writes = engine::agent_writes(db).await? - tally.no_change_writes;
    if report.counts.updated != data.changed {
        bail!(
            "1% resync updated {} agents, not {}",
            report.counts.updated,
            data.changed
        );
    }
    record(Phase::OnePercentResync, sample);

    // A full reconcile: every link written again. Clearing them is not timed.
    db.execute_unprepared("DELETE FROM link_candidates").await?;
    db.execute_unprepared("DELETE FROM agent_links").await?;
    let (counts, sample) = timed(log, async {
        // In one transaction, as sync and import run it.
        let txn = db.begin().await?;
        let counts = recompute(&txn, LinkCause::Sync, Utc::now()).await?.counts;
        txn.commit().await?;
        Ok(counts)
    })
    .await?;
    if counts.links_changed != agents {
        bail!(
            "full reconcile wrote {} links, not {agents}",
            counts.links_changed
        );
    }
    tally.links_written = counts.links_changed;
    record(Phase::FullReconcile, sample);
    out.no_change_writes = tally.no_change_writes;
    out.one_percent_writes = tally.one_percent_writes;
    out.links_written = tally.links_written;
    out.employees_imported = tally.employees_imported;
    Ok(out)
}

#[derive(Debug, Default)]
struct RunCounts {
    no_change_writes: i64,
    one_percent_writes: i64,
    links_written: usize,
    employees_imported: usize,
}
