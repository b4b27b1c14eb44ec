//! Typed settings, read once from the environment (and `.env`), validated at start-up.
//!
//! Every variable is documented in `.env.example`. Errors name the variable and say what to set, so an
//! operator can fix a deployment from the message alone. Secrets live in `secrecy` types and never reach
//! `Debug` output or logs.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};

use crate::alerts::AlertSettings;
use crate::caresoft::ClientConfig;
use crate::hr::source::{DatabaseSource, HrSource, SettingError};
use crate::seats::Money;

/// Where `DATABASE_URL` points when it is not set: an embedded SQLite file beside the process.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://caresoft-bridge.db?mode=rwc";
/// CareSoft's public API host.
pub const DEFAULT_CARESOFT_BASE_URL: &str = "https://api.caresoft.vn";

/// A configuration problem, phrased as what to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable the command needs is absent.
    #[error("{name} is not set: {needed_for} needs it")]
    Missing {
        name: &'static str,
        needed_for: &'static str,
    },
    /// A variable is present but unusable.
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// The combination of settings is unsafe.
    #[error("{0}")]
    Unsafe(String),
    /// None of the alternatives a command needs is set.
    #[error("{names} is set: {needed_for} needs one")]
    MissingOneOf {
        /// The alternatives, phrased "neither A nor B".
        names: &'static str,
        needed_for: &'static str,
    },
}

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The most a single sync (or `--replace` import) may remove before it is refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxRemoval(f64);

impl MaxRemoval {
    /// The share as a fraction in `0.0..=1.0`.
    pub fn fraction(self) -> f64 {
        self.0
    }

    /// True when removing `removing` of `current` rows exceeds the share, or would empty a non-empty set.
    pub fn is_exceeded(self, removing: usize, current: usize) -> bool {
        if current == 0 || removing == 0 {
            return false;
        }
        removing >= current || (removing as f64) > self.0 * current as f64
    }

    /// Parses `20%` or `20` (both twenty percent).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let number = raw.trim().trim_end_matches('%').trim();
        let percent: f64 = number
            .parse()
            .map_err(|_| "expected a percentage such as 20%".to_string())?;
        if !(0.0..=100.0).contains(&percent) {
            return Err("must be between 0% and 100%".into());
        }
        Ok(Self(percent / 100.0))
    }
}

impl Default for MaxRemoval {
    fn default() -> Self {
        Self(0.20)
    }
}

impl std::fmt::Display for MaxRemoval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", (self.0 * 100.0 * 100.0).round() / 100.0)
    }
}

/// One CareSoft domain of `CARESOFT_DOMAINS` (or the one of `CARESOFT_DOMAIN`).
#[derive(Debug, Clone)]
pub struct DomainSettings {
    /// The tenant name, as in CareSoft's URLs.
    pub name: String,
    pub token: SecretString,
    /// `CARESOFT_BASE_URL_<NAME>`, when this domain is served from a host of its own.
    pub base_url: Option<String>,
}

/// CareSoft connection settings. Domains and tokens are optional here because only `sync` and the
/// scheduler need them; [`CareSoftSettings::client_configs`] insists.
#[derive(Debug, Clone)]
pub struct CareSoftSettings {
    pub base_url: String,
    pub fallback_url: Option<String>,
    /// `CARESOFT_DOMAIN`, the single-domain form.
    pub domain: Option<String>,
    /// `CARESOFT_API_TOKEN`, the single-domain form.
    pub token: Option<SecretString>,
    /// `CARESOFT_DOMAINS`, the several-domain form (never set together with the single form).
    pub domains: Vec<DomainSettings>,
    /// `CARESOFT_BASE_URL_<NAME>` of the single-domain form.
    pub domain_base_url: Option<String>,
    pub timezone: Tz,
    pub max_attempts: u32,
    pub request_timeout: Duration,
}

impl CareSoftSettings {
    /// The domains to sync, or an error naming the missing variable.
    pub fn configured_domains(
        &self,
        needed_for: &'static str,
    ) -> Result<Vec<DomainSettings>, ConfigError> {
        if !self.domains.is_empty() {
            return Ok(self.domains.clone());
        }
        let name = self.domain.clone().ok_or(ConfigError::MissingOneOf {
            names: "neither CARESOFT_DOMAINS nor CARESOFT_DOMAIN",
            needed_for,
        })?;
        let token = self.token.clone().ok_or(ConfigError::Missing {
            name: "CARESOFT_API_TOKEN",
            needed_for,
        })?;
        Ok(vec![DomainSettings {
            name,
            token,
            base_url: self.domain_base_url.clone(),
        }])
    }

    /// The client configuration of every domain, or an error naming the missing variable.
    pub fn client_configs(
        &self,
        needed_for: &'static str,
    ) -> Result<Vec<ClientConfig>, ConfigError> {
        Ok(self
            .configured_domains(needed_for)?
            .into_iter()
            .map(|domain| self.client_config_of(domain))
            .collect())
    }

    /// The client configuration of one domain. A domain on a host of its own gets no fallback host: its
    /// token is only ever sent to the host named for it.
    pub fn client_config_of(&self, domain: DomainSettings) -> ClientConfig {
        let own_host = domain.base_url.is_some();
        let base_url = domain.base_url.unwrap_or_else(|| self.base_url.clone());
        let mut config = ClientConfig::new(base_url, domain.name, domain.token);
        config.fallback_url = match own_host {
            true => None,
            false => self.fallback_url.clone(),
        };
        config.timezone = self.timezone;
        config.max_attempts = self.max_attempts;
        config.request_timeout = self.request_timeout;
        config
    }

    /// Whether at least one domain has both its name and its token.
    pub fn is_configured(&self) -> bool {
        !self.domains.is_empty() || (self.domain.is_some() && self.token.is_some())
    }
}

/// The variable that overrides the base URL of `domain`: `CARESOFT_BASE_URL_` and the name in capitals,
/// every character but letters and digits as `_` (`acme-hn` → `CARESOFT_BASE_URL_ACME_HN`).
pub fn domain_base_url_variable(domain: &str) -> String {
    let suffix: String = domain
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect();
    format!("CARESOFT_BASE_URL_{suffix}")
}

/// Why a domain name cannot be used, if it cannot: it must be one path segment of CareSoft's URLs.
fn domain_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("the domain name is empty");
    }
    if name.contains(['/', '?', '#', '\\', ':', ',']) || name.contains(char::is_whitespace) {
        return Some(
            "expected the bare tenant name that appears in CareSoft URLs, without slashes, spaces or colons",
        );
    }
    None
}

/// Parses `CARESOFT_DOMAINS`: `name:token` entries separated by commas. Errors name the entry by its
/// position and domain, never its token.
pub fn parse_domain_list(raw: &str) -> Result<Vec<(String, SecretString)>, String> {
    let mut domains: Vec<(String, SecretString)> = Vec::new();
    for (index, entry) in raw.split(',').enumerate() {
        let position = index + 1;
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(format!(
                "entry {position} is empty (expected name:token entries separated by commas)"
            ));
        }
        // The entry may be a token on its own, or a token before its domain: it is never shown, and a
        // name is only shown once it is a valid one.
        let Some((name, token)) = entry.split_once(':') else {
            return Err(format!(
                "entry {position} has no ':' between the domain and its token"
            ));
        };
        let name = name.trim();
        if let Some(problem) = domain_name_problem(name) {
            return Err(format!("entry {position}: {problem}"));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(format!(
                "entry {position} (domain {name:?}) has an empty token"
            ));
        }
        if token.contains(char::is_whitespace) || token.contains(':') {
            return Err(format!(
                "entry {position} (domain {name:?}): its token contains a space or a ':' (entries are \
                 separated by commas)"
            ));
        }
        if let Some(first) = domains.iter().position(|(seen, _)| {
            !seen.eq_ignore_ascii_case(name)
                && domain_base_url_variable(seen) == domain_base_url_variable(name)
        }) {
            return Err(format!(
                "entry {position} (domain {name:?}) and entry {} (domain {:?}) would share {}: rename one",
                first + 1,
                domains[first].0,
                domain_base_url_variable(name)
            ));
        }
        if let Some(first) = domains
            .iter()
            .position(|(seen, _)| seen.eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "entry {position} repeats domain {name:?} of entry {} (each domain once)",
                first + 1
            ));
        }
        domains.push((name.to_string(), SecretString::from(token.to_string())));
    }
    Ok(domains)
}

/// Where the HR table is pulled from, and when (DESIGN.md part 2, "HR where it lives").
#[derive(Debug, Clone)]
pub struct HrSettings {
    /// `HR_DATABASE_URL` + `HR_QUERY`, or `HR_FILE`; `None` when neither is set (imports only).
    pub source: Option<HrSource>,
    /// `HR_SYNC_INTERVAL`: `1h` when a source is set, `None` when off (`0`).
    pub sync_interval: Option<Duration>,
    /// `HR_SYNC_AT`: a daily time of day in `CARESOFT_TIMEZONE`.
    pub sync_at: Option<NaiveTime>,
}

impl HrSettings {
    /// The source, or an error saying what to set.
    pub fn source(&self, needed_for: &'static str) -> Result<HrSource, ConfigError> {
        self.source.clone().ok_or(ConfigError::MissingOneOf {
            names: "neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE",
            needed_for,
        })
    }

    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let timeout = match get("HR_QUERY_TIMEOUT") {
            None => Duration::from_secs(60),
            Some(value) => parse_duration("HR_QUERY_TIMEOUT", &value)?
                .filter(|d| *d >= Duration::from_secs(1))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "HR_QUERY_TIMEOUT",
                    value,
                    reason: "must be at least 1s".into(),
                })?,
        };
        let source = match (get("HR_DATABASE_URL"), get("HR_QUERY"), get("HR_FILE")) {
            (None, None, None) => None,
            (Some(_), _, Some(_)) => {
                return Err(ConfigError::Unsafe(
                    "HR_DATABASE_URL and HR_FILE are both set: set one HR source".into(),
                ));
            }
            (None, Some(_), None) => {
                return Err(ConfigError::Missing {
                    name: "HR_DATABASE_URL",
                    needed_for: "HR_QUERY",
                });
            }
            (Some(_), None, _) => {
                return Err(ConfigError::Missing {
                    name: "HR_QUERY",
                    needed_for: "HR_DATABASE_URL",
                });
            }
            (Some(url), Some(query), None) => {
                let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
                // The URL is a secret: errors show its scheme only.
                let shown = format!("{scheme}://…");
                let source = DatabaseSource::new(SecretString::from(url), query.clone(), timeout)
                    .map_err(|err| match err {
                    SettingError::Url(reason) => ConfigError::Invalid {
                        name: "HR_DATABASE_URL",
                        value: shown,
                        reason,
                    },
                    SettingError::Query(reason) => ConfigError::Invalid {
                        name: "HR_QUERY",
                        value: query,
                        reason,
                    },
                })?;
                Some(HrSource::Database(source))
            }
            (None, query, Some(path)) => {
                if query.is_some() {
                    return Err(ConfigError::Unsafe(
                        "HR_QUERY is set with HR_FILE: a query needs HR_DATABASE_URL; unset one"
                            .into(),
                    ));
                }
                Some(HrSource::File(path.into()))
            }
        };
        let sync_interval = match get("HR_SYNC_INTERVAL") {
            None => Some(Duration::from_secs(3600)),
            Some(value) => match parse_duration("HR_SYNC_INTERVAL", &value)? {
                Some(d) if d < Duration::from_secs(1) => {
                    return Err(ConfigError::Invalid {
                        name: "HR_SYNC_INTERVAL",
                        value,
                        reason: "must be at least 1s (or 0 for off)".into(),
                    });
                }
                other => other,
            },
        };
        let sync_at = parse_time_of_day("HR_SYNC_AT", get("HR_SYNC_AT"))?;
        Ok(Self {
            source,
            sync_interval,
            sync_at,
        })
    }
}

/// Every setting of caresoft-bridge.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub caresoft: CareSoftSettings,
    pub listen: SocketAddr,
    /// `None` when scheduled sync is off (`BRIDGE_SYNC_INTERVAL=0`).
    pub sync_interval: Option<Duration>,
    /// Optional daily time of day, in `CARESOFT_TIMEZONE`.
    pub sync_at: Option<NaiveTime>,
    pub max_removal: MaxRemoval,
    pub hr: HrSettings,
    pub admin_tokens: Vec<SecretString>,
    pub read_tokens: Vec<SecretString>,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub introspection: bool,
    /// Where alerts go (`BRIDGE_ALERT_*`).
    pub alerts: AlertSettings,
    /// The monthly price of one seat (`BRIDGE_SEAT_PRICE`), for the seat report's costs.
    pub seat_price: Option<Money>,
}

impl Settings {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth a warning but not a refusal to start.
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            eprintln!("warning: .env could not be read: {err}");
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of mutating the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let timezone = match get("CARESOFT_TIMEZONE") {
            None => chrono_tz::Asia::Ho_Chi_Minh,
            Some(value) => value.parse::<Tz>().map_err(|_| ConfigError::Invalid {
                name: "CARESOFT_TIMEZONE",
                value,
                reason: "expected an IANA zone such as Asia/Ho_Chi_Minh".into(),
            })?,
        };
        let base_url = get("CARESOFT_BASE_URL").unwrap_or_else(|| DEFAULT_CARESOFT_BASE_URL.into());
        check_url("CARESOFT_BASE_URL", &base_url)?;
        let fallback_url = get("CARESOFT_FALLBACK_URL");
        if let Some(url) = &fallback_url {
            check_url("CARESOFT_FALLBACK_URL", url)?;
        }
        let domain = get("CARESOFT_DOMAIN");
        if let Some(domain) = &domain
            && let Some(reason) = domain_name_problem(domain)
        {
            return Err(ConfigError::Invalid {
                name: "CARESOFT_DOMAIN",
                value: domain.clone(),
                reason: reason.into(),
            });
        }
        let token = get("CARESOFT_API_TOKEN").map(SecretString::from);
        let base_url_of = |name: &str| -> Result<Option<String>, ConfigError> {
            let variable = domain_base_url_variable(name);
            match get(&variable) {
                None => Ok(None),
                Some(url) => match url::Url::parse(&url) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(Some(url)),
                    _ => Err(ConfigError::Unsafe(format!(
                        "{variable}={url:?} is invalid: expected an http(s) URL such as https://api.caresoft.vn"
                    ))),
                },
            }
        };
        let domains = match get("CARESOFT_DOMAINS") {
            None => Vec::new(),
            Some(_) if domain.is_some() || token.is_some() => {
                return Err(ConfigError::Unsafe(
                    "CARESOFT_DOMAINS and CARESOFT_DOMAIN/CARESOFT_API_TOKEN are both set: use one form \
                     (CARESOFT_DOMAINS=name:token,... holds every domain)"
                        .into(),
                ));
            }
            // The value holds tokens: errors describe the entry, never repeat the value.
            Some(raw) => parse_domain_list(&raw)
                .map_err(|reason| {
                    ConfigError::Unsafe(format!("CARESOFT_DOMAINS is invalid: {reason}"))
                })?
                .into_iter()
                .map(|(name, token)| {
                    Ok(DomainSettings {
                        base_url: base_url_of(&name)?,
                        name,
                        token,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?,
        };
        let domain_base_url = match &domain {
            Some(name) => base_url_of(name)?,
            None => None,
        };
        let max_attempts = match get("CARESOFT_MAX_ATTEMPTS") {
            None => 5,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "CARESOFT_MAX_ATTEMPTS",
                    value,
                    reason: "expected 1 to 20".into(),
                })?,
        };
        let request_timeout = match get("CARESOFT_TIMEOUT") {
            None => Duration::from_secs(30),
            Some(value) => parse_duration("CARESOFT_TIMEOUT", &value)?
                .filter(|d| !d.is_zero())
                .ok_or_else(|| ConfigError::Invalid {
                    name: "CARESOFT_TIMEOUT",
                    value,
                    reason: "must be longer than zero".into(),
                })?,
        };

        let listen_raw = get("BRIDGE_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = parse_listen(&listen_raw)?;
        let sync_interval = match get("BRIDGE_SYNC_INTERVAL") {
            None => Some(Duration::from_secs(24 * 3600)),
            Some(value) => match parse_duration("BRIDGE_SYNC_INTERVAL", &value)? {
                Some(d) if d.is_zero() => None,
                // Shorter than a second would only hammer CareSoft (15 requests/s at most).
                Some(d) if d < Duration::from_secs(1) => {
                    return Err(ConfigError::Invalid {
                        name: "BRIDGE_SYNC_INTERVAL",
                        value,
                        reason: "must be at least 1s (or 0 for off)".into(),
                    });
                }
                other => other,
            },
        };
        let sync_at = parse_time_of_day("BRIDGE_SYNC_AT", get("BRIDGE_SYNC_AT"))?;
        let hr = HrSettings::from_lookup(&get)?;
        let max_removal = match get("BRIDGE_MAX_REMOVAL") {
            None => MaxRemoval::default(),
            Some(value) => MaxRemoval::parse(&value).map_err(|reason| ConfigError::Invalid {
                name: "BRIDGE_MAX_REMOVAL",
                value,
                reason,
            })?,
        };
        let log_format = match get("BRIDGE_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "BRIDGE_LOG_FORMAT",
                    value: other.into(),
                    reason: "expected pretty or json".into(),
                });
            }
        };
        let introspection = match get("BRIDGE_INTROSPECTION").as_deref() {
            None => true,
            Some(value) => parse_bool("BRIDGE_INTROSPECTION", value)?,
        };

        let alerts = AlertSettings::from_lookup(&get)?;
        let seat_price = match get("BRIDGE_SEAT_PRICE") {
            None => None,
            Some(value) => Some(Money::parse(&value).map_err(|reason| ConfigError::Invalid {
                name: "BRIDGE_SEAT_PRICE",
                value,
                reason,
            })?),
        };

        Ok(Self {
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            caresoft: CareSoftSettings {
                base_url,
                fallback_url,
                domain,
                token,
                domains,
                domain_base_url,
                timezone,
                max_attempts,
                request_timeout,
            },
            listen,
            sync_interval,
            sync_at,
            max_removal,
            hr,
            admin_tokens: split_tokens(get("BRIDGE_ADMIN_TOKENS")),
            read_tokens: split_tokens(get("BRIDGE_READ_TOKENS")),
            cors_origins: get("BRIDGE_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            log_format,
            introspection,
            alerts,
            seat_price,
        })
    }

    /// True when no bearer token is configured: the API is open and may only listen on loopback.
    pub fn is_open(&self) -> bool {
        self.admin_tokens.is_empty() && self.read_tokens.is_empty()
    }

    /// Refuses an open server on a non-loopback address.
    pub fn check_listen(&self, listen: SocketAddr) -> Result<(), ConfigError> {
        if self.is_open() && !listen.ip().is_loopback() {
            return Err(ConfigError::Unsafe(format!(
                "refusing to serve {listen} without authentication: set BRIDGE_ADMIN_TOKENS and/or \
                 BRIDGE_READ_TOKENS, or listen on a loopback address such as 127.0.0.1:8080"
            )));
        }
        Ok(())
    }
}

fn check_url(name: &'static str, value: &str) -> Result<(), ConfigError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        _ => Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: "expected an http(s) URL such as https://api.caresoft.vn".into(),
        }),
    }
}

/// `0` means off; otherwise a humantime duration such as `24h`, `1m`, `90s`.
pub(crate) fn parse_duration(
    name: &'static str,
    value: &str,
) -> Result<Option<Duration>, ConfigError> {
    if value == "0" {
        return Ok(None);
    }
    humantime::parse_duration(value)
        .map(Some)
        .map_err(|err| ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: format!("{err}; expected a duration such as 24h, 15m or 0 for off"),
        })
}

fn parse_time_of_day(
    name: &'static str,
    value: Option<String>,
) -> Result<Option<NaiveTime>, ConfigError> {
    value
        .map(|value| {
            NaiveTime::parse_from_str(&value, "%H:%M").map_err(|_| ConfigError::Invalid {
                name,
                value,
                reason: "expected a time of day such as 02:00".into(),
            })
        })
        .transpose()
}

fn parse_listen(value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name: "BRIDGE_LISTEN",
        value: value.to_string(),
        reason: "expected an address and port such as 127.0.0.1:8080".into(),
    })
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: "expected true or false".into(),
        }),
    }
}

fn split_tokens(raw: Option<String>) -> Vec<SecretString> {
    raw.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_string()))
            .collect()
    })
    .unwrap_or_default()
}

/// Compares a presented token against configured ones in constant time (per token).
pub fn token_matches(candidates: &[SecretString], presented: &str) -> bool {
    use subtle::ConstantTimeEq;
    // Fold over every candidate so the time does not reveal which one matched.
    candidates.iter().fold(false, |found, token| {
        found | bool::from(token.expose_secret().as_bytes().ct_eq(presented.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.caresoft.base_url, "https://api.caresoft.vn");
        assert_eq!(s.caresoft.timezone, chrono_tz::Asia::Ho_Chi_Minh);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.sync_interval, Some(Duration::from_secs(86_400)));
        assert_eq!(s.max_removal, MaxRemoval(0.2));
        assert!(s.is_open());
    }

    #[test]
    fn sync_without_a_domain_says_what_to_set() {
        let s = settings(&[("CARESOFT_API_TOKEN", "t")]).expect("valid");
        let err = s
            .caresoft
            .client_configs("sync")
            .expect_err("domain is missing");
        assert_eq!(
            err.to_string(),
            "neither CARESOFT_DOMAINS nor CARESOFT_DOMAIN is set: sync needs one"
        );
        let s = settings(&[("CARESOFT_DOMAIN", "acme")]).expect("valid");
        let err = s
            .caresoft
            .client_configs("sync")
            .expect_err("token is missing");
        assert_eq!(
            err.to_string(),
            "CARESOFT_API_TOKEN is not set: sync needs it"
        );
    }

    #[test]
    fn several_domains_are_read_with_their_own_base_urls() {
        let s = settings(&[
            ("CARESOFT_DOMAINS", " acme:T1 , acme-hn:T2"),
            ("CARESOFT_BASE_URL_ACME_HN", "http://127.0.0.1:9000"),
        ])
        .expect("valid");
        let configs = s.caresoft.client_configs("sync").expect("configured");
        let read: Vec<(&str, &str, &str)> = configs
            .iter()
            .map(|c| {
                (
                    c.domain.as_str(),
                    c.token.expose_secret(),
                    c.base_url.as_str(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("acme", "T1", "https://api.caresoft.vn"),
                ("acme-hn", "T2", "http://127.0.0.1:9000")
            ]
        );
        let with_fallback = settings(&[
            ("CARESOFT_DOMAINS", "acme:T1,acme-hn:T2"),
            ("CARESOFT_BASE_URL_ACME_HN", "http://127.0.0.1:9000"),
            ("CARESOFT_FALLBACK_URL", "https://api2.caresoft.vn"),
        ])
        .expect("valid");
        let fallbacks: Vec<Option<String>> = with_fallback
            .caresoft
            .client_configs("sync")
            .expect("configured")
            .into_iter()
            .map(|c| c.fallback_url)
            .collect();
        assert_eq!(
            fallbacks,
            [Some("https://api2.caresoft.vn".to_string()), None],
            "a domain on a host of its own never sends its token to the shared fallback"
        );
        let single = settings(&[
            ("CARESOFT_DOMAIN", "acme"),
            ("CARESOFT_API_TOKEN", "T"),
            ("CARESOFT_BASE_URL_ACME", "http://127.0.0.1:9001"),
        ])
        .expect("valid");
        let configs = single.caresoft.client_configs("sync").expect("configured");
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].base_url, "http://127.0.0.1:9001");
    }

    #[test]
    fn a_bad_domain_list_names_the_entry_and_never_the_token() {
        for (raw, expected) in [
            ("acme:T1,,b:T2", "entry 2 is empty"),
            ("acme:T1,hanoi", "entry 2 has no ':'"),
            ("acme:T1,T2", "entry 2 has no ':'"),
            ("acme:T1, :T2", "entry 2: the domain name is empty"),
            ("T1/x:acme", "entry 1: expected the bare tenant name"),
            (
                "acme:T1 hn:T2",
                "entry 1 (domain \"acme\"): its token contains a space",
            ),
            (
                "acme-hn:T1,acme_hn:T2",
                "would share CARESOFT_BASE_URL_ACME_HN",
            ),
            ("acme:T1,hn: ", "entry 2 (domain \"hn\") has an empty token"),
            (
                "acme:T1,ACME:T2",
                "entry 2 repeats domain \"ACME\" of entry 1",
            ),
        ] {
            let err = settings(&[("CARESOFT_DOMAINS", raw)]).expect_err(raw);
            let message = err.to_string();
            assert!(
                message.starts_with("CARESOFT_DOMAINS is invalid: "),
                "{message}"
            );
            assert!(message.contains(expected), "{raw}: {message}");
            assert!(
                !message.contains("T1") && !message.contains("T2"),
                "{message}"
            );
        }
        let both = settings(&[("CARESOFT_DOMAINS", "acme:T1"), ("CARESOFT_DOMAIN", "acme")])
            .expect_err("both forms");
        assert!(both.to_string().contains("use one form"), "{both}");
        let bad_url = settings(&[
            ("CARESOFT_DOMAINS", "acme:T1"),
            ("CARESOFT_BASE_URL_ACME", "api.local"),
        ])
        .expect_err("bad override");
        assert!(
            bad_url
                .to_string()
                .starts_with("CARESOFT_BASE_URL_ACME=\"api.local\" is invalid"),
            "{bad_url}"
        );
    }

    #[test]
    fn the_token_never_appears_in_debug_output() {
        let s = settings(&[
            ("CARESOFT_API_TOKEN", "s3cr3t-token"),
            ("BRIDGE_ADMIN_TOKENS", "adm1n,other"),
        ])
        .expect("valid");
        let debug = format!("{s:?}");
        assert!(!debug.contains("s3cr3t-token"), "{debug}");
        assert!(!debug.contains("adm1n"), "{debug}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("BRIDGE_MAX_REMOVAL", "lots"),
            ("BRIDGE_MAX_REMOVAL", "120%"),
            ("BRIDGE_SYNC_INTERVAL", "daily"),
            ("BRIDGE_LISTEN", "localhost"),
            ("CARESOFT_TIMEZONE", "Saigon"),
            ("CARESOFT_BASE_URL", "api.caresoft.vn"),
            ("BRIDGE_SYNC_AT", "2am"),
            ("BRIDGE_LOG_FORMAT", "xml"),
            ("CARESOFT_DOMAIN", "acme/api"),
            ("BRIDGE_SYNC_INTERVAL", "10ms"),
        ] {
            let err = settings(&[(name, value)]).expect_err(value);
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn intervals_and_shares_parse() {
        let s = settings(&[("BRIDGE_SYNC_INTERVAL", "0"), ("BRIDGE_MAX_REMOVAL", "5%")])
            .expect("valid");
        assert_eq!(s.sync_interval, None);
        assert!(s.max_removal.is_exceeded(6, 100));
        assert!(!s.max_removal.is_exceeded(5, 100));
        let s = settings(&[
            ("BRIDGE_SYNC_INTERVAL", "1m"),
            ("BRIDGE_MAX_REMOVAL", "100"),
        ])
        .expect("valid");
        assert_eq!(s.sync_interval, Some(Duration::from_secs(60)));
        // Even at 100%, emptying a non-empty mirror counts as exceeding: it needs the explicit override.
        assert!(s.max_removal.is_exceeded(3, 3));
    }

    #[test]
    fn an_open_server_refuses_a_public_address() {
        let s = settings(&[]).expect("valid");
        assert!(
            s.check_listen("0.0.0.0:8080".parse().expect("addr"))
                .is_err()
        );
        assert!(s.check_listen("127.0.0.1:0".parse().expect("addr")).is_ok());
        let s = settings(&[("BRIDGE_READ_TOKENS", "r")]).expect("valid");
        assert!(
            s.check_listen("0.0.0.0:8080".parse().expect("addr"))
                .is_ok()
        );
    }

    #[test]
    fn tokens_match_exactly() {
        let tokens = split_tokens(Some("alpha, beta".into()));
        assert!(token_matches(&tokens, "beta"));
        assert!(!token_matches(&tokens, "bet"));
        assert!(!token_matches(&tokens, ""));
    }

    #[test]
    fn an_hr_source_is_a_query_on_a_database_or_a_file() {
        let s = settings(&[]).expect("valid");
        assert!(s.hr.source.is_none());
        assert_eq!(
            s.hr.source("sync-hr").expect_err("no source").to_string(),
            "neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE is set: sync-hr needs one"
        );
        let s = settings(&[
            ("HR_DATABASE_URL", "mysql://hr:s3cr3t@db.internal/nhan_su"),
            ("HR_QUERY", "SELECT ma_nv AS employee_code FROM nhan_vien"),
        ])
        .expect("valid");
        assert!(matches!(s.hr.source, Some(HrSource::Database(_))));
        assert_eq!(
            s.hr.sync_interval,
            Some(Duration::from_secs(3600)),
            "1h by default"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"), "the URL is a secret");
        let s = settings(&[
            ("HR_FILE", "/srv/hr/nhan_su.csv"),
            ("HR_SYNC_INTERVAL", "0"),
        ])
        .expect("valid");
        assert!(matches!(s.hr.source, Some(HrSource::File(_))));
        assert_eq!(s.hr.sync_interval, None);
    }

    #[test]
    fn bad_hr_settings_name_the_variable_and_hide_the_url() {
        for (vars, starts) in [
            (vec![("HR_QUERY", "SELECT 1")], "HR_DATABASE_URL is not set"),
            (
                vec![("HR_DATABASE_URL", "postgres://x")],
                "HR_QUERY is not set",
            ),
            (
                vec![
                    ("HR_DATABASE_URL", "oracle://hr:s3cr3t@x"),
                    ("HR_QUERY", "SELECT 1"),
                ],
                "HR_DATABASE_URL=\"oracle://…\" is invalid",
            ),
            (
                vec![
                    ("HR_DATABASE_URL", "postgres://x"),
                    ("HR_QUERY", "DELETE FROM t"),
                ],
                "HR_QUERY=",
            ),
            (
                vec![
                    ("HR_DATABASE_URL", "postgres://x"),
                    ("HR_QUERY", "SELECT 1; SELECT 2"),
                ],
                "HR_QUERY=",
            ),
            (
                vec![
                    ("HR_DATABASE_URL", "postgres://x"),
                    ("HR_QUERY", "SELECT 1"),
                    ("HR_FILE", "a.csv"),
                ],
                "HR_DATABASE_URL and HR_FILE are both set",
            ),
            (
                vec![("HR_FILE", "a.csv"), ("HR_QUERY", "SELECT 1")],
                "HR_QUERY is set with HR_FILE",
            ),
            (vec![("HR_QUERY_TIMEOUT", "10ms")], "HR_QUERY_TIMEOUT"),
            (vec![("HR_SYNC_INTERVAL", "hourly")], "HR_SYNC_INTERVAL"),
            (vec![("HR_SYNC_AT", "3am")], "HR_SYNC_AT"),
        ] {
            let err = settings(&vars).expect_err(starts).to_string();
            assert!(err.starts_with(starts), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}
