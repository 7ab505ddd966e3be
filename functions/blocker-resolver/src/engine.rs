//! The decision for one blocker, from the rules and what is known about its stack. Pure: the
//! handler fetches the facts (only those a matching rule needs) and asks these functions.
//!
//! The order is fixed: the first matching rule decides; an `ignore` rule ends there; a
//! `resolve` rule then needs the blocker old enough (`min_age`), the stack in an allowed
//! status (`stack_status_in`), and the loop guard's count under its limit.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use gitsync::domain::sync::SyncBlocker;

use crate::rules::{LoopGuard, Resolution, Rule, RuleSet};

/// What the rules say about one ACTIVE blocker before any fact about its stack is needed.
#[derive(Debug, Clone, Copy)]
pub enum Screening<'r> {
    /// No rule matches: never resolved, never reported (sync-watcher alerted it).
    Unmatched,
    /// The first matching rule says leave it alone.
    Ignored(&'r Rule),
    /// The matching rule resolves, but not blockers this young (or of unknown age).
    TooYoung {
        rule: &'r Rule,
        min_age: Duration,
        age: Option<Duration>,
    },
    /// The matching rule resolves it, if its stack guards allow.
    Candidate {
        rule: &'r Rule,
        resolution: &'r Resolution,
    },
}

pub fn screen<'r>(rules: &'r RuleSet, blocker: &SyncBlocker, now: SystemTime) -> Screening<'r> {
    let Some(rule) = rules.first_match(blocker) else {
        return Screening::Unmatched;
    };
    let Some(resolution) = rule.resolution() else {
        return Screening::Ignored(rule);
    };
    if let Some(min_age) = resolution.min_age {
        // A blocker without a creation time cannot be shown old enough: it waits.
        let age = blocker
            .created_at
            .map(|created| now.duration_since(created).unwrap_or(Duration::ZERO));
        if age.is_none_or(|age| age < min_age) {
            return Screening::TooYoung { rule, min_age, age };
        }
    }
    Screening::Candidate { rule, resolution }
}

/// Why a matching blocker is not resolved now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The stack is not in a status the rule allows; `current` is `None` when the stack
    /// does not exist.
    StackStatus {
        current: Option<String>,
        allowed: Vec<String>,
    },
    /// Resolving again would pass the rule's limit: the cause is probably coming back.
    LoopGuard { resolved: usize, guard: LoopGuard },
}

impl Hold {
    /// A stable name for logs, ledger keys and outcomes.
    pub fn guard_name(&self) -> &'static str {
        match self {
            Self::StackStatus { .. } => "stack-status",
            Self::LoopGuard { .. } => "loop-guard",
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StackStatus { current, allowed } => {
                let current = current.as_deref().map_or_else(
                    || "does not exist in CloudFormation".to_owned(),
                    |status| format!("is {status}"),
                );
                write!(
                    f,
                    "the stack {current}; the rule resolves only while it is in {}",
                    allowed.join(", ")
                )
            }
            Self::LoopGuard { resolved, guard } => write!(
                f,
                "blocker-resolver already resolved {resolved} blocker(s) on this stack in the last \
                 {}, and the rule allows at most {}: the cause is probably coming back",
                humantime::format_duration(guard.window),
                guard.max_resolutions
            ),
        }
    }
}

/// The stack-status precondition; `current` is `None` when the stack does not exist.
pub fn stack_status_hold(resolution: &Resolution, current: Option<&str>) -> Option<Hold> {
    let allowed = resolution.stack_status_in.as_ref()?;
    if current.is_some_and(|status| allowed.contains(status)) {
        return None;
    }
    Some(Hold::StackStatus {
        current: current.map(str::to_owned),
        allowed: allowed.iter().cloned().collect(),
    })
}

/// The loop guard: holds once the count inside the window has reached the limit.
pub fn loop_guard_hold(
    resolution: &Resolution,
    history: &ResolutionHistory,
    now: SystemTime,
) -> Option<Hold> {
    let guard = resolution.loop_guard?;
    let resolved = history.count_within(guard.window, now);
    (resolved >= guard.max_resolutions as usize).then_some(Hold::LoopGuard { resolved, guard })
}

/// The blockers blocker-resolver resolved on one stack, and when: from the blocker history
/// (RESOLVED blockers whose ResolvedReason one of our rules records), from the ledger, and
/// from this invocation. One Id counts once.
#[derive(Debug, Clone, Default)]
pub struct ResolutionHistory {
    /// `None`: when is unknown, so it counts in every window.
    resolved: BTreeMap<String, Option<SystemTime>>,
}

impl ResolutionHistory {
    pub fn from_blockers(rules: &RuleSet, blockers: &[SyncBlocker]) -> Self {
        let mut history = Self::default();
        for blocker in blockers {
            if !blocker.is_active()
                && blocker
                    .resolved_reason
                    .as_deref()
                    .is_some_and(|reason| rules.recorded_by_us(reason))
            {
                history.record(&blocker.id, blocker.resolved_at);
            }
        }
        history
    }

    pub fn record(&mut self, blocker_id: &str, at: Option<SystemTime>) {
        let when = self.resolved.entry(blocker_id.to_owned()).or_insert(at);
        *when = match (*when, at) {
            (Some(known), Some(other)) => Some(known.max(other)),
            _ => None,
        };
    }

    pub fn count_within(&self, window: Duration, now: SystemTime) -> usize {
        self.resolved
            .values()
            .filter(|when| {
                when.is_none_or(|at| {
                    now.duration_since(at).is_ok_and(|ago| ago <= window) || at > now
                })
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::sync::BlockerStatus;

    const T0: u64 = 1_800_000_000;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn rules() -> RuleSet {
        RuleSet::parse(
            "- name: busy\n  reason: 'IN_PROGRESS'\n  action: resolve\n  resolved_reason: 'auto {rule} {blocker_id}'\n  min_age: 10m\n  stack_status_in: [UPDATE_COMPLETE]\n  max_resolutions: 2\n  window: 1h\n",
        )
        .expect("valid")
    }

    fn resolved(id: &str, reason: &str, when: Option<u64>) -> SyncBlocker {
        SyncBlocker {
            id: id.into(),
            status: BlockerStatus::Resolved,
            created_reason: "Stack is in UPDATE_IN_PROGRESS".into(),
            contexts: vec![],
            created_at: Some(at(T0)),
            resolved_at: when.map(at),
            resolved_reason: Some(reason.into()),
        }
    }

    #[test]
    fn a_blocker_of_unknown_age_waits() {
        let rules = rules();
        let mut blocker = resolved("b", "", None);
        blocker.status = BlockerStatus::Active;
        blocker.created_at = None;
        assert!(matches!(
            screen(&rules, &blocker, at(T0)),
            Screening::TooYoung { age: None, .. }
        ));
    }

    #[test]
    fn history_counts_only_our_resolutions_inside_the_window_once_each() {
        let rules = rules();
        let now = at(T0 + 7200);
        let blockers = [
            resolved("ours-recent", "auto busy ours-recent", Some(T0 + 7000)),
            resolved("ours-old", "auto busy ours-old", Some(T0)),
            resolved("ours-undated", "auto busy ours-undated", None),
            resolved("by-hand", "Fixed it by hand", Some(T0 + 7100)),
        ];
        let mut history = ResolutionHistory::from_blockers(&rules, &blockers);
        assert_eq!(history.count_within(Duration::from_secs(3600), now), 2);
        history.record("ours-recent", Some(at(T0 + 7100)));
        history.record("from-ledger", Some(at(T0 + 7150)));
        assert_eq!(history.count_within(Duration::from_secs(3600), now), 3);
        let resolution = rules.rules()[0].resolution().expect("resolve rule");
        assert_eq!(
            loop_guard_hold(resolution, &history, now),
            Some(Hold::LoopGuard {
                resolved: 3,
                guard: LoopGuard {
                    max_resolutions: 2,
                    window: Duration::from_secs(3600)
                }
            })
        );
    }

    #[test]
    fn holds_explain_themselves() {
        let rules = rules();
        let resolution = rules.rules()[0].resolution().expect("resolve rule");
        let missing = stack_status_hold(resolution, None).expect("held");
        assert_eq!(
            missing.to_string(),
            "the stack does not exist in CloudFormation; the rule resolves only while it is in UPDATE_COMPLETE"
        );
        assert_eq!(stack_status_hold(resolution, Some("UPDATE_COMPLETE")), None);
        let guard = Hold::LoopGuard {
            resolved: 2,
            guard: LoopGuard {
                max_resolutions: 2,
                window: Duration::from_secs(3600),
            },
        };
        assert!(
            guard
                .to_string()
                .contains("resolved 2 blocker(s) on this stack in the last 1h")
        );
    }
}
