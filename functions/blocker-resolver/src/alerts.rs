//! What blocker-resolver says: one message per action on a blocker, and the sweep summary.
//! Pure functions; every message is kind `resolution`.

use std::time::SystemTime;

use gitsync::domain::alert::{Alert, AlertKind, Section, Severity};
use gitsync::domain::blocker_alert::BlockedStack;
use gitsync::domain::bus::{BusEvent, DetailType, blocker_event};
use gitsync::domain::resolution::ResolverItem;
use gitsync::domain::sync::{DEPLOYABLE_STACK_STATUSES, SyncBlocker};
use gitsync::domain::text::shell_quote;
use gitsync::ports::ApiError;
use serde_json::{Value, json};

use crate::engine::Hold;
use crate::{DecisionRecord, Mode, Outcome, Verdict};

/// Most items per list in a sweep summary; the rest are counted.
pub const MAX_SUMMARY_ITEMS: usize = 50;

/// Where a decision was made: the stack, its region, the mode, the time.
pub struct StackContext<'a> {
    pub stack: &'a str,
    pub region: &'a str,
    pub mode: Mode,
    pub now: SystemTime,
}

impl StackContext<'_> {
    fn place(&self) -> BlockedStack<'_> {
        BlockedStack {
            stack: self.stack,
            region: self.region,
        }
    }
}

fn title(mode: Mode, text: String) -> String {
    match mode {
        Mode::DryRun => format!("[dry-run] {text}"),
        Mode::Enforce => text,
    }
}

/// The facts every blocker message starts with.
fn blocker_alert(
    context: &StackContext<'_>,
    severity: Severity,
    title_text: String,
    blocker: &SyncBlocker,
    rule: &str,
) -> Alert {
    context
        .place()
        .blocker_alert(
            AlertKind::Resolution,
            severity,
            title(context.mode, title_text),
            blocker,
            context.now,
        )
        .fact("Rule", rule)
        .fact("Mode", context.mode.as_str())
}

/// Resolved (enforce) or would be resolved (dry-run).
pub fn resolution_alert(
    context: &StackContext<'_>,
    blocker: &SyncBlocker,
    rule: &str,
    resolved_reason: &str,
) -> Alert {
    let stack = context.stack;
    let title_text = format!(
        "Blocker {}: stack {stack}",
        ResolverItem::Resolution.outcome(context.mode)
    );
    let summary = match context.mode {
        Mode::Enforce => format!(
            "blocker-resolver resolved sync blocker {} of stack {stack} under rule {rule}; \
                 Git sync now retries the latest commit. If the cause persists, Git sync raises \
                 a new blocker and the rule's loop guard decides what happens next.",
            blocker.id
        ),
        Mode::DryRun => format!(
            "Dry run: with RESOLVER_MODE=enforce, blocker-resolver would resolve sync blocker \
                 {} of stack {stack} under rule {rule}. Nothing was changed.",
            blocker.id
        ),
    };
    let mut alert = blocker_alert(context, Severity::Info, title_text, blocker, rule)
        .fact("Recorded reason", resolved_reason);
    alert.summary = summary;
    let decision = match context.mode {
        Mode::Enforce => Verdict::Resolved,
        Mode::DryRun => Verdict::WouldResolve,
    };
    alert.event(decision_event(
        context,
        blocker,
        rule,
        decision,
        json!({"resolvedReason": resolved_reason}),
    ))
}

/// The `GitSync Blocker Resolution` event of a decision: `decision` is `resolved`,
/// `would-resolve`, `held-back` or `failed`, with `fields` saying more.
fn decision_event(
    context: &StackContext<'_>,
    blocker: &SyncBlocker,
    rule: &str,
    decision: Verdict,
    fields: Value,
) -> BusEvent {
    let mut detail = json!({
        "decision": decision.as_str(),
        "mode": context.mode.as_str(),
        "rule": rule,
    });
    if let (Value::Object(detail), Value::Object(fields)) = (&mut detail, fields) {
        detail.extend(fields);
    }
    blocker_event(
        DetailType::BlockerResolution,
        context.stack,
        blocker,
        detail,
    )
}

/// A matching blocker the stack-status precondition or the loop guard held back.
pub fn held_back_alert(
    context: &StackContext<'_>,
    blocker: &SyncBlocker,
    rule: &str,
    hold: &Hold,
) -> Alert {
    let stack = context.stack;
    let mut alert = blocker_alert(
        context,
        Severity::Critical,
        format!(
            "Blocker {}: stack {stack}",
            ResolverItem::Held {
                guard: hold.guard_name()
            }
            .outcome(context.mode)
        ),
        blocker,
        rule,
    )
    .fact("Held back by", hold.guard_name())
    .fact("Why", hold.to_string());
    alert.summary = format!(
        "Rule {rule} matches sync blocker {} of stack {stack}, but blocker-resolver did not \
         resolve it: {hold}. Git sync stays stopped on this stack until someone acts.",
        blocker.id
    );
    alert.next_steps = match hold {
        Hold::StackStatus { .. } => vec![
            format!(
                "Bring the stack to a status Git sync deploys to ({}); for \
                 UPDATE_ROLLBACK_FAILED, continue the update rollback.",
                DEPLOYABLE_STACK_STATUSES.join(", ")
            ),
            "blocker-resolver resolves the blocker on the next event or sweep once the stack is \
             in a status the rule allows; or resolve it by hand with the command below."
                .into(),
        ],
        Hold::LoopGuard { .. } => vec![
            "The same kind of blocker keeps coming back after being resolved: find and fix its \
             cause in the repository or the stack."
                .into(),
            "Then resolve the blocker by hand with the command below.".into(),
        ],
    };
    alert.commands = vec![
        format!(
            "aws cloudformation describe-stacks --region {} --stack-name {} \
             --query 'Stacks[0].StackStatus'",
            shell_quote(context.region),
            shell_quote(stack)
        ),
        context.place().resolve_command(&blocker.id),
    ];
    alert.event(decision_event(
        context,
        blocker,
        rule,
        Verdict::HeldBack,
        json!({"guard": hold.guard_name(), "why": hold.to_string()}),
    ))
}

/// UpdateSyncBlocker failed, after the retries it deserves.
pub fn failure_alert(
    context: &StackContext<'_>,
    blocker: &SyncBlocker,
    rule: &str,
    error: &ApiError,
    attempts: u32,
) -> Alert {
    let stack = context.stack;
    let mut alert = blocker_alert(
        context,
        Severity::Critical,
        format!(
            "Blocker {}: stack {stack}",
            ResolverItem::Failed.outcome(context.mode)
        ),
        blocker,
        rule,
    )
    .fact("Error", error.to_string())
    .fact("Attempts", attempts.to_string());
    alert.summary = format!(
        "Rule {rule} matches sync blocker {} of stack {stack}, but UpdateSyncBlocker failed. \
         The invocation reports an error, and the next event or sweep tries again.",
        blocker.id
    );
    alert.next_steps = vec![
        "Check the error: AccessDenied means the function's role lacks \
         codestar-connections:UpdateSyncBlocker and codeconnections:UpdateSyncBlocker."
            .into(),
        "If it persists, resolve the blocker by hand with the command below.".into(),
    ];
    alert.commands = vec![context.place().resolve_command(&blocker.id)];
    alert.event(decision_event(
        context,
        blocker,
        rule,
        Verdict::Failed,
        json!({"error": error.to_string(), "attempts": attempts}),
    ))
}

/// The decisions a sweep summary lists; the others are counted.
pub const SUMMARY_VERDICTS: [Verdict; 3] =
    [Verdict::Resolved, Verdict::WouldResolve, Verdict::HeldBack];

/// The sweep's summary: counts, and what it did, held back or could not do.
pub fn sweep_summary_alert(
    outcome: &Outcome,
    decisions: &[DecisionRecord],
    failures: &[String],
) -> Alert {
    let tally = &outcome.tally;
    let (acted_count, acted_verdict) = match outcome.mode {
        Mode::Enforce => (tally.resolved, Verdict::Resolved),
        Mode::DryRun => (tally.would_resolve, Verdict::WouldResolve),
    };
    let acted_words = ResolverItem::Resolution.outcome(outcome.mode);
    let acted = format!("{acted_count} {acted_words}");
    let severity = if failures.is_empty() && tally.held_back == 0 {
        Severity::Info
    } else {
        Severity::Critical
    };
    let mut alert = Alert::new(
        AlertKind::Resolution,
        severity,
        title(
            outcome.mode,
            format!(
                "Sweep: {acted}, {} held back, {} failed",
                tally.held_back,
                failures.len()
            ),
        ),
    )
    .fact("Mode", outcome.mode.as_str())
    .fact("Stacks swept", outcome.stacks.to_string())
    .fact("Active blockers", outcome.active_blockers.to_string())
    .fact("Matched no rule", tally.unmatched.to_string())
    .fact("Ignored by a rule", tally.ignored.to_string())
    .fact("Too young", tally.too_young.to_string());
    alert.summary = format!(
        "blocker-resolver swept every Git sync configuration: {acted}, {} held back, {} \
         failure(s). Each blocker has its own message; this lists them together.",
        tally.held_back,
        failures.len()
    );
    let acted_heading = capitalized(acted_words);
    for (heading, items) in [
        (acted_heading.as_str(), listed(decisions, acted_verdict)),
        ("Held back", listed(decisions, Verdict::HeldBack)),
        ("Failures", failures.to_vec()),
    ] {
        if !items.is_empty() {
            alert
                .sections
                .push(Section::capped(heading, items, MAX_SUMMARY_ITEMS));
        }
    }
    alert
}

/// One line per decision with this verdict; a held-back one also says why.
fn listed(decisions: &[DecisionRecord], verdict: Verdict) -> Vec<String> {
    decisions
        .iter()
        .filter(|decision| decision.outcome == verdict)
        .map(|decision| {
            let rule = decision.rule.as_deref().unwrap_or("-");
            match &decision.detail {
                Some(detail) if verdict == Verdict::HeldBack => format!(
                    "{}: {} (rule {rule}): {detail}",
                    decision.stack, decision.blocker_id
                ),
                _ => format!("{}: {} (rule {rule})", decision.stack, decision.blocker_id),
            }
        })
        .collect()
}

/// `would be resolved` as a heading: `Would be resolved`.
fn capitalized(words: &str) -> String {
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
