//! Never miss a blocker, end to end: the real function binaries under `cargo lambda watch`,
//! run as template.yaml deploys them (its environment at the parameters' defaults, its
//! schedules' inputs), the emulator and moto. A blocker whose event never comes is alerted
//! once by the scheduled jobs; an event and a sweep together alert once; a blocker still
//! ACTIVE after the interval gets one reminder; the health report says what is wrong and
//! nothing is sent on a healthy day. gitsync-guard watches itself: complete scheduled jobs
//! beat (the metric their alarms count, a heartbeat record) and blind ones do not, each
//! function's test job sends one test message and changes nothing, and the report flags an
//! overdue job.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use e2e::deployed::{Deployed, REASON, STACK};
use e2e::{LambdaWatch, ReceivedAlert, WorldBuilder, assert_emf, emf_lines};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(3);

/// One stack under Git sync, and every function running with the template's defaults.
type World = Deployed;

/// `connection` is the status of the stack's connection.
async fn world(test: &str, connection: &str, overrides: &[(&str, &str)]) -> World {
    Deployed::one_stack(WorldBuilder::new(test).build().await, connection, overrides).await
}

async fn alerts(world: &World, at_least: usize) -> Vec<ReceivedAlert> {
    world.sink.receive(at_least, WAIT, QUIET).await
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
    let alerts = alerts(&world, 1).await;
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
    let alerts = alerts(&world, 1).await;
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
    assert_eq!(alerts(&world, 1).await.len(), 1, "the alert");
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
    let alerts = alerts(&world, 1).await;
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
    let quiet = alerts(&healthy, 0).await;
    assert!(quiet.is_empty(), "healthy under when-unhealthy: {quiet:#?}");
    drop(healthy);

    let world = world("report-demo", "ERROR", &[("HEALTH_REPORT_AT", "00:00")]).await;
    world.raise_blocker().await;
    // The template's functions in logical-id order: connection-auditor records the broken
    // connection before sync-watcher's sweep reports it with its stack.
    world.run_scheduled_jobs().await;
    let alerts = alerts(&world, 3).await;
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

/// Every item of the ledger table, as (pk, sk, attributes) in key order.
async fn ledger_items(world: &World) -> Vec<(String, String, String)> {
    let scan = world
        .dynamodb()
        .scan()
        .table_name(&world.sink.table)
        .send()
        .await
        .expect("scans the ledger");
    let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|value| value.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut items: Vec<(String, String, String)> = scan
        .items()
        .iter()
        .map(|item| {
            let mut attributes: Vec<String> = item
                .iter()
                .map(|(name, value)| format!("{name}={value:?}"))
                .collect();
            attributes.sort();
            (text(item, "pk"), text(item, "sk"), attributes.join(","))
        })
        .collect();
    items.sort();
    items
}

/// The last EMF document each function wrote, by its `Function` dimension.
fn last_emf_by_function(watch: &LambdaWatch) -> std::collections::BTreeMap<String, Value> {
    emf_lines(&watch.log_text())
        .into_iter()
        .map(|document| {
            (
                document["Function"].as_str().unwrap_or("?").to_owned(),
                document,
            )
        })
        .collect()
}

#[tokio::test]
async fn complete_scheduled_jobs_beat_and_jobs_that_cannot_read_do_not() {
    let world = world("heartbeat", "AVAILABLE", &[("HEALTH_REPORT", "off")]).await;
    world.run_scheduled_jobs().await;
    let beats = last_emf_by_function(&world.watch);
    assert_eq!(beats.len(), 3, "{beats:#?}");
    for (function, document) in &beats {
        assert_emf(document, function);
        assert_eq!(document["CompleteRuns"], 1, "{function}: {document}");
    }
    let heartbeats: Vec<(String, String)> = ledger_items(&world)
        .await
        .into_iter()
        .filter(|(pk, _, _)| pk == "heartbeat")
        .map(|(pk, sk, _)| (pk, sk))
        .collect();
    let jobs: Vec<(String, String)> = ["audit", "sweep", "watch"]
        .iter()
        .map(|job| ("heartbeat".to_owned(), (*job).to_owned()))
        .collect();
    assert_eq!(heartbeats, jobs, "one heartbeat record per job");
    let before = ledger_items(&world).await;

    // Every Git sync call now fails, as when a policy or an SCP denies them: the jobs run,
    // fail, and say they were not complete.
    world
        .emulator
        .admin("faults", json!({"ServerErrorRate": 1.0}))
        .await;
    for function in world.template.functions() {
        for input in &function.schedule_inputs {
            let invocation = world.watch.invoke(&function.binary, input).await;
            assert!(
                invocation.failed,
                "{} ran blind: {}",
                function.binary, invocation.body
            );
        }
    }
    let deaf = last_emf_by_function(&world.watch);
    for (function, document) in &deaf {
        assert_emf(document, function);
        assert_eq!(document["CompleteRuns"], 0, "{function}: {document}");
    }
    assert_eq!(ledger_items(&world).await, before, "no heartbeat moved");
}

#[tokio::test]
async fn each_functions_test_job_publishes_one_test_message_and_changes_nothing() {
    let world = world("test-alert", "ERROR", &[]).await;
    world.raise_blocker().await;
    let before = ledger_items(&world).await;
    let functions = ["sync-watcher", "blocker-resolver", "connection-auditor"];
    for function in functions {
        let event = e2e::sample_event(&format!("{function}/test-alert.json"));
        let outcome = world.invoke_ok(function, &event).await;
        assert_eq!(outcome["action"], "test", "{function}: {outcome}");
    }
    let alerts = alerts(&world, 3).await;
    assert_eq!(
        alerts.len(),
        3,
        "one each, nothing about the blocker: {alerts:#?}"
    );
    for function in functions {
        let from: Vec<&ReceivedAlert> = alerts
            .iter()
            .filter(|alert| alert.subject.contains(&format!("from {function}:")))
            .collect();
        assert_eq!(from.len(), 1, "{function}: {alerts:#?}");
        let alert = from[0];
        assert_eq!(alert.attribute("kind"), Some("test"), "{alert:#?}");
        assert_eq!(alert.attribute("severity"), Some("info"));
        assert_eq!(alert.attribute("account"), Some(e2e::ACCOUNT));
        assert_eq!(alert.attribute("region"), Some(e2e::REGION));
        for expected in [
            "nothing is wrong",
            "Function:",
            &format!("{}, {}", e2e::ACCOUNT, e2e::REGION),
            "Sent at:",
        ] {
            assert!(
                alert.message.contains(expected),
                "{expected:?} in {}",
                alert.message
            );
        }
    }
    assert_eq!(
        ledger_items(&world).await,
        before,
        "the ledger is as it was"
    );
    assert!(
        emf_lines(&world.watch.log_text()).is_empty(),
        "a test alert is no run: no metric"
    );
}

#[tokio::test]
async fn the_report_says_when_each_job_last_completed_and_flags_an_overdue_one() {
    let world = world(
        "report-overdue",
        "AVAILABLE",
        &[("HEALTH_REPORT_AT", "00:00")],
    )
    .await;
    // blocker-resolver's sweep and the audit complete; then the sweep stops, for 5 hours.
    for function in world.template.functions() {
        if function.binary != "sync-watcher" {
            for input in &function.schedule_inputs {
                world.invoke_ok(&function.binary, input).await;
            }
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    world
        .dynamodb()
        .update_item()
        .table_name(&world.sink.table)
        .key("pk", AttributeValue::S("heartbeat".into()))
        .key("sk", AttributeValue::S("sweep".into()))
        .update_expression("SET completed_at = :last, first_completed_at = :first")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":last", AttributeValue::N((now - 5 * 3600).to_string()))
        .expression_attribute_values(":first", AttributeValue::N((now - 48 * 3600).to_string()))
        .send()
        .await
        .expect("blocker-resolver's heartbeat is in the ledger");
    world
        .invoke_ok("sync-watcher", &world.watcher_sweep())
        .await;
    let alerts = alerts(&world, 1).await;
    let reports = of_kind(&alerts, "report");
    assert_eq!(
        reports.len(),
        1,
        "an overdue job makes the day unhealthy: {alerts:#?}"
    );
    let report = reports[0];
    assert_eq!(
        report.subject,
        "[gitsync-guard] Git sync health: 1 gitsync-guard job(s) OVERDUE, 0 blocked stack(s), 0 unhealthy"
    );
    let jobs = report
        .message
        .split("gitsync-guard's scheduled jobs:")
        .nth(1)
        .unwrap_or_else(|| panic!("the jobs section in {}", report.message));
    let lines: Vec<&str> = jobs.lines().skip(1).take(3).collect();
    assert!(
        lines[0].contains("blocker-resolver's sweep (every 1h): last complete run")
            && lines[0].contains("(5h ago) - OVERDUE"),
        "the overdue job first: {lines:#?}"
    );
    assert!(
        lines[1..]
            .iter()
            .any(|line| line.contains("sync-watcher's sweep (every 1h): last complete run")),
        "{lines:#?}"
    );
    assert!(
        lines[1..]
            .iter()
            .any(|line| line.contains("connection-auditor's audit (every 15m): last complete run")),
        "{lines:#?}"
    );
    assert!(
        !lines[1].contains("OVERDUE") && !lines[2].contains("OVERDUE"),
        "{lines:#?}"
    );
}
