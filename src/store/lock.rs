//! The mirror's write lock, taken by every transaction that rewrites agents, employees or links (sync,
//! employee import, manual overrides), so their reads and writes never interleave and link recomputes never
//! work from stale keys. On PostgreSQL it is a transaction-scoped advisory lock: it spans processes (CLI,
//! replicas) and is released by commit, rollback or a dead session. SQLite serves one process, where a
//! process-wide mutex does the same and also spares SQLite's deferred transactions the "database is locked"
//! failure (SQLITE_BUSY_SNAPSHOT) they meet when another connection writes between their first read and
//! write.
//!
//! [`begin_write`] and [`try_begin_write`] hand out the transaction and the lock together as a [`WriteTxn`], so no writer can
//! forget the lock or release it before its transaction ends.

use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The advisory lock key: the ASCII bytes of "caresoft".
pub const SYNC_LOCK_KEY: i64 = 0x6361_7265_736f_6674;

static SQLITE_WRITER: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

/// A transaction holding the write lock. It reads and writes as the transaction it derefs to; the lock
/// is released once [`WriteTxn::commit`] or [`WriteTxn::rollback`] has ended it (or on drop, which rolls
/// back).
#[derive(Debug)]
#[must_use = "dropping a WriteTxn rolls it back"]
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _sqlite: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    /// Commits, then releases the lock.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back, then releases the lock.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

/// Begins a transaction and takes the write lock for it, waiting for any other writer to finish.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    match acquire(db, true).await? {
        Some(txn) => Ok(txn),
        // `acquire` only gives up when told not to wait.
        None => Err(DbErr::Custom("the write lock was not taken".into())),
    }
}

/// Begins a transaction with the write lock, or returns `None` at once (nothing begun) when another
/// writer holds it.
pub async fn try_begin_write(db: &DatabaseConnection) -> Result<Option<WriteTxn>, DbErr> {
    acquire(db, false).await
}

async fn acquire(db: &DatabaseConnection, wait: bool) -> Result<Option<WriteTxn>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        // The mutex first: a SQLite transaction begun while another writer runs would pin a stale snapshot.
        let guard = if wait {
            Some(SQLITE_WRITER.clone().lock_owned().await)
        } else {
            SQLITE_WRITER.clone().try_lock_owned().ok()
        };
        let Some(guard) = guard else { return Ok(None) };
        let txn = db.begin().await?;
        return Ok(Some(WriteTxn {
            txn,
            _sqlite: Some(guard),
        }));
    }
    let txn = db.begin().await?;
    if try_lock(&txn).await? {
        return Ok(Some(WriteTxn { txn, _sqlite: None }));
    }
    if !wait {
        txn.rollback().await?;
        return Ok(None);
    }
    tracing::warn!(
        "another sync, HR pull, import or override holds the lock on this database; waiting for it"
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [SYNC_LOCK_KEY.into()],
    ))
    .await?;
    Ok(Some(WriteTxn { txn, _sqlite: None }))
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
