//! What an invocation writes as CloudWatch metrics (one EMF line, `gitsync::metrics`).
//!
//! Every invocation that evaluated a stack or swept writes the resolutions by outcome, the
//! messages it published and the API calls that failed; a sweep also writes how many stacks it
//! looked at, how long it took, the ACTIVE blockers it found (a gauge of the whole account,
//! which a one-stack evaluation is not) and its heartbeat (`CompleteRuns`: 1 when it covered
//! every stack, 0 when it could not). Ignored events, test alerts and malformed events write
//! nothing.

use std::time::Duration;

use gitsync::metrics::{Metric, Metrics};

use crate::{FUNCTION_NAME, Outcome};

/// The invocation's metrics, if it did anything worth counting.
/// `complete`: the invocation succeeded (for a sweep, it covered every stack).
pub(crate) fn of(outcome: &Outcome, complete: bool, elapsed: Duration) -> Option<Metrics> {
    if ["ignored", "test"].contains(&outcome.action) {
        return None;
    }
    let mut metrics = Metrics::new(FUNCTION_NAME);
    if outcome.action == "swept" {
        metrics
            .count(Metric::StacksSwept, outcome.stacks)
            .milliseconds(Metric::SweepDurationMs, elapsed)
            .count(Metric::ActiveBlockers, outcome.active_blockers)
            .heartbeat(complete);
    }
    let tally = &outcome.tally;
    metrics
        .count(Metric::BlockersResolved, tally.resolved)
        .count(Metric::BlockersWouldResolve, tally.would_resolve)
        .count(Metric::BlockersHeldBack, tally.held_back)
        .count(Metric::ResolveFailures, tally.failed)
        .count(
            Metric::MessagesPublished,
            outcome.published + usize::from(outcome.summary_published),
        );
    outcome.api_failures.write(&mut metrics);
    Some(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use gitsync::metrics::NAMESPACE;
    use serde_json::{Value, json};
    use std::time::SystemTime;

    fn swept() -> Outcome {
        let mut outcome = Outcome::new("swept", Mode::Enforce);
        outcome.stacks = 7;
        outcome.active_blockers = 4;
        outcome.tally.resolved = 2;
        outcome.tally.held_back = 1;
        outcome.tally.failed = 1;
        outcome.tally.unmatched = 3;
        outcome.published = 4;
        outcome.summary_published = true;
        outcome.api_failures.api_errors = 1;
        outcome.api_failures.api_throttles = 2;
        outcome
    }

    fn values(metrics: &Metrics) -> Vec<(&'static str, u64)> {
        metrics
            .values()
            .iter()
            .map(|(metric, value)| (metric.name(), *value))
            .collect()
    }

    #[test]
    fn a_sweep_writes_its_size_duration_and_every_count() {
        let metrics = of(&swept(), true, Duration::from_millis(1_234)).expect("metrics");
        assert_eq!(
            values(&metrics),
            [
                ("StacksSwept", 7),
                ("SweepDurationMs", 1_234),
                ("ActiveBlockers", 4),
                ("CompleteRuns", 1),
                ("BlockersResolved", 2),
                ("BlockersWouldResolve", 0),
                ("BlockersHeldBack", 1),
                ("ResolveFailures", 1),
                ("MessagesPublished", 5),
                ("ApiErrors", 1),
                ("ApiThrottles", 2),
            ]
        );
        let document: Value =
            serde_json::from_str(&metrics.line(SystemTime::now())).expect("EMF JSON");
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(document["Function"], FUNCTION_NAME);
        assert_eq!(document["SweepDurationMs"], 1_234);
        let incomplete = of(&swept(), false, Duration::ZERO).expect("metrics");
        assert!(
            values(&incomplete).contains(&("CompleteRuns", 0)),
            "an incomplete sweep beats no heartbeat"
        );
    }

    #[test]
    fn one_stack_writes_its_decisions_but_no_sweep_gauges() {
        let mut outcome = Outcome::new("evaluated-stack", Mode::DryRun);
        outcome.stacks = 1;
        outcome.active_blockers = 2;
        outcome.tally.would_resolve = 1;
        outcome.published = 1;
        let metrics = of(&outcome, true, Duration::from_millis(40)).expect("metrics");
        assert_eq!(
            values(&metrics),
            [
                ("BlockersResolved", 0),
                ("BlockersWouldResolve", 1),
                ("BlockersHeldBack", 0),
                ("ResolveFailures", 0),
                ("MessagesPublished", 1),
                ("ApiErrors", 0),
                ("ApiThrottles", 0),
            ]
        );
    }

    #[test]
    fn an_ignored_event_writes_nothing() {
        let outcome = Outcome::ignored(Mode::Enforce, "not a Git sync event".into());
        assert_eq!(of(&outcome, true, Duration::ZERO), None);
        let test = Outcome::new("test", Mode::Enforce);
        assert_eq!(
            of(&test, true, Duration::ZERO),
            None,
            "a test alert is no run"
        );
    }

    #[test]
    fn every_metric_written_is_declared_as_blocker_resolvers() {
        let metrics = of(&swept(), true, Duration::ZERO).expect("metrics");
        for (metric, _) in metrics.values() {
            assert!(metric.writers().contains(&FUNCTION_NAME), "{metric}");
        }
    }
}
