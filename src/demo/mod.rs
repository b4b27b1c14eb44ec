//! `caresoft-bridge demo`: a self-contained showcase. An embedded SQLite database in a temporary
//! directory, two CareSoft domains served by stand-ins on loopback (the main one's Vietnamese sample agents
//! change status every few seconds; a small hotline domain seats some of the same staff and lists a group
//! with nobody in it), sample HR staff, a first sync and reconcile of both, then the server with the IDE,
//! syncing every 10 s. Nothing outside the temporary directory is touched; Ctrl-C stops it all.

pub mod sample;
pub mod stand_in;

use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{Application, shutdown_signal};
use crate::config::{DomainSettings, Settings};
use crate::domain::Trigger;
use crate::hr::{ImportOptions, import_rows};
use crate::http::ide::EXAMPLES;
use crate::store;
use crate::sync::SyncRequest;
use stand_in::{StandIn, StandInConfig};

const DOMAIN: &str = "demo";
const TOKEN: &str = "demo-token";
/// The second domain: a hotline with a few seats of the same staff.
const HOTLINE_DOMAIN: &str = "demo-hotline";
const HOTLINE_TOKEN: &str = "demo-hotline-token";

/// Runs the demo until Ctrl-C (or SIGTERM).
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    run_until(settings, shutdown).await
}

/// Runs the demo until `shutdown` is cancelled.
pub async fn run_until(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("caresoft-bridge-demo")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
    let db = store::connect_and_migrate(&database_url)
        .await
        .context("cannot open the demo database")?;

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the CareSoft stand-in")?;
    let config = StandInConfig {
        domain: DOMAIN.into(),
        token: TOKEN.into(),
        churn_every: Duration::from_secs(3),
        seed: 2026,
    };
    let caresoft = StandIn::start(listener, config, sample::sample_agents())
        .await
        .context("cannot start the CareSoft stand-in")?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the hotline's CareSoft stand-in")?;
    let hotline_config = StandInConfig {
        domain: HOTLINE_DOMAIN.into(),
        token: HOTLINE_TOKEN.into(),
        churn_every: Duration::ZERO,
        seed: 2027,
    };
    let hotline = StandIn::start_with_groups(
        listener,
        hotline_config,
        sample::hotline_agents(),
        sample::hotline_groups(),
    )
    .await
    .context("cannot start the hotline's CareSoft stand-in")?;

    let mut settings = settings;
    settings.database_url = database_url;
    settings.caresoft.base_url = caresoft.base_url();
    settings.caresoft.fallback_url = None;
    settings.caresoft.domain = None;
    settings.caresoft.token = None;
    settings.caresoft.domain_base_url = None;
    settings.caresoft.domains = vec![
        DomainSettings {
            name: DOMAIN.into(),
            token: SecretString::from(TOKEN),
            base_url: None,
        },
        DomainSettings {
            name: HOTLINE_DOMAIN.into(),
            token: SecretString::from(HOTLINE_TOKEN),
            base_url: Some(hotline.base_url()),
        },
    ];
    settings.sync_interval = Some(Duration::from_secs(10));
    settings.sync_at = None;
    // The seat report shows what the seats cost; the demo's price unless one is set.
    if settings.seat_price.is_none() {
        settings.seat_price = crate::seats::Money::parse("350000 VND").ok();
    }

    let staff = import_rows(
        &db,
        sample::sample_employees(),
        Vec::new(),
        ImportOptions::default(),
    )
    .await
    .map_err(|err| anyhow::anyhow!("sample staff import failed: {err}"))?;
    println!("{}", staff.summary_line());

    let application = Application::build(&settings, db, settings.listen).await?;
    let syncers = application.syncers();
    let reports = syncers.run_all(SyncRequest::new(Trigger::Cli)).await;
    for (syncer, report) in syncers.all().iter().zip(reports) {
        let report = report.context("first sync")?;
        println!("{}: {}", syncer.domain(), report.summary_line());
    }

    let addr = application.local_addr()?;
    println!();
    println!("caresoft-bridge demo is running at http://{addr}/");
    println!("  GraphiQL:   http://{addr}/        (example queries open as tabs)");
    println!("  GraphQL:    http://{addr}/graphql");
    println!("  Playground: http://{addr}/playground");
    println!(
        "  Seats:      http://{addr}/seats       (the seat report, for people who do not write GraphQL)"
    );
    println!(
        "  Database:   {}  (removed on exit)",
        dir.path().join("demo.db").display()
    );
    println!(
        "Two CareSoft domains, {DOMAIN} and {HOTLINE_DOMAIN}: statuses change every 3 s in the first; the demo syncs \
         both every 10 s. Ctrl-C stops."
    );
    println!();
    for (title, query) in EXAMPLES.iter().take(3) {
        println!("# {title}");
        println!("{query}");
    }

    let result = application.run(shutdown).await;
    caresoft.shutdown().await;
    hotline.shutdown().await;
    drop(dir);
    result
}
