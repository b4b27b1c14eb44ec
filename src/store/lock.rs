//! The mirror's write lock, taken by every transaction that rewrites agents, employees or links (sync,
//! employee import, manual overrides), so their reads and writes never interleave and link recomputes never
//! work from stale keys. On PostgreSQL it is a transaction-scoped advisory lock: it spans processes (CLI,
//! replicas) and is released by commit, rollback or a dead session. On SQLite a process-wide mutex orders
//! the writers of one process, and the transaction begins IMMEDIATE, which takes SQLite's own write lock at
//! once and so orders the processes sharing the file (`serve` and CLI commands), waiting up to the busy
//! timeout.
//!
//! [`begin_write`] and [`try_begin_write`] hand out the transaction and the lock together as a [`WriteTxn`], so no writer can
//! forget the lock or release it before its transaction ends.

use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
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
    /// Whether its commit counts as a write of the mirror (`write_version`): not for a savepoint, whose
    /// enclosing transaction's commit is the write, nor for bookkeeping.
    counted: bool,
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    /// Counts the write (`write_version`, which tells memoised answers they are stale), commits, then
    /// releases the lock.
    pub async fn commit(self) -> Result<(), DbErr> {
        if self.counted {
            super::memo::bump(&self.txn).await?;
        }
        self.txn.commit().await
    }

    /// Rolls back, then releases the lock.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// A savepoint inside this transaction, under the same lock: its `rollback` undoes what was written
    /// through it and leaves this transaction usable (also after an error, which on PostgreSQL aborts the
    /// transaction otherwise), its `commit` keeps the writes for this transaction to commit.
    pub async fn savepoint(&self) -> Result<WriteTxn, DbErr> {
        Ok(WriteTxn {
            txn: self.txn.begin().await?,
            _sqlite: None,
            counted: false,
        })
    }
}

/// Begins a short transaction of bookkeeping that changes nothing the mirror's readers see (the alert
/// outbox's plans and deliveries). On SQLite it is ordered with the writers like any write (the file has
/// one writer at a time); on PostgreSQL it takes no advisory lock, row locks order it; its commit is not
/// counted in `write_version`, so memoised counts stay valid.
pub async fn begin_bookkeeping(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let mut txn = begin_write(db).await?;
        txn.counted = false;
        return Ok(txn);
    }
    Ok(WriteTxn {
        txn: db.begin().await?,
        _sqlite: None,
        counted: false,
    })
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
        // IMMEDIATE takes SQLite's write lock at BEGIN, waiting up to the busy timeout for another process
        // (a CLI command beside `serve`) to finish: a deferred transaction that reads first would meet
        // SQLITE_BUSY_SNAPSHOT at its first write whenever another process committed in between, and no
        // busy timeout helps that one.
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        return match db.begin_with_options(options).await {
            Ok(txn) => Ok(Some(WriteTxn {
                txn,
                _sqlite: Some(guard),
                counted: true,
            })),
            Err(err) if !wait && is_busy(&err) => Ok(None),
            Err(err) => Err(err),
        };
    }
    let txn = db.begin().await?;
    if try_lock(&txn).await? {
        return Ok(Some(WriteTxn {
            txn,
            _sqlite: None,
            counted: true,
        }));
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
    Ok(Some(WriteTxn {
        txn,
        _sqlite: None,
        counted: true,
    }))
}

/// Whether `err` is SQLite's "database is locked" (SQLITE_BUSY and its extended codes): another process
/// held the write lock for the whole busy timeout.
pub fn is_busy(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(sqlx_err) => match sqlx_err.as_database_error() {
            Some(db_err) => db_err
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| code & 0xff == 5),
            None => false,
        },
        _ => false,
    }
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
