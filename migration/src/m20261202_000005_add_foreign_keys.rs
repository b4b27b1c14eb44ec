//! Foreign keys from links, candidates and history to the agents and employees they name, so that nothing
//! can leave a dangling id and reporting tools (Metabase, PostGraphile, Hasura) discover the relations.
//! Overrides get none on purpose: a manual link to a code that left HR is kept and reported, not refused.
//!
//! Rows already dangling are never deleted: the migration then refuses, listing them, and changes nothing.
//! PostgreSQL adds constraints in place; SQLite cannot, so each table is rebuilt with them (create, copy,
//! drop, rename, indexes again), as SQLite's documentation describes for schema changes it lacks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, referenced table); every reference is to `id`.
pub(crate) const REFERENCES: [(&str, &str, &str); 9] = [
    ("agent_links", "agent_id", "agents"),
    ("agent_links", "employee_id", "employees"),
    ("link_candidates", "agent_id", "agents"),
    ("link_candidates", "employee_id", "employees"),
    ("link_history", "agent_id", "agents"),
    ("link_history", "old_employee_id", "employees"),
    ("link_history", "new_employee_id", "employees"),
    ("status_events", "agent_id", "agents"),
    ("roster_changes", "agent_id", "agents"),
];

/// Dangling rows named per reference in the refusal.
const SHOWN: usize = 10;

fn constraint(table: &str, column: &str) -> String {
    format!("fk_{table}_{column}")
}

/// The references of each table, tables in a stable order.
fn by_table() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut tables: Vec<(&'static str, Vec<(&'static str, &'static str)>)> = Vec::new();
    for (table, column, parent) in REFERENCES {
        match tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, refs)) => refs.push((column, parent)),
            None => tables.push((table, vec![(column, parent)])),
        }
    }
    tables
}

/// The `FOREIGN KEY` clauses SQLite's rebuilt table gets, as text (also what `down` removes again).
fn sqlite_clauses(table: &str, refs: &[(&str, &str)]) -> String {
    refs.iter()
        .map(|(column, parent)| {
            format!(
                ", CONSTRAINT \"{}\" FOREIGN KEY (\"{column}\") REFERENCES \"{parent}\" (\"id\")",
                constraint(table, column)
            )
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too (sea-orm-migration uses transactions on PostgreSQL only): a rebuild cut short must
    /// leave the tables as they were.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        refuse_dangling(manager.get_connection(), &REFERENCES).await?;
        for (table, refs) in by_table() {
            add_keys(manager, table, &refs).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, refs) in by_table() {
            drop_keys(manager, table, &refs).await?;
        }
        Ok(())
    }
}

/// Adds `refs` of `table`, (column, referenced table), as foreign keys to `id`: in place on PostgreSQL,
/// by rebuilding the table on SQLite.
pub(crate) async fn add_keys(
    manager: &SchemaManager<'_>,
    table: &str,
    refs: &[(&str, &str)],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return rebuild_sqlite(db, table, |sql| {
            with_clauses(table, sql, &sqlite_clauses(table, refs))
        })
        .await;
    }
    for (column, parent) in refs {
        manager
            .create_foreign_key(
                ForeignKey::create()
                    .name(constraint(table, column))
                    .from(Alias::new(table), Alias::new(*column))
                    .to(Alias::new(*parent), Alias::new("id"))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Drops the foreign keys [`add_keys`] added (one already dropped by hand is no error on PostgreSQL).
pub(crate) async fn drop_keys(
    manager: &SchemaManager<'_>,
    table: &str,
    refs: &[(&str, &str)],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let clauses = sqlite_clauses(table, refs);
        return rebuild_sqlite(db, table, |sql| Ok(sql.replace(&clauses, ""))).await;
    }
    let drops: Vec<String> = refs
        .iter()
        .map(|(column, _)| {
            format!(
                "DROP CONSTRAINT IF EXISTS \"{}\"",
                constraint(table, column)
            )
        })
        .collect();
    db.execute_unprepared(&format!("ALTER TABLE \"{table}\" {}", drops.join(", ")))
        .await
        .map(|_| ())
}

/// Fails, naming every reference of `references` with dangling rows (their ids, up to [`SHOWN`] each),
/// when any exist.
pub(crate) async fn refuse_dangling(
    db: &impl ConnectionTrait,
    references: &[(&str, &str, &str)],
) -> Result<(), DbErr> {
    let mut found = Vec::new();
    for &(table, column, parent) in references {
        let sql = format!(
            "SELECT c.\"{column}\" AS missing, COUNT(*) AS n FROM \"{table}\" c \
             LEFT JOIN \"{parent}\" p ON p.\"id\" = c.\"{column}\" \
             WHERE c.\"{column}\" IS NOT NULL AND p.\"id\" IS NULL \
             GROUP BY c.\"{column}\" ORDER BY c.\"{column}\""
        );
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        if rows.is_empty() {
            continue;
        }
        let mut total = 0i64;
        let mut ids = Vec::new();
        for row in &rows {
            total += row.try_get::<i64>("", "n")?;
            ids.push(row.try_get::<i64>("", "missing")?.to_string());
        }
        let shown: Vec<&str> = ids.iter().take(SHOWN).map(String::as_str).collect();
        let more = if ids.len() > SHOWN {
            format!(" and {} more", ids.len() - SHOWN)
        } else {
            String::new()
        };
        found.push(format!(
            "{total} rows of {table} whose {column} names no row of {parent} ({parent} ids {}{more})",
            shown.join(", ")
        ));
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(DbErr::Migration(format!(
        "cannot add foreign keys: {}. Nothing was changed or deleted; restore the missing rows (or remove \
         the dangling ones yourself) and migrate again",
        found.join("; ")
    )))
}

/// SQLite table definition `sql` of `table` with `clauses` added before its closing parenthesis.
fn with_clauses(table: &str, sql: &str, clauses: &str) -> Result<String, DbErr> {
    let end = sql
        .rfind(')')
        .ok_or_else(|| DbErr::Migration(format!("unexpected definition of {table}: {sql}")))?;
    Ok(format!("{}{clauses}{}", &sql[..end], &sql[end..]))
}

/// Rebuilds SQLite table `table` with the definition `rewrite` makes of its current one, keeping its
/// rows and indexes.
async fn rebuild_sqlite(
    db: &impl ConnectionTrait,
    table: &str,
    rewrite: impl FnOnce(&str) -> Result<String, DbErr>,
) -> Result<(), DbErr> {
    let backend = DatabaseBackend::Sqlite;
    let schema = |sql: &str| Statement::from_sql_and_values(backend, sql, [table.into()]);
    let definition: String = db
        .query_one_raw(schema(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?
        .try_get("", "sql")?;
    let mut indexes = Vec::new();
    for row in db
        .query_all_raw(schema(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        ))
        .await?
    {
        indexes.push(row.try_get::<String>("", "sql")?);
    }
    let rebuilt = format!("{table}_rebuilt");
    let quoted = format!("\"{table}\"");
    let Some(at) = definition.find(&quoted) else {
        return Err(DbErr::Migration(format!(
            "unexpected definition of {table}: {definition}"
        )));
    };
    let renamed = format!(
        "{}\"{rebuilt}\"{}",
        &definition[..at],
        &definition[at + quoted.len()..]
    );
    for sql in [
        rewrite(&renamed)?,
        format!("INSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\""),
        format!("DROP TABLE \"{table}\""),
        format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\""),
    ]
    .into_iter()
    .chain(indexes)
    {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
