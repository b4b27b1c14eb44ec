//! The seat report on hand-made data where each list's members are known: counts, lists, reasons and
//! costs over GraphQL, the same rows in `export seat-report` and `/seats/seat-report.csv`, and the `/seats`
//! page in headless Chromium showing the numbers of the GraphQL answer (with a screenshot).

use std::time::Duration;

use caresoft_bridge::hr;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestApp, TestDb, agent_json, chromium, spawn_app};
use crate::on_both_engines;

const ADMIN: &str = "admin-s3cret";
const READER: &str = "reader-s3cret";

/// Seat `id` with all three channels at `status`.
fn seat(id: i64, status: &str) -> Value {
    let mut agent = agent_json(id);
    for channel in ["call_status", "chat_status", "ticket_status"] {
        agent[channel] = json!(status);
    }
    agent
}

const STAFF: &str = "employee_code,full_name,email,phone,department,status\n\
NV1,Nguyễn Văn Một,agent1@acme.vn,,CSKH,active\n\
NV2,Trần Thị Hai,agent2@acme.vn,,CSKH,terminated\n\
NV4,Phạm Văn Bốn,agent4@acme.vn,0900000005,CSKH,active\n\
NV7,Đặng Thị Bảy,agent7@acme.vn,,CSKH,active\n\
NV8,Lê Văn Tám,agent8@acme.vn,,CSKH,active\n\
NV9,Võ Thị Chín,agent9@acme.vn,,CSKH,active\n";

/// Nine seats: 1 in use; 2 of a leaver; 3 nobody's and logged out for long; 4 and 5 one person's (5 by
/// phone); 6 a service seat (ignored), logged out for long; 7 logged out for long; 8 logged out but
/// mirrored for a day only; 9 logged out for long but it logged out (a status change) this week.
async fn arrange(t: TestDb) -> TestApp {
    let db = t.db.clone();
    let caresoft = StandIn::start().await;
    let first: Vec<Value> = (1..=9)
        .map(|id| match id {
            3 | 6 | 7 | 8 => seat(id, "LOGOUT"),
            _ => seat(id, "AVAILABLE"),
        })
        .collect();
    caresoft.serve(&first).await;
    let app = spawn_app(
        t,
        caresoft,
        &[
            ("BRIDGE_ADMIN_TOKENS", ADMIN),
            ("BRIDGE_READ_TOKENS", READER),
            ("BRIDGE_SEAT_PRICE", "350000 VND"),
        ],
    )
    .await;
    let sync = "mutation { syncNow { outcome } }";
    assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "SUCCEEDED");
    let parsed = hr::parse_employees(STAFF.as_bytes()).expect("CSV");
    hr::import_rows(&db, parsed.rows, parsed.errors, Default::default())
        .await
        .expect("import");
    admin(&app, "mutation { ignoreAgent(agentId: \"6\") { id } }").await;
    // Seats 3, 6, 7 and 9 have been mirrored for 40 days; 9 logs out now (a status change this week).
    let aged = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE agents SET first_seen_at = first_seen_at - INTERVAL '40 days' WHERE id IN (3, 6, 7, 9)"
        }
        _ => {
            "UPDATE agents SET first_seen_at = strftime('%Y-%m-%d %H:%M:%f+00:00', first_seen_at, '-40 days') \
             WHERE id IN (3, 6, 7, 9)"
        }
    };
    db.execute_unprepared(aged).await.expect("aged");
    let mut second = first.clone();
    second[8] = seat(9, "LOGOUT");
    app.caresoft.serve(&second).await;
    assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "SUCCEEDED");
    app
}

async fn as_token(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app.post(Some(token), query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

async fn admin(app: &TestApp, query: &str) -> Value {
    as_token(app, ADMIN, query).await
}

const REPORT: &str = "{ seatReport { idleDays currentSeats matchedSeats reclaimableSeats
    byMatchStatus { status count }
    departedStaffSeats { totalCount edges { reason node { id } } }
    orphanSeats { totalCount edges { reason node { id } } }
    duplicateSeats { totalCount edges { reason node { id } } }
    idleSeats { totalCount edges { reason node { id } } }
    seatPrice { amount currency formatted }
    monthlyCost { formatted } reclaimableMonthlyCost { amount formatted }
    departedStaffMonthlyCost { formatted } orphanMonthlyCost { formatted }
    duplicateMonthlyCost { formatted } idleMonthlyCost { formatted } } }";

fn ids(list: &Value) -> Vec<i64> {
    list["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            e["node"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("number")
        })
        .collect()
}

on_both_engines!(
    the_seat_report_lists_exactly_the_seats_each_rule_names,
    |t: TestDb| async move {
        // Arrange.
        let app = arrange(t).await;

        // Act.
        let report = as_token(&app, READER, REPORT).await["seatReport"].clone();

        // Assert: the lists, their counts and the reasons.
        assert_eq!(report["idleDays"], 30);
        assert_eq!(report["currentSeats"], 9);
        assert_eq!(report["matchedSeats"], 7);
        assert_eq!(ids(&report["departedStaffSeats"]), [2]);
        assert_eq!(ids(&report["orphanSeats"]), [3]);
        assert_eq!(ids(&report["duplicateSeats"]), [4, 5]);
        assert_eq!(ids(&report["idleSeats"]), [3, 7]);
        assert_eq!(report["reclaimableSeats"], 3, "2, 3 and 7, seat 3 once");
        for (list, n) in [
            ("departedStaffSeats", 1),
            ("orphanSeats", 1),
            ("duplicateSeats", 2),
            ("idleSeats", 2),
        ] {
            assert_eq!(report[list]["totalCount"], n, "{list}");
        }
        assert_eq!(
            report["byMatchStatus"],
            json!([
                {"status": "MATCHED", "count": 7}, {"status": "UNMATCHED", "count": 1},
                {"status": "AMBIGUOUS", "count": 0}, {"status": "CONFLICT", "count": 0},
                {"status": "IGNORED", "count": 1}
            ])
        );
        assert_eq!(
            report["departedStaffSeats"]["edges"][0]["reason"],
            "held by Trần Thị Hai (NV2), who left: TERMINATED in HR"
        );
        assert_eq!(
            report["duplicateSeats"]["edges"][1]["reason"],
            "Phạm Văn Bốn (NV4) holds 2 seats"
        );
        assert_eq!(
            report["idleSeats"]["edges"][0]["reason"],
            "logged out on call, chat and ticket for the last 30 days"
        );
        // Costs, written for Vietnamese readers.
        assert_eq!(
            report["seatPrice"],
            json!({"amount": 350000.0, "currency": "VND", "formatted": "350.000 ₫"})
        );
        assert_eq!(report["monthlyCost"]["formatted"], "3.150.000 ₫");
        assert_eq!(report["reclaimableMonthlyCost"]["amount"], 1_050_000.0);
        assert_eq!(report["reclaimableMonthlyCost"]["formatted"], "1.050.000 ₫");
        assert_eq!(report["departedStaffMonthlyCost"]["formatted"], "350.000 ₫");
        assert_eq!(report["orphanMonthlyCost"]["formatted"], "350.000 ₫");
        assert_eq!(report["duplicateMonthlyCost"]["formatted"], "700.000 ₫");
        assert_eq!(report["idleMonthlyCost"]["formatted"], "700.000 ₫");
        // A window of 50 days is longer than seat 7 was mirrored.
        let longer = as_token(
            &app,
            READER,
            "{ seatReport(idleDays: 50) { idleSeats { totalCount } } }",
        )
        .await;
        assert_eq!(longer["seatReport"]["idleSeats"]["totalCount"], 0);
        let (_, bad) = app
            .post(Some(READER), "{ seatReport(idleDays: 0) { currentSeats } }")
            .await;
        assert!(
            bad["errors"][0]["message"]
                .as_str()
                .expect("message")
                .contains("idleDays"),
            "{bad}"
        );

        // The download has the same rows, for read tokens only.
        let csv = app
            .http
            .get(app.url("/seats/seat-report.csv"))
            .bearer_auth(READER)
            .send()
            .await
            .expect("CSV");
        assert_eq!(csv.status(), StatusCode::OK);
        let text = csv.text().await.expect("text");
        let rows: Vec<(String, String)> =
            csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes())
                .records()
                .map(|r| {
                    let r = r.expect("a record");
                    (r[0].to_string(), r[2].to_string())
                })
                .collect();
        let expected: Vec<(String, String)> = [
            ("departed_staff", "2"),
            ("orphan", "3"),
            ("duplicate", "4"),
            ("duplicate", "5"),
            ("idle", "3"),
            ("idle", "7"),
        ]
        .iter()
        .map(|(l, i)| (l.to_string(), i.to_string()))
        .collect();
        assert_eq!(rows, expected);
        let anonymous = app
            .http
            .get(app.url("/seats/seat-report.csv"))
            .send()
            .await
            .expect("answer");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_page_shows_the_numbers_of_the_graphql_answer_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    // Arrange.
    let app = arrange(TestDb::sqlite().await).await;
    let report = as_token(&app, READER, REPORT).await["seatReport"].clone();

    // Act: the page, as a browser on this machine with no internet renders it.
    let url = format!("{}#token={READER}", app.url("/seats"));
    let dom = crate::helpers::offline_dom(&chromium, &url).await;

    // Assert: ready, and every number and cost as the GraphQL answer says.
    assert!(dom.contains("data-state=\"ready\""), "{dom}");
    let value = |attribute: &str, name: &str| -> String {
        let marker = format!("{attribute}=\"{name}\"");
        let at = dom
            .find(&marker)
            .unwrap_or_else(|| panic!("{marker} on the page"));
        let tag_end = at + dom[at..].find('>').expect("tag end");
        let tag_start = dom[..at].rfind('<').expect("tag start");
        let tag = &dom[tag_start..tag_end];
        match attribute {
            "data-count" => {
                let v = tag.split("data-value=\"").nth(1).expect("data-value");
                v[..v.find('"').expect("quote")].to_string()
            }
            _ => {
                let text = &dom[tag_end + 1..];
                text[..text.find('<').expect("text end")].trim().to_string()
            }
        }
    };
    for name in ["currentSeats", "matchedSeats", "reclaimableSeats"] {
        assert_eq!(
            value("data-count", name),
            report[name].to_string(),
            "{name}"
        );
    }
    for list in [
        "departedStaffSeats",
        "orphanSeats",
        "duplicateSeats",
        "idleSeats",
    ] {
        assert_eq!(
            value("data-count", list),
            report[list]["totalCount"].to_string(),
            "{list}"
        );
        let rows = dom
            .split(&format!("<tbody data-list=\"{list}\""))
            .nth(1)
            .and_then(|rest| rest.split("</tbody>").next())
            .expect("the list's table");
        assert_eq!(
            rows.matches("data-agent-id=").count(),
            ids(&report[list]).len(),
            "{list}"
        );
    }
    for (name, field) in [
        ("monthlyCost", "monthlyCost"),
        ("reclaimableMonthlyCost", "reclaimableMonthlyCost"),
        ("seatPrice", "seatPrice"),
        ("idleMonthlyCost", "idleMonthlyCost"),
    ] {
        assert_eq!(
            value("data-money", name),
            report[field]["formatted"].as_str().expect("formatted"),
            "{name}"
        );
    }
    assert!(dom.contains("id=\"seat-chart\""), "the chart is drawn");

    // And a screenshot of it, for people to look at.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("seats.png");
    let profile = tempfile::tempdir().expect("a profile folder");
    let status = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1400,1100",
                "--virtual-time-budget=10000",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .kill_on_drop(true)
            .status(),
    )
    .await
    .expect("chromium finishes")
    .expect("chromium runs");
    assert!(status.success());
    let size = std::fs::metadata(&shot).expect("a screenshot").len();
    assert!(size > 10_000, "a screenshot of {size} bytes");
    eprintln!("screenshot of /seats: {}", shot.display());
}
