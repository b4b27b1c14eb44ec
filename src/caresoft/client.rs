//! The HTTP side of the CareSoft client: one `reqwest::Client`, the request for one page of a list endpoint
//! (`/agents`, `/groups`), the retry loop (backoff from `backon`, `Retry-After`, fallback host) and paging
//! across `numFound`.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use tracing::{Instrument, field};
use url::Url;

use super::agent::{Agent, Group};
use super::config::ClientConfig;
use super::error::CareSoftError;
use super::retry::{Wait, choose_wait, parse_retry_after};
use super::wire::{Page, WireAgent, WireGroup, decode_page, error_excerpt};

/// CareSoft's largest page size on list endpoints.
const PAGE_SIZE: u64 = 500;

/// CareSoft's documented penalty after more than 20 consecutive 429s (announced as a 404).
const RATE_LIMIT_PENALTY: Duration = Duration::from_secs(15 * 60);

/// Error bodies are only read for an excerpt, so a huge error page is cut here instead of failing as too large.
const ERROR_BODY_CAP: usize = 64 * 1024;

const USER_AGENT: &str = concat!("caresoft-bridge/", env!("CARGO_PKG_VERSION"));

/// A list endpoint of CareSoft's API, all read the same way: `{"code":"ok","<name>":[...]}`, paged with
/// `page`/`count` when the answer reports `numFound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Agents,
    Groups,
}

impl List {
    /// The last path segment, which is also the key of the list in the answer.
    fn name(self) -> &'static str {
        match self {
            Self::Agents => "agents",
            Self::Groups => "groups",
        }
    }
}

/// Where one list is read: on the primary host, and on the fallback host when one is configured.
struct Endpoint {
    primary: Url,
    fallback: Option<Url>,
}

/// The CareSoft REST client. Cheap to share behind an `Arc`; owns one connection pool.
pub struct CareSoftClient {
    http: reqwest::Client,
    agents: Endpoint,
    groups: Endpoint,
    /// Built once and marked sensitive, so neither `Debug` nor reqwest's logs print it.
    authorization: HeaderValue,
    backoff: ExponentialBuilder,
    config: ClientConfig,
}

impl fmt::Debug for CareSoftClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CareSoftClient")
            .field("primary", &self.agents.primary.as_str())
            .field("fallback", &self.agents.fallback.as_ref().map(Url::as_str))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CareSoftClient {
    /// Validates the config and builds the HTTP client (connect timeout, user agent `caresoft-bridge/<version>`).
    pub fn new(config: ClientConfig) -> Result<Self, CareSoftError> {
        let domain = config.domain.trim();
        if domain.is_empty() {
            return Err(invalid("CARESOFT_DOMAIN is empty"));
        }
        if domain.contains(['/', '?', '#', '\\']) || domain.contains(char::is_whitespace) {
            return Err(invalid(format!(
                "CARESOFT_DOMAIN {domain:?} must be a single path segment"
            )));
        }
        let token = config.token.expose_secret().trim();
        if token.is_empty() {
            return Err(invalid("CARESOFT_API_TOKEN is empty"));
        }
        if config.max_attempts == 0 {
            return Err(invalid("max_attempts must be at least 1"));
        }
        if config.request_timeout.is_zero() {
            return Err(invalid("request_timeout must be positive"));
        }
        if config.max_body_bytes == 0 {
            return Err(invalid("max_body_bytes must be positive"));
        }

        let fallback_url = config
            .fallback_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty());
        let endpoint = |list: List| -> Result<Endpoint, CareSoftError> {
            Ok(Endpoint {
                primary: list_endpoint("CARESOFT_BASE_URL", &config.base_url, domain, list)?,
                fallback: fallback_url
                    .map(|url| list_endpoint("CARESOFT_FALLBACK_URL", url, domain, list))
                    .transpose()?,
            })
        };
        let agents = endpoint(List::Agents)?;
        let groups = endpoint(List::Groups)?;

        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                invalid("CARESOFT_API_TOKEN contains characters not allowed in an HTTP header")
            })?;
        authorization.set_sensitive(true);

        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| invalid(format!("the HTTP client could not be built: {e}")))?;

        // One delay per retry: `max_attempts - 1` of them.
        let backoff = ExponentialBuilder::default()
            .with_min_delay(config.initial_backoff)
            .with_max_delay(config.max_backoff)
            .with_jitter()
            .with_max_times(config.max_attempts.saturating_sub(1) as usize);

        Ok(Self {
            http,
            agents,
            groups,
            authorization,
            backoff,
            config,
        })
    }

    /// The whole agent list, validated: every agent has an id and no id appears twice.
    #[tracing::instrument(
        name = "caresoft.fetch_agents",
        skip(self),
        fields(domain = %self.config.domain, pages = field::Empty, agents = field::Empty, attempts = field::Empty)
    )]
    pub async fn fetch_agents(&self) -> Result<Vec<Agent>, CareSoftError> {
        let wire: Vec<WireAgent> = self.fetch_list(List::Agents).await?;
        let mut seen = HashSet::with_capacity(wire.len());
        let mut agents = Vec::with_capacity(wire.len());
        for (index, item) in wire.into_iter().enumerate() {
            let agent = item.into_agent(index, self.config.timezone)?;
            if !seen.insert(agent.id) {
                return Err(CareSoftError::DuplicateAgentId { id: agent.id });
            }
            agents.push(agent);
        }
        tracing::Span::current().record("agents", agents.len());
        Ok(agents)
    }

    /// The whole group list (`GET /{domain}/api/v1/groups`), validated: every group has an id and no id
    /// appears twice.
    #[tracing::instrument(
        name = "caresoft.fetch_groups",
        skip(self),
        fields(domain = %self.config.domain, pages = field::Empty, groups = field::Empty, attempts = field::Empty)
    )]
    pub async fn fetch_groups(&self) -> Result<Vec<Group>, CareSoftError> {
        let wire: Vec<WireGroup> = self.fetch_list(List::Groups).await?;
        let mut seen = HashSet::with_capacity(wire.len());
        let mut groups = Vec::with_capacity(wire.len());
        for (index, item) in wire.into_iter().enumerate() {
            let group = item.into_group(index, self.config.timezone)?;
            if !seen.insert(group.id) {
                return Err(CareSoftError::DuplicateGroupId { id: group.id });
            }
            groups.push(group);
        }
        tracing::Span::current().record("groups", groups.len());
        Ok(groups)
    }

    /// Every page of `list`, recording pages and attempts on the caller's span.
    async fn fetch_list<T: DeserializeOwned>(&self, list: List) -> Result<Vec<T>, CareSoftError> {
        let mut progress = Progress::default();
        let result = self.fetch_all_pages(list, &mut progress).await;
        let span = tracing::Span::current();
        span.record("pages", progress.pages);
        span.record("attempts", progress.attempts);
        if let Ok(items) = &result {
            tracing::debug!(
                list = list.name(),
                pages = progress.pages,
                items = items.len(),
                attempts = progress.attempts,
                "fetched a CareSoft list"
            );
        }
        result
    }

    async fn fetch_all_pages<T: DeserializeOwned>(
        &self,
        list: List,
        progress: &mut Progress,
    ) -> Result<Vec<T>, CareSoftError> {
        let mut items: Vec<T> = Vec::new();
        // (numFound, page guard), from the first page: later pages cannot move the goalposts.
        let mut expected: Option<(u64, u64)> = None;
        let mut page: u32 = 1;
        loop {
            progress.pages = page;
            let body: Page<T> = self.fetch_page(list, page, progress).await?;
            let received = body.items.len();
            items.extend(body.items);
            if page == 1 {
                expected = body.num_found.map(|n| (n, n.div_ceil(PAGE_SIZE) + 1));
            }
            // No numFound: the list answered in one go, as `/agents` does for every tenant seen so far.
            let Some((num_found, max_pages)) = expected else {
                break;
            };
            if items.len() as u64 >= num_found {
                break;
            }
            // An empty page before numFound, or too many pages: either way the list is incomplete (with
            // page/count paging a seat removed mid-way shifts later agents onto pages already read), and a
            // partial list would make the sync remove agents that still exist. The next sync starts afresh.
            if received == 0 || u64::from(page) >= max_pages {
                return Err(CareSoftError::IncompletePaging {
                    list: list.name(),
                    received: items.len(),
                    num_found,
                    pages: page,
                });
            }
            page += 1;
        }
        Ok(items)
    }

    /// One page, with retries of rate limits, 5xx, timeouts and connection errors.
    async fn fetch_page<T: DeserializeOwned>(
        &self,
        list: List,
        page: u32,
        progress: &mut Progress,
    ) -> Result<Page<T>, CareSoftError> {
        let endpoint = match list {
            List::Agents => &self.agents,
            List::Groups => &self.groups,
        };
        let mut delays = (&self.backoff).build();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            progress.attempts += 1;
            let url = match (&endpoint.fallback, progress.on_fallback) {
                (Some(fallback), true) => fallback,
                _ => &endpoint.primary,
            };
            let span = tracing::debug_span!(
                "caresoft.request",
                list = list.name(),
                page,
                attempt,
                host = url.host_str().unwrap_or("")
            );
            let result = self.attempt(list, url, page).instrument(span).await;
            let outcome = match &result {
                Ok(_) => "ok",
                Err(AttemptError::Fatal(error)) => error.kind(),
                Err(AttemptError::Transient(failure)) => failure.kind(),
            };
            metrics::counter!(
                "caresoft_bridge_caresoft_requests_total",
                "outcome" => outcome,
                "list" => list.name()
            )
            .increment(1);
            let failure = match result {
                Ok(body) => return Ok(body),
                Err(AttemptError::Fatal(error)) => return Err(error),
                Err(AttemptError::Transient(failure)) => failure,
            };

            let Some(backoff) = delays.next() else {
                return Err(failure.into_error(attempt));
            };
            // backon's jitter adds up to one more delay on top; the cap is ours to keep.
            let backoff = backoff.min(self.config.max_backoff);
            let delay =
                match choose_wait(backoff, failure.retry_after(), self.config.max_retry_after) {
                    Wait::For(delay) => delay,
                    Wait::GiveUp => return Err(failure.into_error(attempt)),
                };
            if failure.moves_to_fallback() && endpoint.fallback.is_some() && !progress.on_fallback {
                progress.on_fallback = true;
                tracing::warn!(reason = %failure, "CareSoft primary host failing; using the fallback host from now on");
            }
            tracing::warn!(
                page,
                attempt,
                max_attempts = self.config.max_attempts,
                reason = %failure,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "CareSoft request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One request, bounded as a whole (headers and body) by `request_timeout`.
    async fn attempt<T: DeserializeOwned>(
        &self,
        list: List,
        url: &Url,
        page: u32,
    ) -> Result<Page<T>, AttemptError> {
        let request = self
            .http
            .get(url.clone())
            .query(&[("page", u64::from(page)), ("count", PAGE_SIZE)])
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json");
        match tokio::time::timeout(self.config.request_timeout, self.exchange(list, request)).await
        {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(AttemptError::Transient(Transient::Timeout)),
        }
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        list: List,
        request: RequestBuilder,
    ) -> Result<Page<T>, AttemptError> {
        let response = request.send().await.map_err(transport_failure)?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(AttemptError::Fatal(CareSoftError::Unauthorized {
                status: status.as_u16(),
            }));
        }
        let token = self.config.token.expose_secret();

        if status.is_success() {
            let limit = self.config.max_body_bytes;
            // Refuse before reading a byte when the server says up front it is too big.
            if response
                .content_length()
                .is_some_and(|len| len > limit as u64)
            {
                return Err(AttemptError::Fatal(CareSoftError::BodyTooLarge { limit }));
            }
            let body = read_body(response, limit, Overflow::Fail).await?;
            return decode_page(status.as_u16(), &body, token, list.name())
                .map_err(AttemptError::Fatal);
        }

        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let body = read_body(
            response,
            ERROR_BODY_CAP.min(self.config.max_body_bytes),
            Overflow::Truncate,
        )
        .await?;
        let excerpt = error_excerpt(&body, token);
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => {
                AttemptError::Transient(Transient::RateLimited { retry_after })
            }
            s if s.is_server_error() => AttemptError::Transient(Transient::Server {
                status: s.as_u16(),
                excerpt,
            }),
            // After more than 20 consecutive 429s CareSoft answers 404 "retry after 15 minutes".
            StatusCode::NOT_FOUND if contains_ignore_ascii_case(&body, b"retry after") => {
                AttemptError::Transient(Transient::RateLimited {
                    retry_after: Some(
                        retry_after
                            .unwrap_or(RATE_LIMIT_PENALTY)
                            .max(RATE_LIMIT_PENALTY),
                    ),
                })
            }
            s => AttemptError::Fatal(CareSoftError::Http {
                status: s.as_u16(),
                excerpt,
            }),
        })
    }
}

/// Counters of one list fetch, recorded on its span.
#[derive(Debug, Default)]
struct Progress {
    pages: u32,
    attempts: u32,
    /// Once the primary fails with 5xx or a connection error, stay on the fallback for the rest of the call.
    on_fallback: bool,
}

enum AttemptError {
    /// Retrying cannot help (or must not happen, as for 401).
    Fatal(CareSoftError),
    Transient(Transient),
}

/// A failure worth another attempt.
enum Transient {
    RateLimited { retry_after: Option<Duration> },
    Server { status: u16, excerpt: String },
    Timeout,
    Connect { detail: String },
}

impl Transient {
    /// The same labels as [`CareSoftError::kind`], for metrics.
    fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } => "server",
            Self::Timeout => "timeout",
            Self::Connect { .. } => "connect",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    fn moves_to_fallback(&self) -> bool {
        matches!(self, Self::Server { .. } | Self::Connect { .. })
    }

    fn into_error(self, attempts: u32) -> CareSoftError {
        match self {
            Self::RateLimited { retry_after } => CareSoftError::RateLimited {
                attempts,
                retry_after,
            },
            Self::Server { status, excerpt } => CareSoftError::Server {
                status,
                excerpt,
                attempts,
            },
            Self::Timeout => CareSoftError::Timeout { attempts },
            Self::Connect { detail } => CareSoftError::Connect { detail, attempts },
        }
    }
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RateLimited {
                retry_after: Some(d),
            } => write!(f, "rate limited (retry after {}s)", d.as_secs()),
            Self::RateLimited { retry_after: None } => f.write_str("rate limited"),
            Self::Server { status, excerpt } => write!(f, "HTTP {status}: {excerpt}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Connect { detail } => write!(f, "connection failed: {detail}"),
        }
    }
}

#[derive(Clone, Copy)]
enum Overflow {
    /// A success body over the limit is an error.
    Fail,
    /// An error body is only excerpted: keep its start.
    Truncate,
}

/// Streams a body, counting bytes, so a server that lies about (or omits) Content-Length cannot exhaust memory.
async fn read_body(
    response: Response,
    cap: usize,
    overflow: Overflow,
) -> Result<Vec<u8>, AttemptError> {
    let announced = response.content_length().unwrap_or(0).min(cap as u64);
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport_failure)?;
        if body.len() + chunk.len() > cap {
            match overflow {
                Overflow::Fail => {
                    return Err(AttemptError::Fatal(CareSoftError::BodyTooLarge {
                        limit: cap,
                    }));
                }
                Overflow::Truncate => {
                    let room = cap - body.len();
                    body.extend_from_slice(&chunk[..room]);
                    break;
                }
            }
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_failure(error: reqwest::Error) -> AttemptError {
    // A connect timeout is still a connection failure: it should move us to the fallback host.
    if error.is_timeout() && !error.is_connect() {
        return AttemptError::Transient(Transient::Timeout);
    }
    AttemptError::Transient(Transient::Connect {
        detail: describe_transport_error(&error),
    })
}

/// An error with its causes: reqwest's top-level message is generic ("error sending request"); the cause
/// chain says what happened ("…: tcp connect error: Connection refused").
pub(crate) fn describe_transport_error(error: &dyn std::error::Error) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = cause.source();
    }
    detail
}

/// `{base}/{domain}/api/v1/{list}`, whatever the base's trailing slash or path prefix.
fn list_endpoint(
    variable: &str,
    base: &str,
    domain: &str,
    list: List,
) -> Result<Url, CareSoftError> {
    let base = base.trim();
    let mut url =
        Url::parse(base).map_err(|e| invalid(format!("{variable} {base:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "{variable} {base:?} must be an http(s) URL"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| invalid(format!("{variable} {base:?} cannot be a base URL")))?
        .pop_if_empty()
        .extend([domain, "api", "v1", list.name()]);
    Ok(url)
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

fn invalid(message: impl Into<String>) -> CareSoftError {
    CareSoftError::InvalidConfig(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_built_with_or_without_a_trailing_slash() {
        for base in [
            "https://api.caresoft.vn",
            "https://api.caresoft.vn/",
            " https://api.caresoft.vn ",
        ] {
            let url =
                list_endpoint("CARESOFT_BASE_URL", base, "acme", List::Agents).expect("valid base");
            assert_eq!(url.as_str(), "https://api.caresoft.vn/acme/api/v1/agents");
        }
        let prefixed = list_endpoint(
            "CARESOFT_BASE_URL",
            "http://proxy.local/cs/",
            "acme",
            List::Groups,
        )
        .expect("valid base");
        assert_eq!(
            prefixed.as_str(),
            "http://proxy.local/cs/acme/api/v1/groups"
        );
    }

    #[test]
    fn a_non_http_base_is_refused() {
        assert!(list_endpoint("CARESOFT_BASE_URL", "ftp://x", "acme", List::Agents).is_err());
        assert!(list_endpoint("CARESOFT_BASE_URL", "not a url", "acme", List::Agents).is_err());
    }
}
