//! The peer: PostGraphile 4, the generic GraphQL layer over PostgreSQL, serving the same load database
//! beside caresoft-bridge, asked the agents page in its own schema's words. It is installed into
//! `bench/postgraphile/` from the pinned lock file when missing, started after the database is filled,
//! checked to give the same agents as our server for every group the load rotates through, then loaded in
//! windows that alternate with ours.
//!
//! Without Node or npm, or when the install or the start fails, the peer is skipped, and says so; the rest
//! of the benchmark runs as before.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::engine::{Rss, rss};
use crate::load::stop_child;

/// The agents page in PostGraphile's generated schema: the same filters as ours (`group`, call status
/// AVAILABLE, current agents only, by id), the same fields, the link and its employee through the foreign
/// keys `agent_links.agent_id → agents.id` and `agent_links.employee_id → employees.id`.
pub const DOCUMENT: &str = "query Agents($group: String!) { allAgents(condition: \
     {groupName: $group, callStatus: \"AVAILABLE\", removedAt: null}, orderBy: ID_ASC, first: 50) { \
     pageInfo { hasNextPage endCursor } \
     nodes { id username email groupName callStatus \
     agentLinkByAgentId { status employeeByEmployeeId { employeeCode fullName } } } } }";

/// The label of the peer's row in tables and JSON.
pub const LABEL: &str = "PostGraphile allAgents(first: 50), the same page";

/// PostGraphile's flags besides the connection and the port: our server's settings where there is one
/// (the loopback address, no GraphiQL, no per-request log: ours logs warnings only), PostGraphile's
/// defaults otherwise (its pool of 10 connections among them).
pub const FLAGS: [&str; 6] = [
    "--schema",
    "public",
    "--disable-graphiql",
    "--disable-query-log",
    "--host",
    "127.0.0.1",
];

/// The environment PostGraphile runs with besides `PATH`: Node's production mode, as it is deployed.
pub const ENV: [(&str, &str); 1] = [("NODE_ENV", "production")];

/// PostGraphile's own default pool size (`--max-pool-size`), recorded with the figures.
pub const POOL_SIZE: u32 = 10;

/// The folder holding `package.json` and `package-lock.json`, beside the bench crate's sources.
pub fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("postgraphile")
}

/// The command line PostGraphile is started with, the database URL and port left as placeholders.
pub fn command_line() -> String {
    let mut line = String::from("postgraphile -c <load database URL>");
    for flag in FLAGS {
        let _ = write!(line, " {flag}");
    }
    line.push_str(" --port <free port>");
    let env: Vec<String> = ENV.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} {line}", env.join(" "))
}

/// PostGraphile installed and ready to start.
#[derive(Debug, Clone)]
pub struct Installed {
    pub bin: PathBuf,
    /// PostGraphile's version, from its installed `package.json`.
    pub version: String,
    /// `node --version`.
    pub node: String,
}

/// Whether the peer runs, and if not why.
#[derive(Debug, Clone)]
pub enum Plan {
    Ready(Installed),
    Skipped(String),
}

/// Finds Node, and installs PostGraphile with `npm ci` unless the pinned version is already there.
pub async fn prepare() -> Plan {
    match install(&folder()).await {
        Ok(installed) => Plan::Ready(installed),
        Err(reason) => Plan::Skipped(reason),
    }
}

/// The version `package.json` pins for `postgraphile`.
fn pinned(folder: &Path) -> Result<String, String> {
    let path = folder.join("package.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|err| format!("{} is not JSON: {err}", path.display()))?;
    json["dependencies"]["postgraphile"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} pins no postgraphile", path.display()))
}

/// The version of the installed `postgraphile` package, if any.
fn installed_version(folder: &Path) -> Option<String> {
    let text =
        std::fs::read_to_string(folder.join("node_modules/postgraphile/package.json")).ok()?;
    let json: Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_string)
}

/// The last lines of a command's output, on one line.
fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join(" | ")
}

/// A failed command's output on one line: its first lines (npm leads with the error's code and message)
/// and its last one (where npm names its log).
fn gist(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if all.len() <= 5 {
        return all.join(" | ");
    }
    format!("{} | … | {}", all[..4].join(" | "), all[all.len() - 1])
}

/// Runs `command` (of the tool named `tool`) to its end; why it could not start or did not succeed.
async fn run(command: &mut Command, tool: &str) -> Result<std::process::Output, String> {
    let shown = format!(
        "{} {}",
        command.as_std().get_program().to_string_lossy(),
        command
            .as_std()
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| format!("{tool} not found (`{shown}`: {err})"))?;
    if !output.status.success() {
        return Err(format!(
            "`{shown}` failed ({}): {}",
            output.status,
            gist(&output.stderr)
        ));
    }
    Ok(output)
}

async fn install(folder: &Path) -> Result<Installed, String> {
    let node = run(Command::new("node").arg("--version"), "Node.js").await?;
    let node = String::from_utf8_lossy(&node.stdout).trim().to_string();
    let pinned = pinned(folder)?;
    let bin = folder.join("node_modules/.bin/postgraphile");
    if !bin.exists() || installed_version(folder).as_deref() != Some(pinned.as_str()) {
        eprintln!(
            "installing PostGraphile {pinned} into {} (npm ci) ...",
            folder.display()
        );
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(folder),
            "npm",
        )
        .await?;
    }
    if !bin.exists() {
        return Err(format!("{} is missing after `npm ci`", bin.display()));
    }
    let version = installed_version(folder)
        .ok_or_else(|| "the installed postgraphile package has no version".to_string())?;
    if version != pinned {
        return Err(format!(
            "postgraphile {version} is installed, package.json pins {pinned}"
        ));
    }
    Ok(Installed { bin, version, node })
}

/// A running PostGraphile.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    pub pid: u32,
    pub url: String,
    log: PathBuf,
}

impl Peer {
    /// Starts PostGraphile on a free loopback port against `database_url` and waits until it answers a
    /// GraphQL request (it introspects the database first). `workdir` holds its log.
    pub async fn start(
        installed: &Installed,
        database_url: &str,
        workdir: &Path,
    ) -> anyhow::Result<Peer> {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")
                .context("cannot find a free loopback port")?;
            probe.local_addr()?.port()
        };
        let log = workdir.join("postgraphile.log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let child = Command::new(&installed.bin)
            .arg("-c")
            .arg(database_url)
            .args(FLAGS)
            .arg("--port")
            .arg(port.to_string())
            .current_dir(workdir)
            // As for our server: only these settings, none of a developer's PG* variables.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(ENV)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", installed.bin.display()))?;
        let pid = child.id().context("PostGraphile exited at once")?;
        let mut peer = Peer {
            child,
            pid,
            url: format!("http://127.0.0.1:{port}/graphql"),
            log,
        };
        let client = reqwest::Client::builder().no_proxy().build()?;
        let started = Instant::now();
        loop {
            if let Some(status) = peer.child.try_wait()? {
                anyhow::bail!(
                    "PostGraphile exited ({status}) before answering; its log: {}",
                    peer.log_tail()
                );
            }
            let answer = client
                .post(&peer.url)
                .json(&serde_json::json!({"query": "{ __typename }"}))
                .send()
                .await;
            if let Ok(response) = answer
                && response.status().is_success()
            {
                return Ok(peer);
            }
            if started.elapsed() > Duration::from_secs(60) {
                anyhow::bail!(
                    "PostGraphile did not answer within 60 s; its log: {}",
                    peer.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// PostGraphile's resident memory now and at its peak.
    pub fn rss(&self) -> anyhow::Result<Rss> {
        rss(Some(self.pid))
    }

    /// The end of PostGraphile's log, on one line.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        tail(text.as_bytes(), 10)
    }

    /// Stops PostGraphile (SIGTERM, then SIGKILL after 10 s) and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        stop_child(self.child, self.pid)
            .await
            .context("cannot stop PostGraphile")
    }
}

/// One agent of a page, in the shape both servers' answers are compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: i64,
    pub username: Option<String>,
    pub email: Option<String>,
    pub group_name: Option<String>,
    pub call_status: String,
    pub match_status: String,
    /// Employee code and full name.
    pub employee: Option<(String, Option<String>)>,
}

/// A page of agents, compared in this shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPage {
    pub has_next_page: bool,
    pub nodes: Vec<AgentRow>,
}

fn text(node: &Value, field: &str) -> anyhow::Result<Option<String>> {
    match &node[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => anyhow::bail!("{field} is not text: {other}"),
    }
}

fn required(node: &Value, field: &str) -> anyhow::Result<String> {
    text(node, field)?.with_context(|| format!("{field} is null or missing"))
}

/// An id given as a string (GraphQL `ID`, or PostgreSQL's bigint as PostGraphile sends it) or a number.
fn id(node: &Value) -> anyhow::Result<i64> {
    match &node["id"] {
        Value::String(s) => s.parse().with_context(|| format!("id {s:?} is no integer")),
        Value::Number(n) => n.as_i64().with_context(|| format!("id {n} is no integer")),
        other => anyhow::bail!("id is {other}"),
    }
}

fn employee(node: &Value) -> anyhow::Result<Option<(String, Option<String>)>> {
    match node {
        Value::Null => Ok(None),
        Value::Object(_) => Ok(Some((
            required(node, "employeeCode")?,
            text(node, "fullName")?,
        ))),
        other => anyhow::bail!("employee is {other}"),
    }
}

fn page(
    connection: &Value,
    row: impl Fn(&Value) -> anyhow::Result<AgentRow>,
) -> anyhow::Result<AgentPage> {
    let has_next_page = connection["pageInfo"]["hasNextPage"]
        .as_bool()
        .context("pageInfo.hasNextPage is missing")?;
    let nodes = connection["nodes"]
        .as_array()
        .context("nodes are missing")?
        .iter()
        .enumerate()
        .map(|(i, node)| row(node).with_context(|| format!("node {i}: {node}")))
        .collect::<anyhow::Result<_>>()?;
    Ok(AgentPage {
        has_next_page,
        nodes,
    })
}

/// Our answer to `QueryKind::Agents`, normalised.
pub fn ours(answer: &Value) -> anyhow::Result<AgentPage> {
    page(&answer["data"]["agents"], |node| {
        Ok(AgentRow {
            id: id(node)?,
            username: text(node, "username")?,
            email: text(node, "email")?,
            group_name: text(node, "groupName")?,
            call_status: required(node, "callStatus")?,
            match_status: required(node, "matchStatus")?,
            employee: employee(&node["employee"])?,
        })
    })
    .context("caresoft-bridge's agents answer")
}

/// PostGraphile's answer to [`DOCUMENT`], normalised: the link's status, UNMATCHED without a link (our
/// `matchStatus` rule), and the link's employee.
pub fn theirs(answer: &Value) -> anyhow::Result<AgentPage> {
    page(&answer["data"]["allAgents"], |node| {
        let link = &node["agentLinkByAgentId"];
        let (match_status, employee) = match link {
            Value::Null => ("UNMATCHED".to_string(), None),
            Value::Object(_) => (
                required(link, "status")?,
                employee(&link["employeeByEmployeeId"])?,
            ),
            other => anyhow::bail!("agentLinkByAgentId is {other}"),
        };
        Ok(AgentRow {
            id: id(node)?,
            username: text(node, "username")?,
            email: text(node, "email")?,
            group_name: text(node, "groupName")?,
            call_status: required(node, "callStatus")?,
            match_status,
            employee,
        })
    })
    .context("PostGraphile's allAgents answer")
}

/// Where two pages first differ, said plainly; `None` when they are equal.
pub fn first_difference(ours: &AgentPage, theirs: &AgentPage) -> Option<String> {
    for (i, (a, b)) in ours.nodes.iter().zip(&theirs.nodes).enumerate() {
        if a != b {
            return Some(format!(
                "node {i}: caresoft-bridge {a:?}, PostGraphile {b:?}"
            ));
        }
    }
    if ours.nodes.len() != theirs.nodes.len() {
        let n = ours.nodes.len().min(theirs.nodes.len());
        let extra = |page: &AgentPage| {
            page.nodes
                .get(n)
                .map_or_else(|| "nothing".to_string(), |row| format!("{row:?}"))
        };
        return Some(format!(
            "caresoft-bridge answered {} nodes, PostGraphile {}; node {n}: caresoft-bridge {}, PostGraphile {}",
            ours.nodes.len(),
            theirs.nodes.len(),
            extra(ours),
            extra(theirs)
        ));
    }
    if ours.has_next_page != theirs.has_next_page {
        return Some(format!(
            "hasNextPage: caresoft-bridge {}, PostGraphile {}",
            ours.has_next_page, theirs.has_next_page
        ));
    }
    None
}

/// Ours over the peer's, window by window (window i of ours with window i of the peer's); `None` where
/// the peer answered nothing in its window.
pub fn pairwise_ratios(ours: &[f64], theirs: &[f64]) -> Vec<Option<f64>> {
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (*b > 0.0).then(|| a / b))
        .collect()
}

/// The median of the ratios there are (`None` when there are none).
pub fn median_ratio(ratios: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = ratios.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| crate::report::Spread::of(&known).median)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn our_answer(nodes: Value) -> Value {
        json!({"data": {"agents": {"pageInfo": {"hasNextPage": true, "endCursor": "b3Vy"}, "nodes": nodes}}})
    }

    fn their_answer(nodes: Value) -> Value {
        json!({"data": {"allAgents": {"pageInfo": {"hasNextPage": true, "endCursor": "WyJuYXR1cmFsIl0="}, "nodes": nodes}}})
    }

    #[test]
    fn both_answers_normalise_to_the_same_page() {
        let our_json = our_answer(json!([
            {"id": "7", "username": "an", "email": "an@acme.vn", "groupName": "Sales", "callStatus": "AVAILABLE",
             "matchStatus": "MATCHED", "employee": {"employeeCode": "E7", "fullName": "Nguyễn An"}},
            {"id": "9", "username": null, "email": null, "groupName": "Sales", "callStatus": "AVAILABLE",
             "matchStatus": "UNMATCHED", "employee": null},
            {"id": "12", "username": "bao", "email": "bao@acme.vn", "groupName": "Sales", "callStatus": "AVAILABLE",
             "matchStatus": "AMBIGUOUS", "employee": null},
        ]));
        let their_json = their_answer(json!([
            {"id": "7", "username": "an", "email": "an@acme.vn", "groupName": "Sales", "callStatus": "AVAILABLE",
             "agentLinkByAgentId": {"status": "MATCHED",
                                    "employeeByEmployeeId": {"employeeCode": "E7", "fullName": "Nguyễn An"}}},
            {"id": "9", "username": null, "email": null, "groupName": "Sales", "callStatus": "AVAILABLE",
             "agentLinkByAgentId": null},
            {"id": 12, "username": "bao", "email": "bao@acme.vn", "groupName": "Sales", "callStatus": "AVAILABLE",
             "agentLinkByAgentId": {"status": "AMBIGUOUS", "employeeByEmployeeId": null}},
        ]));
        let ours = ours(&our_json).expect("ours normalises");
        let theirs = theirs(&their_json).expect("theirs normalises");
        assert_eq!(first_difference(&ours, &theirs), None);
        assert_eq!(ours, theirs);
        assert_eq!(ours.nodes[0].id, 7);
        assert_eq!(
            ours.nodes[0].employee,
            Some(("E7".into(), Some("Nguyễn An".into())))
        );
        assert_eq!(theirs.nodes[1].match_status, "UNMATCHED");
    }

    #[test]
    fn the_first_difference_names_the_node_and_both_sides() {
        let ours = ours(&our_answer(json!([
            {"id": "1", "username": "a", "email": null, "groupName": "G", "callStatus": "AVAILABLE",
             "matchStatus": "MATCHED", "employee": {"employeeCode": "E1", "fullName": null}},
            {"id": "2", "username": "b", "email": null, "groupName": "G", "callStatus": "AVAILABLE",
             "matchStatus": "MATCHED", "employee": {"employeeCode": "E2", "fullName": null}},
        ])))
        .expect("ours");
        let theirs = theirs(&their_answer(json!([
            {"id": "1", "username": "a", "email": null, "groupName": "G", "callStatus": "AVAILABLE",
             "agentLinkByAgentId": {"status": "MATCHED", "employeeByEmployeeId": {"employeeCode": "E1", "fullName": null}}},
            {"id": "2", "username": "b", "email": null, "groupName": "G", "callStatus": "AVAILABLE",
             "agentLinkByAgentId": {"status": "MATCHED", "employeeByEmployeeId": {"employeeCode": "E3", "fullName": null}}},
        ])))
        .expect("theirs");
        let difference = first_difference(&ours, &theirs).expect("a difference");
        assert!(difference.starts_with("node 1:"), "{difference}");
        assert!(
            difference.contains("E2") && difference.contains("E3"),
            "{difference}"
        );

        let shorter = AgentPage {
            has_next_page: true,
            nodes: theirs.nodes[..1].to_vec(),
        };
        let difference = first_difference(&ours, &shorter).expect("a difference");
        assert!(
            difference.contains("answered 2 nodes, PostGraphile 1"),
            "{difference}"
        );

        let mut last_page = ours.clone();
        last_page.has_next_page = false;
        let difference = first_difference(&ours, &last_page).expect("a difference");
        assert!(difference.starts_with("hasNextPage"), "{difference}");
    }

    #[test]
    fn an_answer_with_errors_or_odd_ids_does_not_normalise() {
        let errors =
            json!({"data": null, "errors": [{"message": "Cannot query field \"allAgents\""}]});
        assert!(theirs(&errors).is_err());
        let odd = our_answer(
            json!([{"id": "x7", "username": null, "email": null, "groupName": null,
            "callStatus": "AVAILABLE", "matchStatus": "UNMATCHED", "employee": null}]),
        );
        assert!(ours(&odd).is_err());
    }

    #[test]
    fn ratios_pair_windows_in_order() {
        let ratios = pairwise_ratios(&[2000.0, 1500.0, 1800.0], &[1000.0, 1000.0, 600.0]);
        assert_eq!(ratios, vec![Some(2.0), Some(1.5), Some(3.0)]);
        assert_eq!(median_ratio(&ratios), Some(2.0));
        let even = pairwise_ratios(&[2000.0, 1500.0], &[1000.0, 1000.0]);
        assert_eq!(median_ratio(&even), Some(1.75));
        // A peer window with nothing answered has no ratio; a window without its pair is left out.
        let ratios = pairwise_ratios(&[10.0, 5.0, 7.0], &[0.0, 5.0]);
        assert_eq!(ratios, vec![None, Some(1.0)]);
        assert_eq!(median_ratio(&ratios), Some(1.0));
        assert_eq!(median_ratio(&[None]), None);
    }

    #[test]
    fn a_failed_install_is_told_by_its_first_lines_and_its_log() {
        let stderr = b"npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error errno ECONNREFUSED\n\
            npm error FetchError: request failed\nnpm error     at ClientRequest\nnpm error }\n\n\
            npm error A complete log of this run can be found in: debug-0.log\n";
        assert_eq!(
            gist(stderr),
            "npm error code ECONNREFUSED | npm error syscall connect | npm error errno ECONNREFUSED | \
             npm error FetchError: request failed | … | npm error A complete log of this run can be found in: \
             debug-0.log"
        );
        assert_eq!(gist(b"one\n\ntwo\n"), "one | two");
    }

    #[test]
    fn the_command_line_names_every_flag() {
        let line = command_line();
        for flag in FLAGS {
            assert!(line.contains(flag), "{line}");
        }
        assert!(
            line.starts_with("NODE_ENV=production postgraphile -c"),
            "{line}"
        );
    }
}
