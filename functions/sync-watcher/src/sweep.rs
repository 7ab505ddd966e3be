//! The backstop sweep: Git sync events are best effort, so on a schedule every stack under
//! Git sync is checked as its event would have checked it (one GetSyncBlockerSummary each).
//! The first sweep at or after `HEALTH_REPORT_AT` (UTC) each day also sends the health report.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use gitsync::domain::connections::Connection;
use gitsync::domain::selfwatch::{Job, JobHealth, with_complete_run};
use gitsync::domain::text::rfc3339;
use gitsync::domain::topology::{Topology, configurations_by_link};
use gitsync::inventory::GitSyncInventory;
use gitsync::ledger::{LedgerKey, LedgerQuery, StatusRecord};
use gitsync::metrics::ApiFailures;
use gitsync::outbox::{Claimed, Delivery, Outbox};
use gitsync::ports::{
    AlertLedger, Clock, ConnectionsApi, GitSyncApi, HeartbeatStore, Notifier, StatusStore,
};
use tracing::{error, info, warn};

use crate::report::{ActiveBlocker, DECISIONS_WINDOW, Decision, HealthReport, report_alert};
use crate::settings::HealthReport as ReportSetting;
use crate::snapshot::{self, Snapshot};
use crate::stack::{StackCheck, Trigger};
use crate::{Figures, Outcome, Watcher, WatcherError};

/// What the sweep found over every stack.
#[derive(Debug, Default)]
pub struct SweepFindings {
    pub stacks: usize,
    pub blocked: Vec<ActiveBlocker>,
    pub alerted: usize,
    pub reminded: usize,
    pub recovered: usize,
    pub failures: Vec<String>,
    pub api_failures: ApiFailures,
}

impl SweepFindings {
    fn absorb(&mut self, stack: String, check: Result<StackCheck, WatcherError>) {
        match check {
            Ok(check) => {
                self.alerted += check.alerted;
                self.reminded += check.reminded;
                self.recovered += usize::from(check.recovered == Some(Delivery::Published));
                self.blocked
                    .extend(
                        check
                            .active
                            .into_iter()
                            .flatten()
                            .map(|blocker| ActiveBlocker {
                                stack: stack.clone(),
                                blocker,
                            }),
                    );
            }
            Err(err) => {
                error!(stack, error = %err, "stack not checked");
                if let WatcherError::Api(api) = &err {
                    self.api_failures.count(api);
                }
                self.failures.push(format!("stack {stack}: {err}"));
            }
        }
    }

    /// The figures of the metrics, `elapsed` after the sweep started.
    fn figures(&self, report: &str, elapsed: Duration, now: SystemTime) -> Figures {
        let blocked: BTreeSet<&str> = self.blocked.iter().map(|b| b.stack.as_str()).collect();
        Figures {
            alerts: self.alerted,
            recoveries: self.recovered,
            reports: usize::from(report == "published"),
            blocked_stacks: blocked.len(),
            oldest_blocker_age_s: self.oldest_blocker_age(now).as_secs(),
            sweep_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            api_failures: self.api_failures,
        }
    }

    /// The oldest ACTIVE blocker's age, for the metric and the alarm on it.
    pub fn oldest_blocker_age(&self, now: SystemTime) -> Duration {
        self.blocked
            .iter()
            .filter_map(|b| b.blocker.created_at)
            .filter_map(|created| now.duration_since(created).ok())
            .max()
            .unwrap_or_default()
    }
}

impl<G, K, N, L, C> Watcher<G, K, L, Outbox<N, L, C>>
where
    G: GitSyncApi,
    K: ConnectionsApi,
    N: Notifier,
    L: AlertLedger + StatusStore + HeartbeatStore,
    C: Clock,
{
    pub(crate) async fn sweep(&self) -> Result<Outcome, WatcherError> {
        let started = Instant::now();
        let concurrency = self.settings.sweep_concurrency;
        let inventory = GitSyncInventory::list(&self.api, concurrency).await;
        let stacks = inventory.stacks();
        let trigger = Trigger::without_event(&self.region);
        let checks: Vec<_> = stream::iter(stacks)
            .map(|stack| async {
                let check = self.check_stack(&stack, &trigger).await;
                (stack, check)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut findings = SweepFindings {
            stacks: checks.len(),
            failures: inventory.failures.iter().map(ToString::to_string).collect(),
            ..SweepFindings::default()
        };
        for failure in &inventory.failures {
            findings.api_failures.count(&failure.error);
        }
        for (stack, check) in checks {
            findings.absorb(stack, check);
        }
        let report = self.health_report(&inventory, &findings).await;
        let elapsed = started.elapsed();
        info!(
            stacks = findings.stacks,
            blocked = findings.blocked.len(),
            alerted = findings.alerted,
            reminded = findings.reminded,
            recovered = findings.recovered,
            report = report.as_ref().map_or("failed", |report| *report),
            failures = findings.failures.len(),
            elapsed_ms = elapsed.as_millis() as u64,
            "sweep"
        );
        let report = report?;
        if findings.failures.is_empty()
            && let Err(err) = self.complete(&findings).await
        {
            findings.failures.push(err.to_string());
        }
        let figures = findings.figures(report, elapsed, self.outbox.now());
        let outcome = Outcome::swept(&findings, report, figures);
        if findings.failures.is_empty() {
            Ok(outcome)
        } else {
            Err(WatcherError::Sweep {
                stacks: findings.stacks,
                failures: findings.failures,
                outcome: Box::new(outcome),
            })
        }
    }

    /// What a sweep that read every stack leaves: the health snapshot on the bus, then the
    /// heartbeat (so that a snapshot not put is a sweep not complete, retried).
    async fn complete(&self, findings: &SweepFindings) -> Result<(), WatcherError> {
        let now = self.outbox.now();
        let (records, heartbeats) = tokio::try_join!(self.unhealthy_resources(), async {
            self.store.heartbeats().await.map_err(WatcherError::from)
        })?;
        let event = snapshot::event(&Snapshot {
            now,
            stacks_swept: findings.stacks,
            blocked: &findings.blocked,
            unhealthy: &records,
            heartbeats: &with_complete_run(heartbeats, Job::Watch, now),
        });
        let key = format!("{}#{}", LedgerKey::heartbeat(Job::Watch), rfc3339(now));
        self.outbox
            .put_events(&[event], &key)
            .await
            .map_err(WatcherError::Snapshot)?;
        // The heartbeat: this sweep covered every stack (its alarm counts the EMF line).
        self.store.record_heartbeat(Job::Watch, now).await?;
        Ok(())
    }

    /// The day's health report, once, from the first sweep at or after the report time.
    async fn health_report(
        &self,
        inventory: &GitSyncInventory,
        findings: &SweepFindings,
    ) -> Result<&'static str, WatcherError> {
        let now = self.outbox.now();
        let Some(day) = self.settings.report_at.due_day(now) else {
            return Ok("not-yet");
        };
        if self.settings.health_report == ReportSetting::Off {
            return Ok("off");
        }
        let key = LedgerKey::health_report(&day);
        let ticket = match self.outbox.claim(&key, self.outbox.policy().lease).await? {
            Claimed::Acquired(ticket) => ticket,
            Claimed::Done | Claimed::InFlight => return Ok("already-sent"),
        };
        let read = tokio::try_join!(self.unhealthy_resources(), self.job_health(findings, now));
        let (unhealthy, jobs) = match read {
            Ok(read) => read,
            Err(err) => {
                self.outbox.release(ticket).await;
                return Err(err);
            }
        };
        let connections = self.connections_for_hosts().await;
        let topology = Topology::new(&connections, Some(&inventory.links));
        let configurations = configurations_by_link(&inventory.configurations);
        let report = HealthReport {
            now,
            stacks_swept: findings.stacks,
            blocked: findings.blocked.clone(),
            unhealthy: &unhealthy,
            topology: &topology,
            configurations: &configurations,
            decisions: self.recent_decisions(inventory, now).await,
            failures: &findings.failures,
            jobs: &jobs,
        };
        if report.is_healthy() && self.settings.health_report == ReportSetting::WhenUnhealthy {
            self.outbox.settle_quietly(ticket).await;
            return Ok("healthy");
        }
        let alert = report_alert(&report);
        match self.outbox.publish_claimed(ticket, &alert).await {
            Ok(()) => Ok("published"),
            Err(source) => Err(WatcherError::Report(source)),
        }
    }

    /// How each scheduled job is doing, from the heartbeats; this sweep counts as complete
    /// when it has read everything so far.
    async fn job_health(
        &self,
        findings: &SweepFindings,
        now: SystemTime,
    ) -> Result<Vec<JobHealth>, WatcherError> {
        let mut heartbeats = self.store.heartbeats().await?;
        if findings.failures.is_empty() {
            heartbeats = with_complete_run(heartbeats, Job::Watch, now);
        }
        Ok(self
            .settings
            .job_periods
            .iter()
            .map(|&(job, period)| JobHealth::assess(job, period, &heartbeats, now))
            .collect())
    }

    /// The connections and hosts connection-auditor last saw unhealthy.
    async fn unhealthy_resources(&self) -> Result<Vec<StatusRecord>, WatcherError> {
        let mut records = self.store.statuses().await?;
        records.retain(|record| !record.is_healthy());
        records.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(records)
    }

    /// The connections, for hosts' blast radius (a host stalls its connections' links).
    /// Without them the report still lists the hosts, with no stack behind them.
    async fn connections_for_hosts(&self) -> Vec<Connection> {
        match self.connections.connections(None).await {
            Ok(connections) => connections,
            Err(err) => {
                warn!(error = %err, "the report names no stack behind hosts");
                Vec::new()
            }
        }
    }

    /// blocker-resolver's decisions of the last 24 hours, from its ledger items.
    async fn recent_decisions(
        &self,
        inventory: &GitSyncInventory,
        now: SystemTime,
    ) -> Vec<Decision> {
        let since = now.checked_sub(DECISIONS_WINDOW).unwrap_or(UNIX_EPOCH);
        let stacks = inventory.stacks();
        let per_stack: Vec<Vec<Decision>> = stream::iter(&stacks)
            .map(|stack| async move {
                let query = LedgerQuery::resolver_decisions(stack);
                let entries = self.store.entries(&query).await.unwrap_or_else(|err| {
                    warn!(stack, error = %err, "the report lists no decision of this stack");
                    Vec::new()
                });
                entries
                    .iter()
                    .filter(|entry| entry.claimed_at >= since)
                    .filter_map(|entry| {
                        Some(Decision::new(
                            stack,
                            entry.resolver_decision()?,
                            entry.claimed_at,
                        ))
                    })
                    .collect()
            })
            .buffer_unordered(self.settings.sweep_concurrency)
            .collect()
            .await;
        per_stack.into_iter().flatten().collect()
    }
}
