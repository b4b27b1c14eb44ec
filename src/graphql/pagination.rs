//! Relay cursor pagination with keyset cursors: a cursor names its list and ordering and carries the sort
//! value and id of the last row, so pages stay stable while rows are added. Cursors are opaque (base64).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::errors::ApiError;

/// The default page size.
pub const DEFAULT_PAGE: i32 = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE: i32 = 500;

/// The position after which a page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Which list (and ordering) the cursor belongs to, e.g. `agents:USERNAME_ASC`.
    #[serde(rename = "l")]
    pub list: String,
    /// The sort value of the last row (absent when ordering by id alone).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses `after` for `list`; a cursor of another list or ordering is a BAD_USER_INPUT error.
    pub fn decode(text: &str, list: &str) -> Result<Cursor, ApiError> {
        let invalid = || {
            ApiError::bad_input(format!(
                "`after` is not a cursor of this list ({list}); pass a cursor from this list's pageInfo.endCursor"
            ))
        };
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.list != list {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

/// Validates `first`: default 50, capped at 500 (as DESIGN.md says), never negative.
pub fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE as u64),
        Some(n) if n < 0 => Err(ApiError::bad_input(format!(
            "`first` must not be negative (got {n})"
        ))),
        Some(n) => Ok(n.min(MAX_PAGE) as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_lists() {
        let cursor = Cursor {
            list: "agents:ID_ASC".into(),
            value: None,
            id: 42,
        };
        let text = cursor.encode();
        assert_eq!(
            Cursor::decode(&text, "agents:ID_ASC").expect("same list"),
            cursor
        );
        assert!(Cursor::decode(&text, "employees:CODE_ASC").is_err());
        assert!(Cursor::decode("not a cursor", "agents:ID_ASC").is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).expect("default"), 50);
        assert_eq!(page_size(Some(500)).expect("cap"), 500);
        assert_eq!(page_size(Some(10_000)).expect("capped"), 500);
        assert!(page_size(Some(-1)).is_err());
    }
}
