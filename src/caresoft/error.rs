//! The error boundary of the CareSoft client: one typed enum whose `Display` is a single line an operator
//! can act on. No variant ever carries the API token (excerpts of bodies are redacted before they get here).

use std::time::Duration;

/// Everything that can go wrong while talking to CareSoft or validating its answer.
#[derive(Debug, thiserror::Error)]
pub enum CareSoftError {
    /// HTTP 401/403: the credentials are wrong; retrying cannot help.
    #[error(
        "CareSoft refused access (HTTP {status}): the API token (CARESOFT_API_TOKEN) or the CareSoft domain \
         (CARESOFT_DOMAIN) is wrong"
    )]
    Unauthorized {
        /// The HTTP status CareSoft answered with.
        status: u16,
    },

    /// CareSoft's rate limit (HTTP 429, or its 404 "retry after 15 minutes" after too many 429s).
    #[error(
        "CareSoft rate limit reached after {attempts} attempt(s){}; wait before syncing again \
         (limit: 15 requests/s, 54,000/hour)",
        describe_retry_after(*.retry_after)
    )]
    RateLimited {
        /// Requests sent for the page that hit the limit.
        attempts: u32,
        /// How long CareSoft asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// HTTP 5xx on every attempt.
    #[error("CareSoft server error HTTP {status} after {attempts} attempt(s): {excerpt}")]
    Server {
        /// The status of the last attempt.
        status: u16,
        /// The start of the last body (or CareSoft's `message`), whitespace collapsed.
        excerpt: String,
        /// Requests sent for the failing page.
        attempts: u32,
    },

    /// Any other non-2xx status (not retried).
    #[error("CareSoft answered HTTP {status}{}: {excerpt}", http_hint(*.status))]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body (or CareSoft's `message`), whitespace collapsed.
        excerpt: String,
    },

    /// HTTP 200 whose `code` is not `ok`.
    #[error("CareSoft API error: {message}")]
    Api {
        /// CareSoft's `message`, or the raw `code` when it sent no message.
        message: String,
    },

    /// The body is not the JSON we expect (HTML error page, truncated JSON, wrong shape).
    #[error(
        "CareSoft answer could not be decoded (HTTP {status}): {detail}; body starts: {excerpt}"
    )]
    Decode {
        /// The HTTP status of the answer.
        status: u16,
        /// What was wrong.
        detail: String,
        /// The first ~200 characters of the body, whitespace collapsed.
        excerpt: String,
    },

    /// The body is larger than `ClientConfig::max_body_bytes`.
    #[error(
        "CareSoft answer is larger than the {limit}-byte limit (raise max_body_bytes if the agent list is really this big)"
    )]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },

    /// No answer within `ClientConfig::request_timeout` on every attempt.
    #[error("CareSoft did not answer within the request timeout after {attempts} attempt(s)")]
    Timeout {
        /// Requests sent for the failing page.
        attempts: u32,
    },

    /// The connection could not be made or broke (DNS, refused, TLS, reset).
    #[error("could not reach CareSoft after {attempts} attempt(s): {detail}")]
    Connect {
        /// The transport error, with its causes.
        detail: String,
        /// Requests sent for the failing page.
        attempts: u32,
    },

    /// The same agent id appears twice in one answer (across pages too).
    #[error("CareSoft agent list is inconsistent: agent id {id} appears more than once")]
    DuplicateAgentId {
        /// The repeated id.
        id: i64,
    },

    /// An agent has no usable `id` (missing, null, or not a number).
    #[error("CareSoft agent at position {index} (0-based, across pages) has no usable id")]
    MissingAgentId {
        /// 0-based position in the combined list.
        index: usize,
    },

    /// The same group id appears twice in one `/groups` answer.
    #[error("CareSoft group list is inconsistent: group id {id} appears more than once")]
    DuplicateGroupId {
        /// The repeated id.
        id: i64,
    },

    /// A group has no usable `group_id` (missing, null, or not a number).
    #[error("CareSoft group at position {index} (0-based, across pages) has no usable group_id")]
    MissingGroupId {
        /// 0-based position in the combined list.
        index: usize,
    },

    /// Paging did not converge: CareSoft kept announcing more items than it delivered.
    #[error(
        "CareSoft paging did not converge: received {received} of {num_found} announced {list} in {pages} page(s); \
         refusing an incomplete list"
    )]
    IncompletePaging {
        /// `agents` or `groups`.
        list: &'static str,
        /// Items collected.
        received: usize,
        /// The `numFound` of the first page.
        num_found: u64,
        /// Pages requested.
        pages: u32,
    },

    /// The client configuration is unusable.
    #[error("invalid CareSoft configuration: {0}")]
    InvalidConfig(String),
}

impl CareSoftError {
    /// Whether a later attempt (e.g. the next scheduled sync) may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Connect { .. }
        )
    }

    /// A short stable label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "unauthorized",
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } => "server",
            Self::Http { .. } => "http",
            Self::Api { .. } => "api",
            Self::Decode { .. } => "decode",
            Self::BodyTooLarge { .. } => "too_large",
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "connect",
            // A list we refuse to mirror and a config we refuse to start with are both "invalid":
            // neither is fixed by retrying.
            Self::DuplicateAgentId { .. }
            | Self::MissingAgentId { .. }
            | Self::DuplicateGroupId { .. }
            | Self::MissingGroupId { .. }
            | Self::IncompletePaging { .. }
            | Self::InvalidConfig(_) => "invalid",
        }
    }
}

fn describe_retry_after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (CareSoft asked to retry after {}s)", d.as_secs()),
        None => String::new(),
    }
}

fn http_hint(status: u16) -> &'static str {
    match status {
        // CareSoft answers 404 for an unknown tenant: the most common cause is a wrong domain.
        404 => " (not found: check CARESOFT_DOMAIN and CARESOFT_BASE_URL)",
        _ => "",
    }
}
