//! The database-wide sync lock: on PostgreSQL a transaction-scoped advisory lock, so two processes (CLI,
//! replicas) never interleave their writes and the lock is released by commit, rollback or a dead session.
//! SQLite serves a single process, where [`super::Syncer`]'s mutex already serialises syncs.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement};

/// The advisory lock key: the ASCII bytes of "caresoft".
pub const SYNC_LOCK_KEY: i64 = 0x6361_7265_736f_6674;

/// Takes the sync lock inside `txn`: waits for it, or returns `false` at once when another holds it.
pub async fn acquire(txn: &DatabaseTransaction, wait: bool) -> Result<bool, DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(true);
    }
    if try_lock(txn).await? {
        return Ok(true);
    }
    if !wait {
        return Ok(false);
    }
    tracing::warn!("another sync holds the lock on this database; waiting for it to finish");
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [SYNC_LOCK_KEY.into()],
    ))
    .await?;
    Ok(true)
}

async fn try_lock(txn: &DatabaseTransaction) -> Result<bool, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [SYNC_LOCK_KEY.into()],
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<bool>("", "locked"),
        None => Ok(false),
    }
}
