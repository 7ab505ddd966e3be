//! sync-watcher: on Git sync events, alert once per new sync blocker with what to do, and
//! once when the stack recovers; alert once per failed repository sync attempt.

pub mod alerts;

use std::time::UNIX_EPOCH;

use gitsync::adapters::{AwsOutbox, SdkGitSync, StartError, Wiring};
use gitsync::config::Env;
use gitsync::domain::event::{EventError, Incoming, RepositorySyncEvent, Revision};
use gitsync::domain::sync::{SyncBlocker, SyncStatus};
use gitsync::ledger::{LedgerError, LedgerKey, LedgerQuery, RepositoryFailure};
use gitsync::outbox::{DedupeError, Delivery, Outbox};
use gitsync::ports::{AlertLedger, ApiError, ApiErrorKind, Clock, GitSyncApi, Notifier};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::{debug, error, info, warn};

use crate::alerts::{BlockerContext, RepositoryContext};

pub const FUNCTION_NAME: &str = "sync-watcher";

#[derive(Debug, Error)]
pub enum WatcherError {
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
            WatcherError::Publish { .. } => "AlertNotPublished",
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
    pub note: String,
}

impl Outcome {
    fn ignored(note: impl Into<String>) -> Self {
        Self {
            action: "ignored",
            note: note.into(),
            ..Self::default()
        }
    }
}

pub struct Watcher<G, O> {
    pub api: G,
    pub outbox: O,
    pub region: String,
}

pub type AwsWatcher = Watcher<SdkGitSync, AwsOutbox>;

/// Builds the watcher from the environment: once per cold start.
pub async fn from_env() -> Result<AwsWatcher, StartError> {
    let wiring = Wiring::from_env(&Env::process(), FUNCTION_NAME).await?;
    Ok(Watcher {
        api: wiring.git_sync,
        outbox: wiring.outbox,
        region: wiring.region,
    })
}

impl<G: GitSyncApi, N: Notifier, L: AlertLedger, C: Clock> Watcher<G, Outbox<N, L, C>> {
    pub async fn handle(&self, payload: Value) -> Result<Outcome, WatcherError> {
        let outcome = match Incoming::parse(&payload)? {
            Incoming::ResourceSync(event) => {
                let region = event.region.as_deref().unwrap_or(&self.region);
                self.check_stack(&event.stack, region, &event.revision, event.status.as_ref())
                    .await?
            }
            Incoming::StackRequest { stack } => {
                self.check_stack(&stack, &self.region, &Revision::default(), None)
                    .await?
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
            Incoming::Schedule => Outcome::ignored("schedule events are not sync-watcher's"),
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

    async fn check_stack(
        &self,
        stack: &str,
        region: &str,
        revision: &Revision,
        status: Option<&SyncStatus>,
    ) -> Result<Outcome, WatcherError> {
        let blockers = match self.api.sync_blockers(stack).await {
            Ok(blockers) => blockers,
            Err(err) if err.kind == ApiErrorKind::NotFound => {
                warn!(stack, error = %err, "stack has no Git sync configuration");
                return Ok(Outcome {
                    stack: Some(stack.to_owned()),
                    ..Outcome::ignored(format!("{stack} has no Git sync configuration"))
                });
            }
            Err(err) => return Err(err.into()),
        };
        let active: Vec<&SyncBlocker> = blockers.iter().filter(|b| b.is_active()).collect();
        let mut outcome = Outcome {
            action: "checked-stack",
            stack: Some(stack.to_owned()),
            active_blockers: active.len(),
            ..Outcome::default()
        };
        if active.is_empty() {
            return self
                .recover(stack, region, &blockers, status, outcome)
                .await;
        }

        let alerted = self.open_blocker_alerts(stack).await?;
        let new: Vec<&SyncBlocker> = active
            .into_iter()
            .filter(|b| !alerted.contains(&b.id))
            .collect();
        outcome.already_sent = outcome.active_blockers - new.len();
        if new.is_empty() {
            outcome.note = "every active blocker was already alerted".into();
            return Ok(outcome);
        }
        // Context for the alert; its absence must not cost the alert itself.
        let latest_attempt = self
            .api
            .latest_stack_sync(stack)
            .await
            .unwrap_or_else(|err| {
                warn!(stack, error = %err, "alerting without the latest sync attempt");
                None
            });
        let context = BlockerContext {
            stack,
            region,
            revision,
            event_status: status,
            latest_attempt: latest_attempt.as_ref(),
            now: self.outbox.now(),
        };
        let mut failures = Vec::new();
        for blocker in &new {
            let key = LedgerKey::blocker_alert(stack, &blocker.id);
            let alert = alerts::blocker_alert(blocker, &context);
            match self.outbox.publish_once(&key, &alert).await {
                Ok(Delivery::Published) => {
                    info!(stack, blocker = %blocker.id, reason = %blocker.created_reason, "blocker alerted");
                    outcome.published += 1;
                }
                Ok(Delivery::AlreadySent) => outcome.already_sent += 1,
                Err(err) => {
                    error!(stack, blocker = %blocker.id, error = %err, "blocker alert not published");
                    failures.push(err);
                }
            }
        }
        fail_if_any(format!("stack {stack}"), new.len(), failures)?;
        outcome.note = format!("{} new blocker alert(s)", outcome.published);
        Ok(outcome)
    }

    /// One recovery notice when a stack that had alerted blockers has none active any more.
    async fn recover(
        &self,
        stack: &str,
        region: &str,
        blockers: &[SyncBlocker],
        status: Option<&SyncStatus>,
        mut outcome: Outcome,
    ) -> Result<Outcome, WatcherError> {
        let mut ids = self.open_blocker_alerts(stack).await?;
        ids.sort();
        // The first blocker of the incident names it: a later incident gets a new notice.
        let Some(first) = ids.first() else {
            outcome.note = "no active blocker".into();
            return Ok(outcome);
        };
        let key = LedgerKey::recovery(stack, first);
        let alert = alerts::recovery_alert(stack, region, &ids, blockers, status);
        match self.outbox.publish_once(&key, &alert).await {
            Ok(delivery) => {
                for id in &ids {
                    let alerted = LedgerKey::blocker_alert(stack, id);
                    self.outbox.ledger.close(&alerted).await?;
                }
                outcome.recovered = true;
                if delivery == Delivery::Published {
                    info!(stack, blockers = ids.len(), "recovery notice sent");
                    outcome.published = 1;
                } else {
                    outcome.already_sent = 1;
                }
                outcome.note = format!("recovered from {} alerted blocker(s)", ids.len());
                Ok(outcome)
            }
            Err(err) => Err(WatcherError::Publish {
                subject: format!("stack {stack}"),
                failed: 1,
                total: 1,
                first: err,
            }),
        }
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

    /// The blockers of a stack alerted and not yet closed by a recovery.
    async fn open_blocker_alerts(&self, stack: &str) -> Result<Vec<String>, LedgerError> {
        let query = LedgerQuery::blocker_alerts(stack);
        let entries = self.outbox.ledger.entries(&query).await?;
        Ok(entries
            .iter()
            .filter(|entry| entry.is_open())
            .filter_map(|entry| query.blocker_id(entry).map(str::to_owned))
            .collect())
    }
}

fn fail_if_any(
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
