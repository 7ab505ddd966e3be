//! connection-auditor: on a schedule, audit every CodeStar connection and host; publish one
//! digest of what changed (newly unhealthy with its blast radius, status changes, reminders,
//! recoveries, deletions), remember what it saw, and emit the run's metrics.
//!
//! Exactly once: the digest's ledger key derives from the changes and the status records
//! they start from. The records are saved only after the digest is published, so a retried
//! or concurrent run that sees the same records computes the same key and `publish_once`
//! sends nothing twice; a failed publish leaves the records unsaved and the retry sends it.

pub mod digest;
pub mod evaluate;
pub mod metrics;
pub mod settings;

use std::collections::HashSet;
use std::time::SystemTime;

use futures::{StreamExt, stream};
use gitsync::adapters::{AwsOutbox, DynamoLedger, SdkGitSync, StartError, Wiring};
use gitsync::config::Env;
use gitsync::domain::alert::Alert;
use gitsync::domain::connections::{Connection, Host};
use gitsync::domain::event::{EventError, Incoming};
use gitsync::domain::selfwatch::Job;
use gitsync::domain::sync::{RepositoryLink, SyncConfiguration};
use gitsync::domain::topology::{Configurations, Topology, stalled_stack_count};
use gitsync::ledger::{LedgerError, StatusRecord};
use gitsync::outbox::{DedupeError, Delivery, Outbox};
use gitsync::ports::{
    AlertLedger, ApiError, Clock, ConnectionsApi, GitSyncApi, HeartbeatStore, Notifier,
    NotifyError, StatusStore,
};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::{debug, error, info, warn};

use crate::digest::{AuditFailure, Digest, DigestItem, Totals, digest_alert, digest_key};
use crate::evaluate::{Change, Observation, RecordUpdate, Rules, assess, is_muted, withhold_muted};
use crate::metrics::{InventoryMetrics, RunMetrics};
use crate::settings::AuditSettings;

pub const FUNCTION_NAME: &str = "connection-auditor";

#[derive(Debug, Error)]
pub enum AuditorError {
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    #[error("listing {what} failed, nothing was audited: {source}")]
    Listing {
        what: &'static str,
        source: ApiError,
    },
    #[error("reading the status records failed, nothing was audited: {0}")]
    Statuses(LedgerError),
    #[error(
        "the digest of {changes} change(s) was not published and no status was saved, so a retry sends it: {source}"
    )]
    Publish { changes: usize, source: DedupeError },
    #[error(
        "the digest was sent but {failed} of {total} status record writes failed; the next run may repeat those changes: {first}"
    )]
    SaveStatus {
        failed: usize,
        total: usize,
        first: LedgerError,
    },
    #[error("the audit was complete but its heartbeat was not recorded: {0}")]
    Heartbeat(LedgerError),
    #[error("the test alert was not published: {0}")]
    TestAlert(NotifyError),
    #[error("the audit is incomplete, {count} call(s) failed ({first}); {reported}")]
    Incomplete {
        count: usize,
        first: AuditFailure,
        reported: &'static str,
    },
}

/// How Lambda reports a failed invocation: a stable error type, the message an operator reads.
impl From<AuditorError> for lambda_runtime::Diagnostic {
    fn from(error: AuditorError) -> Self {
        let error_type = match &error {
            AuditorError::Event(_) => "MalformedEvent",
            AuditorError::Listing { .. } => "ListingFailed",
            AuditorError::Statuses(_)
            | AuditorError::SaveStatus { .. }
            | AuditorError::Heartbeat(_) => "LedgerError",
            AuditorError::Publish { .. } | AuditorError::TestAlert(_) => "AlertNotPublished",
            AuditorError::Incomplete { .. } => "AuditIncomplete",
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
    /// `audited` or `ignored`.
    pub action: &'static str,
    pub connections: usize,
    pub hosts: usize,
    pub unhealthy_connections: usize,
    pub unhealthy_hosts: usize,
    pub stacks_affected: usize,
    /// Alerts withheld this run because the resource is tagged `gitsync-guard:mute=true`.
    pub muted: usize,
    /// Changes in the digest.
    pub changes: usize,
    /// `published`, `already-sent` (by a concurrent or earlier attempt) or `none`.
    pub digest: &'static str,
    pub note: String,
}

impl Outcome {
    fn audited(
        totals: &Totals,
        changes: usize,
        digest: &'static str,
        writes: usize,
        failed_calls: usize,
    ) -> Self {
        Self {
            action: "audited",
            connections: totals.connections,
            hosts: totals.hosts,
            unhealthy_connections: totals.unhealthy_connections,
            unhealthy_hosts: totals.unhealthy_hosts,
            stacks_affected: totals.stalled_stacks,
            muted: totals.muted,
            changes,
            digest,
            note: format!(
                "{changes} change(s), {writes} status write(s), {failed_calls} failed call(s)"
            ),
        }
    }

    fn ignored(note: impl Into<String>) -> Self {
        Self {
            action: "ignored",
            digest: "none",
            note: note.into(),
            ..Self::default()
        }
    }
}

pub struct Auditor<C, G, L, O> {
    pub connections: C,
    pub git_sync: G,
    /// The ledger table: the status records and the heartbeat.
    pub store: L,
    pub outbox: O,
    pub settings: AuditSettings,
    pub region: String,
}

pub type AwsAuditor = Auditor<SdkGitSync, SdkGitSync, DynamoLedger, AwsOutbox>;

/// Builds the auditor from the environment: once per cold start.
pub async fn from_env() -> Result<AwsAuditor, StartError> {
    let env = Env::process();
    let settings = AuditSettings::from_env(&env)?;
    let wiring = Wiring::from_env(&env, FUNCTION_NAME).await?;
    Ok(Auditor {
        connections: wiring.git_sync.clone(),
        git_sync: wiring.git_sync,
        store: wiring.store,
        outbox: wiring.outbox,
        settings,
        region: wiring.region,
    })
}

type Tags = Vec<(String, String)>;

/// What listing found.
struct Inventory {
    connections: Vec<Connection>,
    hosts: Vec<Host>,
    links: Result<Vec<RepositoryLink>, ApiError>,
    records: Vec<StatusRecord>,
}

/// Among the resources about to be alerted: the muted ones, and those whose tags could not
/// be read (alerted: an outage must not go unreported over a tag lookup).
#[derive(Default)]
struct MuteTags<'a> {
    muted: HashSet<&'a str>,
    unread: HashSet<&'a str>,
}

impl<C, G, N, L, K> Auditor<C, G, L, Outbox<N, L, K>>
where
    C: ConnectionsApi,
    G: GitSyncApi,
    N: Notifier,
    L: AlertLedger + StatusStore + HeartbeatStore,
    K: Clock,
{
    pub async fn handle(&self, payload: Value) -> Result<Outcome, AuditorError> {
        match Incoming::parse(&payload)? {
            Incoming::Schedule => {}
            Incoming::TestAlert => {
                self.outbox
                    .send_test_alert()
                    .await
                    .map_err(AuditorError::TestAlert)?;
                return Ok(Outcome {
                    action: "test",
                    ..Outcome::ignored("test alert published: nothing is wrong")
                });
            }
            Incoming::Unrelated {
                source,
                detail_type,
            } => {
                debug!(?source, ?detail_type, "not a schedule");
                return Ok(Outcome::ignored(format!(
                    "not a schedule (source {source:?}, detail-type {detail_type:?})"
                )));
            }
            Incoming::ResourceSync(_)
            | Incoming::RepositorySync(_)
            | Incoming::StackRequest { .. } => {
                return Ok(Outcome::ignored(
                    "Git sync events and stack requests are sync-watcher's; the auditor runs on a schedule",
                ));
            }
        }
        let mut metrics = RunMetrics::default();
        let mut result = self.audit(&mut metrics).await;
        if result.is_ok() {
            // The heartbeat: this audit covered everything (its alarm counts the EMF line).
            let recorded = self
                .store
                .record_heartbeat(Job::Audit, self.outbox.now())
                .await;
            if let Err(err) = recorded {
                metrics.audit_errors += 1;
                result = Err(AuditorError::Heartbeat(err));
            }
        }
        metrics.complete = result.is_ok();
        // Straight to stdout, not through tracing: CloudWatch extracts EMF only from a log
        // line that is the JSON document itself.
        println!("{}", metrics.metrics().line(self.outbox.now()));
        if let Err(err) = &result {
            error!(error = %err, audit_errors = metrics.audit_errors, "audit failed");
        }
        result
    }

    async fn audit(&self, metrics: &mut RunMetrics) -> Result<Outcome, AuditorError> {
        let provider = self.settings.provider_filter.as_deref();
        let Inventory {
            connections,
            hosts,
            links,
            records,
        } = self.list(provider, metrics).await?;
        let (links, mut failures) = links_or_failure(links);

        let now = self.outbox.now();
        let observed = observations(&connections, &hosts);
        let rules = Rules {
            now,
            remind_after: self.settings.remind_after,
            complete_listing: provider.is_none(),
        };
        let assessment = assess(&observed, &records, &rules);
        let topology = Topology::new(&connections, links.as_deref());
        let affected_links = topology.affected_links(
            observed
                .iter()
                .filter(|observation| !observation.healthy)
                .map(|observation| (observation.kind, observation.arn)),
        );
        // Tags only of what is about to be alerted; sync configurations only behind it.
        let unhealthy: Vec<&Change<'_>> = assessment
            .changes
            .iter()
            .filter(|change| change.transition.is_unhealthy())
            .collect();
        let ((tags, tag_failures), (configurations, stack_failures)) = tokio::join!(
            self.mute_tags(&unhealthy),
            self.configurations(&affected_links)
        );
        failures.extend(tag_failures);
        failures.extend(stack_failures);
        metrics.audit_errors += failures.len();

        let (changes, muted) = withhold_muted(assessment.changes, &tags.muted);
        let stalled = stalled_stack_count(&affected_links, &configurations);
        let totals = Totals::of(&connections, &hosts, stalled, muted);
        metrics.inventory = Some(InventoryMetrics::of(&totals));
        let digest = match changes.is_empty() {
            true => "none",
            false => {
                let digest = Digest {
                    items: digest_items(&changes, &topology, &configurations, &tags),
                    failures: &failures,
                    totals,
                    region: &self.region,
                    now,
                    remind_after: self.settings.remind_after,
                };
                self.publish(&changes, &digest_alert(&digest))
                    .await
                    .inspect_err(|_| metrics.audit_errors += 1)?
            }
        };
        // Only now: had the digest not gone out, the retry must find the same records.
        let updates = record_updates(&changes, assessment.quiet_updates, now);
        let writes = updates.len();
        let save_errors = self.apply(updates).await;
        let outcome = Outcome::audited(&totals, changes.len(), digest, writes, failures.len());
        finish(outcome, writes, save_errors, failures, metrics)
    }

    /// Everything the run audits, listed concurrently. Connections, hosts and the records
    /// are indispensable; without repository links the run goes on, blind to blast radius.
    async fn list(
        &self,
        provider: Option<&str>,
        metrics: &mut RunMetrics,
    ) -> Result<Inventory, AuditorError> {
        let (connections, hosts, links, records) = tokio::join!(
            self.connections.connections(provider),
            self.connections.hosts(),
            self.git_sync.repository_links(),
            self.store.statuses(),
        );
        let connections = connections.map_err(|source| AuditorError::Listing {
            what: "connections (ListConnections)",
            source,
        });
        let hosts = hosts.map_err(|source| AuditorError::Listing {
            what: "hosts (ListHosts)",
            source,
        });
        let records = records.map_err(AuditorError::Statuses);
        metrics.audit_errors += [connections.is_err(), hosts.is_err(), records.is_err()]
            .into_iter()
            .filter(|failed| *failed)
            .count();
        let mut hosts = hosts?;
        // ListHosts has no provider filter: hosts of other providers are out of scope too.
        if let Some(provider) = provider {
            hosts.retain(|host| host.provider == provider);
        }
        Ok(Inventory {
            connections: connections?,
            hosts,
            links,
            records: records?,
        })
    }

    /// Reads the tags of the resources about to be alerted as unhealthy: only those can be
    /// withheld by a mute tag.
    async fn mute_tags<'a>(&self, changes: &[&Change<'a>]) -> (MuteTags<'a>, Vec<AuditFailure>) {
        let reads: Vec<(&Change<'a>, Result<Tags, ApiError>)> =
            stream::iter(changes.iter().copied())
                .map(|change| async move { (change, self.connections.tags(change.arn).await) })
                .buffer_unordered(self.settings.api_concurrency)
                .collect()
                .await;
        let mut tags = MuteTags::default();
        let mut failures = Vec::new();
        for (change, read) in reads {
            match read {
                Ok(read) if is_muted(&read) => {
                    tags.muted.insert(change.arn);
                }
                Ok(_) => {}
                Err(error) => {
                    warn!(arn = change.arn, %error, "tags unreadable: alerting as not muted");
                    tags.unread.insert(change.arn);
                    failures.push(AuditFailure {
                        subject: format!("{} {}", change.kind.as_str(), change.name),
                        error,
                    });
                }
            }
        }
        (tags, failures)
    }

    /// Lists the stacks of the links behind unhealthy resources, a few links at a time.
    async fn configurations(
        &self,
        links: &[&RepositoryLink],
    ) -> (Configurations, Vec<AuditFailure>) {
        let reads: Vec<(&RepositoryLink, Result<Vec<SyncConfiguration>, ApiError>)> =
            stream::iter(links.iter().copied())
                .map(
                    |link| async move { (link, self.git_sync.sync_configurations(&link.id).await) },
                )
                .buffer_unordered(self.settings.api_concurrency)
                .collect()
                .await;
        let mut configurations = Configurations::with_capacity(reads.len());
        let mut failures = Vec::new();
        for (link, read) in reads {
            match read {
                Ok(listed) => {
                    configurations.insert(link.id.clone(), listed);
                }
                Err(error) => {
                    warn!(link = %link.id, %error, "stacks of the link unknown");
                    failures.push(AuditFailure {
                        subject: format!(
                            "repository link {}/{} ({})",
                            link.owner, link.repository, link.id
                        ),
                        error,
                    });
                }
            }
        }
        (configurations, failures)
    }

    /// Publishes the digest once under the key its changes derive.
    async fn publish(
        &self,
        changes: &[Change<'_>],
        alert: &Alert,
    ) -> Result<&'static str, AuditorError> {
        let key = digest_key(changes);
        let delivery = self
            .outbox
            .publish_once(&key, alert)
            .await
            .map_err(|source| AuditorError::Publish {
                changes: changes.len(),
                source,
            })?;
        let delivery = match delivery {
            Delivery::Published => "published",
            Delivery::AlreadySent => "already-sent",
        };
        info!(%key, changes = changes.len(), severity = alert.severity.as_str(), delivery, "digest");
        Ok(delivery)
    }

    /// Writes the status records; returns the writes that failed.
    async fn apply(&self, updates: Vec<RecordUpdate>) -> Vec<LedgerError> {
        stream::iter(updates)
            .map(|update| async move {
                match &update {
                    RecordUpdate::Save(record) => self.store.save_status(record).await,
                    RecordUpdate::Forget(arn) => self.store.forget_status(arn).await,
                }
            })
            .buffer_unordered(self.settings.api_concurrency)
            .filter_map(|written| async move { written.err() })
            .collect()
            .await
    }
}

/// The links, or the failure to list them: the audit goes on without them, blind to blast
/// radius, and says so.
fn links_or_failure(
    links: Result<Vec<RepositoryLink>, ApiError>,
) -> (Option<Vec<RepositoryLink>>, Vec<AuditFailure>) {
    match links {
        Ok(links) => (Some(links), Vec::new()),
        Err(error) => {
            warn!(%error, "auditing without repository links");
            let subject = "every repository link".into();
            (None, vec![AuditFailure { subject, error }])
        }
    }
}

/// Connections and hosts alike, so that one assessment covers both.
fn observations<'a>(connections: &'a [Connection], hosts: &'a [Host]) -> Vec<Observation<'a>> {
    connections
        .iter()
        .map(Observation::connection)
        .chain(hosts.iter().map(Observation::host))
        .collect()
}

/// The status records to write: those of the changes, then those needing no announcement.
fn record_updates(
    changes: &[Change<'_>],
    quiet_updates: Vec<RecordUpdate>,
    now: SystemTime,
) -> Vec<RecordUpdate> {
    changes
        .iter()
        .flat_map(|change| change.record_updates(now))
        .chain(quiet_updates)
        .collect()
}

/// What the digest says of each change: unhealthy ones with their blast radius.
fn digest_items<'a>(
    changes: &'a [Change<'a>],
    topology: &'a Topology<'a>,
    configurations: &'a Configurations,
    tags: &MuteTags<'_>,
) -> Vec<DigestItem<'a>> {
    changes
        .iter()
        .map(|change| DigestItem {
            change,
            impact: change
                .transition
                .is_unhealthy()
                .then(|| topology.impact(change.kind, change.arn, configurations)),
            tags_unread: tags.unread.contains(change.arn),
        })
        .collect()
}

/// Logs the run, then fails it if a status write or a call failed (the digest, if any, went
/// out and lists the failed calls).
fn finish(
    outcome: Outcome,
    writes: usize,
    save_errors: Vec<LedgerError>,
    failures: Vec<AuditFailure>,
    metrics: &mut RunMetrics,
) -> Result<Outcome, AuditorError> {
    info!(
        connections = outcome.connections,
        hosts = outcome.hosts,
        unhealthy_connections = outcome.unhealthy_connections,
        unhealthy_hosts = outcome.unhealthy_hosts,
        stacks_affected = outcome.stacks_affected,
        muted = outcome.muted,
        changes = outcome.changes,
        digest = outcome.digest,
        failed_calls = failures.len(),
        "audited"
    );
    if let Some(first) = save_errors.first() {
        metrics.audit_errors += save_errors.len();
        return Err(AuditorError::SaveStatus {
            failed: save_errors.len(),
            total: writes,
            first: first.clone(),
        });
    }
    let count = failures.len();
    match failures.into_iter().next() {
        Some(first) => Err(AuditorError::Incomplete {
            count,
            first,
            reported: if outcome.digest == "none" {
                "nothing changed, so nothing was published"
            } else {
                "the digest lists what failed"
            },
        }),
        None => Ok(outcome),
    }
}

impl Totals {
    fn of(connections: &[Connection], hosts: &[Host], stalled_stacks: usize, muted: usize) -> Self {
        Self {
            connections: connections.len(),
            unhealthy_connections: connections
                .iter()
                .filter(|c| !c.status.is_healthy())
                .count(),
            hosts: hosts.len(),
            unhealthy_hosts: hosts.iter().filter(|h| !h.is_healthy()).count(),
            stalled_stacks,
            muted,
        }
    }
}

impl InventoryMetrics {
    fn of(totals: &Totals) -> Self {
        Self {
            connections_total: totals.connections,
            connections_unhealthy: totals.unhealthy_connections,
            hosts_unhealthy: totals.unhealthy_hosts,
            stacks_affected: totals.stalled_stacks,
        }
    }
}
