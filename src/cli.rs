//! The commands of the `caresoft-bridge` binary (DESIGN.md "Command line"). Each prints one human line (or
//! JSON with `--json`) on stdout and maps its outcome to an exit status scripts can rely on.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::{ConfigError, Settings};
use crate::domain::{DeliveryStatus, SyncOutcome, Trigger};
use crate::events::EventBus;
use crate::export::{ExportFormat, ExportKind};
use crate::hr::{self, ImportError, ImportOptions};
use crate::reconcile::overrides;
use crate::sync::{Job, Runner, SyncRequest};
use crate::{alerts, app, demo, export, graphql, seats, store};

/// Exit statuses: 0 success, 1 failure, 3 refused by a guard, 78 configuration error (sysexits' EX_CONFIG).
/// clap itself exits 2 on a usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
    Refused = 3,
    Config = 78,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

/// Mirrors CareSoft agents into your database, reconciles them with HR, and serves them over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "caresoft-bridge", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, serve GraphQL over HTTP, and run scheduled syncs.
    Serve {
        /// Address to listen on (overrides BRIDGE_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// A self-contained showcase: embedded database, a CareSoft stand-in with sample data, sample HR staff,
    /// and the server with the IDE on loopback.
    Demo,
    /// Print the GraphQL schema (SDL), identical to schema.graphql.
    Schema,
    /// Apply pending database migrations.
    Migrate,
    /// Sync the agent list from CareSoft now.
    Sync {
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply even when more than BRIDGE_MAX_REMOVAL of the agents would be removed.
        #[arg(long)]
        allow_mass_removal: bool,
        /// Print the report as JSON instead of the summary line (one object per line and domain).
        #[arg(long)]
        json: bool,
        /// Sync only this CareSoft domain (one of CARESOFT_DOMAINS, or a domain no longer configured whose
        /// agents are still current). Every domain by default.
        #[arg(long, value_name = "D")]
        domain: Option<String>,
    },
    /// Pull the HR source (HR_DATABASE_URL with HR_QUERY, or HR_FILE) now: a full snapshot, behind the
    /// mass-removal guard.
    SyncHr {
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply even when more than BRIDGE_MAX_REMOVAL of the employees would be removed.
        #[arg(long)]
        allow_mass_removal: bool,
        /// Print the report as JSON instead of the summary line.
        #[arg(long)]
        json: bool,
    },
    /// Upsert HR employees from a CSV file.
    ImportEmployees {
        /// The CSV file (header row with employee_code, full_name, email, phone, department, status).
        file: PathBuf,
        /// Mark employees absent from the file as removed (kept, not deleted).
        #[arg(long)]
        replace: bool,
        /// Validate and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows and list the invalid ones instead of importing nothing.
        #[arg(long)]
        skip_invalid: bool,
        /// Let --replace remove more than BRIDGE_MAX_REMOVAL of the employees.
        #[arg(long)]
        allow_mass_removal: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Force an agent's link to an employee (admin override).
    Link {
        agent_id: i64,
        employee_code: String,
    },
    /// Drop an agent's manual override (link or ignore); its match is computed again.
    Unlink { agent_id: i64 },
    /// Mark a service, test or supervisor seat that must never be linked or reported.
    Ignore { agent_id: i64 },
    /// Export agents, employees, the unmatched lists or the seat report to stdout.
    Export {
        #[arg(value_enum)]
        kind: ExportKind,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// seat-report: the window of the idle list, in days.
        #[arg(long, default_value_t = seats::DEFAULT_IDLE_DAYS)]
        idle_days: i32,
    },
    /// Send a test alert to every webhook of BRIDGE_ALERT_WEBHOOKS now, and say what each answered.
    AlertTest,
}

impl Cli {
    /// Runs the command and returns its exit status.
    pub async fn run(self, settings: Settings) -> ExitStatus {
        match self.command {
            Command::Serve { listen } => serve(settings, listen).await,
            Command::Demo => match demo::run(settings).await {
                Ok(()) => ExitStatus::Success,
                Err(err) => fail(format!("demo failed: {err:#}")),
            },
            Command::Schema => {
                print!("{}", graphql::sdl());
                ExitStatus::Success
            }
            Command::Migrate => match store::connect_and_migrate(&settings.database_url).await {
                Ok(_) => {
                    println!("migrations applied");
                    ExitStatus::Success
                }
                Err(err) => fail(format!("migrate failed: {err}")),
            },
            Command::Sync {
                dry_run,
                allow_mass_removal,
                json,
                domain,
            } => {
                run_sync(
                    &settings,
                    SyncRequest {
                        dry_run,
                        allow_mass_removal,
                        ..SyncRequest::new(Trigger::Cli)
                    },
                    json,
                    domain.as_deref(),
                )
                .await
            }
            Command::SyncHr {
                dry_run,
                allow_mass_removal,
                json,
            } => {
                let request = SyncRequest {
                    dry_run,
                    allow_mass_removal,
                    ..SyncRequest::new(Trigger::Cli)
                };
                run_sync_hr(&settings, request, json).await
            }
            Command::ImportEmployees {
                file,
                replace,
                dry_run,
                skip_invalid,
                allow_mass_removal,
                json,
            } => {
                let options = ImportOptions {
                    replace,
                    dry_run,
                    skip_invalid,
                    allow_mass_removal,
                    max_removal: settings.max_removal,
                };
                run_import(&settings, file, options, json).await
            }
            Command::Link {
                agent_id,
                employee_code,
            } => {
                with_db(&settings, |db| async move {
                    overrides::link(&db, agent_id, &employee_code).await
                })
                .await
            }
            Command::Unlink { agent_id } => {
                with_db(&settings, |db| async move {
                    overrides::unlink(&db, agent_id).await
                })
                .await
            }
            Command::Ignore { agent_id } => {
                with_db(&settings, |db| async move {
                    overrides::ignore(&db, agent_id).await
                })
                .await
            }
            Command::AlertTest => alert_test(&settings).await,
            Command::Export {
                kind,
                format,
                idle_days,
            } => {
                let lists = match seats::Lists::new(idle_days, chrono::Utc::now()) {
                    Ok(lists) => lists,
                    Err(reason) => {
                        return fail(format!(
                            "export failed: {}",
                            reason.replace("`idleDays`", "--idle-days")
                        ));
                    }
                };
                let db = match store::connect_and_migrate(&settings.database_url).await {
                    Ok(db) => db,
                    Err(err) => return fail(format!("cannot open the database: {err}")),
                };
                let mut stdout = std::io::stdout().lock();
                let written = match kind {
                    ExportKind::SeatReport => {
                        export::seat_report(
                            &db,
                            &lists,
                            settings.seat_price.as_ref(),
                            format,
                            &mut stdout,
                        )
                        .await
                    }
                    _ => export::export(&db, kind, format, &mut stdout).await,
                };
                match written {
                    Ok(count) => {
                        tracing::info!(rows = count, "export written");
                        ExitStatus::Success
                    }
                    Err(err) => fail(format!("export failed: {err}")),
                }
            }
        }
    }
}

async fn serve(settings: Settings, listen: Option<std::net::SocketAddr>) -> ExitStatus {
    let listen = listen.unwrap_or(settings.listen);
    if let Err(err) = settings.check_listen(listen) {
        return config_error(err);
    }
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("serve failed: cannot open the database: {err}")),
    };
    let application = match app::Application::build(&settings, db, listen).await {
        Ok(application) => application,
        Err(err) => return fail(format!("serve failed: {err:#}")),
    };
    if let Ok(addr) = application.local_addr() {
        tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql, the IDE at http://{addr}/");
    }
    let shutdown = tokio_util::sync::CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        app::shutdown_signal().await;
        trigger.cancel();
    });
    match application.run(shutdown).await {
        Ok(()) => ExitStatus::Success,
        Err(err) => fail(format!("serve failed: {err:#}")),
    }
}

/// `alert-test`: raises a test alert and posts it to every webhook once, printing one line per webhook.
async fn alert_test(settings: &Settings) -> ExitStatus {
    if settings.alerts.webhooks.is_empty() {
        return config_error(ConfigError::Missing {
            name: "BRIDGE_ALERT_WEBHOOKS",
            needed_for: "alert-test",
        });
    }
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => {
            return fail(format!(
                "alert-test failed: cannot open the database: {err}"
            ));
        }
    };
    let deliverer = match alerts::Deliverer::new(db, settings.alerts.clone()) {
        Ok(deliverer) => deliverer,
        Err(err) => return fail(format!("alert-test failed: {err}")),
    };
    let event = match deliverer.raise_test("alert-test").await {
        Ok(event) => event,
        Err(err) => return fail(format!("alert-test failed: cannot write the alert: {err}")),
    };
    let outcomes = match deliverer.deliver_due(Some(event.id)).await {
        Ok(outcomes) => outcomes,
        Err(err) => return fail(format!("alert-test failed: {err}")),
    };
    let mut failed = 0;
    // A running `serve` woken by the same event may have leased some deliveries first: they are its to
    // post, and this command says so rather than counting them as sent.
    let elsewhere = settings
        .alerts
        .webhooks
        .len()
        .saturating_sub(outcomes.len());
    for outcome in &outcomes {
        let answer = outcome
            .status_code
            .map_or(String::new(), |code| format!(" (HTTP {code})"));
        match outcome.status {
            DeliveryStatus::Delivered => println!("delivered to {}{answer}", outcome.target),
            status => {
                failed += 1;
                let next = match status {
                    DeliveryStatus::Pending => "; `serve` will retry it",
                    _ => "",
                };
                println!(
                    "not delivered to {}: {}{next}",
                    outcome.target,
                    outcome.error.as_deref().unwrap_or("no answer")
                );
            }
        }
    }
    println!(
        "alert-test: event {} sent to {} webhook(s), {failed} not delivered",
        event.event_id,
        outcomes.len()
    );
    if elsewhere > 0 {
        println!(
            "alert-test: {elsewhere} delivery(ies) were taken by a running `serve`; see `alerts` in the API for how they went"
        );
    }
    if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn fail(message: String) -> ExitStatus {
    eprintln!("{message}");
    ExitStatus::Failure
}

fn config_error(err: ConfigError) -> ExitStatus {
    eprintln!("configuration error: {err}");
    ExitStatus::Config
}

async fn run_sync(
    settings: &Settings,
    request: SyncRequest,
    json: bool,
    domain: Option<&str>,
) -> ExitStatus {
    // Configuration first, so a missing token is reported before anything touches the database.
    if let Err(err) = settings.caresoft.configured_domains("sync") {
        return config_error(err);
    }
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("sync failed: cannot open the database: {err}")),
    };
    let syncers = match app::syncers(settings, db, EventBus::new()).await {
        Ok(syncers) => syncers,
        Err(err) => {
            return fail(format!(
                "sync failed: cannot read the mirrored domains: {err}"
            ));
        }
    };
    let (chosen, reports) = match domain {
        None => (syncers.all(), syncers.run_all(request).await),
        Some(name) => match syncers.pick(Some(name)) {
            Ok(syncer) => {
                let chosen = vec![syncer];
                let reports = crate::sync::domains::run_in_turn(&chosen, request).await;
                (chosen, reports)
            }
            Err(reason) => return fail(format!("sync: {reason}")),
        },
    };
    let several = chosen.len() > 1;
    let mut failed = Vec::new();
    let mut refused = Vec::new();
    for (syncer, report) in chosen.iter().zip(reports) {
        let name = syncer.domain();
        let prefix = match several {
            true => format!("{name}: "),
            false => String::new(),
        };
        let report = match report {
            Ok(report) => report,
            Err(err) => {
                eprintln!("{prefix}sync failed: cannot record the run: {err}");
                failed.push(name.to_string());
                continue;
            }
        };
        if json {
            let mut value = report.to_json();
            value["domain"] = serde_json::Value::from(name);
            println!("{value}");
        } else {
            for line in &report.preview {
                println!("{prefix}  {line}");
            }
            println!("{prefix}{}", report.summary_line());
            if report.outcome == SyncOutcome::Refused
                && syncers.retired().iter().any(|r| r.domain() == name)
            {
                println!(
                    "{prefix}  {name} is no longer in the configuration: its agents stay current until \
                     `sync --domain {name} --allow-mass-removal` marks them removed (or the domain is \
                     configured again)"
                );
            }
        }
        match report.outcome {
            SyncOutcome::Succeeded | SyncOutcome::DryRun => {}
            SyncOutcome::Refused => refused.push(name.to_string()),
            SyncOutcome::Failed | SyncOutcome::Running | SyncOutcome::Interrupted => {
                failed.push(name.to_string())
            }
        }
    }
    if several && !(failed.is_empty() && refused.is_empty()) {
        let mut parts = Vec::new();
        if !failed.is_empty() {
            parts.push(format!("failed: {}", failed.join(", ")));
        }
        if !refused.is_empty() {
            parts.push(format!("refused: {}", refused.join(", ")));
        }
        eprintln!(
            "sync: {} (the other domains were applied)",
            parts.join("; ")
        );
    }
    match (failed.is_empty(), refused.is_empty()) {
        (true, true) => ExitStatus::Success,
        (true, false) => ExitStatus::Refused,
        (false, _) => ExitStatus::Failure,
    }
}

async fn run_sync_hr(settings: &Settings, request: SyncRequest, json: bool) -> ExitStatus {
    if let Err(err) = settings.hr.source("sync-hr") {
        return config_error(err);
    }
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("sync-hr failed: cannot open the database: {err}")),
    };
    let puller = app::hr_puller(settings, db, EventBus::new());
    report_run(&puller, request, json, "sync-hr").await
}

/// Runs once, prints the preview and summary (or JSON), and maps the outcome to the exit status.
async fn report_run<J: Job>(
    runner: &Runner<J>,
    request: SyncRequest,
    json: bool,
    command: &str,
) -> ExitStatus {
    let report = match runner.run(request).await {
        Ok(report) => report,
        Err(err) => return fail(format!("{command} failed: cannot record the run: {err}")),
    };
    if json {
        println!("{}", report.to_json());
    } else {
        for line in &report.preview {
            println!("  {line}");
        }
        println!("{}", report.summary_line());
    }
    match report.outcome {
        SyncOutcome::Succeeded | SyncOutcome::DryRun => ExitStatus::Success,
        SyncOutcome::Refused => ExitStatus::Refused,
        SyncOutcome::Failed | SyncOutcome::Running | SyncOutcome::Interrupted => {
            ExitStatus::Failure
        }
    }
}

async fn run_import(
    settings: &Settings,
    file: PathBuf,
    options: ImportOptions,
    json: bool,
) -> ExitStatus {
    let reader = match std::fs::File::open(&file) {
        Ok(f) => f,
        Err(err) => {
            return fail(format!(
                "import failed: cannot open {}: {err}",
                file.display()
            ));
        }
    };
    let parsed = match hr::parse_employees(std::io::BufReader::new(reader)) {
        Ok(parsed) => parsed,
        Err(err) => return fail(format!("import failed: {}: {err}", file.display())),
    };
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("import failed: cannot open the database: {err}")),
    };
    match hr::import_rows(&db, parsed.rows, parsed.errors, options).await {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                for error in &report.skipped {
                    eprintln!("  skipped {}: {error}", file.display());
                }
                for line in &report.preview {
                    println!("  {line}");
                }
                println!("{}", report.summary_line());
            }
            ExitStatus::Success
        }
        Err(ImportError::Invalid(errors)) => {
            for error in &errors {
                eprintln!("{}: {error}", file.display());
            }
            fail(format!("import failed: {}", ImportError::Invalid(errors)))
        }
        Err(ImportError::ReplaceWithInvalidRows(errors)) => {
            for error in &errors {
                eprintln!("{}: {error}", file.display());
            }
            fail(format!(
                "import failed: {}",
                ImportError::ReplaceWithInvalidRows(errors)
            ))
        }
        Err(err @ ImportError::MassRemoval { .. }) => {
            println!("import {err}");
            ExitStatus::Refused
        }
        Err(ImportError::Database(err)) => fail(format!("import failed: database error: {err}")),
    }
}

async fn with_db<F, Fut>(settings: &Settings, action: F) -> ExitStatus
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = Result<overrides::LinkState, overrides::OverrideError>>,
{
    let db = match store::connect_and_migrate(&settings.database_url).await {
        Ok(db) => db,
        Err(err) => return fail(format!("cannot open the database: {err}")),
    };
    match action(db).await {
        Ok(state) => {
            println!("{state}");
            ExitStatus::Success
        }
        Err(err) => fail(err.to_string()),
    }
}
