//! connection-auditor end to end: the real binary under `cargo lambda watch`, invoked with
//! the sample schedule event, the real SDK, the emulator (its demo scenario, statuses flipped
//! through the admin API) and moto for SNS, SQS and DynamoDB.
//!
//! Time is moved, not slept: for the reminder the test rewrites the `last_alerted_at` of the
//! status records in moto's table (partition `STATUS_SCOPE`, epoch seconds) 25 hours back,
//! exactly what a day of real time would have left there.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_codestarconnections::types::Tag;
use aws_sdk_dynamodb::types::AttributeValue;
use e2e::{LambdaWatch, ReceivedAlert, WorldBuilder, sample_event};
use gitsync::ledger::STATUS_SCOPE;
use serde_json::{Value, json};

const FUNCTION: &str = "connection-auditor";
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(2);

const BITBUCKET: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/b1e2c3d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
const DATA_TEAM: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/e9d8c7b6-a5f4-4e3d-8c2b-1a0f9e8d7c6b";
/// The demo's host, named here with the renamed prefix: the emulator and the auditor must
/// both take it for the same host.
const GHES_HOST: &str = "arn:aws:codeconnections:us-east-1:123456789012:host/ghes-corp-5e1f2a3b";

/// The shared world with the emulator's demo scenario, and the auditor running with SNS
/// reached through a relay the test can switch off.
struct World {
    base: e2e::World,
    watch: LambdaWatch,
    dynamodb: aws_sdk_dynamodb::Client,
    schedule: Value,
}

impl std::ops::Deref for World {
    type Target = e2e::World;
    fn deref(&self) -> &e2e::World {
        &self.base
    }
}

async fn world(test: &str) -> World {
    let base = WorldBuilder::new(test)
        .scenario("emulator/scenarios/demo.yaml")
        .sns_through_relay()
        .build()
        .await;
    World {
        watch: base.start_functions::<&str>(&[]),
        dynamodb: base.dynamodb(),
        schedule: sample_event("connection-auditor/schedule.json"),
        base,
    }
}

impl World {
    async fn audit_ok(&self) -> Value {
        let invocation = self.watch.invoke(FUNCTION, &self.schedule).await;
        assert!(
            !invocation.failed,
            "invocation failed: {}\n{}",
            invocation.body,
            self.watch.log_text()
        );
        invocation.body
    }

    async fn audit_failing(&self) -> String {
        let invocation = self.watch.invoke(FUNCTION, &self.schedule).await;
        assert!(
            invocation.failed,
            "the invocation should fail: {}",
            invocation.body
        );
        invocation.body.to_string()
    }

    /// Exactly one digest arrives, and nothing after it.
    async fn one_digest(&self) -> ReceivedAlert {
        let mut alerts = self.sink.receive(1, WAIT, QUIET).await;
        assert_eq!(alerts.len(), 1, "exactly one digest: {alerts:#?}");
        alerts.remove(0)
    }

    async fn no_digest(&self) {
        let alerts = self.sink.receive(0, WAIT, QUIET).await;
        assert!(alerts.is_empty(), "nothing should be sent: {alerts:#?}");
    }

    async fn connection_status(&self, arn: &str, status: &str) {
        self.emulator
            .admin(
                "connection-status",
                json!({"ConnectionArn": arn, "Status": status}),
            )
            .await;
    }

    async fn host_status(&self, status: &str) {
        self.emulator
            .admin(
                "host-status",
                json!({"HostArn": GHES_HOST, "Status": status}),
            )
            .await;
    }

    /// Moves every alerted status record's alert and start `hours` into the past.
    async fn age_status_records(&self, hours: u64) {
        let past = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            - hours * 3600;
        let records = self
            .dynamodb
            .query()
            .table_name(&self.sink.table)
            .key_condition_expression("pk = :scope")
            .expression_attribute_values(":scope", AttributeValue::S(STATUS_SCOPE.into()))
            .send()
            .await
            .expect("query the status records");
        let mut aged = 0;
        for record in records.items() {
            if !record.contains_key("last_alerted_at") {
                continue;
            }
            self.dynamodb
                .update_item()
                .table_name(&self.sink.table)
                .key("pk", record["pk"].clone())
                .key("sk", record["sk"].clone())
                .update_expression("SET last_alerted_at = :past, since = :past")
                .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
                .send()
                .await
                .expect("age a status record");
            aged += 1;
        }
        assert!(aged > 0, "no alerted status record to age");
    }

    /// The EMF documents the function printed, in order, each checked against the code's
    /// metrics.
    fn metrics(&self) -> Vec<Value> {
        let documents = e2e::emf_lines(&self.watch.log_text());
        for document in &documents {
            e2e::assert_emf(document, FUNCTION);
        }
        documents
    }
}

fn assert_message(alert: &ReceivedAlert, expected: &[&str]) {
    for text in expected {
        assert!(
            alert.message.contains(text),
            "missing {text:?} in:\n{}",
            alert.message
        );
    }
}

/// The values of one run's EMF document (its form is checked by `World::metrics`).
fn assert_emf(document: &Value, expected: &[(&str, u64)]) {
    let directive = &document["_aws"]["CloudWatchMetrics"][0];
    let declared: Vec<&str> = directive["Metrics"]
        .as_array()
        .map(|metrics| metrics.iter().filter_map(|m| m["Name"].as_str()).collect())
        .unwrap_or_default();
    for (name, value) in expected {
        assert!(declared.contains(name), "{name} not declared in {document}");
        assert_eq!(document[*name], *value, "{name} in {document}");
    }
    for metric in directive["Metrics"].as_array().into_iter().flatten() {
        assert_eq!(metric["Unit"], "Count", "{document}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_digests_follow_status_flips_reminders_and_recoveries() {
    let world = world("lifecycle").await;

    let first = world.audit_ok().await;
    assert_eq!(first["connections"], 5, "{first}");
    assert_eq!(first["unhealthy_connections"], 2, "{first}");
    assert_eq!(first["stacks_affected"], 2, "{first}");
    assert_eq!(first["digest"], "published", "{first}");
    let digest = world.one_digest().await;
    assert_eq!(
        digest.subject,
        "[gitsync-guard] Connection audit: 2 newly unhealthy; 2 stacks stalled"
    );
    assert_eq!(digest.attribute("kind"), Some("connection"));
    assert_eq!(digest.attribute("severity"), Some("critical"));
    assert_message(
        &digest,
        &[
            "Connection acme-bitbucket: ERROR, newly unhealthy:",
            "Repository acme/legacy-batch (link 9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d): stacks legacy-batch-jobs (master)",
            "Connection data-team-github: PENDING, newly unhealthy:",
            "Repository acme-data/analytics-pipelines (link c0ffee00-1234-4abc-9def-0123456789ab): stacks analytics-pipelines (main)",
            "Connections:    5 audited, 2 unhealthy",
            "Audit:          complete",
        ],
    );
    assert!(
        !digest.message.contains("payments-api"),
        "healthy stacks are not listed"
    );

    let again = world.audit_ok().await;
    assert_eq!(again["digest"], "none", "{again}");
    world.no_digest().await;

    world.host_status("VPC_CONFIG_FAILED_INITIALIZATION").await;
    world.connection_status(DATA_TEAM, "ERROR").await;
    world.connection_status(BITBUCKET, "AVAILABLE").await;
    world.audit_ok().await;
    let flipped = world.one_digest().await;
    assert_eq!(
        flipped.subject,
        "[gitsync-guard] Connection audit: 1 newly unhealthy, 1 changed, 1 recovered; 2 stacks stalled"
    );
    assert_eq!(flipped.attribute("severity"), Some("critical"));
    assert_message(
        &flipped,
        &[
            "Host ghes-corp: VPC_CONFIG_FAILED_INITIALIZATION, newly unhealthy:",
            "Repository platform/network-baseline (link 4d5e6f70-8192-4a3b-bc4d-5e6f70819a2b) through connection acme-ghes (AVAILABLE): stacks network-baseline (main)",
            "Connection data-team-github: PENDING -> ERROR:",
            "Connection acme-bitbucket: AVAILABLE again (was ERROR):",
        ],
    );
    world.audit_ok().await;
    world.no_digest().await;

    world.age_status_records(25).await;
    let reminded = world.audit_ok().await;
    assert_eq!(reminded["changes"], 2, "{reminded}");
    let reminder = world.one_digest().await;
    assert_eq!(
        reminder.subject,
        "[gitsync-guard] Connection audit: 2 still unhealthy; 2 stacks stalled"
    );
    assert_message(
        &reminder,
        &[
            "Host ghes-corp: still VPC_CONFIG_FAILED_INITIALIZATION (reminder):",
            "Connection data-team-github: still ERROR (reminder):",
            "(1day 1h ago)",
        ],
    );
    world.audit_ok().await;
    world.no_digest().await;

    world.host_status("AVAILABLE").await;
    world.connection_status(DATA_TEAM, "AVAILABLE").await;
    world.audit_ok().await;
    let recovered = world.one_digest().await;
    assert_eq!(
        recovered.subject,
        "[gitsync-guard] Connection audit: 2 recovered"
    );
    assert_eq!(recovered.attribute("severity"), Some("info"));
    assert_eq!(recovered.attribute("kind"), Some("connection"));
    assert_message(
        &recovered,
        &[
            "Host ghes-corp: AVAILABLE again (was VPC_CONFIG_FAILED_INITIALIZATION):",
            "Connection data-team-github: AVAILABLE again (was ERROR):",
        ],
    );
    world.audit_ok().await;
    world.no_digest().await;

    let metrics = world.metrics();
    assert_eq!(metrics.len(), 8, "one EMF line per run");
    let expected: [&[(&str, u64)]; 3] = [
        &[
            ("ConnectionsTotal", 5),
            ("ConnectionsUnhealthy", 2),
            ("HostsUnhealthy", 0),
            ("StacksAffected", 2),
            ("AuditErrors", 0),
        ],
        &[
            ("ConnectionsTotal", 5),
            ("ConnectionsUnhealthy", 1),
            ("HostsUnhealthy", 1),
            ("StacksAffected", 2),
            ("AuditErrors", 0),
        ],
        &[
            ("ConnectionsTotal", 5),
            ("ConnectionsUnhealthy", 0),
            ("HostsUnhealthy", 0),
            ("StacksAffected", 0),
            ("AuditErrors", 0),
        ],
    ];
    for (run, values) in [0, 2, 6].into_iter().zip(expected) {
        assert_emf(&metrics[run], values);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_down_fails_the_run_and_concurrent_retries_send_one_digest() {
    let world = world("sns-down").await;
    world.relay().set_open(false);
    let failure = world.audit_failing().await;
    assert!(failure.contains("AlertNotPublished"), "{failure}");
    assert!(
        failure.contains("no status was saved, so a retry sends it"),
        "{failure}"
    );
    world.no_digest().await;

    world.relay().set_open(true);
    let (a, b, c) = tokio::join!(world.audit_ok(), world.audit_ok(), world.audit_ok());
    let published = [&a, &b, &c]
        .iter()
        .filter(|outcome| outcome["digest"] == "published")
        .count();
    assert_eq!(published, 1, "{a}\n{b}\n{c}");
    let digest = world.one_digest().await;
    assert_eq!(
        digest.subject,
        "[gitsync-guard] Connection audit: 2 newly unhealthy; 2 stacks stalled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn muted_connections_stay_quiet_and_unreadable_tags_make_an_incomplete_audit() {
    let world = world("mute").await;
    world
        .codestar
        .tag_resource()
        .resource_arn(DATA_TEAM)
        .tags(
            Tag::builder()
                .key("gitsync-guard:mute")
                .value("true")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("mute the data team's connection");
    let outcome = world.audit_ok().await;
    assert_eq!(outcome["unhealthy_connections"], 2, "{outcome}");
    assert_eq!(outcome["muted"], 1, "{outcome}");
    let digest = world.one_digest().await;
    assert_eq!(
        digest.subject,
        "[gitsync-guard] Connection acme-bitbucket is ERROR: 1 stack stalled"
    );
    assert_message(
        &digest,
        &["Muted:          1 unhealthy resource(s) not alerted (gitsync-guard:mute=true)"],
    );
    assert!(!digest.message.contains("data-team-github"));

    world
        .emulator
        .admin(
            "faults",
            json!({"ServerErrorRate": 1.0, "Operations": ["ListTagsForResource"]}),
        )
        .await;
    world.host_status("PENDING").await;
    let failure = world.audit_failing().await;
    assert!(failure.contains("AuditIncomplete"), "{failure}");
    assert!(
        failure.contains("the digest lists what failed"),
        "{failure}"
    );
    let incomplete = world.one_digest().await;
    assert_eq!(incomplete.attribute("kind"), Some("connection"));
    assert_message(
        &incomplete,
        &[
            "Host ghes-corp: PENDING, newly unhealthy:",
            "Connection data-team-github: PENDING, newly unhealthy:",
            "Its tags could not be read: alerted, although it may be muted",
            "Audit:          INCOMPLETE: 2 call(s) failed (listed below)",
            "Audit incomplete: these calls failed:",
            "host ghes-corp: ListTagsForResource failed: InternalServerException",
        ],
    );

    // Lambda's retry, once the API answers again: what was sent is not sent again.
    world.emulator.admin("faults", json!({})).await;
    let retry = world.audit_ok().await;
    assert_eq!(retry["digest"], "none", "{retry}");
    world.no_digest().await;
    let metrics = world.metrics();
    assert_eq!(metrics.len(), 3);
    assert_emf(&metrics[1], &[("HostsUnhealthy", 1), ("AuditErrors", 2)]);
    assert_emf(&metrics[2], &[("AuditErrors", 0)]);
}
