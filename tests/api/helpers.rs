//! Test fixtures: a fresh database per test (SQLite in a temp dir, PostgreSQL in a new database), a
//! CareSoft stand-in on 127.0.0.1 (wiremock), and a syncer wired to both over real HTTP.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use caresoft_bridge::caresoft::{CareSoftClient, ClientConfig};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::db;
use caresoft_bridge::sync::Syncer;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::{Value, json};
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
        let db = db::connect_and_migrate(&url)
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
        let admin = match db::connect(PG_ADMIN_URL).await {
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
        let db = db::connect_and_migrate(&url)
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
        db::connect(&self.url).await.expect("second pool")
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
                if let Ok(admin) = db::connect(PG_ADMIN_URL).await {
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
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
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

/// A CareSoft stand-in on 127.0.0.1 whose answer tests replace between syncs.
pub struct StandIn {
    pub server: MockServer,
}

impl StandIn {
    pub async fn start() -> StandIn {
        StandIn {
            server: MockServer::start().await,
        }
    }

    /// Answers every agents request with this list.
    pub async fn serve(&self, agents: &[Value]) {
        self.respond(
            ResponseTemplate::new(200).set_body_json(json!({"code": "ok", "agents": agents})),
        )
        .await;
    }

    /// Answers every agents request with `template`.
    pub async fn respond(&self, template: ResponseTemplate) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .and(path(format!("/{DOMAIN}/api/v1/agents")))
            .respond_with(template)
            .mount(&self.server)
            .await;
    }

    /// A client with short timeouts and backoffs, so failure tests stay fast.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(
            self.server.uri(),
            DOMAIN.to_string(),
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
            Ok(client),
            DOMAIN.to_string(),
            MaxRemoval::parse(max_removal).expect("share"),
        )
    }
}
