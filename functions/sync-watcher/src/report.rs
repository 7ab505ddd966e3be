//! The daily health report: how gitsync-guard's own scheduled jobs are doing (an overdue one
//! first), every blocked stack, every unhealthy connection and host with the stacks it stalls,
//! and the last 24 hours of blocker-resolver's decisions. Pure: built from what the sweep
//! found, the auditor's status records, the jobs' heartbeats and the ledger.

use std::time::{Duration, SystemTime};

use gitsync::domain::alert::{Alert, AlertKind, Section, Severity};
use gitsync::domain::resolution::{Mode, ResolverItem};
use gitsync::domain::selfwatch::JobHealth;
use gitsync::domain::sync::SyncBlocker;
use gitsync::domain::text::{rfc3339, time_and_age};
use gitsync::domain::topology::{Configurations, Topology};
use gitsync::ledger::StatusRecord;

/// Most lines per list; the rest are counted ("... and N more").
pub const MAX_REPORT_ITEMS: usize = 100;
/// How far back the report lists blocker-resolver's decisions.
pub const DECISIONS_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// One ACTIVE blocker the sweep found, and its stack (a stack with several is listed once
/// per blocker). Not `gitsync::domain::blocker_alert::BlockedStack`, which is a stack and its
/// region, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveBlocker {
    pub stack: String,
    pub blocker: SyncBlocker,
}

/// One decision blocker-resolver recorded, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub stack: String,
    pub mode: Mode,
    /// What happened to the blocker, as blocker-resolver words it.
    pub what: String,
    pub blocker_id: String,
    pub at: SystemTime,
}

impl Decision {
    /// `None` for what the report does not list (nothing but resolutions, holds, failures).
    pub fn new(
        stack: &str,
        (mode, what, blocker_id): (Mode, ResolverItem<'_>, &str),
        at: SystemTime,
    ) -> Self {
        Self {
            stack: stack.to_owned(),
            mode,
            what: what.describe(mode),
            blocker_id: blocker_id.to_owned(),
            at,
        }
    }
}

/// Everything the report says.
#[derive(Debug, Clone)]
pub struct HealthReport<'a> {
    pub now: SystemTime,
    pub stacks_swept: usize,
    pub blocked: Vec<ActiveBlocker>,
    /// The auditor's records of connections and hosts that are not AVAILABLE.
    pub unhealthy: &'a [StatusRecord],
    /// Who depends on whom: the stacks each unhealthy resource stalls.
    pub topology: &'a Topology<'a>,
    pub configurations: &'a Configurations,
    pub decisions: Vec<Decision>,
    /// What the sweep could not read: the report says it is incomplete.
    pub failures: &'a [String],
    /// Each scheduled job of gitsync-guard, from its heartbeat.
    pub jobs: &'a [JobHealth],
}

impl HealthReport<'_> {
    pub fn is_healthy(&self) -> bool {
        self.blocked.is_empty() && self.unhealthy.is_empty() && self.overdue_jobs() == 0
    }

    fn overdue_jobs(&self) -> usize {
        self.jobs.iter().filter(|job| job.is_overdue()).count()
    }

    /// The stacks that deploy through a connection or host.
    fn stalled_by(&self, record: &StatusRecord) -> Vec<&str> {
        self.topology
            .impact(record.kind, &record.arn, self.configurations)
            .stacks()
            .into_iter()
            .collect()
    }
}

fn blocked_line(blocked: &ActiveBlocker, now: SystemTime) -> String {
    let blocker = &blocked.blocker;
    format!(
        "{}: blocked since {}, blocker {}: {}",
        blocked.stack,
        time_and_age(blocker.created_at, now),
        blocker.id,
        blocker.created_reason
    )
}

fn unhealthy_line(report: &HealthReport<'_>, record: &StatusRecord) -> String {
    let stalled = report.stalled_by(record);
    let kind = record.kind.label();
    let stacks = match stalled.as_slice() {
        [] => "stalls no stack under Git sync".to_owned(),
        stacks => format!("stalls {} stack(s): {}", stacks.len(), stacks.join(", ")),
    };
    // Named as the auditor's digest names it: by name, then its ARN.
    format!(
        "{kind} {} ({}) is {} since {}; {stacks}",
        record.display_name(),
        record.arn,
        record.status,
        time_and_age(Some(record.since), report.now)
    )
}

fn decision_line(decision: &Decision) -> String {
    format!(
        "{} {}: blocker {} {} ({})",
        rfc3339(decision.at),
        decision.stack,
        decision.blocker_id,
        decision.what,
        decision.mode
    )
}

/// Severity and subject: all clear, or how many stacks, resources and jobs need attention.
fn headline(report: &HealthReport<'_>) -> (Severity, String) {
    match (
        report.overdue_jobs(),
        report.blocked.len(),
        report.unhealthy.len(),
    ) {
        (0, 0, 0) => (Severity::Info, "Git sync health: all clear".to_owned()),
        (0, blocked, unhealthy) => (
            Severity::Warning,
            format!(
                "Git sync health: {blocked} blocked stack(s), {unhealthy} unhealthy connection(s) or host(s)"
            ),
        ),
        // First in the subject: while a job is overdue, the rest of the report may be stale.
        (overdue, blocked, unhealthy) => (
            Severity::Warning,
            format!(
                "Git sync health: {overdue} gitsync-guard job(s) OVERDUE, {blocked} blocked stack(s), {unhealthy} unhealthy"
            ),
        ),
    }
}

/// The day's figures, jobs first.
fn with_figures(alert: Alert, report: &HealthReport<'_>) -> Alert {
    let audit = match report.failures.len() {
        0 => "complete".to_owned(),
        failed => format!("INCOMPLETE: {failed} listing(s) failed (listed below)"),
    };
    let jobs = match report.overdue_jobs() {
        0 => "every job on time".to_owned(),
        overdue => format!("{overdue} OVERDUE (listed first)"),
    };
    alert
        .fact("gitsync-guard's jobs", jobs)
        .fact("Stacks under Git sync", report.stacks_swept.to_string())
        .fact("Blocked stacks", report.blocked.len().to_string())
        .fact(
            "Unhealthy connections and hosts",
            report.unhealthy.len().to_string(),
        )
        .fact(
            "Resolver decisions, last 24 hours",
            report.decisions.len().to_string(),
        )
        .fact("Sweep", audit)
}

fn summary(report: &HealthReport<'_>) -> String {
    if report.is_healthy() {
        "Every stack under Git sync deploys, and every connection and host is AVAILABLE.".into()
    } else {
        "These stacks deploy nothing new from Git until their blockers are resolved and their \
         connections are AVAILABLE; each has its own alert with what to do."
            .into()
    }
}

/// Every list with its heading, in the report's order (an empty one is left out later).
fn lists(report: &HealthReport<'_>) -> [(&'static str, Vec<String>); 5] {
    let mut blocked: Vec<&ActiveBlocker> = report.blocked.iter().collect();
    blocked.sort_by_key(|b| (b.blocker.created_at, b.stack.clone()));
    let mut decisions: Vec<&Decision> = report.decisions.iter().collect();
    decisions.sort_by_key(|d| std::cmp::Reverse(d.at));
    let mut jobs: Vec<&JobHealth> = report.jobs.iter().collect();
    jobs.sort_by_key(|job| !job.is_overdue());
    [
        (
            "gitsync-guard's scheduled jobs",
            jobs.iter().map(|job| job.line(report.now)).collect(),
        ),
        (
            "Blocked stacks, oldest first",
            blocked
                .iter()
                .map(|b| blocked_line(b, report.now))
                .collect::<Vec<_>>(),
        ),
        (
            "Unhealthy connections and hosts",
            report
                .unhealthy
                .iter()
                .map(|r| unhealthy_line(report, r))
                .collect(),
        ),
        (
            "blocker-resolver's decisions, last 24 hours",
            decisions.iter().map(|d| decision_line(d)).collect(),
        ),
        ("What the sweep could not read", report.failures.to_vec()),
    ]
}

fn next_steps(report: &HealthReport<'_>) -> Vec<String> {
    let mut steps = Vec::new();
    if report.overdue_jobs() > 0 {
        steps.push(
            "For each OVERDUE job, read its function's errors in CloudWatch Logs and check its \
             EventBridge Scheduler schedule is ENABLED; the README's \"Is gitsync-guard itself \
             running?\" says what each cause looks like. Until it runs complete again, what it \
             watches goes unreported."
                .into(),
        );
    }
    if !report.blocked.is_empty() || !report.unhealthy.is_empty() {
        steps.extend([
            "Resolve each blocker as its alert says (aws codestar-connections update-sync-blocker)."
                .into(),
            "Complete or update each connection that is not AVAILABLE in the console (Settings, \
             Connections): PENDING needs the handshake, ERROR new authorization."
                .into(),
        ]);
    }
    steps
}

/// The report as one message, every list capped so that it stays within SNS's limits.
pub fn report_alert(report: &HealthReport<'_>) -> Alert {
    let (severity, title) = headline(report);
    let mut alert = with_figures(Alert::new(AlertKind::Report, severity, title), report);
    alert.summary = summary(report);
    for (heading, items) in lists(report) {
        if !items.is_empty() {
            alert
                .sections
                .push(Section::capped(heading, items, MAX_REPORT_ITEMS));
        }
    }
    alert.next_steps = next_steps(report);
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::alert::{AlertFormat, render};
    use gitsync::domain::connections::ResourceKind;
    use gitsync::domain::selfwatch::{Heartbeat, Job};
    use gitsync::domain::sync::BlockerStatus;
    use gitsync::fakes::fixtures::{configurations, connection, link};

    const T0: u64 = 1_800_000_000;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn blocked(stack: &str, id: &str, created: u64) -> ActiveBlocker {
        ActiveBlocker {
            stack: stack.into(),
            blocker: SyncBlocker {
                id: id.into(),
                status: BlockerStatus::Active,
                created_reason: format!("{stack} failed"),
                contexts: vec![],
                created_at: Some(at(created)),
                resolved_at: None,
                resolved_reason: None,
            },
        }
    }

    const CONN_RENAMED: &str = "arn:aws:codeconnections:us-east-1:123456789012:connection/c-1";
    const HOST: &str = "arn:aws:codestar-connections:us-east-1:123456789012:host/h-1";

    fn empty_topology() -> Topology<'static> {
        Topology::new(&[], Some(&[]))
    }

    #[test]
    fn the_report_lists_blocked_stacks_unhealthy_resources_with_their_stacks_and_decisions() {
        // c-1 (listed under the old prefix, recorded under the new one) and c-2 through h-1.
        let connections = [
            connection("c-1", "ERROR", None),
            connection("c-2", "AVAILABLE", Some("h-1")),
        ];
        let links = [
            link("l-1", &connections[0].arn),
            link("l-2", &connections[1].arn),
        ];
        let topology = Topology::new(&connections, Some(&links));
        let configurations = configurations(&[("l-1", &["web", "api"]), ("l-2", &["jobs"])]);
        let unhealthy = [
            StatusRecord {
                arn: CONN_RENAMED.into(),
                kind: ResourceKind::Connection,
                name: None,
                status: "ERROR".into(),
                since: at(T0 - 3600),
                last_alerted_at: None,
            },
            StatusRecord {
                arn: HOST.into(),
                kind: ResourceKind::Host,
                name: Some("ghes-corp".into()),
                status: "VPC_CONFIG_FAILED_INITIALIZATION".into(),
                since: at(T0 - 60),
                last_alerted_at: None,
            },
        ];
        let report = HealthReport {
            now: at(T0),
            stacks_swept: 3,
            blocked: vec![
                blocked("web", "b-2", T0 - 60),
                blocked("api", "b-1", T0 - 7200),
            ],
            unhealthy: &unhealthy,
            topology: &topology,
            configurations: &configurations,
            decisions: vec![Decision::new(
                "web",
                (
                    Mode::Enforce,
                    ResolverItem::Held {
                        guard: "loop-guard",
                    },
                    "b-0",
                ),
                at(T0 - 600),
            )],
            failures: &[],
            jobs: &[],
        };
        let alert = report_alert(&report);
        assert_eq!(alert.kind, AlertKind::Report);
        assert_eq!(
            alert.title,
            "Git sync health: 2 blocked stack(s), 2 unhealthy connection(s) or host(s)"
        );
        let text = render(&alert, AlertFormat::Text, "sync-watcher").message;
        for expected in [
            "api: blocked since 2027-01-15T06:00:00Z (2h ago), blocker b-1: api failed",
            "web: blocked since 2027-01-15T07:59:00Z (1m ago), blocker b-2: web failed",
            // Recorded before names were kept: the id in its ARN.
            &format!(
                "Connection c-1 ({CONN_RENAMED}) is ERROR since 2027-01-15T07:00:00Z (1h ago); stalls 2 stack(s): api, web"
            ),
            &format!("Host ghes-corp ({HOST}) is VPC_CONFIG_FAILED_INITIALIZATION since"),
            "stalls 1 stack(s): jobs",
            "web: blocker b-0 held back by the loop-guard (enforce)",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(
            text.find("api: blocked").unwrap_or(usize::MAX)
                < text.find("web: blocked").unwrap_or(0),
            "oldest first"
        );
    }

    #[test]
    fn a_healthy_account_is_all_clear_and_a_huge_one_is_capped() {
        let topology = empty_topology();
        let configurations = Configurations::new();
        let healthy = HealthReport {
            now: at(T0),
            stacks_swept: 0,
            blocked: vec![],
            unhealthy: &[],
            topology: &topology,
            configurations: &configurations,
            decisions: vec![],
            failures: &[],
            jobs: &[],
        };
        assert!(healthy.is_healthy());
        assert_eq!(report_alert(&healthy).severity, Severity::Info);
        let huge = HealthReport {
            blocked: (0..5000)
                .map(|n| blocked(&format!("stack-{n}"), &format!("b-{n}"), T0))
                .collect(),
            ..healthy
        };
        for format in [AlertFormat::Text, AlertFormat::Chatbot, AlertFormat::Json] {
            let rendered = render(&report_alert(&huge), format, "sync-watcher");
            assert!(rendered.message.len() < 256 * 1024, "{format:?}");
            let counted = match format {
                AlertFormat::Json => rendered.message.contains("\"omitted\":4900"),
                _ => rendered.message.contains("4900 more"),
            };
            assert!(counted, "{format:?}: the cut is counted");
        }
    }

    #[test]
    fn the_report_says_when_each_job_last_completed_and_flags_an_overdue_one_first() {
        const HOUR: Duration = Duration::from_secs(3600);
        let beat = |job, hours_ago: u64| Heartbeat {
            job,
            completed_at: at(T0 - hours_ago * 3600),
            first_completed_at: at(T0 - 100 * 3600),
        };
        let heartbeats = [
            beat(Job::Watch, 0),
            beat(Job::Sweep, 5),
            beat(Job::Audit, 0),
        ];
        let jobs: Vec<JobHealth> = [
            (Job::Watch, HOUR),
            (Job::Sweep, HOUR),
            (Job::Audit, HOUR / 4),
        ]
        .into_iter()
        .map(|(job, period)| JobHealth::assess(job, period, &heartbeats, at(T0)))
        .collect();
        let topology = empty_topology();
        let configurations = Configurations::new();
        let report = HealthReport {
            now: at(T0),
            stacks_swept: 1,
            blocked: vec![],
            unhealthy: &[],
            topology: &topology,
            configurations: &configurations,
            decisions: vec![],
            failures: &[],
            jobs: &jobs,
        };
        assert!(
            !report.is_healthy(),
            "an overdue job makes the day unhealthy"
        );
        let alert = report_alert(&report);
        assert_eq!(alert.severity, Severity::Warning);
        assert!(
            alert
                .title
                .starts_with("Git sync health: 1 gitsync-guard job(s) OVERDUE"),
            "{}",
            alert.title
        );
        let text = render(&alert, AlertFormat::Text, "sync-watcher").message;
        let section = text
            .split("gitsync-guard's scheduled jobs:")
            .nth(1)
            .unwrap_or_else(|| panic!("the jobs section in:\n{text}"));
        let lines: Vec<&str> = section.lines().skip(1).take(3).collect();
        assert!(
            lines[0].contains("blocker-resolver's sweep (every 1h): last complete run 2027-01-15T03:00:00Z (5h ago) - OVERDUE"),
            "overdue first: {lines:?}"
        );
        assert!(
            lines[1].contains(
                "sync-watcher's sweep (every 1h): last complete run 2027-01-15T08:00:00Z"
            ),
            "{lines:?}"
        );
        assert!(
            lines[2].contains("connection-auditor's audit (every 15m)"),
            "{lines:?}"
        );
        assert!(!lines[1].contains("OVERDUE") && !lines[2].contains("OVERDUE"));
        assert!(
            text.contains("Is gitsync-guard itself"),
            "what to do: {text}"
        );
    }
}
