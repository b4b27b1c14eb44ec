//! CareSoft's wire format and how we read it tolerantly: the `{"code":"ok","agents":[...]}` (or `"groups"`)
//! envelope, items whose every field may be missing, null, a number or a string, zone-less timestamps, and
//! short one-line excerpts of bodies for error messages. Nothing here does I/O.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::agent::{Agent, Group};
use super::error::CareSoftError;

/// How many characters of a body an error message shows.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Only the start of a body is ever shown, so never scan more than this much of it for an excerpt.
const EXCERPT_SCAN_BYTES: usize = 8 * 1024;

/// One decoded `code: ok` answer (one page) of a list endpoint.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// `numFound`, when CareSoft reports it (list endpoints that page do).
    pub num_found: Option<u64>,
}

/// One group exactly as CareSoft sends it, after tolerant type coercion.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireGroup {
    #[serde(deserialize_with = "lenient_i64")]
    pub group_id: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub group_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
}

impl WireGroup {
    /// Validates and converts one group; `index` is its 0-based position in the combined list.
    pub(crate) fn into_group(self, index: usize, tz: Tz) -> Result<Group, CareSoftError> {
        let id = self
            .group_id
            .ok_or(CareSoftError::MissingGroupId { index })?;
        Ok(Group {
            id,
            name: self.group_name,
            created_at: parse_timestamp(self.created_at.as_deref(), tz, id, "created_at"),
        })
    }
}

/// One agent exactly as CareSoft sends it, after tolerant type coercion.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireAgent {
    #[serde(deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub username: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub phone_no: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub agent_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub updated_at: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub group_id: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub group_name: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub role_id: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub login_status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub call_status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub chat_status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub ticket_status: Option<String>,
}

impl WireAgent {
    /// Validates and converts one agent; `index` is its 0-based position in the combined list.
    pub(crate) fn into_agent(self, index: usize, tz: Tz) -> Result<Agent, CareSoftError> {
        let id = self.id.ok_or(CareSoftError::MissingAgentId { index })?;
        Ok(Agent {
            id,
            username: self.username,
            email: self.email,
            phone_no: self.phone_no,
            agent_id: self.agent_id,
            created_at: parse_timestamp(self.created_at.as_deref(), tz, id, "created_at"),
            updated_at: parse_timestamp(self.updated_at.as_deref(), tz, id, "updated_at"),
            group_id: self.group_id,
            group_name: self.group_name,
            role_id: self.role_id,
            login_status: self.login_status,
            call_status: self.call_status,
            chat_status: self.chat_status,
            ticket_status: self.ticket_status,
        })
    }
}

/// Decodes a 2xx body into one page of the list named `key` (`agents`, `groups`), or says precisely why
/// it is not one.
pub(crate) fn decode_page<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    token: &str,
    key: &'static str,
) -> Result<Page<T>, CareSoftError> {
    let expected_shape = format!(r#"expected {{"code":"ok","{key}":[...]}}"#);
    let decode_error = |detail: String| CareSoftError::Decode {
        status,
        detail,
        excerpt: excerpt_bytes(body, token),
    };

    let value: Value = serde_json::from_slice(body)
        .map_err(|e| decode_error(format!("the body is not valid JSON ({e})")))?;
    let Value::Object(mut envelope) = value else {
        return Err(decode_error(format!(
            "the body is JSON but not an object; {expected_shape}"
        )));
    };

    let code = match envelope.get("code") {
        Some(Value::String(code)) => code.clone(),
        Some(other @ (Value::Number(_) | Value::Bool(_))) => other.to_string(),
        _ => {
            return Err(decode_error(format!(
                "the body has no \"code\"; {expected_shape}"
            )));
        }
    };
    if !code.trim().eq_ignore_ascii_case("ok") {
        let message = api_message(&envelope, token).unwrap_or_else(|| excerpt(&code, token));
        return Err(CareSoftError::Api { message });
    }

    let Some(Value::Array(raw_items)) = envelope.remove(key) else {
        return Err(decode_error(format!(
            "the body has no \"{key}\" array; {expected_shape}"
        )));
    };
    let num_found = envelope.get("numFound").and_then(value_as_u64);

    let mut items = Vec::with_capacity(raw_items.len());
    for (position, raw) in raw_items.into_iter().enumerate() {
        if !raw.is_object() {
            return Err(decode_error(format!("{key}[{position}] is not an object")));
        }
        // Every field is lenient, so an object always deserializes; the error arm is for completeness.
        let item =
            T::deserialize(raw).map_err(|e| decode_error(format!("{key}[{position}]: {e}")))?;
        items.push(item);
    }
    Ok(Page { items, num_found })
}

/// The excerpt for a non-2xx answer: CareSoft's `message` when the body is its `{"code":"errors",...}` JSON,
/// else the start of the body.
pub(crate) fn error_excerpt(body: &[u8], token: &str) -> String {
    if let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body)
        && let Some(message) = api_message(&envelope, token)
    {
        return message;
    }
    excerpt_bytes(body, token)
}

/// A one-line, redacted excerpt of a body.
pub(crate) fn excerpt_bytes(body: &[u8], token: &str) -> String {
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let head = &body[..body.len().min(EXCERPT_SCAN_BYTES)];
    excerpt(&String::from_utf8_lossy(head), token)
}

/// Collapses whitespace and control characters, removes the token if a server ever echoes it, and keeps
/// the first [`EXCERPT_CHARS`] characters so an error stays one readable line.
pub(crate) fn excerpt(text: &str, token: &str) -> String {
    let redacted;
    let text = if !token.is_empty() && text.contains(token) {
        redacted = text.replace(token, "[REDACTED]");
        redacted.as_str()
    } else {
        text
    };
    let mut out = String::new();
    let mut kept = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if kept >= EXCERPT_CHARS {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            kept += 1;
            pending_space = false;
        }
        out.push(c);
        kept += 1;
    }
    out
}

fn api_message(envelope: &Map<String, Value>, token: &str) -> Option<String> {
    match envelope.get("message")? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(excerpt(s, token)),
        // Validation errors sometimes come as an object or list: show them compactly.
        other => Some(excerpt(&other.to_string(), token)),
    }
}

/// Reads a CareSoft `YYYY-MM-DD HH:MM:SS` (zone-less, in `tz`); an RFC 3339 value with its own offset is
/// accepted too. Unparseable text becomes `None` with a warning: one bad date must not fail a whole sync.
fn parse_timestamp(
    raw: Option<&str>,
    tz: Tz,
    item_id: i64,
    field: &'static str,
) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    // Empty and MySQL "zero" dates mean "never set", not "broken".
    if raw.is_empty() || raw.starts_with("0000-00-00") {
        return None;
    }
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok());
    let Some(naive) = naive else {
        tracing::warn!(
            id = item_id,
            field,
            value = raw,
            "unparseable CareSoft timestamp; stored as absent"
        );
        return None;
    };
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(local) => Some(local.with_timezone(&Utc)),
        // A repeated hour at a DST change: the earlier reading is as good as any.
        LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
        LocalResult::None => {
            tracing::warn!(id = item_id, field, value = raw, timezone = %tz, "CareSoft timestamp does not exist in the configured time zone; stored as absent");
            None
        }
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        // Extensions and phone numbers sometimes arrive as JSON numbers.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(value_as_i64(&Value::deserialize(deserializer)?))
}

fn value_as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            // 142928097.0 is still an id; 1.5 is not.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_as_u64(value: &Value) -> Option<u64> {
    value_as_i64(value).and_then(|n| u64::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_collapses_whitespace_and_truncates() {
        assert_eq!(
            excerpt("  <html>\n\t<body>  x </body>\r\n", ""),
            "<html> <body> x </body>"
        );
        let long = "a".repeat(500);
        let cut = excerpt(&long, "");
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn excerpt_never_shows_the_token() {
        assert_eq!(
            excerpt("bad token s3cr3t given", "s3cr3t"),
            "bad token [REDACTED] given"
        );
    }

    #[test]
    fn ids_accept_numbers_and_numeric_strings_only() {
        assert_eq!(value_as_i64(&serde_json::json!(142928097)), Some(142928097));
        assert_eq!(
            value_as_i64(&serde_json::json!(" 142928097 ")),
            Some(142928097)
        );
        assert_eq!(value_as_i64(&serde_json::json!(7.0)), Some(7));
        assert_eq!(value_as_i64(&serde_json::json!(7.5)), None);
        assert_eq!(value_as_i64(&serde_json::json!("abc")), None);
        assert_eq!(value_as_i64(&serde_json::json!(true)), None);
    }

    #[test]
    fn timestamps_are_read_in_the_configured_zone() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let parsed = parse_timestamp(Some("2022-07-08 09:48:41"), tz, 1, "created_at");
        assert_eq!(
            parsed.map(|t| t.to_rfc3339()),
            Some("2022-07-08T02:48:41+00:00".to_owned())
        );
        assert_eq!(
            parse_timestamp(Some("yesterday"), tz, 1, "created_at"),
            None
        );
        assert_eq!(
            parse_timestamp(Some("0000-00-00 00:00:00"), tz, 1, "created_at"),
            None
        );
    }
}
