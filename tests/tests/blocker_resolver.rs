//! blocker-resolver end to end: the real binary under `cargo lambda watch` (one watcher per
//! mode, dry-run and enforce), the real SDK, the emulator for Git sync (seeded through its
//! admin API), moto for CloudFormation (the stack-status precondition), SNS, SQS and
//! DynamoDB. Blocker state is read back with GetSyncBlockerSummary, messages from the queue,
//! API calls from the emulator's counters. `--check-rules` is run as a process.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use aws_sdk_codestarconnections::types::{BlockerStatus, SyncBlocker, SyncConfigurationType};
use e2e::{
    LambdaWatch, ReceivedAlert, WorldBuilder, assert_emf, create_stack, emf_lines, log_dir,
    sample_event, workspace_root,
};
use serde_json::{Value, json};

const FUNCTION: &str = "blocker-resolver";
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(2);

const RULES: &str = r#"
- name: stack-busy
  reason: 'is in [A-Z_]+_IN_PROGRESS state and can not be updated'
  action: resolve
  resolved_reason: 'gitsync-guard: rule {rule} resolved {blocker_id}'
  min_age: 10m
  stack_status_in: [CREATE_COMPLETE, UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE]
- name: transient-throttling
  reason: '(?i)rate exceeded'
  action: resolve
  resolved_reason: 'gitsync-guard: rule {rule} resolved {blocker_id}'
  max_resolutions: 1
  window: 1h
- name: flaky-deployments
  reason: 'InternalFailure'
  action: resolve
  resolved_reason: 'gitsync-guard: rule {rule} resolved {blocker_id}'
  max_resolutions: 2
  window: 6h
"#;
const FLAKY: &str = "Deployment failed: InternalFailure (Service: CloudFormation)";

fn busy(stack: &str) -> String {
    format!("Stack {stack} is in UPDATE_IN_PROGRESS state and can not be updated.")
}
const THROTTLED: &str =
    "Resource handler returned message: \"Rate exceeded (Service: Lambda, Status Code: 429)\"";
const UNKNOWN: &str = "Template format error: Unresolved resource dependencies [ArtifactsBucket] in the Resources block of the template";

fn recorded(rule: &str, blocker_id: &str) -> String {
    format!("gitsync-guard: rule {rule} resolved {blocker_id}")
}

struct World {
    base: e2e::World,
    dry_run: LambdaWatch,
    enforce: LambdaWatch,
}

impl std::ops::Deref for World {
    type Target = e2e::World;
    fn deref(&self) -> &e2e::World {
        &self.base
    }
}

/// Stacks `in_cloudformation` exist in moto (CREATE_COMPLETE); every stack of `stacks` is
/// under Git sync in the emulator, from repository `acme/REPO`; `blockers` are seeded as in
/// the emulator's scenario documents. One resolver runs per mode.
async fn world(
    test: &str,
    stacks: &[(&str, &str)],
    in_cloudformation: &[&str],
    blockers: Value,
) -> World {
    let base = WorldBuilder::new(test).build().await;
    for stack in in_cloudformation {
        create_stack(&base.moto, stack).await;
    }
    let mut repositories: Vec<&str> = stacks.iter().map(|(_, repository)| *repository).collect();
    repositories.sort_unstable();
    repositories.dedup();
    let seeded = base
        .emulator
        .admin(
            "seed",
            json!({
                "Connections": [{"Name": "acme-github", "ProviderType": "GitHub", "Status": "AVAILABLE"}],
                "RepositoryLinks": repositories.iter().map(|repository| json!({
                    "Connection": "acme-github", "OwnerId": "acme", "RepositoryName": repository
                })).collect::<Vec<_>>(),
                "SyncConfigurations": stacks.iter().map(|(stack, repository)| json!({
                    "ResourceName": stack,
                    "Repository": format!("acme/{repository}"),
                    "ConfigFile": format!("stacks/{stack}/deployment.yaml"),
                })).collect::<Vec<_>>(),
                "SyncBlockers": blockers,
            }),
        )
        .await;
    assert_eq!(seeded["SyncConfigurations"], stacks.len(), "{seeded}");
    let resolver = |mode: &str| {
        base.start_functions(&[
            ("RESOLVER_RULES", RULES.to_owned()),
            ("RESOLVER_MODE", mode.to_owned()),
            ("SWEEP_CONCURRENCY", "4".to_owned()),
        ])
    };
    World {
        dry_run: resolver("dry-run"),
        enforce: resolver("enforce"),
        base,
    }
}

/// A blocker as the emulator's scenario documents write it.
fn blocker(stack: &str, id: &str, reason: &str, created: &str) -> Value {
    json!({
        "ResourceName": stack, "Id": id, "CreatedReason": reason, "CreatedAt": created,
        "Contexts": [{"Key": "StackName", "Value": stack}]
    })
}

fn schedule() -> Value {
    sample_event("blocker-resolver/sweep-scheduler-input.json")
}

impl World {
    async fn invoke_ok(&self, watch: &LambdaWatch, event: &Value) -> Value {
        let invocation = watch.invoke(FUNCTION, event).await;
        assert!(
            !invocation.failed,
            "invocation failed: {}\n{}",
            invocation.body,
            watch.log_text()
        );
        invocation.body
    }

    /// The status and ResolvedReason of one blocker, read with the SDK.
    /// The latest blockers of a stack, read through the API as any client would.
    async fn latest_blockers(&self, stack: &str) -> Vec<SyncBlocker> {
        let summary = self
            .codestar
            .get_sync_blocker_summary()
            .resource_name(stack)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .expect("GetSyncBlockerSummary");
        summary
            .sync_blocker_summary()
            .map(|s| s.latest_blockers().to_vec())
            .unwrap_or_default()
    }

    async fn blocker_state(&self, stack: &str, id: &str) -> (BlockerStatus, Option<String>) {
        let blocker = self
            .latest_blockers(stack)
            .await
            .into_iter()
            .find(|b| b.id() == id)
            .unwrap_or_else(|| panic!("no blocker {id} on {stack}"));
        (
            blocker.status().clone(),
            blocker.resolved_reason().map(str::to_owned),
        )
    }

    /// The Ids of a stack's ACTIVE blockers.
    async fn active_blockers(&self, stack: &str) -> Vec<String> {
        self.latest_blockers(stack)
            .await
            .iter()
            .filter(|b| *b.status() == BlockerStatus::Active)
            .map(|b| b.id().to_owned())
            .collect()
    }

    /// Waits until Git sync (the emulator) has raised a blocker other than `previous`.
    async fn next_blocker(&self, stack: &str, previous: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(id) = self
                .active_blockers(stack)
                .await
                .into_iter()
                .find(|id| id != previous)
            {
                return id;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Git sync raised no new blocker on {stack}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The emulator's API call counts by operation (the test's own reads included).
    async fn calls(&self) -> BTreeMap<String, u64> {
        let report = self.emulator.admin_get("calls").await;
        report["operations"]
            .as_object()
            .map(|operations| {
                operations
                    .iter()
                    .map(|(name, count)| (name.clone(), count.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The EMF documents one watcher's log holds once there are `count`, each checked against
    /// the code's metrics: one per invocation that evaluated a stack or swept.
    async fn metrics(&self, watch: &LambdaWatch, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let documents = emf_lines(&watch.log_text());
            if documents.len() >= count || std::time::Instant::now() > deadline {
                assert_eq!(documents.len(), count, "{}", watch.log_text());
                for document in &documents {
                    assert_emf(document, FUNCTION);
                }
                return documents;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn messages(&self, count: usize) -> Vec<ReceivedAlert> {
        let mut messages = self.sink.receive(count, WAIT, QUIET).await;
        messages.sort_by(|a, b| a.subject.cmp(&b.subject));
        messages
    }
}

/// The metrics of one EMF document, by name.
fn metric_values(document: &Value) -> BTreeMap<String, u64> {
    document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|metric| metric["Name"].as_str())
        .map(|name| (name.to_owned(), document[name].as_u64().unwrap_or(u64::MAX)))
        .collect()
}

/// `document` has exactly these counts, besides the sweep's duration when it is a sweep.
fn assert_counts(document: &Value, expected: &[(&str, u64)]) {
    let mut values = metric_values(document);
    if expected.iter().any(|(name, _)| *name == "StacksSwept") {
        assert!(values.remove("SweepDurationMs").is_some(), "{document}");
    }
    let expected: BTreeMap<String, u64> = expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), *value))
        .collect();
    assert_eq!(values, expected, "{document}");
}

fn count(calls: &BTreeMap<String, u64>, operation: &str) -> u64 {
    calls.get(operation).copied().unwrap_or(0)
}

fn subjects(messages: &[ReceivedAlert]) -> Vec<&str> {
    messages.iter().map(|m| m.subject.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_path_reports_in_dry_run_and_resolves_once_in_enforce() {
    let world = world(
        "resolver-event",
        &[("orders-api", "commerce")],
        &["orders-api"],
        json!([
            blocker("orders-api", "orders-busy", &busy("orders-api"), "30m ago"),
            blocker("orders-api", "orders-unknown", UNKNOWN, "2h ago"),
        ]),
    )
    .await;
    let event = world
        .emulator
        .admin(
            "resource-sync",
            json!({"ResourceName": "orders-api", "Status": "FAILED", "Commit": "8d2f0c1e9b7a"}),
        )
        .await;
    assert_eq!(event["detail"]["status"], "FAILED");

    // Dry run: one message saying what enforce would do; nothing changes.
    for _ in 0..2 {
        let outcome = world.invoke_ok(&world.dry_run, &event).await;
        assert_eq!(outcome["mode"], "dry-run", "{outcome}");
        assert_eq!(outcome["would_resolve"], 1, "{outcome}");
        assert_eq!(outcome["unmatched"], 1, "{outcome}");
    }
    let messages = world.messages(1).await;
    assert_eq!(
        subjects(&messages),
        ["[gitsync-guard] [dry-run] Blocker would be resolved: stack orders-api"],
        "{messages:#?}"
    );
    let message = &messages[0];
    assert_eq!(message.attribute("kind"), Some("resolution"));
    assert_eq!(message.attribute("severity"), Some("info"));
    assert_eq!(message.attribute("stack"), Some("orders-api"));
    for expected in [
        "orders-busy".to_owned(),
        "stack-busy".to_owned(),
        recorded("stack-busy", "orders-busy"),
        busy("orders-api"),
    ] {
        assert!(
            message.message.contains(&expected),
            "{expected:?} in {}",
            message.message
        );
    }
    assert_eq!(
        world.blocker_state("orders-api", "orders-busy").await,
        (BlockerStatus::Active, None)
    );
    assert_eq!(count(&world.calls().await, "UpdateSyncBlocker"), 0);

    // Enforce: resolved once, reported once, across a duplicate delivery.
    let first = world.invoke_ok(&world.enforce, &event).await;
    assert_eq!(first["resolved"], 1, "{first}");
    let duplicate = world.invoke_ok(&world.enforce, &event).await;
    assert_eq!(duplicate["resolved"], 0, "{duplicate}");
    let messages = world.messages(1).await;
    assert_eq!(
        subjects(&messages),
        ["[gitsync-guard] Blocker resolved: stack orders-api"],
        "{messages:#?}"
    );
    assert!(
        messages[0]
            .message
            .contains(&recorded("stack-busy", "orders-busy"))
    );
    assert_eq!(
        world.blocker_state("orders-api", "orders-busy").await,
        (
            BlockerStatus::Resolved,
            Some(recorded("stack-busy", "orders-busy"))
        )
    );
    assert_eq!(
        world.blocker_state("orders-api", "orders-unknown").await,
        (BlockerStatus::Active, None),
        "a blocker no rule matches is never resolved"
    );
    assert_eq!(count(&world.calls().await, "UpdateSyncBlocker"), 1);

    // One metrics line per invocation; one stack's evaluation has no sweep gauges.
    let decided = |resolved, would_resolve, published| {
        [
            ("BlockersResolved", resolved),
            ("BlockersWouldResolve", would_resolve),
            ("BlockersHeldBack", 0),
            ("ResolveFailures", 0),
            ("MessagesPublished", published),
            ("ApiErrors", 0),
            ("ApiThrottles", 0),
        ]
    };
    let dry_run = world.metrics(&world.dry_run, 2).await;
    assert_counts(&dry_run[0], &decided(0, 1, 1));
    assert_counts(&dry_run[1], &decided(0, 1, 0));
    let enforce = world.metrics(&world.enforce, 2).await;
    assert_counts(&enforce[0], &decided(1, 0, 1));
    assert_counts(&enforce[1], &decided(0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_decides_every_stack_and_the_loop_guard_stops_a_returning_blocker() {
    let world = world(
        "resolver-sweep",
        &[
            ("orders-api", "commerce"),
            ("billing-api", "commerce"),
            ("ledger-api", "finance"),
            ("reports-api", "finance"),
            ("search-api", "finance"),
        ],
        &["orders-api", "ledger-api", "reports-api", "search-api"],
        json!([
            blocker("orders-api", "orders-busy", &busy("orders-api"), "30m ago"),
            // Not in CloudFormation: the precondition holds it back.
            blocker(
                "billing-api",
                "billing-busy",
                &busy("billing-api"),
                "30m ago"
            ),
            blocker("ledger-api", "ledger-throttled-1", THROTTLED, "20m ago"),
            blocker("reports-api", "reports-unknown", UNKNOWN, "3h ago"),
            // Too young for min_age: left for a later sweep.
            blocker("search-api", "search-busy", &busy("search-api"), "1m ago"),
        ]),
    )
    .await;
    let before = world.calls().await;

    // Dry run: the decisions and messages of enforce, nothing changed.
    let outcome = world.invoke_ok(&world.dry_run, &schedule()).await;
    assert_eq!(outcome["action"], "swept", "{outcome}");
    assert_eq!(outcome["stacks"], 5, "{outcome}");
    assert_eq!(
        (
            &outcome["would_resolve"],
            &outcome["held_back"],
            &outcome["unmatched"],
            &outcome["too_young"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1)),
        "{outcome}"
    );
    let after = world.calls().await;
    assert_eq!(
        count(&after, "ListRepositoryLinks") - count(&before, "ListRepositoryLinks"),
        1
    );
    assert_eq!(
        count(&after, "ListSyncConfigurations") - count(&before, "ListSyncConfigurations"),
        2,
        "one per repository link"
    );
    assert_eq!(
        count(&after, "GetSyncBlockerSummary") - count(&before, "GetSyncBlockerSummary"),
        5,
        "one per stack"
    );
    assert_eq!(count(&after, "UpdateSyncBlocker"), 0);
    let messages = world.messages(4).await;
    assert_eq!(
        subjects(&messages),
        [
            "[gitsync-guard] [dry-run] Blocker held back: stack billing-api",
            "[gitsync-guard] [dry-run] Blocker would be resolved: stack ledger-api",
            "[gitsync-guard] [dry-run] Blocker would be resolved: stack orders-api",
            "[gitsync-guard] [dry-run] Sweep: 2 would be resolved, 1 held back, 0 failed",
        ],
        "{messages:#?}"
    );
    assert_eq!(messages[0].attribute("severity"), Some("critical"));
    assert!(
        messages[0]
            .message
            .contains("the stack does not exist in CloudFormation"),
        "{}",
        messages[0].message
    );
    world.invoke_ok(&world.dry_run, &schedule()).await;
    assert!(
        world.messages(0).await.is_empty(),
        "a second dry run says nothing new"
    );

    // Enforce: the same decisions, carried out.
    let outcome = world.invoke_ok(&world.enforce, &schedule()).await;
    assert_eq!(
        (&outcome["resolved"], &outcome["held_back"]),
        (&json!(2), &json!(1)),
        "{outcome}"
    );
    let messages = world.messages(4).await;
    assert_eq!(
        subjects(&messages),
        [
            "[gitsync-guard] Blocker held back: stack billing-api",
            "[gitsync-guard] Blocker resolved: stack ledger-api",
            "[gitsync-guard] Blocker resolved: stack orders-api",
            "[gitsync-guard] Sweep: 2 resolved, 1 held back, 0 failed",
        ],
        "{messages:#?}"
    );
    for (stack, id, rule) in [
        ("orders-api", "orders-busy", "stack-busy"),
        ("ledger-api", "ledger-throttled-1", "transient-throttling"),
    ] {
        assert_eq!(
            world.blocker_state(stack, id).await,
            (BlockerStatus::Resolved, Some(recorded(rule, id)))
        );
    }
    for (stack, id) in [
        ("billing-api", "billing-busy"),
        ("reports-api", "reports-unknown"),
        ("search-api", "search-busy"),
    ] {
        assert_eq!(
            world.blocker_state(stack, id).await,
            (BlockerStatus::Active, None)
        );
    }
    assert_eq!(count(&world.calls().await, "UpdateSyncBlocker"), 2);

    // The throttling comes back: Git sync raises a new blocker. The loop guard (one per
    // hour) holds it back instead of resolving again.
    let returned = world
        .emulator
        .admin(
            "sync-blockers",
            json!({"ResourceName": "ledger-api", "CreatedReason": THROTTLED}),
        )
        .await;
    let returned_id = returned["Id"].as_str().expect("blocker Id").to_owned();
    let outcome = world.invoke_ok(&world.enforce, &schedule()).await;
    assert_eq!(
        (&outcome["resolved"], &outcome["held_back"]),
        (&json!(0), &json!(2)),
        "{outcome}"
    );
    let messages = world.messages(2).await;
    assert_eq!(
        subjects(&messages),
        [
            "[gitsync-guard] Blocker held back: stack ledger-api",
            "[gitsync-guard] Sweep: 0 resolved, 2 held back, 0 failed",
        ],
        "{messages:#?}"
    );
    assert!(
        messages[0].message.contains(
            "blocker-resolver already resolved 1 blocker(s) on this stack in the last 1h, and the rule allows at most 1"
        ),
        "{}",
        messages[0].message
    );
    assert_eq!(
        world.blocker_state("ledger-api", &returned_id).await,
        (BlockerStatus::Active, None)
    );
    assert_eq!(count(&world.calls().await, "UpdateSyncBlocker"), 2);

    world.invoke_ok(&world.enforce, &schedule()).await;
    assert!(
        world.messages(0).await.is_empty(),
        "nothing new: no message, no summary"
    );

    // One metrics line per sweep: its size, the ACTIVE blockers, the decisions, the messages
    // (the summary included), and its heartbeat (every stack was read).
    let swept = |active, resolved, would_resolve, held_back, published| {
        [
            ("StacksSwept", 5),
            ("CompleteRuns", 1),
            ("ActiveBlockers", active),
            ("BlockersResolved", resolved),
            ("BlockersWouldResolve", would_resolve),
            ("BlockersHeldBack", held_back),
            ("ResolveFailures", 0),
            ("MessagesPublished", published),
            ("ApiErrors", 0),
            ("ApiThrottles", 0),
        ]
    };
    let dry_run = world.metrics(&world.dry_run, 2).await;
    assert_counts(&dry_run[0], &swept(5, 0, 2, 1, 4));
    assert_counts(&dry_run[1], &swept(5, 0, 2, 1, 0));
    let enforce = world.metrics(&world.enforce, 3).await;
    assert_counts(&enforce[0], &swept(5, 2, 0, 1, 4));
    assert_counts(&enforce[1], &swept(4, 0, 0, 2, 2));
    assert_counts(&enforce[2], &swept(4, 0, 0, 2, 0));
}

fn check_rules(file: &std::path::Path) -> std::process::Output {
    let binary = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug")
        .join("blocker-resolver");
    assert!(
        binary.is_file(),
        "{} is missing: cargo build -p blocker-resolver --bins",
        binary.display()
    );
    Command::new(&binary)
        .arg("--check-rules")
        .arg(file)
        .output()
        .expect("run blocker-resolver --check-rules")
}

#[test]
fn check_rules_explains_a_good_file_and_rejects_a_bad_one() {
    let example = workspace_root().join("functions/blocker-resolver/rules.example.yaml");
    let good = check_rules(&example);
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{good:?}");
    for expected in [
        "4 valid rule(s)",
        "1. never-touch-failed-rollbacks (ignore)",
        "2. transient-throttling (resolve)",
        "once it is at least 10m old",
        "only while fewer than 3 blocker(s) were resolved by blocker-resolver on the stack in the last 6h",
        "A blocker no rule matches is left alone.",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }

    let dir = log_dir("check-rules");
    let bad_file = dir.join("rules.yaml");
    std::fs::write(
        &bad_file,
        "rules:\n  - name: retry-busy\n    reason: 'IN_PROGRESS'\n    action: resolve\n    \
         resolved_reason: 'gitsync-guard {rule} {blocker_id}'\n    stack_status_in: [UPDATE_COMPLET]\n",
    )
    .expect("write the bad rules");
    let bad = check_rules(&bad_file);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert!(
        stderr.contains(
            "invalid: rule #1 \"retry-busy\": field `stack_status_in`: \"UPDATE_COMPLET\" is not a CloudFormation stack status"
        ),
        "{stderr}"
    );
    assert!(bad.stdout.is_empty());
}

/// Git sync as it behaves: resolving a blocker retries the latest commit, and when the cause
/// persists the retry fails and raises a new blocker with the same reason. Nothing but the
/// resolver and Git sync acts between the rounds; the loop guard stops the third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_guard_stops_a_cause_that_persists() {
    let world = world(
        "loop-guard-persistent",
        &[("flaky-api", "flaky")],
        &[],
        json!([{
            "ResourceName": "flaky-api", "Id": "flaky-1", "CreatedReason": FLAKY,
            "CreatedAt": "1h ago", "Persistent": true,
            "Contexts": [{"Key": "StackName", "Value": "flaky-api"}]
        }]),
    )
    .await;
    let request = json!({"stack": "flaky-api"});
    let mut blocker = "flaky-1".to_owned();
    for round in 1..=3 {
        let outcome = world.invoke_ok(&world.enforce, &request).await;
        if round < 3 {
            assert_eq!(outcome["resolved"], 1, "round {round}: {outcome}");
            blocker = world.next_blocker("flaky-api", &blocker).await;
        } else {
            assert_eq!(outcome["held_back"], 1, "round {round}: {outcome}");
        }
    }
    assert_eq!(count(&world.calls().await, "UpdateSyncBlocker"), 2);
    assert_eq!(world.active_blockers("flaky-api").await, [blocker.clone()]);
    let messages = world.messages(3).await;
    assert_eq!(
        subjects(&messages),
        [
            "[gitsync-guard] Blocker held back: stack flaky-api",
            "[gitsync-guard] Blocker resolved: stack flaky-api",
            "[gitsync-guard] Blocker resolved: stack flaky-api",
        ],
        "{messages:#?}"
    );
    assert!(
        messages[0].message.contains(&blocker),
        "the third blocker is held back"
    );
}
