//! Properties of the rule engine and of the handler over generated rules and blockers:
//! unmatched blockers are never resolved, the first match wins, dry-run never calls
//! UpdateSyncBlocker and decides as enforce does, the loop guard holds at its limit, and
//! `min_age` and `stack_status_in` are respected.

// The failure and concurrency knobs of the world are for the handler tests.
#[allow(dead_code)]
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use blocker_resolver::engine::{self, Screening};
use blocker_resolver::rules::{RuleSet, STACK_STATUSES};
use blocker_resolver::{Mode, Outcome, Verdict};
use gitsync::domain::sync::SyncBlocker;
use proptest::prelude::*;
use serde_json::json;
use world::{TestResolver, active, now, recorded, resolved, resolver};

const STACK: &str = "web-frontend";
/// Rules and blockers are built from these words: a rule matches a blocker whose reason
/// contains its word, so that the expected decision is easy to state independently.
const WORDS: [&str; 5] = ["alpha", "bravo", "charlie", "delta", "echo"];

#[derive(Debug, Clone)]
struct RuleSpec {
    word: usize,
    resolve: bool,
    min_age_minutes: Option<u64>,
}

#[derive(Debug, Clone)]
struct BlockerSpec {
    /// Which words its CreatedReason contains.
    words: BTreeSet<usize>,
    age_minutes: u64,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (0..WORDS.len(), any::<bool>(), prop::option::of(0u64..90)).prop_map(
        |(word, resolve, min_age_minutes)| RuleSpec {
            word,
            resolve,
            min_age_minutes,
        },
    )
}

fn blocker_spec() -> impl Strategy<Value = BlockerSpec> {
    (prop::collection::btree_set(0..WORDS.len(), 0..3), 0u64..120)
        .prop_map(|(words, age_minutes)| BlockerSpec { words, age_minutes })
}

fn rules_text(specs: &[RuleSpec]) -> String {
    let mut text = String::new();
    for (n, spec) in specs.iter().enumerate() {
        // No word contains another, so a plain literal matches exactly the blockers that
        // name it.
        text.push_str(&format!("- name: r{n}\n  reason: {}\n", WORDS[spec.word]));
        if spec.resolve {
            text.push_str(
                "  action: resolve\n  resolved_reason: 'gitsync-guard {rule} resolved {blocker_id}'\n",
            );
            if let Some(minutes) = spec.min_age_minutes {
                text.push_str(&format!("  min_age: {minutes}m\n"));
            }
        } else {
            text.push_str("  action: ignore\n");
        }
    }
    text
}

fn blocker(n: usize, spec: &BlockerSpec) -> SyncBlocker {
    let words: Vec<&str> = spec.words.iter().map(|w| WORDS[*w]).collect();
    let reason = format!("Deployment failed: {} happened", words.join(" and "));
    active(
        &format!("b{n}"),
        &reason,
        Duration::from_secs(spec.age_minutes * 60),
    )
}

/// The expected decision, from the specs alone: the first rule whose word is in the reason.
fn expected(rules: &[RuleSpec], spec: &BlockerSpec) -> Verdict {
    match rules.iter().find(|rule| spec.words.contains(&rule.word)) {
        None => Verdict::Unmatched,
        Some(rule) if !rule.resolve => Verdict::Ignored,
        Some(rule)
            if rule
                .min_age_minutes
                .is_some_and(|min| spec.age_minutes < min) =>
        {
            Verdict::TooYoung
        }
        Some(_) => Verdict::Resolved,
    }
}

fn run(resolver: &TestResolver) -> Outcome {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(resolver.handle(json!({ "stack": STACK })))
        .expect("the invocation succeeds")
}

fn world(rules: &[RuleSpec], blockers: &[BlockerSpec], mode: Mode) -> TestResolver {
    let r = resolver(&rules_text(rules), mode);
    r.api.inner.set_blockers(
        STACK,
        blockers
            .iter()
            .enumerate()
            .map(|(n, spec)| blocker(n, spec))
            .collect(),
    );
    r
}

fn verdicts(outcome: &Outcome) -> BTreeMap<String, Verdict> {
    outcome
        .decisions
        .iter()
        .map(|d| (d.blocker_id.clone(), d.outcome))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_first_matching_rule_decides(
        rules in prop::collection::vec(rule_spec(), 1..6),
        spec in blocker_spec(),
    ) {
        let set = RuleSet::parse(&rules_text(&rules)).expect("generated rules are valid");
        let first = rules.iter().position(|rule| spec.words.contains(&rule.word));
        let matched = set.first_match(&blocker(0, &spec)).map(|rule| rule.position - 1);
        prop_assert_eq!(matched, first);
    }

    #[test]
    fn min_age_is_respected(
        min_minutes in 0u64..600,
        // Ages around the limit, often right at it, where an off-by-one would show.
        offset_seconds in prop_oneof![-2i64..=2, -600i64..=600],
        known in any::<bool>(),
    ) {
        let set = RuleSet::parse(&format!(
            "- name: r\n  reason: x\n  action: resolve\n  resolved_reason: r\n  min_age: {min_minutes}m\n"
        )).expect("valid");
        let age_seconds = (min_minutes * 60).saturating_add_signed(offset_seconds);
        let mut blocker = active("b", "x", Duration::from_secs(age_seconds));
        if !known {
            blocker.created_at = None;
        }
        let candidate = matches!(engine::screen(&set, &blocker, now()), Screening::Candidate { .. });
        prop_assert_eq!(candidate, known && age_seconds >= min_minutes * 60);
    }

    #[test]
    fn stack_status_in_is_respected(
        allowed in prop::collection::btree_set(0..STACK_STATUSES.len(), 1..6),
        current in prop::option::of(0..STACK_STATUSES.len()),
    ) {
        let listed: Vec<&str> = allowed.iter().map(|n| STACK_STATUSES[*n]).collect();
        let set = RuleSet::parse(&format!(
            "- name: r\n  reason: x\n  action: resolve\n  resolved_reason: r\n  stack_status_in: [{}]\n",
            listed.join(", ")
        )).expect("valid");
        let resolution = set.rules()[0].resolution().expect("a resolve rule");
        let held = engine::stack_status_hold(resolution, current.map(|n| STACK_STATUSES[n]));
        prop_assert_eq!(held.is_none(), current.is_some_and(|n| allowed.contains(&n)));
    }

    #[test]
    fn only_blockers_whose_first_match_resolves_are_resolved(
        rules in prop::collection::vec(rule_spec(), 1..5),
        blockers in prop::collection::vec(blocker_spec(), 0..8),
    ) {
        let r = world(&rules, &blockers, Mode::Enforce);
        let outcome = run(&r);
        let expected: BTreeMap<String, Verdict> = blockers
            .iter()
            .enumerate()
            .map(|(n, spec)| (format!("b{n}"), expected(&rules, spec)))
            .collect();
        prop_assert_eq!(verdicts(&outcome), expected.clone());
        let resolved: BTreeSet<String> =
            r.api.inner.resolutions().into_iter().map(|r| r.blocker_id).collect();
        let should: BTreeSet<String> = expected
            .into_iter()
            .filter(|(_, verdict)| *verdict == Verdict::Resolved)
            .map(|(id, _)| id)
            .collect();
        prop_assert_eq!(resolved, should);
    }

    #[test]
    fn dry_run_decides_as_enforce_and_never_calls_update_sync_blocker(
        rules in prop::collection::vec(rule_spec(), 1..5),
        blockers in prop::collection::vec(blocker_spec(), 0..8),
    ) {
        let dry = world(&rules, &blockers, Mode::DryRun);
        let enforce = world(&rules, &blockers, Mode::Enforce);
        let dry_outcome = run(&dry);
        let enforce_outcome = run(&enforce);
        prop_assert_eq!(dry.api.update_attempts(), 0);
        let as_enforced: BTreeMap<String, Verdict> = verdicts(&dry_outcome)
            .into_iter()
            .map(|(id, verdict)| match verdict {
                Verdict::WouldResolve => (id, Verdict::Resolved),
                other => (id, other),
            })
            .collect();
        prop_assert_eq!(as_enforced, verdicts(&enforce_outcome));
        prop_assert_eq!(dry.outbox.notifier().published().len(), enforce.outbox.notifier().published().len());
    }

    #[test]
    fn the_loop_guard_holds_at_its_limit(
        max in 1u32..5,
        earlier in 0usize..7,
        matching in 1usize..7,
    ) {
        let r = resolver(
            &format!(
                "- name: guarded\n  reason: alpha\n  action: resolve\n  \
                 resolved_reason: 'gitsync-guard {{rule}} resolved {{blocker_id}}'\n  \
                 max_resolutions: {max}\n  window: 6h\n"
            ),
            Mode::Enforce,
        );
        let mut blockers: Vec<SyncBlocker> = (0..earlier)
            .map(|n| {
                let id = format!("earlier-{n}");
                resolved(&id, &recorded("guarded", &id), Duration::from_secs(3600))
            })
            .collect();
        blockers.extend((0..matching).map(|n| {
            active(&format!("b{n}"), "alpha failed", Duration::from_secs(600))
        }));
        r.api.inner.set_blockers(STACK, blockers);
        let outcome = run(&r);
        let allowed = (max as usize).saturating_sub(earlier).min(matching);
        prop_assert_eq!(r.api.inner.resolutions().len(), allowed);
        prop_assert_eq!(outcome.tally.held_back, matching - allowed);
        prop_assert!(earlier + outcome.tally.resolved <= (max as usize).max(earlier));
    }
}
