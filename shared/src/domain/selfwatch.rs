//! gitsync-guard watching itself: the scheduled jobs, when each last covered its whole
//! inventory (its heartbeat), whether one is overdue, and the test alert that proves the path
//! from a function to the people who read its alerts.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::alert::{Alert, AlertKind, Severity};
use super::text::{rfc3339, time_and_age};

/// A job is overdue when its last complete run is older than this many of its periods: about
/// when its heartbeat alarm fires (two periods without a complete run).
pub const OVERDUE_AFTER_PERIODS: u32 = 2;

/// The scheduled jobs, named as their schedules' input names them (`detail.job`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    /// sync-watcher's sweep of every stack under Git sync.
    Watch,
    /// blocker-resolver's sweep.
    Sweep,
    /// connection-auditor's audit of connections and hosts.
    Audit,
}

impl Job {
    pub const ALL: [Job; 3] = [Self::Watch, Self::Sweep, Self::Audit];

    /// The name in a schedule's input and in the ledger.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Watch => "watch",
            Self::Sweep => "sweep",
            Self::Audit => "audit",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|job| job.as_str() == name)
    }

    /// The function that runs it (the `Function` dimension of its metrics).
    pub const fn function(self) -> &'static str {
        match self {
            Self::Watch => "sync-watcher",
            Self::Sweep => "blocker-resolver",
            Self::Audit => "connection-auditor",
        }
    }

    /// What people call it.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Watch => "sync-watcher's sweep",
            Self::Sweep => "blocker-resolver's sweep",
            Self::Audit => "connection-auditor's audit",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a complete run of a job leaves in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub job: Job,
    /// The latest complete run.
    pub completed_at: SystemTime,
    /// The first complete run on record: how long gitsync-guard has been running.
    pub first_completed_at: SystemTime,
}

impl Heartbeat {
    /// The record of `job` once it completes a run at `at`: the first run on record kept.
    pub fn after_run(job: Job, at: SystemTime, previous: Option<&Heartbeat>) -> Self {
        Self {
            job,
            completed_at: at,
            first_completed_at: previous.map_or(at, |beat| beat.first_completed_at),
        }
    }
}

/// `heartbeats` as they stand once `job` completes a run at `at` (before it is recorded).
pub fn with_complete_run(
    mut heartbeats: Vec<Heartbeat>,
    job: Job,
    at: SystemTime,
) -> Vec<Heartbeat> {
    let beat = Heartbeat::after_run(job, at, heartbeats.iter().find(|beat| beat.job == job));
    heartbeats.retain(|beat| beat.job != job);
    heartbeats.push(beat);
    heartbeats
}

/// The last complete run of `job` on record.
pub fn last_complete(heartbeats: &[Heartbeat], job: Job) -> Option<SystemTime> {
    heartbeats
        .iter()
        .filter(|beat| beat.job == job)
        .map(|beat| beat.completed_at)
        .max()
}

/// How one job is doing, as the daily report tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobHealth {
    pub job: Job,
    /// How often its schedule runs it.
    pub period: Duration,
    /// Its last complete run, if one is on record.
    pub last_complete: Option<SystemTime>,
    pub state: JobState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Completed a run within [`OVERDUE_AFTER_PERIODS`] periods.
    OnTime,
    /// No complete run within [`OVERDUE_AFTER_PERIODS`] periods: it stopped, or it runs but
    /// cannot read its inventory.
    Overdue,
    /// No complete run on record, and gitsync-guard has not been running long enough to
    /// expect one (a new deployment).
    NotYet,
}

impl JobHealth {
    /// `heartbeats` are every job's records; `now` the report's time. A job with no record
    /// is overdue once any job's first complete run (when gitsync-guard began running) is
    /// older than its allowance.
    pub fn assess(job: Job, period: Duration, heartbeats: &[Heartbeat], now: SystemTime) -> Self {
        let allowance = period * OVERDUE_AFTER_PERIODS;
        let older_than_allowance =
            |at: SystemTime| now.duration_since(at).is_ok_and(|age| age > allowance);
        let last_complete = last_complete(heartbeats, job);
        let running_since = heartbeats.iter().map(|beat| beat.first_completed_at).min();
        let state = match (last_complete, running_since) {
            (Some(last), _) if older_than_allowance(last) => JobState::Overdue,
            (Some(_), _) => JobState::OnTime,
            (None, Some(since)) if older_than_allowance(since) => JobState::Overdue,
            (None, _) => JobState::NotYet,
        };
        Self {
            job,
            period,
            last_complete,
            state,
        }
    }

    pub fn is_overdue(&self) -> bool {
        self.state == JobState::Overdue
    }

    /// One line for the report: the job, its last complete run, and OVERDUE where it is.
    pub fn line(&self, now: SystemTime) -> String {
        let every = humantime::format_duration(self.period);
        let last = match self.last_complete {
            Some(at) => format!("last complete run {}", time_and_age(Some(at), now)),
            None => "no complete run on record".to_owned(),
        };
        let verdict = match self.state {
            JobState::OnTime => String::new(),
            JobState::NotYet => " (new deployment: not expected yet)".to_owned(),
            JobState::Overdue => format!(
                " - OVERDUE: expected every {every}; it stopped, or it runs but cannot read its inventory"
            ),
        };
        format!("{} (every {every}): {last}{verdict}", self.job.describe())
    }
}

/// The message of a function's `test` job: it proves the path (format, topic, key,
/// subscriptions) and says that nothing is wrong. The outbox stamps the account and region.
pub fn test_alert(function: &str, now: SystemTime) -> Alert {
    let mut alert = Alert::new(
        AlertKind::Test,
        Severity::Info,
        format!("Test alert from {function}: nothing is wrong"),
    )
    .fact("Function", function)
    .fact("Sent at", rfc3339(now));
    alert.summary = format!(
        "This is a test of gitsync-guard's alert path, sent on request by {function}. Nothing \
         is wrong and nothing needs doing: if you read this, {function}'s alerts reach you."
    );
    alert.next_steps = vec![
        "None. To check the other functions' paths, invoke each with the test job.".to_owned(),
    ];
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000) + HOUR * hours as u32
    }

    fn beat(job: Job, first: u64, last: u64) -> Heartbeat {
        Heartbeat {
            job,
            completed_at: at(last),
            first_completed_at: at(first),
        }
    }

    #[test]
    fn jobs_round_trip_their_schedule_names_and_name_their_functions() {
        for job in Job::ALL {
            assert_eq!(Job::parse(job.as_str()), Some(job));
            assert!(job.describe().starts_with(job.function()));
        }
        assert_eq!(Job::parse("test"), None);
    }

    #[test]
    fn a_job_is_overdue_after_two_periods_without_a_complete_run() {
        let beats = [beat(Job::Sweep, 0, 10)];
        let health = |now| JobHealth::assess(Job::Sweep, HOUR, &beats, now);
        assert_eq!(health(at(11)).state, JobState::OnTime);
        assert_eq!(
            health(at(12)).state,
            JobState::OnTime,
            "exactly two periods"
        );
        let late = health(at(13));
        assert_eq!(late.state, JobState::Overdue);
        assert_eq!(late.last_complete, Some(at(10)));
        assert!(
            late.line(at(13)).contains("OVERDUE"),
            "{}",
            late.line(at(13))
        );
    }

    #[test]
    fn a_job_never_completed_is_overdue_only_once_gitsync_guard_has_run_long_enough() {
        let beats = [beat(Job::Watch, 0, 5)];
        let audit = |now| JobHealth::assess(Job::Audit, HOUR / 4, &beats, now);
        assert_eq!(audit(at(0)).state, JobState::NotYet);
        assert_eq!(audit(at(1)).state, JobState::Overdue);
        assert!(
            audit(at(1))
                .line(at(1))
                .contains("no complete run on record")
        );
        assert_eq!(
            JobHealth::assess(Job::Audit, HOUR, &[], at(100)).state,
            JobState::NotYet,
            "nothing on record at all: a new deployment"
        );
    }

    #[test]
    fn a_complete_run_moves_the_last_run_and_keeps_the_first() {
        let beats = with_complete_run(
            vec![beat(Job::Watch, 0, 5), beat(Job::Audit, 1, 4)],
            Job::Watch,
            at(9),
        );
        assert_eq!(last_complete(&beats, Job::Watch), Some(at(9)));
        assert_eq!(last_complete(&beats, Job::Audit), Some(at(4)));
        let watch = beats.iter().find(|b| b.job == Job::Watch).expect("watch");
        assert_eq!(watch.first_completed_at, at(0));
        assert_eq!(beats.len(), 2);
        let first = with_complete_run(vec![], Job::Sweep, at(3));
        assert_eq!(
            first,
            [Heartbeat {
                job: Job::Sweep,
                completed_at: at(3),
                first_completed_at: at(3)
            }]
        );
    }

    #[test]
    fn the_test_alert_says_nothing_is_wrong_and_names_its_function_and_time() {
        let alert = test_alert("blocker-resolver", UNIX_EPOCH);
        assert_eq!(alert.kind, AlertKind::Test);
        assert_eq!(alert.severity, Severity::Info);
        assert!(alert.title.contains("nothing is wrong"));
        let facts: Vec<(&str, &str)> = alert
            .facts
            .iter()
            .map(|f| (f.label.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            facts,
            [
                ("Function", "blocker-resolver"),
                ("Sent at", "1970-01-01T00:00:00Z")
            ]
        );
    }
}
