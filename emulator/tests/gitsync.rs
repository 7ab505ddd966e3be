//! Git sync's own behaviour: resolving a blocker retries the latest commit (INITIATED,
//! IN_PROGRESS, SUCCEEDED, each with its EventBridge event, delivered to `--events-to`);
//! a persistent cause fails the retry and raises a new ACTIVE blocker with the same reason.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_codeconnections::Client;
use aws_sdk_codeconnections::types::{
    BlockerStatus, ResourceSyncStatus, SyncBlocker, SyncConfigurationType,
};
use axum::routing::post;
use axum::{Json, Router};
use common::{DEMO_SCENARIO, Emulator, demo};
use serde_json::{Value, json};

/// A tiny local HTTP collector of the events the emulator POSTs.
struct Collector {
    url: String,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Collector {
    async fn start() -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&events);
        let app = Router::new().route(
            "/events",
            post(move |Json(event): Json<Value>| async move {
                store.lock().expect("the collector's lock").push(event);
                "ok"
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the collector listens");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{address}/events"),
            events,
        }
    }

    /// The statuses of the events about a stack, once `count` of them arrived.
    async fn statuses_of(&self, stack: &str, count: usize) -> Vec<Value> {
        for _ in 0..200 {
            let events: Vec<Value> = self
                .events
                .lock()
                .expect("the collector's lock")
                .iter()
                .filter(|event| event["detail"]["syncTarget"] == json!(stack))
                .cloned()
                .collect();
            if events.len() >= count {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {count} events about {stack} arrived");
    }
}

async fn latest_status(client: &Client, stack: &str) -> Option<ResourceSyncStatus> {
    client
        .get_resource_sync_status()
        .resource_name(stack)
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("GetResourceSyncStatus succeeds")
        .latest_sync()
        .map(|attempt| attempt.status().clone())
}

async fn blockers(client: &Client, stack: &str) -> Vec<SyncBlocker> {
    client
        .get_sync_blocker_summary()
        .resource_name(stack)
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("GetSyncBlockerSummary succeeds")
        .sync_blocker_summary()
        .map(|summary| summary.latest_blockers().to_vec())
        .unwrap_or_default()
}

async fn resolve(client: &Client, stack: &str, id: &str) {
    client
        .update_sync_blocker()
        .id(id)
        .resource_name(stack)
        .sync_type(SyncConfigurationType::CfnStackSync)
        .resolved_reason("fixed")
        .send()
        .await
        .expect("UpdateSyncBlocker succeeds");
}

fn previous_and_status(events: &[Value]) -> Vec<(Value, Value)> {
    events
        .iter()
        .map(|event| {
            let detail = &event["detail"];
            (detail["previousSync"].clone(), detail["status"].clone())
        })
        .collect()
}

#[tokio::test]
async fn resolving_a_blocker_retries_the_latest_commit_step_by_step() {
    let collector = Collector::start().await;
    let emulator = Emulator::start_with(&[
        "--scenario",
        DEMO_SCENARIO,
        "--sync-step-delay",
        "150ms",
        "--events-to",
        &collector.url,
    ]);
    let client = Client::new(&emulator.sdk_config().await);

    resolve(&client, "web-frontend", demo::WEB_BLOCKER).await;
    assert_eq!(
        latest_status(&client, "web-frontend").await,
        Some(ResourceSyncStatus::Initiated)
    );
    let events = collector.statuses_of("web-frontend", 3).await;
    assert_eq!(
        previous_and_status(&events),
        [
            (Value::Null, json!("INITIATED")),
            (json!("INITIATED"), json!("IN_PROGRESS")),
            (json!("IN_PROGRESS"), json!("SUCCEEDED")),
        ]
    );
    for event in &events {
        assert_eq!(event["source"], json!("aws.codeconnections"));
        assert_eq!(
            event["detail-type"],
            json!("Git Sync Resource Sync Status Change")
        );
        assert_eq!(event["detail"]["commit"], events[0]["detail"]["commit"]);
    }
    assert_eq!(
        latest_status(&client, "web-frontend").await,
        Some(ResourceSyncStatus::Succeeded)
    );
    let active = blockers(&client, "web-frontend")
        .await
        .iter()
        .filter(|b| b.status() == &BlockerStatus::Active)
        .count();
    assert_eq!(active, 0);
}

#[tokio::test]
async fn a_persistent_cause_fails_the_retry_and_raises_the_same_blocker_again() {
    let collector = Collector::start().await;
    let emulator = Emulator::start_with(&[
        "--scenario",
        DEMO_SCENARIO,
        "--sync-step-delay",
        "0",
        "--events-to",
        &collector.url,
    ]);
    let client = Client::new(&emulator.sdk_config().await);
    let (status, body) = emulator
        .admin_post(
            "persistent-cause",
            json!({"ResourceName": "payments-api", "Persistent": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    resolve(&client, "payments-api", demo::PAYMENTS_BLOCKER).await;
    // With no step delay the whole retry happened within the call.
    assert_eq!(
        latest_status(&client, "payments-api").await,
        Some(ResourceSyncStatus::Failed)
    );
    let blockers = blockers(&client, "payments-api").await;
    let resolved = blockers
        .iter()
        .find(|b| b.id() == demo::PAYMENTS_BLOCKER)
        .expect("the resolved blocker");
    assert_eq!(resolved.status(), &BlockerStatus::Resolved);
    let newest = &blockers[0];
    assert_eq!(newest.status(), &BlockerStatus::Active);
    assert_ne!(newest.id(), demo::PAYMENTS_BLOCKER);
    assert_eq!(newest.created_reason(), resolved.created_reason());
    assert_eq!(newest.contexts(), resolved.contexts());

    let events = collector.statuses_of("payments-api", 3).await;
    assert_eq!(
        previous_and_status(&events),
        [
            (Value::Null, json!("INITIATED")),
            (json!("INITIATED"), json!("IN_PROGRESS")),
            (json!("IN_PROGRESS"), json!("FAILED")),
        ]
    );

    // Admin-recorded steps are delivered too, as answered.
    let (status, answered) = emulator
        .admin_post(
            "resource-sync",
            json!({"ResourceName": "platform-vpc", "Status": "INITIATED"}),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    let delivered = collector.statuses_of("platform-vpc", 1).await;
    assert_eq!(delivered, [answered]);
}

#[test]
fn an_events_url_that_is_not_http_is_refused_at_start() {
    let output = std::process::Command::new(common::BINARY)
        .args(["--events-to", "https://collector.example.com/events"])
        .output()
        .expect("the emulator runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--events-to https://collector.example.com/events: only http:// URLs"),
        "{stderr}"
    );
}
