//! Never miss a blocker, end to end: the real function binaries under `cargo lambda watch`,
//! run as template.yaml deploys them (its environment at the parameters' defaults, its
//! schedules' inputs), the emulator and moto. A blocker whose event never comes is alerted
//! once by the scheduled jobs; an event and a sweep together alert once; a blocker still
//! ACTIVE after the interval gets one reminder; the health report says what is wrong and
//! nothing is sent on a healthy day.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use e2e::template::Template;
use e2e::{LambdaWatch, ReceivedAlert, WorldBuilder, assert_emf, emf_lines};
use gitsync::ledger::LedgerKey;
use serde_json::{Value, json};

const STACK: &str = "orders-api";
const REASON: &str = "Resource handler returned message: \"orders-queue already exists\"";
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(3);

/// One stack under Git sync, and every function running with the template's defaults.
struct World {
    base: e2e::World,
    watch: LambdaWatch,
    template: Template,
}

impl std::ops::Deref for World {
    type Target = e2e::World;
    fn deref(&self) -> &e2e::World {
        &self.base
    }
}

/// `connection` is the status of the stack's connection.
async fn world(test: &str, connection: &str, overrides: &[(&str, &str)]) -> World {
    let base = WorldBuilder::new(test).build().await;
    let seeded = base
        .emulator
        .admin(
            "seed",
            json!({
                "Connections": [{"Name": "acme-github", "ProviderType": "GitHub", "Status": connection}],
                "RepositoryLinks": [{"Connection": "acme-github", "OwnerId": "acme", "RepositoryName": "orders"}],
                "SyncConfigurations": [{"ResourceName": STACK, "Repository": "acme/orders", "ConfigFile": "deployment.yaml"}],
            }),
        )
        .await;
    assert_eq!(seeded["SyncConfigurations"], 1, "{seeded}");
    let template = Template::load();
    let mut environment: Vec<(String, String)> = Vec::new();
    for function in template.functions() {
        for (name, value) in function.environment {
            let value = overrides
                .iter()
                .find(|(overridden, _)| *overridden == name)
                .map_or(value, |(_, value)| (*value).to_owned());
            environment.push((name, value));
        }
    }
    let watch = base.start_functions(&environment);
    World {
        base,
        watch,
        template,
    }
}

impl World {
    async fn raise_blocker(&self) -> String {
        let created = self
            .emulator
            .admin(
                "sync-blockers",
                json!({"ResourceName": STACK, "CreatedReason": REASON}),
            )
            .await;
        created["Id"].as_str().expect("blocker Id").to_owned()
    }

    async fn invoke_ok(&self, function: &str, event: &Value) -> Value {
        let invocation = self.watch.invoke(function, event).await;
        assert!(
            !invocation.failed,
            "{function} failed: {}\n{}",
            invocation.body,
            self.watch.log_text()
        );
        invocation.body
    }

    /// Every scheduled job of the template, as its schedules invoke it.
    async fn run_scheduled_jobs(&self) {
        for function in self.template.functions() {
            for input in &function.schedule_inputs {
                self.invoke_ok(&function.binary, input).await;
            }
        }
    }

    fn watcher_sweep(&self) -> Value {
        self.template
            .functions()
            .into_iter()
            .find(|function| function.binary == "sync-watcher")
            .and_then(|function| function.schedule_inputs.into_iter().next())
            .expect("sync-watcher has a schedule")
    }

    async fn alerts(&self, at_least: usize) -> Vec<ReceivedAlert> {
        self.sink.receive(at_least, WAIT, QUIET).await
    }

    /// Moves a blocker alert's record back in time, as if it was sent `hours` ago.
    async fn age_blocker_alert(&self, blocker_id: &str, hours: u64) {
        let key = LedgerKey::blocker_alert(STACK, blocker_id);
        let past = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            - hours * 3600;
        self.dynamodb()
            .update_item()
            .table_name(&self.sink.table)
            .key("pk", AttributeValue::S(key.scope().into()))
            .key("sk", AttributeValue::S(key.item().into()))
            .update_expression("SET claimed_at = :past")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
            .send()
            .await
            .expect("the blocker alert is in the ledger");
    }
}

fn of_kind<'a>(alerts: &'a [ReceivedAlert], kind: &str) -> Vec<&'a ReceivedAlert> {
    alerts
        .iter()
        .filter(|alert| alert.attribute("kind") == Some(kind))
        .collect()
}

#[tokio::test]
async fn a_blocker_without_an_event_is_alerted_once_by_the_scheduled_jobs() {
    let world = world("backstop-no-event", "AVAILABLE", &[]).await;
    let blocker_id = world.raise_blocker().await;
    world.run_scheduled_jobs().await;
    world.run_scheduled_jobs().await;
    let alerts = world.alerts(1).await;
    let blockers = of_kind(&alerts, "blocker");
    assert_eq!(blockers.len(), 1, "{alerts:#?}");
    assert_eq!(
        blockers[0].subject,
        format!("[gitsync-guard] Git sync blocked: stack {STACK}")
    );
    assert!(blockers[0].message.contains(&blocker_id));
    // Past HealthReportAt (08:00 UTC by default) the day's report comes with the sweep.
    let others: Vec<_> = alerts
        .iter()
        .filter(|alert| alert.attribute("kind") != Some("blocker"))
        .collect();
    assert!(
        others.len() <= 1 && others.iter().all(|a| a.attribute("kind") == Some("report")),
        "{others:#?}"
    );
}

#[tokio::test]
async fn the_event_and_the_sweep_together_alert_once() {
    let world = world(
        "backstop-together",
        "AVAILABLE",
        &[("HEALTH_REPORT", "off")],
    )
    .await;
    world.raise_blocker().await;
    let event = world
        .emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": STACK, "Status": "FAILED", "Commit": "4f2a9c1"}),
        )
        .await;
    let sweep = world.watcher_sweep();
    let (a, b, c) = tokio::join!(
        world.invoke_ok("sync-watcher", &sweep),
        world.invoke_ok("sync-watcher", &event),
        world.invoke_ok("sync-watcher", &event),
    );
    for outcome in [a, b, c] {
        assert!(outcome.get("published").is_some(), "{outcome}");
    }
    let alerts = world.alerts(1).await;
    assert_eq!(of_kind(&alerts, "blocker").len(), 1, "{alerts:#?}");
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
}

#[tokio::test]
async fn a_blocker_still_active_after_the_interval_gets_one_reminder() {
    let world = world(
        "backstop-reminder",
        "AVAILABLE",
        &[("HEALTH_REPORT", "off")],
    )
    .await;
    let blocker_id = world.raise_blocker().await;
    let sweep = world.watcher_sweep();
    world.invoke_ok("sync-watcher", &sweep).await;
    assert_eq!(world.alerts(1).await.len(), 1, "the alert");
    // The sweep's metrics: one EMF line, the blocked stack among its gauges.
    let documents = emf_lines(&world.watch.log_text());
    assert_eq!(documents.len(), 1, "{documents:?}");
    assert_emf(&documents[0], "sync-watcher");
    assert_eq!(documents[0]["BlockedStacks"], 1, "{}", documents[0]);
    assert_eq!(documents[0]["AlertsPublished"], 1, "{}", documents[0]);
    assert_eq!(documents[0]["StacksSwept"], 1, "{}", documents[0]);
    world.age_blocker_alert(&blocker_id, 25).await;
    for _ in 0..3 {
        world.invoke_ok("sync-watcher", &sweep).await;
    }
    let alerts = world.alerts(1).await;
    let reminders = of_kind(&alerts, "reminder");
    assert_eq!((alerts.len(), reminders.len()), (1, 1), "{alerts:#?}");
    let reminder = reminders[0];
    assert!(
        reminder.subject.starts_with(&format!(
            "[gitsync-guard] Git sync still blocked: stack {STACK}, for "
        )),
        "{}",
        reminder.subject
    );
    for expected in [
        REASON,
        "update-sync-blocker",
        blocker_id.as_str(),
        "First alerted:",
    ] {
        assert!(
            reminder.message.contains(expected),
            "{expected:?} in {}",
            reminder.message
        );
    }
}

#[tokio::test]
async fn the_health_report_says_what_is_wrong_and_a_healthy_day_sends_nothing() {
    let healthy = world(
        "report-healthy",
        "AVAILABLE",
        &[("HEALTH_REPORT_AT", "00:00")],
    )
    .await;
    healthy.run_scheduled_jobs().await;
    let quiet = healthy.alerts(0).await;
    assert!(quiet.is_empty(), "healthy under when-unhealthy: {quiet:#?}");
    drop(healthy);

    let world = world("report-demo", "ERROR", &[("HEALTH_REPORT_AT", "00:00")]).await;
    world.raise_blocker().await;
    // The template's functions in logical-id order: connection-auditor records the broken
    // connection before sync-watcher's sweep reports it with its stack.
    world.run_scheduled_jobs().await;
    let alerts = world.alerts(3).await;
    let reports = of_kind(&alerts, "report");
    assert_eq!(reports.len(), 1, "{alerts:#?}");
    let report = reports[0];
    assert_eq!(
        report.subject,
        "[gitsync-guard] Git sync health: 1 blocked stack(s), 1 unhealthy connection(s) or host(s)"
    );
    for expected in [
        format!("{STACK}: blocked since"),
        REASON.to_owned(),
        "is ERROR since".to_owned(),
        format!("stalls 1 stack(s): {STACK}"),
    ] {
        assert!(
            report.message.contains(&expected),
            "{expected:?} in {}",
            report.message
        );
    }
}
