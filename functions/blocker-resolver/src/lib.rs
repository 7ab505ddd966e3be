//! blocker-resolver: resolves the ACTIVE Git sync blockers that an operator's rule declares
//! safe, behind guards (age, stack status, loop guard); reports every action; never touches a
//! blocker no rule matches.
//!
//! - [`rules`]: the rule document, checked and compiled once at cold start.
//! - [`engine`]: the pure decisions.
//! - `stack`: one stack's evaluation, and exactly-once resolution through the ledger.
//! - [`alerts`]: the messages.
//! - [`cli`]: `blocker-resolver --check-rules FILE`.
//! - `metrics`: what an invocation writes as CloudWatch metrics.
//!
//! This file: configuration, the handler's entry (which event does what), and the sweep.

pub mod alerts;
pub mod cli;
pub mod engine;
mod metrics;
mod outcome;
pub mod rules;
mod stack;

pub use gitsync::domain::resolution::Mode;
pub use outcome::{DecisionRecord, MAX_LISTED_DECISIONS, Outcome, StackFailure, Tally, Verdict};

use std::fmt;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use gitsync::adapters::{AwsOutbox, DynamoLedger, SdkGitSync, SdkStackStatus, StartError, Wiring};
use gitsync::config::{ConfigError, Env, sweep_concurrency};
use gitsync::domain::event::{EventError, Incoming};
use gitsync::domain::selfwatch::Job;
use gitsync::domain::sync::SyncStatus;
use gitsync::inventory::GitSyncInventory;
use gitsync::outbox::Outbox;
use gitsync::ports::{
    AlertLedger, Clock, GitSyncApi, HeartbeatStore, Notifier, NotifyError, StackStatusLookup,
};
use serde_json::Value;
use thiserror::Error;
use tracing::{error, info, warn};

use crate::outcome::StackReport;
use crate::rules::{RuleSet, RulesError};

pub const FUNCTION_NAME: &str = "blocker-resolver";

#[derive(Debug, Error)]
pub enum ResolverError {
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    #[error("the test alert was not published: {0}")]
    TestAlert(NotifyError),
    #[error(
        "{} failure(s) on stack {stack}; a retry resolves nothing twice. {}",
        failures.len(),
        joined(failures)
    )]
    Stack {
        stack: String,
        failures: Vec<StackFailure>,
        /// What the invocation did before failing.
        outcome: Box<Outcome>,
    },
    #[error(
        "the sweep finished with {} failure(s) ({} of {} stack(s) failed); a retry resolves nothing twice. {}",
        failures.len(),
        outcome.failed_stacks,
        outcome.stacks,
        joined(failures)
    )]
    Sweep {
        failures: Vec<String>,
        /// What the sweep did despite its failures.
        outcome: Box<Outcome>,
    },
}

impl ResolverError {
    /// What the invocation did before it failed (nothing, for a malformed event).
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            Self::Event(_) | Self::TestAlert(_) => None,
            Self::Stack { outcome, .. } | Self::Sweep { outcome, .. } => Some(outcome),
        }
    }
}

/// The first few failures: enough to act on, short enough for an error message.
fn joined<T: fmt::Display>(failures: &[T]) -> String {
    const SHOWN: usize = 5;
    let mut text: Vec<String> = failures
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect();
    if failures.len() > SHOWN {
        text.push(format!("and {} more (see the log)", failures.len() - SHOWN));
    }
    text.join("; ")
}

/// How Lambda reports a failed invocation: a stable error type, the message an operator reads.
impl From<ResolverError> for lambda_runtime::Diagnostic {
    fn from(error: ResolverError) -> Self {
        let error_type = match &error {
            ResolverError::Event(_) => "MalformedEvent",
            ResolverError::TestAlert(_) => "AlertNotPublished",
            ResolverError::Stack { .. } => "StackFailed",
            ResolverError::Sweep { .. } => "SweepIncomplete",
        };
        Self {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

#[derive(Debug, Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("RESOLVER_RULES is invalid: {0}")]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Wiring(#[from] StartError),
}

/// blocker-resolver's own settings, from the environment.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    pub rules: RuleSet,
    pub mode: Mode,
    pub sweep_concurrency: usize,
}

impl ResolverConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, StartupError> {
        let text = env.required(
            "RESOLVER_RULES",
            "the resolver rules as YAML or JSON (see functions/blocker-resolver/README.md)",
        )?;
        let rules = RuleSet::parse(&text)?;
        let mode = env.parsed_or("RESOLVER_MODE", Mode::DryRun, "dry-run or enforce")?;
        let sweep_concurrency = sweep_concurrency(env)?;
        Ok(Self {
            rules,
            mode,
            sweep_concurrency,
        })
    }
}

/// How UpdateSyncBlocker is attempted.
#[derive(Debug, Clone, Copy)]
pub struct ResolvePolicy {
    /// Attempts while Git sync answers RetryLatestCommitFailed (transient); other errors are
    /// not retried here (throttling is the SDK's to retry).
    pub attempts: u32,
    /// Wait after the first failed attempt; doubled after each further one.
    pub first_backoff: Duration,
    /// How long a claim protects a resolution in progress: longer than every attempt, its
    /// backoff and the message together can take.
    pub lease: Duration,
}

impl Default for ResolvePolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_secs(2),
            lease: Duration::from_secs(5 * 60),
        }
    }
}

pub struct Resolver<G, S, L, O> {
    pub api: G,
    pub stacks: S,
    /// The ledger table: the resolver's entries (read) and its heartbeat.
    pub store: L,
    pub outbox: O,
    pub config: ResolverConfig,
    pub region: String,
    pub resolve: ResolvePolicy,
}

pub type AwsResolver = Resolver<SdkGitSync, SdkStackStatus, DynamoLedger, AwsOutbox>;

/// Builds the resolver from the environment: once per cold start. The rules are checked
/// first, so that a bad rule fails before any client is built.
pub async fn from_env() -> Result<AwsResolver, StartupError> {
    let env = Env::process();
    let config = ResolverConfig::from_env(&env)?;
    let wiring = Wiring::from_env(&env, FUNCTION_NAME).await?;
    if config.rules.rules().is_empty() {
        warn!("RESOLVER_RULES lists no rule: blocker-resolver resolves nothing");
    }
    info!(
        mode = config.mode.as_str(),
        rules = config.rules.rules().len(),
        sweep_concurrency = config.sweep_concurrency,
        "blocker-resolver configured"
    );
    Ok(Resolver {
        api: wiring.git_sync,
        stacks: SdkStackStatus::new(&wiring.clients),
        store: wiring.store,
        outbox: wiring.outbox,
        config,
        region: wiring.region,
        resolve: ResolvePolicy::default(),
    })
}

impl<G, S, N, L, C> Resolver<G, S, L, Outbox<N, L, C>>
where
    G: GitSyncApi,
    S: StackStatusLookup,
    N: Notifier,
    L: AlertLedger + HeartbeatStore,
    C: Clock,
{
    /// Handles one invocation, then writes its metrics (one EMF line) whatever the result.
    pub async fn handle(&self, payload: Value) -> Result<Outcome, ResolverError> {
        let started = Instant::now();
        let result = self.dispatch(payload).await;
        let outcome = result.as_ref().map_or_else(ResolverError::outcome, Some);
        let complete = result.is_ok();
        let elapsed = started.elapsed();
        if let Some(metrics) = outcome.and_then(|outcome| metrics::of(outcome, complete, elapsed)) {
            // Straight to stdout, not through tracing: CloudWatch extracts EMF only from a
            // log line that is the JSON document itself.
            println!("{}", metrics.line(self.outbox.now()));
        }
        result
    }

    async fn dispatch(&self, payload: Value) -> Result<Outcome, ResolverError> {
        let mode = self.config.mode;
        let outcome = match Incoming::parse(&payload)? {
            Incoming::ResourceSync(event) if event.status == Some(SyncStatus::Failed) => {
                let region = event.region.as_deref().unwrap_or(&self.region);
                self.one_stack(&event.stack, region).await?
            }
            Incoming::ResourceSync(event) => Outcome::ignored(
                mode,
                format!(
                    "resource sync status {} of {}: only FAILED raises blockers",
                    event
                        .status
                        .map_or_else(|| "missing".into(), |s| s.to_string()),
                    event.stack
                ),
            ),
            Incoming::StackRequest { stack } => self.one_stack(&stack, &self.region).await?,
            Incoming::Schedule => self.sweep().await?,
            Incoming::TestAlert => {
                self.outbox
                    .send_test_alert()
                    .await
                    .map_err(ResolverError::TestAlert)?;
                Outcome {
                    published: 1,
                    note: "test alert published: nothing is wrong".into(),
                    ..Outcome::new("test", mode)
                }
            }
            Incoming::RepositorySync(_) => Outcome::ignored(
                mode,
                "repository sync events name no stack; the sweep covers their stacks".into(),
            ),
            Incoming::Unrelated {
                source,
                detail_type,
            } => Outcome::ignored(
                mode,
                format!("not a Git sync event (source {source:?}, detail-type {detail_type:?})"),
            ),
        };
        info!(
            action = outcome.action,
            mode = mode.as_str(),
            stacks = outcome.stacks,
            active_blockers = outcome.active_blockers,
            resolved = outcome.tally.resolved,
            would_resolve = outcome.tally.would_resolve,
            held_back = outcome.tally.held_back,
            published = outcome.published,
            note = %outcome.note,
            "done"
        );
        Ok(outcome)
    }

    async fn one_stack(&self, stack: &str, region: &str) -> Result<Outcome, ResolverError> {
        let mut outcome = Outcome::new("evaluated-stack", self.config.mode);
        let failures = outcome.absorb(self.evaluate_stack(stack, region).await);
        if !failures.is_empty() {
            return Err(ResolverError::Stack {
                stack: stack.to_owned(),
                failures,
                outcome: Box::new(outcome),
            });
        }
        outcome.note = format!("evaluated {stack}");
        Ok(outcome)
    }

    /// Every stack of every sync configuration, `SWEEP_CONCURRENCY` at a time. One stack's
    /// failure does not stop the others; the summary is published when the sweep published
    /// a message about a blocker or something failed, so quiet sweeps stay quiet.
    async fn sweep(&self) -> Result<Outcome, ResolverError> {
        let mode = self.config.mode;
        let mut outcome = Outcome::new("swept", mode);
        let inventory = GitSyncInventory::list(&self.api, self.config.sweep_concurrency).await;
        for failure in &inventory.failures {
            outcome.api_failures.count(&failure.error);
        }
        let stacks = inventory.stacks();
        let mut failures: Vec<String> =
            inventory.failures.iter().map(ToString::to_string).collect();
        let mut reports: Vec<StackReport> = stream::iter(&stacks)
            .map(|stack| self.evaluate_stack(stack, &self.region))
            .buffer_unordered(self.config.sweep_concurrency)
            .collect()
            .await;
        reports.sort_by(|a, b| a.stack.cmp(&b.stack));
        let listed = summary_decisions(&reports);
        for report in reports {
            failures.extend(outcome.absorb(report).iter().map(ToString::to_string));
        }
        outcome.note = format!(
            "swept {} stack(s) of every sync configuration",
            outcome.stacks
        );
        info!(
            mode = mode.as_str(),
            stacks = outcome.stacks,
            active_blockers = outcome.active_blockers,
            resolved = outcome.tally.resolved,
            would_resolve = outcome.tally.would_resolve,
            held_back = outcome.tally.held_back,
            unmatched = outcome.tally.unmatched,
            failed_stacks = outcome.failed_stacks,
            failures = failures.len(),
            "sweep summary"
        );
        if outcome.published > 0 || !failures.is_empty() {
            let alert = alerts::sweep_summary_alert(&outcome, &listed, &failures);
            match self.outbox.publish(&alert).await {
                Ok(()) => outcome.summary_published = true,
                Err(err) => {
                    error!(error = %err, "sweep summary not published");
                    failures.push(format!("the sweep summary was not published: {err}"));
                }
            }
        }
        if failures.is_empty() {
            // The heartbeat: this sweep covered every stack (its alarm counts the EMF line).
            let recorded = self
                .store
                .record_heartbeat(Job::Sweep, self.outbox.now())
                .await;
            if let Err(err) = recorded {
                failures.push(format!("the sweep's heartbeat was not recorded: {err}"));
            }
        }
        if failures.is_empty() {
            Ok(outcome)
        } else {
            Err(ResolverError::Sweep {
                failures,
                outcome: Box::new(outcome),
            })
        }
    }
}

/// What the summary lists, from every report: the outcome keeps only the first decisions.
fn summary_decisions(reports: &[StackReport]) -> Vec<DecisionRecord> {
    reports
        .iter()
        .flat_map(|report| &report.decisions)
        .filter(|decision| alerts::SUMMARY_VERDICTS.contains(&decision.outcome))
        .cloned()
        .collect()
}
