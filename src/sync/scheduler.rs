//! Scheduled runs inside `serve`, one schedule per source: CareSoft syncs every `BRIDGE_SYNC_INTERVAL` (or
//! daily at `BRIDGE_SYNC_AT`), HR pulls every `HR_SYNC_INTERVAL` (or daily at `HR_SYNC_AT`), in
//! CareSoft's zone; one at start-up when the last success is older than the interval; backoff after
//! failures. Replicas on one PostgreSQL database share the work through [`Runner::run_scheduled`]: the
//! lock holder reads the source, the others skip, and when it dies the next replica's tick finds the data
//! stale.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::{Job, Runner};
use crate::domain::SyncOutcome;

/// When scheduled syncs run.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    /// Daily time of day in `timezone`; when set it decides the ticks and `interval` only the start-up check.
    pub at: Option<NaiveTime>,
    pub timezone: Tz,
}

/// The first retry delay after a failure; it doubles per failure up to the interval.
const FIRST_RETRY: Duration = Duration::from_secs(30);

/// How soon a tick skipped for a busy lock (another source's run, an import, another replica) looks again
/// when the data is still stale: the lock holder is usually done in seconds, and waiting a whole interval
/// would leave this source stale for it.
const BUSY_RETRY: Duration = Duration::from_secs(5);

impl Schedule {
    /// How long to sleep before the next tick. With an interval, the tick is due one interval after the
    /// latest success of any replica, so replicas line up on the same tick and the lock (or the freshness
    /// check) lets exactly one of them fetch; independent timers could drift half an interval apart and
    /// both fetch. Never sooner than a tenth of the interval, never later than one interval.
    pub fn until_next(&self, now: DateTime<Utc>, last_success: Option<DateTime<Utc>>) -> Duration {
        match self.at {
            None => {
                let due = last_success.map_or(self.interval, |last| {
                    (last + self.interval - now).to_std().unwrap_or_default()
                });
                due.clamp(self.interval / 10, self.interval)
            }
            Some(at) => (next_daily(at, self.timezone, now) - now)
                .to_std()
                .unwrap_or(self.interval),
        }
    }

    /// A tick skips when a sync succeeded after this instant. Half an interval lets replicas whose timers
    /// are out of phase share one sync per interval, while the replica that synced last time still syncs
    /// on its next tick.
    pub fn fresh_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.at {
            None => now - self.interval / 2,
            Some(_) => now - chrono::Duration::hours(12),
        }
    }

    /// The delay after `failures` consecutive failures.
    pub fn retry_after(&self, failures: u32) -> Duration {
        let doubled =
            FIRST_RETRY.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
        doubled.min(self.interval.max(Duration::from_secs(1)))
    }
}

/// The next `at` in `tz` strictly after `now`.
fn next_daily(at: NaiveTime, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let local_today = now.with_timezone(&tz).date_naive();
    for days in 0..=2 {
        let date = local_today + chrono::Days::new(days);
        if let Some(candidate) = tz.from_local_datetime(&date.and_time(at)).earliest() {
            let candidate = candidate.with_timezone(&Utc);
            if candidate > now {
                return candidate;
            }
        }
    }
    now + chrono::Duration::days(1)
}

/// Runs scheduled runs of `J` until `shutdown`; a run in flight when shutdown comes is finished (or rolled
/// back by its own error handling) before this returns, never cut in the middle.
pub async fn run<J: Job>(syncer: Arc<Runner<J>>, schedule: Schedule, shutdown: CancellationToken) {
    let source = J::SOURCE.as_str();
    tracing::info!(source, interval_seconds = schedule.interval.as_secs(), at = ?schedule.at, "scheduled runs on");
    let mut failures = 0u32;
    // Start-up: sync at once unless one succeeded within the interval.
    let mut fresh_since = Utc::now() - schedule.interval;
    loop {
        let mut skipped = false;
        match syncer.run_scheduled(fresh_since).await {
            Ok(Some(report)) if report.outcome == SyncOutcome::Succeeded => failures = 0,
            Ok(Some(_)) => failures += 1,
            Ok(None) => {
                failures = 0;
                skipped = true;
            }
            Err(err) => {
                tracing::error!(source, error = %err, "scheduled run could not start");
                failures += 1;
            }
        }
        let delay = if failures > 0 {
            schedule.retry_after(failures)
        } else {
            let last = syncer.last_success().await.unwrap_or_else(|err| {
                tracing::warn!(source, error = %err, "cannot read the last successful run; waiting one interval");
                None
            });
            let last = last.map(|last| last.started_at);
            // Skipped, yet nothing succeeded since `fresh_since`: the lock was busy, not the data fresh.
            if skipped && last.is_none_or(|last| last < fresh_since) {
                BUSY_RETRY.min(schedule.interval)
            } else {
                schedule.until_next(Utc::now(), last)
            }
        };
        syncer.raise_if_stale(schedule.interval).await;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => break,
        }
        fresh_since = schedule.fresh_since(Utc::now());
    }
    tracing::info!(source, "scheduled runs stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_ticks_follow_the_zone() {
        let at = NaiveTime::from_hms_opt(2, 0, 0).expect("time");
        // 2026-11-24 20:00 UTC is 03:00 on the 25th in Vietnam: the next 02:00 there is the 26th, 19:00 UTC.
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 20, 0, 0)
            .single()
            .expect("instant");
        let next = next_daily(at, chrono_tz::Asia::Ho_Chi_Minh, now);
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0)
                .single()
                .expect("instant")
        );
    }

    #[test]
    fn ticks_line_up_one_interval_after_the_latest_success() {
        let schedule = Schedule {
            interval: Duration::from_secs(60),
            at: None,
            timezone: chrono_tz::UTC,
        };
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 12, 0, 0)
            .single()
            .expect("instant");
        let ago = |s: i64| Some(now - chrono::Duration::seconds(s));
        assert_eq!(schedule.until_next(now, ago(20)), Duration::from_secs(40));
        assert_eq!(
            schedule.until_next(now, ago(59)),
            Duration::from_secs(6),
            "never sooner than a tenth"
        );
        assert_eq!(schedule.until_next(now, ago(600)), Duration::from_secs(6));
        assert_eq!(schedule.until_next(now, None), Duration::from_secs(60));
    }

    #[test]
    fn retries_back_off_up_to_the_interval() {
        let schedule = Schedule {
            interval: Duration::from_secs(600),
            at: None,
            timezone: chrono_tz::UTC,
        };
        assert_eq!(schedule.retry_after(1), Duration::from_secs(30));
        assert_eq!(schedule.retry_after(2), Duration::from_secs(60));
        assert_eq!(schedule.retry_after(5), Duration::from_secs(480));
        assert_eq!(schedule.retry_after(9), Duration::from_secs(600));
    }
}
