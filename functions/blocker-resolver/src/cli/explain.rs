//! What each rule means, in words, for `--check-rules`: the operator reads this before
//! deploying, so it spells out every guard and what happens when one holds.

use std::fmt::Write as _;

use gitsync::domain::sync::DEPLOYABLE_STACK_STATUSES;

use crate::rules::{
    Action, MAX_RESOLVED_REASON_CHARS, PLACEHOLDER_BLOCKER_ID, Resolution, Rule, RuleSet,
};

/// Every rule, in the order they are tried.
pub fn rule_set(rules: &RuleSet) -> String {
    if rules.rules().is_empty() {
        return "No rules: blocker-resolver resolves nothing.\n".into();
    }
    let mut out = String::new();
    for rule in rules.rules() {
        explain_rule(&mut out, rule);
        out.push('\n');
    }
    out.push_str(
        "Rules are tried in this order; the first that matches a blocker decides. A blocker \
         no rule matches is left alone.\n",
    );
    out
}

// Writing to a String cannot fail: the `fmt::Result`s below are discarded.
fn explain_rule(out: &mut String, rule: &Rule) {
    let action = match rule.action() {
        Action::Resolve => "resolve",
        Action::Ignore => "ignore",
    };
    let _ = writeln!(out, "{}. {} ({action})", rule.position, rule.name);
    let _ = writeln!(
        out,
        "   matches an ACTIVE blocker whose CreatedReason matches /{}/",
        rule.reason_pattern()
    );
    for (key, pattern) in rule.contexts() {
        let _ = writeln!(
            out,
            "   and that has a context {key} whose value matches /{pattern}/"
        );
    }
    match rule.resolution() {
        Some(resolution) => explain_resolution(out, resolution),
        None => {
            let _ = writeln!(
                out,
                "   -> leaves it alone: no later rule is tried for it, nothing is recorded or \
                 reported"
            );
        }
    }
}

fn explain_resolution(out: &mut String, resolution: &Resolution) {
    let _ = writeln!(out, "   -> resolves it (in enforce mode)");
    match resolution.min_age {
        Some(min_age) => {
            let _ = writeln!(
                out,
                "      once it is at least {} old (younger ones wait for a later event or sweep)",
                humantime::format_duration(min_age)
            );
        }
        None => {
            let _ = writeln!(out, "      whatever its age");
        }
    }
    if let Some(statuses) = &resolution.stack_status_in {
        let listed: Vec<&str> = statuses.iter().map(String::as_str).collect();
        explain_statuses(out, &listed);
    }
    if let Some(guard) = resolution.loop_guard {
        let _ = writeln!(
            out,
            "      only while fewer than {} blocker(s) were resolved by blocker-resolver on the \
             stack in the last {}; past that, held back and reported as critical",
            guard.max_resolutions,
            humantime::format_duration(guard.window)
        );
    }
    let _ = writeln!(
        out,
        "      records {:?} (at most {} of {MAX_RESOLVED_REASON_CHARS} characters)",
        resolution.resolved_reason(PLACEHOLDER_BLOCKER_ID),
        resolution.longest_reason_chars()
    );
}

/// The `stack_status_in` guard, with a note for the statuses Git sync never deploys to: the
/// rule is valid, but resolving then cannot help.
fn explain_statuses(out: &mut String, listed: &[&str]) {
    let _ = writeln!(
        out,
        "      only while the stack is in {} (checked with DescribeStacks); otherwise it is \
         held back and reported as critical",
        listed.join(", ")
    );
    let useless: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|status| !DEPLOYABLE_STACK_STATUSES.contains(status))
        .collect();
    if !useless.is_empty() {
        let _ = writeln!(
            out,
            "      note: Git sync deploys only to {}; resolving while the stack is in {} \
             cannot help",
            DEPLOYABLE_STACK_STATUSES.join(", "),
            useless.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../rules.example.yaml");

    #[test]
    fn the_example_rules_read_in_order() {
        let rules = RuleSet::parse(EXAMPLE).expect("the example is valid");
        let text = rule_set(&rules);
        assert!(
            text.contains("1. never-touch-failed-rollbacks (ignore)"),
            "{text}"
        );
        assert!(text.contains("once it is at least 10m old"), "{text}");
        assert!(text.contains("fewer than 3 blocker(s)"), "{text}");
    }

    #[test]
    fn no_rule_says_nothing_is_resolved() {
        let rules = RuleSet::parse("[]").expect("no rule");
        assert_eq!(
            rule_set(&rules),
            "No rules: blocker-resolver resolves nothing.\n"
        );
    }

    #[test]
    fn statuses_git_sync_cannot_deploy_to_get_a_note() {
        let rules = RuleSet::parse(
            "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  stack_status_in: [UPDATE_ROLLBACK_FAILED]\n",
        )
        .expect("valid, if useless");
        assert!(
            rule_set(&rules)
                .contains("resolving while the stack is in UPDATE_ROLLBACK_FAILED cannot help")
        );
    }
}
