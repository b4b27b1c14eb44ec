//! A CareSoft stand-in for `caresoft-bridge demo`, tests and benchmarks: an axum server on a listener the
//! caller binds (loopback) that answers `GET /{domain}/api/v1/agents` and `/groups` the way CareSoft does
//! (bearer token, `{"code":"ok","agents":[...]}`, CareSoft's `{"code":"errors","message":"..."}` error shape) and keeps a few
//! agents' channel statuses moving, so that repeated syncs see live changes.
//!
//! It owns the served agent list, the churn task that mutates it and its own graceful shutdown. It serves
//! whatever agent objects it is given, verbatim: it is a stand-in for the wire, not a model of CareSoft.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How long [`StandIn::shutdown`] lets in-flight requests finish before it stops the server anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The status fields a churn tick may change; `login_status` only exists on older-format agents.
const STATUS_FIELDS: [&str; 4] = [
    "call_status",
    "chat_status",
    "ticket_status",
    "login_status",
];
const AVAILABLE: &str = "AVAILABLE";
const NOT_AVAILABLE: &str = "NOT AVAILABLE";
const LOGOUT: &str = "LOGOUT";

/// What the stand-in serves and how it behaves.
#[derive(Clone)]
pub struct StandInConfig {
    /// The tenant path segment: only `/{domain}/api/v1/agents` answers.
    pub domain: String,
    /// The API token clients must send as `Authorization: Bearer {token}`.
    pub token: String,
    /// How often a handful of agents change status (3 s is lively in the IDE); zero disables churn.
    pub churn_every: Duration,
    /// Seed of the churn's random choices, so a run can be replayed.
    pub seed: u64,
}

impl fmt::Debug for StandInConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a secret even here: demo logs get pasted into issues.
        f.debug_struct("StandInConfig")
            .field("domain", &self.domain)
            .field("token", &"<redacted>")
            .field("churn_every", &self.churn_every)
            .field("seed", &self.seed)
            .finish()
    }
}

/// A running stand-in. Dropping it also stops the server and the churn (their stop signal is dropped), but
/// only [`StandIn::shutdown`] waits for them.
#[derive(Debug)]
pub struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    churn: Option<JoinHandle<()>>,
}

/// State shared by the request handler and the churn task.
struct Shared {
    domain: String,
    token: String,
    list: RwLock<Served>,
    /// `{"code":"ok","groups":[...]}`: the group list does not churn.
    groups: Bytes,
    requests: AtomicU64,
}

/// The agent list and its encoded answer, re-encoded only when the churn changes the list: a static list is
/// served as CareSoft would serve it, without paying for its encoding on every request (20,000 agents take
/// ~80 ms to encode, which a benchmark of the client would otherwise count as the client's).
struct Served {
    agents: Vec<Value>,
    body: Bytes,
}

impl Served {
    fn new(agents: Vec<Value>) -> serde_json::Result<Served> {
        let body = encode(&agents)?;
        Ok(Served { agents, body })
    }
}

/// `{"code":"ok","agents":[...]}`, without copying the list.
fn encode(agents: &[Value]) -> serde_json::Result<Bytes> {
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        code: &'static str,
        agents: &'a [Value],
    }
    serde_json::to_vec(&Envelope { code: "ok", agents }).map(Bytes::from)
}

/// The groups `agents` name, once each, in CareSoft's `/groups` shape.
pub fn groups_of(agents: &[Value]) -> Vec<Value> {
    let mut seen = std::collections::BTreeMap::new();
    for agent in agents {
        if let Some(id) = agent.get("group_id").and_then(Value::as_i64) {
            seen.entry(id)
                .or_insert_with(|| agent.get("group_name").cloned().unwrap_or(Value::Null));
        }
    }
    seen.into_iter()
        .map(|(id, name)| {
            serde_json::json!({"group_id": id, "group_name": name, "created_at": "2020-10-01 02:48:15"})
        })
        .collect()
}

impl StandIn {
    /// [`StandIn::start_with_groups`] with the groups the agents name.
    pub async fn start(
        listener: tokio::net::TcpListener,
        config: StandInConfig,
        agents: Vec<Value>,
    ) -> std::io::Result<StandIn> {
        let groups = groups_of(&agents);
        StandIn::start_with_groups(listener, config, agents, groups).await
    }

    /// Binds `listener` (127.0.0.1:0 in tests) and serves GET /{domain}/api/v1/agents and /groups.
    ///
    /// Fails with `InvalidInput` when the domain is not one non-empty path segment or the token is empty (either
    /// would make every request fail in a confusing way), or when the listener's address cannot be read.
    pub async fn start_with_groups(
        listener: tokio::net::TcpListener,
        config: StandInConfig,
        agents: Vec<Value>,
        groups: Vec<Value>,
    ) -> std::io::Result<StandIn> {
        let invalid = |message: &str| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, message.to_owned())
        };
        if config.domain.is_empty() || config.domain.contains(['/', '?', '#']) {
            return Err(invalid(
                "the stand-in's domain must be one non-empty path segment",
            ));
        }
        if config.token.is_empty() {
            return Err(invalid("the stand-in's token must not be empty"));
        }
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            domain: config.domain,
            token: config.token,
            list: RwLock::new(Served::new(agents)?),
            groups: Bytes::from(serde_json::to_vec(
                &serde_json::json!({"code": "ok", "groups": groups}),
            )?),
            requests: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(());

        let app = Router::new()
            .route("/{domain}/api/v1/agents", get(list_agents))
            .route("/{domain}/api/v1/groups", get(list_groups))
            .fallback(not_found)
            .with_state(Arc::clone(&shared));
        let mut server_stop = stopped.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // Err means the StandIn was dropped: stop as well.
                    let _ = server_stop.changed().await;
                })
                .await
        });
        let churn = (!config.churn_every.is_zero()).then(|| {
            tokio::spawn(churn(
                Arc::clone(&shared),
                config.churn_every,
                config.seed,
                stopped,
            ))
        });
        tracing::info!(
            base_url = %format!("http://{addr}"),
            domain = %shared.domain,
            churn_every = ?config.churn_every,
            "CareSoft stand-in listening"
        );
        Ok(StandIn {
            addr,
            shared,
            stop,
            server,
            churn,
        })
    }

    /// `http://127.0.0.1:PORT`: what to use as `CARESOFT_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many agent lists were served (answered 200); refused requests do not count.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops accepting connections, lets in-flight requests finish (up to a grace period) and stops the churn.
    pub async fn shutdown(self) {
        // Err only when every receiver is gone, i.e. both tasks already ended.
        let _ = self.stop.send(());
        if let Some(churn) = self.churn
            && let Err(err) = churn.await
        {
            tracing::warn!(%err, "CareSoft stand-in churn task ended abnormally");
        }
        let mut server = self.server;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => tracing::info!("CareSoft stand-in stopped"),
            Ok(Ok(Err(err))) => tracing::warn!(%err, "CareSoft stand-in server failed"),
            Ok(Err(err)) => tracing::warn!(%err, "CareSoft stand-in server task ended abnormally"),
            Err(_) => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "CareSoft stand-in requests still open; stopping anyway");
                server.abort();
            }
        }
    }
}

/// `GET /{domain}/api/v1/agents`. The domain is checked before the token, as on a multi-tenant host: a token
/// only means something within its tenant. Query parameters (the client's `page`/`count`) are ignored, and
/// no `numFound` is sent: like CareSoft, the whole list comes in one answer.
async fn list_agents(
    State(shared): State<Arc<Shared>>,
    domain: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = shared.refusal(&domain, &headers) {
        return refused;
    }
    let body = shared
        .list
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .body
        .clone();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /{domain}/api/v1/groups`, checked like [`list_agents`]; not counted in [`StandIn::requests`].
async fn list_groups(
    State(shared): State<Arc<Shared>>,
    domain: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = shared.refusal(&domain, &headers) {
        return refused;
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        shared.groups.clone(),
    )
        .into_response()
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No token, and no 300 agents, in a debug print.
        f.debug_struct("Shared")
            .field("domain", &self.domain)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// CareSoft's answer to a request for another tenant (404) or without this one's token (401); `None`
    /// when the request may be served.
    fn refusal(
        &self,
        domain: &Result<Path<String>, PathRejection>,
        headers: &HeaderMap,
    ) -> Option<Response> {
        if !matches!(domain, Ok(Path(domain)) if *domain == self.domain) {
            return Some(caresoft_error(StatusCode::NOT_FOUND, "Not found."));
        }
        if !self.authorized(headers) {
            return Some(caresoft_error(StatusCode::UNAUTHORIZED, "Unauthenticated."));
        }
        None
    }

    /// `Authorization: Bearer {token}`; the scheme is case-insensitive (RFC 9110), the token is not.
    ///
    /// A plain comparison: the stand-in guards nothing of value, so a timing-safe one would be ceremony.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .is_some_and(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer") && token.trim() == self.token
            })
    }
}

/// Unknown domains and paths get CareSoft's error shape too, so clients exercise one error decoder.
async fn not_found() -> Response {
    caresoft_error(StatusCode::NOT_FOUND, "Not found.")
}

fn caresoft_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "code": "errors", "message": message })),
    )
        .into_response()
}

/// Every `every`, changes the status of 3–8 random agents until `stop` fires (or its sender is dropped).
async fn churn(shared: Arc<Shared>, every: Duration, seed: u64, mut stop: watch::Receiver<()>) {
    let mut rng = StdRng::seed_from_u64(seed);
    // The first change comes one period after start: the first sync sees the list as it was given.
    let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
    // A stalled runtime should not replay a burst of missed ticks.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = ticks.tick() => {
                let mut list = shared.list.write().unwrap_or_else(PoisonError::into_inner);
                let changed = churn_once(&mut list.agents, &mut rng);
                match encode(&list.agents) {
                    Ok(body) => list.body = body,
                    // Unreachable for JSON values; the previous answer is still a valid list.
                    Err(err) => tracing::error!(%err, "CareSoft stand-in could not encode the agent list"),
                }
                drop(list);
                tracing::debug!(changed, "CareSoft stand-in changed agent statuses");
            }
        }
    }
}

/// One tick: 3–8 distinct agents change. A quarter of them log in or out on every channel at once (what
/// CareSoft shows when someone starts or ends a shift); the others move one channel to another status.
/// Returns how many agents changed.
fn churn_once(agents: &mut [Value], rng: &mut StdRng) -> usize {
    if agents.is_empty() {
        return 0;
    }
    let count = rng.random_range(3..=8).min(agents.len());
    let mut changed = 0;
    for index in rand::seq::index::sample(rng, agents.len(), count) {
        let Some(agent) = agents.get_mut(index).and_then(Value::as_object_mut) else {
            continue;
        };
        let present: Vec<&str> = STATUS_FIELDS
            .into_iter()
            .filter(|field| agent.contains_key(*field))
            .collect();
        // An agent with no status at all gets a call status: it is the channel every seat has.
        let fields = if present.is_empty() {
            vec!["call_status"]
        } else {
            present
        };
        if rng.random_bool(0.25) {
            let logged_out = fields
                .iter()
                .all(|f| agent.get(*f).and_then(Value::as_str) == Some(LOGOUT));
            for field in fields {
                let next = if logged_out {
                    *[AVAILABLE, NOT_AVAILABLE].choose(rng).unwrap_or(&AVAILABLE)
                } else {
                    LOGOUT
                };
                agent.insert(field.to_owned(), Value::from(next));
            }
        } else {
            let field = *fields.choose(rng).unwrap_or(&"call_status");
            let current = agent.get(field).and_then(Value::as_str);
            let others: Vec<&str> = [AVAILABLE, NOT_AVAILABLE, LOGOUT]
                .into_iter()
                .filter(|status| Some(*status) != current)
                .collect();
            let next = *others.choose(rng).unwrap_or(&AVAILABLE);
            agent.insert(field.to_owned(), Value::from(next));
        }
        changed += 1;
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DOMAIN: &str = "acme";
    const TOKEN: &str = "demo-token-123";

    async fn spawn(churn_every: Duration, agents: Vec<Value>) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let config = StandInConfig {
            domain: DOMAIN.to_owned(),
            token: TOKEN.to_owned(),
            churn_every,
            seed: 7,
        };
        StandIn::start(listener, config, agents)
            .await
            .expect("stand-in starts")
    }

    fn client() -> reqwest::Client {
        // Loopback only: a proxy from the environment must not see these requests.
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
    }

    fn agents_url(stand_in: &StandIn) -> String {
        format!(
            "{}/{DOMAIN}/api/v1/agents?page=1&count=500",
            stand_in.base_url()
        )
    }

    async fn fetch(stand_in: &StandIn) -> Vec<Value> {
        let response = client()
            .get(agents_url(stand_in))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK.as_u16());
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body["code"], "ok");
        body["agents"].as_array().expect("agents array").clone()
    }

    fn few_agents() -> Vec<Value> {
        (0..10)
            .map(|i| {
                json!({
                    "id": 10_000_000 + i, "username": format!("Agent {i}"), "email": format!("a{i}@acme.vn"),
                    "call_status": "AVAILABLE", "ticket_status": "LOGOUT", "chat_status": "NOT AVAILABLE"
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn the_agent_list_needs_the_bearer_token() {
        // Arrange
        let stand_in = spawn(Duration::ZERO, few_agents()).await;
        let url = agents_url(&stand_in);

        // Act
        let missing = client().get(&url).send().await.expect("request");
        let wrong = client()
            .get(&url)
            .bearer_auth("not-the-token")
            .send()
            .await
            .expect("request");
        let basic = client()
            .get(&url)
            .basic_auth(TOKEN, None::<&str>)
            .send()
            .await
            .expect("request");

        // Assert
        for response in [missing, wrong, basic] {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED.as_u16());
            let body: Value = response.json().await.expect("JSON error");
            assert_eq!(body["code"], "errors");
            assert!(body["message"].is_string());
        }
        assert_eq!(stand_in.requests(), 0);
        stand_in.shutdown().await;
    }

    #[tokio::test]
    async fn an_unknown_domain_or_path_is_a_404_in_caresofts_error_shape() {
        let stand_in = spawn(Duration::ZERO, few_agents()).await;
        for path in ["/other/api/v1/agents", "/acme/api/v1/tickets", "/"] {
            let response = client()
                .get(format!("{}{path}", stand_in.base_url()))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::NOT_FOUND.as_u16(), "{path}");
            let body: Value = response.json().await.expect("JSON error");
            assert_eq!(body["code"], "errors", "{path}");
        }
        assert_eq!(stand_in.requests(), 0);
        stand_in.shutdown().await;
    }

    #[tokio::test]
    async fn the_list_is_served_verbatim_in_caresofts_shape() {
        // Arrange
        let agents = crate::demo::sample::sample_agents();
        let stand_in = spawn(Duration::ZERO, agents.clone()).await;

        // Act
        let response = client()
            .get(agents_url(&stand_in))
            .header("Authorization", format!("bearer {TOKEN}"))
            .send()
            .await
            .expect("request");

        // Assert
        assert_eq!(response.status(), StatusCode::OK.as_u16());
        assert_eq!(
            response.headers()[header::CONTENT_TYPE.as_str()],
            "application/json"
        );
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body, json!({ "code": "ok", "agents": agents }));
        stand_in.shutdown().await;
    }

    #[tokio::test]
    async fn requests_counts_the_lists_served() {
        let stand_in = spawn(Duration::ZERO, few_agents()).await;
        for _ in 0..3 {
            fetch(&stand_in).await;
        }
        let refused = client()
            .get(agents_url(&stand_in))
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED.as_u16());
        assert_eq!(stand_in.requests(), 3);
        stand_in.shutdown().await;
    }

    #[tokio::test]
    async fn churn_changes_some_statuses_and_nothing_else() {
        // Arrange
        let stand_in = spawn(Duration::from_millis(50), few_agents()).await;
        let before = fetch(&stand_in).await;

        // Act: poll until a tick has landed, bounded.
        let deadline = Instant::now() + Duration::from_secs(5);
        let after = loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = fetch(&stand_in).await;
            if now != before || Instant::now() > deadline {
                break now;
            }
        };

        // Assert
        assert_ne!(after, before, "no status changed within 5 s");
        assert_eq!(after.len(), before.len());
        for (old, new) in before.iter().zip(&after) {
            let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
                panic!("agents are objects");
            };
            for (key, value) in old {
                if !STATUS_FIELDS.contains(&key.as_str()) {
                    assert_eq!(new.get(key), Some(value), "{key} must not churn");
                }
            }
            for field in STATUS_FIELDS {
                if let Some(status) = new.get(field) {
                    assert!(
                        [AVAILABLE, NOT_AVAILABLE, LOGOUT]
                            .contains(&status.as_str().unwrap_or_default()),
                        "{status}"
                    );
                }
            }
        }
        stand_in.shutdown().await;
    }

    #[tokio::test]
    async fn zero_churn_leaves_the_list_alone() {
        let stand_in = spawn(Duration::ZERO, few_agents()).await;
        let before = fetch(&stand_in).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(fetch(&stand_in).await, before);
        stand_in.shutdown().await;
    }

    #[test]
    fn one_tick_changes_three_to_eight_agents() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let mut agents = crate::demo::sample::sample_agents();
            let before = agents.clone();
            let reported = churn_once(&mut agents, &mut rng);
            let differing = before.iter().zip(&agents).filter(|(a, b)| a != b).count();
            assert!((3..=8).contains(&reported), "{reported}");
            assert_eq!(differing, reported, "every picked agent really changes");
        }
        assert_eq!(churn_once(&mut [], &mut rng), 0);
    }

    #[tokio::test]
    async fn shutdown_is_prompt_and_stops_serving() {
        // Arrange: a pooled keep-alive connection stays open, as a sync's client would leave it.
        let stand_in = spawn(Duration::from_millis(50), few_agents()).await;
        let pooled = client();
        let url = agents_url(&stand_in);
        let first = pooled
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(first.status(), StatusCode::OK.as_u16());

        // Act
        tokio::time::timeout(Duration::from_secs(2), stand_in.shutdown())
            .await
            .expect("shutdown within 2 s");

        // Assert
        let after = client().get(&url).bearer_auth(TOKEN).send().await;
        assert!(after.is_err(), "still serving after shutdown");
    }

    #[tokio::test]
    async fn start_refuses_a_bad_domain_or_an_empty_token() {
        for (domain, token) in [("", TOKEN), ("a/b", TOKEN), (DOMAIN, "")] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind loopback");
            let config = StandInConfig {
                domain: domain.to_owned(),
                token: token.to_owned(),
                churn_every: Duration::ZERO,
                seed: 0,
            };
            let err = StandIn::start(listener, config, vec![])
                .await
                .expect_err("invalid config");
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn the_config_never_prints_the_token() {
        let config = StandInConfig {
            domain: DOMAIN.to_owned(),
            token: TOKEN.to_owned(),
            churn_every: Duration::from_secs(3),
            seed: 1,
        };
        assert!(!format!("{config:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn a_running_stand_in_never_prints_the_token() {
        let stand_in = spawn(Duration::ZERO, few_agents()).await;
        assert!(!format!("{stand_in:?}").contains(TOKEN));
        stand_in.shutdown().await;
    }
}
