//! Database connections: pool sizing and SQLite pragmas per engine, migrations, the readiness ping, pool
//! use for metrics, PostgreSQL notifications, and each engine's bind-parameter limit (which
//! [`super::bulk`] chunks its statements by).

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    Statement,
};

/// A pooled connection idle for this long is pinged before it is handed out; one used more recently is
/// handed out as it is.
///
/// sqlx pings every connection it hands out by default: a round trip to the server before each query,
/// 8 % of our CPU on an agents page under load (`perf`), besides the database's own part. What the ping
/// guards against is a connection that died while it sat in the pool (a restarted server, a proxy or
/// firewall that drops idle connections), and those are connections that sat idle; a failed ping closes
/// the connection and the pool opens another. The price: when the server restarts under load, each
/// connection used in the last seconds fails the one query it is given next (at most the pool's size, on
/// top of the queries the restart cut short), where a ping would have replaced it.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

/// Opens a pool for `url` with settings that suit each engine.
#[tracing::instrument(skip_all, fields(engine))]
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    if url.starts_with("sqlite:") {
        tracing::Span::current().record("engine", "sqlite");
        // WAL lets readers (the API) go on while a sync writes; the busy timeout makes a second writer wait
        // instead of failing at once. sea-orm's SQLite default is a pool of one connection, which deadlocks
        // as soon as anything reads while a transaction is open.
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
            });
    } else {
        tracing::Span::current().record("engine", "postgres");
        options.max_connections(16).min_connections(1);
    }
    let db = Database::connect(options).await?;
    refuse_old_postgres(&db).await?;
    Ok(db)
}

/// Fails on a PostgreSQL server older than [`MIN_POSTGRES`]; any other database passes.
async fn refuse_old_postgres(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let version = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SHOW server_version_num",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("SHOW server_version_num returned no row".into()))?
        .try_get::<String>("", "server_version_num")?;
    supported_postgres(&version)
}

/// The oldest PostgreSQL served, as `server_version_num`: bulk writes set `plan_cache_mode`
/// ([`super::bulk::with_generic_plans`]), which PostgreSQL 12 added; on an older server every sync and
/// import would fail at its first write, so the connection is refused at once instead.
pub const MIN_POSTGRES: u32 = 120_000;

/// Refuses a PostgreSQL server older than [`MIN_POSTGRES`], naming the version found.
pub fn supported_postgres(server_version_num: &str) -> Result<(), DbErr> {
    let found: u32 = server_version_num.trim().parse().map_err(|_| {
        DbErr::Custom(format!(
            "unexpected server_version_num {server_version_num:?} from PostgreSQL"
        ))
    })?;
    if found >= MIN_POSTGRES {
        return Ok(());
    }
    // 110022 is 11.22; before 10, 90624 was 9.6.24.
    let shown = if found >= 100_000 {
        format!("{}.{}", found / 10_000, found % 10_000)
    } else {
        format!("{}.{}.{}", found / 10_000, found / 100 % 100, found % 100)
    };
    Err(DbErr::Custom(format!(
        "PostgreSQL {shown} is too old: caresoft-bridge needs PostgreSQL 12 or later (DATABASE_URL)"
    )))
}

/// Applies pending migrations (refusing a PostgreSQL too old before any), then opens the pool.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    let ddl = migration_pool(url).await?;
    Migrator::up(&ddl, None).await?;
    ddl.close().await?;
    connect(url).await
}

/// A pool of one connection for schema changes: every statement of a migration then runs on the same
/// connection, where on SQLite DDL spread over several connections could meet one whose view of the
/// schema is out of date.
pub async fn migration_pool(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    }
    let db = Database::connect(options).await?;
    refuse_old_postgres(&db).await?;
    Ok(db)
}

/// How many rows of `columns` columns fit in one statement on this engine (SQLite binds at most 32,766
/// parameters, PostgreSQL 65,535); sea-orm does not split big inserts itself.
pub fn rows_per_statement(backend: DatabaseBackend, columns: usize) -> usize {
    let limit = match backend {
        DatabaseBackend::Postgres => 65_535,
        _ => 32_766,
    };
    (limit / columns.max(1)).max(1)
}

/// Checks the database answers, for readiness probes.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Sends a PostgreSQL notification on `channel` (delivered to its listeners when this statement's
/// transaction, here its own, commits).
pub async fn notify(db: &DatabaseConnection, channel: &str, payload: &str) -> Result<(), DbErr> {
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    );
    db.execute_raw(statement).await.map(|_| ())
}

/// The pool's (size, idle connections), for the pool gauge.
pub fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_older_than_12_is_refused_by_name() {
        assert!(supported_postgres("120000").is_ok());
        assert!(supported_postgres("150020").is_ok());
        let err = supported_postgres("110022").expect_err("11 is too old");
        assert!(
            err.to_string().contains("PostgreSQL 11.22 is too old")
                && err.to_string().contains("12 or later"),
            "{err}"
        );
        let err = supported_postgres("90624").expect_err("9.6 is too old");
        assert!(
            err.to_string().contains("PostgreSQL 9.6.24 is too old"),
            "{err}"
        );
        assert!(supported_postgres("eleven").is_err());
    }
}
