//! The local demo: the emulator with its demo scenario, moto, and the functions under
//! `cargo lambda watch`, driven by the events Git sync would send; prints every alert that
//! reached the SNS topic. Stops everything it started on exit, Ctrl-C included.
//!
//! Run it with `scripts/demo.sh`, which installs the tools and builds first.

use std::time::Duration;

use e2e::{
    AlertSink, Emulator, LambdaWatch, Moto, ReceivedAlert, create_stack, log_dir, workspace_root,
};
use serde_json::{Value, json};

/// acme-bitbucket in emulator/scenarios/demo.yaml, in ERROR there.
const BITBUCKET_CONNECTION: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/b1e2c3d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
/// The resolver's rules in the demo: a stack busy with another update is safe to retry once
/// it is back in a stable state; everything else is left to people.
const RULES: &str = r#"
- name: stack-was-busy
  reason: 'is in [A-Z_]+_IN_PROGRESS state and can not be updated'
  action: resolve
  resolved_reason: 'gitsync-guard rule {rule}: the concurrent update ended; retrying'
  min_age: 10m
  stack_status_in: [CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE]
  max_resolutions: 3
  window: 6h
"#;
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() {
    tokio::select! {
        () = demo() => {}
        _ = tokio::signal::ctrl_c() => eprintln!("\ninterrupted: stopping everything the demo started"),
    }
}

async fn demo() {
    let logs = log_dir("demo");
    let scenario = workspace_root().join("emulator/scenarios/demo.yaml");
    step("Starting the CodeStar Connections emulator (demo scenario), moto, and the functions");
    let emulator = Emulator::start(Some(&scenario));
    let moto = Moto::start(&logs);
    let sink = AlertSink::create(&moto).await;
    // web-frontend exists in CloudFormation (CREATE_COMPLETE) for the resolver's precondition.
    create_stack(&moto, "web-frontend").await;
    let env = |mode: &str| {
        vec![
            ("ALERT_TOPIC_ARN", sink.topic_arn.clone()),
            ("LEDGER_TABLE", sink.table.clone()),
            ("ALERT_FORMAT", "text".to_owned()),
            ("RESOLVER_RULES", RULES.to_owned()),
            ("RESOLVER_MODE", mode.to_owned()),
            // What template.yaml passes: every alert names its account.
            ("ACCOUNT_ID", "123456789012".to_owned()),
            // The day's health report goes out with the first sweep after this time (UTC).
            ("HEALTH_REPORT_AT", "00:00".to_owned()),
            (
                "AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS",
                emulator.url.clone(),
            ),
            ("AWS_ENDPOINT_URL_SNS", moto.url.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", moto.url.clone()),
            ("AWS_ENDPOINT_URL_CLOUDFORMATION", moto.url.clone()),
        ]
    };
    let watch = LambdaWatch::start(&env("dry-run"), &logs);
    let enforcing = LambdaWatch::start(&env("enforce"), &logs);
    println!("  emulator   {}", emulator.url);
    println!("  moto       {}", moto.url);
    println!(
        "  functions  http://127.0.0.1:{} (cargo lambda watch)",
        watch.port
    );
    println!("  logs       {}", logs.display());

    step("sync-watcher: Git sync reports failed deployments of payments-api and web-frontend");
    for stack in ["payments-api", "web-frontend"] {
        let event = emulator
            .admin(
                "resource-sync",
                json!({"ResourceName": stack, "Status": "FAILED"}),
            )
            .await;
        invoke(
            &watch,
            "sync-watcher",
            &event,
            &format!("FAILED event of {stack}"),
        )
        .await;
    }
    print_alerts(&sink.receive(2, WAIT, QUIET).await);

    step("sync-watcher: the same event delivered again (EventBridge delivers at least once)");
    let event = emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": "payments-api", "Status": "FAILED"}),
        )
        .await;
    invoke(
        &watch,
        "sync-watcher",
        &event,
        "FAILED event of payments-api, again",
    )
    .await;
    print_alerts(&sink.receive(0, WAIT, QUIET).await);

    step(
        "blocker-resolver (dry-run): decides on the FAILED event of web-frontend, resolves nothing",
    );
    let web_failed = emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": "web-frontend", "Status": "FAILED"}),
        )
        .await;
    invoke(
        &watch,
        "blocker-resolver",
        &web_failed,
        "FAILED event of web-frontend",
    )
    .await;
    print_alerts(&sink.receive(1, WAIT, QUIET).await);

    step("blocker-resolver (enforce): the same decision, and this time it resolves the blocker");
    invoke(
        &enforcing,
        "blocker-resolver",
        &web_failed,
        "FAILED event of web-frontend",
    )
    .await;
    print_alerts(&sink.receive(1, WAIT, QUIET).await);

    step("sync-watcher: Git sync retried web-frontend and it deployed; the stack recovered");
    let web_succeeded = emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": "web-frontend", "Status": "SUCCEEDED"}),
        )
        .await;
    invoke(
        &watch,
        "sync-watcher",
        &web_succeeded,
        "SUCCEEDED event of web-frontend",
    )
    .await;
    print_alerts(&sink.receive(1, WAIT, QUIET).await);

    let schedule = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    step("connection-auditor: the scheduled audit finds the ERROR and PENDING connections");
    invoke(&watch, "connection-auditor", &schedule, "scheduled audit").await;
    print_alerts(&sink.receive(1, WAIT, QUIET).await);

    step("connection-auditor: the next audit, nothing changed: nothing is sent");
    invoke(&watch, "connection-auditor", &schedule, "scheduled audit").await;
    print_alerts(&sink.receive(0, WAIT, QUIET).await);

    step(
        "sync-watcher: Git sync blocks payments-worker but its event is lost; the hourly sweep \
         catches it, and as the day's first sweep past HEALTH_REPORT_AT sends the health report",
    );
    emulator
        .admin(
            "sync-blockers",
            json!({
                "ResourceName": "payments-worker",
                "CreatedReason": "Resource handler returned message: \"Bucket payments-worker-artifacts already exists\"",
            }),
        )
        .await;
    let sweep = json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "watch"}});
    invoke(&watch, "sync-watcher", &sweep, "scheduled sweep").await;
    print_alerts(&sink.receive(2, WAIT, QUIET).await);

    step("sync-watcher: the next sweep, nothing new: nothing is sent");
    invoke(&watch, "sync-watcher", &sweep, "scheduled sweep").await;
    print_alerts(&sink.receive(0, WAIT, QUIET).await);

    step("connection-auditor: someone re-authorizes acme-bitbucket; the next audit says so");
    emulator
        .admin(
            "connection-status",
            json!({"ConnectionArn": BITBUCKET_CONNECTION, "Status": "AVAILABLE"}),
        )
        .await;
    invoke(&watch, "connection-auditor", &schedule, "scheduled audit").await;
    print_alerts(&sink.receive(1, WAIT, QUIET).await);

    println!("\nDone: everything the demo started is stopped on exit.");
}

fn step(title: &str) {
    println!("\n== {title}");
}

async fn invoke(watch: &LambdaWatch, function: &str, event: &Value, what: &str) {
    let invocation = watch.invoke(function, event).await;
    let verdict = if invocation.failed { "FAILED" } else { "ok" };
    println!("  -> {function} <- {what}: {verdict} {}", invocation.body);
}

fn print_alerts(alerts: &[ReceivedAlert]) {
    if alerts.is_empty() {
        println!("  (no alert reached the topic)");
    }
    for alert in alerts {
        println!(
            "\n  +-- [{}] {} {}",
            alert.attribute("severity").unwrap_or("?"),
            alert.attribute("kind").unwrap_or("?"),
            alert.attribute("stack").unwrap_or_default()
        );
        println!("  | Subject: {}", alert.subject);
        println!("  |");
        for line in alert.message.lines() {
            println!("  | {line}");
        }
        println!("  +--");
    }
}
