//! The functions' metrics, as CloudWatch Embedded Metric Format (EMF): one JSON document per
//! line on stdout, which Lambda ships to CloudWatch Logs, which extracts the metrics. No API
//! call, no IAM permission, nothing to wait for.
//!
//! Every metric is in the namespace [`NAMESPACE`] with one dimension, [`DIMENSION`] (`Function`),
//! whose value is the function's name constant (`FUNCTION_NAME` of its crate, e.g.
//! `sync-watcher`), not the deployed function's name: the dashboard and the alarms in
//! template.yaml name it without knowing the stack. Names come only from [`Metric`] and the
//! dimension's value is a `&'static str`, so no stack, blocker or connection name can become a
//! metric or a dimension: cardinality stays fixed.
//!
//! Which function writes what (`Metric::writers` says the same in code; the dashboard test
//! holds the template to it):
//!
//! | metric | unit | written by | meaning |
//! |---|---|---|---|
//! | `AlertsPublished` | Count | sync-watcher | blocker alerts published |
//! | `RemindersPublished` | Count | sync-watcher | reminders about blockers still ACTIVE |
//! | `RecoveriesPublished` | Count | sync-watcher | "stack recovered" notices published |
//! | `ReportsPublished` | Count | sync-watcher | daily health reports published |
//! | `BlockedStacks` | Count | sync-watcher, org-hub | stacks with at least one ACTIVE blocker (org-hub: across the Organization) |
//! | `OldestBlockerAgeSeconds` | Seconds | sync-watcher, org-hub | age of the oldest ACTIVE blocker (the alarms' metric) |
//! | `StacksSwept` | Count | sync-watcher, blocker-resolver | stacks a sweep looked at |
//! | `SweepDurationMs` | Milliseconds | sync-watcher, blocker-resolver | how long a sweep took |
//! | `ActiveBlockers` | Count | blocker-resolver | ACTIVE blockers a sweep found |
//! | `BlockersResolved` | Count | blocker-resolver | blockers resolved (enforce) |
//! | `BlockersWouldResolve` | Count | blocker-resolver | blockers a rule would resolve (dry-run) |
//! | `BlockersHeldBack` | Count | blocker-resolver | blockers a rule matched but a guard held back |
//! | `ResolveFailures` | Count | blocker-resolver | blockers whose resolution failed |
//! | `MessagesPublished` | Count | blocker-resolver | messages published (decisions, sweep summary) |
//! | `ApiErrors` | Count | sync-watcher, blocker-resolver | API calls failed after the SDK's retries, throttling excepted |
//! | `ApiThrottles` | Count | sync-watcher, blocker-resolver | API calls still throttled after the SDK's retries |
//! | `ConnectionsTotal` | Count | connection-auditor | connections audited |
//! | `ConnectionsUnhealthy` | Count | connection-auditor | connections not AVAILABLE |
//! | `HostsUnhealthy` | Count | connection-auditor | hosts not AVAILABLE |
//! | `StacksAffected` | Count | connection-auditor | stacks stalled behind an unhealthy connection |
//! | `AuditErrors` | Count | connection-auditor | calls of an audit that failed |
//! | `CompleteRuns` | Count | all four | 1 for a scheduled run that covered its whole inventory, 0 for one that could not (the heartbeat alarms count it) |
//! | `MembersReporting` | Count | org-hub | members whose last health snapshot is recent |
//! | `MembersSilent` | Count | org-hub | members with no snapshot for two of their sweep periods |
//! | `UnhealthyResources` | Count | org-hub | unhealthy connections and hosts across the Organization |
//! | `EventsRejected` | Count | org-hub | events of a batch it could not read (each reason logged) |
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use gitsync::metrics::{Metric, Metrics};
//!
//! let line = Metrics::new("blocker-resolver")
//!     .count(Metric::StacksSwept, 12)
//!     .milliseconds(Metric::SweepDurationMs, Duration::from_millis(830))
//!     .line(SystemTime::now());
//! // Straight to stdout, not through tracing: CloudWatch extracts EMF only from a log line
//! // that is the JSON document itself.
//! println!("{line}");
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::ports::{ApiError, ApiErrorKind};

pub const NAMESPACE: &str = "GitSyncGuard";
/// The one dimension: the function's name constant.
pub const DIMENSION: &str = "Function";

/// The units the project uses, spelled as CloudWatch spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Seconds => "Seconds",
        }
    }
}

/// Every metric of the project, in one place (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    AlertsPublished,
    RemindersPublished,
    RecoveriesPublished,
    ReportsPublished,
    BlockedStacks,
    OldestBlockerAgeSeconds,
    StacksSwept,
    SweepDurationMs,
    ActiveBlockers,
    BlockersResolved,
    BlockersWouldResolve,
    BlockersHeldBack,
    ResolveFailures,
    MessagesPublished,
    ApiErrors,
    ApiThrottles,
    ConnectionsTotal,
    ConnectionsUnhealthy,
    HostsUnhealthy,
    StacksAffected,
    AuditErrors,
    CompleteRuns,
    /// The Organization hub: members whose last snapshot is recent.
    MembersReporting,
    /// The Organization hub: members with no snapshot for two of their sweep periods.
    MembersSilent,
    /// The Organization hub: unhealthy connections and hosts across every member.
    UnhealthyResources,
    /// The Organization hub: events it could not read (a log line names each reason).
    EventsRejected,
}

const SYNC_WATCHER: &str = "sync-watcher";
const BLOCKER_RESOLVER: &str = "blocker-resolver";
const CONNECTION_AUDITOR: &str = "connection-auditor";
const ORG_HUB: &str = "org-hub";

impl Metric {
    pub const ALL: [Metric; 26] = [
        Self::AlertsPublished,
        Self::RemindersPublished,
        Self::RecoveriesPublished,
        Self::ReportsPublished,
        Self::BlockedStacks,
        Self::OldestBlockerAgeSeconds,
        Self::StacksSwept,
        Self::SweepDurationMs,
        Self::ActiveBlockers,
        Self::BlockersResolved,
        Self::BlockersWouldResolve,
        Self::BlockersHeldBack,
        Self::ResolveFailures,
        Self::MessagesPublished,
        Self::ApiErrors,
        Self::ApiThrottles,
        Self::ConnectionsTotal,
        Self::ConnectionsUnhealthy,
        Self::HostsUnhealthy,
        Self::StacksAffected,
        Self::AuditErrors,
        Self::CompleteRuns,
        Self::MembersReporting,
        Self::MembersSilent,
        Self::UnhealthyResources,
        Self::EventsRejected,
    ];

    /// The metric's name in CloudWatch.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AlertsPublished => "AlertsPublished",
            Self::RemindersPublished => "RemindersPublished",
            Self::RecoveriesPublished => "RecoveriesPublished",
            Self::ReportsPublished => "ReportsPublished",
            Self::BlockedStacks => "BlockedStacks",
            Self::OldestBlockerAgeSeconds => "OldestBlockerAgeSeconds",
            Self::StacksSwept => "StacksSwept",
            Self::SweepDurationMs => "SweepDurationMs",
            Self::ActiveBlockers => "ActiveBlockers",
            Self::BlockersResolved => "BlockersResolved",
            Self::BlockersWouldResolve => "BlockersWouldResolve",
            Self::BlockersHeldBack => "BlockersHeldBack",
            Self::ResolveFailures => "ResolveFailures",
            Self::MessagesPublished => "MessagesPublished",
            Self::ApiErrors => "ApiErrors",
            Self::ApiThrottles => "ApiThrottles",
            Self::ConnectionsTotal => "ConnectionsTotal",
            Self::ConnectionsUnhealthy => "ConnectionsUnhealthy",
            Self::HostsUnhealthy => "HostsUnhealthy",
            Self::StacksAffected => "StacksAffected",
            Self::AuditErrors => "AuditErrors",
            Self::CompleteRuns => "CompleteRuns",
            Self::MembersReporting => "MembersReporting",
            Self::MembersSilent => "MembersSilent",
            Self::UnhealthyResources => "UnhealthyResources",
            Self::EventsRejected => "EventsRejected",
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            Self::OldestBlockerAgeSeconds => Unit::Seconds,
            Self::SweepDurationMs => Unit::Milliseconds,
            _ => Unit::Count,
        }
    }

    /// The functions that write the metric (their `Function` dimension values).
    pub const fn writers(self) -> &'static [&'static str] {
        match self {
            Self::AlertsPublished
            | Self::RemindersPublished
            | Self::RecoveriesPublished
            | Self::ReportsPublished => &[SYNC_WATCHER],
            // The hub writes the Organization's, under its own Function value.
            Self::BlockedStacks | Self::OldestBlockerAgeSeconds => &[SYNC_WATCHER, ORG_HUB],
            Self::StacksSwept | Self::SweepDurationMs | Self::ApiErrors | Self::ApiThrottles => {
                &[SYNC_WATCHER, BLOCKER_RESOLVER]
            }
            Self::ActiveBlockers
            | Self::BlockersResolved
            | Self::BlockersWouldResolve
            | Self::BlockersHeldBack
            | Self::ResolveFailures
            | Self::MessagesPublished => &[BLOCKER_RESOLVER],
            Self::ConnectionsTotal
            | Self::ConnectionsUnhealthy
            | Self::HostsUnhealthy
            | Self::StacksAffected
            | Self::AuditErrors => &[CONNECTION_AUDITOR],
            Self::CompleteRuns => &[SYNC_WATCHER, BLOCKER_RESOLVER, CONNECTION_AUDITOR, ORG_HUB],
            Self::MembersReporting
            | Self::MembersSilent
            | Self::UnhealthyResources
            | Self::EventsRejected => &[ORG_HUB],
        }
    }

    /// The metric of a name, if the project has it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|metric| metric.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// API calls that failed after the SDK's retries: throttled ones apart from the others, as
/// `ApiThrottles` and `ApiErrors` count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiFailures {
    pub api_errors: usize,
    pub api_throttles: usize,
}

impl ApiFailures {
    /// The metric one failed call counts under.
    pub fn metric(error: &ApiError) -> Metric {
        match error.kind {
            ApiErrorKind::Throttled => Metric::ApiThrottles,
            _ => Metric::ApiErrors,
        }
    }

    pub fn count(&mut self, error: &ApiError) {
        match Self::metric(error) {
            Metric::ApiThrottles => self.api_throttles += 1,
            _ => self.api_errors += 1,
        }
    }

    /// Both counts, zeros included.
    pub fn write(&self, metrics: &mut Metrics) {
        metrics
            .count(Metric::ApiErrors, self.api_errors)
            .count(Metric::ApiThrottles, self.api_throttles);
    }
}

/// One invocation's metrics, built up then written as one EMF line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    function: &'static str,
    values: Vec<(Metric, u64)>,
}

impl Metrics {
    /// `function` is the function's name constant: the `Function` dimension's value.
    pub fn new(function: &'static str) -> Self {
        Self {
            function,
            values: Vec::new(),
        }
    }

    /// A count. Setting a metric again replaces its value.
    pub fn count(&mut self, metric: Metric, n: usize) -> &mut Self {
        self.set(metric, Unit::Count, u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// A duration in whole milliseconds.
    pub fn milliseconds(&mut self, metric: Metric, duration: Duration) -> &mut Self {
        let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self.set(metric, Unit::Milliseconds, ms)
    }

    /// A duration (an age) in whole seconds.
    pub fn seconds(&mut self, metric: Metric, duration: Duration) -> &mut Self {
        self.set(metric, Unit::Seconds, duration.as_secs())
    }

    fn set(&mut self, metric: Metric, unit: Unit, value: u64) -> &mut Self {
        debug_assert_eq!(
            metric.unit(),
            unit,
            "{metric} is in {}",
            metric.unit().as_str()
        );
        match self.values.iter_mut().find(|(known, _)| *known == metric) {
            Some(slot) => slot.1 = value,
            None => self.values.push((metric, value)),
        }
        self
    }

    /// A scheduled run's heartbeat: 1 when it covered its whole inventory, else 0.
    pub fn heartbeat(&mut self, complete: bool) -> &mut Self {
        self.count(Metric::CompleteRuns, usize::from(complete))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The metrics set so far, in the order they were first set.
    pub fn values(&self) -> &[(Metric, u64)] {
        &self.values
    }

    /// The EMF document, one line (no newline in it): `_aws` with the timestamp (ms since the
    /// epoch) and the one metric directive, the `Function` dimension, and each metric's value.
    pub fn line(&self, at: SystemTime) -> String {
        let timestamp = at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        let definitions: Vec<Value> = self
            .values
            .iter()
            .map(|(metric, _)| json!({"Name": metric.name(), "Unit": metric.unit().as_str()}))
            .collect();
        let mut document = Map::new();
        document.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        document.insert(DIMENSION.into(), self.function.into());
        for (metric, value) in &self.values {
            document.insert(metric.name().into(), (*value).into());
        }
        Value::Object(document).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn parse(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line: {line}");
        serde_json::from_str(line).expect("valid JSON")
    }

    #[test]
    fn a_line_is_one_emf_document_with_every_value_and_its_unit() {
        let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        let line = Metrics::new("blocker-resolver")
            .count(Metric::StacksSwept, 12)
            .milliseconds(Metric::SweepDurationMs, Duration::from_micros(830_900))
            .count(Metric::ApiThrottles, 0)
            .line(at);
        let document = parse(&line);
        assert_eq!(document["_aws"]["Timestamp"], 1_800_000_000_123_u64);
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "GitSyncGuard");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(
            directive["Metrics"],
            json!([
                {"Name": "StacksSwept", "Unit": "Count"},
                {"Name": "SweepDurationMs", "Unit": "Milliseconds"},
                {"Name": "ApiThrottles", "Unit": "Count"},
            ])
        );
        assert_eq!(document["Function"], "blocker-resolver");
        assert_eq!(document["StacksSwept"], 12);
        assert_eq!(document["SweepDurationMs"], 830);
        assert_eq!(document["ApiThrottles"], 0);
        // Nothing else: the directive, the dimension, the values.
        let keys: BTreeSet<&str> = document
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "_aws",
                "Function",
                "StacksSwept",
                "SweepDurationMs",
                "ApiThrottles"
            ])
        );
    }

    #[test]
    fn seconds_are_whole_seconds_and_a_metric_set_twice_keeps_the_last_value() {
        let mut metrics = Metrics::new("sync-watcher");
        metrics
            .seconds(
                Metric::OldestBlockerAgeSeconds,
                Duration::from_millis(90_999),
            )
            .count(Metric::BlockedStacks, 1)
            .count(Metric::BlockedStacks, 3);
        assert_eq!(
            metrics.values(),
            [
                (Metric::OldestBlockerAgeSeconds, 90),
                (Metric::BlockedStacks, 3)
            ]
        );
        let document = parse(&metrics.line(SystemTime::now()));
        assert_eq!(document["OldestBlockerAgeSeconds"], 90);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"][0],
            json!({"Name": "OldestBlockerAgeSeconds", "Unit": "Seconds"})
        );
        assert_eq!(document["BlockedStacks"], 3);
    }

    #[test]
    fn an_empty_set_is_still_a_valid_document() {
        let metrics = Metrics::new("connection-auditor");
        assert!(metrics.is_empty());
        let document = parse(&metrics.line(UNIX_EPOCH));
        assert_eq!(document["_aws"]["Timestamp"], 0);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([])
        );
    }

    #[test]
    fn names_are_unique_pascal_case_and_round_trip() {
        let names: BTreeSet<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len(), "unique names");
        for metric in Metric::ALL {
            let name = metric.name();
            assert!(
                name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{name}"
            );
            assert_eq!(format!("{metric:?}"), name, "the variant is the name");
            assert_eq!(Metric::from_name(name), Some(metric));
            assert!(!metric.writers().is_empty(), "{name} has a writer");
        }
        assert_eq!(Metric::from_name("StackName"), None);
    }

    #[test]
    fn units_match_the_names() {
        for metric in Metric::ALL {
            let expected = if metric.name().ends_with("Seconds") {
                Unit::Seconds
            } else if metric.name().ends_with("Ms") {
                Unit::Milliseconds
            } else {
                Unit::Count
            };
            assert_eq!(metric.unit(), expected, "{metric}");
        }
    }

    #[test]
    fn every_function_writes_something() {
        for function in [SYNC_WATCHER, BLOCKER_RESOLVER, CONNECTION_AUDITOR] {
            assert!(
                Metric::ALL.iter().any(|m| m.writers().contains(&function)),
                "{function}"
            );
        }
    }
}
