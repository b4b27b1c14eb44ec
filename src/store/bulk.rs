//! Bulk writes: statements of many rows, each chunk built while the database runs the one before
//! ([`execute_chunks`], [`insert_all`], [`upsert_all`]); loads into empty tables; and their planning.
//!
//! PostgreSQL's "Populating a Database" and SQLite's advice agree: when a table is filled from empty, build its indexes after the rows are in (one sorted build instead of a tree
//! insert per row and index) and, on PostgreSQL, add its foreign keys after them too (one set-based check
//! instead of a `SELECT … FOR KEY SHARE` per row and reference). A first sync writes 20,000 agents, their
//! links and the links' history into empty tables, a first import 100,000 employees: for those writes
//! [`load`] drops the table's secondary indexes (and, on PostgreSQL, its own foreign keys) in the writer's
//! transaction ([`defer_indexes`]) and creates them again, as they were, once the rows are written
//! ([`Deferred::rebuild`]), before the commit.
//!
//! - Primary keys and unique indexes stay: upserts and uniqueness need them row by row.
//! - Everything happens inside the writer's transaction: a failure rolls back the drop with the rows, so
//!   the schema is never left without an index. A rebuilt foreign key checks every row, as the per-row
//!   checks would have: a dangling reference still fails the write.
//! - On PostgreSQL the drop holds an exclusive lock on the table (and on the tables its foreign keys name)
//!   until the commit: readers of the empty table wait for the load (a second or so) instead of reading it
//!   empty. A drop that cannot have its lock within [`LOCK_WAIT`] (a reader holding a long transaction), or
//!   is refused (an account that does not own the table), is given up for the row-by-row write.
//! - On SQLite, foreign keys cannot be dropped without rebuilding the table, and their checks are index
//!   lookups: only indexes are deferred.
//!
//! Every bulk write, into an empty table or not, also runs [`with_generic_plans`] on PostgreSQL.

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityName, EntityTrait, Iterable,
    QueryResult, QueryTrait, Statement, StatementBuilder,
};

use sea_orm::sea_query::OnConflict;

use super::connection::rows_per_statement;

/// `rows` in owned chunks of at most `per_statement`, moved out rather than cloned (a chunk of 4,000
/// employees is 60,000 values, and an import writes 25 of them), or made as each chunk is taken when
/// `rows` is a lazy iterator.
pub fn owned_chunks<T>(
    rows: impl IntoIterator<Item = T>,
    per_statement: usize,
) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter();
    std::iter::from_fn(move || {
        let chunk: Vec<T> = rows.by_ref().take(per_statement).collect();
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Runs the statement `build` makes of each chunk, in order, preparing each one while the database runs
/// the one before. Building a bulk statement is as much work as the database's part of it: sea-query
/// writes the SQL of tens of thousands of placeholders and gathers their values, 10–20 ms for a chunk of
/// 4,000 employees. Done in turn, the database waits for the builder and the builder for the database;
/// here the next chunk is taken from `chunks` (which may build its rows lazily) and rendered while the
/// previous statement is on the wire and executing, on the same task: nothing needs to be `'static` or
/// `Send`, and the statements still go out one at a time on the caller's connection or transaction.
/// The first error stops the rest.
pub async fn execute_chunks<T, S>(
    db: &impl ConnectionTrait,
    chunks: impl IntoIterator<Item = T>,
    build: impl Fn(T) -> S,
) -> Result<(), DbErr>
where
    S: StatementBuilder,
{
    let backend = db.get_database_backend();
    let mut chunks = chunks.into_iter();
    let mut prepare = || chunks.next().map(|chunk| backend.build(&build(chunk)));
    let Some(mut statement) = prepare() else {
        return Ok(());
    };
    loop {
        // `execute_raw` sends the statement at its first poll, then waits for the answer while the next
        // one is prepared.
        let (done, next) = tokio::join!(db.execute_raw(statement), async { prepare() });
        done?;
        match next {
            Some(next) => statement = next,
            None => return Ok(()),
        }
    }
}

/// Inserts `rows` in as few statements as the engine's parameter limit allows.
pub async fn insert_all<A>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = A>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let chunks = owned_chunks(rows, rows_per_statement(db.get_database_backend(), columns));
    execute_chunks(db, chunks, |chunk| {
        A::Entity::insert_many(chunk).into_query()
    })
    .await
}

/// Upserts `rows` in as few statements as the engine's parameter limit allows: a row whose `key` is taken
/// updates the `update` columns of the row there.
pub async fn upsert_all<A>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = A>,
    key: <A::Entity as EntityTrait>::Column,
    update: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let on_conflict = OnConflict::column(key).update_columns(update).to_owned();
    let chunks = owned_chunks(rows, rows_per_statement(db.get_database_backend(), columns));
    execute_chunks(db, chunks, |chunk| {
        A::Entity::insert_many(chunk)
            .on_conflict(on_conflict.clone())
            .into_query()
    })
    .await
}

/// Runs `write`, the bulk statements of one table, with PostgreSQL's generic plans. A prepared statement
/// is planned again at each of its first five executions (custom plans, which look at the values); an
/// INSERT or UPDATE of thousands of bound values gains nothing from that, and planning it costs as much as
/// a third of its execution (50–110 ms at bind for a 2,400-row chunk of agents in the server's log, against
/// 5–13 ms with a generic plan). With generic plans a statement is planned once per connection. Other
/// statements of the transaction keep custom plans. `db` is a transaction (`SET LOCAL`). No-op on SQLite.
pub async fn with_generic_plans<T>(
    db: &impl ConnectionTrait,
    write: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return write.await;
    }
    db.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
        .await?;
    let written = write.await?;
    db.execute_unprepared("SET LOCAL plan_cache_mode = DEFAULT")
        .await?;
    Ok(written)
}

/// The fewest rows for which a load into an empty table defers its indexes: below that, the row-by-row
/// write costs less than the schema statements.
pub const MIN_ROWS: usize = 1_000;

/// The longest a drop waits for its lock before the load goes row by row (PostgreSQL).
pub const LOCK_WAIT: &str = "2s";

/// The indexes and foreign keys dropped from one table for a load, with the statements that restore them.
#[derive(Debug)]
#[must_use = "the table's indexes stay dropped until rebuild"]
pub struct Deferred {
    table: &'static str,
    restore: Vec<String>,
}

/// When `table` is empty and `rows` is at least [`MIN_ROWS`], drops its secondary indexes (and, on
/// PostgreSQL, its foreign keys) for the load about to be written; `None` when the load should go row by
/// row. `db` is the writer's transaction; call [`Deferred::rebuild`] in it once the rows are written.
pub async fn defer_indexes(
    db: &impl ConnectionTrait,
    table: &'static str,
    rows: usize,
) -> Result<Option<Deferred>, DbErr> {
    if rows < MIN_ROWS || !is_empty(db, table).await? {
        return Ok(None);
    }
    let backend = db.get_database_backend();
    let (drop, restore) = match backend {
        DatabaseBackend::Postgres => postgres_schema(db, table).await?,
        DatabaseBackend::Sqlite => sqlite_schema(db, table).await?,
        _ => return Ok(None),
    };
    if drop.is_empty() {
        return Ok(None);
    }
    if backend == DatabaseBackend::Postgres {
        // In a savepoint, so that a drop that times out or is refused leaves the transaction usable.
        db.execute_unprepared("SAVEPOINT bulk_load").await?;
        let dropped = async {
            db.execute_unprepared(&format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                .await?;
            for statement in &drop {
                db.execute_unprepared(statement).await?;
            }
            db.execute_unprepared("SET LOCAL lock_timeout = DEFAULT")
                .await
        }
        .await;
        if let Err(err) = dropped {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT bulk_load")
                .await?;
            db.execute_unprepared("RELEASE SAVEPOINT bulk_load").await?;
            tracing::warn!(table, error = %err, "could not drop the indexes of an empty table for a bulk load; writing row by row");
            return Ok(None);
        }
        db.execute_unprepared("RELEASE SAVEPOINT bulk_load").await?;
    } else {
        for statement in &drop {
            db.execute_unprepared(statement).await?;
        }
    }
    tracing::debug!(
        table,
        rows,
        deferred = restore.len(),
        "indexes deferred for a bulk load"
    );
    Ok(Some(Deferred { table, restore }))
}

/// Runs `write`, a load of `rows` rows into `entity`'s table, with the table's indexes deferred when
/// [`defer_indexes`] says so, and rebuilds them once it has written.
pub async fn load<E: EntityName>(
    db: &impl ConnectionTrait,
    entity: E,
    rows: usize,
    write: impl Future<Output = Result<(), DbErr>>,
) -> Result<(), DbErr> {
    let deferred = defer_indexes(db, entity.table_name(), rows).await?;
    write.await?;
    match deferred {
        Some(deferred) => deferred.rebuild(db).await,
        None => Ok(()),
    }
}

impl Deferred {
    /// Creates the dropped indexes and foreign keys again, as they were defined.
    pub async fn rebuild(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        for statement in &self.restore {
            db.execute_unprepared(statement).await?;
        }
        tracing::debug!(table = self.table, "indexes rebuilt after a bulk load");
        Ok(())
    }
}

async fn is_empty(db: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT 1 AS present FROM {} LIMIT 1", quoted(table)),
        ))
        .await?;
    Ok(row.is_none())
}

/// `"name"`, with any `"` doubled.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn text(row: &QueryResult, column: &str) -> Result<String, DbErr> {
    row.try_get::<String>("", column)
}

/// (drop, restore) statements of a PostgreSQL table's non-unique indexes and foreign keys.
async fn postgres_schema(
    db: &impl ConnectionTrait,
    table: &str,
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let relation =
        |sql: &str| Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, [table.into()]);
    let indexes = db
        .query_all_raw(relation(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def \
             FROM pg_index i WHERE i.indrelid = to_regclass(quote_ident($1)) \
             AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
        ))
        .await?;
    let foreign_keys = db
        .query_all_raw(relation(
            "SELECT conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint \
             WHERE conrelid = to_regclass(quote_ident($1)) AND contype = 'f' ORDER BY 1",
        ))
        .await?;
    let (mut drop, mut restore) = (Vec::new(), Vec::new());
    for row in &foreign_keys {
        let name = quoted(&text(row, "name")?);
        drop.push(format!(
            "ALTER TABLE {} DROP CONSTRAINT {name}",
            quoted(table)
        ));
    }
    for row in &indexes {
        // Already quoted and qualified as needed by the regclass cast.
        drop.push(format!("DROP INDEX {}", text(row, "name")?));
        restore.push(text(row, "def")?);
    }
    // Indexes, then foreign keys: each is validated in one pass over the loaded rows.
    for row in &foreign_keys {
        restore.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            quoted(table),
            quoted(&text(row, "name")?),
            text(row, "def")?
        ));
    }
    Ok((drop, restore))
}

/// (drop, restore) statements of a SQLite table's non-unique indexes (those it created itself for
/// `UNIQUE` constraints have no SQL and stay).
async fn sqlite_schema(
    db: &impl ConnectionTrait,
    table: &str,
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
            [table.into()],
        ))
        .await?;
    let (mut drop, mut restore) = (Vec::new(), Vec::new());
    for row in &rows {
        drop.push(format!("DROP INDEX {}", quoted(&text(row, "name")?)));
        restore.push(text(row, "sql")?);
    }
    Ok((drop, restore))
}
