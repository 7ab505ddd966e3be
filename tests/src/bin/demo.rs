//! The local demo: the emulator with its demo scenario, moto, and the functions under
//! `cargo lambda watch`, driven by the events Git sync would send; prints every alert that
//! reached the SNS topic, and beside them the events a rule on the bus received. Stops
//! everything it started on exit, Ctrl-C included.
//!
//! Run it with `scripts/demo.sh`, which installs the tools and builds first.

use std::time::Duration;

use e2e::{
    AlertSink, Emulator, EventSink, LambdaWatch, Moto, ReceivedAlert, create_stack, log_dir,
    sample_event, workspace_root,
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

/// What the demo runs: the services, and the functions twice (the resolver in dry-run and in
/// enforce).
struct Demo {
    emulator: Emulator,
    /// Runs until the demo ends (dropping it stops the server).
    _moto: Moto,
    sink: AlertSink,
    /// What a rule on the default bus with the pattern `{"source": ["gitsync-guard"]}` receives.
    events: EventSink,
    watch: LambdaWatch,
    enforcing: LambdaWatch,
}

async fn demo() {
    let demo = Demo::start().await;
    demo.blockers_from_events().await;
    demo.resolver().await;
    demo.connections().await;
    demo.lost_event_and_report().await;
    demo.test_alert().await;
    println!("\nDone: everything the demo started is stopped on exit.");
}

impl Demo {
    async fn start() -> Self {
        let logs = log_dir("demo");
        let scenario = workspace_root().join("emulator/scenarios/demo.yaml");
        step("Starting the CodeStar Connections emulator (demo scenario), moto, and the functions");
        let emulator = Emulator::start(Some(&scenario));
        let moto = Moto::start(&logs);
        let sink = AlertSink::create(&moto).await;
        let events = EventSink::create(&moto).await;
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
                // As the template deploys them: events on the default bus.
                ("EVENT_BUS_NAME", "default".to_owned()),
                ("AWS_ENDPOINT_URL_EVENTBRIDGE", moto.url.clone()),
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
        Self {
            emulator,
            _moto: moto,
            sink,
            events,
            watch,
            enforcing,
        }
    }

    /// The event Git sync sends when a stack's deployment ends in `status`.
    async fn resource_sync(&self, stack: &str, status: &str) -> Value {
        self.emulator
            .admin(
                "resource-sync",
                json!({"ResourceName": stack, "Status": status}),
            )
            .await
    }

    /// Prints the alerts that reached the topic (`expected` of them, then none for a moment),
    /// and the events a rule on the bus received meanwhile.
    async fn alerts(&self, expected: usize) {
        print_alerts(&self.sink.receive(expected, WAIT, QUIET).await);
        print_events(&self.events.receive(0, QUIET, Duration::from_secs(1)).await);
    }

    async fn blockers_from_events(&self) {
        step("sync-watcher: Git sync reports failed deployments of payments-api and web-frontend");
        for stack in ["payments-api", "web-frontend"] {
            let event = self.resource_sync(stack, "FAILED").await;
            let what = format!("FAILED event of {stack}");
            invoke(&self.watch, "sync-watcher", &event, &what).await;
        }
        self.alerts(2).await;

        step("sync-watcher: the same event delivered again (EventBridge delivers at least once)");
        let event = self.resource_sync("payments-api", "FAILED").await;
        let what = "FAILED event of payments-api, again";
        invoke(&self.watch, "sync-watcher", &event, what).await;
        self.alerts(0).await;
    }

    async fn resolver(&self) {
        step(
            "blocker-resolver (dry-run): decides on the FAILED event of web-frontend, resolves nothing",
        );
        let failed = self.resource_sync("web-frontend", "FAILED").await;
        let what = "FAILED event of web-frontend";
        invoke(&self.watch, "blocker-resolver", &failed, what).await;
        self.alerts(1).await;

        step(
            "blocker-resolver (enforce): the same decision, and this time it resolves the blocker",
        );
        invoke(&self.enforcing, "blocker-resolver", &failed, what).await;
        self.alerts(1).await;

        step("sync-watcher: Git sync retried web-frontend and it deployed; the stack recovered");
        let succeeded = self.resource_sync("web-frontend", "SUCCEEDED").await;
        let what = "SUCCEEDED event of web-frontend";
        invoke(&self.watch, "sync-watcher", &succeeded, what).await;
        self.alerts(1).await;
    }

    async fn audit(&self) {
        let schedule = sample_event("connection-auditor/scheduler-input.json");
        invoke(
            &self.watch,
            "connection-auditor",
            &schedule,
            "scheduled audit",
        )
        .await;
    }

    async fn connections(&self) {
        step("connection-auditor: the scheduled audit finds the ERROR and PENDING connections");
        self.audit().await;
        self.alerts(1).await;

        step("connection-auditor: the next audit, nothing changed: nothing is sent");
        self.audit().await;
        self.alerts(0).await;
    }

    async fn lost_event_and_report(&self) {
        step(
            "sync-watcher: Git sync blocks payments-worker but its event is lost; the hourly sweep \
             catches it, and as the day's first sweep past HEALTH_REPORT_AT sends the health report",
        );
        let blocker = json!({
            "ResourceName": "payments-worker",
            "CreatedReason": "Resource handler returned message: \"Bucket payments-worker-artifacts already exists\"",
        });
        self.emulator.admin("sync-blockers", blocker).await;
        let sweep = sample_event("sync-watcher/scheduler-input.json");
        invoke(&self.watch, "sync-watcher", &sweep, "scheduled sweep").await;
        self.alerts(2).await;

        step("sync-watcher: the next sweep, nothing new: nothing is sent");
        invoke(&self.watch, "sync-watcher", &sweep, "scheduled sweep").await;
        self.alerts(0).await;

        step("connection-auditor: someone re-authorizes acme-bitbucket; the next audit says so");
        let status = json!({"ConnectionArn": BITBUCKET_CONNECTION, "Status": "AVAILABLE"});
        self.emulator.admin("connection-status", status).await;
        self.audit().await;
        self.alerts(1).await;
    }

    async fn test_alert(&self) {
        step(
            "After a deploy: each function's test job sends one test alert through the real path \
             (the command is in the README's Deploy section)",
        );
        for function in ["sync-watcher", "blocker-resolver", "connection-auditor"] {
            let event = sample_event(&format!("{function}/test-alert.json"));
            invoke(&self.watch, function, &event, "test job").await;
        }
        self.alerts(3).await;
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

async fn invoke(watch: &LambdaWatch, function: &str, event: &Value, what: &str) {
    let invocation = watch.invoke(function, event).await;
    let verdict = if invocation.failed { "FAILED" } else { "ok" };
    println!("  -> {function} <- {what}: {verdict} {}", invocation.body);
}

fn print_events(events: &[Value]) {
    for event in events {
        let detail = &event["detail"];
        let about = ["stack", "name", "blockerId", "decision", "change", "status"]
            .iter()
            .filter_map(|field| Some(format!("{field}={}", detail.get(*field)?.as_str()?)))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "  ~~ event on the bus: {} {about} (key {})",
            event["detail-type"].as_str().unwrap_or("?"),
            detail["key"].as_str().unwrap_or("?")
        );
    }
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
