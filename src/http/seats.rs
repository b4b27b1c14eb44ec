//! `/seats`: the seat report as a page for people who do not write GraphQL, read-only, served from the
//! binary (no CDN: it works offline and under a strict CSP), reading `/graphql` with the read token like
//! any client; and `/seats/seat-report.csv`, the report as `export seat-report` writes it, behind the
//! same tokens.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use crate::export::{self, ExportFormat};
use crate::seats::{DEFAULT_IDLE_DAYS, Lists};

const PAGE: &str = include_str!("../../assets/seats/index.html");
const SCRIPT: &str = include_str!("../../assets/seats/seats.js");
const STYLE: &str = include_str!("../../assets/seats/seats.css");

/// Everything the page loads comes from this server; nothing runs inline.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                      connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// The page.
pub async fn page() -> Response {
    asset(PAGE, "text/html; charset=utf-8")
}

/// Its script.
pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// Its style sheet.
pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// The download's parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Download {
    idle_days: Option<i32>,
}

/// The seat report as CSV, for any token (read or admin), like `seatReport`.
pub async fn download(
    State(state): State<HttpState>,
    Query(params): Query<Download>,
    headers: axum::http::HeaderMap,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if state.tokens.role_for(authorization).is_err() {
        return super::unauthenticated();
    }
    let idle_days = params.idle_days.unwrap_or(DEFAULT_IDLE_DAYS);
    let lists = match Lists::new(idle_days, chrono::Utc::now()) {
        Ok(lists) => lists,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason).into_response(),
    };
    let mut body = Vec::new();
    let written = export::seat_report(
        &state.db,
        &lists,
        state.seat_price.as_ref(),
        ExportFormat::Csv,
        &mut body,
    )
    .await;
    match written {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"seat-report.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the seat report could not be written");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the seat report could not be read; the server's log says why",
            )
                .into_response()
        }
    }
}
