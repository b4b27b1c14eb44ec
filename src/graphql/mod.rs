//! The GraphQL API: schema assembly, limits, and the per-request data (role, loaders).
//!
//! - [`types`]: public types and their mapping from storage.
//! - [`query`], [`mutation`], [`subscription`]: the roots.
//! - [`lists`]: paged, filtered lists as Relay connections over the store's pages.
//! - [`loaders`]: DataLoaders, one per relation.
//! - [`memoised`]: answers kept until the next write.
//! - [`auth`], [`errors`], [`pagination`]: roles, error codes, cursors.
//! - [`seats`], [`alerts`]: the seat report and the delivery log of alerts.
//! - [`ws`]: queries, mutations and subscriptions over the WebSocket endpoint.

pub mod alerts;
pub mod auth;
pub mod errors;
pub mod lists;
pub mod loaders;
pub mod memoised;
pub mod mutation;
pub mod pagination;
pub mod query;
pub mod seats;
pub mod subscription;
pub mod types;
pub mod ws;

use std::sync::Arc;

use async_graphql::Schema;
use sea_orm::DatabaseConnection;

use crate::alerts::Deliverer;
use crate::config::MaxRemoval;
use crate::events::EventBus;
use crate::hr::HrPuller;
use crate::seats::Money;
use crate::sync::Syncers;

/// The schema type served at `/graphql`.
pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Depth limit: above graphql-js's introspection query (depth 15), so IDEs load the schema.
pub const MAX_DEPTH: usize = 16;
/// Complexity limit: a 500-row page of agents with a dozen fields fits; list fields multiply by `first`.
pub const MAX_COMPLEXITY: usize = 10_000;

/// The monthly price of one seat, as schema data.
#[derive(Debug, Clone)]
pub struct SeatPrice(pub Option<Money>);

/// What the schema needs from the application.
#[derive(Debug, Clone)]
pub struct ApiDeps {
    pub db: DatabaseConnection,
    pub syncers: Arc<Syncers>,
    pub hr: Arc<HrPuller>,
    pub events: EventBus,
    pub max_removal: MaxRemoval,
    pub introspection: bool,
    /// Raises test alerts and plans their deliveries.
    pub alerts: Deliverer,
    /// The monthly price of one seat, for the seat report.
    pub seat_price: Option<Money>,
}

/// Builds the schema with its limits and shared data.
pub fn build_schema(deps: ApiDeps) -> AppSchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .data(deps.db)
        .data(deps.syncers)
        .data(deps.hr)
        .data(deps.events)
        .data(deps.max_removal)
        .data(deps.alerts)
        .data(SeatPrice(deps.seat_price))
        .data(crate::store::memo::Memo::default());
    if !deps.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema's SDL, without any data (for `caresoft-bridge schema` and the golden file).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .finish()
        .sdl()
}

/// Per-request data: the caller's role, a fresh set of loaders and the request's write version.
pub fn with_request_data(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    role: auth::Role,
) -> async_graphql::Request {
    per_operation(request.data(role), db)
}

/// What each operation gets of its own, over HTTP and over the WebSocket: loaders and the write version
/// its memoised answers are read at.
pub fn per_operation(
    request: async_graphql::Request,
    db: &DatabaseConnection,
) -> async_graphql::Request {
    request
        .data(loaders::loaders(db.clone()))
        .data(memoised::RequestVersion::default())
}
