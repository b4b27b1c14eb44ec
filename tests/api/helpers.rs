//! Test fixtures: a fresh database per test (SQLite in a temp dir, PostgreSQL in a new database), a
//! CareSoft stand-in on 127.0.0.1 (wiremock), a syncer wired to both over real HTTP, the application served
//! in-process ([`spawn_app`]) or as a `serve` child process ([`ServeProcess`]), and a graphql-transport-ws
//! client ([`GraphqlWs`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caresoft_bridge::app::Application;
use caresoft_bridge::caresoft::{CareSoftClient, ClientConfig};
use caresoft_bridge::config::{ConfigError, MaxRemoval, Settings};
use caresoft_bridge::demo::stand_in::groups_of;
use caresoft_bridge::events::EventBus;
use caresoft_bridge::graphql::ApiDeps;
use caresoft_bridge::hr::HrPuller;
use caresoft_bridge::store;
use caresoft_bridge::sync::{Syncer, Syncers};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The administrative PostgreSQL database tests create their own databases from.
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";
pub const DOMAIN: &str = "acme";

/// A database that exists for one test only.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// Sends the application's logs to the test output (shown for failing tests); `RUST_LOG` filters.
pub fn init_logs() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

impl TestDb {
    /// A migrated SQLite database in its own temporary directory.
    pub async fn sqlite() -> TestDb {
        init_logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bridge.db").display()
        );
        let db = store::connect_and_migrate(&url)
            .await
            .expect("sqlite opens and migrates");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    /// A migrated PostgreSQL database of its own, or `None` (loudly) when PostgreSQL is not reachable
    /// outside CI. Under `CI=true` a missing PostgreSQL fails the test.
    pub async fn postgres() -> Option<TestDb> {
        init_logs();
        let admin = match store::connect(PG_ADMIN_URL).await {
            Ok(admin) => admin,
            Err(err) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}: {err}");
                }
                eprintln!(
                    "SKIPPED: PostgreSQL is not reachable at {PG_ADMIN_URL} ({err}); this test did not run"
                );
                return None;
            }
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "cb_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable");
        let db = store::connect_and_migrate(&url)
            .await
            .expect("postgres opens and migrates");
        Some(TestDb {
            db,
            url,
            _dir: None,
            pg_name: Some(name),
        })
    }

    /// A second, independent pool on the same database (as another process would have).
    pub async fn another_pool(&self) -> DatabaseConnection {
        store::connect(&self.url).await.expect("second pool")
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Counts rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        scalar(&self.db, &format!("SELECT COUNT(*) FROM {table}")).await
    }

    /// Installs triggers that count every INSERT and UPDATE on `agents`, so a test can prove a sync
    /// wrote no agent row at all.
    pub async fn count_agent_writes(&self) {
        let statements: &[&str] = match self.backend() {
            DatabaseBackend::Postgres => &[
                "CREATE TABLE agent_writes (n BIGINT NOT NULL)",
                "INSERT INTO agent_writes VALUES (0)",
                "CREATE FUNCTION count_agent_write() RETURNS trigger AS $$ BEGIN \
                 UPDATE agent_writes SET n = n + 1; RETURN NULL; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER agents_write AFTER INSERT OR UPDATE ON agents \
                 FOR EACH ROW EXECUTE FUNCTION count_agent_write()",
            ],
            _ => &[
                "CREATE TABLE agent_writes (n BIGINT NOT NULL)",
                "INSERT INTO agent_writes VALUES (0)",
                "CREATE TRIGGER agents_insert AFTER INSERT ON agents BEGIN UPDATE agent_writes SET n = n + 1; END",
                "CREATE TRIGGER agents_update AFTER UPDATE ON agents BEGIN UPDATE agent_writes SET n = n + 1; END",
            ],
        };
        for sql in statements {
            self.db
                .execute_unprepared(sql)
                .await
                .expect("write counter installs");
        }
    }

    /// Agent rows inserted or updated since [`TestDb::count_agent_writes`].
    pub async fn agent_writes(&self) -> i64 {
        scalar(&self.db, "SELECT n FROM agent_writes").await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Dropping a database needs an async connection; do it on a thread of its own so Drop stays sync.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = store::connect(PG_ADMIN_URL).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Reads one integer.
pub async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// An HR puller without a source, as a bridge that only imports has.
pub fn no_hr_source(db: DatabaseConnection) -> Arc<HrPuller> {
    Arc::new(HrPuller::new(
        db,
        Err(ConfigError::MissingOneOf {
            names: "neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE",
            needed_for: "sync-hr",
        }),
        MaxRemoval::default(),
    ))
}

/// The schema's dependencies for `db` with `syncer`, as a test uses them unless it says otherwise: no HR
/// source, its own event bus, the default removal share, introspection on, no seat price.
pub fn api_deps(db: &DatabaseConnection, syncer: Arc<Syncer>) -> ApiDeps {
    ApiDeps {
        db: db.clone(),
        syncers: Arc::new(Syncers::single(syncer)),
        hr: no_hr_source(db.clone()),
        events: EventBus::new(),
        max_removal: MaxRemoval::default(),
        introspection: true,
        alerts: caresoft_bridge::alerts::Deliverer::new(db.clone(), Default::default())
            .expect("an HTTP client"),
        seat_price: None,
    }
}

/// Runs a test body on SQLite and on PostgreSQL, each on a fresh database.
#[macro_export]
macro_rules! on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let db = $crate::helpers::TestDb::sqlite().await;
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(db) = $crate::helpers::TestDb::postgres().await {
                    ($body)(db).await;
                }
            }
        }
    };
}

/// One CareSoft agent as the API sends it.
pub fn agent_json(id: i64) -> Value {
    json!({
        "id": id,
        "username": format!("Chuyên viên {id}"),
        "email": format!("agent{id}@acme.vn"),
        "phone_no": format!("09{:08}", id),
        "agent_id": format!("{}", 5000 + id),
        "created_at": "2021-08-25 15:17:20",
        "updated_at": "2025-10-15 11:31:52",
        "group_id": 15257,
        "group_name": "Chăm sóc khách hàng",
        "role_id": 1,
        "call_status": "AVAILABLE",
        "ticket_status": "AVAILABLE",
        "chat_status": "NOT AVAILABLE"
    })
}

/// `count` agents with ids 1..=count.
pub fn agents_json(count: i64) -> Vec<Value> {
    (1..=count).map(agent_json).collect()
}

/// A CareSoft stand-in on 127.0.0.1 for one domain, whose answers (`/agents`, `/groups`) tests replace
/// between syncs.
pub struct StandIn {
    pub server: MockServer,
    pub domain: String,
    /// The answers of `/agents` and `/groups`, mounted again whenever one of them is replaced.
    answers: Mutex<(ResponseTemplate, ResponseTemplate)>,
}

impl StandIn {
    pub async fn start() -> StandIn {
        StandIn::start_for(DOMAIN).await
    }

    /// A stand-in of domain `domain`, answering empty lists until told otherwise.
    pub async fn start_for(domain: &str) -> StandIn {
        let empty =
            |key: &str| ResponseTemplate::new(200).set_body_json(json!({"code": "ok", key: []}));
        StandIn {
            server: MockServer::start().await,
            domain: domain.to_string(),
            answers: Mutex::new((empty("agents"), empty("groups"))),
        }
    }

    /// Answers every agents request with this list, and the groups request with the groups it names.
    pub async fn serve(&self, agents: &[Value]) {
        self.answer(
            Some(ResponseTemplate::new(200).set_body_json(json!({"code": "ok", "agents": agents}))),
            Some(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"code": "ok", "groups": groups_of(agents)})),
            ),
        )
        .await;
    }

    /// Answers every agents request with `template` (the groups answer stays as it was).
    pub async fn respond(&self, template: ResponseTemplate) {
        self.answer(Some(template), None).await;
    }

    /// Answers every groups request with this list (the agents answer stays as it was).
    pub async fn serve_groups(&self, groups: &[Value]) {
        self.respond_groups(
            ResponseTemplate::new(200).set_body_json(json!({"code": "ok", "groups": groups})),
        )
        .await;
    }

    /// Answers every groups request with `template` (the agents answer stays as it was).
    pub async fn respond_groups(&self, template: ResponseTemplate) {
        self.answer(None, Some(template)).await;
    }

    async fn answer(&self, agents: Option<ResponseTemplate>, groups: Option<ResponseTemplate>) {
        let (agents, groups) = {
            let mut answers = self.answers.lock().expect("answers");
            if let Some(agents) = agents {
                answers.0 = agents;
            }
            if let Some(groups) = groups {
                answers.1 = groups;
            }
            answers.clone()
        };
        self.server.reset().await;
        for (list, template) in [("agents", agents), ("groups", groups)] {
            Mock::given(method("GET"))
                .and(path(format!("/{}/api/v1/{list}", self.domain)))
                .respond_with(template)
                .mount(&self.server)
                .await;
        }
    }

    /// How many agent-list requests reached the stand-in since it started (or was last given an answer).
    pub async fn requests(&self) -> usize {
        self.server.received_requests().await.map_or(0, |requests| {
            requests
                .iter()
                .filter(|r| r.url.path().ends_with("/agents"))
                .count()
        })
    }

    /// The environment of a `serve` process that syncs `db_url` from this stand-in every `interval`.
    pub fn serve_vars(&self, db_url: &str, interval: &str) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db_url.to_string()),
            ("CARESOFT_BASE_URL", self.server.uri()),
            ("CARESOFT_DOMAIN", self.domain.clone()),
            ("CARESOFT_API_TOKEN", "test-token".to_string()),
            ("CARESOFT_MAX_ATTEMPTS", "1".to_string()),
            ("BRIDGE_SYNC_INTERVAL", interval.to_string()),
        ]
    }

    /// A client with short timeouts and backoffs, so failure tests stay fast.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(
            self.server.uri(),
            self.domain.clone(),
            "test-token".to_string().into(),
        );
        config.max_attempts = 2;
        config.initial_backoff = Duration::from_millis(10);
        config.max_backoff = Duration::from_millis(50);
        config.request_timeout = Duration::from_secs(5);
        config
    }

    /// A syncer for `db` that talks to this stand-in over real HTTP.
    pub fn syncer(&self, db: DatabaseConnection, max_removal: &str) -> Syncer {
        let client = CareSoftClient::new(self.client_config()).expect("client builds");
        Syncer::new(
            db,
            Ok(Arc::new(client)),
            self.domain.clone(),
            MaxRemoval::parse(max_removal).expect("share"),
        )
    }
}

/// Polls `probe` every 100 ms until it yields `Some`, or panics naming `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Settings from exactly these variables (nothing from the environment).
pub fn settings(vars: &[(&str, String)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Settings::from_lookup(|name| map.get(name).cloned()).expect("valid settings")
}

/// The application served in this process on 127.0.0.1 port 0, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub caresoft: StandIn,
    _t: TestDb,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Builds and runs the application on `t` with CareSoft at `caresoft`, scheduled syncs off unless `extra`
/// (which overrides the defaults) sets `BRIDGE_SYNC_INTERVAL`. With `CARESOFT_DOMAINS` in `extra`, the
/// single-domain variables are left out. On PostgreSQL it runs the event relay.
pub async fn spawn_app(t: TestDb, caresoft: StandIn, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("DATABASE_URL", t.url.clone()),
        ("CARESOFT_BASE_URL", caresoft.server.uri()),
        ("BRIDGE_SYNC_INTERVAL", "0".to_string()),
    ];
    if !extra.iter().any(|(k, _)| *k == "CARESOFT_DOMAINS") {
        vars.push(("CARESOFT_DOMAIN", caresoft.domain.clone()));
        vars.push(("CARESOFT_API_TOKEN", "test-token".to_string()));
    }
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let app = Application::build(
        &settings(&vars),
        t.db.clone(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("builds");
    let addr = app.local_addr().expect("bound");
    let stop = CancellationToken::new();
    tokio::spawn(app.run(stop.clone()));
    TestApp {
        addr,
        http: reqwest::Client::new(),
        caresoft,
        _t: t,
        stop,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The subscriptions endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// POSTs a GraphQL document; returns the status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str) -> (reqwest::StatusCode, Value) {
        graphql_post(&self.http, &self.url("/graphql"), token, query).await
    }
}

/// POSTs a GraphQL document to `url`; returns the status and the JSON body.
pub async fn graphql_post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
) -> (reqwest::StatusCode, Value) {
    let mut request = http
        .post(url)
        .json(&json!({ "query": query }))
        .timeout(Duration::from_secs(30));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("response");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}

/// A `caresoft-bridge serve` child process on 127.0.0.1 port 0. SIGKILLed when dropped; its log is
/// printed when the test fails.
pub struct ServeProcess {
    pub name: &'static str,
    pub addr: SocketAddr,
    child: tokio::process::Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServeProcess {
    /// Starts `serve` with only `vars` (plus logging at info) in its environment, and waits for the log
    /// line that names the address it bound.
    pub async fn start(name: &'static str, vars: &[(&str, String)]) -> ServeProcess {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_caresoft-bridge"));
        command
            .arg("serve")
            // No `.env` of the developer's, and nothing of the test's environment, reaches the child.
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("BRIDGE_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn,tower_http=warn")
            .env("NO_COLOR", "1")
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (bound, mut bound_rx) = tokio::sync::mpsc::unbounded_channel();
        let lines = log.clone();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if let Some(addr) = bound_addr(&line) {
                    let _ = bound.send(addr);
                }
                lines.lock().expect("log").push(line);
            }
        });
        let mut process = ServeProcess {
            name,
            addr: "127.0.0.1:0".parse().expect("addr"),
            child,
            log,
        };
        match tokio::time::timeout(Duration::from_secs(30), bound_rx.recv()).await {
            Ok(Some(addr)) => process.addr = addr,
            _ => panic!(
                "{name} did not report its address within 30 s (exit: {:?}):\n{}",
                process.child.try_wait(),
                process.log()
            ),
        }
        process
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// How many log lines so far contain `needle`.
    pub fn logged(&self, needle: &str) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// SIGKILL: no shutdown handler runs, as when a machine dies.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("killed");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!(
                "---- log of {} ({}) ----\n{}",
                self.name,
                self.addr,
                self.log()
            );
        }
    }
}

/// The address in `serve`'s `serving GraphQL at http://ADDR/graphql` line.
fn bound_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split("serving GraphQL at http://").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

/// What a graphql-transport-ws client receives.
#[derive(Debug)]
pub enum WsFrame {
    Message(Value),
    Closed(Option<(u16, String)>),
    TimedOut,
}

/// A minimal graphql-transport-ws client: JSON text frames in and out, reads with a timeout, pings
/// answered.
pub struct GraphqlWs {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl GraphqlWs {
    /// Opens the socket with the `graphql-transport-ws` subprotocol.
    pub async fn connect(url: &str) -> GraphqlWs {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = url.into_client_request().expect("ws request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (stream, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap_or_default()),
            Some("graphql-transport-ws")
        );
        GraphqlWs { stream }
    }

    pub async fn send(&mut self, message: Value) {
        assert!(self.try_send(message).await, "frame sent");
    }

    /// Sends a frame; `false` when the socket is already closed.
    pub async fn try_send(&mut self, message: Value) -> bool {
        use futures_util::SinkExt as _;
        self.stream
            .send(WsMessage::text(message.to_string()))
            .await
            .is_ok()
    }

    /// The next JSON message, the close, or nothing within `within`.
    pub async fn receive(&mut self, within: Duration) -> WsFrame {
        use futures_util::StreamExt as _;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return WsFrame::TimedOut,
                Ok(None) => return WsFrame::Closed(None),
                Ok(Some(Err(_))) => return WsFrame::Closed(None),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                WsMessage::Text(text) => {
                    let message: Value =
                        serde_json::from_str(text.as_str()).expect("a JSON message");
                    if message["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return WsFrame::Message(message);
                }
                WsMessage::Close(frame) => {
                    return WsFrame::Closed(
                        frame.map(|f| (u16::from(f.code), f.reason.as_str().to_string())),
                    );
                }
                _ => continue,
            }
        }
    }

    /// Sends `connection_init` with `payload` and returns the server's answer.
    pub async fn init(&mut self, payload: Value) -> WsFrame {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        self.receive(Duration::from_secs(10)).await
    }

    /// Sends `connection_init` and insists on `connection_ack`.
    pub async fn init_ok(&mut self, payload: Value) {
        match self.init(payload).await {
            WsFrame::Message(message) if message["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query}}))
            .await;
    }

    /// The `data` of the next `next` message of subscription `id` (messages of other subscriptions are
    /// dropped); panics on an error, a close or after `within`.
    pub async fn next_of(&mut self, id: &str, within: Duration) -> Value {
        match self.try_next_of(id, within).await {
            Some(data) => data,
            None => panic!("no `next` for subscription {id} within {within:?}"),
        }
    }

    /// Like [`GraphqlWs::next_of`], but `None` after `within`.
    pub async fn try_next_of(&mut self, id: &str, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await {
                WsFrame::Message(message) if message["id"] == id => {
                    assert_eq!(message["type"], "next", "{message}");
                    assert!(message["payload"]["errors"].is_null(), "{message}");
                    return Some(message["payload"]["data"].clone());
                }
                WsFrame::Message(_) => continue,
                WsFrame::TimedOut => return None,
                closed => panic!("waiting for `next` of {id}: {closed:?}"),
            }
        }
    }
}

/// Debian's Chromium, for the tests that drive a real browser; `None` (the test says it is skipped) when
/// it is not installed outside CI. `.ci/run` installs it.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but chromium is missing: install Debian's chromium (.ci/run does)");
        }
        eprintln!(
            "SKIPPED: chromium is not installed (apt-get install chromium); the browser test did not run"
        );
    }
    found
}

/// The DOM of `url` after its scripts ran, as headless Chromium renders it with every host but
/// 127.0.0.1 unresolvable: a page that needs the internet renders without it.
pub async fn offline_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("a profile folder");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=10000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finishes within 60 s")
    .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `caresoft-bridge ARGS` against `t` (and CareSoft at `caresoft`, when given), with a clean environment of
/// its own: nothing of the developer's `.env` or of the test's environment reaches it.
pub fn bridge_command(
    t: &TestDb,
    caresoft: Option<&StandIn>,
    args: &[&str],
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_caresoft-bridge"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &t.url)
        .env("RUST_LOG", "error")
        .env("CARESOFT_MAX_ATTEMPTS", "1")
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true);
    if let Some(caresoft) = caresoft {
        command
            .env("CARESOFT_BASE_URL", caresoft.server.uri())
            .env("CARESOFT_DOMAIN", DOMAIN)
            .env("CARESOFT_API_TOKEN", "test-token");
    }
    command
}
