//! Pulls of the HR source from real databases: PostgreSQL, MariaDB and SQLite as the enterprise's HR, each
//! in a database of its own, pulled into the bridge on SQLite and on PostgreSQL; and from an HR file. The
//! HR tables have Vietnamese column names and data, an INT code column, a BIGINT phone, a BOOLEAN or
//! TINYINT "left" flag mapped with CASE, NULLs and a view.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::domain::{EmployeeStatus, LinkCause, SyncOutcome, SyncSource, Trigger};
use caresoft_bridge::hr::source::{DatabaseSource, HrSource};
use caresoft_bridge::hr::{self, HrPuller, ImportOptions};
use caresoft_bridge::store;
use caresoft_bridge::sync::{Surface, SyncReport, SyncRequest};
use entity::{employee, link_history, sync_run};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestDb, agent_json, eventually, spawn_app};

/// The MariaDB server tests create their HR databases on.
const MARIADB_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/test";
const PG_ADMIN_URL: &str = crate::helpers::PG_ADMIN_URL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Postgres,
    MariaDb,
    Sqlite,
}

/// An enterprise HR database that exists for one test only.
struct HrDb {
    engine: Engine,
    url: String,
    db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
    name: Option<String>,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "cb_hr_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

impl HrDb {
    /// A fresh HR database on `engine`, or `None` (loudly) when its server is not reachable outside CI.
    async fn create(engine: Engine) -> Option<HrDb> {
        let (admin_url, base) = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("hr.db").display());
                let db = store::connect(&url).await.expect("sqlite HR database");
                let hr = HrDb {
                    engine,
                    url,
                    db,
                    _dir: Some(dir),
                    name: None,
                };
                hr.create_tables().await;
                return Some(hr);
            }
            Engine::Postgres => (PG_ADMIN_URL, "postgres://postgres@127.0.0.1:5432"),
            Engine::MariaDb => (MARIADB_ADMIN_URL, "mysql://root@127.0.0.1:3306"),
        };
        let admin = match sea_orm::Database::connect(admin_url).await {
            Ok(admin) => admin,
            Err(err) => {
                if in_ci() {
                    panic!("CI=true but {engine:?} is not reachable at {admin_url}: {err}");
                }
                eprintln!(
                    "SKIPPED: {engine:?} is not reachable at {admin_url} ({err}); this HR source test did not run"
                );
                return None;
            }
        };
        let name = unique_name();
        let create = match engine {
            // utf8mb4, or Vietnamese text is mangled.
            Engine::MariaDb => {
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            }
            _ => format!("CREATE DATABASE {name}"),
        };
        admin
            .execute_unprepared(&create)
            .await
            .expect("create HR database");
        let url = match engine {
            Engine::Postgres => format!("{base}/{name}?sslmode=disable"),
            _ => format!("{base}/{name}"),
        };
        let db = sea_orm::Database::connect(&url)
            .await
            .expect("HR database opens");
        let hr = HrDb {
            engine,
            url,
            db,
            _dir: None,
            name: Some(name),
        };
        hr.create_tables().await;
        Some(hr)
    }

    async fn exec(&self, sql: &str) {
        self.db
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// `nhân_viên`, the HR table, and `nhân_sự`, a view of it named as the HR CSV, with ten people.
    async fn create_tables(&self) {
        let (flag_type, flag_is_set) = match self.engine {
            Engine::Postgres => ("BOOLEAN", "đã_nghỉ"),
            Engine::MariaDb => ("TINYINT(1)", "đã_nghỉ = 1"),
            Engine::Sqlite => ("INTEGER", "đã_nghỉ = 1"),
        };
        self.exec(&format!(
            "CREATE TABLE nhân_viên (mã_nv INTEGER PRIMARY KEY, họ_tên VARCHAR(200), \
             thư_điện_tử VARCHAR(200), điện_thoại BIGINT, phòng_ban VARCHAR(200), \
             đã_nghỉ {flag_type} NOT NULL DEFAULT FALSE)"
        ))
        .await;
        self.exec(&format!(
            "CREATE VIEW nhân_sự AS SELECT mã_nv AS employee_code, họ_tên AS full_name, \
             thư_điện_tử AS email, điện_thoại AS phone, phòng_ban AS department, \
             CASE WHEN {flag_is_set} THEN 'terminated' ELSE 'active' END AS status FROM nhân_viên"
        ))
        .await;
        for row in [
            // Agent 1's email.
            "(1001, 'Nguyễn Văn An', 'agent1@acme.vn', NULL, 'Kế toán', FALSE)",
            // Left the company; no email (NULL).
            "(1002, 'Trần Thị Bình', NULL, NULL, 'Chăm sóc khách hàng', TRUE)",
            // Agent 2's phone, 0900000002, stored as a number without its leading zero.
            "(1003, 'Lê Hoàng Cường', NULL, 900000002, 'Kinh doanh', FALSE)",
            "(1004, 'Phạm Thu Dung', 'dung.pham@acme.vn', NULL, 'Kế toán', FALSE)",
            "(1005, 'Hoàng Minh Đức', 'duc.hoang@acme.vn', NULL, 'Kỹ thuật', FALSE)",
            "(1006, 'Đặng Mỹ Vy', 'vy.dang@acme.vn', NULL, 'Kỹ thuật', FALSE)",
            "(1007, 'Đỗ Khánh Thảo', 'thao.do@acme.vn', NULL, NULL, FALSE)",
            "(1008, 'Đinh Gia Tùng', 'tung.dinh@acme.vn', NULL, 'Kinh doanh', FALSE)",
            "(1009, 'Vũ Ngọc Hà', 'ha.vu@acme.vn', NULL, 'Kinh doanh', FALSE)",
            "(1010, 'Bùi Quang Huy', 'huy.bui@acme.vn', NULL, 'Kỹ thuật', FALSE)",
        ] {
            self.exec(&format!("INSERT INTO nhân_viên VALUES {row}"))
                .await;
        }
    }

    /// A puller of `query` on this database into `bridge`.
    fn puller(&self, bridge: &DatabaseConnection, query: &str, timeout: Duration) -> HrPuller {
        let source = DatabaseSource::new(self.url.clone().into(), query.to_string(), timeout)
            .expect("a valid source");
        HrPuller::new(
            bridge.clone(),
            Ok(HrSource::Database(source)),
            MaxRemoval::default(),
        )
    }

    /// A query that runs for minutes, to be cut by the timeout.
    fn slow_query(&self) -> &'static str {
        match self.engine {
            Engine::Postgres => "SELECT pg_sleep(30)::text AS employee_code",
            Engine::MariaDb => "SELECT SLEEP(30) AS employee_code",
            Engine::Sqlite => {
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000) \
                 SELECT COUNT(*) AS employee_code FROM r"
            }
        }
    }
}

impl Drop for HrDb {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let engine = self.engine;
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let (url, sql) = match engine {
                    Engine::Postgres => (
                        PG_ADMIN_URL,
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ),
                    _ => (MARIADB_ADMIN_URL, format!("DROP DATABASE IF EXISTS {name}")),
                };
                if let Ok(admin) = sea_orm::Database::connect(url).await {
                    let _ = admin.execute_unprepared(&sql).await;
                }
            });
        })
        .join();
    }
}

/// Runs a test body for each HR engine (PostgreSQL, MariaDB, SQLite) into each bridge engine.
macro_rules! on_each_source {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            async fn run(source: Engine, bridge: Option<TestDb>) {
                let Some(bridge) = bridge else { return };
                let Some(hr) = HrDb::create(source).await else {
                    return;
                };
                ($body)(hr, bridge).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_postgres_into_sqlite() {
                run(Engine::Postgres, Some(TestDb::sqlite().await)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_mariadb_into_sqlite() {
                run(Engine::MariaDb, Some(TestDb::sqlite().await)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_sqlite_into_sqlite() {
                run(Engine::Sqlite, Some(TestDb::sqlite().await)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_postgres_into_postgres() {
                run(Engine::Postgres, TestDb::postgres().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_mariadb_into_postgres() {
                run(Engine::MariaDb, TestDb::postgres().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn from_sqlite_into_postgres() {
                run(Engine::Sqlite, TestDb::postgres().await).await;
            }
        }
    };
}

const VIEW: &str = "SELECT * FROM nhân_sự";
const TIMEOUT: Duration = Duration::from_secs(30);

async fn pull(puller: &HrPuller) -> SyncReport {
    pull_with(puller, false, false).await
}

async fn pull_with(puller: &HrPuller, dry_run: bool, allow_mass_removal: bool) -> SyncReport {
    puller
        .run(SyncRequest {
            dry_run,
            allow_mass_removal,
            ..SyncRequest::new(Trigger::Cli)
        })
        .await
        .expect("the run is recorded")
}

async fn employees(db: &DatabaseConnection) -> Vec<employee::Model> {
    employee::Entity::find()
        .order_by_asc(employee::Column::EmployeeCode)
        .all(db)
        .await
        .expect("employees")
}

async fn by_code(db: &DatabaseConnection, code: &str) -> employee::Model {
    store::employees::by_code(db, code)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("employee {code}"))
}

/// (added, updated, removed, restored, unchanged) of a run.
fn counts(report: &SyncReport) -> [usize; 5] {
    let c = report.counts;
    [c.added, c.updated, c.removed, c.restored, c.unchanged]
}

fn assert_succeeded(report: &SyncReport) {
    assert_eq!(
        report.outcome,
        SyncOutcome::Succeeded,
        "{}",
        report.summary_line()
    );
    assert_eq!(report.source, SyncSource::Hr);
}

on_each_source!(
    a_pull_adds_changes_removes_and_restores,
    |hr: HrDb, t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&[agent_json(1), agent_json(2)]).await;
        caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let puller = hr.puller(&t.db, VIEW, TIMEOUT);

        // The first pull adds everyone, text intact, integers read as text, NULL as empty.
        let first = pull(&puller).await;
        assert_succeeded(&first);
        assert_eq!(first.counts.fetched, 10);
        assert_eq!(counts(&first), [10, 0, 0, 0, 0]);
        let an = by_code(&t.db, "1001").await;
        assert_eq!(an.full_name.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(an.department.as_deref(), Some("Kế toán"));
        assert_eq!(an.status, EmployeeStatus::Active);
        let binh = by_code(&t.db, "1002").await;
        assert_eq!(
            binh.status,
            EmployeeStatus::Terminated,
            "the flag, mapped with CASE"
        );
        assert_eq!(binh.email, None);
        assert_eq!(binh.phone, None);
        let cuong = by_code(&t.db, "1003").await;
        assert_eq!(cuong.phone.as_deref(), Some("900000002"), "a BIGINT phone");
        assert_eq!(cuong.phone_key.as_deref(), Some("0900000002"));
        assert_eq!(by_code(&t.db, "1007").await.department, None);

        // The links follow in the same run, recorded as caused by HR.
        let links = store::links::of_agents(&t.db, &[1, 2])
            .await
            .expect("links");
        let employee_of = |agent: i64| {
            links
                .iter()
                .find(|l| l.agent_id == agent)
                .and_then(|l| l.employee_id)
        };
        assert_eq!(employee_of(1), Some(an.id), "by email");
        assert_eq!(
            employee_of(2),
            Some(cuong.id),
            "by a phone that lost its leading zero"
        );
        let caused_by_hr = link_history::Entity::find()
            .filter(link_history::Column::Cause.eq(LinkCause::Hr))
            .all(&t.db)
            .await
            .expect("history");
        assert_eq!(caused_by_hr.len(), 2, "{caused_by_hr:?}");

        // A pull that finds nothing new writes no employee row.
        let before = employees(&t.db).await;
        let again = pull(&puller).await;
        assert_succeeded(&again);
        assert_eq!(counts(&again), [0, 0, 0, 0, 10]);
        assert_eq!(employees(&t.db).await, before, "no row written");

        // The table itself, with the flag mapped in the query, reads the same as the view.
        let flag = match hr.engine {
            Engine::Postgres => "đã_nghỉ",
            _ => "đã_nghỉ = 1",
        };
        let direct = hr.puller(
            &t.db,
            &format!(
                "SELECT mã_nv AS Employee_Code, họ_tên AS FULL_NAME, thư_điện_tử AS email, \
                 điện_thoại AS phone, phòng_ban AS department, \
                 CASE WHEN {flag} THEN 'terminated' ELSE 'active' END AS status FROM nhân_viên"
            ),
            TIMEOUT,
        );
        assert_eq!(counts(&pull(&direct).await), [0, 0, 0, 0, 10]);

        // A dry run says what would change and changes nothing.
        hr.exec("UPDATE nhân_viên SET phòng_ban = 'Kinh doanh' WHERE mã_nv = 1004")
            .await;
        let dry = pull_with(&puller, true, false).await;
        assert_eq!(dry.outcome, SyncOutcome::DryRun, "{}", dry.summary_line());
        assert_eq!(counts(&dry), [0, 1, 0, 0, 9]);
        assert_eq!(dry.preview, ["update 1004 (Phạm Thu Dung)"]);
        assert_eq!(employees(&t.db).await, before, "a dry run changes nothing");

        // Someone leaves the table: they are marked removed, kept.
        hr.exec("DELETE FROM nhân_viên WHERE mã_nv = 1005").await;
        let removed = pull(&puller).await;
        assert_succeeded(&removed);
        assert_eq!(counts(&removed), [0, 1, 1, 0, 8]);
        assert_eq!(
            by_code(&t.db, "1004").await.department.as_deref(),
            Some("Kinh doanh")
        );
        assert!(by_code(&t.db, "1005").await.removed_at.is_some());

        // And comes back.
        hr.exec(
            "INSERT INTO nhân_viên VALUES (1005, 'Hoàng Minh Đức', 'duc.hoang@acme.vn', NULL, 'Kỹ thuật', FALSE)",
        )
        .await;
        let restored = pull(&puller).await;
        assert_succeeded(&restored);
        assert_eq!(counts(&restored), [0, 1, 0, 1, 9]);
        assert_eq!(by_code(&t.db, "1005").await.removed_at, None);

        // Every pull is a run of the HR source.
        let runs = store::runs::latest(&t.db, 100, Some(SyncSource::Hr), None)
            .await
            .expect("runs");
        assert_eq!(runs.len(), 6);
        assert!(runs.iter().all(|r| r.source == SyncSource::Hr));
        assert_eq!(runs[0].restored, 1);
        let caresoft_runs = store::runs::latest(&t.db, 100, Some(SyncSource::Caresoft), None)
            .await
            .expect("runs");
        assert_eq!(caresoft_runs.len(), 1, "the sync is not an HR run");
    }
);

/// Pulls `query`, expects a run of `outcome` whose error contains every one of `says`, and that the
/// employees are exactly `before`.
async fn refused_or_failed(
    puller: &HrPuller,
    t: &TestDb,
    before: &[employee::Model],
    outcome: SyncOutcome,
    says: &[&str],
) {
    let report = pull(puller).await;
    assert_eq!(report.outcome, outcome, "{}", report.summary_line());
    let error = report.error_for(Surface::Cli);
    for needle in says {
        assert!(error.contains(needle), "{error:?} should say {needle:?}");
    }
    assert_eq!(employees(&t.db).await, before, "nothing changed: {error}");
    let run = sync_run::Entity::find_by_id(report.run_id)
        .one(&t.db)
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(run.outcome, outcome);
    assert_eq!(run.source, SyncSource::Hr);
    let recorded = report.error.as_ref().expect("an error");
    assert_eq!(
        run.error_detail.as_ref(),
        Some(&recorded.detail),
        "the run says why"
    );
    assert_eq!(run.error.as_ref(), Some(&recorded.message));
    assert_eq!(run.error_code, Some(recorded.code));
}

on_each_source!(
    a_bad_pull_changes_nothing_and_says_why,
    |hr: HrDb, t: TestDb| async move {
        assert_succeeded(&pull(&hr.puller(&t.db, VIEW, TIMEOUT)).await);
        let before = employees(&t.db).await;
        let failed = SyncOutcome::Failed;

        // Half the table gone: the guard refuses.
        hr.exec("DELETE FROM nhân_viên WHERE mã_nv <= 1005").await;
        let guarded = hr.puller(&t.db, VIEW, TIMEOUT);
        refused_or_failed(
            &guarded,
            &t,
            &before,
            SyncOutcome::Refused,
            &["lacks 5 of the 10 employees", "--allow-mass-removal"],
        )
        .await;

        let cases: &[(&str, &[&str])] = &[
            (
                "SELECT * FROM bảng_không_có",
                &["HR source: HR_QUERY failed", "bảng_không_có"],
            ),
            (
                "SELECT mã_nv AS ma, họ_tên FROM nhân_viên",
                &["no column \"employee_code\"", "ma, họ_tên"],
            ),
            (
                "SELECT * FROM nhân_sự UNION ALL SELECT * FROM nhân_sự WHERE employee_code = 1006",
                &[
                    "1 invalid rows from the HR source",
                    "line 6, column employee_code: duplicate employee_code \"1006\" (first on line 1)",
                ],
            ),
            (
                "SELECT employee_code, full_name, 'nghỉ việc' AS status FROM nhân_sự",
                &[
                    "5 invalid rows",
                    "line 1, column status: unknown status \"nghỉ việc\"",
                ],
            ),
            (
                "SELECT employee_code, 1.5 AS phone FROM nhân_sự",
                &[
                    "column \"phone\" is of type",
                    "reads as neither text nor an integer",
                ],
            ),
        ];
        for (query, says) in cases {
            refused_or_failed(&hr.puller(&t.db, query, TIMEOUT), &t, &before, failed, says).await;
        }
        let slow = hr.puller(&t.db, hr.slow_query(), Duration::from_secs(1));
        let started = std::time::Instant::now();
        refused_or_failed(&slow, &t, &before, failed, &["did not finish within 1s"]).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the engine's own timeout stopped it ({:?})",
            started.elapsed()
        );

        // Told that the removals are right, the pull applies them.
        let allowed = pull_with(&guarded, false, true).await;
        assert_succeeded(&allowed);
        assert_eq!(counts(&allowed), [0, 0, 5, 0, 5]);
    }
);

/// A pull that would write the HR database is stopped by its read-only transaction, whatever the
/// statement check let through: a writing CTE on PostgreSQL, a function that deletes on MariaDB.
async fn a_pull_never_writes_the_hr_database(engine: Engine) {
    let Some(hr) = HrDb::create(engine).await else {
        return;
    };
    let t = TestDb::sqlite().await;
    let query = match engine {
        Engine::Postgres => {
            "WITH gone AS (DELETE FROM nhân_viên RETURNING mã_nv) SELECT mã_nv AS employee_code FROM gone"
        }
        _ => {
            hr.exec(
                "CREATE FUNCTION xoá_hết() RETURNS INT MODIFIES SQL DATA \
                 BEGIN DELETE FROM nhân_viên; RETURN 1; END",
            )
            .await;
            "SELECT xoá_hết() AS employee_code"
        }
    };
    let report = pull(&hr.puller(&t.db, query, TIMEOUT)).await;
    assert_eq!(
        report.outcome,
        SyncOutcome::Failed,
        "{}",
        report.summary_line()
    );
    let error = report.error.map(|e| e.detail).unwrap_or_default();
    assert!(error.to_lowercase().contains("read"), "{error}");
    assert_eq!(
        crate::helpers::scalar(&hr.db, "SELECT COUNT(*) FROM nhân_viên").await,
        10
    );
}

#[tokio::test]
async fn a_pull_never_writes_a_postgres_hr_database() {
    a_pull_never_writes_the_hr_database(Engine::Postgres).await;
}

#[tokio::test]
async fn a_pull_never_writes_a_mariadb_hr_database() {
    a_pull_never_writes_the_hr_database(Engine::MariaDb).await;
}

/// The HR CSV as a file an HR system drops.
fn write_csv(path: &Path, rows: &[&str]) {
    let mut text = String::from("employee_code,full_name,email,phone,department,status\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    std::fs::write(path, text).expect("write the HR file");
}

crate::on_both_engines!(
    an_hr_file_is_applied_when_it_changes,
    |t: TestDb| async move {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("nhan_su.csv");
        let rows = [
            "NV01,Nguyễn Văn An,an@acme.vn,0912345678,Kế toán,active",
            "NV02,Trần Thị Bình,,,Chăm sóc khách hàng,terminated",
            "NV03,Lê Hoàng Cường,cuong@acme.vn,,Kinh doanh,",
            "NV04,Phạm Thu Dung,dung@acme.vn,,Kế toán,",
            "NV05,Hoàng Minh Đức,duc@acme.vn,,Kỹ thuật,",
        ];
        write_csv(&path, &rows);
        let puller = HrPuller::new(
            t.db.clone(),
            Ok(HrSource::File(path.clone())),
            MaxRemoval::default(),
        );

        let first = pull(&puller).await;
        assert_succeeded(&first);
        assert_eq!(counts(&first), [5, 0, 0, 0, 0]);
        assert_eq!(
            by_code(&t.db, "NV02").await.status,
            EmployeeStatus::Terminated
        );

        // The same file again is not parsed again.
        let same = pull(&puller).await;
        assert_succeeded(&same);
        assert_eq!(counts(&same), [0, 0, 0, 0, 5]);
        assert!(
            same.preview
                .iter()
                .any(|l| l.contains("HR_FILE is unchanged")),
            "{:?}",
            same.preview
        );

        // A manual import beside the source is allowed; the next pull wins even though the file is the same.
        let parsed =
            hr::parse_employees("employee_code,full_name\nNV99,Nhân viên nhập tay\n".as_bytes())
                .expect("csv");
        hr::import_rows(&t.db, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .expect("manual import");
        let wins = pull(&puller).await;
        assert_succeeded(&wins);
        assert_eq!(counts(&wins), [0, 0, 1, 0, 5]);
        assert!(by_code(&t.db, "NV99").await.removed_at.is_some());

        // A changed file is applied.
        let mut changed = rows.to_vec();
        changed[3] = "NV04,Phạm Thu Dung,dung@acme.vn,,Kinh doanh,";
        write_csv(&path, &changed);
        let applied = pull(&puller).await;
        assert_succeeded(&applied);
        assert_eq!(counts(&applied), [0, 1, 0, 0, 4]);

        // A file that is not the HR CSV changes nothing and names the file.
        let before = employees(&t.db).await;
        std::fs::write(&path, "mã,họ tên\nNV01,An\n").expect("write");
        let bad = pull(&puller).await;
        assert_eq!(bad.outcome, SyncOutcome::Failed);
        let error = bad.error.map(|e| e.detail).unwrap_or_default();
        assert!(error.contains("HR_FILE"), "{error}");
        assert!(error.contains("nhan_su.csv"), "{error}");
        assert!(error.contains("no column \"employee_code\""), "{error}");
        assert_eq!(employees(&t.db).await, before);

        std::fs::remove_file(&path).expect("remove");
        let missing = pull(&puller).await;
        assert_eq!(missing.outcome, SyncOutcome::Failed);
        assert!(
            missing
                .error
                .expect("an error")
                .detail
                .contains("nhan_su.csv")
        );
    }
);

async fn graphql(app: &crate::helpers::TestApp, query: &str) -> Value {
    let (status, body) = app.post(None, query).await;
    assert!(status.is_success(), "{status}: {body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

crate::on_both_engines!(
    sync_hr_now_runs_a_pull_and_freshness_reports_both_sources,
    |t: TestDb| async move {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("hr.csv");
        write_csv(&path, &["NV01,Nguyễn Văn An,,,,", "NV02,Trần Thị Bình,,,,"]);
        let caresoft = StandIn::start().await;
        caresoft.serve(&[agent_json(1)]).await;
        let file = path.display().to_string();
        let app = spawn_app(
            t,
            caresoft,
            &[("HR_FILE", &file), ("HR_SYNC_INTERVAL", "0")],
        )
        .await;

        let dry = graphql(
            &app,
            "mutation { syncHrNow(dryRun: true) { source outcome added } }",
        )
        .await;
        assert_eq!(
            dry["syncHrNow"],
            json!({"source": "HR", "outcome": "DRY_RUN", "added": 2})
        );
        let run = graphql(
        &app,
        "mutation { syncHrNow { source trigger outcome fetched added removed restored unchanged error } }",
    )
    .await;
        assert_eq!(
            run["syncHrNow"],
            json!({"source": "HR", "trigger": "API", "outcome": "SUCCEEDED", "fetched": 2, "added": 2,
               "removed": 0, "restored": 0, "unchanged": 0, "error": null})
        );
        graphql(&app, "mutation { syncNow { outcome } }").await;

        let data = graphql(
        &app,
        "{ hr: syncRuns(source: HR) { source outcome } caresoft: syncRuns(source: CARESOFT) { source }
           all: syncRuns { source }
           freshness { lastRun { source } sources { source configured lastRun { outcome } lastSuccessAt ageSeconds } }
           employees { totalCount } }",
    )
    .await;
        assert_eq!(
            data["hr"],
            json!([{"source": "HR", "outcome": "SUCCEEDED"}, {"source": "HR", "outcome": "DRY_RUN"}])
        );
        assert_eq!(data["caresoft"], json!([{"source": "CARESOFT"}]));
        assert_eq!(data["all"].as_array().map(Vec::len), Some(3));
        assert_eq!(data["freshness"]["lastRun"]["source"], "CARESOFT");
        let sources = &data["freshness"]["sources"];
        assert_eq!(sources[0]["source"], "CARESOFT");
        assert_eq!(sources[1]["source"], "HR");
        for source in sources.as_array().expect("sources") {
            assert_eq!(source["configured"], true);
            assert_eq!(source["lastRun"]["outcome"], "SUCCEEDED");
            assert!(source["lastSuccessAt"].is_string(), "{source}");
        }
        assert_eq!(data["employees"]["totalCount"], 2);

        let ready: Value = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("json");
        assert_eq!(ready["ready"], true, "{ready}");
        assert!(ready["sources"]["hr"]["lastSuccess"].is_string(), "{ready}");
        assert!(
            ready["sources"]["caresoft"]["lastSuccess"].is_string(),
            "{ready}"
        );
    }
);

#[tokio::test]
async fn without_a_source_sync_hr_now_fails_saying_what_to_set() {
    let t = TestDb::sqlite().await;
    let app = spawn_app(t, StandIn::start().await, &[]).await;
    let data = graphql(&app, "mutation { syncHrNow { source outcome error } } ").await;
    assert_eq!(data["syncHrNow"]["outcome"], "FAILED");
    assert_eq!(
        data["syncHrNow"]["error"],
        "neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE is set: sync-hr needs one"
    );
    let data = graphql(&app, "{ freshness { sources { source configured } } }").await;
    assert_eq!(
        data["freshness"]["sources"],
        json!([{"source": "CARESOFT", "configured": true}, {"source": "HR", "configured": false}])
    );
}

#[tokio::test]
async fn serve_pulls_the_hr_source_on_its_schedule() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("hr.csv");
    write_csv(&path, &["NV01,Nguyễn Văn An,,,,"]);
    let file = path.display().to_string();
    let db = t.db.clone();
    let _app = spawn_app(
        t,
        StandIn::start().await,
        &[("HR_FILE", &file), ("HR_SYNC_INTERVAL", "1h")],
    )
    .await;
    // Nothing has pulled yet, so the schedule pulls at start-up.
    let run = eventually(Duration::from_secs(20), "a scheduled HR pull", || {
        let db = db.clone();
        async move {
            store::runs::latest(&db, 1, Some(SyncSource::Hr), None)
                .await
                .ok()
                .and_then(|mut runs| runs.pop())
                .filter(|run| run.outcome == SyncOutcome::Succeeded)
        }
    })
    .await;
    assert_eq!(run.trigger, Trigger::Schedule);
    assert_eq!(run.added, 1);
}

#[tokio::test]
async fn a_tick_that_finds_the_lock_busy_looks_again_soon() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("hr.csv");
    write_csv(&path, &["NV01,Nguyễn Văn An,,,,"]);
    let file = path.display().to_string();
    let caresoft = StandIn::start().await;
    // The sync holds the lock for two seconds while CareSoft answers, as both schedules tick at start-up.
    caresoft
        .respond(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"code": "ok", "agents": [agent_json(1)]}))
                .set_delay(Duration::from_secs(2)),
        )
        .await;
    let db = t.db.clone();
    let _app = spawn_app(
        t,
        caresoft,
        &[
            ("HR_FILE", &file),
            ("HR_SYNC_INTERVAL", "1h"),
            ("BRIDGE_SYNC_INTERVAL", "24h"),
        ],
    )
    .await;
    for source in [SyncSource::Caresoft, SyncSource::Hr] {
        let db = db.clone();
        eventually(
            Duration::from_secs(20),
            "a success of each source, long before an interval",
            move || {
                let db = db.clone();
                async move {
                    store::runs::last_success(&db, source, None)
                        .await
                        .ok()
                        .flatten()
                }
            },
        )
        .await;
    }
}

crate::on_both_engines!(
    sync_completed_can_follow_hr_pulls_only,
    |t: TestDb| async move {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("hr.csv");
        write_csv(&path, &["NV01,Nguyễn Văn An,,,,"]);
        let caresoft = StandIn::start().await;
        caresoft.serve(&[agent_json(1)]).await;
        let file = path.display().to_string();
        let app = spawn_app(
            t,
            caresoft,
            &[("HR_FILE", &file), ("HR_SYNC_INTERVAL", "0")],
        )
        .await;
        let mut ws = crate::helpers::GraphqlWs::connect(&app.ws_url()).await;
        ws.init_ok(json!({})).await;
        ws.subscribe(
            "hr",
            "subscription { syncCompleted(source: HR) { id source } }",
        )
        .await;

        // A sync, then a pull, until the subscription is live and hears something: always the pull.
        let mut pulls = Vec::new();
        for _ in 0..5 {
            graphql(&app, "mutation { syncNow { id } }").await;
            let pull = graphql(&app, "mutation { syncHrNow(dryRun: true) { id } }").await;
            pulls.push(pull["syncHrNow"]["id"].clone());
            if let Some(event) = ws.try_next_of("hr", Duration::from_secs(2)).await {
                assert_eq!(event["syncCompleted"]["source"], "HR", "{event}");
                assert!(pulls.contains(&event["syncCompleted"]["id"]), "{event}");
                return;
            }
        }
        panic!("no HR run announced after pulls {pulls:?}");
    }
);

crate::on_both_engines!(
    rows_written_before_fingerprints_are_compared_in_full_once,
    |t: TestDb| async move {
        let csv = "employee_code,full_name,department\nNV01,Nguyễn Văn An,Kế toán\nNV02,Trần Thị Bình,Kinh doanh\n";
        let import = |text: &'static str| {
            let db = t.db.clone();
            async move {
                let parsed = hr::parse_employees(text.as_bytes()).expect("csv");
                hr::import_rows(&db, parsed.rows, parsed.errors, ImportOptions::default())
                    .await
                    .expect("import")
            }
        };
        import(csv).await;
        // As a database upgraded from a version without fingerprints holds them.
        t.db.execute_unprepared("UPDATE employees SET fingerprint = NULL")
            .await
            .expect("clear");

        let again = import(csv).await;
        assert_eq!(
            (again.added, again.updated, again.unchanged),
            (0, 0, 2),
            "unchanged, not updated"
        );
        let stored = employees(&t.db).await;
        assert!(
            stored.iter().all(|e| e.fingerprint.is_some()),
            "written back: {stored:?}"
        );

        let changed = import(
        "employee_code,full_name,department\nNV01,Nguyễn Văn An,Kinh doanh\nNV02,Trần Thị Bình,Kinh doanh\n",
    )
    .await;
        assert_eq!((changed.updated, changed.unchanged), (1, 1));
    }
);
