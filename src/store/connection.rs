//! Database connections: pool sizing and SQLite pragmas per engine, migrations, the readiness ping, pool
//! use for metrics, PostgreSQL notifications, and each engine's bind-parameter limit.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend,
    DatabaseConnection, DbErr, EntityTrait, Iterable, Statement,
};

/// Opens a pool for `url` with settings that suit each engine.
#[tracing::instrument(skip_all, fields(engine))]
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
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
    Database::connect(options).await
}

/// Applies pending migrations, then opens the pool.
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
    Database::connect(options).await
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

/// `rows` in owned chunks of at most `per_statement`, moved out rather than cloned: a chunk of 4,000
/// employees is 60,000 values, and an import writes 25 of them.
pub fn owned_chunks<T>(rows: Vec<T>, per_statement: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter();
    std::iter::from_fn(move || {
        let chunk: Vec<T> = rows.by_ref().take(per_statement).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Inserts `rows` in as few statements as the engine's parameter limit allows.
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    for chunk in owned_chunks(rows, rows_per_statement(db.get_database_backend(), columns)) {
        A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
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
