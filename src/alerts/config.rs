//! `BRIDGE_ALERT_*`: where alerts go, how they are signed, which events are sent, and how hard to try.

use std::collections::HashSet;
use std::time::Duration;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use url::Url;

use super::AlertKind;
use crate::config::{ConfigError, parse_duration};

/// The body a webhook takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Slack incoming webhooks: `{"text": …}` in Slack's markup.
    Slack,
    /// Microsoft Teams workflow webhooks: an Adaptive Card in a message.
    Teams,
    /// Google Chat incoming webhooks: `{"text": …}`.
    GoogleChat,
    /// Anyone else: the JSON event itself.
    Json,
}

impl Shape {
    /// The shape a webhook's host calls for.
    pub fn for_host(host: &str) -> Shape {
        let host = host.to_ascii_lowercase();
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if under("hooks.slack.com") {
            Shape::Slack
        } else if under("chat.googleapis.com") {
            Shape::GoogleChat
        } else if under("logic.azure.com")
            || under("webhook.office.com")
            || under("powerplatform.com")
            || under("powerautomate.com")
        {
            Shape::Teams
        } else {
            Shape::Json
        }
    }

    /// The prefix that forces this shape in `BRIDGE_ALERT_WEBHOOKS` (for relays and proxies whose host says
    /// nothing), e.g. `slack:https://relay.internal/hook`.
    fn prefix(self) -> &'static str {
        match self {
            Shape::Slack => "slack",
            Shape::Teams => "teams",
            Shape::GoogleChat => "google-chat",
            Shape::Json => "json",
        }
    }
}

/// One webhook. Its URL is a secret (Slack's and Teams' carry their credential in the path): it is only
/// ever posted to, never printed or stored; people see its host, the database its digest.
#[derive(Clone)]
pub struct Webhook {
    url: Url,
    /// The webhook's host (and port when not the scheme's default).
    pub host: String,
    /// The first 16 hex digits of the URL's SHA-256: the delivery's target key.
    pub key: String,
    pub shape: Shape,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("host", &self.host)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Reads one entry of `BRIDGE_ALERT_WEBHOOKS`: a URL, optionally after a shape prefix.
    pub fn parse(entry: &str) -> Result<Webhook, String> {
        let mut forced = None;
        let mut text = entry.trim();
        for shape in [Shape::Slack, Shape::Teams, Shape::GoogleChat, Shape::Json] {
            if let Some(rest) = text
                .strip_prefix(shape.prefix())
                .and_then(|r| r.strip_prefix(':'))
                .filter(|r| r.starts_with("http"))
            {
                forced = Some(shape);
                text = rest;
            }
        }
        // The error names the entry by its host only: the rest may be a credential.
        let url = Url::parse(text).map_err(|err| format!("an entry is not a URL ({err})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "a webhook on {} uses {}: expected http or https",
                url.host_str().unwrap_or("?"),
                url.scheme()
            ));
        }
        let Some(host) = url.host_str() else {
            return Err("an entry has no host".into());
        };
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let digest = Sha256::digest(url.as_str().as_bytes());
        let key = hex::encode(&digest[..8]);
        let shape = forced.unwrap_or_else(|| Shape::for_host(url.host_str().unwrap_or("")));
        Ok(Webhook {
            url,
            host,
            key,
            shape,
        })
    }

    /// Where to post.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// Which events are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    All,
    Only(HashSet<AlertKind>),
}

impl EventFilter {
    /// Whether events of `kind` are sent (test alerts always are).
    pub fn wants(&self, kind: AlertKind) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(kinds) => kind == AlertKind::Test || kinds.contains(&kind),
        }
    }
}

/// Every alert setting.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub webhooks: Vec<Webhook>,
    /// Signs every body (`X-Bridge-Signature: sha256=<HMAC-SHA256 hex>`).
    pub secret: Option<SecretString>,
    pub events: EventFilter,
    /// Longest one POST may take.
    pub timeout: Duration,
    /// Attempts per delivery before it is given up as FAILED.
    pub max_attempts: u32,
    /// Backoff between attempts: from `retry_min`, doubling with jitter, capped at `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            secret: None,
            events: EventFilter::All,
            timeout: Duration::from_secs(10),
            max_attempts: 16,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(3600),
        }
    }
}

impl AlertSettings {
    /// Reads `BRIDGE_ALERT_WEBHOOKS`, `BRIDGE_ALERT_SECRET`, `BRIDGE_ALERT_EVENTS`, `BRIDGE_ALERT_TIMEOUT`
    /// and `BRIDGE_ALERT_MAX_ATTEMPTS` through `get` (values trimmed, empty as absent).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut settings = AlertSettings::default();
        if let Some(list) = get("BRIDGE_ALERT_WEBHOOKS") {
            let mut keys = HashSet::new();
            for (n, entry) in list.split(',').map(str::trim).enumerate() {
                if entry.is_empty() {
                    continue;
                }
                let webhook = Webhook::parse(entry).map_err(|reason| ConfigError::Invalid {
                    name: "BRIDGE_ALERT_WEBHOOKS",
                    value: format!("entry {}", n + 1),
                    reason,
                })?;
                if !keys.insert(webhook.key.clone()) {
                    return Err(ConfigError::Invalid {
                        name: "BRIDGE_ALERT_WEBHOOKS",
                        value: format!("entry {}", n + 1),
                        reason: format!("the webhook on {} is listed twice", webhook.host),
                    });
                }
                settings.webhooks.push(webhook);
            }
        }
        settings.secret = get("BRIDGE_ALERT_SECRET").map(SecretString::from);
        if let Some(list) = get("BRIDGE_ALERT_EVENTS")
            && !list.eq_ignore_ascii_case("all")
        {
            let mut kinds = HashSet::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let kind = AlertKind::parse(name).ok_or_else(|| ConfigError::Invalid {
                    name: "BRIDGE_ALERT_EVENTS",
                    value: name.to_string(),
                    reason: format!(
                        "not an event type; expected all or some of {}",
                        AlertKind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?;
                kinds.insert(kind);
            }
            settings.events = EventFilter::Only(kinds);
        }
        if let Some(value) = get("BRIDGE_ALERT_TIMEOUT") {
            settings.timeout = parse_duration("BRIDGE_ALERT_TIMEOUT", &value)?
                .filter(|d| *d >= Duration::from_millis(100) && *d <= Duration::from_secs(120))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "BRIDGE_ALERT_TIMEOUT",
                    value,
                    reason: "expected 100ms to 2m".into(),
                })?;
        }
        if let Some(value) = get("BRIDGE_ALERT_MAX_ATTEMPTS") {
            settings.max_attempts = value
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "BRIDGE_ALERT_MAX_ATTEMPTS",
                    value,
                    reason: "expected 1 to 50".into(),
                })?;
        }
        Ok(settings)
    }

    /// How long a worker holds a delivery it is posting: longer than any attempt may take, so no other
    /// worker posts it meanwhile, short enough that a worker killed mid-post delays it little.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<AlertSettings, ConfigError> {
        AlertSettings::from_lookup(&|name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn webhooks_get_the_shape_of_their_host_or_of_their_prefix() {
        let s = settings(&[(
            "BRIDGE_ALERT_WEBHOOKS",
            "https://hooks.slack.com/services/T0/B0/secret, https://prod-12.westeurope.logic.azure.com/workflows/x, \
             https://chat.googleapis.com/v1/spaces/AAA/messages?key=k, https://alerts.acme.vn/in, slack:http://127.0.0.1:9/x",
        )])
        .expect("valid");
        let shapes: Vec<(String, Shape)> = s
            .webhooks
            .iter()
            .map(|w| (w.host.clone(), w.shape))
            .collect();
        assert_eq!(
            shapes,
            vec![
                ("hooks.slack.com".to_string(), Shape::Slack),
                (
                    "prod-12.westeurope.logic.azure.com".to_string(),
                    Shape::Teams
                ),
                ("chat.googleapis.com".to_string(), Shape::GoogleChat),
                ("alerts.acme.vn".to_string(), Shape::Json),
                ("127.0.0.1:9".to_string(), Shape::Slack),
            ]
        );
        assert!(
            !format!("{:?}", s.webhooks).contains("secret"),
            "URLs are never printed"
        );
    }

    #[test]
    fn bad_entries_are_named_without_their_secret() {
        let err = settings(&[(
            "BRIDGE_ALERT_WEBHOOKS",
            "https://a.vn/x,ftp://files.acme.vn/secret",
        )])
        .expect_err("ftp");
        let text = err.to_string();
        assert!(
            text.contains("entry 2") && text.contains("files.acme.vn"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        let err = settings(&[("BRIDGE_ALERT_WEBHOOKS", "https://a.vn/x, https://a.vn/x")])
            .expect_err("twice");
        assert!(err.to_string().contains("listed twice"), "{err}");
        let err = settings(&[("BRIDGE_ALERT_EVENTS", "sync.failed,seats.gone")]).expect_err("kind");
        assert!(err.to_string().contains("seats.gone"), "{err}");
    }

    #[test]
    fn the_event_filter_keeps_test_alerts() {
        let s = settings(&[("BRIDGE_ALERT_EVENTS", "sync.failed, mirror.stale")]).expect("valid");
        assert!(s.events.wants(AlertKind::SyncFailed));
        assert!(!s.events.wants(AlertKind::SeatsUnmatched));
        assert!(s.events.wants(AlertKind::Test));
        assert_eq!(settings(&[]).expect("defaults").events, EventFilter::All);
    }
}
