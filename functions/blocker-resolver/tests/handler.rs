//! The resolver's decisions, driven through in-memory ports.

mod world;

use std::collections::HashMap;
use std::time::Duration;

use blocker_resolver::{Mode, ResolverConfig, ResolverError, Verdict};
use gitsync::config::Env;
use gitsync::domain::alert::RenderedAlert;
use gitsync::fakes::Resolution;
use gitsync::ledger::{LedgerKey, ResolverItem};
use gitsync::ports::ApiErrorKind;
use serde_json::{Value, json};
use world::{TestResolver, active, now, recorded, resolved, resolver};

const STACK: &str = "payments-api";
const RULES: &str = r#"
- name: keep-failed-rollbacks
  reason: ROLLBACK_FAILED
  action: ignore
- name: throttled
  reason: '(?i)rate exceeded'
  action: resolve
  resolved_reason: 'gitsync-guard {rule} resolved {blocker_id}'
  min_age: 10m
  stack_status_in: [CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE]
  max_resolutions: 3
  window: 6h
- name: busy
  reason: 'IN_PROGRESS state and can not be updated'
  action: resolve
  resolved_reason: 'gitsync-guard {rule} resolved {blocker_id}'
"#;
const THROTTLED: &str =
    "Resource handler returned message: \"Rate exceeded\" (Service: Lambda, Status Code: 429)";
const BUSY: &str = "Stack payments-api is in UPDATE_IN_PROGRESS state and can not be updated.";
/// Matches `throttled` too, but `keep-failed-rollbacks` comes first.
const ROLLBACK_FAILED: &str =
    "Rate exceeded during the update, and the rollback failed: UPDATE_ROLLBACK_FAILED";
const UNKNOWN: &str = "Template format error: Unresolved resource dependencies [Bucket]";
const OLD: Duration = Duration::from_secs(3600);

fn failed_event(stack: &str) -> Value {
    json!({
        "version": "0", "id": "1", "source": "aws.codeconnections",
        "detail-type": "Git Sync Resource Sync Status Change",
        "account": "123456789012", "region": "eu-west-1", "time": "2027-01-15T08:10:00Z",
        "resources": [],
        "detail": {
            "providerType": "GitHub", "commit": "8d2f0c1", "repositoryName": "acme/infra",
            "branch": "main", "syncType": "CFN_STACK_SYNC", "syncTarget": stack,
            "status": "FAILED", "previousSync": "IN_PROGRESS"
        }
    })
}

fn schedule() -> Value {
    json!({"version": "0", "id": "2", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "region": "eu-west-1", "resources": [], "detail": {}})
}

/// The value of a `Label: value` line of a text message.
fn fact<'a>(alert: &'a RenderedAlert, label: &str) -> Option<&'a str> {
    alert
        .message
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{label}:")))
        .map(str::trim)
}

fn attribute<'a>(alert: &'a RenderedAlert, name: &str) -> Option<&'a str> {
    alert
        .attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn subjects(r: &TestResolver) -> Vec<String> {
    r.outbox
        .notifier()
        .published()
        .into_iter()
        .map(|a| a.subject)
        .collect()
}

fn verdicts(outcome: &blocker_resolver::Outcome) -> HashMap<String, Verdict> {
    outcome
        .decisions
        .iter()
        .map(|d| (d.blocker_id.clone(), d.outcome))
        .collect()
}

#[tokio::test]
async fn an_event_resolves_a_matching_blocker_and_reports_it_once() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", THROTTLED, OLD)]);
    r.stacks.inner.set_status(STACK, "UPDATE_ROLLBACK_COMPLETE");

    let outcome = r.handle(failed_event(STACK)).await.expect("resolves");
    assert_eq!((outcome.tally.resolved, outcome.published), (1, 1));
    assert_eq!(
        r.api.inner.resolutions(),
        vec![Resolution {
            stack: STACK.into(),
            blocker_id: "b-1".into(),
            resolved_reason: recorded("throttled", "b-1"),
        }]
    );
    let published = r.outbox.notifier().published();
    assert_eq!(published.len(), 1);
    let message = &published[0];
    assert_eq!(
        message.subject,
        "[gitsync-guard] Blocker resolved: stack payments-api"
    );
    assert_eq!(attribute(message, "kind"), Some("resolution"));
    assert_eq!(attribute(message, "severity"), Some("info"));
    assert_eq!(fact(message, "Blocker ID"), Some("b-1"));
    assert_eq!(fact(message, "Rule"), Some("throttled"));
    assert_eq!(fact(message, "Reason"), Some(THROTTLED));
    assert_eq!(
        fact(message, "Recorded reason"),
        Some(recorded("throttled", "b-1").as_str())
    );

    for duplicate in [failed_event(STACK), json!({"stack": STACK})] {
        let again = r.handle(duplicate).await.expect("a duplicate succeeds");
        assert_eq!(again.published, 0);
    }
    assert_eq!(r.api.update_attempts(), 1, "resolved once");
    assert_eq!(r.outbox.notifier().published().len(), 1, "reported once");
}

#[tokio::test]
async fn dry_run_reports_what_enforce_would_do_and_changes_nothing() {
    let r = resolver(RULES, Mode::DryRun);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", THROTTLED, OLD)]);
    r.stacks.inner.set_status(STACK, "UPDATE_COMPLETE");

    let outcome = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!(
        (outcome.tally.would_resolve, outcome.tally.resolved),
        (1, 0)
    );
    assert_eq!(
        r.api.update_attempts(),
        0,
        "dry-run never calls UpdateSyncBlocker"
    );
    assert!(r.api.inner.blockers(STACK)[0].is_active());
    let published = r.outbox.notifier().published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].subject,
        "[gitsync-guard] [dry-run] Blocker would be resolved: stack payments-api"
    );
    assert_eq!(fact(&published[0], "Mode"), Some("dry-run"));
    assert_eq!(
        fact(&published[0], "Recorded reason"),
        Some(recorded("throttled", "b-1").as_str())
    );

    let again = r.handle(failed_event(STACK)).await.expect("decides again");
    assert_eq!((again.tally.would_resolve, again.published), (1, 0));
    assert_eq!(r.outbox.notifier().published().len(), 1, "reported once");
}

#[tokio::test]
async fn blockers_no_resolve_rule_matches_are_left_alone_without_a_message() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.inner.set_blockers(
        STACK,
        vec![
            active("unknown", UNKNOWN, OLD),
            active("rollback", ROLLBACK_FAILED, OLD),
        ],
    );
    let outcome = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!((outcome.tally.unmatched, outcome.tally.ignored), (1, 1));
    let rules: HashMap<&str, Option<&str>> = outcome
        .decisions
        .iter()
        .map(|d| (d.blocker_id.as_str(), d.rule.as_deref()))
        .collect();
    assert_eq!(rules["unknown"], None);
    assert_eq!(
        rules["rollback"],
        Some("keep-failed-rollbacks"),
        "the first match wins"
    );
    assert_eq!(r.api.update_attempts(), 0);
    assert_eq!(r.stacks.calls(), 0, "no rule needed the stack's status");
    assert!(r.outbox.notifier().published().is_empty());
}

#[tokio::test]
async fn a_young_blocker_waits_for_min_age() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.inner.set_blockers(
        STACK,
        vec![active("b-1", THROTTLED, Duration::from_secs(5 * 60))],
    );
    r.stacks.inner.set_status(STACK, "UPDATE_COMPLETE");
    let early = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!(early.tally.too_young, 1);
    assert_eq!(r.api.update_attempts(), 0);
    assert!(r.outbox.notifier().published().is_empty());

    r.outbox.clock().advance(Duration::from_secs(6 * 60));
    let later = r.handle(failed_event(STACK)).await.expect("resolves");
    assert_eq!(later.tally.resolved, 1);
}

#[tokio::test]
async fn the_stack_status_precondition_holds_back_with_one_critical_message_per_blocker() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.inner.set_blockers(
        STACK,
        vec![active("b-1", THROTTLED, OLD), active("b-2", THROTTLED, OLD)],
    );
    r.stacks.inner.set_status(STACK, "UPDATE_ROLLBACK_FAILED");

    let outcome = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!((outcome.tally.held_back, outcome.published), (2, 2));
    assert_eq!(r.api.update_attempts(), 0);
    assert_eq!(r.stacks.calls(), 1, "DescribeStacks once per stack");
    let message = &r.outbox.notifier().published()[0];
    assert_eq!(
        message.subject,
        "[gitsync-guard] Blocker held back: stack payments-api"
    );
    assert_eq!(attribute(message, "severity"), Some("critical"));
    assert_eq!(fact(message, "Held back by"), Some("stack-status"));
    assert_eq!(
        fact(message, "Why"),
        Some(
            "the stack is UPDATE_ROLLBACK_FAILED; the rule resolves only while it is in \
             CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE"
        )
    );

    let again = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!((again.tally.held_back, again.published), (2, 0));

    r.stacks.inner.set_status(STACK, "UPDATE_ROLLBACK_COMPLETE");
    let fixed = r.handle(failed_event(STACK)).await.expect("resolves");
    assert_eq!(fixed.tally.resolved, 2);
}

#[tokio::test]
async fn a_stack_missing_from_cloudformation_holds_back() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", THROTTLED, OLD)]);
    let outcome = r.handle(failed_event(STACK)).await.expect("decides");
    assert_eq!(outcome.tally.held_back, 1);
    assert!(
        fact(&r.outbox.notifier().published()[0], "Why")
            .is_some_and(|why| why.starts_with("the stack does not exist in CloudFormation"))
    );
}

#[tokio::test]
async fn the_loop_guard_counts_our_earlier_resolutions_and_holds_at_its_limit() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.inner.set_blockers(
        STACK,
        vec![
            // Ours, an hour ago: counts (in the history and in the ledger, once).
            resolved(
                "h-1",
                &recorded("throttled", "h-1"),
                Duration::from_secs(3600),
            ),
            // Resolved by hand: does not count.
            resolved(
                "h-2",
                "Raised the Lambda concurrency quota",
                Duration::from_secs(600),
            ),
            // Ours, before the 6h window: does not count.
            resolved(
                "h-3",
                &recorded("throttled", "h-3"),
                Duration::from_secs(7 * 3600),
            ),
            active("a-1", THROTTLED, Duration::from_secs(2 * 3600)),
            active("a-2", THROTTLED, OLD),
        ],
    );
    for (id, ago) in [("h-1", 3600), ("h-3", 7 * 3600), ("gone-1", 1800)] {
        r.store.record_sent(
            LedgerKey::resolver(STACK, Mode::Enforce, ResolverItem::Resolution, id),
            now() - Duration::from_secs(ago),
        );
    }
    r.stacks.inner.set_status(STACK, "UPDATE_COMPLETE");

    let outcome = r.handle(failed_event(STACK)).await.expect("decides");
    let verdicts = verdicts(&outcome);
    assert_eq!(
        verdicts["a-1"],
        Verdict::Resolved,
        "2 of 3 used: the oldest goes"
    );
    assert_eq!(verdicts["a-2"], Verdict::HeldBack, "3 of 3 used");
    assert_eq!(r.api.inner.resolutions().len(), 1);
    let held = r
        .outbox
        .notifier()
        .published()
        .into_iter()
        .find(|m| m.subject.contains("held back"))
        .expect("a held-back message");
    assert_eq!(attribute(&held, "severity"), Some("critical"));
    assert_eq!(fact(&held, "Held back by"), Some("loop-guard"));
    assert!(
        fact(&held, "Why").is_some_and(|why| why.starts_with(
            "blocker-resolver already resolved 3 blocker(s) on this stack in the last 6h, and the rule allows at most 3"
        )),
        "{}",
        held.message
    );
}

#[tokio::test]
async fn retry_latest_commit_failed_is_retried_with_backoff() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", BUSY, OLD)]);
    r.api.fail_updates_with_retry_latest_commit(2);
    let outcome = r.handle(failed_event(STACK)).await.expect("resolves");
    assert_eq!(outcome.tally.resolved, 1);
    assert_eq!(r.api.update_attempts(), 3);
}

#[tokio::test]
async fn a_lasting_failure_to_resolve_fails_the_invocation_and_is_reported_once() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", BUSY, OLD)]);
    r.api.fail_updates_with_retry_latest_commit(usize::MAX);
    for round in 1..=2 {
        let err = r
            .handle(failed_event(STACK))
            .await
            .expect_err("fails while UpdateSyncBlocker fails");
        assert!(matches!(err, ResolverError::Stack { .. }), "{err}");
        let done = err.outcome().expect("what the invocation did");
        assert_eq!(
            (done.tally.failed, done.api_failures.api_errors),
            (1, 1),
            "{done:?}"
        );
        assert!(
            err.to_string().contains(
                "stack payments-api, blocker b-1: UpdateSyncBlocker Git sync could not retry the latest commit"
            ) && err.to_string().contains("(after 3 attempt(s))"),
            "{err}"
        );
        assert_eq!(r.api.update_attempts(), 3 * round);
    }
    assert_eq!(
        subjects(&r),
        ["[gitsync-guard] Blocker could not be resolved: stack payments-api"],
        "the failure is reported once"
    );
    let diagnostic = lambda_runtime::Diagnostic::from(
        r.handle(failed_event(STACK))
            .await
            .expect_err("still failing"),
    );
    assert_eq!(diagnostic.error_type, "StackFailed");

    r.api.fail_updates_with_retry_latest_commit(0);
    let outcome = r.handle(failed_event(STACK)).await.expect("resolves");
    assert_eq!(outcome.tally.resolved, 1);
    assert_eq!(r.api.inner.resolutions().len(), 1);
}

#[tokio::test]
async fn a_blocker_gone_before_it_is_resolved_is_not_an_error() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", BUSY, OLD)]);
    r.api
        .inner
        .fail("UpdateSyncBlocker", ApiErrorKind::BlockerGone);
    let outcome = r.handle(failed_event(STACK)).await.expect("not an error");
    assert_eq!(outcome.tally.gone, 1);
    assert!(r.outbox.notifier().published().is_empty());
    assert_eq!(
        r.store.state(&LedgerKey::resolver(
            STACK,
            Mode::Enforce,
            ResolverItem::Resolution,
            "b-1"
        )),
        None,
        "nothing of ours to remember"
    );
}

#[tokio::test]
async fn a_lost_message_fails_the_invocation_and_the_retry_reports_it_without_resolving_again() {
    let r = resolver(RULES, Mode::Enforce);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", BUSY, OLD)]);
    r.outbox.notifier().fail_next(1);
    let err = r
        .handle(failed_event(STACK))
        .await
        .expect_err("the message was lost");
    assert!(
        err.to_string()
            .contains("blocker b-1: resolved, but its message was not published"),
        "{err}"
    );
    assert_eq!(r.api.inner.resolutions().len(), 1);
    assert!(r.outbox.notifier().published().is_empty());

    let retry = r.handle(failed_event(STACK)).await.expect("reports late");
    assert_eq!((retry.tally.reported_late, retry.published), (1, 1));
    let message = &r.outbox.notifier().published()[0];
    assert_eq!(
        message.subject,
        "[gitsync-guard] Blocker resolved: stack payments-api"
    );
    assert_eq!(
        fact(message, "Recorded reason"),
        Some(recorded("busy", "b-1").as_str())
    );
    r.handle(failed_event(STACK)).await.expect("quiet");
    assert_eq!(r.outbox.notifier().published().len(), 1);
    assert_eq!(r.api.update_attempts(), 1);
}

fn sweep_world(mode: Mode) -> TestResolver {
    let r = resolver(RULES, mode);
    r.api.add_stacks("link-1", &["alpha", "beta"]);
    r.api.add_stacks("link-2", &["gamma", "delta", "epsilon"]);
    r.api
        .inner
        .set_blockers("alpha", vec![active("a-1", BUSY, OLD)]);
    r.api
        .inner
        .set_blockers("beta", vec![active("b-1", UNKNOWN, OLD)]);
    r.api
        .inner
        .set_blockers("gamma", vec![active("g-1", THROTTLED, OLD)]);
    r.api
        .inner
        .set_blockers("epsilon", vec![active("e-1", THROTTLED, OLD)]);
    r.stacks.inner.set_status("gamma", "UPDATE_COMPLETE");
    // epsilon is not in CloudFormation: held back.
    r
}

#[tokio::test]
async fn a_sweep_reads_each_stack_once_and_publishes_one_summary() {
    let r = sweep_world(Mode::Enforce);
    let outcome = r.handle(schedule()).await.expect("sweeps");
    assert_eq!(outcome.action, "swept");
    assert_eq!(outcome.stacks, 5);
    assert_eq!(
        (
            outcome.tally.resolved,
            outcome.tally.held_back,
            outcome.tally.unmatched
        ),
        (2, 1, 1)
    );
    assert_eq!(r.api.inner.calls("ListRepositoryLinks"), 1);
    assert_eq!(r.api.inner.calls("ListSyncConfigurations"), 2);
    assert_eq!(r.api.inner.calls("GetSyncBlockerSummary"), 5);
    assert_eq!(r.api.update_attempts(), 2);
    assert_eq!(
        r.stacks.calls(),
        2,
        "DescribeStacks only for gamma and epsilon"
    );

    let published = r.outbox.notifier().published();
    assert_eq!(published.len(), 4, "{:#?}", subjects(&r));
    let summary = published.last().expect("the summary comes last");
    assert_eq!(
        summary.subject,
        "[gitsync-guard] Sweep: 2 resolved, 1 held back, 0 failed"
    );
    assert_eq!(attribute(summary, "severity"), Some("critical"));
    assert_eq!(attribute(summary, "kind"), Some("resolution"));
    for expected in [
        "alpha: a-1 (rule busy)",
        "gamma: g-1 (rule throttled)",
        "epsilon: e-1 (rule throttled): the stack does not exist in CloudFormation",
    ] {
        assert!(
            summary.message.contains(expected),
            "{expected:?} in {}",
            summary.message
        );
    }

    let quiet = r.handle(schedule()).await.expect("sweeps again");
    assert_eq!((quiet.published, quiet.tally.held_back), (0, 1));
    assert_eq!(
        r.outbox.notifier().published().len(),
        4,
        "nothing new: no summary"
    );
}

#[tokio::test]
async fn a_dry_run_sweep_decides_as_enforce_does() {
    let dry = sweep_world(Mode::DryRun);
    let enforce = sweep_world(Mode::Enforce);
    let dry_outcome = dry.handle(schedule()).await.expect("sweeps");
    let enforce_outcome = enforce.handle(schedule()).await.expect("sweeps");
    let as_enforced: HashMap<String, Verdict> = verdicts(&dry_outcome)
        .into_iter()
        .map(|(id, verdict)| match verdict {
            Verdict::WouldResolve => (id, Verdict::Resolved),
            other => (id, other),
        })
        .collect();
    assert_eq!(as_enforced, verdicts(&enforce_outcome));
    assert_eq!(dry.api.update_attempts(), 0);
    assert_eq!(
        dry.outbox
            .notifier()
            .published()
            .last()
            .map(|s| s.subject.clone()),
        Some("[gitsync-guard] [dry-run] Sweep: 2 would be resolved, 1 held back, 0 failed".into())
    );
}

#[tokio::test]
async fn one_failing_stack_does_not_stop_the_sweep_and_the_retry_resolves_nothing_twice() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.add_stacks("link-1", &["alpha", "beta", "gamma"]);
    for (stack, id) in [("alpha", "a-1"), ("beta", "b-1"), ("gamma", "g-1")] {
        r.api.inner.set_blockers(stack, vec![active(id, BUSY, OLD)]);
    }
    r.api.fail_stack("beta");
    let err = r.handle(schedule()).await.expect_err("beta failed");
    let done = err.outcome().expect("what the sweep did");
    assert_eq!(
        (done.stacks, done.failed_stacks, done.tally.resolved),
        (3, 1, 2)
    );
    assert_eq!(
        (
            done.api_failures.api_errors,
            done.api_failures.api_throttles
        ),
        (1, 0)
    );
    assert!(done.summary_published);
    let text = err.to_string();
    assert!(text.contains("(1 of 3 stack(s) failed)"), "{text}");
    assert!(
        text.contains("stack beta: GetSyncBlockerSummary failed"),
        "{text}"
    );
    assert_eq!(
        lambda_runtime::Diagnostic::from(err).error_type,
        "SweepIncomplete"
    );
    let resolved: Vec<String> = r
        .api
        .inner
        .resolutions()
        .into_iter()
        .map(|r| r.blocker_id)
        .collect();
    assert_eq!(resolved.len(), 2);
    assert!(resolved.contains(&"a-1".into()) && resolved.contains(&"g-1".into()));
    let summary = r.outbox.notifier().published().pop().expect("a summary");
    assert_eq!(
        summary.subject,
        "[gitsync-guard] Sweep: 2 resolved, 0 held back, 1 failed"
    );
    assert!(summary.message.contains("Failures:"), "{}", summary.message);

    r.api.heal_stacks();
    let retry = r.handle(schedule()).await.expect("the retry completes");
    assert_eq!(retry.tally.resolved, 1);
    let mut resolved: Vec<String> = r
        .api
        .inner
        .resolutions()
        .into_iter()
        .map(|r| r.blocker_id)
        .collect();
    resolved.sort();
    assert_eq!(
        resolved,
        ["a-1", "b-1", "g-1"],
        "each blocker resolved once"
    );
}

#[tokio::test]
async fn the_summary_lists_every_resolution_even_past_the_listed_decisions() {
    let r = resolver(RULES, Mode::Enforce);
    let quiet: Vec<String> = (0..120).map(|n| format!("a-{n:03}")).collect();
    let mut stacks: Vec<&str> = quiet.iter().map(String::as_str).collect();
    stacks.push("zz-last");
    r.api.add_stacks("link-1", &stacks);
    for stack in &quiet {
        r.api
            .inner
            .set_blockers(stack, vec![active(&format!("{stack}-x"), UNKNOWN, OLD)]);
    }
    r.api
        .inner
        .set_blockers("zz-last", vec![active("z-1", BUSY, OLD)]);
    let outcome = r.handle(schedule()).await.expect("sweeps");
    assert_eq!(
        outcome.decisions.len(),
        blocker_resolver::MAX_LISTED_DECISIONS
    );
    assert_eq!(outcome.decisions_omitted, 21);
    assert_eq!(outcome.tally.resolved, 1);
    let summary = r.outbox.notifier().published().pop().expect("a summary");
    assert!(
        summary.message.contains("zz-last: z-1 (rule busy)"),
        "{}",
        summary.message
    );
}

#[tokio::test]
async fn a_sweep_with_nothing_to_do_publishes_nothing() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.add_stacks("link-1", &["alpha", "beta"]);
    r.api
        .inner
        .set_blockers("alpha", vec![active("a-1", UNKNOWN, OLD)]);
    let outcome = r.handle(schedule()).await.expect("sweeps");
    assert_eq!((outcome.stacks, outcome.tally.unmatched), (2, 1));
    assert!(r.outbox.notifier().published().is_empty());
}

#[tokio::test]
async fn an_event_and_a_sweep_at_the_same_time_resolve_and_report_once() {
    let r = resolver(RULES, Mode::Enforce);
    r.api.add_stacks("link-1", &[STACK]);
    r.api
        .inner
        .set_blockers(STACK, vec![active("b-1", BUSY, OLD)]);
    // Both read the blocker as ACTIVE before either resolves it.
    r.api.delay_summaries(Duration::from_millis(20));
    r.outbox.notifier().set_delay(Duration::from_millis(20));
    let (event, sweep) = tokio::join!(r.handle(failed_event(STACK)), r.handle(schedule()));
    let (event, sweep) = (event.expect("event"), sweep.expect("sweep"));
    assert_eq!(event.tally.resolved + sweep.tally.resolved, 1);
    assert_eq!(event.tally.in_flight + sweep.tally.in_flight, 1);
    assert_eq!(r.api.update_attempts(), 1);
    let resolutions = subjects(&r)
        .into_iter()
        .filter(|s| s.contains("Blocker resolved"))
        .count();
    assert_eq!(resolutions, 1);
}

#[tokio::test]
async fn the_sweep_runs_at_most_sweep_concurrency_stacks_at_once() {
    let mut r = resolver(RULES, Mode::DryRun);
    r.config.sweep_concurrency = 3;
    let stacks: Vec<String> = (0..12).map(|n| format!("stack-{n}")).collect();
    let names: Vec<&str> = stacks.iter().map(String::as_str).collect();
    r.api.add_stacks("link-1", &names);
    r.api.delay_summaries(Duration::from_millis(5));
    let outcome = r.handle(schedule()).await.expect("sweeps");
    assert_eq!(outcome.stacks, 12);
    assert_eq!(r.api.max_concurrent_summaries(), 3);
}

#[tokio::test]
async fn other_events_are_ignored_successfully_and_junk_is_an_error() {
    let r = resolver(RULES, Mode::Enforce);
    let mut succeeded = failed_event(STACK);
    succeeded["detail"]["status"] = json!("SUCCEEDED");
    for event in [
        succeeded,
        json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
        json!({"source": "aws.codeconnections", "detail-type": "Git Sync Repository Sync Status Change",
               "detail": {"repositoryLinkId": "l", "branch": "main", "status": "FAILED"}}),
    ] {
        let outcome = r.handle(event).await.expect("ignored, not failed");
        assert_eq!(outcome.action, "ignored");
    }
    assert_eq!(r.api.inner.calls("GetSyncBlockerSummary"), 0);
    for (event, expected) in [
        (json!(42), "not a JSON object"),
        (
            json!({"stack": "bad name"}),
            "not a CloudFormation stack name",
        ),
    ] {
        let err = r.handle(event).await.expect_err(expected);
        assert!(matches!(err, ResolverError::Event(_)));
        assert!(err.to_string().contains(expected), "{err}");
    }
    let unknown = r
        .handle(json!({"stack": "no-such-stack"}))
        .await
        .expect("nothing to do");
    assert_eq!(unknown.active_blockers, 0);
}

fn env(pairs: &[(&'static str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
    Env::from_pairs(pairs)
}

#[test]
fn configuration_defaults_to_dry_run_and_eight_stacks_at_once() {
    let config = ResolverConfig::from_env(&env(&[("RESOLVER_RULES", RULES)])).expect("valid");
    assert_eq!(config.mode, Mode::DryRun);
    assert_eq!(config.sweep_concurrency, 8);
    assert_eq!(config.rules.rules().len(), 3);
    let enforce = ResolverConfig::from_env(&env(&[
        ("RESOLVER_RULES", RULES),
        ("RESOLVER_MODE", "enforce"),
        ("SWEEP_CONCURRENCY", "16"),
    ]))
    .expect("valid");
    assert_eq!(
        (enforce.mode, enforce.sweep_concurrency),
        (Mode::Enforce, 16)
    );
}

#[test]
fn a_bad_configuration_fails_the_cold_start_saying_what_to_fix() {
    let bad_rule = RULES.replace("min_age: 10m", "min_age: ten minutes");
    let cases: [(&[(&'static str, &str)], &str); 5] = [
        (&[], "RESOLVER_RULES is not set"),
        (
            &[("RESOLVER_RULES", bad_rule.as_str())],
            "RESOLVER_RULES is invalid: rule #2 \"throttled\": field `min_age`: \"ten minutes\" is not a duration",
        ),
        (
            &[("RESOLVER_RULES", RULES), ("RESOLVER_MODE", "on")],
            "RESOLVER_MODE is \"on\"; expected dry-run or enforce",
        ),
        (
            &[("RESOLVER_RULES", RULES), ("SWEEP_CONCURRENCY", "0")],
            "SWEEP_CONCURRENCY is \"0\"; expected a whole number from 1 to 64",
        ),
        (
            &[("RESOLVER_RULES", RULES), ("SWEEP_CONCURRENCY", "many")],
            "SWEEP_CONCURRENCY is \"many\"; expected a whole number from 1 to 64",
        ),
    ];
    for (pairs, expected) in cases {
        let err = ResolverConfig::from_env(&env(pairs)).expect_err(expected);
        assert!(
            err.to_string().contains(expected),
            "{err}\n  lacks {expected:?}"
        );
    }
}

#[tokio::test]
async fn the_sample_events_take_the_paths_they_are_named_for() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/blocker-resolver");
    let r = resolver(RULES, Mode::DryRun);
    r.api.add_stacks("link-1", &["web-frontend"]);
    for (file, action) in [
        ("resource-sync-failed.json", "evaluated-stack"),
        ("check-stack.json", "evaluated-stack"),
        ("sweep-schedule.json", "swept"),
        ("sweep-scheduler-input.json", "swept"),
        ("test-alert.json", "test"),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect(file);
        let event: Value = serde_json::from_str(&text).expect(file);
        let outcome = r.handle(event).await.expect(file);
        assert_eq!(outcome.action, action, "{file}");
    }
}

#[tokio::test]
async fn throttled_calls_are_counted_apart_from_other_api_errors() {
    let r = sweep_world(Mode::Enforce);
    r.api
        .inner
        .fail("ListSyncConfigurations", ApiErrorKind::Throttled);
    let err = r.handle(schedule()).await.expect_err("nothing listed");
    let done = err.outcome().expect("what the sweep did");
    // One ListSyncConfigurations per repository link, both throttled.
    assert_eq!(
        (
            done.api_failures.api_errors,
            done.api_failures.api_throttles
        ),
        (0, 2),
        "{done:?}"
    );
    assert_eq!(done.stacks, 0);

    let err = r.handle(json!(42)).await.expect_err("malformed");
    assert!(err.outcome().is_none(), "a malformed event did nothing");
}

fn test_job() -> Value {
    json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "test"}})
}

#[tokio::test]
async fn the_test_job_publishes_one_test_alert_and_touches_nothing_else() {
    let r = sweep_world(Mode::Enforce);
    let outcome = r.handle(test_job()).await.expect("publishes");
    assert_eq!(outcome.action, "test");
    let published = r.outbox.notifier().published();
    assert_eq!(published.len(), 1);
    assert_eq!(attribute(&published[0], "kind"), Some("test"));
    assert_eq!(fact(&published[0], "Function"), Some("blocker-resolver"));
    assert_eq!(r.store.item_count(), 0, "nothing a later run reads");
    assert_eq!(
        r.api.inner.calls("ListRepositoryLinks"),
        0,
        "no Git sync call"
    );
    assert!(r.api.inner.resolutions().is_empty());
}

#[tokio::test]
async fn a_complete_sweep_records_its_heartbeat_and_an_incomplete_one_does_not() {
    use gitsync::domain::selfwatch::Job;
    use gitsync::ports::{Clock, HeartbeatStore};
    let r = resolver(RULES, Mode::Enforce);
    r.api.add_stacks("link-1", &["alpha", "beta"]);
    r.handle(schedule()).await.expect("sweeps");
    let first = r.store.heartbeats().await.expect("reads");
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].job, first[0].completed_at),
        (Job::Sweep, r.outbox.clock().now())
    );
    r.outbox.clock().advance(OLD);
    r.api.fail_stack("beta");
    r.handle(schedule()).await.expect_err("incomplete");
    assert_eq!(
        r.store.heartbeats().await.expect("reads"),
        first,
        "a sweep that could not read a stack is no heartbeat"
    );
}
