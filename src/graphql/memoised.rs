//! Answers that hold until the next write (counts, groups, status summaries), served through the store's
//! [`Memo`] at the write version of the request.

use std::future::Future;

use async_graphql::Context;
use sea_orm::{DatabaseConnection, DbErr};

use crate::store::memo::{Memo, write_version};

/// The write version a request's memoised answers are read at: read once, when the request first asks,
/// however many of its fields ask at the same time.
#[derive(Debug, Clone, Default)]
pub struct RequestVersion(std::sync::Arc<tokio::sync::OnceCell<i64>>);

/// An answer that holds until the next write: memoised in `Memo` at the request's write version, or
/// computed by `compute`.
pub async fn memoised<T, F, Fut>(ctx: &Context<'_>, key: String, compute: F) -> Result<T, DbErr>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let Some(memo) = ctx.data_opt::<Memo>() else {
        return compute().await;
    };
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let version = match ctx.data_opt::<RequestVersion>() {
        Some(request) => *request.0.get_or_try_init(|| write_version(db)).await?,
        None => write_version(db).await?,
    };
    memo.get_or(key, version, compute).await
}
