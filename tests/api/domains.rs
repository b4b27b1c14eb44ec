//! Several CareSoft domains in one bridge, each a stand-in of its own over real HTTP: each domain is its
//! own run (one answering 500 leaves the other applied), agents whose CareSoft ids clash get keys of their
//! own, one employee is MATCHED to seats in both, `unmatchedEmployees` means "no seat in any domain", the
//! group lists (a group with no agent, a rename, a failing `/groups`), and a domain taken out of the
//! configuration keeps its agents until a sync is allowed to remove them.

use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::events::EventBus;
use caresoft_bridge::sync::{SyncRequest, Syncers};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::helpers::{
    StandIn, TestApp, TestDb, agent_json, bridge_command, scalar, settings, spawn_app,
};
use crate::on_both_engines;

const HANOI: &str = "acme-hn";
/// CareSoft's id 3 in Hà Nội, which `acme`'s agent 3 already holds: the first key of the next block.
const CLASHING_KEY: i64 = (1 << 40) + 3;

const STAFF: &str = "employee_code,full_name,email,phone,department,status\n\
    NV1,Nguyễn Văn An,agent1@acme.vn,,CSKH,active\n\
    NV2,Trần Thị Bình,agent2@acme.vn,,CSKH,active\n\
    NV9,Lê Văn Chín,nobody@acme.vn,,Kế toán,active\n";

/// Hà Nội's seats: CareSoft id 3 for NV1 (who also holds `acme`'s agent 1), and 901 nobody in HR owns.
fn hanoi_agents(group_name: &str) -> Vec<Value> {
    let seat = |id: i64, email: &str| {
        let mut agent = agent_json(id);
        agent["email"] = json!(email);
        agent["phone_no"] = Value::Null;
        agent["group_id"] = json!(77);
        agent["group_name"] = json!(group_name);
        agent
    };
    vec![seat(3, "agent1@acme.vn"), seat(901, "hn901@acme.vn")]
}

fn group(id: i64, name: &str) -> Value {
    json!({"group_id": id, "group_name": name, "created_at": "2024-03-01 08:00:00"})
}

/// The variables of a bridge syncing `acme` (the first stand-in) and `acme-hn` (the second).
fn two_domains(hanoi: &StandIn) -> Vec<(&'static str, String)> {
    vec![
        (
            "CARESOFT_DOMAINS",
            format!("acme:test-token,{HANOI}:test-token"),
        ),
        ("CARESOFT_BASE_URL_ACME_HN", hanoi.server.uri()),
        ("CARESOFT_MAX_ATTEMPTS", "1".to_string()),
    ]
}

async fn import_staff(t: &TestDb) {
    let parsed = caresoft_bridge::hr::parse_employees(STAFF.as_bytes()).expect("CSV");
    caresoft_bridge::hr::import_rows(&t.db, parsed.rows, parsed.errors, Default::default())
        .await
        .expect("import");
}

async fn data(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.post(None, query).await;
    assert!(
        status.is_success() && body.get("errors").is_none(),
        "{query}: {body}"
    );
    body["data"].clone()
}

/// `(outcome, domain)` of each run `syncAllNow` returned.
async fn sync_all(app: &TestApp) -> Vec<(String, String)> {
    let runs = data(app, "mutation { syncAllNow { outcome domain } }").await;
    runs["syncAllNow"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| {
            (
                r["outcome"].as_str().unwrap_or_default().to_string(),
                r["domain"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

on_both_engines!(
    two_domains_sync_apart_and_one_employee_holds_seats_in_both,
    |t: TestDb| async move {
        let acme = StandIn::start().await;
        acme.serve(&[agent_json(1), agent_json(2), agent_json(3)])
            .await;
        let hanoi = StandIn::start_for(HANOI).await;
        hanoi.serve(&hanoi_agents("Hotline HN")).await;
        hanoi
            .serve_groups(&[group(77, "Hotline HN"), group(78, "Trực đêm")])
            .await;
        import_staff(&t).await;
        let vars = two_domains(&hanoi);
        let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let db = t.db.clone();
        let app = spawn_app(t, acme, &extra).await;

        // One domain after the other, so that acme is the first to mirror CareSoft id 3: whichever domain
        // does keeps it as the key.
        for domain in ["acme", HANOI] {
            let run = data(
                &app,
                &format!(r#"mutation {{ syncNow(domain: "{domain}") {{ outcome domain }} }}"#),
            )
            .await;
            assert_eq!(
                run["syncNow"],
                json!({"outcome": "SUCCEEDED", "domain": domain})
            );
        }
        let hanoi_seats = data(
            &app,
            r#"{ agents(domain: "acme-hn") { totalCount nodes { id caresoftId domain matchStatus employee { employeeCode } } } }"#,
        )
        .await;
        assert_eq!(
            hanoi_seats["agents"],
            json!({"totalCount": 2, "nodes": [
                {"id": "901", "caresoftId": "901", "domain": HANOI, "matchStatus": "UNMATCHED", "employee": null},
                {"id": CLASHING_KEY.to_string(), "caresoftId": "3", "domain": HANOI, "matchStatus": "MATCHED",
                 "employee": {"employeeCode": "NV1"}},
            ]}),
            "the clashing id gets a key of its own and NV1 is matched here too"
        );
        let everywhere = data(
            &app,
            r#"{ acme: agents(domain: "acme") { nodes { id domain employee { employeeCode } } }
                 unmatchedEmployees { nodes { employeeCode } } }"#,
        )
        .await;
        assert_eq!(
            everywhere["acme"]["nodes"][0],
            json!({"id": "1", "domain": "acme", "employee": {"employeeCode": "NV1"}})
        );
        assert_eq!(
            everywhere["acme"]["nodes"][2]["id"], "3",
            "acme's agent 3 keeps CareSoft's id as its key"
        );
        assert_eq!(
            everywhere["unmatchedEmployees"]["nodes"],
            json!([{"employeeCode": "NV9"}]),
            "only staff with no seat in any domain"
        );

        // Groups: one with no agent is listed, and a rename reaches the list before any agent shows it.
        // Domain names are matched whatever their case, as `syncNow(domain:)` does.
        let groups = r#"{ groups(domain: "ACME-HN") { domain id name agentCount } }"#;
        assert_eq!(
            data(&app, groups).await["groups"],
            json!([
                {"domain": HANOI, "id": 77, "name": "Hotline HN", "agentCount": 2},
                {"domain": HANOI, "id": 78, "name": "Trực đêm", "agentCount": 0},
            ])
        );
        hanoi
            .serve_groups(&[group(77, "Tổng đài Hà Nội"), group(78, "Trực đêm")])
            .await;
        assert_eq!(
            sync_all(&app).await,
            pairs(&[("SUCCEEDED", "acme"), ("SUCCEEDED", HANOI)])
        );
        assert_eq!(
            data(&app, groups).await["groups"][0]["name"],
            "Tổng đài Hà Nội"
        );
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) FROM group_changes WHERE field = 'name' AND old_value = 'Hotline HN' \
                 AND new_value = 'Tổng đài Hà Nội'"
            )
            .await,
            1,
            "the rename is in the groups' history"
        );

        // Hà Nội answers 500 while acme changes: acme's change is applied, Hà Nội's mirror untouched.
        let mut renamed = agent_json(2);
        renamed["username"] = json!("Chuyên viên Hai");
        app.caresoft
            .serve(&[agent_json(1), renamed, agent_json(3)])
            .await;
        hanoi
            .respond(ResponseTemplate::new(500).set_body_string("upstream down"))
            .await;
        assert_eq!(
            sync_all(&app).await,
            pairs(&[("SUCCEEDED", "acme"), ("FAILED", HANOI)])
        );
        let after = data(
            &app,
            r#"{ acme: agent(id: "2") { username }
                 hn: agents(domain: "acme-hn") { totalCount }
                 runs: syncRuns(domain: "acme-hn") { outcome domain errorCode } }"#,
        )
        .await;
        assert_eq!(after["acme"]["username"], "Chuyên viên Hai");
        assert_eq!(
            after["hn"]["totalCount"], 2,
            "a failed domain keeps its agents"
        );
        assert_eq!(
            after["runs"],
            json!([
                {"outcome": "FAILED", "domain": HANOI, "errorCode": "CARESOFT_UNREACHABLE"},
                {"outcome": "SUCCEEDED", "domain": HANOI, "errorCode": null},
                {"outcome": "SUCCEEDED", "domain": HANOI, "errorCode": null},
            ])
        );
        // A later run in either order finds every agent by its domain and CareSoft id: keys never move.
        assert_eq!(
            data(&app, r#"{ agent(id: "3") { domain } }"#).await["agent"]["domain"],
            "acme"
        );

        // A failing `/groups` fails the run like `/agents` would: nothing of it is applied.
        let mut grown = hanoi_agents("Tổng đài Hà Nội");
        grown.push(agent_json(902));
        hanoi.serve(&grown).await;
        hanoi
            .respond_groups(ResponseTemplate::new(502).set_body_string("bad gateway"))
            .await;
        let run = data(
            &app,
            r#"mutation { syncNow(domain: "ACME-HN") { outcome domain fetched added } }"#,
        )
        .await;
        assert_eq!(run["syncNow"]["outcome"], "FAILED");
        assert_eq!(
            data(&app, r#"{ agents(domain: "acme-hn") { totalCount } }"#).await["agents"]["totalCount"],
            2,
            "agent 902 is not added by a run whose groups failed"
        );

        // Which domain a run of several is for must be said.
        let (_, ambiguous) = app.post(None, "mutation { syncNow { outcome } }").await;
        let message = ambiguous["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("2 domains") && message.contains("acme, acme-hn"),
            "{ambiguous}"
        );
        let (_, unknown) = app
            .post(
                None,
                r#"mutation { syncNow(domain: "acme-sg") { outcome } }"#,
            )
            .await;
        assert_eq!(
            unknown["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{unknown}"
        );

        // Freshness and readiness speak of each domain.
        let fresh = data(
            &app,
            "{ freshness { sources { source domain configured lastRun { outcome } } } }",
        )
        .await;
        assert_eq!(
            fresh["freshness"]["sources"],
            json!([
                {"source": "CARESOFT", "domain": "acme", "configured": true, "lastRun": {"outcome": "SUCCEEDED"}},
                {"source": "CARESOFT", "domain": HANOI, "configured": true, "lastRun": {"outcome": "FAILED"}},
                {"source": "HR", "domain": null, "configured": false, "lastRun": null},
            ])
        );
        let ready: Value = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("JSON");
        let domains = ready["domains"].as_object().expect("domains");
        assert_eq!(
            domains.keys().collect::<Vec<_>>(),
            ["acme", HANOI],
            "{ready}"
        );
    }
);

on_both_engines!(
    a_domain_taken_out_of_the_configuration_keeps_its_agents_until_allowed,
    |t: TestDb| async move {
        let acme = StandIn::start().await;
        acme.serve(&[agent_json(1), agent_json(2)]).await;
        let hanoi = StandIn::start_for(HANOI).await;
        hanoi.serve(&hanoi_agents("Hotline HN")).await;
        let mut vars = two_domains(&hanoi);
        vars.push(("CARESOFT_BASE_URL", acme.server.uri()));
        let both = Syncers::build(&settings(&vars), t.db.clone(), EventBus::new())
            .await
            .expect("syncers");
        assert!(both.retired().is_empty());
        for report in both.run_all(SyncRequest::new(Trigger::Cli)).await {
            assert_eq!(report.expect("recorded").outcome, SyncOutcome::Succeeded);
        }

        let current_in_hanoi =
            "SELECT COUNT(*) FROM agents WHERE domain = 'acme-hn' AND removed_at IS NULL";
        let only_acme = settings(&[
            ("CARESOFT_DOMAINS", "acme:test-token".to_string()),
            ("CARESOFT_BASE_URL", acme.server.uri()),
        ]);
        let left = Syncers::build(&only_acme, t.db.clone(), EventBus::new())
            .await
            .expect("syncers");
        assert_eq!(
            left.retired()
                .iter()
                .map(|s| s.domain())
                .collect::<Vec<_>>(),
            [HANOI]
        );
        let reports: Vec<_> = left
            .run_all(SyncRequest::new(Trigger::Cli))
            .await
            .into_iter()
            .map(|r| r.expect("recorded"))
            .collect();
        assert_eq!(
            reports.iter().map(|r| r.outcome).collect::<Vec<_>>(),
            [SyncOutcome::Succeeded, SyncOutcome::Refused],
            "acme syncs; the retired domain is refused, not emptied"
        );
        assert_eq!(scalar(&t.db, current_in_hanoi).await, 2);
        assert_eq!(
            hanoi.requests().await,
            1,
            "a retired domain's CareSoft is not asked"
        );

        // allowMassRemoval meant for the configured domains does not confirm a retirement.
        let forced: Vec<_> = left
            .run_all(SyncRequest {
                allow_mass_removal: true,
                ..SyncRequest::new(Trigger::Cli)
            })
            .await
            .into_iter()
            .map(|r| r.expect("recorded").outcome)
            .collect();
        assert_eq!(forced, [SyncOutcome::Succeeded, SyncOutcome::Refused]);
        assert_eq!(scalar(&t.db, current_in_hanoi).await, 2);

        // The stored domain spelled with other capitals is refused: it would mirror every agent again.
        let respelled = settings(&[
            (
                "CARESOFT_DOMAINS",
                "acme:test-token,ACME-HN:test-token".to_string(),
            ),
            ("CARESOFT_BASE_URL", acme.server.uri()),
        ]);
        let err = Syncers::build(&respelled, t.db.clone(), EventBus::new())
            .await
            .expect_err("a respelled domain");
        assert!(
            err.to_string()
                .contains("\"ACME-HN\" is stored as \"acme-hn\""),
            "{err}"
        );

        let confirmed = left
            .pick(Some(HANOI))
            .expect("retired domains can be named")
            .run(SyncRequest {
                allow_mass_removal: true,
                ..SyncRequest::new(Trigger::Cli)
            })
            .await
            .expect("recorded");
        assert_eq!(
            (confirmed.outcome, confirmed.counts.removed),
            (SyncOutcome::Succeeded, 2)
        );
        assert_eq!(scalar(&t.db, current_in_hanoi).await, 0);
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM agents WHERE domain = 'acme-hn'"
            )
            .await,
            2,
            "removed, never deleted"
        );
        let after = Syncers::build(&only_acme, t.db.clone(), EventBus::new())
            .await
            .expect("syncers");
        assert!(
            after.retired().is_empty(),
            "nothing current is left to retire"
        );
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM agents WHERE domain = 'acme' AND removed_at IS NULL"
            )
            .await,
            2
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_syncs_every_domain_and_names_the_one_that_failed() {
    let t = TestDb::sqlite().await;
    let acme = StandIn::start().await;
    acme.serve(&[agent_json(1)]).await;
    let hanoi = StandIn::start_for(HANOI).await;
    hanoi
        .respond(ResponseTemplate::new(500).set_body_string("down"))
        .await;
    let bridge = |args: &[&str]| {
        let mut command = bridge_command(&t, Some(&acme), args);
        command
            .env_remove("CARESOFT_DOMAIN")
            .env_remove("CARESOFT_API_TOKEN")
            .env(
                "CARESOFT_DOMAINS",
                format!("acme:test-token,{HANOI}:test-token"),
            )
            .env("CARESOFT_BASE_URL_ACME_HN", hanoi.server.uri());
        command
    };

    let all = bridge(&["sync"]).output().await.expect("runs");
    let stdout = String::from_utf8_lossy(&all.stdout);
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(!all.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("acme: sync ok: 1 agents, 1 added"),
        "{stdout}"
    );
    assert!(stdout.contains("acme-hn: sync failed:"), "{stdout}");
    assert!(
        stderr.contains("sync: failed: acme-hn (the other domains were applied)"),
        "{stderr}"
    );
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM agents").await, 1);

    let one = bridge(&["sync", "--domain", "acme"])
        .output()
        .await
        .expect("runs");
    let stdout = String::from_utf8_lossy(&one.stdout);
    assert!(one.status.success(), "{stdout}");
    assert!(
        stdout.starts_with("sync ok: 1 agents, 0 added"),
        "one domain, no prefix: {stdout}"
    );

    let unknown = bridge(&["sync", "--domain", "acme-sg"])
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success());
    assert!(
        stderr.contains("unknown domain \"acme-sg\": the domains are acme, acme-hn"),
        "{stderr}"
    );
}

/// Both domains' agents change call status at every sync; subscribers filtered by domain hear only theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_filtered_by_domain_hear_only_that_domain() {
    let t = TestDb::sqlite().await;
    let acme = StandIn::start().await;
    let hanoi = StandIn::start_for(HANOI).await;
    let serve = |call: &'static str| {
        let mut ours = agent_json(1);
        ours["call_status"] = json!(call);
        let theirs: Vec<Value> = hanoi_agents("Hotline HN")
            .into_iter()
            .map(|mut agent| {
                agent["call_status"] = json!(call);
                agent
            })
            .collect();
        (vec![ours], theirs)
    };
    let (ours, theirs) = serve("AVAILABLE");
    acme.serve(&ours).await;
    hanoi.serve(&theirs).await;
    let vars = two_domains(&hanoi);
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app(t, acme, &extra).await;
    sync_all(&app).await;

    // One connection per subscription: waiting for one id's frames drops the others'.
    let mut status_ws = crate::helpers::GraphqlWs::connect(&app.ws_url()).await;
    status_ws.init_ok(json!({})).await;
    status_ws
        .subscribe(
            "status",
            r#"subscription { agentStatusChanged(domain: "acme") { agent { domain caresoftId } to } }"#,
        )
        .await;
    let mut runs_ws = crate::helpers::GraphqlWs::connect(&app.ws_url()).await;
    runs_ws.init_ok(json!({})).await;
    runs_ws
        .subscribe(
            "runs",
            r#"subscription { syncCompleted(domain: "acme-hn") { domain outcome } }"#,
        )
        .await;

    // graphql-transport-ws does not acknowledge `subscribe`: sync until both have heard something.
    let (mut statuses, mut runs) = (Vec::new(), Vec::new());
    for round in 0..6 {
        let (ours, theirs) = serve(if round % 2 == 0 {
            "LOGOUT"
        } else {
            "AVAILABLE"
        });
        app.caresoft.serve(&ours).await;
        hanoi.serve(&theirs).await;
        sync_all(&app).await;
        while let Some(event) = status_ws
            .try_next_of("status", std::time::Duration::from_millis(500))
            .await
        {
            statuses.push(event);
        }
        while let Some(event) = runs_ws
            .try_next_of("runs", std::time::Duration::from_millis(300))
            .await
        {
            runs.push(event);
        }
        if !statuses.is_empty() && !runs.is_empty() {
            break;
        }
    }
    assert!(
        !statuses.is_empty() && !runs.is_empty(),
        "{statuses:?} {runs:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|e| e["agentStatusChanged"]["agent"]
                == json!({"domain": "acme", "caresoftId": "1"})),
        "only acme's agent: {statuses:?}"
    );
    assert!(
        runs.iter()
            .all(|e| e["syncCompleted"] == json!({"domain": HANOI, "outcome": "SUCCEEDED"})),
        "only Hà Nội's runs: {runs:?}"
    );
}

/// Scheduled every 2 s, acme keeps succeeding while Hà Nội answers 500: `/readyz` turns 503 naming
/// Hà Nội only, and the stale domain's entry says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_names_the_stale_domain() {
    let t = TestDb::sqlite().await;
    let acme = StandIn::start().await;
    acme.serve(&[agent_json(1)]).await;
    let hanoi = StandIn::start_for(HANOI).await;
    hanoi
        .respond(ResponseTemplate::new(500).set_body_string("down"))
        .await;
    let mut vars = two_domains(&hanoi);
    vars.push(("BRIDGE_SYNC_INTERVAL", "2s".to_string()));
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app(t, acme, &extra).await;

    let body: Value = crate::helpers::eventually(
        std::time::Duration::from_secs(30),
        "/readyz to report the stale domain",
        || async {
            let response = app.http.get(app.url("/readyz")).send().await.ok()?;
            let unready = response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE;
            let body: Value = response.json().await.ok()?;
            // A moment when acme's last sync is fresh: on a loaded machine its 2 s schedule can slip past
            // twice the interval now and then, and acme is then rightly named too.
            let acme_fresh = body["domains"]["acme"]["lastSuccess"].is_string()
                && body["domains"]["acme"]["stale"].is_null();
            (unready && acme_fresh).then_some(body)
        },
    )
    .await;
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no successful sync of domain acme-hn"),
        "{body}"
    );
    assert!(!reason.contains("domain acme "), "acme is fresh: {body}");
    assert!(body["domains"][HANOI]["stale"].is_string(), "{body}");
}
