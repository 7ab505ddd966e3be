//! gitsync-guard's EventBridge events, end to end: the real function binaries as template.yaml
//! deploys them put their events on moto's default bus, where a rule with the pattern
//! `{"source": ["gitsync-guard"]}` delivers them to a queue, as a consumer's rule would. Every
//! event received is validated against its schema in `schemas/`; each fact is put once
//! whichever paths reveal it; and a PutEvents that fails fails the invocation, whose retry puts
//! the event and sends the alert (nothing is lost).

use std::collections::BTreeMap;
use std::time::Duration;

use e2e::deployed::{Deployed, REASON, STACK};
use e2e::{WorldBuilder, workspace_root};
use gitsync::domain::bus::DetailType;
use gitsync::ledger::LedgerKey;
use serde_json::{Value, json};

/// blocker-resolver's rule in these tests: it matches the blocker (dry-run by default).
const RULES: &str = "[{name: already-exists, reason: 'already exists', action: resolve, resolved_reason: 'gitsync-guard {rule}: retried'}]";
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(3);

/// Every event the schema of its detail-type accepts; panics naming what it rejects.
fn assert_valid(events: &[Value]) {
    for event in events {
        let detail_type = event["detail-type"].as_str().expect("a detail-type");
        let known = DetailType::parse(detail_type)
            .unwrap_or_else(|| panic!("{detail_type} is not a gitsync-guard detail-type"));
        let file = workspace_root()
            .join("schemas")
            .join(format!("{}.json", known.schema_name()));
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{file:?}: {err}")),
        )
        .expect("a schema is JSON");
        let validator = jsonschema::draft4::new(&schema).expect("a Draft 4 schema");
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{detail_type} breaks {}: {errors:#?}\n{event:#}",
            file.display()
        );
        assert_eq!(event["source"], "gitsync-guard");
    }
}

fn of_type(events: &[Value], detail_type: DetailType) -> Vec<&Value> {
    events
        .iter()
        .filter(|event| event["detail-type"] == detail_type.as_str())
        .collect()
}

/// The deployed world, with blocker-resolver's rule matching the blocker (dry-run).
async fn world(base: e2e::World, connection: &str) -> Deployed {
    Deployed::one_stack(
        base,
        connection,
        &[("RESOLVER_RULES", RULES), ("HEALTH_REPORT", "off")],
    )
    .await
}

async fn failed_event(world: &Deployed) -> Value {
    world
        .emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": STACK, "Status": "FAILED"}),
        )
        .await
}

async fn connection_arn(world: &Deployed) -> String {
    let listed = world
        .codestar
        .list_connections()
        .send()
        .await
        .expect("list connections");
    listed.connections()[0]
        .connection_arn()
        .expect("an ARN")
        .to_owned()
}

/// The events a rule on the bus received (at least `at_least`), each checked against its schema.
async fn events(world: &Deployed, at_least: usize) -> Vec<Value> {
    let events = world.events.receive(at_least, WAIT, QUIET).await;
    assert_valid(&events);
    events
}

fn sweep(job: &str) -> Value {
    json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": job}})
}

#[tokio::test]
async fn each_fact_is_one_event_on_the_bus_that_its_schema_accepts() {
    let world = world(WorldBuilder::new("events").build().await, "ERROR").await;
    let blocker_id = world.raise_blocker().await;

    // The blocker's event and the sweep at the same time: one Blocker Detected.
    let failed = failed_event(&world).await;
    let watch = sweep("watch");
    let (a, b) = tokio::join!(
        world.invoke_ok("sync-watcher", &failed),
        world.invoke_ok("sync-watcher", &watch),
    );
    assert!(a.get("published").is_some() && b.get("published").is_some());
    world.invoke_ok("sync-watcher", &failed).await;
    // The resolver decides (dry-run: would resolve), on the event and on its sweep: once.
    world.invoke_ok("blocker-resolver", &failed).await;
    world.invoke_ok("blocker-resolver", &sweep("sweep")).await;
    // The auditor finds the connection in ERROR, then back.
    world.invoke_ok("connection-auditor", &sweep("audit")).await;
    let arn = connection_arn(&world).await;
    world
        .emulator
        .admin(
            "connection-status",
            json!({"ConnectionArn": arn, "Status": "AVAILABLE"}),
        )
        .await;
    world.invoke_ok("connection-auditor", &sweep("audit")).await;
    // A day later the blocker is still there: one reminder.
    world.age_blocker_alert(&blocker_id, 25).await;
    world.invoke_ok("sync-watcher", &sweep("watch")).await;
    // Someone resolves it: the stack recovered.
    world
        .resolve_blocker(STACK, &blocker_id, "Deleted the old queue")
        .await;
    world.invoke_ok("sync-watcher", &sweep("watch")).await;
    world.invoke_ok("sync-watcher", &sweep("watch")).await;
    for function in ["sync-watcher", "blocker-resolver", "connection-auditor"] {
        world.invoke_ok(function, &sweep("test")).await;
    }

    let events = events(&world, 13).await;
    let counts: BTreeMap<&str, usize> = events.iter().fold(BTreeMap::new(), |mut counts, event| {
        *counts
            .entry(event["detail-type"].as_str().unwrap_or("?"))
            .or_default() += 1;
        counts
    });
    assert_eq!(
        counts,
        BTreeMap::from([
            ("GitSync Blocker Detected", 1),
            ("GitSync Blocker Reminder", 1),
            ("GitSync Stack Recovered", 1),
            ("GitSync Blocker Resolution", 1),
            ("Connection Health Change", 2),
            // One per complete sweep of sync-watcher: the one beside the event, then three.
            ("GitSync Health Snapshot", 4),
            ("GitSync Test", 3),
        ]),
        "{events:#?}"
    );

    let detected = of_type(&events, DetailType::BlockerDetected)[0];
    let detail = &detected["detail"];
    assert_eq!(detail["stack"], STACK);
    assert_eq!(detail["blockerId"], blocker_id.as_str());
    assert_eq!(detail["reason"], REASON, "the raw value, unescaped");
    assert_eq!(detail["account"], e2e::ACCOUNT);
    assert_eq!(detail["region"], e2e::REGION);
    assert_eq!(detail["version"], "1");
    assert_eq!(
        detail["key"],
        LedgerKey::blocker_alert(STACK, &blocker_id).to_string(),
        "deduplicated on the alert's ledger key"
    );
    assert_eq!(
        detected["resources"],
        json!([format!(
            "arn:aws:cloudformation:{}:{}:stack/{STACK}",
            e2e::REGION,
            e2e::ACCOUNT
        )])
    );

    let resolution = &of_type(&events, DetailType::BlockerResolution)[0]["detail"];
    assert_eq!(
        (
            &resolution["decision"],
            &resolution["mode"],
            &resolution["rule"]
        ),
        (
            &json!("would-resolve"),
            &json!("dry-run"),
            &json!("already-exists")
        )
    );
    let changes: Vec<&Value> = of_type(&events, DetailType::ConnectionHealthChange)
        .into_iter()
        .map(|event| &event["detail"])
        .collect();
    let change = |kind: &str| {
        changes
            .iter()
            .find(|change| change["change"] == kind)
            .unwrap_or_else(|| panic!("a change {kind}: {changes:#?}"))
    };
    let broke = change("unhealthy");
    assert_eq!(broke["status"], "ERROR");
    assert_eq!(broke["arn"], arn.as_str());
    assert_eq!(broke["stalledStacks"], json!([STACK]));
    assert_eq!(change("recovered")["status"], "AVAILABLE");
    let recovered = &of_type(&events, DetailType::StackRecovered)[0]["detail"];
    assert_eq!(recovered["blockerIds"], json!([blocker_id]));
    // Two sweeps while the blocker was open, two after it was resolved.
    let snapshots: Vec<&Value> = of_type(&events, DetailType::HealthSnapshot)
        .into_iter()
        .map(|event| &event["detail"])
        .collect();
    let blocked: Vec<&&Value> = snapshots
        .iter()
        .filter(|snapshot| snapshot["blockedStacks"] == 1)
        .collect();
    assert_eq!(blocked.len(), 2, "{snapshots:#?}");
    assert_eq!(
        blocked[0]["openBlockers"][0]["blockerId"],
        blocker_id.as_str()
    );
    assert_eq!(blocked[0]["stacksSwept"], 1);
    let clear = snapshots
        .iter()
        .filter(|snapshot| snapshot["blockedStacks"] == 0 && snapshot["openBlockers"] == json!([]))
        .count();
    assert_eq!(clear, 2, "{snapshots:#?}");
}

#[tokio::test]
async fn a_put_that_fails_fails_the_invocation_and_its_retry_delivers_both() {
    let base = WorldBuilder::new("events-faults")
        .events_through_relay()
        .build()
        .await;
    let world = world(base, "AVAILABLE").await;
    world.raise_blocker().await;
    let failed = failed_event(&world).await;
    world
        .events_relay
        .as_ref()
        .expect("the relay")
        .set_open(false);
    let invocation = world.watch.invoke("sync-watcher", &failed).await;
    assert!(
        invocation.failed,
        "PutEvents failed, so the invocation must: {}",
        invocation.body
    );
    assert!(
        invocation
            .body
            .to_string()
            .contains("EventBridge PutEvents"),
        "{}",
        invocation.body
    );
    assert!(
        world.sink.receive(0, QUIET, QUIET).await.is_empty(),
        "no alert without its event"
    );
    // Lambda's retry, once EventBridge answers again.
    world
        .events_relay
        .as_ref()
        .expect("the relay")
        .set_open(true);
    world.invoke_ok("sync-watcher", &failed).await;
    let events = events(&world, 1).await;
    assert_eq!(
        of_type(&events, DetailType::BlockerDetected).len(),
        1,
        "{events:#?}"
    );
    let alerts = world.sink.receive(1, WAIT, QUIET).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].attribute("kind"), Some("blocker"));
}
