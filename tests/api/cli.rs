//! The binary as scripts use it: summary lines on stdout, errors that say what to set, and exit statuses
//! (0 success, 1 failure, 3 refused, 78 configuration error).

use std::process::Output;

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::helpers::{StandIn, TestDb, agents_json, bridge_command};

/// Runs `caresoft-bridge ARGS` against `db` and the stand-in, with a clean environment of its own.
async fn run(t: &TestDb, caresoft: Option<&StandIn>, args: &[&str]) -> Output {
    run_with(t, caresoft, args, &[]).await
}

/// [`run`] with these variables set too.
async fn run_with(
    t: &TestDb,
    caresoft: Option<&StandIn>,
    args: &[&str],
    vars: &[(&str, &str)],
) -> Output {
    let mut command = bridge_command(t, caresoft, args);
    command.envs(vars.iter().copied());
    command.output().await.expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn sync_without_a_domain_is_a_configuration_error() {
    let t = TestDb::sqlite().await;
    let output = run(&t, None, &["sync"]).await;
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output)
            .contains("neither CARESOFT_DOMAINS nor CARESOFT_DOMAIN is set: sync needs one"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn sync_prints_one_summary_line_and_json_on_request() {
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(4)).await;

    let output = run(&t, Some(&caresoft), &["sync"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let line = stdout(&output);
    let line = line.trim();
    assert!(
        line.starts_with(
            "sync ok: 4 agents, 4 added, 0 updated, 0 removed, 0 returned, 0 status changes in "
        ),
        "{line}"
    );
    assert!(line.ends_with(" s"), "{line}");

    let output = run(&t, Some(&caresoft), &["sync", "--json"]).await;
    let report: Value = serde_json::from_str(stdout(&output).trim()).expect("JSON");
    assert_eq!(
        (
            report["outcome"].clone(),
            report["counts"]["unchanged"].clone()
        ),
        ("succeeded".into(), 4.into())
    );
}

#[tokio::test]
async fn a_refused_sync_exits_3_and_a_failed_one_exits_1() {
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(4)).await;
    assert_eq!(
        run(&t, Some(&caresoft), &["sync"]).await.status.code(),
        Some(0)
    );

    caresoft.serve(&[]).await;
    let refused = run(&t, Some(&caresoft), &["sync"]).await;
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        stdout(&refused).starts_with("sync refused: 0 agents"),
        "{}",
        stdout(&refused)
    );
    assert!(stdout(&refused).contains("--allow-mass-removal"));

    let dry = run(
        &t,
        Some(&caresoft),
        &["sync", "--dry-run", "--allow-mass-removal"],
    )
    .await;
    assert_eq!(dry.status.code(), Some(0));
    assert!(
        stdout(&dry).contains("  remove 1 (Chuyên viên 1)"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        t.count("agents WHERE removed_at IS NULL").await,
        4,
        "the dry run changed nothing"
    );

    caresoft.respond(ResponseTemplate::new(401)).await;
    let failed = run(&t, Some(&caresoft), &["sync"]).await;
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stdout(&failed).starts_with("sync failed:"),
        "{}",
        stdout(&failed)
    );
    assert!(
        stdout(&failed).contains("CARESOFT_API_TOKEN"),
        "the message says what to fix: {}",
        stdout(&failed)
    );
}

#[tokio::test]
async fn import_reports_bad_rows_and_overrides_confirm_the_link() {
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(2)).await;
    run(&t, Some(&caresoft), &["sync"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "employee_code,email,status\nNV1,a@@b,active\nNV2,,gone\n",
    )
    .expect("write");
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "\u{feff}Employee_Code,Full_Name,Email\nNV1,Nguyễn Văn An,agent1@acme.vn\nNV2,Trần Bình,\n",
    )
    .expect("write");

    let rejected = run(&t, None, &["import-employees", bad.to_str().expect("path")]).await;
    assert_eq!(rejected.status.code(), Some(1));
    let errors = stderr(&rejected);
    assert!(
        errors.contains("line 2, column email: malformed email \"a@@b\""),
        "{errors}"
    );
    assert!(
        errors.contains("line 3, column status: unknown status \"gone\""),
        "{errors}"
    );
    assert_eq!(t.count("employees").await, 0);

    let imported = run(
        &t,
        None,
        &["import-employees", good.to_str().expect("path")],
    )
    .await;
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    assert_eq!(
        stdout(&imported).trim(),
        "import ok: 2 added, 0 updated, 0 removed, 0 unchanged"
    );

    let linked = run(&t, None, &["link", "2", "NV2"]).await;
    assert_eq!(
        stdout(&linked).trim(),
        "agent 2: MATCHED by MANUAL to employee NV2"
    );
    let export = run(
        &t,
        None,
        &["export", "unmatched-employees", "--format", "json"],
    )
    .await;
    assert_eq!(
        stdout(&export).trim(),
        "[]",
        "both employees hold a seat now"
    );
    let unknown = run(&t, None, &["link", "2", "NOPE"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no employee with code \"NOPE\""),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn schema_prints_the_committed_sdl() {
    let t = TestDb::sqlite().await;
    let output = run(&t, None, &["schema"]).await;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    assert_eq!(stdout(&output), committed);
}

#[tokio::test]
async fn sync_hr_prints_its_summary_and_exits_as_sync_does() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nhan_su.csv");
    let write = |rows: &[&str]| {
        let mut text = String::from("employee_code,full_name,status\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write");
    };
    let file = path.display().to_string();
    let vars = [("HR_FILE", file.as_str())];

    let output = run(&t, None, &["sync-hr"]).await;
    assert_eq!(
        output.status.code(),
        Some(78),
        "no source is a configuration error"
    );
    assert!(
        stderr(&output).contains("neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE is set"),
        "{}",
        stderr(&output)
    );

    write(&[
        "NV01,Nguyễn Văn An,",
        "NV02,Trần Thị Bình,terminated",
        "NV03,Lê Hoàng Cường,",
    ]);
    let output = run_with(&t, None, &["sync-hr", "--dry-run"], &vars).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("  add NV01 (Nguyễn Văn An)"), "{out}");
    assert!(
        out.trim_end().ends_with("(dry run: nothing changed)")
            && out.contains("sync-hr dry-run: 3 employees, 3 added"),
        "{out}"
    );

    let output = run_with(&t, None, &["sync-hr"], &vars).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with(
            "sync-hr ok: 3 employees, 3 added, 0 updated, 0 removed, 0 restored, 0 unchanged in "
        ),
        "{}",
        stdout(&output)
    );

    // Two of three gone: refused, exit 3, and the switch that overrides it is named.
    write(&["NV01,Nguyễn Văn An,"]);
    let output = run_with(&t, None, &["sync-hr", "--json"], &vars).await;
    assert_eq!(output.status.code(), Some(3), "{}", stdout(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["source"], "hr");
    assert_eq!(report["outcome"], "refused");
    assert!(
        report["error"]
            .as_str()
            .unwrap_or_default()
            .contains("--allow-mass-removal"),
        "{report}"
    );
    let output = run_with(&t, None, &["sync-hr", "--allow-mass-removal"], &vars).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("2 removed"), "{}", stdout(&output));

    std::fs::write(&path, "employee_code,full_name\nNV01,An\nNV01,An again\n").expect("write");
    let output = run_with(&t, None, &["sync-hr"], &vars).await;
    assert_eq!(output.status.code(), Some(1), "bad rows fail the pull");
    assert!(
        stdout(&output).contains("line 3, column employee_code: duplicate employee_code \"NV01\""),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn an_employee_export_reimports_unchanged_formula_guards_and_all() {
    // Arrange: employees whose cells a spreadsheet would take for formulas.
    let t = TestDb::sqlite().await;
    let csv = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        csv.path(),
        "employee_code,full_name,email,phone,department,status\n\
         NV1,\"=HYPERLINK(\"\"http://x\"\",\"\"Bấm\"\")\",an@acme.vn,+84 912 345 678,-Kỹ thuật,active\n\
         NV2,@Trần Thị Bình,binh@acme.vn,0912345679,Kinh doanh,terminated\n",
    )
    .expect("written");
    let path = csv.path().to_str().expect("utf-8 path");
    let imported = run(&t, None, &["import-employees", path]).await;
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));

    // Act: export, then import the export.
    let export = run(&t, None, &["export", "employees"]).await;
    let exported = stdout(&export);
    std::fs::write(csv.path(), &exported).expect("export written");
    let again = run(&t, None, &["import-employees", path]).await;
    let json = run(&t, None, &["export", "employees", "--format", "json"]).await;

    // Assert: guarded in the CSV, unchanged by the round trip.
    assert!(exported.contains("'=HYPERLINK"), "{exported}");
    assert!(exported.contains("'+84 912 345 678"), "{exported}");
    assert_eq!(
        stdout(&again).trim(),
        "import ok: 0 added, 0 updated, 0 removed, 2 unchanged",
        "{}",
        stderr(&again)
    );
    let rows: Value = serde_json::from_str(stdout(&json).trim()).expect("JSON");
    assert_eq!(
        rows[0]["full_name"], "=HYPERLINK(\"http://x\",\"Bấm\")",
        "{rows}"
    );
    assert_eq!(rows[0]["phone"], "+84 912 345 678");
    assert_eq!(rows[0]["department"], "-Kỹ thuật");
    assert_eq!(rows[1]["full_name"], "@Trần Thị Bình");
}
