//! The mirror's write lock, taken by every transaction that rewrites agents or links (sync, employee import,
//! manual overrides), so their reads and writes never interleave and link recomputes never work from stale
//! keys. On PostgreSQL it is a transaction-scoped advisory lock: it spans processes (CLI, replicas) and is
//! released by commit, rollback or a dead session. SQLite serves one process, where a process-wide mutex
//! does the same and also spares SQLite's deferred transactions the "database is locked" failure
//! (SQLITE_BUSY_SNAPSHOT) they meet when another connection writes between their first read and write.

use std::sync::{Arc, LazyLock};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The advisory lock key: the ASCII bytes of "caresoft".
pub const SYNC_LOCK_KEY: i64 = 0x6361_7265_736f_6674;

static SQLITE_WRITER: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

/// Proof of holding the lock; keep it until the transaction has committed or rolled back.
#[derive(Debug)]
#[must_use = "the lock is released when this is dropped"]
pub struct WriteLock {
    _sqlite: Option<OwnedMutexGuard<()>>,
}

/// Takes the write lock for `txn`: waits for it, or returns `None` at once when another holds it.
pub async fn acquire(txn: &DatabaseTransaction, wait: bool) -> Result<Option<WriteLock>, DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        let guard = if wait {
            Some(SQLITE_WRITER.clone().lock_owned().await)
        } else {
            SQLITE_WRITER.clone().try_lock_owned().ok()
        };
        return Ok(guard.map(|g| WriteLock { _sqlite: Some(g) }));
    }
    if try_lock(txn).await? {
        return Ok(Some(WriteLock { _sqlite: None }));
    }
    if !wait {
        return Ok(None);
    }
    tracing::warn!(
        "another sync, import or override holds the lock on this database; waiting for it"
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [SYNC_LOCK_KEY.into()],
    ))
    .await?;
    Ok(Some(WriteLock { _sqlite: None }))
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
