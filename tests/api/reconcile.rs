//! Reconcile end to end: CSV import, matching on email then phone, overrides, link history, exports.

use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::domain::Trigger;
use caresoft_bridge::export::{self, ExportFormat, ExportKind};
use caresoft_bridge::hr::{self, ImportError, ImportOptions, ImportReport};
use caresoft_bridge::reconcile::overrides::{self, OverrideError};
use caresoft_bridge::sync::SyncRequest;
use entity::{agent_link, employee, link_candidate, link_history};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestDb};
use crate::on_both_engines;

const HEADER: &str = "employee_code,full_name,email,phone,department,status\n";

fn agent(id: i64, email: Option<&str>, phone: Option<&str>) -> Value {
    json!({"id": id, "username": format!("agent{id}"), "email": email, "phone_no": phone,
           "group_id": 1, "group_name": "CSKH", "call_status": "AVAILABLE"})
}

/// The agents every test here starts from: one per case of the matching rules.
fn roster() -> Vec<Value> {
    vec![
        agent(1, Some("An.Nguyen@Acme.vn "), None), // EMAIL (case and spaces differ)
        agent(2, Some("nobody@acme.vn"), Some("+84 912 345 678")), // PHONE, written differently
        agent(3, None, Some("01683123456")),        // PHONE, old 11-digit form vs new in HR
        agent(4, Some("shared@acme.vn"), None),     // AMBIGUOUS by email
        agent(5, Some("an.nguyen@acme.vn"), Some("0987654321")), // CONFLICT: email -> NV001, phone -> NV005
        agent(6, Some("thut***@gmail.com"), Some("08***8")),     // masked: UNMATCHED
        agent(7, Some("ghost@acme.vn"), Some("0900000000")),     // UNMATCHED
        agent(8, Some("left@acme.vn"), None), // terminated employee: still MATCHED
        agent(9, Some("tongdai@acme.vn"), None), // service seat, will be ignored
    ]
}

const STAFF: &str = "NV001,Nguyễn Văn An,an.nguyen@acme.vn,,Chăm sóc khách hàng,active
NV002,Trần Thị Bình,binh@acme.vn,0912.345.678,Kinh doanh,active
NV003,Lê Hoàng Cường,cuong@acme.vn,0383 123 456,Kỹ thuật,active
NV004A,Phạm Dũng,shared@acme.vn,,Kỹ thuật,active
NV004B,Phạm Dung,SHARED@acme.vn,,Kỹ thuật,active
NV005,Võ Thị Em,em@acme.vn,987654321,Kinh doanh,active
NV008,Hồ Văn Đi,left@acme.vn,,Kinh doanh,terminated
NV010,Đỗ Thị Không Ghế,noseat@acme.vn,0933333333,Kinh doanh,active
";

async fn import(
    t: &TestDb,
    csv: &str,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let parsed = hr::parse_employees(csv.as_bytes()).expect("readable CSV");
    hr::import_rows(&t.db, parsed.rows, parsed.errors, options).await
}

/// Syncs `roster()` and imports `STAFF`.
async fn seeded(t: &TestDb) -> StandIn {
    let caresoft = StandIn::start().await;
    caresoft.serve(&roster()).await;
    let report = caresoft
        .syncer(t.db.clone(), "20%")
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("sync");
    assert_eq!(report.counts.added, 9);
    import(t, &format!("{HEADER}{STAFF}"), ImportOptions::default())
        .await
        .expect("import");
    caresoft
}

/// (status, method, employee code) of an agent's link.
async fn link_of(t: &TestDb, agent_id: i64) -> (String, Option<String>, Option<String>) {
    let link = agent_link::Entity::find_by_id(agent_id)
        .one(&t.db)
        .await
        .expect("query")
        .expect("a link");
    let code = match link.employee_id {
        Some(id) => employee::Entity::find_by_id(id)
            .one(&t.db)
            .await
            .expect("query")
            .map(|e| e.employee_code),
        None => None,
    };
    (
        link.status.to_string(),
        link.method.map(|m| m.to_string()),
        code,
    )
}

fn matched(method: &str, code: &str) -> (String, Option<String>, Option<String>) {
    ("MATCHED".into(), Some(method.into()), Some(code.into()))
}

fn flagged(status: &str) -> (String, Option<String>, Option<String>) {
    (status.into(), None, None)
}

on_both_engines!(
    every_rule_gives_its_status_and_method,
    |t: TestDb| async move {
        let _caresoft = seeded(&t).await;

        assert_eq!(link_of(&t, 1).await, matched("EMAIL", "NV001"));
        assert_eq!(link_of(&t, 2).await, matched("PHONE", "NV002"));
        assert_eq!(
            link_of(&t, 3).await,
            matched("PHONE", "NV003"),
            "old 11-digit agent phone, new 10-digit HR phone"
        );
        assert_eq!(link_of(&t, 4).await, flagged("AMBIGUOUS"));
        assert_eq!(link_of(&t, 5).await, flagged("CONFLICT"));
        assert_eq!(
            link_of(&t, 6).await,
            flagged("UNMATCHED"),
            "masked values are not keys"
        );
        assert_eq!(link_of(&t, 7).await, flagged("UNMATCHED"));
        assert_eq!(
            link_of(&t, 8).await,
            matched("EMAIL", "NV008"),
            "terminated staff still match"
        );

        let candidates: Vec<(i64, i64, String)> = link_candidate::Entity::find()
            .order_by_asc(link_candidate::Column::AgentId)
            .order_by_asc(link_candidate::Column::Via)
            .all(&t.db)
            .await
            .expect("candidates")
            .into_iter()
            .map(|c| (c.agent_id, c.employee_id, c.via.to_string()))
            .collect();
        let mut named = Vec::new();
        for (agent_id, employee_id, via) in candidates {
            let code = employee::Entity::find_by_id(employee_id)
                .one(&t.db)
                .await
                .expect("q")
                .expect("employee")
                .employee_code;
            named.push((agent_id, code, via));
        }
        named.sort();
        assert_eq!(
            named,
            vec![
                (4, "NV004A".to_string(), "EMAIL".to_string()),
                (4, "NV004B".to_string(), "EMAIL".to_string()),
                (5, "NV001".to_string(), "EMAIL".to_string()),
                (5, "NV005".to_string(), "PHONE".to_string()),
            ]
        );
    }
);

on_both_engines!(
    reimporting_a_changed_email_moves_the_match_and_records_why,
    |t: TestDb| async move {
        let _caresoft = seeded(&t).await;
        let staff = STAFF.replace(
            "NV010,Đỗ Thị Không Ghế,noseat@acme.vn",
            "NV010,Đỗ Thị Không Ghế,ghost@acme.vn",
        );

        let report = import(&t, &format!("{HEADER}{staff}"), ImportOptions::default())
            .await
            .expect("import");

        assert_eq!((report.added, report.updated, report.unchanged), (0, 1, 7));
        assert_eq!(link_of(&t, 7).await, matched("EMAIL", "NV010"));
        let history = link_history::Entity::find()
            .filter(link_history::Column::AgentId.eq(7))
            .order_by_asc(link_history::Column::Id)
            .all(&t.db)
            .await
            .expect("history");
        let causes: Vec<(&str, Option<&str>, &str)> = history
            .iter()
            .map(|h| {
                (
                    h.cause.as_str(),
                    h.old_status.map(|s| s.as_str()),
                    h.new_status.as_str(),
                )
            })
            .collect();
        assert_eq!(
            causes,
            vec![
                ("sync", None, "UNMATCHED"),
                ("import", Some("UNMATCHED"), "MATCHED")
            ]
        );
    }
);

on_both_engines!(
    importing_and_syncing_twice_changes_nothing,
    |t: TestDb| async move {
        let caresoft = seeded(&t).await;
        let history_before = t.count("link_history").await;
        let employees_before = employee::Entity::find()
            .order_by_asc(employee::Column::Id)
            .all(&t.db)
            .await
            .expect("q");

        let again = import(&t, &format!("{HEADER}{STAFF}"), ImportOptions::default())
            .await
            .expect("import");
        let sync = caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");

        assert_eq!(
            (again.added, again.updated, again.removed, again.unchanged),
            (0, 0, 0, 8)
        );
        assert_eq!(sync.counts.unchanged, 9);
        assert_eq!(
            t.count("link_history").await,
            history_before,
            "no history rows without a change"
        );
        let employees_after = employee::Entity::find()
            .order_by_asc(employee::Column::Id)
            .all(&t.db)
            .await
            .expect("q");
        assert_eq!(employees_after, employees_before);
    }
);

on_both_engines!(
    a_manual_link_beats_the_computed_one_and_survives_syncs,
    |t: TestDb| async move {
        let caresoft = seeded(&t).await;

        let state = overrides::link(&t.db, 5, "NV005").await.expect("link");
        assert_eq!(
            state.to_string(),
            "agent 5: MATCHED by MANUAL to employee NV005"
        );
        caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        import(&t, &format!("{HEADER}{STAFF}"), ImportOptions::default())
            .await
            .expect("import");
        assert_eq!(link_of(&t, 5).await, matched("MANUAL", "NV005"));
        let last = link_history::Entity::find()
            .filter(link_history::Column::AgentId.eq(5))
            .order_by_desc(link_history::Column::Id)
            .one(&t.db)
            .await
            .expect("q")
            .expect("history");
        assert_eq!(
            (last.cause.as_str(), last.new_method.map(|m| m.as_str())),
            ("override", Some("MANUAL"))
        );

        overrides::unlink(&t.db, 5).await.expect("unlink");
        assert_eq!(
            link_of(&t, 5).await,
            flagged("CONFLICT"),
            "unlink returns to the computed match"
        );
        let err = overrides::unlink(&t.db, 5)
            .await
            .expect_err("nothing to unlink");
        assert!(matches!(err, OverrideError::NothingToUnlink(5)), "{err}");
        assert!(matches!(
            overrides::link(&t.db, 5, "NV999").await,
            Err(OverrideError::UnknownEmployee(_))
        ));
        assert!(matches!(
            overrides::link(&t.db, 4242, "NV001").await,
            Err(OverrideError::UnknownAgent(4242))
        ));
    }
);

on_both_engines!(
    a_manual_link_to_a_departed_employee_is_reported,
    |t: TestDb| async move {
        let _caresoft = seeded(&t).await;
        overrides::link(&t.db, 7, "NV010").await.expect("link");
        let without_nv010: String = STAFF
            .lines()
            .filter(|l| !l.starts_with("NV010"))
            .map(|l| format!("{l}\n"))
            .collect();

        let report = import(
            &t,
            &format!("{HEADER}{without_nv010}"),
            ImportOptions {
                replace: true,
                ..ImportOptions::default()
            },
        )
        .await
        .expect("import");

        assert_eq!(report.removed, 1);
        assert_eq!(
            overrides::dangling(&t.db).await.expect("q"),
            vec![(7, "NV010".to_string())]
        );
        assert_eq!(
            link_of(&t, 7).await,
            flagged("UNMATCHED"),
            "the gone employee is not silently kept as a match"
        );
        let removed = employee::Entity::find()
            .filter(employee::Column::EmployeeCode.eq("NV010"))
            .one(&t.db)
            .await;
        assert!(
            removed
                .expect("q")
                .expect("kept, not deleted")
                .removed_at
                .is_some()
        );
    }
);

on_both_engines!(
    ignored_seats_never_appear_in_unmatched_lists,
    |t: TestDb| async move {
        let _caresoft = seeded(&t).await;
        let before = export_rows(&t, ExportKind::UnmatchedAgents).await;
        assert!(before.iter().any(|r| r[0] == "9"));

        overrides::ignore(&t.db, 9).await.expect("ignore");

        assert_eq!(link_of(&t, 9).await, flagged("IGNORED"));
        let after = export_rows(&t, ExportKind::UnmatchedAgents).await;
        assert_eq!(
            after.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            vec!["6", "7"]
        );
    }
);

on_both_engines!(replace_has_a_mass_removal_guard, |t: TestDb| async move {
    let _caresoft = seeded(&t).await;
    let options = ImportOptions {
        replace: true,
        max_removal: MaxRemoval::parse("20%").expect("share"),
        ..ImportOptions::default()
    };
    let first_two: String = STAFF.lines().take(2).map(|l| format!("{l}\n")).collect();

    let err = import(&t, &format!("{HEADER}{first_two}"), options)
        .await
        .expect_err("refused");

    assert!(
        matches!(
            err,
            ImportError::MassRemoval {
                removing: 6,
                current: 8,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--allow-mass-removal"));
    assert_eq!(
        employee::Entity::find()
            .filter(employee::Column::RemovedAt.is_not_null())
            .all(&t.db)
            .await
            .expect("q")
            .len(),
        0
    );
    let allowed = ImportOptions {
        allow_mass_removal: true,
        ..options
    };
    let report = import(&t, &format!("{HEADER}{first_two}"), allowed)
        .await
        .expect("allowed");
    assert_eq!(report.removed, 6);
});

on_both_engines!(bad_csvs_leave_the_table_untouched, |t: TestDb| async move {
    let _caresoft = seeded(&t).await;
    let before = employee::Entity::find()
        .order_by_asc(employee::Column::Id)
        .all(&t.db)
        .await
        .expect("q");
    let cases = [
        (
            format!("{HEADER},No Code,x@acme.vn,,,active\n"),
            "line 2, column employee_code: missing employee_code",
        ),
        (
            format!("{HEADER}NV001,A,,,,active\nNV001,B,,,,active\n"),
            "line 3, column employee_code: duplicate employee_code \"NV001\" (first on line 2)",
        ),
        (
            format!("{HEADER}NV001,A,,,,retired\n"),
            "line 2, column status: unknown status \"retired\"",
        ),
        (
            format!("{HEADER}NV001,A,not-an-email,,,active\n"),
            "line 2, column email: malformed email \"not-an-email\"",
        ),
    ];
    for (csv, expected) in cases {
        let err = import(&t, &csv, ImportOptions::default())
            .await
            .expect_err("invalid");
        let ImportError::Invalid(errors) = err else {
            panic!("expected row errors, got {err}")
        };
        assert!(
            errors[0].to_string().starts_with(expected),
            "{} vs {expected}",
            errors[0]
        );
    }
    let mut latin1 = HEADER.as_bytes().to_vec();
    latin1.extend_from_slice(b"NV001,Nguy\xeAn,,,,active\n");
    let parsed = hr::parse_employees(latin1.as_slice()).expect("readable");
    assert!(
        parsed.errors[0]
            .to_string()
            .starts_with("line 2, column full_name: not UTF-8"),
        "{}",
        parsed.errors[0]
    );
    assert!(
        hr::import_rows(&t.db, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .is_err()
    );

    assert_eq!(
        employee::Entity::find()
            .order_by_asc(employee::Column::Id)
            .all(&t.db)
            .await
            .expect("q"),
        before
    );
});

on_both_engines!(
    skip_invalid_imports_the_good_rows_and_lists_the_bad,
    |t: TestDb| async move {
        let csv =
            format!("{HEADER}NV100,Good Row,good@acme.vn,,,active\nNV101,Bad Row,,,,retired\n");

        let report = import(
            &t,
            &csv,
            ImportOptions {
                skip_invalid: true,
                ..ImportOptions::default()
            },
        )
        .await
        .expect("import");

        assert_eq!(report.added, 1);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].line, 3);
        assert!(
            report.summary_line().ends_with("1 invalid rows skipped"),
            "{}",
            report.summary_line()
        );
        assert_eq!(t.count("employees").await, 1);
    }
);

on_both_engines!(a_dry_run_import_changes_nothing, |t: TestDb| async move {
    let report = import(
        &t,
        &format!("{HEADER}{STAFF}"),
        ImportOptions {
            dry_run: true,
            ..ImportOptions::default()
        },
    )
    .await
    .expect("dry run");
    assert_eq!((report.added, report.dry_run), (8, true));
    assert_eq!(t.count("employees").await, 0);
});

async fn export_text(t: &TestDb, kind: ExportKind, format: ExportFormat) -> String {
    let mut out = Vec::new();
    export::export(&t.db, kind, format, &mut out)
        .await
        .expect("export");
    String::from_utf8(out).expect("UTF-8")
}

async fn export_rows(t: &TestDb, kind: ExportKind) -> Vec<Vec<String>> {
    let text = export_text(t, kind, ExportFormat::Csv).await;
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

on_both_engines!(exports_have_the_contract_columns, |t: TestDb| async move {
    let _caresoft = seeded(&t).await;

    let agents = export_text(&t, ExportKind::Agents, ExportFormat::Csv).await;
    assert!(
        agents.starts_with('\u{feff}'),
        "Excel needs the BOM to read UTF-8"
    );
    let mut lines = agents.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,username,email,phone_no,agent_id,group_id,group_name,call_status,chat_status,ticket_status,match_status,matched_by,employee_code,removed_at,domain"
        )
    );
    let rows = export_rows(&t, ExportKind::Agents).await;
    assert_eq!(rows.len(), 9);
    assert_eq!(
        rows[0],
        [
            "1",
            "agent1",
            "An.Nguyen@Acme.vn ",
            "",
            "",
            "1",
            "CSKH",
            "AVAILABLE",
            "UNKNOWN",
            "UNKNOWN",
            "MATCHED",
            "EMAIL",
            "NV001",
            "",
            "acme"
        ]
    );
    assert_eq!(
        rows[4][10..13],
        ["CONFLICT".to_string(), String::new(), String::new()]
    );

    let unmatched = export_rows(&t, ExportKind::UnmatchedAgents).await;
    assert_eq!(
        unmatched.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["6", "7", "9"]
    );

    let staff = export_text(&t, ExportKind::UnmatchedEmployees, ExportFormat::Csv).await;
    let mut staff_lines = staff.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        staff_lines.next(),
        Some("employee_code,full_name,email,phone,department,status")
    );
    // NV004A/B and NV005 are only candidates, NV010 has no seat; NV008 is terminated so not listed.
    assert_eq!(
        staff_lines
            .map(|l| l.split(',').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>(),
        ["NV004A", "NV004B", "NV005", "NV010"]
    );
    let employees = export_rows(&t, ExportKind::Employees).await;
    assert_eq!(
        employees[0],
        [
            "NV001",
            "Nguyễn Văn An",
            "an.nguyen@acme.vn",
            "",
            "Chăm sóc khách hàng",
            "active"
        ]
    );

    let json: Value = serde_json::from_str(
        &export_text(&t, ExportKind::UnmatchedAgents, ExportFormat::Json).await,
    )
    .expect("JSON");
    assert_eq!(json[0]["id"], 6);
    assert_eq!(json[0]["email"], "thut***@gmail.com");
    assert_eq!(json[0]["match_status"], "UNMATCHED");
    assert_eq!(json[0]["employee_code"], Value::Null);
});
