//! The client's settings and their defaults. The token is a `SecretString`, so the derived `Debug` prints
//! `[REDACTED]` in its place.

use std::time::Duration;

use secrecy::SecretString;

/// CareSoft's default API host.
pub const DEFAULT_BASE_URL: &str = "https://api.caresoft.vn";

/// Settings of [`super::CareSoftClient`]; build with [`ClientConfig::new`] and adjust fields as needed.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://api.caresoft.vn` (a trailing slash or a path prefix is fine).
    pub base_url: String,
    /// Backup host used after a 5xx or connection error, e.g. `https://api2.caresoft.vn`.
    pub fallback_url: Option<String>,
    /// The tenant domain: the first path segment.
    pub domain: String,
    /// The API token, sent as `Authorization: Bearer ...`.
    pub token: SecretString,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Total time allowed for one attempt, body included.
    pub request_timeout: Duration,
    /// Attempts per page (not retries): 1 means no retry.
    pub max_attempts: u32,
    /// First backoff delay.
    pub initial_backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the fetch fails with `RateLimited`.
    pub max_retry_after: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// The zone of CareSoft's zone-less timestamps.
    pub timezone: chrono_tz::Tz,
}

impl ClientConfig {
    /// A config with the documented defaults for everything but the endpoint and credentials.
    pub fn new(
        base_url: impl Into<String>,
        domain: impl Into<String>,
        token: SecretString,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            fallback_url: None,
            domain: domain.into(),
            token,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            max_body_bytes: 64 * 1024 * 1024,
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
        }
    }
}
