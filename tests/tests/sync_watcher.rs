//! sync-watcher end to end: the real binary under `cargo lambda watch`, the real SDK, the
//! emulator for Git sync and moto for SNS, SQS and DynamoDB.

use std::time::Duration;

use aws_sdk_codestarconnections::types::{ProviderType, SyncConfigurationType};
use e2e::{ACCOUNT, LambdaWatch, REGION, ReceivedAlert, WorldBuilder};
use serde_json::{Value, json};

const STACK: &str = "payments-api";
const REASON: &str = "Resource handler returned message: \"payments-artifacts already exists\" (HandlerErrorCode: AlreadyExists)";
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(2);

/// The shared world, one stack under Git sync, sync-watcher running with SNS reached through
/// a relay the test can switch off.
struct World {
    base: e2e::World,
    watch: LambdaWatch,
}

impl std::ops::Deref for World {
    type Target = e2e::World;
    fn deref(&self) -> &e2e::World {
        &self.base
    }
}

async fn world(test: &str) -> World {
    let base = WorldBuilder::new(test).sns_through_relay().build().await;
    let codestar = &base.codestar;
    let connection = codestar
        .create_connection()
        .connection_name("acme-github")
        .provider_type(ProviderType::Github)
        .send()
        .await
        .expect("create connection");
    let link = codestar
        .create_repository_link()
        .connection_arn(connection.connection_arn())
        .owner_id("acme")
        .repository_name("infra")
        .send()
        .await
        .expect("create repository link");
    let link_id = link
        .repository_link_info()
        .map(|info| info.repository_link_id().to_owned())
        .expect("repository link id");
    codestar
        .create_sync_configuration()
        .branch("main")
        .config_file("stacks/payments-api/deployment.yaml")
        .repository_link_id(&link_id)
        .resource_name(STACK)
        .role_arn("arn:aws:iam::123456789012:role/git-sync")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("create sync configuration");
    let watch = base.start_functions::<&str>(&[]);
    World { base, watch }
}

impl World {
    async fn raise_blocker(&self) -> String {
        let created = self
            .emulator
            .admin(
                "sync-blockers",
                json!({
                    "ResourceName": STACK,
                    "CreatedReason": REASON,
                    "Contexts": [{"Key": "LogicalResourceId", "Value": "ArtifactsBucket"}]
                }),
            )
            .await;
        created["Id"].as_str().expect("blocker Id").to_owned()
    }

    /// Records a sync attempt in the emulator and returns the event AWS would publish for it.
    async fn sync_event(&self, status: &str) -> Value {
        self.emulator
            .admin(
                "resource-sync",
                json!({
                    "ResourceName": STACK,
                    "Status": status,
                    "Commit": "8d2f0c1e9b7a",
                    "Events": [{"Event": "UPDATE_FAILED ArtifactsBucket: payments-artifacts already exists", "Type": "CLOUDFORMATION"}]
                }),
            )
            .await
    }

    async fn invoke_ok(&self, event: &Value) -> Value {
        let invocation = self.watch.invoke("sync-watcher", event).await;
        assert!(
            !invocation.failed,
            "invocation failed: {}\n{}",
            invocation.body,
            self.watch.log_text()
        );
        invocation.body
    }

    async fn alerts(&self, count: usize) -> Vec<ReceivedAlert> {
        self.sink.receive(count, WAIT, QUIET).await
    }
}

fn assert_blocker_alert(alert: &ReceivedAlert, blocker_id: &str) {
    assert_eq!(
        alert.subject,
        format!("[gitsync-guard] Git sync blocked: stack {STACK}")
    );
    assert_eq!(alert.attribute("severity"), Some("critical"));
    assert_eq!(alert.attribute("kind"), Some("blocker"));
    assert_eq!(alert.attribute("stack"), Some(STACK));
    assert_eq!(alert.attribute("account"), Some(ACCOUNT));
    assert_eq!(alert.attribute("region"), Some(REGION));
    let origin = alert.message.lines().position(|line| {
        line.strip_prefix("Account:").map(str::trim) == Some(&format!("{ACCOUNT}, {REGION}"))
    });
    let stack = alert
        .message
        .lines()
        .position(|line| line.starts_with("Stack:"));
    assert!(
        origin.is_some() && origin < stack,
        "the account and region come first in:\n{}",
        alert.message
    );
    for expected in [
        format!("Stack:       {STACK}"),
        format!("Blocker ID:  {blocker_id}"),
        format!("Reason:      {REASON}"),
        "LogicalResourceId: ArtifactsBucket".to_owned(),
        "Commit:      8d2f0c1e9b7a".to_owned(),
        "[CLOUDFORMATION] UPDATE_FAILED ArtifactsBucket".to_owned(),
        format!(
            "aws codestar-connections update-sync-blocker --region us-east-1 --id {blocker_id} \
             --sync-type CFN_STACK_SYNC --resource-name {STACK}"
        ),
    ] {
        assert!(
            alert.message.contains(&expected),
            "missing {expected:?} in:\n{}",
            alert.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_deliveries_give_one_alert_and_resolution_one_recovery_notice() {
    let world = world("sequential").await;
    let blocker_id = world.raise_blocker().await;
    let failed = world.sync_event("FAILED").await;
    assert_eq!(
        failed["detail-type"],
        "Git Sync Resource Sync Status Change"
    );

    for _ in 0..3 {
        world.invoke_ok(&failed).await;
    }
    let alerts = world.alerts(1).await;
    assert_eq!(
        alerts.len(),
        1,
        "exactly one alert for three deliveries: {alerts:#?}"
    );
    assert_blocker_alert(&alerts[0], &blocker_id);

    world
        .resolve_blocker(STACK, &blocker_id, "Renamed the artifacts bucket")
        .await;
    let succeeded = world.sync_event("SUCCEEDED").await;
    let outcome = world.invoke_ok(&succeeded).await;
    assert_eq!(outcome["recovered"], true, "{outcome}");
    world.invoke_ok(&succeeded).await;
    let notices = world.alerts(1).await;
    assert_eq!(
        notices.len(),
        1,
        "exactly one recovery notice: {notices:#?}"
    );
    assert_eq!(
        notices[0].subject,
        format!("[gitsync-guard] Git sync recovered: stack {STACK}")
    );
    assert_eq!(notices[0].attribute("kind"), Some("recovery"));
    assert_eq!(notices[0].attribute("severity"), Some("info"));
    assert!(
        notices[0]
            .message
            .contains(&format!("{blocker_id}: Renamed the artifacts bucket")),
        "{}",
        notices[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_give_one_alert() {
    let world = world("concurrent").await;
    let blocker_id = world.raise_blocker().await;
    let failed = world.sync_event("FAILED").await;
    let (a, b, c) = tokio::join!(
        world.invoke_ok(&failed),
        world.invoke_ok(&failed),
        world.invoke_ok(&failed)
    );
    let published: u64 = [a, b, c]
        .iter()
        .map(|o| o["published"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(published, 1);
    let alerts = world.alerts(1).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_blocker_alert(&alerts[0], &blocker_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_unreachable_fails_the_invocation_and_the_retry_delivers() {
    let world = world("sns-down").await;
    let blocker_id = world.raise_blocker().await;
    let failed = world.sync_event("FAILED").await;

    world.relay().set_open(false);
    let invocation = world.watch.invoke("sync-watcher", &failed).await;
    assert!(
        invocation.failed,
        "must fail while SNS is unreachable: {}",
        invocation.body
    );
    assert!(
        invocation.body.to_string().contains("were not published"),
        "{}",
        invocation.body
    );
    assert!(world.alerts(0).await.is_empty());

    world.relay().set_open(true);
    world.invoke_ok(&failed).await;
    let alerts = world.alerts(1).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_blocker_alert(&alerts[0], &blocker_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_fails_with_what_is_missing_and_alerts_nothing() {
    let world = world("malformed").await;
    let event = json!({
        "source": "aws.codeconnections",
        "detail-type": "Git Sync Resource Sync Status Change",
        "detail": {"status": "FAILED"}
    });
    let invocation = world.watch.invoke("sync-watcher", &event).await;
    assert!(invocation.failed);
    assert!(
        invocation.body.to_string().contains("names no stack"),
        "{}",
        invocation.body
    );
    let ignored = world
        .invoke_ok(&json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}))
        .await;
    assert_eq!(ignored["action"], "ignored");
    assert!(world.alerts(0).await.is_empty());
}
