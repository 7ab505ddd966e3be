//! The auditor's runs, driven through in-memory ports.

use std::time::{Duration, SystemTime};

use connection_auditor::settings::AuditSettings;
use connection_auditor::{Auditor, AuditorError};
use gitsync::domain::alert::RenderedAlert;
use gitsync::domain::connections::{Connection, ConnectionStatus, Host};
use gitsync::domain::sync::{RepositoryLink, SyncConfiguration};
use gitsync::fakes::{
    FakeOutbox, InMemoryConnections, InMemoryGitSync, InMemoryLedger, fake_outbox,
};
use gitsync::ports::{ApiError, ApiErrorKind, ConnectionsApi, StatusStore};
use serde_json::{Value, json};

type FakeAuditor<C = InMemoryConnections> = Auditor<C, InMemoryGitSync, InMemoryLedger, FakeOutbox>;

const T0: u64 = 1_800_000_000;
const HOUR: Duration = Duration::from_secs(3600);
const PREFIX: &str = "arn:aws:codestar-connections:us-east-1:123456789012";
const RENAMED: &str = "arn:aws:codeconnections:us-east-1:123456789012";

fn connection_arn(id: &str) -> String {
    format!("{PREFIX}:connection/{id}")
}

fn host_arn(id: &str) -> String {
    format!("{PREFIX}:host/{id}")
}

fn connection(id: &str, provider: &str, status: &str, host: Option<&str>) -> Connection {
    Connection {
        arn: connection_arn(id),
        name: id.into(),
        provider: provider.into(),
        status: ConnectionStatus::parse(status),
        host_arn: host.map(host_arn),
    }
}

fn host(id: &str, status: &str) -> Host {
    Host {
        arn: host_arn(id),
        name: id.into(),
        provider: "GitHubEnterpriseServer".into(),
        endpoint: Some("https://github.corp.example.com".into()),
        status: status.into(),
        status_message: None,
    }
}

fn auditor_with<C: ConnectionsApi>(connections: C) -> FakeAuditor<C> {
    let store = InMemoryLedger::default();
    Auditor {
        connections,
        git_sync: InMemoryGitSync::default(),
        outbox: fake_outbox(
            connection_auditor::FUNCTION_NAME,
            SystemTime::UNIX_EPOCH + Duration::from_secs(T0),
            &store,
        ),
        store,
        settings: AuditSettings::default(),
        region: "us-east-1".into(),
    }
}

/// The emulator's demo account in miniature: a revoked Bitbucket connection with one stack,
/// a GitHub connection never completed with one stack, a healthy GitHub connection with two,
/// and a healthy host with a connection whose link's ARN uses the renamed prefix.
fn demo() -> FakeAuditor {
    let auditor = auditor_with(InMemoryConnections::default());
    list_connections(&auditor, ["ERROR", "PENDING", "AVAILABLE", "AVAILABLE"]);
    auditor
        .connections
        .set_hosts(vec![host("ghes", "AVAILABLE")]);
    for (link, connection_arn, stacks) in [
        (
            "l-batch",
            connection_arn("bitbucket"),
            &["legacy-batch-jobs"][..],
        ),
        (
            "l-data",
            connection_arn("data-github"),
            &["analytics-pipelines"],
        ),
        (
            "l-platform",
            connection_arn("acme-github"),
            &["platform-vpc", "platform-iam"],
        ),
        (
            "l-network",
            format!("{RENAMED}:connection/acme-ghes"),
            &["network-baseline"],
        ),
    ] {
        auditor.git_sync.add_link(RepositoryLink {
            id: link.into(),
            arn: format!("{RENAMED}:repository-link/{link}"),
            connection_arn,
            provider: "GitHub".into(),
            owner: "acme".into(),
            repository: link.trim_start_matches("l-").into(),
        });
        for stack in stacks {
            auditor.git_sync.add_sync_configuration(SyncConfiguration {
                stack: (*stack).into(),
                repository_link_id: link.into(),
                branch: "main".into(),
                config_file: None,
                owner: "acme".into(),
                repository: link.trim_start_matches("l-").into(),
                provider: "GitHub".into(),
            });
        }
    }
    auditor
}

fn schedule() -> Value {
    json!({
        "version": "0", "id": "8b7a6c5d-0000-4000-8000-000000000001",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2027-01-15T08:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/connection-auditor"],
        "detail": {}
    })
}

/// Lists the demo's connections with these statuses: bitbucket, data-github, acme-github,
/// acme-ghes.
fn list_connections(auditor: &FakeAuditor, [bitbucket, data, github, ghes]: [&str; 4]) {
    auditor.connections.set_connections(vec![
        connection("bitbucket", "Bitbucket", bitbucket, None),
        connection("data-github", "GitHub", data, None),
        connection("acme-github", "GitHub", github, None),
        connection("acme-ghes", "GitHubEnterpriseServer", ghes, Some("ghes")),
    ]);
}

fn published(auditor: &FakeAuditor) -> Vec<RenderedAlert> {
    auditor.outbox.notifier().published()
}

fn assert_contains(alert: &RenderedAlert, expected: &[&str]) {
    for text in expected {
        assert!(
            alert.message.contains(text),
            "missing {text:?} in:\n{}",
            alert.message
        );
    }
}

fn attribute<'a>(alert: &'a RenderedAlert, name: &str) -> Option<&'a str> {
    alert
        .attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_first_run_sends_one_digest_with_every_unhealthy_connection_and_its_stacks() {
    let auditor = demo();
    let outcome = auditor.handle(schedule()).await.expect("audits");
    assert_eq!(
        (
            outcome.connections,
            outcome.unhealthy_connections,
            outcome.hosts,
            outcome.stacks_affected,
            outcome.changes,
            outcome.digest
        ),
        (4, 2, 1, 2, 2, "published")
    );
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 1);
    let digest = &alerts[0];
    assert_eq!(
        digest.subject,
        "[gitsync-guard] Connection audit: 2 newly unhealthy; 2 stacks stalled"
    );
    assert_eq!(attribute(digest, "kind"), Some("connection"));
    assert_eq!(attribute(digest, "severity"), Some("critical"));
    assert_contains(
        digest,
        &[
            "Connection bitbucket: ERROR, newly unhealthy:",
            "Repository acme/batch (link l-batch): stacks legacy-batch-jobs (main)",
            "Connection data-github: PENDING, newly unhealthy:",
            "Repository acme/data (link l-data): stacks analytics-pipelines (main)",
            "Connections:    4 audited, 2 unhealthy",
            "Audit:          complete",
        ],
    );
    assert!(
        !digest.message.contains("platform-vpc"),
        "healthy stacks are not listed"
    );
    // Only the links behind unhealthy connections are asked for their stacks.
    assert_eq!(auditor.git_sync.calls("ListSyncConfigurations"), 2);

    let again = auditor.handle(schedule()).await.expect("audits");
    assert_eq!((again.changes, again.digest), (0, "none"));
    assert_eq!(published(&auditor).len(), 1, "nothing new, nothing sent");
}

#[tokio::test]
async fn a_status_change_a_host_failure_and_a_recovery_share_one_digest() {
    let auditor = demo();
    auditor.handle(schedule()).await.expect("first run");
    list_connections(&auditor, ["AVAILABLE", "ERROR", "AVAILABLE", "AVAILABLE"]);
    auditor.connections.set_hosts(vec![Host {
        status_message: Some("subnet-0abc cannot reach github.corp.example.com".into()),
        ..host("ghes", "VPC_CONFIG_FAILED_INITIALIZATION")
    }]);
    auditor.outbox.clock().advance(HOUR);

    let outcome = auditor.handle(schedule()).await.expect("audits");
    assert_eq!((outcome.changes, outcome.unhealthy_hosts), (3, 1));
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 2);
    let digest = &alerts[1];
    assert_eq!(
        digest.subject,
        "[gitsync-guard] Connection audit: 1 newly unhealthy, 1 changed, 1 recovered; 2 stacks stalled"
    );
    assert_eq!(attribute(digest, "severity"), Some("critical"));
    assert_contains(
        digest,
        &[
            "Host ghes: VPC_CONFIG_FAILED_INITIALIZATION, newly unhealthy:",
            "Status message: subnet-0abc cannot reach github.corp.example.com",
            "Repository acme/network (link l-network) through connection acme-ghes (AVAILABLE): stacks network-baseline (main)",
            "Connection data-github: PENDING -> ERROR:",
            "Connection bitbucket: AVAILABLE again (was ERROR):",
            "Was ERROR since: 2027-01-15T08:00:00Z (1h ago)",
        ],
    );
}

#[tokio::test]
async fn a_reminder_comes_after_the_interval_and_not_before() {
    let auditor = demo();
    auditor.handle(schedule()).await.expect("first run");
    auditor.outbox.clock().advance(23 * HOUR);
    let early = auditor.handle(schedule()).await.expect("audits");
    assert_eq!(early.digest, "none");

    auditor.outbox.clock().advance(HOUR);
    let due = auditor.handle(schedule()).await.expect("audits");
    assert_eq!((due.changes, due.digest), (2, "published"));
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts[1].subject,
        "[gitsync-guard] Connection audit: 2 still unhealthy; 2 stacks stalled"
    );
    assert_contains(
        &alerts[1],
        &[
            "Connection bitbucket: still ERROR (reminder):",
            "First seen ERROR: 2027-01-15T08:00:00Z (1day ago)",
            "Last alerted: 2027-01-15T08:00:00Z (1day ago)",
        ],
    );

    auditor.outbox.clock().advance(HOUR);
    auditor.handle(schedule()).await.expect("audits");
    assert_eq!(
        published(&auditor).len(),
        2,
        "the next reminder waits a full interval"
    );
}

#[tokio::test]
async fn a_recovery_is_announced_once_and_a_later_incident_alerts_again() {
    let auditor = demo();
    auditor.handle(schedule()).await.expect("first run");
    list_connections(&auditor, ["AVAILABLE"; 4]);
    auditor.outbox.clock().advance(HOUR);
    let recovered = auditor.handle(schedule()).await.expect("audits");
    assert_eq!(recovered.changes, 2);
    auditor.handle(schedule()).await.expect("audits");
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 2, "one recovery digest");
    assert_eq!(
        alerts[1].subject,
        "[gitsync-guard] Connection audit: 2 recovered"
    );
    assert_eq!(attribute(&alerts[1], "severity"), Some("info"));

    // The very same breakage as the first run: a new incident, not a duplicate of it.
    auditor.outbox.clock().advance(HOUR);
    list_connections(&auditor, ["ERROR", "PENDING", "AVAILABLE", "AVAILABLE"]);
    let again = auditor.handle(schedule()).await.expect("audits");
    assert_eq!(again.digest, "published", "{again:?}");
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[2].subject, alerts[0].subject);
}

#[tokio::test]
async fn a_muted_connection_is_counted_but_not_alerted_until_unmuted() {
    let auditor = demo();
    auditor.connections.set_tags(
        &connection_arn("data-github"),
        vec![("gitsync-guard:mute".into(), "true".into())],
    );
    let outcome = auditor.handle(schedule()).await.expect("audits");
    assert_eq!(
        (
            outcome.unhealthy_connections,
            outcome.muted,
            outcome.changes
        ),
        (2, 1, 1)
    );
    let alerts = published(&auditor);
    assert_eq!(
        alerts[0].subject,
        "[gitsync-guard] Connection bitbucket is ERROR: 1 stack stalled"
    );
    assert_contains(
        &alerts[0],
        &["Muted:          1 unhealthy resource(s) not alerted (gitsync-guard:mute=true)"],
    );
    assert!(!alerts[0].message.contains("Connection data-github"));

    auditor
        .connections
        .set_tags(&connection_arn("data-github"), vec![]);
    let unmuted = auditor.handle(schedule()).await.expect("audits");
    assert_eq!((unmuted.changes, unmuted.muted), (1, 0));
    assert_eq!(
        published(&auditor)[1].subject,
        "[gitsync-guard] Connection data-github is PENDING: 1 stack stalled"
    );
}

#[tokio::test]
async fn unreadable_tags_still_alert_and_the_run_reports_an_incomplete_audit() {
    let auditor = demo();
    auditor.connections.fail_tags(&connection_arn("bitbucket"));
    let err = auditor.handle(schedule()).await.expect_err("incomplete");
    assert!(
        matches!(err, AuditorError::Incomplete { count: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("connection bitbucket: ListTagsForResource failed")
            && err.to_string().contains("the digest lists what failed"),
        "{err}"
    );
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 1);
    assert_contains(
        &alerts[0],
        &[
            "Audit:          INCOMPLETE: 1 call(s) failed (listed below)",
            "Its tags could not be read: alerted, although it may be muted",
            "Audit incomplete: these calls failed:\n  - connection bitbucket: ListTagsForResource failed: injected by the test",
        ],
    );
    // Lambda's retry: the changes were recorded, nothing is sent twice.
    let retry = auditor.handle(schedule()).await.expect("complete now");
    assert_eq!(retry.digest, "none");
    assert_eq!(published(&auditor).len(), 1);
}

#[tokio::test]
async fn unknown_stacks_are_reported_and_fail_the_run_after_the_digest() {
    let auditor = demo();
    auditor
        .git_sync
        .fail("ListSyncConfigurations", ApiErrorKind::Throttled);
    let err = auditor.handle(schedule()).await.expect_err("incomplete");
    assert!(
        matches!(err, AuditorError::Incomplete { count: 2, .. }),
        "{err}"
    );
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 1);
    assert_contains(
        &alerts[0],
        &[
            "Repository acme/batch (link l-batch): stacks unknown (ListSyncConfigurations failed)",
            "repository link acme/batch (l-batch): ListSyncConfigurations throttled",
        ],
    );

    auditor.git_sync.heal("ListSyncConfigurations");
    auditor
        .git_sync
        .fail("ListRepositoryLinks", ApiErrorKind::AccessDenied);
    list_connections(&auditor, ["ERROR", "PENDING", "PENDING", "AVAILABLE"]);
    let err = auditor.handle(schedule()).await.expect_err("incomplete");
    assert!(
        err.to_string()
            .contains("every repository link: ListRepositoryLinks access denied"),
        "{err}"
    );
    assert_contains(
        &published(&auditor)[1],
        &["Repository links and stacks: unknown (ListRepositoryLinks failed)"],
    );
}

#[tokio::test]
async fn a_failed_publish_saves_nothing_and_the_retry_sends_the_same_digest() {
    let auditor = demo();
    auditor.outbox.notifier().fail_next(1);
    let err = auditor.handle(schedule()).await.expect_err("not published");
    assert!(
        matches!(err, AuditorError::Publish { changes: 2, .. }),
        "{err}"
    );
    assert!(auditor.store.statuses().await.expect("records").is_empty());
    assert!(published(&auditor).is_empty());

    auditor.outbox.clock().advance(Duration::from_secs(90));
    let retry = auditor.handle(schedule()).await.expect("retry publishes");
    assert_eq!(retry.digest, "published");
    assert_eq!(published(&auditor).len(), 1);
    assert_eq!(auditor.store.statuses().await.expect("records").len(), 2);
}

#[tokio::test]
async fn concurrent_runs_send_one_digest() {
    let auditor = demo();
    auditor
        .outbox
        .notifier()
        .set_delay(Duration::from_millis(30));
    let (a, b, c) = tokio::join!(
        auditor.handle(schedule()),
        auditor.handle(schedule()),
        auditor.handle(schedule())
    );
    let digests: Vec<&str> = [a, b, c]
        .iter()
        .map(|run| run.as_ref().expect("no run fails").digest)
        .collect();
    assert_eq!(
        digests.iter().filter(|d| **d == "published").count(),
        1,
        "{digests:?}"
    );
    assert_eq!(published(&auditor).len(), 1);
}

/// A connections API whose listing fails.
struct UnreachableConnections;

impl ConnectionsApi for UnreachableConnections {
    async fn connections(&self, _: Option<&str>) -> Result<Vec<Connection>, ApiError> {
        Err(ApiError {
            operation: "ListConnections",
            kind: ApiErrorKind::AccessDenied,
            message: "AccessDeniedException: not authorized".into(),
        })
    }

    async fn hosts(&self) -> Result<Vec<Host>, ApiError> {
        Ok(Vec::new())
    }

    async fn tags(&self, _: &str) -> Result<Vec<(String, String)>, ApiError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_failed_listing_is_an_error_and_alerts_nothing() {
    let auditor = auditor_with(UnreachableConnections);
    let err = auditor
        .handle(schedule())
        .await
        .expect_err("listing failed");
    assert!(matches!(err, AuditorError::Listing { .. }));
    assert!(
        err.to_string()
            .contains("listing connections (ListConnections) failed, nothing was audited: ListConnections access denied"),
        "{err}"
    );
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ListingFailed");
    assert!(auditor.outbox.notifier().published().is_empty());
}

#[tokio::test]
async fn a_provider_filter_audits_only_that_provider_and_forgets_no_other_record() {
    let auditor = demo();
    auditor
        .handle(schedule())
        .await
        .expect("unfiltered first run");
    let filtered = Auditor {
        settings: AuditSettings {
            provider_filter: Some("GitHub".into()),
            ..AuditSettings::default()
        },
        ..auditor
    };
    let outcome = filtered.handle(schedule()).await.expect("audits");
    assert_eq!(
        (outcome.connections, outcome.hosts, outcome.changes),
        (2, 0, 0),
        "GitHub connections only; the GHES host is out of scope"
    );
    let records = filtered.store.statuses().await.expect("records");
    assert!(
        records.iter().any(|r| r.arn == connection_arn("bitbucket")),
        "the Bitbucket record is not taken for deleted"
    );
}

#[tokio::test]
async fn a_deleted_connection_that_was_alerted_is_announced_once() {
    let auditor = demo();
    auditor.handle(schedule()).await.expect("first run");
    auditor.connections.set_connections(vec![
        connection("data-github", "GitHub", "PENDING", None),
        connection("acme-github", "GitHub", "AVAILABLE", None),
        connection(
            "acme-ghes",
            "GitHubEnterpriseServer",
            "AVAILABLE",
            Some("ghes"),
        ),
    ]);
    auditor.handle(schedule()).await.expect("audits");
    auditor.handle(schedule()).await.expect("audits");
    let alerts = published(&auditor);
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts[1].subject,
        "[gitsync-guard] Connection bitbucket deleted while ERROR"
    );
    assert_eq!(attribute(&alerts[1], "severity"), Some("info"));
}

#[tokio::test]
async fn other_events_are_ignored_and_junk_is_an_error() {
    let auditor = demo();
    for event in [
        json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
        json!({"stack": "payments-api"}),
    ] {
        let outcome = auditor.handle(event).await.expect("ignored, not failed");
        assert_eq!(outcome.action, "ignored");
    }
    assert_eq!(auditor.git_sync.calls("ListRepositoryLinks"), 0);
    let err = auditor.handle(json!([1])).await.expect_err("junk");
    assert!(err.to_string().contains("not a JSON object"), "{err}");
    assert!(auditor.outbox.notifier().published().is_empty());
}

/// The sample events shipped in events/connection-auditor start an audit.
#[tokio::test]
async fn the_sample_events_are_schedules() {
    for (name, text) in [
        (
            "schedule.json",
            include_str!("../../../events/connection-auditor/schedule.json"),
        ),
        (
            "scheduler-input.json",
            include_str!("../../../events/connection-auditor/scheduler-input.json"),
        ),
    ] {
        let auditor = demo();
        let event: Value = serde_json::from_str(text).expect(name);
        let outcome = auditor.handle(event).await.expect(name);
        assert_eq!(
            (outcome.action, outcome.digest),
            ("audited", "published"),
            "{name}"
        );
    }
    let test: Value = serde_json::from_str(include_str!(
        "../../../events/connection-auditor/test-alert.json"
    ))
    .expect("test-alert.json");
    assert_eq!(demo().handle(test).await.expect("test").action, "test");
}

#[tokio::test]
async fn the_test_job_publishes_one_test_alert_and_audits_nothing() {
    let auditor = demo();
    let outcome = auditor
        .handle(json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "test"}}))
        .await
        .expect("publishes");
    assert_eq!(outcome.action, "test");
    let published = auditor.outbox.notifier().published();
    assert_eq!(published.len(), 1, "the test alert, no digest");
    assert!(
        published[0]
            .attributes
            .contains(&("kind".to_owned(), "test".to_owned()))
    );
    assert!(published[0].message.contains("connection-auditor"));
    assert_eq!(auditor.store.item_count(), 0, "no status saved");
}

#[tokio::test]
async fn a_complete_audit_records_its_heartbeat_and_a_failed_listing_does_not() {
    use gitsync::domain::selfwatch::Job;
    use gitsync::ports::HeartbeatStore;
    let auditor = demo();
    auditor.handle(schedule()).await.expect("audits");
    let beats = auditor.store.heartbeats().await.expect("reads");
    assert_eq!(beats.len(), 1);
    assert_eq!(beats[0].job, Job::Audit);
    let blind = auditor_with(UnreachableConnections);
    blind.handle(schedule()).await.expect_err("listing failed");
    assert!(
        blind.store.heartbeats().await.expect("reads").is_empty(),
        "an audit that could not list is no heartbeat"
    );
}
