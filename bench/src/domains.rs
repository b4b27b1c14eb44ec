//! `--domains N`: the data set's agents split over N CareSoft domains (N stand-ins, one syncer each, run in
//! turn as `sync` runs them) against the one HR table, beside the same agents in one
//! domain, in alternating runs on fresh databases: the all-domain sync into an empty mirror, then the
//! no-change resync of every domain (agent rows written counted by a trigger, must be 0).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use caresoft_bridge::caresoft::{CareSoftClient, ClientConfig};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::demo::stand_in::{StandIn, StandInConfig};
use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::sync::domains::run_in_turn;
use caresoft_bridge::sync::{SyncRequest, Syncer};
use serde_json::Value;

use crate::dataset::Dataset;
use crate::engine::{self, Engine, FreshDb};
use crate::phases::import;
use crate::report::Spread;

const TOKEN: &str = "bench-token";

/// One layout of the agents: their domains, each served by a stand-in of its own.
struct Layout {
    stand_ins: Vec<StandIn>,
}

impl Layout {
    /// `agents` split into `domains` domains of (nearly) equal size, `bench-1`, `bench-2`, …
    async fn start(agents: &[Value], domains: usize) -> anyhow::Result<Layout> {
        let size = agents.len().div_ceil(domains);
        let mut stand_ins = Vec::new();
        for (index, chunk) in agents.chunks(size).enumerate() {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("cannot bind a stand-in on loopback")?;
            let config = StandInConfig {
                domain: format!("bench-{}", index + 1),
                token: TOKEN.into(),
                churn_every: Duration::ZERO,
                seed: 0,
            };
            stand_ins.push(
                StandIn::start(listener, config, chunk.to_vec())
                    .await
                    .context("cannot start a CareSoft stand-in")?,
            );
        }
        Ok(Layout { stand_ins })
    }

    fn syncers(&self, db: &sea_orm::DatabaseConnection) -> anyhow::Result<Vec<Arc<Syncer>>> {
        self.stand_ins
            .iter()
            .enumerate()
            .map(|(index, stand_in)| {
                let domain = format!("bench-{}", index + 1);
                let config = ClientConfig::new(
                    stand_in.base_url(),
                    domain.clone(),
                    TOKEN.to_string().into(),
                );
                let client = CareSoftClient::new(config).context("cannot build a client")?;
                Ok(Arc::new(Syncer::new(
                    db.clone(),
                    Ok(Arc::new(client)),
                    domain,
                    MaxRemoval::default(),
                )))
            })
            .collect()
    }

    async fn shutdown(self) {
        for stand_in in self.stand_ins {
            stand_in.shutdown().await;
        }
    }
}

/// Every syncer in turn, as `sync` runs them; the seconds until the last one ended, and the agents each
/// counted as `counted`.
async fn sync_all(
    syncers: &[Arc<Syncer>],
    counted: impl Fn(&caresoft_bridge::sync::SyncCounts) -> usize,
) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let reports = run_in_turn(syncers, SyncRequest::new(Trigger::Cli)).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut total = 0;
    for report in reports {
        let report = report?;
        if report.outcome != SyncOutcome::Succeeded {
            bail!("a domain's sync did not succeed: {}", report.summary_line());
        }
        total += counted(&report.counts);
    }
    Ok((seconds, total))
}

/// The figures of one layout on one engine.
#[derive(Debug, Default)]
struct Figures {
    first: Vec<f64>,
    resync: Vec<f64>,
    resync_writes: i64,
}

/// Runs the comparison and prints it.
pub async fn measure(
    data: &Dataset,
    csv: &Path,
    engines: &[Engine],
    domains: usize,
    runs: usize,
    pg_url: &str,
) -> anyhow::Result<()> {
    let agents = data.agents.len();
    let layouts = [1, domains];
    let mut started = Vec::new();
    for n in layouts {
        started.push(Layout::start(&data.agents, n).await?);
    }
    let result = async {
        for &engine in engines {
            let mut figures: Vec<Figures> = layouts.iter().map(|_| Figures::default()).collect();
            for run in 0..runs {
                // Alternating: one domain, then N, on fresh databases, so drift hits both alike.
                for (slot, layout) in started.iter().enumerate() {
                    eprintln!(
                        "[{}] run {}/{runs}: {} domain(s)",
                        engine.name(),
                        run + 1,
                        layouts[slot]
                    );
                    let fresh = FreshDb::create(engine, pg_url, "domains", &[]).await?;
                    let outcome = async {
                        import(&fresh.db, csv).await?;
                        let syncers = layout.syncers(&fresh.db)?;
                        let (seconds, added) = sync_all(&syncers, |c| c.added).await?;
                        if added != agents {
                            bail!("the first syncs added {added} agents, not {agents}");
                        }
                        figures[slot].first.push(seconds);
                        engine::count_agent_writes(&fresh.db).await?;
                        let (seconds, unchanged) = sync_all(&syncers, |c| c.unchanged).await?;
                        if unchanged != agents {
                            bail!("the resyncs saw {unchanged} unchanged agents, not {agents}");
                        }
                        figures[slot].resync.push(seconds);
                        figures[slot].resync_writes += engine::agent_writes(&fresh.db).await?;
                        Ok(())
                    }
                    .await;
                    let dropped = fresh.drop_now().await;
                    outcome?;
                    dropped?;
                }
            }
            print(engine, agents, &layouts, &figures);
        }
        Ok(())
    }
    .await;
    for layout in started {
        layout.shutdown().await;
    }
    result
}

fn print(engine: Engine, agents: usize, layouts: &[usize], figures: &[Figures]) {
    let ms = |s: Spread| {
        format!(
            "{:.0} ms ({:.0}–{:.0})",
            s.median * 1e3,
            s.min * 1e3,
            s.max * 1e3
        )
    };
    println!("\n{}: {agents} agents, medians (min–max)", engine.name());
    println!(
        "| domains | agents each | all-domain first sync | no-change resync | agent rows written by resyncs |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (n, f) in layouts.iter().zip(figures) {
        println!(
            "| {n} | {} | {} | {} | {} |",
            agents.div_ceil(*n),
            ms(Spread::of(&f.first)),
            ms(Spread::of(&f.resync)),
            f.resync_writes
        );
    }
    // Pairwise ratios of the same run (N domains / one domain), median.
    for (what, pick) in [
        (
            "first sync",
            (|f: &Figures| f.first.clone()) as fn(&Figures) -> Vec<f64>,
        ),
        ("no-change resync", |f: &Figures| f.resync.clone()),
    ] {
        let (one, many) = (pick(&figures[0]), pick(&figures[1]));
        let ratios: Vec<f64> = one.iter().zip(&many).map(|(a, b)| b / a).collect();
        println!(
            "{what}: {} domains / 1 domain, median of pairwise ratios {:.2}",
            layouts[1],
            Spread::of(&ratios).median
        );
    }
}
