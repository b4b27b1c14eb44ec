//! One [`Syncer`] per CareSoft domain: its own client and token, its own runs, mass-removal guard,
//! freshness and schedule, so that a domain that fails or is refused never rolls back or holds up another
//! (each run commits or rolls back alone; the write lock only takes them in turn).
//!
//! A domain taken out of the configuration that still has current agents is *retired*: its syncer reads
//! an empty list, so its first run is refused by the guard (nothing removed, an alert raised) and the
//! agents stay until an admin confirms with `sync --domain D --allow-mass-removal`; they are then marked
//! removed, never deleted. With no domain configured there is one syncer, whose runs fail saying what to
//! set.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};

use super::{SourceError, SyncReport, SyncRequest, Syncer};
use crate::caresoft::{Agent, AgentDirectory, CareSoftClient, CareSoftError, Group};
use crate::config::Settings;
use crate::events::EventBus;
use crate::store;

/// The syncers of every domain a bridge knows.
#[derive(Debug)]
pub struct Syncers {
    /// Configured domains, in the configuration's order.
    configured: Vec<Arc<Syncer>>,
    /// Domains no longer configured whose agents are still current.
    retired: Vec<Arc<Syncer>>,
    /// With no domain configured: the syncer that says what to set.
    unconfigured: Option<Arc<Syncer>>,
}

/// A domain taken out of the configuration: CareSoft is not asked, its list reads as empty.
#[derive(Debug)]
struct Retired;

impl AgentDirectory for Retired {
    fn fetch_agents(&self) -> BoxFuture<'_, Result<Vec<Agent>, CareSoftError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn fetch_groups(&self) -> BoxFuture<'_, Result<Vec<Group>, CareSoftError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

impl Syncers {
    /// The syncers of `settings`' domains, and of the retired domains `db` still holds current agents of.
    /// Refuses a configured domain spelled with other capitals than a domain already stored: the store
    /// compares names exactly, so it would mirror every agent a second time.
    pub async fn build(
        settings: &Settings,
        db: DatabaseConnection,
        events: EventBus,
    ) -> Result<Syncers, DbErr> {
        let syncer = |source: Result<Arc<dyn AgentDirectory>, SourceError>, domain: String| {
            Arc::new(
                Syncer::new(db.clone(), source, domain, settings.max_removal)
                    .with_events(events.clone()),
            )
        };
        let domains = match settings.caresoft.configured_domains("sync") {
            Ok(domains) => domains,
            Err(err) => {
                return Ok(Syncers {
                    configured: Vec::new(),
                    retired: Vec::new(),
                    unconfigured: Some(syncer(Err(err.into()), String::new())),
                });
            }
        };
        let configured: Vec<Arc<Syncer>> = domains
            .into_iter()
            .map(|domain| {
                let name = domain.name.clone();
                let source = CareSoftClient::new(settings.caresoft.client_config_of(domain))
                    .map(|client| Arc::new(client) as Arc<dyn AgentDirectory>)
                    .map_err(SourceError::from);
                syncer(source, name)
            })
            .collect();
        let seen = store::agents::domains_seen(&db).await?;
        for syncer in &configured {
            if let Some((stored, _)) = seen.iter().find(|(stored, _)| {
                stored != syncer.domain() && stored.eq_ignore_ascii_case(syncer.domain())
            }) {
                return Err(DbErr::Custom(format!(
                    "the configured CareSoft domain {:?} is stored as {stored:?}: spell it as stored \
                     (CARESOFT_DOMAINS or CARESOFT_DOMAIN), or its agents would be mirrored a second time",
                    syncer.domain()
                )));
            }
        }
        let retired = seen
            .into_iter()
            .filter(|(name, current)| {
                *current > 0 && !name.is_empty() && !configured.iter().any(|s| s.domain() == name)
            })
            .map(|(name, current)| {
                tracing::warn!(
                    domain = %name,
                    current,
                    "a domain with current agents is no longer configured: its agents stay until a sync of \
                     it is allowed to remove them (sync --domain {name} --allow-mass-removal)"
                );
                syncer(Ok(Arc::new(Retired)), name)
            })
            .collect();
        Ok(Syncers {
            configured,
            retired,
            unconfigured: None,
        })
    }

    /// One syncer of one domain (tests, benchmarks).
    pub fn single(syncer: Arc<Syncer>) -> Syncers {
        Syncers {
            configured: vec![syncer],
            retired: Vec::new(),
            unconfigured: None,
        }
    }

    /// Whether at least one domain is configured.
    pub fn configured(&self) -> bool {
        !self.configured.is_empty()
    }

    /// The syncers of configured domains: what the schedule runs.
    pub fn scheduled(&self) -> &[Arc<Syncer>] {
        &self.configured
    }

    /// The syncers of retired domains.
    pub fn retired(&self) -> &[Arc<Syncer>] {
        &self.retired
    }

    /// Every syncer a `sync` of all domains runs: configured then retired domains (or the one that says
    /// what to set).
    pub fn all(&self) -> Vec<Arc<Syncer>> {
        self.configured
            .iter()
            .chain(&self.retired)
            .chain(&self.unconfigured)
            .cloned()
            .collect()
    }

    /// A domain name as the API was given it, in the spelling of a known domain when one matches it
    /// case-insensitively (`ACME-HN` → `acme-hn`), else trimmed: what filters compare with stored rows.
    /// `None` for a blank name (no filter).
    pub fn canonical(&self, name: &str) -> Option<String> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let known = self
            .configured
            .iter()
            .chain(&self.retired)
            .map(|s| s.domain())
            .find(|known| known.eq_ignore_ascii_case(name));
        Some(known.unwrap_or(name).to_string())
    }

    /// The names of the configured domains.
    pub fn names(&self) -> Vec<&str> {
        self.configured.iter().map(|s| s.domain()).collect()
    }

    /// The syncer of `domain` (configured or retired; case-insensitive), or, without a domain, the only
    /// one there is. The error says which domains there are.
    pub fn pick(&self, domain: Option<&str>) -> Result<Arc<Syncer>, String> {
        let all = self.all();
        let listed = || {
            all.iter()
                .map(|s| s.domain())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match domain.map(str::trim).filter(|name| !name.is_empty()) {
            None => match (&self.unconfigured, all.as_slice()) {
                (Some(unconfigured), _) => Ok(unconfigured.clone()),
                (None, [only]) => Ok(only.clone()),
                (None, several) => Err(format!(
                    "{} domains are synced here ({}): name one with `domain`",
                    several.len(),
                    listed()
                )),
            },
            Some(name) if self.unconfigured.is_some() => Err(format!(
                "unknown domain {name:?}: no CareSoft domain is configured"
            )),
            Some(name) => all
                .iter()
                .find(|s| s.domain().eq_ignore_ascii_case(name))
                .cloned()
                .ok_or_else(|| format!("unknown domain {name:?}: the domains are {}", listed())),
        }
    }

    /// Runs `request` on every syncer, one after the other in the order of [`Syncers::all`] (the order
    /// of the reports; retired domains keep their guard, see below): each run holds the write lock from its fetch to its commit, so running them at
    /// once would only queue them on the lock (on SQLite, polling the file's busy timeout), and in order
    /// the domain listed first is the one that keeps a CareSoft id two domains share as its key. A domain
    /// that fails or is refused does not stop the next.
    /// A run of every domain never removes a retired domain's agents: `allowMassRemoval` meant for a
    /// large change of a configured domain does not confirm a retirement, which is asked for by name
    /// (`sync --domain D --allow-mass-removal`).
    pub async fn run_all(&self, request: SyncRequest) -> Vec<Result<SyncReport, DbErr>> {
        let mut reports = run_in_turn(&self.configured, request).await;
        let guarded = SyncRequest {
            allow_mass_removal: false,
            ..request
        };
        reports.extend(run_in_turn(&self.retired, guarded).await);
        reports.extend(run_in_turn(self.unconfigured.as_slice(), request).await);
        reports
    }
}

/// Runs `request` on each of `syncers` in turn (see [`Syncers::run_all`]).
pub async fn run_in_turn(
    syncers: &[Arc<Syncer>],
    request: SyncRequest,
) -> Vec<Result<SyncReport, DbErr>> {
    let mut reports = Vec::with_capacity(syncers.len());
    for syncer in syncers {
        reports.push(syncer.run(request).await);
    }
    reports
}
