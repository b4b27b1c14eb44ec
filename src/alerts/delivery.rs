//! The delivery worker of `serve`: plans each new event's deliveries, then posts every due delivery, at
//! least once, with capped exponential backoff and jitter (`backon`, as the CareSoft client), a timeout,
//! the signature and `X-Bridge-Event-Id`.
//!
//! A worker leases the deliveries it posts (`lease_until`, longer than a post may take), so with several
//! replicas on one database exactly one posts each delivery; one killed mid-post leaves its lease to run
//! out, and the next worker (another replica, or the restarted process) posts it again. A receiver that
//! answers 4xx other than 408 and 429 refused the message: the delivery is FAILED at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use entity::{alert_delivery, alert_event};
use futures_util::future::join_all;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::message;
use super::{AlertKind, AlertSettings, Webhook};
use crate::domain::DeliveryStatus;
use crate::events::{Event, EventBus};
use crate::store::{self, alerts::Attempted, alerts::PlannedDelivery};

/// How often the worker looks for events and due retries when nothing wakes it (events written by CLI
/// commands or other replicas, retries falling due).
const POLL: Duration = Duration::from_secs(2);
/// Events planned more than this long after they were raised are not sent (they are logged as given up):
/// a bridge whose alerts were off, or whose `serve` was down for days, does not flood the chat with news
/// nobody can act on.
const MAX_AGE: chrono::Duration = chrono::Duration::hours(24);
/// Deliveries posted at once by one worker.
const BATCH: u64 = 8;
/// How much of a receiver's answer an attempt keeps.
const ANSWER_EXCERPT: usize = 300;

/// Delivers alerts to the configured webhooks.
#[derive(Debug, Clone)]
pub struct Deliverer {
    db: DatabaseConnection,
    settings: Arc<AlertSettings>,
    client: reqwest::Client,
    wake: Arc<Notify>,
}

/// What one post of a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub target: String,
    pub status: DeliveryStatus,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

impl Deliverer {
    /// A deliverer to the webhooks of `settings`.
    pub fn new(db: DatabaseConnection, settings: AlertSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A signed body is for the host it was addressed to, not for wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("caresoft-bridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            client,
            wake: Arc::new(Notify::new()),
        })
    }

    /// The settings it delivers with.
    pub fn settings(&self) -> &AlertSettings {
        &self.settings
    }

    /// Wakes the worker at once (an event was just written in this process).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `shutdown`: plans and delivers whenever woken (a run finished, here or on another
    /// replica; an alert was raised here) or every [`POLL`].
    pub async fn run(self, events: EventBus, shutdown: CancellationToken) {
        tracing::info!(webhooks = self.settings.webhooks.len(), "alert delivery on");
        let mut heard = events.subscribe();
        let wake = self.wake.clone();
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                loop {
                    tokio::select! {
                        event = heard.recv() => match event {
                            Ok(Event::SyncCompleted { .. }) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => wake.notify_one(),
                            Ok(_) => {}
                            Err(_) => break,
                        },
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
        });
        loop {
            if let Err(err) = self.work().await {
                tracing::warn!(error = %err, "alert delivery could not read or write the outbox; trying again");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        tracing::info!("alert delivery stopped");
    }

    /// Raises a test alert (`by` says who asked) with its deliveries planned at once, and wakes the worker;
    /// the event.
    pub async fn raise_test(&self, by: &str) -> Result<alert_event::Model, DbErr> {
        let now = Utc::now();
        let alert = super::Alert::new(
            AlertKind::Test,
            None,
            format!(
                "Test alert from caresoft-bridge ({by}): alerts reach this channel. Chào từ caresoft-bridge!"
            ),
        )
        .count("webhooks", self.settings.webhooks.len());
        let txn = store::begin_bookkeeping(&self.db).await?;
        let event = store::alerts::raise(&*txn, &alert, now).await?;
        store::alerts::mark_planned(&*txn, event.id).await?;
        store::alerts::plan(&*txn, &self.deliveries_of(&event, now)).await?;
        txn.commit().await?;
        self.wake();
        Ok(event)
    }

    /// Plans new events, then posts due deliveries until none is left.
    pub async fn work(&self) -> Result<(), DbErr> {
        if !store::alerts::work_waiting(&self.db, Utc::now()).await? {
            return Ok(());
        }
        while self.plan().await? > 0 {}
        while !self.deliver_due(None).await?.is_empty() {}
        Ok(())
    }

    /// Plans the deliveries of events nobody planned yet; how many events it planned.
    pub async fn plan(&self) -> Result<usize, DbErr> {
        let txn = store::begin_bookkeeping(&self.db).await?;
        let events = store::alerts::claim_unplanned(&*txn, 100).await?;
        let now = Utc::now();
        let planned: Vec<PlannedDelivery> = events
            .iter()
            .flat_map(|event| self.deliveries_of(event, now))
            .collect();
        store::alerts::plan(&*txn, &planned).await?;
        txn.commit().await?;
        if !events.is_empty() {
            tracing::debug!(
                events = events.len(),
                deliveries = planned.len(),
                "alerts planned"
            );
        }
        Ok(events.len())
    }

    /// One delivery per configured webhook whose filter wants the event.
    fn deliveries_of(
        &self,
        event: &alert_event::Model,
        now: DateTime<Utc>,
    ) -> Vec<PlannedDelivery> {
        let kind = AlertKind::parse(&event.kind);
        let wanted = kind.is_none_or(|kind| self.settings.events.wants(kind));
        if !wanted {
            return Vec::new();
        }
        let skipped = (now - event.at > MAX_AGE).then(|| {
            format!(
                "not sent: raised {} h before a delivery worker saw it",
                (now - event.at).num_hours()
            )
        });
        self.settings
            .webhooks
            .iter()
            .map(|webhook| PlannedDelivery {
                event: event.id,
                target_key: webhook.key.clone(),
                target: webhook.host.clone(),
                due: now,
                skipped: skipped.clone(),
            })
            .collect()
    }

    /// Leases and posts the due deliveries (of `event` only, when given), at most [`BATCH`] at once; what
    /// each attempt came to.
    pub async fn deliver_due(&self, event: Option<i64>) -> Result<Vec<Outcome>, DbErr> {
        let now = Utc::now();
        let token = uuid::Uuid::now_v7().to_string();
        let lease =
            chrono::Duration::from_std(self.settings.lease()).unwrap_or(chrono::Duration::MAX);
        let leased = {
            let txn = store::begin_bookkeeping(&self.db).await?;
            let leased =
                store::alerts::lease_due(&*txn, now, now + lease, &token, BATCH, event).await?;
            txn.commit().await?;
            leased
        };
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = leased.iter().map(|d| d.alert_event_id).collect();
        let events = store::alerts::events(&self.db, &ids).await?;
        let posts = leased.iter().map(|delivery| {
            let event = events.get(&delivery.alert_event_id);
            let webhook = self
                .settings
                .webhooks
                .iter()
                .find(|w| w.key == delivery.target_key);
            self.attempt(delivery, event, webhook)
        });
        let attempts = join_all(posts).await;
        let mut outcomes = Vec::with_capacity(attempts.len());
        // Every attempt is recorded even when one record fails (the database blinked): a post that went
        // out and is not written down is posted again when its lease runs out.
        let mut first_error = None;
        for (delivery, attempt) in leased.iter().zip(attempts) {
            let recorded = async {
                let txn = store::begin_bookkeeping(&self.db).await?;
                let kept = store::alerts::record(&*txn, delivery.id, &token, &attempt).await?;
                txn.commit().await?;
                Ok::<_, DbErr>(kept)
            }
            .await;
            let kept = match recorded {
                Ok(kept) => kept,
                Err(err) => {
                    tracing::warn!(delivery = delivery.id, error = %err, "an alert attempt could not be recorded");
                    first_error.get_or_insert(err);
                    continue;
                }
            };
            if !kept {
                tracing::warn!(
                    delivery = delivery.id,
                    "an alert delivery's lease ran out mid-post; another worker has it"
                );
            }
            let outcome = match attempt.status {
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Failed => "failed",
                DeliveryStatus::Pending => "retried",
            };
            metrics::counter!("caresoft_bridge_alert_deliveries_total", "outcome" => outcome)
                .increment(1);
            if let Some(event) = events.get(&delivery.alert_event_id)
                && attempt.status == DeliveryStatus::Delivered
            {
                let delay = (attempt.at - event.at).to_std().unwrap_or_default();
                metrics::histogram!("caresoft_bridge_alert_delivery_delay_seconds")
                    .record(delay.as_secs_f64());
            }
            outcomes.push(Outcome {
                target: delivery.target.clone(),
                status: attempt.status,
                status_code: attempt.status_code.and_then(|c| u16::try_from(c).ok()),
                error: attempt.error.clone(),
            });
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(outcomes),
        }
    }

    /// Posts one delivery once.
    #[tracing::instrument(skip_all, fields(delivery = delivery.id, target = %delivery.target, attempt = delivery.attempts + 1))]
    async fn attempt(
        &self,
        delivery: &alert_delivery::Model,
        event: Option<&alert_event::Model>,
        webhook: Option<&Webhook>,
    ) -> Attempted {
        let at = Utc::now();
        let started = Instant::now();
        let attempts = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
        let given_up = |error: String| Attempted {
            at,
            status_code: None,
            error: Some(error),
            duration_ms: 0,
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
        };
        let Some(event) = event else {
            return given_up("its event is gone".into());
        };
        let Some(webhook) = webhook else {
            // Another replica planned it for a webhook this one is not configured with: leave it to that
            // one, a little later, unless it has waited long enough for a replica that may never come (the
            // webhook was taken out of the configuration).
            let error = format!("{} is not among this replica's webhooks", delivery.target);
            if attempts >= self.settings.max_attempts || at - event.at > MAX_AGE {
                return given_up(format!("{error}; given up"));
            }
            return Attempted {
                at,
                status_code: None,
                error: Some(error),
                duration_ms: 0,
                status: DeliveryStatus::Pending,
                next_attempt_at: Some(at + chrono::Duration::seconds(30)),
            };
        };
        let body = match message::body(webhook.shape, &event.payload) {
            Ok(body) => body,
            Err(err) => return given_up(format!("the stored event cannot be read: {err}")),
        };
        let mut request = self
            .client
            .post(webhook.url().clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header("X-Bridge-Event-Id", &event.event_id)
            .header("X-Bridge-Event-Type", &event.kind);
        if let Some(secret) = &self.settings.secret {
            request = request.header("X-Bridge-Signature", message::signature(secret, &body));
        }
        let answer = request.body(body).send().await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error, retryable, retry_after) = match answer {
            Ok(answer) => {
                let status = answer.status();
                let retry_after = answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if status.is_success() {
                    (Some(status.as_u16()), None, false, None)
                } else {
                    let text = answer.text().await.unwrap_or_default();
                    let excerpt: String = text.trim().chars().take(ANSWER_EXCERPT).collect();
                    let error = match excerpt.is_empty() {
                        true => format!("HTTP {status}"),
                        false => format!("HTTP {status}: {excerpt}"),
                    };
                    let retryable = status.is_server_error()
                        || status == reqwest::StatusCode::REQUEST_TIMEOUT
                        || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                    (Some(status.as_u16()), Some(error), retryable, retry_after)
                }
            }
            // Without the URL: it is a secret.
            Err(err) => {
                let error = match err.is_timeout() {
                    true => format!(
                        "no answer within {}",
                        humantime::format_duration(self.settings.timeout)
                    ),
                    false => crate::caresoft::describe_transport_error(&err.without_url()),
                };
                (None, Some(error), true, None)
            }
        };
        let status_code = status_code.map(i32::from);
        if error.is_none() {
            tracing::info!(status = status_code, duration_ms, "alert delivered");
            return Attempted {
                at,
                status_code,
                error,
                duration_ms,
                status: DeliveryStatus::Delivered,
                next_attempt_at: None,
            };
        }
        let give_up = !retryable || attempts >= self.settings.max_attempts;
        tracing::warn!(
            status = status_code,
            error = error.as_deref(),
            give_up,
            "alert delivery attempt failed"
        );
        let next_attempt_at = (!give_up).then(|| {
            let backoff = self
                .backoff(attempts)
                .max(retry_after.unwrap_or_default().min(self.settings.retry_max));
            at + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::hours(1))
        });
        Attempted {
            at,
            status_code,
            error,
            duration_ms,
            status: if give_up {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Pending
            },
            next_attempt_at,
        }
    }

    /// The wait after the `attempts`-th failed attempt: doubling from `retry_min`, with jitter, capped.
    fn backoff(&self, attempts: u32) -> Duration {
        ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_min)
            .with_max_delay(self.settings.retry_max)
            .with_jitter()
            .with_max_times(attempts as usize)
            .build()
            .nth(attempts.saturating_sub(1) as usize)
            .unwrap_or(self.settings.retry_max)
            // backon's jitter adds up to one more delay on top; the cap is ours to keep.
            .min(self.settings.retry_max)
    }
}
