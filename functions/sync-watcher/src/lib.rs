//! sync-watcher: alert once per sync blocker, from Git sync events and a backstop sweep, with
//! what to do; remind while it stays ACTIVE; say once when the stack recovers; alert once per
//! failed repository sync attempt; send the daily health report.
//!
//! - `stack`: one stack's check (alerts, reminders, recovery), whatever triggered it.
//! - `sweep`: every stack under Git sync on a schedule, and the daily report.
//! - [`alerts`] and [`report`]: the messages. [`settings`]: the function's own variables.

pub mod alerts;
mod metrics;
pub mod report;
pub mod settings;
pub mod snapshot;
mod stack;
mod sweep;

use std::time::UNIX_EPOCH;

use gitsync::adapters::{AwsOutbox, DynamoLedger, SdkGitSync, StartError, Wiring};
use gitsync::config::Env;
use gitsync::domain::event::{EventError, Incoming, RepositorySyncEvent};
use gitsync::domain::sync::SyncStatus;
use gitsync::ledger::{LedgerError, LedgerKey, RepositoryFailure};
use gitsync::metrics::ApiFailures;
use gitsync::outbox::{DedupeError, Delivery, Outbox};
use gitsync::ports::{
    AlertLedger, ApiError, Clock, ConnectionsApi, GitSyncApi, HeartbeatStore, Notifier,
    NotifyError, StatusStore,
};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::{debug, info};

use crate::alerts::RepositoryContext;
use crate::settings::WatcherSettings;
use crate::stack::{StackCheck, Trigger};
use crate::sweep::SweepFindings;

pub const FUNCTION_NAME: &str = "sync-watcher";

#[derive(Debug, Error)]
pub enum WatcherError {
    #[error(
        "the sweep of {stacks} stack(s) finished with {} failure(s); a retry alerts nothing twice. {}",
        failures.len(),
        failures.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
    )]
    Sweep {
        stacks: usize,
        failures: Vec<String>,
        /// What the sweep did all the same, for its metrics.
        outcome: Box<Outcome>,
    },
    #[error("the health report was not published, so a retry sends it: {0}")]
    Report(NotifyError),
    #[error("the test alert was not published: {0}")]
    TestAlert(NotifyError),
    #[error("the health snapshot was not put on the event bus, so the sweep is retried: {0}")]
    Snapshot(NotifyError),
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    #[error(
        "malformed repository sync event: `detail.{0}` is missing; cannot look up the sync attempt"
    )]
    MissingRepositoryField(&'static str),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(
        "{failed} of {total} alerts for {subject} were not published (a retry publishes only those): {first}"
    )]
    Publish {
        subject: String,
        failed: usize,
        total: usize,
        first: DedupeError,
    },
}

/// How Lambda reports a failed invocation: a stable error type, the message an operator reads.
impl From<WatcherError> for lambda_runtime::Diagnostic {
    fn from(error: WatcherError) -> Self {
        let error_type = match &error {
            WatcherError::Event(_) | WatcherError::MissingRepositoryField(_) => "MalformedEvent",
            WatcherError::Api(_) => "GitSyncApiError",
            WatcherError::Ledger(_) => "LedgerError",
            WatcherError::Publish { .. }
            | WatcherError::Report(_)
            | WatcherError::TestAlert(_)
            | WatcherError::Snapshot(_) => "AlertNotPublished",
            WatcherError::Sweep { .. } => "SweepIncomplete",
        };
        Self {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// What an invocation did, returned to the caller and logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    pub active_blockers: usize,
    pub published: usize,
    pub already_sent: usize,
    pub recovered: bool,
    /// Sweeps: stacks checked, reminders sent, the report's fate.
    #[serde(skip_serializing_if = "is_zero")]
    pub stacks: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub reminders: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<&'static str>,
    /// What the invocation's metrics say.
    pub figures: Figures,
    pub note: String,
}

/// What an invocation measured, for its metrics and its answer. The account-wide gauges
/// (blocked stacks, oldest blocker, duration) come from sweeps only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub alerts: usize,
    pub recoveries: usize,
    pub reports: usize,
    pub blocked_stacks: usize,
    pub oldest_blocker_age_s: u64,
    pub sweep_ms: u64,
    #[serde(flatten)]
    pub api_failures: ApiFailures,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl Outcome {
    fn checked(stack: &str, check: &StackCheck) -> Self {
        let active_blockers = check.active.as_ref().map_or(0, Vec::len);
        let note = match (&check.active, check.recovered) {
            (None, _) => format!("{stack} has no Git sync configuration"),
            (Some(_), Some(_)) => "recovered".to_owned(),
            (Some(active), None) if active.is_empty() => "no active blocker".to_owned(),
            (Some(_), None) if check.alerted + check.reminded == 0 => {
                "every active blocker was already alerted".to_owned()
            }
            (Some(_), None) => format!(
                "{} new blocker alert(s), {} reminder(s)",
                check.alerted, check.reminded
            ),
        };
        Self {
            action: if check.active.is_some() {
                "checked-stack"
            } else {
                "ignored"
            },
            stack: Some(stack.to_owned()),
            active_blockers,
            published: check.alerted
                + check.reminded
                + usize::from(check.recovered == Some(Delivery::Published)),
            already_sent: check.already_sent
                + usize::from(check.recovered == Some(Delivery::AlreadySent)),
            recovered: check.recovered.is_some(),
            reminders: check.reminded,
            figures: Figures {
                alerts: check.alerted,
                recoveries: usize::from(check.recovered == Some(Delivery::Published)),
                ..Figures::default()
            },
            note,
            ..Self::default()
        }
    }

    fn swept(findings: &SweepFindings, report: &'static str, figures: Figures) -> Self {
        Self {
            figures,
            action: "swept",
            active_blockers: findings.blocked.len(),
            published: findings.alerted + findings.reminded + findings.recovered,
            recovered: findings.recovered > 0,
            stacks: findings.stacks,
            reminders: findings.reminded,
            report: Some(report),
            note: format!(
                "swept {} stack(s): {} blocked, {} alert(s), {} reminder(s), {} recovery notice(s)",
                findings.stacks,
                findings.blocked.len(),
                findings.alerted,
                findings.reminded,
                findings.recovered
            ),
            ..Self::default()
        }
    }

    fn test_alert() -> Self {
        Self {
            action: "test",
            published: 1,
            note: "test alert published: nothing is wrong".into(),
            ..Self::default()
        }
    }

    fn ignored(note: impl Into<String>) -> Self {
        Self {
            action: "ignored",
            note: note.into(),
            ..Self::default()
        }
    }
}

pub struct Watcher<G, K, L, O> {
    pub api: G,
    /// The connection side of the API, for the report's hosts.
    pub connections: K,
    /// The ledger table: heartbeats, status records, and the alert entries it reads and closes.
    pub store: L,
    pub outbox: O,
    pub region: String,
    pub settings: WatcherSettings,
}

pub type AwsWatcher = Watcher<SdkGitSync, SdkGitSync, DynamoLedger, AwsOutbox>;

/// Builds the watcher from the environment: once per cold start.
pub async fn from_env() -> Result<AwsWatcher, StartError> {
    let env = Env::process();
    let settings = WatcherSettings::from_env(&env)?;
    let wiring = Wiring::from_env(&env, FUNCTION_NAME).await?;
    Ok(Watcher {
        connections: wiring.git_sync.clone(),
        api: wiring.git_sync,
        store: wiring.store,
        outbox: wiring.outbox,
        region: wiring.region,
        settings,
    })
}

impl<G, K, N, L, C> Watcher<G, K, L, Outbox<N, L, C>>
where
    G: GitSyncApi,
    K: ConnectionsApi,
    N: Notifier,
    L: AlertLedger + StatusStore + HeartbeatStore,
    C: Clock,
{
    pub async fn handle(&self, payload: Value) -> Result<Outcome, WatcherError> {
        let result = self.dispatch(payload).await;
        if let Some(metrics) = metrics::of(&result) {
            // Straight to stdout: CloudWatch extracts EMF only from a line that is the document.
            println!("{}", metrics.line(self.outbox.now()));
        }
        result
    }

    async fn dispatch(&self, payload: Value) -> Result<Outcome, WatcherError> {
        let outcome = match Incoming::parse(&payload)? {
            Incoming::ResourceSync(event) => {
                let trigger = Trigger {
                    region: event.region.as_deref().unwrap_or(&self.region),
                    revision: &event.revision,
                    status: event.status.as_ref(),
                };
                let check = self.check_stack(&event.stack, &trigger).await?;
                Outcome::checked(&event.stack, &check)
            }
            Incoming::StackRequest { stack } => {
                let trigger = Trigger::without_event(&self.region);
                Outcome::checked(&stack, &self.check_stack(&stack, &trigger).await?)
            }
            Incoming::RepositorySync(event) if event.status == Some(SyncStatus::Failed) => {
                self.repository_failure(&event).await?
            }
            Incoming::RepositorySync(event) => Outcome::ignored(format!(
                "repository sync status {}: only FAILED is alerted",
                event
                    .status
                    .map_or_else(|| "missing".into(), |s| s.to_string())
            )),
            Incoming::Schedule => self.sweep().await?,
            Incoming::TestAlert => {
                self.outbox
                    .send_test_alert()
                    .await
                    .map_err(WatcherError::TestAlert)?;
                Outcome::test_alert()
            }
            Incoming::Unrelated {
                source,
                detail_type,
            } => {
                debug!(?source, ?detail_type, "not a Git sync event");
                Outcome::ignored(format!(
                    "not a Git sync event (source {source:?}, detail-type {detail_type:?})"
                ))
            }
        };
        info!(
            action = outcome.action,
            stack = outcome.stack.as_deref(),
            published = outcome.published,
            already_sent = outcome.already_sent,
            recovered = outcome.recovered,
            note = %outcome.note,
            "done"
        );
        Ok(outcome)
    }

    async fn repository_failure(
        &self,
        event: &RepositorySyncEvent,
    ) -> Result<Outcome, WatcherError> {
        let link_id = event
            .repository_link_id
            .as_deref()
            .ok_or(WatcherError::MissingRepositoryField("repositoryLinkId"))?;
        let branch = event
            .revision
            .branch
            .as_deref()
            .ok_or(WatcherError::MissingRepositoryField("branch"))?;
        let attempt = self.api.latest_repository_sync(link_id, branch).await?;
        // Key the alert by the failed attempt; without one, by the commit the event names.
        let failure = match &attempt {
            Some(attempt) if attempt.status != SyncStatus::Failed => {
                return Ok(Outcome {
                    action: "checked-repository",
                    ..Outcome::ignored(format!(
                        "the latest sync attempt of {link_id}@{branch} is {}: the failure was superseded",
                        attempt.status
                    ))
                });
            }
            Some(attempt) => RepositoryFailure::Attempt {
                started: attempt
                    .started_at
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs()),
            },
            None => {
                RepositoryFailure::Commit(event.revision.commit.as_deref().unwrap_or("unknown"))
            }
        };
        let region = event.region.as_deref().unwrap_or(&self.region);
        let alert = alerts::repository_failure_alert(&RepositoryContext {
            link_id,
            branch,
            revision: &event.revision,
            connection_arn: event.connection_arn.as_deref(),
            region,
            attempt: attempt.as_ref(),
        });
        let key = LedgerKey::repository_failure(link_id, branch, failure);
        let mut outcome = Outcome {
            action: "checked-repository",
            ..Outcome::default()
        };
        match self.outbox.publish_once(&key, &alert).await {
            Ok(Delivery::Published) => outcome.published = 1,
            Ok(Delivery::AlreadySent) => outcome.already_sent = 1,
            Err(err) => fail_if_any(format!("repository link {link_id}@{branch}"), 1, vec![err])?,
        }
        outcome.note = format!("failed sync of {link_id}@{branch}");
        Ok(outcome)
    }
}

pub(crate) fn fail_if_any(
    subject: String,
    total: usize,
    mut failures: Vec<DedupeError>,
) -> Result<(), WatcherError> {
    if failures.is_empty() {
        return Ok(());
    }
    Err(WatcherError::Publish {
        subject,
        failed: failures.len(),
        total,
        first: failures.swap_remove(0),
    })
}
