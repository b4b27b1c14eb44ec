//! Operations over the WebSocket endpoint (graphql-transport-ws). Clients such as Apollo and urql send
//! every operation there, queries and mutations included, when all of them use the WebSocket link; each
//! must then be resolved exactly as over HTTP: with the connection's role and a fresh set of loaders.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, Executor, Request, Response};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sea_orm::DatabaseConnection;

use super::{AppSchema, per_operation};
use crate::http::graphql_http::label_request_errors;

/// The schema as a WebSocket connection runs it: the connection's data (its role) comes from
/// `connection_init`; a query or mutation gets its own loaders per operation, as an HTTP request does. A
/// subscription gets none: its events are resolved with fresh loaders each (see `loaders::load_one`),
/// since loaders kept for a whole subscription would serve values as they were at its first event.
#[derive(Clone)]
pub struct WsExecutor {
    schema: AppSchema,
    db: DatabaseConnection,
}

impl std::fmt::Debug for WsExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsExecutor").finish_non_exhaustive()
    }
}

impl WsExecutor {
    /// Runs `schema`, with loaders reading `db`.
    pub fn new(schema: AppSchema, db: DatabaseConnection) -> Self {
        Self { schema, db }
    }

    fn prepare(&self, mut request: Request) -> Request {
        if !is_subscription(&mut request) {
            request = per_operation(request, &self.db);
        }
        request
    }
}

/// Whether the operation `request` selects is a subscription. A document that does not parse, or names
/// no operation it holds, is left to the schema, which answers it with the error HTTP gives.
fn is_subscription(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let kind = match &document.operations {
        DocumentOperations::Single(operation) => Some(operation.node.ty),
        DocumentOperations::Multiple(operations) => match name.as_deref() {
            Some(name) => operations.get(name).map(|operation| operation.node.ty),
            None if operations.len() == 1 => operations.values().next().map(|op| op.node.ty),
            None => None,
        },
    };
    kind == Some(OperationType::Subscription)
}

impl Executor for WsExecutor {
    async fn execute(&self, request: Request) -> Response {
        label_request_errors(self.schema.execute(self.prepare(request)).await)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.schema
            .execute_stream_with_session_data(
                self.prepare(request),
                session_data.unwrap_or_default(),
            )
            .map(label_request_errors)
            .boxed()
    }
}
