//! The running service: database, syncers (one per CareSoft domain), HR puller, GraphQL schema, HTTP server
//! and schedulers wired together.
//! `Application::build` binds the listener first so tests can ask for port 0 and read the real port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::alerts::Deliverer;
use crate::config::Settings;
use crate::domain::Trigger;
use crate::events::{EventBus, relay_postgres};
use crate::graphql::auth::Tokens;
use crate::graphql::{ApiDeps, build_schema};
use crate::hr::HrPuller;
use crate::http::{self, HttpState};
use crate::sync::scheduler::{self, Schedule};
use crate::sync::{SyncRequest, Syncers};

/// How far apart the scheduled syncs of several domains start, so that their requests never bunch up
/// against CareSoft's 15 requests/s.
pub const DOMAIN_SPREAD: Duration = Duration::from_secs(2);

/// A built, not yet running, service.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    syncers: Arc<Syncers>,
    schedule: Option<Schedule>,
    hr: Arc<HrPuller>,
    hr_schedule: Option<Schedule>,
    /// On PostgreSQL: the database URL and bus of the LISTEN/NOTIFY event relay.
    relay: Option<(String, DatabaseConnection, EventBus)>,
    alerts: Deliverer,
    events: EventBus,
}

/// The syncers of `settings`' domains (and of retired ones `db` still holds); without CareSoft settings
/// every sync fails with the message saying what to set.
pub async fn syncers(
    settings: &Settings,
    db: DatabaseConnection,
    events: EventBus,
) -> Result<Syncers, sea_orm::DbErr> {
    Syncers::build(settings, db, events).await
}

/// The puller of the HR source; without one every pull fails with the message saying what to set.
pub fn hr_puller(settings: &Settings, db: DatabaseConnection, events: EventBus) -> HrPuller {
    HrPuller::new(db, settings.hr.source("sync-hr"), settings.max_removal).with_events(events)
}

impl Application {
    /// Binds `listen` and assembles everything; refuses an open server on a non-loopback address.
    pub async fn build(
        settings: &Settings,
        db: DatabaseConnection,
        listen: SocketAddr,
    ) -> anyhow::Result<Self> {
        settings.check_listen(listen)?;
        // Install the metrics recorder before anything records.
        let _ = crate::metrics::handle();
        let events = EventBus::new();
        let relay = (db.get_database_backend() == DatabaseBackend::Postgres)
            .then(|| (settings.database_url.clone(), db.clone(), events.clone()));
        let syncers = Arc::new(
            syncers(settings, db.clone(), events.clone())
                .await
                .context("cannot read the domains already mirrored")?,
        );
        let hr = Arc::new(hr_puller(settings, db.clone(), events.clone()));
        let alerts = Deliverer::new(db.clone(), settings.alerts.clone())
            .context("cannot build the HTTP client of alert deliveries")?;
        let schema = build_schema(ApiDeps {
            db: db.clone(),
            syncers: syncers.clone(),
            hr: hr.clone(),
            events: events.clone(),
            max_removal: settings.max_removal,
            introspection: settings.introspection,
            alerts: alerts.clone(),
            seat_price: settings.seat_price.clone(),
        });
        let state = HttpState {
            schema,
            db,
            tokens: Arc::new(Tokens::from_settings(settings)),
            sync_interval: settings.sync_interval,
            domains: syncers.names().into_iter().map(str::to_string).collect(),
            hr_sync_interval: settings.hr.source.as_ref().and(settings.hr.sync_interval),
            started: Instant::now(),
            documents: Arc::default(),
            seat_price: settings.seat_price.clone(),
        };
        let router = http::router(state, &settings.cors_origins);
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let configured = settings.caresoft.is_configured();
        let schedule = match settings.sync_interval {
            Some(interval) if configured => Some(Schedule {
                interval,
                at: settings.sync_at,
                timezone: settings.caresoft.timezone,
            }),
            Some(_) => {
                tracing::warn!(
                    "scheduled syncs are off: neither CARESOFT_DOMAINS nor CARESOFT_DOMAIN with CARESOFT_API_TOKEN is set"
                );
                None
            }
            None => None,
        };
        let hr_schedule = match (&settings.hr.source, settings.hr.sync_interval) {
            (Some(_), Some(interval)) => Some(Schedule {
                interval,
                at: settings.hr.sync_at,
                timezone: settings.caresoft.timezone,
            }),
            _ => None,
        };
        Ok(Self {
            listener,
            router,
            syncers,
            schedule,
            hr,
            hr_schedule,
            relay,
            alerts,
            events,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The syncers shared by the API and the schedulers.
    pub fn syncers(&self) -> Arc<Syncers> {
        self.syncers.clone()
    }

    /// The HR puller shared by the API and the HR schedule.
    pub fn hr_puller(&self) -> Arc<HrPuller> {
        self.hr.clone()
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests and any running sync finish.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut schedulers = Vec::new();
        if let Some(schedule) = self.schedule {
            for (index, syncer) in self.syncers.scheduled().iter().enumerate() {
                let (syncer, shutdown) = (syncer.clone(), shutdown.clone());
                let delay = DOMAIN_SPREAD * index as u32;
                schedulers.push(tokio::spawn(async move {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    scheduler::run(syncer, schedule, shutdown).await
                }));
            }
        }
        // A retired domain is synced once at start-up: the guard refuses to empty it, which records the
        // refusal and raises its alert, so that someone confirms (or configures the domain again).
        for syncer in self.syncers.retired() {
            let syncer = syncer.clone();
            schedulers.push(tokio::spawn(async move {
                if let Err(err) = syncer.run(SyncRequest::new(Trigger::Schedule)).await {
                    tracing::error!(domain = syncer.domain(), error = %err, "the run of a retired domain could not be recorded");
                }
            }));
        }
        if let Some(schedule) = self.hr_schedule {
            schedulers.push(tokio::spawn(scheduler::run(
                self.hr.clone(),
                schedule,
                shutdown.clone(),
            )));
        }
        if let Some((url, db, events)) = self.relay {
            tokio::spawn(relay_postgres(url, db, events, shutdown.clone()));
        }
        // Without webhooks there is nobody to deliver to: a worker would only claim the events and plan
        // nothing, so that a replica with webhooks could never send them.
        let delivery = match self.alerts.settings().webhooks.is_empty() {
            true => {
                tracing::info!("alert delivery off: no BRIDGE_ALERT_WEBHOOKS");
                None
            }
            false => Some(tokio::spawn(self.alerts.run(self.events, shutdown.clone()))),
        };
        let stop = shutdown.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("HTTP server failed")?;
        for task in schedulers {
            let _ = task.await;
        }
        if let Some(delivery) = delivery {
            let _ = delivery.await;
        }
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
