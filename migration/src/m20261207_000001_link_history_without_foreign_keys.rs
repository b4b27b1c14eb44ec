//! `link_history` loses its three foreign keys (to the agent, and to the employees the match changed from
//! and to); links and candidates keep theirs.
//!
//! The history is an append-only record written by one code path only, from ids it read in the same write
//! transaction, and neither agents nor employees are ever deleted: the keys refused nothing that could
//! happen. What they cost is a `SELECT … FOR KEY SHARE` per row and reference, as PostgreSQL checks every
//! inserted row: when an HR change rematches every agent of a 20,000-agent mirror, 40,000 lookups, about
//! 140 ms of a 0.5 s reconcile (BENCHMARKS.md, "The link history without foreign keys"). An audit record
//! should not cost its subject's write a third of its time.
//!
//! Reporting tools still see the relations on PostgreSQL: the table's comment declares them as
//! PostGraphile smart tags (`@foreignKey`), which PostGraphile reads as it reads constraints. Metabase and
//! Hasura take them from their own settings (README, "Schema").
//!
//! `down` adds the keys back, refusing (as the migration that first added them does) while any row
//! dangles.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261202_000005_add_foreign_keys::{REFERENCES, add_keys, drop_keys, refuse_dangling};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "link_history";

/// The comment PostgreSQL keeps on the table: one PostGraphile `@foreignKey` tag per relation, then what
/// the table is.
const COMMENT: &str = "@foreignKey (agent_id) references agents (id)\n\
     @foreignKey (old_employee_id) references employees (id)\n\
     @foreignKey (new_employee_id) references employees (id)\n\
     Every change of an agent's match, appended by the reconcile. The relations are declared here rather \
     than as foreign keys: the history is written 20,000 rows at a time and only from ids its writer has \
     just read.";

/// `link_history`'s references, as the earlier migration added them: (column, referenced table).
fn references() -> Vec<(&'static str, &'static str)> {
    REFERENCES
        .iter()
        .filter(|(table, _, _)| *table == TABLE)
        .map(|&(_, column, parent)| (column, parent))
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too: a rebuild cut short must leave the table as it was.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_keys(manager, TABLE, &references()).await?;
        let db = manager.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(&format!(
                "COMMENT ON TABLE \"{TABLE}\" IS {}",
                quote(COMMENT)
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let refs = references();
        let checked: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|&(column, parent)| (TABLE, column, parent))
            .collect();
        refuse_dangling(db, &checked).await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(&format!("COMMENT ON TABLE \"{TABLE}\" IS NULL"))
                .await?;
        }
        add_keys(manager, TABLE, &refs).await
    }
}

/// `text` as a PostgreSQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
