//! The axum router: `/graphql` (GraphQL over HTTP), `/graphql/ws` (subscriptions), the IDEs, the `/seats`
//! page, health and
//! readiness probes, Prometheus metrics; CORS, request tracing with latency, and the body limit around them.

pub mod graphql_http;
pub mod ide;
pub mod seats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{Request, State, WebSocketUpgrade};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::domain::SyncSource;
use crate::graphql::auth::{Role, Tokens};
use crate::graphql::errors::ApiError;
use crate::graphql::ws::WsExecutor;
use crate::graphql::{AppSchema, with_request_data};
use crate::store;

/// The largest request body accepted from an admin token (an `upsertEmployees` of 100,000 rows fits).
pub const ADMIN_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// The largest request body accepted from anyone else: a read token's documents are queries, and
/// 1 MiB holds any query a person or a tool writes, while a client with no token or a read token cannot
/// make the server buffer 32 MiB per request.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The body limit of a request made with `role`.
pub fn body_limit(role: Role) -> usize {
    match role {
        Role::Admin => ADMIN_BODY_LIMIT,
        Role::Read => BODY_LIMIT,
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub tokens: Arc<Tokens>,
    /// The scheduled sync interval, for readiness: unready when the last success is older than twice it.
    pub sync_interval: Option<Duration>,
    /// The configured CareSoft domains, each checked on its own.
    pub domains: Vec<String>,
    /// The same for HR pulls (`None` without an HR source or with its schedule off).
    pub hr_sync_interval: Option<Duration>,
    pub started: Instant,
    /// Parsed GraphQL documents, shared by all requests.
    pub documents: Arc<graphql_http::DocumentCache>,
    /// The monthly price of one seat, for the seat report's download.
    pub seat_price: Option<crate::seats::Money>,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("open", &self.tokens.is_open())
            .finish()
    }
}

/// The whole router.
pub fn router(state: HttpState, cors_origins: &[String]) -> Router {
    let origins = Arc::new(OriginPolicy {
        open: state.tokens.is_open(),
        allowed: cors_origins.to_vec(),
    });
    let router = Router::new()
        .route("/", get(ide::graphiql))
        .route("/playground", get(ide::playground))
        .route("/ide/graphiql.min.js", get(ide::graphiql_js))
        .route("/ide/graphiql.min.css", get(ide::graphiql_css))
        .route("/ide/react.production.min.js", get(ide::react_js))
        .route("/ide/react-dom.production.min.js", get(ide::react_dom_js))
        .route("/ide/playground/middleware.js", get(ide::playground_js))
        .route("/ide/playground/index.css", get(ide::playground_css))
        .route("/ide/playground/favicon.png", get(ide::playground_favicon))
        .route("/seats", get(seats::page))
        .route("/seats/seats.js", get(seats::script))
        .route("/seats/seats.css", get(seats::style))
        .route("/seats/seat-report.csv", get(seats::download))
        .route("/graphql", any(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(crate::metrics::render).with_state(state.db.clone()),
        )
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(origins, guard_origin))
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        );
    match cors(cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// Who may reach the server from a browser.
#[derive(Debug)]
struct OriginPolicy {
    /// No token configured: the API is open and bound to loopback.
    open: bool,
    /// `BRIDGE_CORS_ORIGINS`.
    allowed: Vec<String>,
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Two browser protections CORS alone does not give:
/// - WebSocket upgrades are not subject to CORS, so a page on any site could open `/graphql/ws` in the
///   user's browser (and graphql-transport-ws carries mutations too): refuse upgrades whose `Origin` is
///   neither this server nor an allowed origin.
/// - In open mode (no tokens, loopback only) a DNS-rebinding page reaches the server under a foreign
///   host name: refuse any `Host` that is not a loopback name.
async fn guard_origin(
    State(policy): State<Arc<OriginPolicy>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if policy.open && !host.is_empty() && !is_loopback_host(&host) {
        return (
            StatusCode::FORBIDDEN,
            "open mode (no tokens configured) serves loopback host names only",
        )
            .into_response();
    }
    let upgrade = request.headers().get(header::UPGRADE).is_some();
    if upgrade
        && let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
    {
        let same_host = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(&host));
        if !same_host
            && !policy
                .allowed
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
        {
            return (
                StatusCode::FORBIDDEN,
                "WebSocket origin not allowed (see BRIDGE_CORS_ORIGINS)",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// CORS for the configured origins only; none configured means same-origin only (no CORS headers).
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .max_age(Duration::from_secs(600)),
    )
}

fn unauthenticated() -> Response {
    let error = ApiError::Unauthenticated;
    let body = serde_json::json!({"errors": [{"message": error.message(), "extensions": {"code": error.code()}}]});
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer"),
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
        ],
        Json(body),
    )
        .into_response()
}

async fn graphql(State(state): State<HttpState>, request: Request) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let role = match state.tokens.role_for(authorization) {
        Ok(role) => role,
        Err(_) => return unauthenticated(),
    };
    graphql_http::handle(
        &state.schema,
        &state.documents,
        request,
        body_limit(role),
        |req| with_request_data(req, &state.db, role),
    )
    .await
}

/// The token of a `connection_init` payload: `{"Authorization": "Bearer …"}` (as GraphiQL sends headers),
/// `{"authorization": …}` or `{"token": …}`.
fn payload_token(payload: &serde_json::Value) -> Option<String> {
    ["Authorization", "authorization", "token"]
        .iter()
        .find_map(|key| {
            payload
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .or_else(|| payload.get("headers").and_then(payload_token))
}

async fn graphql_ws(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let executor = WsExecutor::new(state.schema.clone(), state.db.clone());
            GraphQLWebSocket::new(stream, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let role: Role = state.tokens.role_for(payload_token(&payload).as_deref())?;
                    let mut data = Data::default();
                    data.insert(role);
                    // Loaders are per operation, not per connection (see `WsExecutor`).
                    Ok(data)
                })
                .serve()
        })
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and, for each source with a schedule (each CareSoft domain's syncs, HR
/// pulls), its last success is not older than twice its interval; the JSON body says why not, naming the
/// source and the domain.
async fn readyz(State(state): State<HttpState>) -> Response {
    let unready = |reason: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"ready": false, "reason": reason})),
        )
            .into_response()
    };
    if let Err(err) = store::ping(&state.db).await {
        tracing::warn!(error = %err, "readiness: database unreachable");
        return unready("database unreachable");
    }
    // (source, domain, interval, what): one check per CareSoft domain (one without a domain while none is
    // configured), then the HR source.
    let mut checks: Vec<(SyncSource, Option<&str>, Option<Duration>, String)> = Vec::new();
    match state.domains.as_slice() {
        [] => checks.push((
            SyncSource::Caresoft,
            None,
            state.sync_interval,
            "sync".into(),
        )),
        [only] => checks.push((
            SyncSource::Caresoft,
            Some(only.as_str()),
            state.sync_interval,
            "sync".into(),
        )),
        several => checks.extend(several.iter().map(|name| {
            (
                SyncSource::Caresoft,
                Some(name.as_str()),
                state.sync_interval,
                format!("sync of domain {name}"),
            )
        })),
    }
    checks.push((
        SyncSource::Hr,
        None,
        state.hr_sync_interval,
        "HR pull".into(),
    ));

    let mut domains = serde_json::Map::new();
    let mut sources = serde_json::Map::new();
    let mut reasons = Vec::new();
    // The stalest domain's last success speaks for the CareSoft mirror.
    let mut caresoft: Option<(Option<DateTime<Utc>>, serde_json::Value)> = None;
    for (source, domain, interval, what) in checks {
        let last_success = match store::runs::last_success(&state.db, source, domain).await {
            Ok(last) => last.map(|last| last.finished_at),
            Err(err) => {
                tracing::warn!(error = %err, "readiness: cannot read sync runs");
                return unready("database error");
            }
        };
        let age = last_success.map(|t| (Utc::now() - t).to_std().unwrap_or_default());
        let stale = match (interval, age) {
            (Some(interval), Some(age)) if age > interval * 2 => Some(format!(
                "last successful {what} is {}s old, more than twice the {}s interval",
                age.as_secs(),
                interval.as_secs()
            )),
            (Some(interval), None) if state.started.elapsed() > interval * 2 => Some(format!(
                "no successful {what} in {}s, more than twice the {}s interval",
                state.started.elapsed().as_secs(),
                interval.as_secs()
            )),
            _ => None,
        };
        let entry = serde_json::json!({
            "scheduled": interval.is_some(),
            "lastSuccess": last_success.map(|t| t.to_rfc3339()),
            "ageSeconds": age.map(|a| a.as_secs()),
            "stale": stale,
        });
        reasons.extend(stale);
        match source {
            SyncSource::Caresoft => {
                if let Some(name) = domain {
                    domains.insert(name.to_string(), entry.clone());
                }
                let stalest = match &caresoft {
                    None => true,
                    Some((seen, _)) => {
                        seen.is_some() && last_success.is_none_or(|t| Some(t) < *seen)
                    }
                };
                if stalest {
                    caresoft = Some((last_success, entry));
                }
            }
            SyncSource::Hr => {
                sources.insert(source.as_str().to_string(), entry);
            }
        }
    }
    let (last_success, caresoft_entry) = caresoft.unwrap_or((None, serde_json::Value::Null));
    sources.insert(SyncSource::Caresoft.as_str().to_string(), caresoft_entry);
    let age = last_success.map(|t| (Utc::now() - t).to_std().unwrap_or_default());
    let ready = reasons.is_empty();
    let body = serde_json::json!({
        "ready": ready,
        "database": "ok",
        "lastSuccessfulSync": last_success.map(|t| t.to_rfc3339()),
        "lastSuccessfulSyncAgeSeconds": age.map(|a| a.as_secs()),
        "sources": sources,
        "domains": domains,
        "reason": (!ready).then(|| reasons.join("; ")),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts_are_recognised_with_or_without_a_port() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "127.1.2.3:80",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:8080",
            "localhost.evil.example",
            "0.0.0.0:80",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
