//! Answers that hold until the next write (counts, groups, status summaries), served through the store's
//! [`Memo`] at the write version of the request.

use std::borrow::Cow;
use std::future::Future;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    Context, ContextSelectionSet, OutputType, Positioned, SelectionField, ServerResult, Value,
};
use sea_orm::{DatabaseConnection, DbErr};

use super::errors::OrInternal;

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
    let version = request_version(ctx).await?;
    memo.get_or(key, version, compute).await
}

async fn request_version(ctx: &Context<'_>) -> Result<i64, DbErr> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    match ctx.data_opt::<RequestVersion>() {
        Some(request) => Ok(*request.0.get_or_try_init(|| write_version(db)).await?),
        None => write_version(db).await,
    }
}

/// A memoised answer whose GraphQL value is memoised too: resolving 80 groups of 12 counts each cost more
/// than everything else of a request that finds its answer memoised. The value is kept per selection
/// (fields, aliases, arguments and directives with their variables' values, fragments expanded), so a
/// request with any other selection resolves its own. Only for answers made of plain data, whose fields
/// read nothing but the answer.
#[derive(Debug)]
pub struct Resolved<T> {
    answer: T,
    /// The memo's key of the value, `None` without a memo.
    key: Option<(String, i64)>,
}

/// [`memoised`], with the answer's resolved value memoised per selection of the field under `ctx`.
pub async fn memoised_resolved<T, F, Fut>(
    ctx: &Context<'_>,
    key: String,
    compute: F,
) -> async_graphql::Result<Resolved<T>>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let Some(memo) = ctx.data_opt::<Memo>() else {
        let answer = compute().await.or_internal()?;
        return Ok(Resolved { answer, key: None });
    };
    // One version for the answer and its value: a write committing in between must not label a value
    // of the older answer with the newer version.
    let version = request_version(ctx).await.or_internal()?;
    let mut selection = format!("{key} resolved ");
    for field in ctx.field().selection_set() {
        render(field, &mut selection)?;
    }
    let answer = memo.get_or(key, version, compute).await.or_internal()?;
    Ok(Resolved {
        answer,
        key: Some((selection, version)),
    })
}

/// Writes `field` and its selection, with everything its value depends on, into `out`.
fn render(field: SelectionField<'_>, out: &mut String) -> async_graphql::Result<()> {
    use std::fmt::Write as _;
    if let Some(alias) = field.alias() {
        let _ = write!(out, "{alias}:");
    }
    out.push_str(field.name());
    for (name, value) in field.arguments()? {
        let _ = write!(out, "({name}:{value})");
    }
    for directive in field.directives()? {
        let _ = write!(out, "@{}", directive.name.node);
        for (name, value) in &directive.arguments {
            let _ = write!(out, "({}:{})", name.node, value.node);
        }
    }
    out.push('{');
    for sub in field.selection_set() {
        render(sub, out)?;
    }
    out.push_str("} ");
    Ok(())
}

impl<T: OutputType> OutputType for Resolved<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.answer.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let (Some(memo), Some((key, version))) = (ctx.data_opt::<Memo>(), &self.key) else {
            return self.answer.resolve(ctx, field).await;
        };
        if let Some(value) = memo.get::<Value>(key, *version) {
            return Ok(value);
        }
        let value = self.answer.resolve(ctx, field).await?;
        memo.put(key.clone(), *version, value.clone());
        Ok(value)
    }
}
