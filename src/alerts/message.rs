//! The body each kind of webhook takes, built from the stored event, and its signature.
//!
//! Slack and Google Chat take `{"text": …}`; Microsoft Teams workflow webhooks take an Adaptive Card wrapped
//! in a message (Office 365 connectors are retired); anyone else gets the JSON event as stored. Every body
//! is UTF-8 JSON, so Vietnamese names arrive as written.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::{AlertRow, Shape};

/// The fields of a stored event that messages show.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub domain: Option<String>,
    pub summary: String,
    #[serde(default)]
    pub counts: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub rows: Vec<AlertRow>,
}

/// The title people read: the kind's title, or its type when this build does not know it.
fn title(event: &Event) -> String {
    let kind = super::AlertKind::parse(&event.kind).map_or(event.kind.as_str(), |k| k.title());
    match &event.domain {
        Some(domain) if !domain.is_empty() => format!("{kind} ({domain})"),
        _ => kind.to_string(),
    }
}

/// One line per named seat.
fn row_line(row: &AlertRow) -> String {
    let seat = row
        .username
        .as_deref()
        .or(row.email.as_deref())
        .unwrap_or("—");
    let mut line = format!("{seat} (#{}", row.agent_id);
    if let Some(group) = &row.group_name {
        line.push_str(&format!(", {group}"));
    }
    line.push(')');
    if let Some(code) = &row.employee_code {
        let name = row.full_name.as_deref().unwrap_or("");
        line.push_str(&format!(" → {code} {name}"));
    }
    line.trim_end().to_string()
}

/// How many seats the event counts beyond the rows it names.
fn more(event: &Event) -> Option<usize> {
    let total = event.counts.get("seats")?.as_u64()? as usize;
    (total > event.rows.len()).then(|| total - event.rows.len())
}

/// The plain text of Slack and Google Chat messages (both read `*bold*`).
fn text(event: &Event) -> String {
    let mut text = format!("*{}*\n{}", escape(&title(event)), escape(&event.summary));
    for row in &event.rows {
        text.push_str("\n• ");
        text.push_str(&escape(&row_line(row)));
    }
    if let Some(more) = more(event) {
        text.push_str(&format!("\n… and {more} more"));
    }
    text
}

/// Text as Slack and Google Chat want it: both read `<…>` as a link or a mention, so a name written
/// `<b>Thảo` or `A & B` in HR must reach them as `&lt;b&gt;Thảo` and `A &amp; B`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Teams Adaptive Card in the message envelope workflow webhooks take.
fn teams(event: &Event) -> serde_json::Value {
    let mut body = vec![
        serde_json::json!({"type": "TextBlock", "text": title(event), "weight": "Bolder", "size": "Medium", "wrap": true}),
        serde_json::json!({"type": "TextBlock", "text": event.summary, "wrap": true}),
    ];
    if !event.rows.is_empty() {
        let mut lines: Vec<String> = event
            .rows
            .iter()
            .map(|r| format!("- {}", row_line(r)))
            .collect();
        if let Some(more) = more(event) {
            lines.push(format!("- … and {more} more"));
        }
        body.push(serde_json::json!({"type": "TextBlock", "text": lines.join("\n"), "wrap": true}));
    }
    body.push(serde_json::json!({"type": "FactSet", "facts": [
        {"title": "Event", "value": event.kind},
        {"title": "At", "value": event.at},
        {"title": "Id", "value": event.id},
    ]}));
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            }
        }]
    })
}

/// The body to post to a webhook of `shape`, from the stored `payload` (the JSON event).
pub fn body(shape: Shape, payload: &str) -> Result<Vec<u8>, serde_json::Error> {
    if shape == Shape::Json {
        return Ok(payload.as_bytes().to_vec());
    }
    let event: Event = serde_json::from_str(payload)?;
    let value = match shape {
        Shape::Teams => teams(&event),
        // Slack and Google Chat.
        _ => serde_json::json!({ "text": text(&event) }),
    };
    serde_json::to_vec(&value)
}

/// `sha256=<hex>`: the HMAC-SHA256 of `body` under `secret`, as `X-Bridge-Signature` carries it.
pub fn signature(secret: &SecretString, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> String {
        serde_json::json!({
            "id": "0193-abc", "type": "seats.departed", "at": "2026-12-02T03:00:00.000Z",
            "domain": "acme", "summary": "2 seats belong to staff who left",
            "counts": {"seats": 3},
            "rows": [{"agent_id": 7, "domain": "acme", "username": "thao.dang", "email": null, "phone_no": null,
                      "group_name": "Chăm sóc khách hàng", "match_status": "MATCHED",
                      "employee_code": "NV1", "full_name": "Đặng Phương Thu Thảo"}],
        })
        .to_string()
    }

    #[test]
    fn chat_messages_name_the_seats_in_vietnamese_as_written() {
        let body = body(Shape::Slack, &payload()).expect("body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let text = value["text"].as_str().expect("text");
        assert!(
            text.starts_with("*Seats of staff who left (acme)*"),
            "{text}"
        );
        assert!(
            text.contains("thao.dang (#7, Chăm sóc khách hàng) → NV1 Đặng Phương Thu Thảo"),
            "{text}"
        );
        assert!(text.ends_with("… and 2 more"), "{text}");
        assert!(
            String::from_utf8(body.clone())
                .expect("utf-8")
                .contains("Đặng"),
            "not escaped"
        );
    }

    #[test]
    fn chat_text_escapes_what_slack_reads_as_links_and_mentions() {
        let payload = payload().replace("Đặng Phương Thu Thảo", "<!channel> Thảo & Co");
        let body = body(Shape::Slack, &payload).expect("body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let text = value["text"].as_str().expect("text");
        assert!(
            text.contains("NV1 &lt;!channel&gt; Thảo &amp; Co"),
            "{text}"
        );
        assert!(!text.contains("<!channel>"), "{text}");
    }

    #[test]
    fn teams_gets_an_adaptive_card_and_others_the_event() {
        let value: serde_json::Value =
            serde_json::from_slice(&body(Shape::Teams, &payload()).expect("body")).expect("json");
        assert_eq!(value["type"], "message");
        let card = &value["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(
            body(Shape::Json, &payload()).expect("body"),
            payload().into_bytes()
        );
    }

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        let secret = SecretString::from("Jefe");
        assert_eq!(
            signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
