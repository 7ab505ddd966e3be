//! What an invocation writes as CloudWatch metrics (one EMF line, `gitsync::metrics`): the
//! alerts, reminders and recovery notices it published and the API calls that failed; a sweep
//! also writes the account's gauges (stacks swept, blocked stacks, the oldest blocker's age,
//! which the blocked-too-long alarm watches), the day's report and its heartbeat
//! (`CompleteRuns`: 1 when it checked every stack, 0 when it could not). Ignored events, test
//! alerts, malformed events and failures of the ledger or SNS write nothing: their errors say
//! it, and a sweep without its line counts as no complete run.

use gitsync::metrics::{ApiFailures, Metric, Metrics};
use std::time::Duration;

use crate::{FUNCTION_NAME, Outcome, WatcherError};

pub(crate) fn of(result: &Result<Outcome, WatcherError>) -> Option<Metrics> {
    let mut metrics = Metrics::new(FUNCTION_NAME);
    let outcome = match result {
        Ok(outcome) if !["ignored", "test"].contains(&outcome.action) => outcome,
        Err(WatcherError::Sweep { outcome, .. }) => outcome,
        Err(WatcherError::Api(error)) => {
            metrics.count(ApiFailures::metric(error), 1);
            return Some(metrics);
        }
        _ => return None,
    };
    let figures = &outcome.figures;
    if outcome.action == "swept" {
        metrics
            .count(Metric::StacksSwept, outcome.stacks)
            .milliseconds(
                Metric::SweepDurationMs,
                Duration::from_millis(figures.sweep_ms),
            )
            .count(Metric::BlockedStacks, figures.blocked_stacks)
            .seconds(
                Metric::OldestBlockerAgeSeconds,
                Duration::from_secs(figures.oldest_blocker_age_s),
            )
            .count(Metric::ReportsPublished, figures.reports)
            .heartbeat(result.is_ok());
    }
    metrics
        .count(Metric::AlertsPublished, figures.alerts)
        .count(Metric::RemindersPublished, outcome.reminders)
        .count(Metric::RecoveriesPublished, figures.recoveries);
    figures.api_failures.write(&mut metrics);
    Some(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Figures;
    use gitsync::ports::{ApiError, ApiErrorKind};
    use serde_json::Value;
    use std::time::SystemTime;

    fn values(metrics: &Metrics) -> Vec<(String, u64)> {
        let line: Value = serde_json::from_str(&metrics.line(SystemTime::now())).expect("JSON");
        let mut values: Vec<(String, u64)> = Metric::ALL
            .iter()
            .filter_map(|m| Some((m.name().to_owned(), line.get(m.name())?.as_u64()?)))
            .collect();
        values.sort();
        values
    }

    #[test]
    fn a_sweep_writes_the_account_gauges_and_an_event_only_its_messages() {
        let sweep = Outcome {
            action: "swept",
            stacks: 40,
            reminders: 2,
            figures: Figures {
                alerts: 1,
                reports: 1,
                blocked_stacks: 3,
                oldest_blocker_age_s: 90_000,
                sweep_ms: 1200,
                api_failures: ApiFailures {
                    api_errors: 0,
                    api_throttles: 1,
                },
                ..Figures::default()
            },
            ..Outcome::default()
        };
        let written = values(&of(&Ok(sweep)).expect("a sweep writes"));
        for expected in [
            ("StacksSwept", 40),
            ("BlockedStacks", 3),
            ("OldestBlockerAgeSeconds", 90_000),
            ("SweepDurationMs", 1200),
            ("ReportsPublished", 1),
            ("AlertsPublished", 1),
            ("RemindersPublished", 2),
            ("ApiThrottles", 1),
            ("CompleteRuns", 1),
        ] {
            assert!(
                written.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} in {written:?}"
            );
        }
        let event = Outcome {
            action: "checked-stack",
            figures: Figures {
                alerts: 1,
                ..Figures::default()
            },
            ..Outcome::default()
        };
        let written = values(&of(&Ok(event)).expect("an event writes"));
        assert!(
            !written
                .iter()
                .any(|(name, _)| name == "BlockedStacks" || name == "CompleteRuns"),
            "{written:?}"
        );
        let incomplete = Err(WatcherError::Sweep {
            stacks: 40,
            failures: vec!["stack web: GetSyncBlockerSummary access denied".into()],
            outcome: Box::new(Outcome {
                action: "swept",
                ..Outcome::default()
            }),
        });
        let written = values(&of(&incomplete).expect("an incomplete sweep writes"));
        assert!(
            written.contains(&("CompleteRuns".to_owned(), 0)),
            "{written:?}"
        );
        assert!(
            of(&Ok(Outcome {
                action: "test",
                ..Outcome::default()
            }))
            .is_none(),
            "a test alert is no run"
        );
        assert!(
            of(&Ok(Outcome {
                action: "ignored",
                ..Outcome::default()
            }))
            .is_none()
        );
        let throttled = Err(WatcherError::Api(ApiError {
            operation: "GetSyncBlockerSummary",
            kind: ApiErrorKind::Throttled,
            message: "slow down".into(),
        }));
        assert_eq!(
            values(&of(&throttled).expect("counted")),
            [("ApiThrottles".to_owned(), 1)]
        );
    }
}
