//! The databases the benchmark runs on: a fresh SQLite file in a temporary directory, or a fresh PostgreSQL
//! database created (and dropped) through an administrative URL; and the process memory readings.

use anyhow::Context as _;
use caresoft_bridge::store as db;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

/// A database engine the benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine's name in tables, JSON and database labels.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A database that exists for one run only; [`FreshDb::drop_now`] removes it.
#[derive(Debug)]
pub struct FreshDb {
    pub url: String,
    pub db: DatabaseConnection,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl FreshDb {
    /// Creates and migrates a database, then runs `setup_sql` on it; `admin_url` is the PostgreSQL database
    /// to issue CREATE DATABASE in.
    pub async fn create(
        engine: Engine,
        admin_url: &str,
        label: &str,
        setup_sql: &[String],
    ) -> anyhow::Result<FreshDb> {
        let fresh = Self::create_empty(engine, admin_url, label).await?;
        for sql in setup_sql {
            if let Err(err) = fresh.db.execute_unprepared(sql).await {
                let _ = fresh.drop_now().await;
                return Err(err).with_context(|| format!("--setup-sql failed: {sql}"));
            }
        }
        Ok(fresh)
    }

    async fn create_empty(engine: Engine, admin_url: &str, label: &str) -> anyhow::Result<FreshDb> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("caresoft-bench-")
                    .tempdir()
                    .context("cannot create a temporary directory for SQLite")?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                let db = db::connect_and_migrate(&url)
                    .await
                    .with_context(|| format!("cannot open and migrate {url}"))?;
                Ok(FreshDb {
                    url,
                    db,
                    dir: Some(dir),
                    pg: None,
                })
            }
            Engine::Postgres => {
                let name = format!("bench_{}_{label}", std::process::id());
                let admin = db::connect(admin_url)
                    .await
                    .with_context(|| format!("cannot reach PostgreSQL at {admin_url}"))?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .with_context(|| format!("cannot create database {name}"))?;
                admin.close().await?;
                let url = database_url(admin_url, &name)?;
                let db = db::connect_and_migrate(&url)
                    .await
                    .with_context(|| format!("cannot open and migrate database {name}"))?;
                Ok(FreshDb {
                    url,
                    db,
                    dir: None,
                    pg: Some((admin_url.to_string(), name)),
                })
            }
        }
    }

    /// Leaves the database in place (the SQLite directory too) and returns its URL.
    pub fn keep(self) -> String {
        if let Some(dir) = self.dir {
            // Dropping a TempDir would delete it; `keep` hands it over for good.
            let _ = dir.keep();
        }
        self.url
    }

    /// Closes the pool and removes the database (file or PostgreSQL database).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        self.db.close().await?;
        if let Some((admin_url, name)) = self.pg {
            let admin = db::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .with_context(|| format!("cannot drop database {name}"))?;
            admin.close().await?;
        }
        if let Some(dir) = self.dir {
            dir.close()
                .context("cannot remove the SQLite temporary directory")?;
        }
        Ok(())
    }
}

/// `admin_url` with its database name replaced by `name`, query (e.g. `sslmode=disable`) kept.
fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin_url).with_context(|| format!("bad URL {admin_url}"))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// The `sslmode` of a PostgreSQL URL, as the figures must state it (sqlx's default is `prefer`).
pub fn sslmode(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "sslmode")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| "prefer (default)".to_string())
}

/// Reads one integer (a count) with plain SQL.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .with_context(|| format!("query failed: {sql}"))?
        .with_context(|| format!("no row: {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Installs triggers counting every INSERT and UPDATE on `agents` (as the integration tests do), so the
/// no-change resync can prove it wrote no agent row.
pub async fn count_agent_writes(db: &DatabaseConnection) -> anyhow::Result<()> {
    let statements: &[&str] = match db.get_database_backend() {
        DatabaseBackend::Postgres => &[
            "CREATE TABLE bench_agent_writes (n BIGINT NOT NULL)",
            "INSERT INTO bench_agent_writes VALUES (0)",
            "CREATE FUNCTION bench_count_agent_write() RETURNS trigger AS $$ BEGIN \
             UPDATE bench_agent_writes SET n = n + 1; RETURN NULL; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER bench_agents_write AFTER INSERT OR UPDATE ON agents \
             FOR EACH ROW EXECUTE FUNCTION bench_count_agent_write()",
        ],
        _ => &[
            "CREATE TABLE bench_agent_writes (n BIGINT NOT NULL)",
            "INSERT INTO bench_agent_writes VALUES (0)",
            "CREATE TRIGGER bench_agents_insert AFTER INSERT ON agents \
             BEGIN UPDATE bench_agent_writes SET n = n + 1; END",
            "CREATE TRIGGER bench_agents_update AFTER UPDATE ON agents \
             BEGIN UPDATE bench_agent_writes SET n = n + 1; END",
        ],
    };
    for sql in statements {
        db.execute_unprepared(sql)
            .await
            .with_context(|| format!("cannot install the write counter: {sql}"))?;
    }
    Ok(())
}

/// Agent rows inserted or updated since [`count_agent_writes`].
pub async fn agent_writes(db: &DatabaseConnection) -> anyhow::Result<i64> {
    scalar(db, "SELECT n FROM bench_agent_writes").await
}

/// Peak and current resident memory of a process, in KiB, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Rss {
    pub peak_kib: u64,
    pub current_kib: u64,
}

/// Reads `VmHWM` and `VmRSS` of `pid` (`None`: this process).
pub fn rss(pid: Option<u32>) -> anyhow::Result<Rss> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    Ok(Rss {
        peak_kib: field("VmHWM:"),
        current_kib: field("VmRSS:"),
    })
}

/// Resets this process's peak RSS to its current RSS (Linux ≥ 4.0), so a phase's peak is its own.
/// Returns false where the kernel does not allow it; the peak is then the process's peak so far.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time consumed so far, in clock ticks (USER_HZ, 100 per second on Linux): a process's user + system
/// time, and the whole machine's busy and total time.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSnapshot {
    pub server: u64,
    pub bench: u64,
    pub machine_busy: u64,
    pub machine_total: u64,
}

/// Clock ticks per second of `/proc` CPU times: USER_HZ, fixed at 100 by the Linux ABI on the platforms
/// this runs on.
pub const TICKS_PER_SECOND: f64 = 100.0;

fn process_ticks(pid: Option<u32>) -> u64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    // Fields after the command name (which may hold spaces, hence the split at the last ')'):
    // state is field 3, utime 14 and stime 15.
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            let rest = text.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0)
}

fn machine_ticks() -> (u64, u64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("cpu "))?;
            let values: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal (guest time is already in user).
            let total: u64 = values.iter().take(8).sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            Some((total - idle, total))
        })
        .unwrap_or((0, 0))
}

impl CpuSnapshot {
    /// Now, for the server process `server` (if any) and this process.
    pub fn take(server: Option<u32>) -> CpuSnapshot {
        let (machine_busy, machine_total) = machine_ticks();
        CpuSnapshot {
            server: server.map_or(0, |pid| process_ticks(Some(pid))),
            bench: process_ticks(None),
            machine_busy,
            machine_total,
        }
    }
}
