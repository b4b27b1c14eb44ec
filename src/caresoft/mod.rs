//! The CareSoft REST client: it owns everything about talking to CareSoft's `GET /{domain}/api/v1/agents`
//! (authentication, retries with backoff, `Retry-After`, the fallback host, paging, body limits) and about
//! reading its answers tolerantly into validated [`Agent`]s. The sync is written against [`AgentDirectory`],
//! so it can be tested without HTTP.
//!
//! Layout: `config` (settings), `client` (HTTP and retries), `retry` (wait choice), `wire` (payload
//! decoding), `agent` (the app's agent and status types), `error` (the boundary error).

mod agent;
mod client;
mod config;
mod error;
mod retry;
mod wire;

use std::future::Future;
use std::sync::Arc;

pub use agent::{Agent, ChannelStatus};
pub use client::CareSoftClient;
pub use config::{ClientConfig, DEFAULT_BASE_URL};
pub use error::CareSoftError;

/// The seam the sync is written against: the source of the agent list.
pub trait AgentDirectory: Send + Sync {
    /// The whole, validated agent list.
    fn fetch_agents(&self) -> impl Future<Output = Result<Vec<Agent>, CareSoftError>> + Send;
}

impl AgentDirectory for CareSoftClient {
    fn fetch_agents(&self) -> impl Future<Output = Result<Vec<Agent>, CareSoftError>> + Send {
        CareSoftClient::fetch_agents(self)
    }
}

/// The app shares one client between the scheduler and on-demand syncs.
impl<T: AgentDirectory> AgentDirectory for Arc<T> {
    fn fetch_agents(&self) -> impl Future<Output = Result<Vec<Agent>, CareSoftError>> + Send {
        T::fetch_agents(self)
    }
}
