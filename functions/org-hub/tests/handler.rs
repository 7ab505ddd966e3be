//! The hub's handler with in-memory ports: batches folded per member with only the failed
//! members' messages returned, bad events let go, silent members alerted once, and one daily
//! report naming the StackSet's members that never reported.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitsync::config::Env;
use gitsync::domain::text::rfc3339;
use gitsync::fakes::{FixedClock, FixedInstances, InMemoryDocuments, RecordingNotifier};
use gitsync::ledger::LedgerError;
use gitsync::ports::{Document, DocumentStore};
use org_hub::Hub;
use org_hub::settings::HubSettings;
use serde_json::{Value, json};

/// 2027-01-15T09:00:00Z: after the report's time of day.
fn nine_am() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 - 1_800_000_000 % 86_400 + 9 * 3600)
}

fn settings() -> HubSettings {
    HubSettings::from_env(&Env::from_pairs(&[
        ("STATE_TABLE", "hub-state"),
        (
            "ALERT_TOPIC_ARN",
            "arn:aws:sns:eu-central-1:333333333333:hub",
        ),
        ("STACK_SET_NAME", "hub-members"),
        ("WATCH_EVERY_MINUTES", "60"),
        ("REPORT_AT", "08:00"),
    ]))
    .expect("settings")
}

const PAYMENTS: (&str, &str) = ("111111111111", "us-west-2");
const DATA: (&str, &str) = ("222222222222", "ap-southeast-2");

fn envelope(member: (&str, &str), detail_type: &str, at: SystemTime, detail: Value) -> String {
    let mut detail = detail;
    detail["version"] = json!("1");
    detail["key"] = json!(format!("{detail_type}#{}", rfc3339(at)));
    detail["account"] = json!(member.0);
    detail["region"] = json!(member.1);
    detail["function"] = json!("sync-watcher");
    json!({
        "version": "0", "id": format!("{}-{}", member.0, rfc3339(at)),
        "detail-type": detail_type, "source": "gitsync-guard",
        "account": member.0, "region": member.1, "time": rfc3339(at),
        "resources": [], "detail": detail,
    })
    .to_string()
}

fn detected(member: (&str, &str), stack: &str, at: SystemTime) -> String {
    let detail = json!({
        "stack": stack, "blockerId": format!("{stack}-blocker"), "reason": "Stack is in UPDATE_ROLLBACK_FAILED",
        "createdAt": rfc3339(at), "contexts": {}, "provider": null, "repository": null,
        "branch": null, "commit": null, "syncStatus": "FAILED",
    });
    envelope(member, "GitSync Blocker Detected", at, detail)
}

fn snapshot(member: (&str, &str), at: SystemTime) -> String {
    let detail = json!({
        "sweptAt": rfc3339(at), "stacksSwept": 3, "blockedStacks": 0, "openBlockers": [],
        "openBlockersOmitted": 0, "unhealthyResources": [], "unhealthyResourcesOmitted": 0,
        "jobs": [{"job": "watch", "function": "sync-watcher", "lastCompletedAt": rfc3339(at)}],
    });
    envelope(member, "GitSync Health Snapshot", at, detail)
}

fn batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| json!({"messageId": format!("m{n}"), "body": body, "eventSource": "aws:sqs"}))
        .collect();
    json!({ "Records": records })
}

fn watch() -> Value {
    json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "org-watch"}})
}

type TestHub<S> = Hub<S, RecordingNotifier, FixedInstances, FixedClock>;

fn hub<S: DocumentStore>(store: S, at: SystemTime) -> TestHub<S> {
    let expected = vec![
        (PAYMENTS.0.to_owned(), PAYMENTS.1.to_owned()),
        (DATA.0.to_owned(), DATA.1.to_owned()),
        ("444444444444".to_owned(), "eu-west-1".to_owned()),
    ];
    Hub::new(
        store,
        RecordingNotifier::default(),
        Some(FixedInstances(expected)),
        FixedClock::at(at),
        settings(),
    )
}

fn failures(response: &Value) -> Vec<&str> {
    response["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures")
        .iter()
        .filter_map(|failure| failure["itemIdentifier"].as_str())
        .collect()
}

#[tokio::test]
async fn a_batch_is_folded_per_member_and_a_bad_event_is_let_go() {
    let store = InMemoryDocuments::default();
    let now = nine_am();
    let hub = hub(store.clone(), now);
    let earlier = now - Duration::from_secs(600);
    let bodies = [
        detected(PAYMENTS, "orders-api", earlier),
        snapshot(DATA, earlier),
        "{not an event".to_owned(),
        detected(PAYMENTS, "billing", earlier),
    ];
    let response = hub.handle(batch(&bodies)).await.expect("folded");
    assert!(failures(&response).is_empty(), "{response}");
    let payments = store
        .body("member#111111111111#us-west-2")
        .expect("payments-prod's state");
    assert!(
        payments.contains("orders-api") && payments.contains("billing"),
        "{payments}"
    );
    assert!(store.body("member#222222222222#ap-southeast-2").is_some());

    // Redelivered: nothing changes, nothing is written.
    let before = store
        .document("member#111111111111#us-west-2")
        .await
        .expect("read");
    hub.handle(batch(&bodies)).await.expect("folded again");
    let after = store
        .document("member#111111111111#us-west-2")
        .await
        .expect("read");
    assert_eq!(before, after);
}

/// A store whose writes of one key always lose the race.
#[derive(Clone, Default)]
struct ContendedFor(InMemoryDocuments, &'static str);

impl DocumentStore for ContendedFor {
    async fn documents(&self) -> Result<Vec<Document>, LedgerError> {
        self.0.documents().await
    }
    async fn document(&self, key: &str) -> Result<Option<Document>, LedgerError> {
        self.0.document(key).await
    }
    async fn write(&self, key: &str, body: &str, read: Option<u64>) -> Result<bool, LedgerError> {
        match key == self.1 {
            true => Ok(false),
            false => self.0.write(key, body, read).await,
        }
    }
}

#[tokio::test]
async fn only_the_messages_of_a_member_whose_state_could_not_be_stored_come_back() {
    let store = ContendedFor(
        InMemoryDocuments::default(),
        "member#111111111111#us-west-2",
    );
    let now = nine_am();
    let hub = hub(store.clone(), now);
    let earlier = now - Duration::from_secs(600);
    let bodies = [
        detected(PAYMENTS, "orders-api", earlier),
        snapshot(DATA, earlier),
        detected(PAYMENTS, "billing", earlier + Duration::from_secs(1)),
    ];
    let response = hub.handle(batch(&bodies)).await.expect("folded");
    assert_eq!(failures(&response), ["m0", "m2"]);
    assert!(store.0.body("member#222222222222#ap-southeast-2").is_some());
}

#[tokio::test]
async fn a_silent_member_is_alerted_once_and_the_report_goes_once_a_day() {
    let store = InMemoryDocuments::default();
    let now = nine_am();
    let hub = hub(store.clone(), now);
    let three_hours_ago = now - Duration::from_secs(3 * 3600);
    let bodies = [
        snapshot(PAYMENTS, three_hours_ago),
        snapshot(DATA, now - Duration::from_secs(600)),
        detected(DATA, "orders-api", now - Duration::from_secs(300)),
    ];
    hub.handle(batch(&bodies)).await.expect("folded");

    let first = hub.handle(watch()).await.expect("watched");
    assert_eq!(first["memberAlerts"], 1, "{first}");
    assert_eq!(first["report"], "published", "{first}");
    let published = hub.notifier.published();
    assert_eq!(published.len(), 2, "the silent member and the report");
    let silent = &published[0];
    assert!(
        silent.message.contains("111111111111"),
        "{}",
        silent.message
    );
    let report = &published[1];
    for expected in ["orders-api", "444444444444", "hub-members"] {
        assert!(
            report.message.contains(expected),
            "{expected}: {}",
            report.message
        );
    }
    assert!(
        !report.message.contains("STACK_SET_NAME"),
        "{}",
        report.message
    );

    let second = hub.handle(watch()).await.expect("watched again");
    assert_eq!(second["memberAlerts"], 0, "{second}");
    assert_eq!(second["report"], "already sent", "{second}");
    assert_eq!(hub.notifier.published().len(), 2);

    // It reports again: its return is said once.
    let back = [snapshot(PAYMENTS, now)];
    hub.handle(batch(&back)).await.expect("folded");
    let third = hub.handle(watch()).await.expect("watched");
    assert_eq!(third["memberAlerts"], 1, "{third}");
    assert_eq!(hub.notifier.published().len(), 3);
}

#[tokio::test]
async fn an_unknown_input_is_an_error_that_says_what_the_hub_takes() {
    let hub = hub(InMemoryDocuments::default(), nine_am());
    let error = hub
        .handle(json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "sweep"}}))
        .await
        .expect_err("not the hub's job");
    assert!(
        error.to_string().contains("unknown job \"sweep\""),
        "{error}"
    );
    assert!(error.to_string().contains("org-watch"), "{error}");
}
