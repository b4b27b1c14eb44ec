//! The CareSoft REST client: it owns everything about talking to CareSoft's `GET /{domain}/api/v1/agents`
//! and `/groups` (authentication, retries with backoff, `Retry-After`, the fallback host, paging, body limits) and about
//! reading its answers tolerantly into validated [`Agent`]s. The sync is written against [`AgentDirectory`],
//! so it can be tested without HTTP.
//!
//! Layout: `config` (settings), `client` (HTTP and retries), `retry` (wait choice), `wire` (payload
//! decoding), `agent` (the app's agent), `error` (the boundary error).

mod agent;
mod client;
mod config;
mod error;
mod retry;
mod wire;

use futures_util::future::BoxFuture;

pub use agent::{Agent, Group};
pub use client::CareSoftClient;
pub(crate) use client::describe_transport_error;
pub use config::{ClientConfig, DEFAULT_BASE_URL};
pub use error::CareSoftError;

/// The seam the sync is written against: the source of one domain's agent and group lists. Object-safe,
/// so a syncer holds the real client or, in tests where real HTTP adds nothing, in-process lists.
pub trait AgentDirectory: Send + Sync + std::fmt::Debug {
    /// The whole, validated agent list.
    fn fetch_agents(&self) -> BoxFuture<'_, Result<Vec<Agent>, CareSoftError>>;
    /// The whole, validated group list.
    fn fetch_groups(&self) -> BoxFuture<'_, Result<Vec<Group>, CareSoftError>>;
}

impl AgentDirectory for CareSoftClient {
    fn fetch_agents(&self) -> BoxFuture<'_, Result<Vec<Agent>, CareSoftError>> {
        Box::pin(CareSoftClient::fetch_agents(self))
    }

    fn fetch_groups(&self) -> BoxFuture<'_, Result<Vec<Group>, CareSoftError>> {
        Box::pin(CareSoftClient::fetch_groups(self))
    }
}
