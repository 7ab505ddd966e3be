//! The watcher's decisions, driven through in-memory ports.

use std::time::{Duration, SystemTime};

use gitsync::domain::connections::ResourceKind;
use gitsync::domain::resolution::Mode;
use gitsync::domain::selfwatch::Job;
use gitsync::domain::sync::{
    BlockerStatus, RepositoryLink, SyncAttempt, SyncAttemptEvent, SyncBlocker, SyncConfiguration,
    SyncStatus,
};
use gitsync::fakes::{
    FakeOutbox, InMemoryConnections, InMemoryGitSync, InMemoryLedger, fake_outbox,
};
use gitsync::ledger::{EntryState, LedgerKey, ResolverItem, StatusRecord};
use gitsync::ports::{ApiErrorKind, Clock, HeartbeatStore, StatusStore};
use serde_json::{Value, json};
use sync_watcher::settings::{HealthReport, WatcherSettings};
use sync_watcher::{Watcher, WatcherError};

type FakeWatcher = Watcher<InMemoryGitSync, InMemoryConnections, InMemoryLedger, FakeOutbox>;

const STACK: &str = "payments-api";
const T0: u64 = 1_800_000_000;

fn watcher() -> FakeWatcher {
    let store = InMemoryLedger::default();
    Watcher {
        api: InMemoryGitSync::default(),
        connections: InMemoryConnections::default(),
        outbox: fake_outbox(
            sync_watcher::FUNCTION_NAME,
            SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 600),
            &store,
        ),
        store,
        region: "us-east-1".into(),
        settings: WatcherSettings::default(),
    }
}

fn blocker(id: &str, status: BlockerStatus) -> SyncBlocker {
    let resolved = status == BlockerStatus::Resolved;
    SyncBlocker {
        id: id.into(),
        status,
        created_reason: "Resource handler returned message: \"Bucket already exists\"".into(),
        contexts: vec![("Stack".into(), STACK.into())],
        created_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)),
        resolved_at: None,
        resolved_reason: resolved.then(|| "Renamed the bucket".into()),
    }
}

fn resource_event(status: &str) -> Value {
    json!({
        "version": "0", "id": "1", "source": "aws.codeconnections",
        "detail-type": "Git Sync Resource Sync Status Change",
        "account": "123456789012", "region": "eu-west-1", "time": "2027-01-15T08:10:00Z",
        "resources": [],
        "detail": {
            "providerType": "GitHub", "commit": "8d2f0c1", "repositoryName": "acme/infra",
            "branch": "main", "syncType": "CFN_STACK_SYNC",
            "syncTarget": format!("arn:aws:cloudformation:eu-west-1:123456789012:stack/{STACK}/2a8e1c40"),
            "status": status, "previousStatus": "IN_PROGRESS"
        }
    })
}

#[tokio::test]
async fn a_new_blocker_is_alerted_once_across_duplicate_events() {
    let w = watcher();
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.api.set_stack_sync(
        STACK,
        SyncAttempt {
            status: SyncStatus::Failed,
            started_at: None,
            events: vec![SyncAttemptEvent {
                time: None,
                kind: "CLOUDFORMATION".into(),
                message: "UPDATE_FAILED: MyBucket".into(),
                external_id: None,
            }],
        },
    );
    let first = w.handle(resource_event("FAILED")).await.expect("handles");
    assert_eq!((first.active_blockers, first.published), (1, 1));
    for _ in 0..2 {
        let again = w.handle(resource_event("FAILED")).await.expect("handles");
        assert_eq!((again.published, again.already_sent), (0, 1));
    }
    let published = w.outbox.notifier().published();
    assert_eq!(published.len(), 1);
    let alert = &published[0];
    assert_eq!(
        alert.subject,
        "[gitsync-guard] Git sync blocked: stack payments-api"
    );
    assert!(alert.message.contains("Bucket already exists"));
    assert!(alert.message.contains("UPDATE_FAILED: MyBucket"));
    assert!(
        alert
            .message
            .contains("Created:     2027-01-15T08:00:00Z (10m ago)")
    );
    assert!(
        alert.message.contains("--region eu-west-1 --id b-1"),
        "the event's region is used"
    );
    assert!(alert.attributes.contains(&("stack".into(), STACK.into())));
}

#[tokio::test]
async fn concurrent_duplicates_alert_once() {
    let w = watcher();
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.outbox.notifier().set_delay(Duration::from_millis(30));
    let (a, b, c) = tokio::join!(
        w.handle(resource_event("FAILED")),
        w.handle(resource_event("FAILED")),
        w.handle(resource_event("FAILED"))
    );
    for outcome in [a, b, c] {
        outcome.expect("no invocation fails");
    }
    assert_eq!(w.outbox.notifier().published().len(), 1);
}

#[tokio::test]
async fn a_failed_publish_fails_the_invocation_and_the_retry_delivers() {
    let w = watcher();
    w.api.set_blockers(
        STACK,
        vec![
            blocker("b-1", BlockerStatus::Active),
            blocker("b-2", BlockerStatus::Active),
        ],
    );
    w.outbox.notifier().fail_next(1);
    let err = w
        .handle(resource_event("FAILED"))
        .await
        .expect_err("must fail");
    assert!(
        err.to_string()
            .contains("1 of 2 alerts for stack payments-api were not published"),
        "{err}"
    );
    assert_eq!(w.outbox.notifier().published().len(), 1);
    let retry = w
        .handle(resource_event("FAILED"))
        .await
        .expect("retry succeeds");
    assert_eq!((retry.published, retry.already_sent), (1, 1));
    assert_eq!(w.outbox.notifier().published().len(), 2);
}

#[tokio::test]
async fn recovery_is_announced_once_and_closes_the_entries() {
    let w = watcher();
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.handle(resource_event("FAILED")).await.expect("alerts");
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Resolved)]);
    let recovered = w
        .handle(resource_event("SUCCEEDED"))
        .await
        .expect("recovers");
    assert!(recovered.recovered);
    assert_eq!(recovered.published, 1);
    let again = w.handle(resource_event("SUCCEEDED")).await.expect("quiet");
    assert!(!again.recovered);
    assert_eq!(again.published, 0);
    let published = w.outbox.notifier().published();
    assert_eq!(published.len(), 2);
    assert_eq!(
        published[1].subject,
        "[gitsync-guard] Git sync recovered: stack payments-api"
    );
    assert!(published[1].message.contains("b-1: Renamed the bucket"));
    assert!(
        published[1]
            .attributes
            .contains(&("kind".into(), "recovery".into()))
    );
    assert_eq!(
        w.store
            .state(&LedgerKey::blocker_alert("payments-api", "b-1")),
        Some(EntryState::Closed)
    );
}

#[tokio::test]
async fn a_stack_that_never_alerted_gets_no_recovery_notice() {
    let w = watcher();
    w.api
        .set_blockers(STACK, vec![blocker("b-0", BlockerStatus::Resolved)]);
    let outcome = w
        .handle(resource_event("SUCCEEDED"))
        .await
        .expect("handles");
    assert_eq!((outcome.published, outcome.recovered), (0, false));
    assert!(w.outbox.notifier().published().is_empty());
}

#[tokio::test]
async fn a_failed_repository_sync_is_alerted_once_with_its_events() {
    let w = watcher();
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(T0);
    w.api.set_repository_sync(
        "link-1",
        "main",
        SyncAttempt {
            status: SyncStatus::Failed,
            started_at: Some(started),
            events: vec![SyncAttemptEvent {
                time: Some(started),
                kind: "PARSING".into(),
                message: "deployment file not found: deployment.yaml".into(),
                external_id: None,
            }],
        },
    );
    let event = json!({
        "source": "aws.codeconnections", "detail-type": "GitSync Repository Sync Status Change",
        "detail": {"repositoryLinkId": "link-1", "branch": "main", "repositoryName": "infra",
                   "status": "FAILED", "previousSync": "IN_PROGRESS"}
    });
    for _ in 0..2 {
        w.handle(event.clone()).await.expect("handles");
    }
    let published = w.outbox.notifier().published();
    assert_eq!(published.len(), 1);
    assert!(published[0].message.contains("deployment file not found"));
    assert!(
        published[0]
            .attributes
            .contains(&("kind".into(), "repository-sync".into()))
    );
}

#[tokio::test]
async fn other_events_are_ignored_successfully() {
    let w = watcher();
    for event in [
        json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
        json!({"source": "aws.codeconnections", "detail-type": "Git Sync Repository Sync Status Change",
               "detail": {"repositoryLinkId": "l", "branch": "main", "status": "SUCCEEDED"}}),
    ] {
        let outcome = w.handle(event).await.expect("ignored, not failed");
        assert_eq!(outcome.action, "ignored");
    }
    assert_eq!(w.api.calls("GetSyncBlockerSummary"), 0);
    assert!(w.outbox.notifier().published().is_empty());
}

#[tokio::test]
async fn malformed_events_are_errors_that_say_what_is_missing() {
    let w = watcher();
    let cases = [
        (json!(42), "not a JSON object"),
        (
            json!({"source": "aws.codeconnections", "detail-type": "Git Sync Resource Sync Status Change", "detail": {"status": "FAILED"}}),
            "names no stack",
        ),
        (
            json!({"source": "aws.codeconnections", "detail-type": "Git Sync Repository Sync Status Change", "detail": {"status": "FAILED", "branch": "main"}}),
            "`detail.repositoryLinkId` is missing",
        ),
    ];
    for (event, expected) in cases {
        let err = w.handle(event).await.expect_err(expected);
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[tokio::test]
async fn api_failures_fail_the_invocation_but_a_missing_sync_configuration_does_not() {
    let w = watcher();
    let ignored = w
        .handle(resource_event("FAILED"))
        .await
        .expect("unknown stack ignored");
    assert_eq!(ignored.action, "ignored");
    w.api.fail("GetSyncBlockerSummary", ApiErrorKind::Throttled);
    let err = w
        .handle(resource_event("FAILED"))
        .await
        .expect_err("throttled");
    assert!(matches!(err, WatcherError::Api(_)), "{err}");
    assert!(
        err.to_string().contains("GetSyncBlockerSummary throttled"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_sync_attempt_does_not_cost_the_alert() {
    let w = watcher();
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.api.fail("GetResourceSyncStatus", ApiErrorKind::Other);
    let outcome = w
        .handle(json!({"stack": STACK}))
        .await
        .expect("alerts anyway");
    assert_eq!(outcome.published, 1);
    assert!(
        w.outbox.notifier().published()[0]
            .message
            .contains("--region us-east-1")
    );
}

/// The sample events shipped in events/sync-watcher are what they claim to be.
#[test]
fn the_sample_events_parse() {
    use gitsync::domain::event::Incoming;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/sync-watcher");
    let parse = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).expect(name);
        let value: Value = serde_json::from_str(&text).expect(name);
        Incoming::parse(&value).expect(name)
    };
    assert!(matches!(parse("resource-sync-failed.json"),
        Incoming::ResourceSync(e) if e.stack == STACK && e.status == Some(SyncStatus::Failed)));
    assert!(matches!(parse("resource-sync-succeeded.json"),
        Incoming::ResourceSync(e) if e.previous_status == Some(SyncStatus::Failed)));
    assert!(matches!(parse("repository-sync-failed.json"),
        Incoming::RepositorySync(e) if e.repository_link_id.as_deref() == Some("6053346f-8a33-4edb-9397-10394b3b2d4b")));
    assert_eq!(
        parse("check-stack.json"),
        Incoming::StackRequest {
            stack: STACK.into()
        }
    );
    assert_eq!(parse("test-alert.json"), Incoming::TestAlert);
    assert_eq!(parse("scheduler-input.json"), Incoming::Schedule);
}

const HOUR: Duration = Duration::from_secs(3600);
const CONNECTION: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/c-1";

fn schedule() -> Value {
    json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
}

/// `stacks` under Git sync through one link on CONNECTION.
fn under_git_sync(w: &FakeWatcher, stacks: &[&str]) {
    w.api.add_link(RepositoryLink {
        id: "l-1".into(),
        arn: "arn:aws:codestar-connections:us-east-1:123456789012:repository-link/l-1".into(),
        connection_arn: CONNECTION.into(),
        provider: "GitHub".into(),
        owner: "acme".into(),
        repository: "infra".into(),
    });
    for stack in stacks {
        w.api.add_sync_configuration(SyncConfiguration {
            stack: (*stack).into(),
            repository_link_id: "l-1".into(),
            branch: "main".into(),
            config_file: None,
            owner: "acme".into(),
            repository: "infra".into(),
            provider: "GitHub".into(),
        });
    }
}

fn subjects(w: &FakeWatcher) -> Vec<String> {
    w.outbox
        .notifier()
        .published()
        .into_iter()
        .map(|alert| alert.subject)
        .collect()
}

#[tokio::test]
async fn the_sweep_alerts_a_blocker_whose_event_was_lost_once() {
    let mut w = watcher();
    w.settings.health_report = HealthReport::Off; // the report has its own tests
    under_git_sync(&w, &[STACK, "quiet-stack"]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    let first = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(
        (first.action, first.stacks, first.published),
        ("swept", 2, 1)
    );
    let again = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(again.published, 0);
    // The event arrives late: nothing new either.
    let late = w.handle(resource_event("FAILED")).await.expect("handles");
    assert_eq!((late.published, late.already_sent), (0, 1));
    assert_eq!(
        subjects(&w),
        ["[gitsync-guard] Git sync blocked: stack payments-api"]
    );
    assert_eq!(
        w.api.calls("GetSyncBlockerSummary"),
        5,
        "one per stack per sweep, one for the event"
    );
}

#[tokio::test]
async fn the_event_and_the_sweep_together_alert_once() {
    let mut w = watcher();
    w.settings.health_report = HealthReport::Off; // the report has its own tests
    under_git_sync(&w, &[STACK]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.outbox.notifier().set_delay(Duration::from_millis(30));
    let (sweep, event) = tokio::join!(w.handle(schedule()), w.handle(resource_event("FAILED")));
    sweep.expect("sweeps");
    event.expect("handles");
    assert_eq!(w.outbox.notifier().published().len(), 1);
}

#[tokio::test]
async fn a_blocker_still_active_is_reminded_once_per_interval_and_not_after_it_is_resolved() {
    let mut w = watcher();
    w.settings.health_report = HealthReport::Off; // the report has its own tests
    under_git_sync(&w, &[STACK]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.handle(schedule()).await.expect("alerts");
    w.outbox.clock().advance(23 * HOUR);
    w.handle(schedule()).await.expect("too early");
    assert_eq!(w.outbox.notifier().published().len(), 1);
    w.outbox.clock().advance(HOUR);
    for _ in 0..2 {
        w.handle(schedule()).await.expect("reminds");
        w.handle(resource_event("FAILED"))
            .await
            .expect("a duplicate path");
    }
    let published = w.outbox.notifier().published();
    assert_eq!(published.len(), 2, "one reminder in the first interval");
    let reminder = &published[1];
    assert_eq!(
        reminder.subject,
        "[gitsync-guard] Git sync still blocked: stack payments-api, for 1day 10m"
    );
    assert!(
        reminder
            .attributes
            .contains(&("kind".into(), "reminder".into()))
    );
    for expected in [
        "Blocked for:   1day 10m",
        "Reason:",
        "update-sync-blocker --region us-east-1 --id b-1",
    ] {
        assert!(
            reminder.message.contains(expected),
            "{expected:?} in {}",
            reminder.message
        );
    }
    w.outbox.clock().advance(24 * HOUR);
    w.handle(schedule()).await.expect("reminds again");
    assert_eq!(
        w.outbox.notifier().published().len(),
        3,
        "one more in the second interval"
    );
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Resolved)]);
    w.outbox.clock().advance(24 * HOUR);
    w.handle(schedule()).await.expect("recovers");
    let subjects = subjects(&w);
    assert_eq!(subjects.len(), 4);
    assert_eq!(
        subjects[3],
        "[gitsync-guard] Git sync recovered: stack payments-api"
    );
    w.outbox.clock().advance(48 * HOUR);
    w.handle(schedule()).await.expect("quiet");
    assert_eq!(
        w.outbox.notifier().published().len(),
        4,
        "no reminder after the recovery"
    );
}

fn unhealthy_connection() -> StatusRecord {
    StatusRecord {
        arn: CONNECTION.into(),
        kind: ResourceKind::Connection,
        name: Some("acme-github".into()),
        status: "ERROR".into(),
        since: SystemTime::UNIX_EPOCH + Duration::from_secs(T0 - 7200),
        last_alerted_at: None,
    }
}

#[tokio::test]
async fn the_daily_report_lists_what_is_wrong_once_a_day() {
    let w = watcher(); // 2027-01-15T08:10Z: past the default 08:00
    under_git_sync(&w, &[STACK, "orders-api"]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.store
        .save_status(&unhealthy_connection())
        .await
        .expect("saved");
    w.store.record_sent(
        LedgerKey::resolver("orders-api", Mode::Enforce, ResolverItem::Resolution, "b-9"),
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 - 3600),
    );
    let first = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(first.report, Some("published"));
    w.handle(schedule()).await.expect("sweeps again");
    let reports: Vec<_> = w
        .outbox
        .notifier()
        .published()
        .into_iter()
        .filter(|alert| alert.attributes.contains(&("kind".into(), "report".into())))
        .collect();
    assert_eq!(reports.len(), 1, "one report a day");
    let report = &reports[0];
    assert_eq!(
        report.subject,
        "[gitsync-guard] Git sync health: 1 blocked stack(s), 1 unhealthy connection(s) or host(s)"
    );
    for expected in [
        "payments-api: blocked since 2027-01-15T08:00:00Z",
        "blocker b-1: Resource handler returned message",
        &format!("Connection acme-github ({CONNECTION}) is ERROR since"),
        "stalls 2 stack(s): orders-api, payments-api",
        "orders-api: blocker b-9 resolved (enforce)",
    ] {
        assert!(
            report.message.contains(expected),
            "{expected:?} in {}",
            report.message
        );
    }
    w.outbox.clock().advance(24 * HOUR);
    let next_day = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(
        next_day.report,
        Some("published"),
        "the next day has its own"
    );
}

#[tokio::test]
async fn a_healthy_day_sends_no_report_unless_always_and_none_when_off() {
    let mut w = watcher();
    under_git_sync(&w, &[STACK]);
    let outcome = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(outcome.report, Some("healthy"));
    assert!(w.outbox.notifier().published().is_empty());
    w.settings.health_report = HealthReport::Always;
    w.outbox.clock().advance(24 * HOUR);
    other_jobs_ran(&w).await;
    w.handle(schedule()).await.expect("sweeps");
    assert_eq!(subjects(&w), ["[gitsync-guard] Git sync health: all clear"]);
    w.settings.health_report = HealthReport::Off;
    w.outbox.clock().advance(24 * HOUR);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    let off = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(off.report, Some("off"));
    assert_eq!(subjects(&w).len(), 2, "the blocker's alert, no report");
}

/// blocker-resolver's sweep and connection-auditor's audit completed just now.
async fn other_jobs_ran(w: &FakeWatcher) {
    for job in [Job::Sweep, Job::Audit] {
        let now = w.outbox.clock().now();
        w.store.record_heartbeat(job, now).await.expect("records");
    }
}

#[tokio::test]
async fn a_complete_sweep_records_its_heartbeat_and_an_incomplete_one_does_not() {
    let w = watcher();
    under_git_sync(&w, &[STACK]);
    w.handle(schedule()).await.expect("sweeps");
    let first = w.store.heartbeats().await.expect("reads");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].job, Job::Watch);
    assert_eq!(first[0].completed_at, w.outbox.clock().now());
    w.outbox.clock().advance(HOUR);
    w.api
        .fail("GetSyncBlockerSummary", ApiErrorKind::AccessDenied);
    w.handle(schedule()).await.expect_err("incomplete");
    let after = w.store.heartbeats().await.expect("reads");
    assert_eq!(
        after, first,
        "a sweep that could not read a stack is no heartbeat"
    );
}

#[tokio::test]
async fn the_report_flags_a_job_that_stopped_and_says_when_each_last_completed() {
    let w = watcher();
    under_git_sync(&w, &[STACK]);
    other_jobs_ran(&w).await;
    w.handle(schedule())
        .await
        .expect("sweeps: healthy, no report");
    assert!(w.outbox.notifier().published().is_empty());
    // A day later the auditor still runs, blocker-resolver's sweep has not run since.
    w.outbox.clock().advance(24 * HOUR);
    let now = w.outbox.clock().now();
    w.store
        .record_heartbeat(Job::Audit, now)
        .await
        .expect("records");
    let outcome = w.handle(schedule()).await.expect("sweeps");
    assert_eq!(
        outcome.report,
        Some("published"),
        "an overdue job is unhealthy"
    );
    let published = w.outbox.notifier().published();
    let report = published.last().expect("the report");
    assert_eq!(
        report.subject,
        "[gitsync-guard] Git sync health: 1 gitsync-guard job(s) OVERDUE, 0 blocked stack(s), 0 unhealthy"
    );
    for expected in [
        "blocker-resolver's sweep (every 1h): last complete run 2027-01-15T08:10:00Z (1day ago) - OVERDUE",
        "sync-watcher's sweep (every 1h): last complete run 2027-01-16T08:10:00Z (0s ago)",
        "connection-auditor's audit (every 15m): last complete run 2027-01-16T08:10:00Z",
    ] {
        assert!(
            report.message.contains(expected),
            "{expected:?} in {}",
            report.message
        );
    }
}

#[tokio::test]
async fn the_test_job_publishes_one_test_alert_and_writes_nothing() {
    let w = watcher();
    under_git_sync(&w, &[STACK]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    let outcome = w
        .handle(json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "test"}}))
        .await
        .expect("publishes");
    assert_eq!(outcome.action, "test");
    let published = w.outbox.notifier().published();
    assert_eq!(published.len(), 1, "the test alert only, no blocker alert");
    assert!(
        published[0]
            .attributes
            .contains(&("kind".to_owned(), "test".to_owned()))
    );
    assert!(published[0].message.contains("sync-watcher"));
    assert_eq!(w.store.item_count(), 0, "nothing a later run reads");
    assert_eq!(w.api.calls("GetSyncBlockerSummary"), 0, "no Git sync call");
}

#[tokio::test]
async fn a_sweep_that_cannot_list_fails_after_checking_what_it_could() {
    let mut w = watcher();
    w.settings.health_report = HealthReport::Off; // the report has its own tests
    under_git_sync(&w, &[STACK]);
    w.api.fail("ListRepositoryLinks", ApiErrorKind::Throttled);
    let err = w.handle(schedule()).await.expect_err("incomplete");
    assert!(
        err.to_string().contains("listing repository links"),
        "{err}"
    );
}

#[tokio::test]
async fn a_new_blocker_and_a_complete_sweep_put_their_events_once() {
    let w = watcher();
    under_git_sync(&w, &[STACK]);
    w.api
        .set_blockers(STACK, vec![blocker("b-1", BlockerStatus::Active)]);
    w.handle(resource_event("FAILED")).await.expect("alerts");
    w.handle(resource_event("FAILED"))
        .await
        .expect("a duplicate");
    w.handle(schedule()).await.expect("sweeps");
    let events = w.outbox.notifier().events();
    let types: Vec<&str> = events.iter().map(|event| event.detail_type).collect();
    assert_eq!(
        types,
        ["GitSync Blocker Detected", "GitSync Health Snapshot"]
    );
    let detected = events[0].detail_json();
    assert_eq!(
        detected["key"],
        LedgerKey::blocker_alert(STACK, "b-1").to_string()
    );
    assert_eq!(detected["blockerId"], "b-1");
    assert_eq!(detected["account"], "123456789012");
    let snapshot = events[1].detail_json();
    assert_eq!(snapshot["openBlockers"][0]["blockerId"], "b-1");
    assert_eq!(snapshot["jobs"][0]["job"], "watch");
}
