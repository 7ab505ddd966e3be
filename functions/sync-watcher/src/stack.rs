//! One stack's check, on an event, a request or the sweep: one GetSyncBlockerSummary, then an
//! alert for every ACTIVE blocker not alerted yet, a reminder for every one alerted at least
//! `REMIND_AFTER_HOURS` ago, or one recovery notice when none is ACTIVE any more. The ledger
//! makes each of them happen once, whichever path sees the blocker first.

use std::time::SystemTime;

use gitsync::domain::blocker_alert::BlockedStack;
use gitsync::domain::event::Revision;
use gitsync::domain::sync::{SyncBlocker, SyncStatus};
use gitsync::ledger::{EntryState, LedgerError, LedgerKey, LedgerQuery};
use gitsync::outbox::{DedupeError, Delivery, Outbox};
use gitsync::ports::{AlertLedger, ApiErrorKind, Clock, GitSyncApi, Notifier};
use tracing::{error, info, warn};

use crate::alerts::{self, BlockerContext};
use crate::{Watcher, WatcherError};

/// What one stack's check found and did.
#[derive(Debug, Clone, Default)]
pub struct StackCheck {
    /// `None` when the stack has no Git sync configuration.
    pub active: Option<Vec<SyncBlocker>>,
    pub alerted: usize,
    pub reminded: usize,
    pub already_sent: usize,
    pub recovered: Option<Delivery>,
}

/// Where a check comes from: what the event said, if anything.
pub struct Trigger<'a> {
    pub region: &'a str,
    pub revision: &'a Revision,
    pub status: Option<&'a SyncStatus>,
}

/// What a check without an event (a request, the sweep) knows of the commit: nothing.
static NO_REVISION: Revision = Revision {
    provider: None,
    repository: None,
    branch: None,
    commit: None,
};

impl<'a> Trigger<'a> {
    /// A check with no event behind it, in `region`.
    pub fn without_event(region: &'a str) -> Self {
        Self {
            region,
            revision: &NO_REVISION,
            status: None,
        }
    }
}

/// A blocker alert in the ledger: which blocker, when it was claimed, and whether it is
/// known to be published (a claim still pending goes through the outbox again, which waits
/// for it or takes over once its lease ends: a crashed invocation loses no alert).
struct Alerted {
    blocker_id: String,
    at: SystemTime,
    published: bool,
}

impl<G, N, L, C, K> Watcher<G, K, L, Outbox<N, L, C>>
where
    G: GitSyncApi,
    N: Notifier,
    L: AlertLedger,
    C: Clock,
{
    pub(crate) async fn check_stack(
        &self,
        stack: &str,
        trigger: &Trigger<'_>,
    ) -> Result<StackCheck, WatcherError> {
        let blockers = match self.api.sync_blockers(stack).await {
            Ok(blockers) => blockers,
            Err(err) if err.kind == ApiErrorKind::NotFound => {
                warn!(stack, error = %err, "stack has no Git sync configuration");
                return Ok(StackCheck::default());
            }
            Err(err) => return Err(err.into()),
        };
        if blockers.is_empty() {
            // Never blocked, or so long ago that nothing is left: no alert of ours can be open
            // (an alerted blocker stays in the summary, RESOLVED), so the ledger is not asked.
            return Ok(StackCheck {
                active: Some(Vec::new()),
                ..StackCheck::default()
            });
        }
        let alerted = self.open_blocker_alerts(stack).await?;
        let active: Vec<SyncBlocker> = blockers.iter().filter(|b| b.is_active()).cloned().collect();
        let mut check = StackCheck::default();
        if active.is_empty() {
            check.recovered = self.recover(stack, trigger, &alerted, &blockers).await?;
        } else {
            let mut failures = self
                .alert_new(stack, trigger, &active, &alerted, &mut check)
                .await;
            failures.extend(
                self.remind(stack, trigger.region, &active, &alerted, &mut check)
                    .await,
            );
            crate::fail_if_any(format!("stack {stack}"), active.len(), failures)?;
        }
        check.active = Some(active);
        Ok(check)
    }

    /// One alert per ACTIVE blocker not alerted yet; returns what could not be published.
    async fn alert_new(
        &self,
        stack: &str,
        trigger: &Trigger<'_>,
        active: &[SyncBlocker],
        alerted: &[Alerted],
        check: &mut StackCheck,
    ) -> Vec<DedupeError> {
        let new: Vec<&SyncBlocker> = active
            .iter()
            .filter(|b| !alerted.iter().any(|a| a.published && a.blocker_id == b.id))
            .collect();
        check.already_sent += active.len() - new.len();
        if new.is_empty() {
            return Vec::new();
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
            region: trigger.region,
            revision: trigger.revision,
            event_status: trigger.status,
            latest_attempt: latest_attempt.as_ref(),
            now: self.outbox.now(),
        };
        let mut failures = Vec::new();
        for blocker in new {
            let key = LedgerKey::blocker_alert(stack, &blocker.id);
            let alert = alerts::blocker_alert(blocker, &context);
            match self.outbox.publish_once(&key, &alert).await {
                Ok(Delivery::Published) => {
                    info!(stack, blocker = %blocker.id, reason = %blocker.created_reason, "blocker alerted");
                    check.alerted += 1;
                }
                Ok(Delivery::AlreadySent) => check.already_sent += 1,
                Err(err) => {
                    error!(stack, blocker = %blocker.id, error = %err, "blocker alert not published");
                    failures.push(err);
                }
            }
        }
        failures
    }

    /// One reminder per interval for each alerted blocker still ACTIVE: the Nth reminder is
    /// due N intervals after the alert, and its ledger key names N, so duplicates and
    /// concurrent sweeps send it once. A missed interval is not made up for.
    async fn remind(
        &self,
        stack: &str,
        region: &str,
        active: &[SyncBlocker],
        alerted: &[Alerted],
        check: &mut StackCheck,
    ) -> Vec<DedupeError> {
        let now = self.outbox.now();
        let interval = self.settings.remind_after.as_secs().max(1);
        let place = BlockedStack { stack, region };
        let mut failures = Vec::new();
        for blocker in active {
            let Some(alert) = alerted
                .iter()
                .find(|a| a.published && a.blocker_id == blocker.id)
            else {
                continue;
            };
            let elapsed = now.duration_since(alert.at).unwrap_or_default().as_secs();
            let due = elapsed / interval;
            if due == 0 {
                continue;
            }
            let key = LedgerKey::reminder(stack, &blocker.id, due);
            let remind_after = self.settings.remind_after;
            let message = alerts::reminder_alert(place, blocker, alert.at, remind_after, now);
            match self.outbox.publish_once(&key, &message).await {
                Ok(Delivery::Published) => {
                    info!(stack, blocker = %blocker.id, reminder = due, "reminder sent");
                    check.reminded += 1;
                }
                Ok(Delivery::AlreadySent) => {}
                Err(err) => failures.push(err),
            }
        }
        failures
    }

    /// One recovery notice when a stack that had alerted blockers has none ACTIVE any more.
    async fn recover(
        &self,
        stack: &str,
        trigger: &Trigger<'_>,
        alerted: &[Alerted],
        blockers: &[SyncBlocker],
    ) -> Result<Option<Delivery>, WatcherError> {
        let mut ids: Vec<String> = alerted.iter().map(|a| a.blocker_id.clone()).collect();
        ids.sort();
        // The first blocker of the incident names it: a later incident gets a new notice.
        let Some(first) = ids.first() else {
            return Ok(None);
        };
        let key = LedgerKey::recovery(stack, first);
        let alert = alerts::recovery_alert(stack, trigger.region, &ids, blockers, trigger.status);
        let delivery = self
            .outbox
            .publish_once(&key, &alert)
            .await
            .map_err(|err| WatcherError::Publish {
                subject: format!("stack {stack}"),
                failed: 1,
                total: 1,
                first: err,
            })?;
        for id in &ids {
            self.store
                .close(&LedgerKey::blocker_alert(stack, id))
                .await?;
        }
        if delivery == Delivery::Published {
            info!(stack, blockers = ids.len(), "recovery notice sent");
        }
        Ok(Some(delivery))
    }

    /// The blockers of a stack alerted and not yet closed by a recovery.
    async fn open_blocker_alerts(&self, stack: &str) -> Result<Vec<Alerted>, LedgerError> {
        let query = LedgerQuery::blocker_alerts(stack);
        let entries = self.store.entries(&query).await?;
        Ok(entries
            .iter()
            .filter(|entry| entry.is_open())
            .filter_map(|entry| {
                Some(Alerted {
                    blocker_id: query.blocker_id(entry)?.to_owned(),
                    at: entry.claimed_at,
                    published: entry.state == EntryState::Sent,
                })
            })
            .collect())
    }
}
