//! The admin API under /_emulator/, and fault injection as the SDK experiences it.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_codestarconnections::error::ProvideErrorMetadata;
use aws_sdk_codestarconnections::types::{ConnectionStatus, SyncConfigurationType};
use common::{ACCOUNT, Emulator, REGION, demo};
use serde_json::{Value, json};

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_state_dump_shows_the_loaded_scenario() {
    let emulator = Emulator::start_demo();
    let state = emulator.admin_get("state").await;
    assert_eq!(state["Region"], json!(REGION));
    assert_eq!(state["Account"], json!(ACCOUNT));
    assert_eq!(
        names(&state["Connections"], "ConnectionName"),
        [
            "acme-github",
            "acme-gitlab",
            "acme-bitbucket",
            "acme-ghes",
            "data-team-github"
        ]
    );
    let statuses = names(&state["Connections"], "ConnectionStatus");
    assert_eq!(
        statuses,
        ["AVAILABLE", "AVAILABLE", "ERROR", "AVAILABLE", "PENDING"]
    );
    assert_eq!(
        state["Connections"][1]["ConnectionArn"],
        json!(demo::GITLAB_CONNECTION)
    );
    assert_eq!(state["Connections"][3]["HostArn"], json!(demo::HOST));
    assert_eq!(state["Hosts"][0]["HostArn"], json!(demo::HOST));
    assert_eq!(state["RepositoryLinks"].as_array().map(Vec::len), Some(6));
    assert_eq!(
        state["SyncConfigurations"].as_array().map(Vec::len),
        Some(8)
    );
    let payments = state["SyncConfigurations"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|c| c["ResourceName"] == json!("payments-api"))
        })
        .expect("payments-api is configured");
    assert_eq!(payments["RepositoryLinkId"], json!(demo::PAYMENTS_LINK));
    assert_eq!(
        names(&payments["Blockers"], "Status"),
        ["ACTIVE", "RESOLVED"]
    );
}

#[tokio::test]
async fn reset_clears_state_faults_and_call_counts() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;
    client
        .list_connections()
        .send()
        .await
        .expect("ListConnections succeeds");
    let (status, _) = emulator
        .admin_post("faults", json!({"LatencyMs": 1, "Operations": ["GetHost"]}))
        .await;
    assert_eq!(status, 200);

    let (status, body) = emulator.admin_post("reset", json!({})).await;
    assert_eq!((status, body), (200, json!({"Reset": true})));
    let state = emulator.admin_get("state").await;
    for list in [
        "Connections",
        "Hosts",
        "RepositoryLinks",
        "SyncConfigurations",
    ] {
        assert_eq!(state[list], json!([]), "{list}");
    }
    assert_eq!(
        state["Faults"],
        json!({"LatencyMs": 0, "ThrottleRate": 0.0, "ServerErrorRate": 0.0, "Seed": 0})
    );
    assert_eq!(
        emulator.admin_get("calls").await,
        json!({"total": 0, "operations": {}})
    );
    let listed = client
        .list_connections()
        .send()
        .await
        .expect("ListConnections succeeds");
    assert!(listed.connections().is_empty());
}

#[tokio::test]
async fn calls_are_counted_per_operation() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;
    for _ in 0..3 {
        client
            .get_connection()
            .connection_arn(demo::GITHUB_CONNECTION)
            .send()
            .await
            .expect("GetConnection succeeds");
    }
    client
        .list_hosts()
        .send()
        .await
        .expect("ListHosts succeeds");
    let error = client
        .get_connection()
        .connection_arn("arn:aws:x")
        .send()
        .await
        .expect_err("invalid ARN");
    assert_eq!(error.code(), Some("ValidationException"));
    emulator.admin_get("state").await;
    let calls = emulator.admin_get("calls").await;
    assert_eq!(
        calls,
        json!({"total": 5, "operations": {"GetConnection": 4, "ListHosts": 1}})
    );
}

#[tokio::test]
async fn connection_and_host_statuses_can_be_set() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;

    let (status, body) = emulator
        .admin_post(
            "connection-status",
            json!({"ConnectionArn": demo::BITBUCKET_CONNECTION, "Status": "AVAILABLE"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Connection"]["ConnectionStatus"], json!("AVAILABLE"));
    let connection = client
        .get_connection()
        .connection_arn(demo::BITBUCKET_CONNECTION)
        .send()
        .await
        .expect("GetConnection succeeds")
        .connection
        .expect("a connection");
    assert_eq!(
        connection.connection_status(),
        Some(&ConnectionStatus::Available)
    );

    // Either prefix finds the connection.
    let renamed = demo::GITHUB_CONNECTION.replace("codestar-connections", "codeconnections");
    let (status, body) = emulator
        .admin_post(
            "connection-status",
            json!({"ConnectionArn": renamed, "Status": "ERROR"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Connection"]["ConnectionArn"],
        json!(demo::GITHUB_CONNECTION)
    );

    let (status, body) = emulator
        .admin_post(
            "connection-status",
            json!({"ConnectionArn": demo::GITHUB_CONNECTION, "Status": "BROKEN"}),
        )
        .await;
    assert_eq!(status, 400);
    let message = body["error"].as_str().expect("a message");
    assert!(
        message.contains("Status") && message.contains("AVAILABLE"),
        "{message}"
    );
    let (status, body) = emulator
        .admin_post(
            "connection-status",
            json!({"ConnectionArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/nope", "Status": "ERROR"}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("connection/nope")),
        "{body}"
    );
    let (status, body) = emulator
        .admin_post("connection-status", json!({"Status": "ERROR"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("ConnectionArn")),
        "{body}"
    );

    let (status, body) = emulator
        .admin_post(
            "host-status",
            json!({"HostArn": demo::HOST, "Status": "VPC_CONFIG_FAILED_INITIALIZATION", "StatusMessage": "subnet has no route"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hosts = client
        .list_hosts()
        .send()
        .await
        .expect("ListHosts succeeds");
    assert_eq!(
        hosts.hosts()[0].status(),
        Some("VPC_CONFIG_FAILED_INITIALIZATION")
    );
    assert_eq!(
        hosts.hosts()[0].status_message(),
        Some("subnet has no route")
    );
    let (status, body) = emulator
        .admin_post("host-status", json!({"HostArn": demo::HOST, "Status": ""}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("'Status'")),
        "{body}"
    );
}

#[tokio::test]
async fn sync_blockers_can_be_raised_on_configured_resources() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;

    let (status, body) = emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "platform-vpc", "CreatedReason": "Stack platform-vpc is in UPDATE_IN_PROGRESS state and can not be updated.",
                   "Contexts": [{"Key": "StackName", "Value": "platform-vpc"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["Id"].as_str().expect("an id").to_owned();
    assert_eq!(body, json!({"Id": id}));
    let summary = client
        .get_sync_blocker_summary()
        .resource_name("platform-vpc")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("GetSyncBlockerSummary succeeds")
        .sync_blocker_summary
        .expect("a summary");
    let blocker = &summary.latest_blockers()[0];
    assert_eq!(blocker.id(), id);
    assert_eq!(blocker.contexts()[0].value(), "platform-vpc");

    let (status, body) = emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "ghost-stack", "CreatedReason": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("ghost-stack")),
        "{body}"
    );
    let (status, body) = emulator
        .admin_post("sync-blockers", json!({"ResourceName": "platform-vpc"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("CreatedReason")),
        "{body}"
    );
    let (status, _) = emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "platform-vpc", "CreatedReason": "x", "SyncType": "OTHER"}),
        )
        .await;
    assert_eq!(status, 400);
}

fn assert_event_envelope(event: &Value, detail_type: &str, resource: &str) {
    let keys: Vec<&str> = event
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "account",
            "detail",
            "detail-type",
            "id",
            "region",
            "resources",
            "source",
            "time",
            "version"
        ]
    );
    assert_eq!(event["version"], json!("0"));
    assert_eq!(event["detail-type"], json!(detail_type));
    assert_eq!(event["source"], json!("aws.codeconnections"));
    assert_eq!(event["account"], json!(ACCOUNT));
    assert_eq!(event["region"], json!(REGION));
    assert_eq!(event["resources"], json!([resource]));
    let id = event["id"].as_str().expect("an id");
    assert_eq!(id.len(), 36, "{id}");
    let time = event["time"].as_str().expect("a time");
    assert!(
        time.len() == 20 && time.ends_with('Z') && &time[10..11] == "T",
        "{time}"
    );
}

#[tokio::test]
async fn resource_syncs_answer_the_eventbridge_event() {
    let emulator = Emulator::start_demo();
    let payments_link_arn = format!(
        "arn:aws:codestar-connections:{REGION}:{ACCOUNT}:repository-link/{}",
        demo::PAYMENTS_LINK
    );
    let commit = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";

    let (status, event) = emulator
        .admin_post(
            "resource-sync",
            json!({"ResourceName": "payments-worker", "Status": "INITIATED", "Commit": commit}),
        )
        .await;
    assert_eq!(status, 200, "{event}");
    assert_event_envelope(
        &event,
        "Git Sync Resource Sync Status Change",
        &payments_link_arn,
    );
    assert_eq!(
        event["detail"],
        json!({"providerType": "GitHub", "commit": commit, "repositoryName": "payments-service", "branch": "main",
               "syncType": "CFN_STACK_SYNC", "syncTarget": "payments-worker", "status": "INITIATED"})
    );

    let (_, event) = emulator
        .admin_post(
            "resource-sync",
            json!({"ResourceName": "payments-worker", "Status": "FAILED",
                   "Events": [{"Event": "Resource PaymentsQueue failed to create", "Type": "ERROR", "ExternalId": "stack-event-1"}]}),
        )
        .await;
    assert_eq!(event["detail"]["status"], json!("FAILED"));
    assert_eq!(event["detail"]["previousSync"], json!("INITIATED"));
    assert_eq!(
        event["detail"]["commit"],
        json!(commit),
        "a step without Commit continues the attempt"
    );

    let client = emulator.sdk().await;
    let status = client
        .get_resource_sync_status()
        .resource_name("payments-worker")
        .sync_type(SyncConfigurationType::CfnStackSync)
        .send()
        .await
        .expect("GetResourceSyncStatus succeeds");
    let latest = status.latest_sync().expect("latest");
    assert_eq!(latest.events().len(), 1);
    assert_eq!(latest.events()[0].external_id(), Some("stack-event-1"));
    assert!(status.latest_successful_sync().is_none());

    let (status, body) = emulator
        .admin_post(
            "resource-sync",
            json!({"ResourceName": "ghost", "Status": "INITIATED"}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("ghost")),
        "{body}"
    );
    let (status, body) = emulator
        .admin_post(
            "resource-sync",
            json!({"ResourceName": "payments-worker", "Status": "QUEUED"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("Status")),
        "{body}"
    );
}

#[tokio::test]
async fn repository_syncs_answer_the_eventbridge_event() {
    let emulator = Emulator::start_demo();
    let link_arn = format!(
        "arn:aws:codestar-connections:{REGION}:{ACCOUNT}:repository-link/{}",
        demo::PLATFORM_LINK
    );

    let (status, event) = emulator
        .admin_post(
            "repository-sync",
            json!({"RepositoryLinkId": demo::PLATFORM_LINK, "Branch": "main", "Status": "QUEUED"}),
        )
        .await;
    assert_eq!(status, 200, "{event}");
    assert_event_envelope(&event, "Git Sync Repository Sync Status Change", &link_arn);
    let commit = event["detail"]["commit"]
        .as_str()
        .expect("a generated commit")
        .to_owned();
    assert!(
        commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    assert_eq!(
        event["detail"],
        json!({"connectionArn": demo::GITHUB_CONNECTION, "providerType": "GitHub", "repositoryName": "platform-infra",
               "repositoryLinkId": demo::PLATFORM_LINK, "ownerId": "acme", "commit": commit, "branch": "main",
               "syncType": "CFN_STACK_SYNC", "status": "QUEUED"})
    );
    let (_, event) = emulator
        .admin_post("repository-sync", json!({"RepositoryLinkId": demo::PLATFORM_LINK, "Branch": "main", "Status": "SUCCEEDED"}))
        .await;
    assert_eq!(event["detail"]["previousSync"], json!("QUEUED"));
    assert_eq!(event["detail"]["commit"], json!(commit));

    let (status, body) = emulator
        .admin_post(
            "repository-sync",
            json!({"RepositoryLinkId": "00000000-0000-4000-8000-000000000000", "Branch": "main", "Status": "QUEUED"}),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("00000000-0000-4000-8000-000000000000")),
        "{body}"
    );
    let (status, body) = emulator
        .admin_post(
            "repository-sync",
            json!({"RepositoryLinkId": demo::PLATFORM_LINK, "Status": "QUEUED"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("Branch")),
        "{body}"
    );
}

#[tokio::test]
async fn persistent_faults_surface_after_the_sdks_three_attempts() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;

    let (status, body) = emulator
        .admin_post(
            "faults",
            json!({"ThrottleRate": 1.0, "Seed": 1, "Operations": ["GetConnection"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Faults"]["Operations"], json!(["GetConnection"]));
    let error = client
        .get_connection()
        .connection_arn(demo::GITHUB_CONNECTION)
        .send()
        .await
        .expect_err("always throttled");
    assert_eq!(error.code(), Some("ThrottlingException"));
    // Other operations, and the admin API, are not faulted.
    client
        .list_connections()
        .send()
        .await
        .expect("ListConnections is not faulted");
    assert_eq!(
        emulator.admin_get("calls").await,
        json!({"total": 4, "operations": {"GetConnection": 3, "ListConnections": 1}})
    );

    emulator.admin_post("reset", json!({})).await;
    emulator
        .admin_post("faults", json!({"ServerErrorRate": 1.0}))
        .await;
    let error = client
        .list_hosts()
        .send()
        .await
        .expect_err("always failing");
    assert_eq!(error.code(), Some("InternalServerException"));
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(
        emulator.admin_get("calls").await["operations"]["ListHosts"],
        json!(3)
    );
    let (status, _, body) = emulator
        .call("CodeStar_connections_20191201.ListHosts", "{}")
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (500, Some("InternalServerException"))
    );

    let (status, body) = emulator.admin_post("faults", json!({})).await;
    assert_eq!(status, 200, "{body}");
    client.list_hosts().send().await.expect("faults cleared");
}

/// Which of the next calls succeed under some faults, observed over raw HTTP.
async fn outcomes(emulator: &Emulator, faults: &Value, calls: usize) -> Vec<bool> {
    emulator.admin_post("faults", faults.clone()).await;
    let body = json!({"ConnectionArn": demo::GITHUB_CONNECTION}).to_string();
    let mut outcomes = Vec::new();
    for _ in 0..calls {
        let (status, _, _) = emulator
            .call("CodeStar_connections_20191201.GetConnection", &body)
            .await;
        outcomes.push(status == 200);
    }
    outcomes
}

async fn get_connection_calls(emulator: &Emulator) -> u64 {
    emulator.admin_get("calls").await["operations"]["GetConnection"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn intermittent_faults_are_retried_by_the_sdk() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;
    // Find a seed whose first call fails and second succeeds; setting faults re-seeds, so
    // the SDK then meets exactly that sequence.
    let mut chosen = None;
    for seed in 0..64 {
        let faults = json!({"ThrottleRate": 0.5, "Seed": seed});
        if outcomes(&emulator, &faults, 2).await == [false, true] {
            chosen = Some(faults);
            break;
        }
    }
    let faults = chosen.expect("some seed fails once then succeeds");
    emulator.admin_post("faults", faults.clone()).await;
    let before = get_connection_calls(&emulator).await;
    client
        .get_connection()
        .connection_arn(demo::GITHUB_CONNECTION)
        .send()
        .await
        .expect("the SDK retries the throttled attempt");
    assert_eq!(get_connection_calls(&emulator).await - before, 2);

    // Server errors are retried too.
    let mut chosen = None;
    for seed in 0..64 {
        let faults = json!({"ServerErrorRate": 0.5, "Seed": seed});
        if outcomes(&emulator, &faults, 3).await == [false, false, true] {
            chosen = Some(faults);
            break;
        }
    }
    let faults = chosen.expect("some seed fails twice then succeeds");
    emulator.admin_post("faults", faults).await;
    let before = get_connection_calls(&emulator).await;
    client
        .get_connection()
        .connection_arn(demo::GITHUB_CONNECTION)
        .send()
        .await
        .expect("the SDK's third attempt succeeds");
    assert_eq!(get_connection_calls(&emulator).await - before, 3);
}

#[tokio::test]
async fn a_seed_reproduces_the_same_faults() {
    let emulator = Emulator::start();
    let faults = json!({"ThrottleRate": 0.4, "ServerErrorRate": 0.2, "Seed": 42});
    let mut runs = Vec::new();
    for _ in 0..2 {
        emulator.admin_post("faults", faults.clone()).await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            let (status, _, body) = emulator
                .call("CodeStar_connections_20191201.ListHosts", "{}")
                .await;
            statuses.push((status, body["__type"].as_str().map(str::to_owned)));
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let kinds: Vec<_> = runs[0].iter().map(|(status, _)| *status).collect();
    assert!(
        kinds.contains(&200) && kinds.contains(&400) && kinds.contains(&500),
        "{kinds:?}"
    );
    assert!(
        runs[0].iter().all(|(status, kind)| match status {
            400 => kind.as_deref() == Some("ThrottlingException"),
            500 => kind.as_deref() == Some("InternalServerException"),
            _ => kind.is_none(),
        }),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn latency_delays_calls_without_blocking_others() {
    let emulator = Emulator::start_demo();
    let client = emulator.sdk().await;
    emulator
        .admin_post("faults", json!({"LatencyMs": 400}))
        .await;

    let started = Instant::now();
    let calls = (0..6).map(|_| {
        client
            .get_connection()
            .connection_arn(demo::GITHUB_CONNECTION)
            .send()
    });
    let admin = async {
        let started = Instant::now();
        emulator.admin_get("calls").await;
        started.elapsed()
    };
    let (results, admin_elapsed) = tokio::join!(futures::future::join_all(calls), admin);
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(1_600),
        "six delayed calls ran concurrently: {elapsed:?}"
    );
    assert!(
        admin_elapsed < Duration::from_millis(400),
        "the admin API is not delayed: {admin_elapsed:?}"
    );
}

#[tokio::test]
async fn invalid_faults_are_rejected_with_the_field_named() {
    let emulator = Emulator::start();
    for (body, expected) in [
        (json!({"ThrottleRate": 1.5}), "ThrottleRate"),
        (json!({"ServerErrorRate": -0.1}), "ServerErrorRate"),
        (json!({"LatencyMs": "slow"}), "LatencyMs"),
        (json!({"Operations": ["GetConection"]}), "GetConection"),
        (json!({"Latency": 5}), "Latency"),
    ] {
        let (status, answer) = emulator.admin_post("faults", body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|m| m.contains(expected)),
            "{body}: {answer}"
        );
    }
}

#[tokio::test]
async fn seeding_loads_thousands_of_resources_and_rejects_bad_documents() {
    let emulator = Emulator::start();
    let connections: Vec<Value> = (0..20).map(|i| json!({"Name": format!("conn-{i}"), "ProviderType": "GitHub", "Status": "AVAILABLE"})).collect();
    let links: Vec<Value> = (0..2_000)
        .map(|i| json!({"Connection": format!("conn-{}", i % 20), "OwnerId": "acme", "RepositoryName": format!("repo-{i}")}))
        .collect();
    let stacks: Vec<Value> = (0..2_000)
        .map(|i| json!({"ResourceName": format!("stack-{i}"), "Repository": format!("acme/repo-{i}")}))
        .collect();
    let blockers: Vec<Value> = (0..100)
        .map(|i| json!({"ResourceName": format!("stack-{i}"), "CreatedReason": "Stack is in UPDATE_ROLLBACK_FAILED state", "CreatedAt": "1h ago"}))
        .collect();
    let (status, counts) = emulator
        .admin_post(
            "seed",
            json!({"Connections": connections, "RepositoryLinks": links, "SyncConfigurations": stacks, "SyncBlockers": blockers}),
        )
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(
        counts,
        json!({"Hosts": 0, "Connections": 20, "RepositoryLinks": 2000, "SyncConfigurations": 2000, "SyncBlockers": 100})
    );
    let client = emulator.sdk().await;
    let links = client
        .list_repository_links()
        .max_results(100)
        .send()
        .await
        .expect("ListRepositoryLinks succeeds");
    assert_eq!(links.repository_links().len(), 100);
    assert!(links.next_token().is_some());

    // A later document can refer to what an earlier one created.
    let (status, counts) = emulator
        .admin_post("seed", json!({"SyncConfigurations": [{"ResourceName": "late-stack", "Repository": "acme/repo-7", "Branch": "dev"}]}))
        .await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["SyncConfigurations"], json!(1));

    for (document, expected) in [
        (
            json!({"SyncConfigurations": [{"ResourceName": "x", "Repository": "acme/nope"}]}),
            "SyncConfigurations[0].Repository",
        ),
        (
            json!({"Connections": [{"Name": "conn-0", "ProviderType": "GitHub"}]}),
            "Connections[0].Name",
        ),
        (
            json!({"Connections": [{"Name": "new", "ProviderType": "GitHubb"}]}),
            "Connections[0].ProviderType",
        ),
        (
            json!({"RepositoryLinks": [{"Connection": "conn-1", "OwnerId": "acme", "RepositoryName": "r", "Id": "not-a-uuid"}]}),
            "RepositoryLinks[0].Id",
        ),
        (
            json!({"SyncBlockers": [{"ResourceName": "stack-1", "CreatedReason": "x", "Status": "RESOLVED"}]}),
            "SyncBlockers[0].ResolvedReason",
        ),
        (json!({"Stacks": []}), "Stacks"),
    ] {
        let (status, answer) = emulator.admin_post("seed", document.clone()).await;
        assert_eq!(status, 400, "{document}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|m| m.contains(expected)),
            "{document}: {answer}"
        );
    }
    // A rejected document changed nothing.
    let state = emulator.admin_get("state").await;
    assert_eq!(state["Connections"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        state["SyncConfigurations"].as_array().map(Vec::len),
        Some(2001)
    );
}

#[tokio::test]
async fn unknown_admin_paths_answer_404_with_a_hint() {
    let emulator = Emulator::start();
    let (status, body) = emulator.admin_post("nope", json!({})).await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|m| m.contains("/_emulator/")),
        "{body}"
    );
}
