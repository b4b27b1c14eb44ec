//! The pull of the HR table where it lives (`--hr-pull`): the data set's employees in a table of a
//! PostgreSQL or MariaDB database of their own, pulled by the bridge's HR puller into a bridge database
//! whose agents are already synced: the first pull into an empty `employees` table (upserts and the link
//! recompute of every agent), then a pull that finds nothing new, checked to have written no employee row.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::hr::source::{DatabaseSource, HrSource};
use caresoft_bridge::hr::{HrPuller, parse_employees};
use caresoft_bridge::sync::{SyncReport, SyncRequest};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement, Value};

use crate::dataset::Dataset;
use crate::engine::{self, Engine, FreshDb};
use crate::phases::{self, Sources};
use crate::report::Spread;

/// The engines an HR table may live on here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HrEngine {
    Postgres,
    Mariadb,
}

impl HrEngine {
    fn name(self) -> &'static str {
        match self {
            HrEngine::Postgres => "PostgreSQL",
            HrEngine::Mariadb => "MariaDB",
        }
    }
}

/// The query a pull runs: the HR table's own column names, and its flag mapped with CASE.
const QUERY: &str = "SELECT ma_nv AS employee_code, ho_ten AS full_name, email, dien_thoai AS phone, \
                     phong_ban AS department, CASE WHEN da_nghi THEN 'terminated' ELSE 'active' END AS status \
                     FROM nhan_vien";

/// An HR database holding the data set's employees.
struct HrTable {
    url: String,
    admin: DatabaseConnection,
    name: String,
    engine: HrEngine,
}

impl HrTable {
    async fn create(
        engine: HrEngine,
        pg_admin: &str,
        mariadb_admin: &str,
        data: &Dataset,
    ) -> anyhow::Result<HrTable> {
        let name = format!("bench_hr_{}", std::process::id());
        let (admin_url, create) = match engine {
            HrEngine::Postgres => (pg_admin, format!("CREATE DATABASE {name}")),
            HrEngine::Mariadb => (
                mariadb_admin,
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
            ),
        };
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("cannot reach {} at {admin_url}", engine.name()))?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin.execute_unprepared(&create).await?;
        let mut url = url::Url::parse(admin_url).context("admin URL")?;
        url.set_path(&format!("/{name}"));
        let table = HrTable {
            url: url.to_string(),
            admin,
            name,
            engine,
        };
        table.load(data).await?;
        Ok(table)
    }

    /// Creates `nhan_vien` and inserts the data set's employees in it.
    async fn load(&self, data: &Dataset) -> anyhow::Result<()> {
        let db = Database::connect(&self.url).await?;
        db.execute_unprepared(
            "CREATE TABLE nhan_vien (ma_nv VARCHAR(32) PRIMARY KEY, ho_ten VARCHAR(200), \
             email VARCHAR(200), dien_thoai VARCHAR(32), phong_ban VARCHAR(200), \
             da_nghi BOOLEAN NOT NULL DEFAULT FALSE)",
        )
        .await?;
        let parsed = parse_employees(&data.employees_csv[..]).context("the data set's CSV")?;
        let backend = db.get_database_backend();
        for chunk in parsed.rows.chunks(1000) {
            let mut sql = String::from(
                "INSERT INTO nhan_vien (ma_nv, ho_ten, email, dien_thoai, phong_ban, da_nghi) VALUES ",
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                let n = i * 6;
                sql.push_str(&match backend {
                    DatabaseBackend::Postgres => format!(
                        "(${},${},${},${},${},${})",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6
                    ),
                    _ => "(?,?,?,?,?,?)".to_string(),
                });
                values.extend([
                    row.employee_code.clone().into(),
                    row.full_name.clone().into(),
                    row.email.clone().into(),
                    row.phone.clone().into(),
                    row.department.clone().into(),
                    (row.status.as_str() == "terminated").into(),
                ]);
            }
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        db.close().await?;
        Ok(())
    }

    async fn drop_now(self) -> anyhow::Result<()> {
        let sql = match self.engine {
            HrEngine::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            HrEngine::Mariadb => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        self.admin.execute_unprepared(&sql).await?;
        Ok(())
    }
}

/// The figures of one source into one bridge engine.
#[derive(Debug)]
pub struct PullResult {
    pub source: HrEngine,
    pub bridge: Engine,
    pub first: Spread,
    pub no_change: Spread,
    pub rows_written: i64,
}

/// Pulls `data`'s employees from each of `sources` into each of `engines`, `runs` times each.
pub async fn measure(
    data: &Dataset,
    engines: &[Engine],
    sources: &[HrEngine],
    runs: usize,
    pg_admin: &str,
    mariadb_admin: &str,
) -> anyhow::Result<Vec<PullResult>> {
    let agents = Sources::start(data).await?;
    let mut results = Vec::new();
    for &source in sources {
        let table = HrTable::create(source, pg_admin, mariadb_admin, data).await?;
        let outcome = measure_source(data, engines, &table, runs, pg_admin, &agents).await;
        table.drop_now().await?;
        results.extend(outcome?);
    }
    agents.shutdown().await;
    Ok(results)
}

async fn measure_source(
    data: &Dataset,
    engines: &[Engine],
    table: &HrTable,
    runs: usize,
    pg_admin: &str,
    agents: &Sources,
) -> anyhow::Result<Vec<PullResult>> {
    let expected = parse_employees(&data.employees_csv[..])?.rows.len();
    let mut results = Vec::new();
    for &bridge in engines {
        let (mut first, mut no_change, mut rows_written) = (Vec::new(), Vec::new(), 0);
        for run in 0..runs {
            eprintln!(
                "[hr pull] {} into {}: run {}/{runs}",
                table.engine.name(),
                bridge.name(),
                run + 1
            );
            let fresh = FreshDb::create(bridge, pg_admin, &format!("hr{run}"), &[]).await?;
            phases::sync(&phases::syncer(&fresh.db, &agents.full)?).await?;
            let source = DatabaseSource::new(
                table.url.clone().into(),
                QUERY.to_string(),
                Duration::from_secs(60),
            )
            .map_err(|err| anyhow::anyhow!("{err:?}"))?;
            let puller = HrPuller::new(
                fresh.db.clone(),
                Ok(HrSource::Database(source)),
                MaxRemoval::default(),
            );

            let (report, seconds) = timed_pull(&puller).await?;
            if report.counts.added != expected {
                bail!("the first pull added {} of {expected}", report.counts.added);
            }
            first.push(seconds);
            let after_first = engine::scalar(&fresh.db, "SELECT COUNT(*) FROM employees").await?;
            let stamp = max_updated_at(&fresh.db).await?;

            let (report, seconds) = timed_pull(&puller).await?;
            if report.counts.unchanged != expected {
                bail!("the no-change pull found {:?}", report.counts);
            }
            no_change.push(seconds);
            let written = if max_updated_at(&fresh.db).await? == stamp {
                0
            } else {
                after_first
            };
            rows_written = rows_written.max(written);
            fresh.drop_now().await?;
        }
        results.push(PullResult {
            source: table.engine,
            bridge,
            first: Spread::of(&first),
            no_change: Spread::of(&no_change),
            rows_written,
        });
    }
    Ok(results)
}

/// The latest write to `employees`: unchanged when a pull wrote no row.
async fn max_updated_at(db: &DatabaseConnection) -> anyhow::Result<Option<String>> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(MAX(updated_at) AS TEXT) FROM employees",
        ))
        .await?;
    Ok(row.and_then(|row| row.try_get_by_index::<Option<String>>(0).ok().flatten()))
}

async fn timed_pull(puller: &HrPuller) -> anyhow::Result<(SyncReport, f64)> {
    let started = Instant::now();
    let report = puller.run(SyncRequest::new(Trigger::Cli)).await?;
    let seconds = started.elapsed().as_secs_f64();
    if report.outcome != SyncOutcome::Succeeded {
        bail!("the pull did not succeed: {}", report.summary_line());
    }
    Ok((report, seconds))
}

/// Prints the figures, one line per source and bridge engine.
pub fn print(results: &[PullResult], runs: usize) {
    println!("\nHR pull ({runs} runs each; seconds: median [min–max])");
    println!(
        "{:<11} {:<11} {:>24} {:>24} {:>13}",
        "source", "bridge", "first pull", "no-change pull", "rows written"
    );
    let cell = |s: Spread| format!("{:.3} [{:.3}–{:.3}]", s.median, s.min, s.max);
    for r in results {
        println!(
            "{:<11} {:<11} {:>24} {:>24} {:>13}",
            r.source.name(),
            r.bridge.name(),
            cell(r.first),
            cell(r.no_change),
            r.rows_written
        );
    }
}
