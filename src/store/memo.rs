//! Answers that change only when something is written. The mirror changes only in write transactions
//! (syncs, HR pulls, imports, overrides), each of which increments `write_version` as it commits
//! ([`super::lock::WriteTxn::commit`]); a [`Memo`] keeps computed answers with the version they were
//! computed at and serves them while the version read at the start of a request is the same. So counts
//! such as `unmatchedEmployees { totalCount }` cost one narrow read instead of an anti-join of every
//! employee, and are never stale by a single write, whichever replica or CLI made it.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Answers kept per memo before it starts over (keys include search terms, so they are unbounded).
const CAPACITY: usize = 1024;

/// The current write version: how many write transactions have committed.
pub async fn write_version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM write_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("write_version has no row".into()))?;
    row.try_get("", "version")
}

/// Counts the write committing in `txn`; called by [`super::lock::WriteTxn::commit`] and nowhere else.
pub(super) async fn bump(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_string(
        txn.get_database_backend(),
        "UPDATE write_version SET version = version + 1 WHERE id = 1",
    ))
    .await
    .map(|_| ())
}

type Entry = (i64, Arc<dyn Any + Send + Sync>);

/// Answers by key, each with the write version it was computed at. Cloning shares the answers.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    answers: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Memo {
    /// The answer of `key` at write version `version`: kept from an earlier call at the same version, or
    /// computed now. Read `version` before the data (as [`write_version`]): a write that commits in
    /// between then makes the kept answer older than its version says, never newer, and the next call
    /// sees the new version and computes again.
    pub async fn get_or<T, F, Fut>(&self, key: String, version: i64, compute: F) -> Result<T, DbErr>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        if let Some(answer) = self.get(&key, version) {
            return Ok(answer);
        }
        let answer = compute().await?;
        self.put(key, version, answer.clone());
        Ok(answer)
    }

    /// The answer of `key` kept at write version `version`, if any.
    pub fn get<T: Clone + 'static>(&self, key: &str, version: i64) -> Option<T> {
        match self.lock().get(key) {
            Some((at, answer)) if *at == version => answer.downcast_ref::<T>().cloned(),
            _ => None,
        }
    }

    /// Keeps `answer` as the answer of `key` at write version `version` (read as [`Memo::get_or`] says).
    pub fn put<T: Send + Sync + 'static>(&self, key: String, version: i64, answer: T) {
        let mut answers = self.lock();
        if answers.len() >= CAPACITY {
            answers.clear();
        }
        answers.insert(key, (version, Arc::new(answer)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_kept_until_the_version_moves() {
        let memo = Memo::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let count = |n: i64| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok::<_, DbErr>(n) }
        };
        assert_eq!(memo.get_or("k".into(), 1, || count(10)).await, Ok(10));
        assert_eq!(memo.get_or("k".into(), 1, || count(11)).await, Ok(10));
        assert_eq!(memo.get_or("k".into(), 2, || count(12)).await, Ok(12));
        assert_eq!(memo.get_or("other".into(), 2, || count(13)).await, Ok(13));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
