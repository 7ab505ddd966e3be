//! One stack's evaluation: one GetSyncBlockerSummary, then a decision for every ACTIVE
//! blocker; the ledger and DescribeStacks are asked only when a matching rule needs them.
//! A resolution is claimed in the ledger before UpdateSyncBlocker and confirmed once its
//! message is out (the outbox's claim, act, publish protocol).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use gitsync::domain::alert::Alert;
use gitsync::domain::sync::SyncBlocker;
use gitsync::ledger::{EntryState, LedgerEntry, LedgerError, LedgerKey, LedgerQuery, ResolverItem};
use gitsync::outbox::{Claimed, Delivery, Outbox, Ticket};
use gitsync::ports::{
    AlertLedger, ApiError, ApiErrorKind, Clock, GitSyncApi, Notifier, StackStatusLookup,
};
use tracing::{error, info, warn};

use crate::alerts::{self, StackContext};
use crate::engine::{self, Hold, ResolutionHistory, Screening};
use crate::outcome::{StackFailure, StackReport, Verdict};
use crate::rules::{Resolution, Rule, RuleSet};
use crate::{Mode, Resolver};

/// How long after a resolution a retry still publishes its lost message: longer than
/// Lambda's asynchronous retries (6 hours at most), far shorter than the ledger's memory.
const LATE_REPORT_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The blocker a message is about, and the decision it records.
struct About<'a> {
    blocker: &'a SyncBlocker,
    rule: &'a str,
    verdict: Verdict,
    detail: Option<String>,
}

/// What one stack's evaluation knows so far: looked up once, used by every candidate.
struct StackRun<'a> {
    context: StackContext<'a>,
    /// This stack's ledger items and their states.
    ledger: HashMap<LedgerKey, EntryState>,
    history: ResolutionHistory,
    /// DescribeStacks' answer, once asked.
    stack_status: Option<Result<Option<String>, ApiError>>,
    report: StackReport,
}

impl<G, S, N, L, C> Resolver<G, S, L, Outbox<N, L, C>>
where
    G: GitSyncApi,
    S: StackStatusLookup,
    N: Notifier,
    L: AlertLedger,
    C: Clock,
{
    /// Decides every ACTIVE blocker of one stack with one GetSyncBlockerSummary; the ledger
    /// and DescribeStacks are asked only when a matching rule needs them, once each.
    pub(crate) async fn evaluate_stack(&self, stack: &str, region: &str) -> StackReport {
        let mode = self.config.mode;
        let rules = &self.config.rules;
        let mut report = StackReport::new(stack);
        let read = self.api.sync_blockers(stack).await;
        let Some(blockers) = blockers_to_evaluate(stack, read, &mut report) else {
            return report;
        };
        let now = self.outbox.now();
        let mut candidates = screen_active(rules, mode, &blockers, now, &mut report);
        let unreported = match mode {
            Mode::Enforce => unreported_resolutions(rules, &blockers, now),
            Mode::DryRun => Vec::new(),
        };
        if candidates.is_empty() && unreported.is_empty() {
            return report;
        }

        let entries = match self.ledger_entries(stack, mode).await {
            Ok(entries) => entries,
            Err(error) => {
                error!(stack, %error, "cannot read the ledger: no blocker of this stack is touched");
                for (blocker, rule, _) in &candidates {
                    report.decide(mode, &blocker.id, Some(&rule.name), Verdict::Failed, None);
                }
                report.failures.push(StackFailure::Ledger {
                    stack: stack.to_owned(),
                    error,
                });
                return report;
            }
        };
        let history = resolution_history(rules, &blockers, stack, &entries);
        let mut run = StackRun {
            context: StackContext {
                stack,
                region,
                mode,
                now,
            },
            ledger: entries
                .into_iter()
                .map(|entry| (entry.key, entry.state))
                .collect(),
            history,
            stack_status: None,
            report,
        };
        for (blocker, rule) in unreported {
            self.report_late(&mut run, blocker, rule).await;
        }
        // Oldest first: when the loop guard allows only some, the earliest blockers go first.
        candidates.sort_by_key(|(blocker, ..)| blocker.created_at);
        for (blocker, rule, resolution) in candidates {
            self.act(&mut run, blocker, rule, resolution).await;
        }
        run.report
    }

    /// This mode's ledger items of the stack, and the enforced resolutions the loop guard
    /// counts (in dry-run too). Key conditions cannot be empty strings in DynamoDB: one
    /// query per non-empty prefix.
    async fn ledger_entries(
        &self,
        stack: &str,
        mode: Mode,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let mut queries = vec![LedgerQuery::resolver_items(stack, mode)];
        if mode == Mode::DryRun {
            queries.push(LedgerQuery::enforced_resolutions(stack));
        }
        let mut entries = Vec::new();
        for query in &queries {
            entries.extend(self.store.entries(query).await?);
        }
        Ok(entries)
    }

    /// One candidate: already handled, held back by a guard, or resolved (reported).
    /// One candidate: already handled, held back by a guard, or resolved (reported).
    async fn act(
        &self,
        run: &mut StackRun<'_>,
        blocker: &SyncBlocker,
        rule: &Rule,
        resolution: &Resolution,
    ) {
        let mode = run.context.mode;
        let key = run.key(ResolverItem::Resolution, &blocker.id);
        if mode == Mode::Enforce && run.handled(&key) {
            run.decide(blocker, &rule.name, Verdict::AlreadyHandled, None);
            return;
        }
        if resolution.stack_status_in.is_some() {
            let status = match self.stack_status(run).await {
                Ok(status) => status,
                Err(error) => {
                    error!(stack = run.context.stack, %error, "cannot check the stack's status: not resolving");
                    run.decide(
                        blocker,
                        &rule.name,
                        Verdict::Failed,
                        Some(error.to_string()),
                    );
                    run.fail(StackFailure::Api {
                        stack: run.context.stack.to_owned(),
                        error,
                    });
                    return;
                }
            };
            if let Some(hold) = engine::stack_status_hold(resolution, status.as_deref()) {
                return self.hold(run, blocker, rule, &hold).await;
            }
        }
        if let Some(hold) = engine::loop_guard_hold(resolution, &run.history, run.context.now) {
            return self.hold(run, blocker, rule, &hold).await;
        }
        let resolved_reason = resolution.resolved_reason(&blocker.id);
        match mode {
            Mode::DryRun => {
                // Counted as enforce would count it, for the rest of this invocation only.
                run.history.record(&blocker.id, Some(run.context.now));
                let alert =
                    alerts::resolution_alert(&run.context, blocker, &rule.name, &resolved_reason);
                let about = About {
                    blocker,
                    rule: &rule.name,
                    verdict: Verdict::WouldResolve,
                    detail: Some(resolved_reason.clone()),
                };
                self.publish_about(run, &key, &alert, about).await;
            }
            Mode::Enforce => {
                self.resolve(run, blocker, &rule.name, &key, &resolved_reason)
                    .await;
            }
        }
    }

    /// DescribeStacks' answer for this stack, asked once per evaluation.
    async fn stack_status(&self, run: &mut StackRun<'_>) -> Result<Option<String>, ApiError> {
        if let Some(status) = &run.stack_status {
            return status.clone();
        }
        let status = self.stacks.stack_status(run.context.stack).await;
        run.stack_status = Some(status.clone());
        status
    }

    /// Claims the resolution, calls UpdateSyncBlocker, publishes, confirms. The claim is
    /// released whenever the message is not out, so that a retry can finish the job.
    async fn resolve(
        &self,
        run: &mut StackRun<'_>,
        blocker: &SyncBlocker,
        rule: &str,
        key: &LedgerKey,
        resolved_reason: &str,
    ) {
        let now = self.outbox.now();
        let Some(ticket) = self.claim(run, blocker, rule, key).await else {
            return;
        };
        let (result, attempts) = self
            .update_blocker(run.context.stack, &blocker.id, resolved_reason)
            .await;
        match result {
            Ok(()) => {
                run.history.record(&blocker.id, Some(now));
                run.decide(
                    blocker,
                    rule,
                    Verdict::Resolved,
                    Some(resolved_reason.to_owned()),
                );
                let alert = alerts::resolution_alert(&run.context, blocker, rule, resolved_reason);
                self.report(run, blocker, ticket, &alert).await;
            }
            Err(error) if error.kind == ApiErrorKind::BlockerGone => {
                // Someone resolved it first. If that was us (an attempt that timed out after
                // all), the late-report path publishes its message on the next run.
                self.outbox.release(ticket).await;
                run.decide(blocker, rule, Verdict::Gone, Some(error.to_string()));
            }
            Err(error) => {
                self.outbox.release(ticket).await;
                self.resolve_failed(run, blocker, rule, error, attempts)
                    .await;
            }
        }
    }

    /// UpdateSyncBlocker failed: reported once per blocker, and the invocation fails.
    async fn resolve_failed(
        &self,
        run: &mut StackRun<'_>,
        blocker: &SyncBlocker,
        rule: &str,
        error: ApiError,
        attempts: u32,
    ) {
        let stack = run.context.stack;
        error!(stack, blocker_id = %blocker.id, %error, attempts, "UpdateSyncBlocker failed");
        let alert = alerts::failure_alert(&run.context, blocker, rule, &error, attempts);
        let failed_key = run.key(ResolverItem::Failed, &blocker.id);
        match self.outbox.publish_once(&failed_key, &alert).await {
            Ok(Delivery::Published) => run.report.published += 1,
            Ok(Delivery::AlreadySent) => {}
            Err(error) => run.fail(StackFailure::Publish {
                stack: stack.to_owned(),
                error,
            }),
        }
        run.decide(blocker, rule, Verdict::Failed, Some(error.to_string()));
        run.fail(StackFailure::Resolve {
            stack: stack.to_owned(),
            blocker_id: blocker.id.clone(),
            error,
            attempts,
        });
    }

    /// Publishes the message of a claimed resolution; a failure leaves it for a retry.
    async fn report(
        &self,
        run: &mut StackRun<'_>,
        blocker: &SyncBlocker,
        ticket: Ticket,
        alert: &Alert,
    ) -> bool {
        match self.outbox.publish_claimed(ticket, alert).await {
            Ok(()) => {
                run.report.published += 1;
                true
            }
            Err(error) => {
                error!(stack = run.context.stack, blocker_id = %blocker.id, %error, "resolved, but the message was not published");
                run.fail(StackFailure::Report {
                    stack: run.context.stack.to_owned(),
                    blocker_id: blocker.id.clone(),
                    error,
                });
                false
            }
        }
    }

    /// UpdateSyncBlocker, retried with backoff while Git sync cannot retry the latest commit.
    async fn update_blocker(
        &self,
        stack: &str,
        blocker_id: &str,
        resolved_reason: &str,
    ) -> (Result<(), ApiError>, u32) {
        let mut backoff = self.resolve.first_backoff;
        let mut attempt = 1;
        loop {
            match self
                .api
                .resolve_blocker(stack, blocker_id, resolved_reason)
                .await
            {
                Err(error)
                    if error.kind == ApiErrorKind::RetryLatestCommitFailed
                        && attempt < self.resolve.attempts =>
                {
                    warn!(stack, blocker_id, attempt, %error, ?backoff, "trying UpdateSyncBlocker again");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                result => return (result, attempt),
            }
        }
    }

    /// A guard held a matching blocker back: reported once per blocker and guard.
    async fn hold(&self, run: &mut StackRun<'_>, blocker: &SyncBlocker, rule: &Rule, hold: &Hold) {
        warn!(
            stack = run.context.stack,
            blocker_id = %blocker.id,
            rule = %rule.name,
            guard = hold.guard_name(),
            why = %hold,
            "matching blocker held back"
        );
        let guard = hold.guard_name();
        let key = run.key(ResolverItem::Held { guard }, &blocker.id);
        let alert = alerts::held_back_alert(&run.context, blocker, &rule.name, hold);
        let about = About {
            blocker,
            rule: &rule.name,
            verdict: Verdict::HeldBack,
            detail: Some(hold.to_string()),
        };
        self.publish_about(run, &key, &alert, about).await;
    }

    /// A resolution whose message an earlier invocation could not publish: claimed like a
    /// resolution, so that it is never published twice nor waited for.
    async fn report_late(&self, run: &mut StackRun<'_>, blocker: &SyncBlocker, rule: &Rule) {
        let key = run.key(ResolverItem::Resolution, &blocker.id);
        if run.handled(&key) {
            return;
        }
        let Some(ticket) = self.claim(run, blocker, &rule.name, &key).await else {
            return;
        };
        let reason = blocker.resolved_reason.as_deref().unwrap_or_default();
        let alert = alerts::resolution_alert(&run.context, blocker, &rule.name, reason);
        if self.report(run, blocker, ticket, &alert).await {
            run.decide(
                blocker,
                &rule.name,
                Verdict::ReportedLate,
                Some(reason.to_owned()),
            );
        }
    }

    /// Claims a resolution for this invocation; anything but a fresh claim is decided here.
    async fn claim(
        &self,
        run: &mut StackRun<'_>,
        blocker: &SyncBlocker,
        rule: &str,
        key: &LedgerKey,
    ) -> Option<Ticket> {
        let verdict = match self.outbox.claim(key, self.resolve.lease).await {
            Ok(Claimed::Acquired(ticket)) => return Some(ticket),
            Ok(Claimed::Done) => Verdict::AlreadyHandled,
            Ok(Claimed::InFlight) => Verdict::InFlight,
            Err(error) => {
                run.decide(blocker, rule, Verdict::Failed, Some(error.to_string()));
                run.fail(StackFailure::Ledger {
                    stack: run.context.stack.to_owned(),
                    error,
                });
                return None;
            }
        };
        run.decide(blocker, rule, verdict, None);
        None
    }

    /// Publishes a message about one blocker once, and records the decision.
    async fn publish_about(
        &self,
        run: &mut StackRun<'_>,
        key: &LedgerKey,
        alert: &Alert,
        about: About<'_>,
    ) {
        let delivery = if run.handled(key) {
            Ok(Delivery::AlreadySent)
        } else {
            self.outbox.publish_once(key, alert).await
        };
        match delivery {
            Ok(delivery) => {
                if delivery == Delivery::Published {
                    run.report.published += 1;
                }
                run.decide(about.blocker, about.rule, about.verdict, about.detail);
            }
            Err(error) => {
                let blocker_id = &about.blocker.id;
                error!(stack = run.context.stack, %blocker_id, %error, "message not published");
                run.decide(
                    about.blocker,
                    about.rule,
                    Verdict::Failed,
                    Some(error.to_string()),
                );
                run.fail(StackFailure::Publish {
                    stack: run.context.stack.to_owned(),
                    error,
                });
            }
        }
    }
}

impl StackRun<'_> {
    fn key(&self, what: ResolverItem<'_>, blocker_id: &str) -> LedgerKey {
        LedgerKey::resolver(self.context.stack, self.context.mode, what, blocker_id)
    }

    /// Done by an earlier invocation (not merely claimed).
    fn handled(&self, key: &LedgerKey) -> bool {
        self.ledger
            .get(key)
            .is_some_and(|state| *state != EntryState::Pending)
    }

    fn decide(
        &mut self,
        blocker: &SyncBlocker,
        rule: &str,
        verdict: Verdict,
        detail: Option<String>,
    ) {
        self.report
            .decide(self.context.mode, &blocker.id, Some(rule), verdict, detail);
    }

    fn fail(&mut self, failure: StackFailure) {
        self.report.failures.push(failure);
    }
}

/// The stack's sync blockers, or `None`: no Git sync configuration (nothing to resolve), or
/// a failure the report records. Not async: one more nested future takes main's future past
/// rustc's default recursion limit.
fn blockers_to_evaluate(
    stack: &str,
    read: Result<Vec<SyncBlocker>, ApiError>,
    report: &mut StackReport,
) -> Option<Vec<SyncBlocker>> {
    match read {
        Ok(blockers) => Some(blockers),
        Err(err) if err.kind == ApiErrorKind::NotFound => {
            info!(stack, error = %err, "no Git sync configuration: nothing to resolve");
            None
        }
        Err(error) => {
            error!(stack, %error, "cannot read the stack's sync blockers");
            report.failures.push(StackFailure::Api {
                stack: stack.to_owned(),
                error,
            });
            None
        }
    }
}

/// Decides every ACTIVE blocker that needs no lookup (unmatched, ignored, too young) and
/// returns the candidates for resolution.
fn screen_active<'a>(
    rules: &'a RuleSet,
    mode: Mode,
    blockers: &'a [SyncBlocker],
    now: SystemTime,
    report: &mut StackReport,
) -> Vec<(&'a SyncBlocker, &'a Rule, &'a Resolution)> {
    let mut candidates = Vec::new();
    for blocker in blockers.iter().filter(|blocker| blocker.is_active()) {
        report.active_blockers += 1;
        let (rule, verdict, detail) = match engine::screen(rules, blocker, now) {
            Screening::Candidate { rule, resolution } => {
                candidates.push((blocker, rule, resolution));
                continue;
            }
            Screening::Unmatched => (None, Verdict::Unmatched, None),
            Screening::Ignored(rule) => (Some(rule), Verdict::Ignored, None),
            Screening::TooYoung { rule, min_age, age } => {
                let age = age.map_or_else(
                    || "of unknown age".to_owned(),
                    |age| format!("{}s old", age.as_secs()),
                );
                let detail = format!(
                    "{age}; the rule waits until it is {}",
                    humantime::format_duration(min_age)
                );
                (Some(rule), Verdict::TooYoung, Some(detail))
            }
        };
        let rule = rule.map(|rule| rule.name.as_str());
        report.decide(mode, &blocker.id, rule, verdict, detail);
    }
    candidates
}

/// What the loop guard counts: the resolutions the blocker history shows, and the enforced
/// ones the ledger holds.
fn resolution_history(
    rules: &RuleSet,
    blockers: &[SyncBlocker],
    stack: &str,
    entries: &[LedgerEntry],
) -> ResolutionHistory {
    let mut history = ResolutionHistory::from_blockers(rules, blockers);
    let enforced = LedgerQuery::enforced_resolutions(stack);
    for entry in entries {
        if let Some(blocker_id) = enforced.blocker_id(entry) {
            history.record(blocker_id, Some(entry.claimed_at));
        }
    }
    history
}

/// RESOLVED blockers carrying exactly the reason their rule records, resolved recently: ours,
/// possibly by an invocation that could not publish the message. The ledger decides.
fn unreported_resolutions<'a>(
    rules: &'a RuleSet,
    blockers: &'a [SyncBlocker],
    now: SystemTime,
) -> Vec<(&'a SyncBlocker, &'a Rule)> {
    blockers
        .iter()
        .filter(|blocker| !blocker.is_active())
        .filter(|blocker| {
            blocker.resolved_at.is_some_and(|at| {
                now.duration_since(at)
                    .map_or(true, |ago| ago <= LATE_REPORT_WINDOW)
            })
        })
        .filter_map(|blocker| {
            let rule = rules.first_match(blocker)?;
            let expected = rule.resolution()?.resolved_reason(&blocker.id);
            (blocker.resolved_reason.as_deref() == Some(expected.as_str()))
                .then_some((blocker, rule))
        })
        .collect()
}
