//! CareSoft's wire format and how we read it tolerantly: the `{"code":"ok","agents":[...]}` (or `"groups"`)
//! envelope, items whose every field may be missing, null, a number or a string, zone-less timestamps, and
//! short one-line excerpts of bodies for error messages. Nothing here does I/O.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

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

/// Declares an item of a list as CareSoft sends it: every field optional and read as [`Scalar`] says (`text`
/// or `int`), unknown fields skipped, and a field sent twice read as its last value (as a JSON object
/// keeps it), never an error.
macro_rules! wire_item {
    ($(#[$meta:meta])* $name:ident { $($field:ident: $kind:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub(crate) struct $name {
            $(pub $field: Option<wire_item!(@type $kind)>),+
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> Visitor<'de> for Fields {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut item = $name::default();
                        while let Some(Key(key)) = map.next_key()? {
                            match key.as_ref() {
                                $(stringify!($field) => {
                                    item.$field = wire_item!(@read $kind, map.next_value::<Scalar>()?);
                                })+
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(item)
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
    (@type text) => { String };
    (@type int) => { i64 };
    (@read text, $value:expr) => { $value.into_text() };
    (@read int, $value:expr) => { $value.into_i64() };
}

wire_item!(
    /// One group exactly as CareSoft sends it, after tolerant type coercion.
    WireGroup {
        group_id: int,
        group_name: text,
        created_at: text,
    }
);

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

wire_item!(
    /// One agent exactly as CareSoft sends it, after tolerant type coercion.
    WireAgent {
        id: int,
        username: text,
        email: text,
        phone_no: text,
        agent_id: text,
        created_at: text,
        updated_at: text,
        group_id: int,
        group_name: text,
        role_id: int,
        login_status: text,
        call_status: text,
        chat_status: text,
        ticket_status: text,
    }
);

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
/// it is not one. The body is read in one pass straight into `T` (no JSON tree in between: for a list
/// of 20,000 agents that tree was most of a resync's decoding), every field tolerant as [`Scalar`] says.
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

    let mut json = serde_json::Deserializer::from_slice(body);
    let envelope = EnvelopeSeed::<T> {
        key,
        items: PhantomData,
    }
    .deserialize(&mut json)
    .and_then(|envelope| json.end().map(|()| envelope))
    .map_err(|e| decode_error(format!("the body is not valid JSON ({e})")))?;
    let Some(envelope) = envelope else {
        return Err(decode_error(format!(
            "the body is JSON but not an object; {expected_shape}"
        )));
    };

    let code = match envelope.code {
        Some(Scalar::Text(code)) => code,
        Some(Scalar::Int(n)) => n.to_string(),
        Some(Scalar::UInt(n)) => n.to_string(),
        Some(Scalar::Float(n)) => float_text(n),
        Some(Scalar::Bool(b)) => b.to_string(),
        Some(Scalar::Absent) | None => {
            return Err(decode_error(format!(
                "the body has no \"code\"; {expected_shape}"
            )));
        }
    };
    if !code.trim().eq_ignore_ascii_case("ok") {
        let message =
            api_message(envelope.message.as_ref(), token).unwrap_or_else(|| excerpt(&code, token));
        return Err(CareSoftError::Api { message });
    }

    let Some(items) = envelope.items else {
        return Err(decode_error(format!(
            "the body has no \"{key}\" array; {expected_shape}"
        )));
    };
    if let Some(position) = items.first_non_object {
        return Err(decode_error(format!("{key}[{position}] is not an object")));
    }
    let num_found = envelope.num_found.and_then(Scalar::into_i64);
    Ok(Page {
        items: items.items,
        num_found: num_found.and_then(|n| u64::try_from(n).ok()),
    })
}

/// The methods of a visitor whose value is `None` for every JSON shape but the one it reads: scalars, and
/// `seq` or `map` (the shape it does not read), skipped to their end.
macro_rules! none_for_other_shapes {
    (seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        none_for_other_shapes!();
    };
    (map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        none_for_other_shapes!();
    };
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// What the envelope of a list answer holds, read in one pass.
struct Envelope<T> {
    code: Option<Scalar>,
    message: Option<Value>,
    items: Option<Items<T>>,
    num_found: Option<Scalar>,
}

/// The list of an answer; an item that is not an object is noted (the answer is then bad) and skipped.
struct Items<T> {
    items: Vec<T>,
    first_non_object: Option<usize>,
}

/// Reads a body into its [`Envelope`], or `None` when it is JSON but not an object.
struct EnvelopeSeed<T> {
    key: &'static str,
    items: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for EnvelopeSeed<T> {
    type Value = Option<Envelope<T>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for EnvelopeSeed<T> {
    type Value = Option<Envelope<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope {
            code: None,
            message: None,
            items: None,
            num_found: None,
        };
        while let Some(Key(name)) = map.next_key()? {
            match name.as_ref() {
                "code" => envelope.code = Some(map.next_value()?),
                "message" => envelope.message = Some(map.next_value()?),
                "numFound" => envelope.num_found = Some(map.next_value()?),
                name if name == self.key => {
                    envelope.items = map.next_value_seed(ItemsSeed(PhantomData))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(envelope))
    }

    none_for_other_shapes!(seq);
}

/// Reads the list of an answer, `None` when it is not an array.
struct ItemsSeed<T>(PhantomData<fn() -> T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ItemsSeed<T> {
    type Value = Option<Items<T>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ItemsSeed<T> {
    type Value = Option<Items<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Items {
            items: Vec::with_capacity(seq.size_hint().unwrap_or(0)),
            first_non_object: None,
        };
        let mut position = 0;
        while let Some(item) = seq.next_element_seed(ItemSeed::<T>(PhantomData))? {
            match item {
                Some(item) => items.items.push(item),
                None => {
                    items.first_non_object.get_or_insert(position);
                }
            }
            position += 1;
        }
        Ok(Some(items))
    }

    none_for_other_shapes!(map);
}

/// Reads one item of a list, `None` when it is not an object.
struct ItemSeed<T>(PhantomData<fn() -> T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ItemSeed<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ItemSeed<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    none_for_other_shapes!(seq);
}

/// An object's key, borrowed from the body unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// One value where CareSoft should send a string or a number. It sometimes sends the other (ids as
/// strings, extensions and phone numbers as numbers), or null, a boolean, an object or an array: those
/// read as absent, so one odd field never fails a sync.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Absent,
}

impl Scalar {
    /// As text: numbers as JSON writes them; anything else absent.
    fn into_text(self) -> Option<String> {
        match self {
            Scalar::Text(text) => Some(text),
            Scalar::Int(n) => Some(n.to_string()),
            Scalar::UInt(n) => Some(n.to_string()),
            Scalar::Float(n) => Some(float_text(n)),
            Scalar::Bool(_) | Scalar::Absent => None,
        }
    }

    /// As an integer: 142928097.0 is still an id; 1.5 is not; numeric text counts.
    fn into_i64(self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(n),
            Scalar::UInt(n) => i64::try_from(n).ok(),
            Scalar::Float(f) => (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64),
            Scalar::Text(text) => text.trim().parse().ok(),
            Scalar::Bool(_) | Scalar::Absent => None,
        }
    }
}

/// A float as JSON writes it (`1.5`, `142928097.0`).
fn float_text(n: f64) -> String {
    serde_json::Number::from_f64(n).map_or_else(|| n.to_string(), |n| n.to_string())
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::UInt(v), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Absent)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Absent)
    }
}

/// The excerpt for a non-2xx answer: CareSoft's `message` when the body is its `{"code":"errors",...}` JSON,
/// else the start of the body.
pub(crate) fn error_excerpt(body: &[u8], token: &str) -> String {
    if let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(body)
        && let Some(message) = api_message(envelope.get("message"), token)
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

fn api_message(message: Option<&Value>, token: &str) -> Option<String> {
    match message? {
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

    fn as_i64(json: &str) -> Option<i64> {
        serde_json::from_str::<Scalar>(json)
            .expect("JSON")
            .into_i64()
    }

    fn as_text(json: &str) -> Option<String> {
        serde_json::from_str::<Scalar>(json)
            .expect("JSON")
            .into_text()
    }

    #[test]
    fn ids_accept_numbers_and_numeric_strings_only() {
        assert_eq!(as_i64("142928097"), Some(142928097));
        assert_eq!(as_i64("\" 142928097 \""), Some(142928097));
        assert_eq!(as_i64("7.0"), Some(7));
        assert_eq!(as_i64("7.5"), None);
        assert_eq!(as_i64("\"abc\""), None);
        assert_eq!(as_i64("true"), None);
        assert_eq!(as_i64("18446744073709551615"), None);
        assert_eq!(as_i64("[1]"), None);
    }

    #[test]
    fn text_fields_take_numbers_as_json_writes_them() {
        assert_eq!(as_text("\"5001\""), Some("5001".to_owned()));
        assert_eq!(as_text("5001"), Some("5001".to_owned()));
        assert_eq!(as_text("1.5"), Some("1.5".to_owned()));
        assert_eq!(as_text("84912345678.0"), Some("84912345678.0".to_owned()));
        assert_eq!(as_text("null"), None);
        assert_eq!(as_text("false"), None);
        assert_eq!(as_text("{\"a\": [1, {}]}"), None);
    }

    #[test]
    fn pages_decode_in_one_pass_with_their_errors() {
        let page = decode_page::<WireAgent>(
            200,
            br#"{"agents":[{"id":"7","email":5,"extra":{"x":[1]}},{"id":8}],"numFound":"2","code":"ok"}"#,
            "",
            "agents",
        )
        .expect("a page");
        assert_eq!(page.num_found, Some(2));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].id, Some(7));
        assert_eq!(page.items[0].email.as_deref(), Some("5"));
        let repeated = decode_page::<WireAgent>(
            200,
            br#"{"code":"ok","agents":[{"id":1,"email":"a@x","email":"b@x","id":"2"}]}"#,
            "",
            "agents",
        )
        .expect("a field sent twice is read as its last value");
        assert_eq!(repeated.items[0].id, Some(2));
        assert_eq!(repeated.items[0].email.as_deref(), Some("b@x"));
        let detail = |body: &[u8]| match decode_page::<WireAgent>(200, body, "", "agents") {
            Err(CareSoftError::Decode { detail, .. }) => detail,
            other => panic!("expected a decode error, got {other:?}"),
        };
        assert!(detail(b"{\"code\":\"ok\",").starts_with("the body is not valid JSON"));
        assert!(
            detail(b"{\"code\":\"ok\",\"agents\":[]} x").starts_with("the body is not valid JSON")
        );
        assert!(detail(b"[1,2]").starts_with("the body is JSON but not an object"));
        assert!(detail(br#"{"agents":[]}"#).starts_with("the body has no \"code\""));
        assert!(
            detail(br#"{"code":"ok","agents":{}}"#).starts_with("the body has no \"agents\" array")
        );
        assert_eq!(
            detail(br#"{"code":"ok","agents":[{},3,{}]}"#),
            "agents[1] is not an object"
        );
        for body in [
            br#"{"code":"errors","message":"bad token","agents":7}"#.as_slice(),
            br#"{"code":"errors","message":"bad token","agents":[{"id":1,"id":1},5]}"#,
        ] {
            match decode_page::<WireAgent>(200, body, "", "agents") {
                Err(CareSoftError::Api { message }) => assert_eq!(message, "bad token"),
                other => panic!("expected CareSoft's message, got {other:?}"),
            }
        }
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
