//! template.yaml against the code: the environment each function gets is exactly what it
//! reads, the schedules' inputs are schedule events to the functions, and the Git sync rule's
//! pattern, run by moto's EventBridge, takes the project's Git sync events and rejects others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use e2e::{Moto, REGION, log_dir, sdk_config, workspace_root};
use gitsync::domain::event::Incoming;
use regex::Regex;
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;

fn template() -> Yaml {
    let text =
        std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// The template's resources of one type, by logical id.
fn resources<'a>(template: &'a Yaml, kind: &str) -> BTreeMap<String, &'a Yaml> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(id, resource)| (id.as_str().unwrap_or_default().to_owned(), resource))
        .collect()
}

fn variable_names(environment: &Yaml) -> BTreeSet<String> {
    environment["Variables"]
        .as_mapping()
        .map(|variables| {
            variables
                .keys()
                .filter_map(|key| key.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The variables the Rust code reads through `gitsync::config::Env`, except the ones Lambda
/// sets itself (AWS_*) and the developer's RUST_LOG override.
fn variables_read_under(dir: &Path) -> BTreeSet<String> {
    let read = Regex::new(
        r#"\.(?:required|required_matching|optional|parsed_or|parsed_within)\(\s*"([A-Z][A-Z0-9_]+)""#,
    )
    .expect("regex");
    let mut names = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path)
            .expect("readable source dir")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable source");
                for capture in read.captures_iter(&text) {
                    names.insert(capture[1].to_owned());
                }
            }
        }
    }
    names.retain(|name| !name.starts_with("AWS_") && name != "RUST_LOG");
    names
}

#[test]
fn each_function_gets_exactly_the_variables_it_reads() {
    let template = template();
    let root = workspace_root();
    let global = variable_names(&template["Globals"]["Function"]["Environment"]);
    let shared = variables_read_under(&root.join("shared/src"));
    let functions = resources(&template, "AWS::Serverless::Function");
    assert_eq!(
        functions.len(),
        3,
        "three functions: {:?}",
        functions.keys()
    );
    for (id, function) in functions {
        let binary = function["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} names its binary"));
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        let mut set: BTreeSet<String> = global.clone();
        set.extend(variable_names(&function["Properties"]["Environment"]));
        let mut read = shared.clone();
        read.extend(variables_read_under(
            &root.join("functions").join(binary).join("src"),
        ));
        assert_eq!(
            set, read,
            "{id} ({binary}): template variables vs variables the code reads"
        );
    }
    // AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL come from LoggingConfig.
    let logging = &template["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["LogFormat"].as_str(), Some("JSON"));
}

#[test]
fn schedule_inputs_are_schedule_events() {
    let template = template();
    let mut schedules = 0;
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"].as_str() != Some("ScheduleV2") {
                continue;
            }
            schedules += 1;
            let input = event["Properties"]["Input"].as_str().expect("Input");
            let payload: Value = serde_json::from_str(input).expect("Input is JSON");
            assert_eq!(
                Incoming::parse(&payload),
                Ok(Incoming::Schedule),
                "{id}.{name:?} input {input}"
            );
        }
    }
    assert_eq!(schedules, 3, "the audit and the two sweeps");
}

/// The rule's pattern as JSON, from the YAML template.
fn git_sync_pattern(template: &Yaml) -> Value {
    let rules = resources(template, "AWS::Events::Rule");
    let rule = rules.get("GitSyncEventsRule").expect("GitSyncEventsRule");
    let targets: Vec<&str> = rule["Properties"]["Targets"]
        .as_sequence()
        .expect("Targets")
        .iter()
        .filter_map(|t| t["Id"].as_str())
        .collect();
    assert_eq!(targets, ["sync-watcher", "blocker-resolver"]);
    serde_json::to_value(&rule["Properties"]["EventPattern"]).expect("pattern as JSON")
}

/// Every event fixture under events/, as (file, event).
fn fixtures() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    let mut pending = vec![workspace_root().join("events")];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).expect("events dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("fixture");
                let event: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|err| panic!("{} is not valid JSON: {err}", path.display()));
                let name = path.strip_prefix(workspace_root()).unwrap_or(&path);
                found.push((name.display().to_string(), event));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_git_sync_rule_matches_the_fixtures_and_rejects_foreign_events() {
    let pattern = git_sync_pattern(&template());
    let moto = Moto::start(&log_dir("template"));
    let config = sdk_config().await;
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&config)
            .endpoint_url(&moto.url)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&config)
            .endpoint_url(&moto.url)
            .build(),
    );
    let queue_url = sqs
        .create_queue()
        .queue_name("matched")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    events
        .put_rule()
        .name("git-sync")
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("put rule");
    events
        .put_targets()
        .rule("git-sync")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(format!("arn:aws:sqs:{REGION}:123456789012:matched"))
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("put targets");

    let mut sent = Vec::new();
    for (file, event) in fixtures() {
        // Fixtures without an EventBridge envelope are direct invocations: not routed.
        if event.get("detail-type").is_none() {
            continue;
        }
        let is_git_sync = event["source"] == "aws.codeconnections";
        sent.push((file, event, is_git_sync));
    }
    let foreign = [
        json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}}}),
        json!({"source": "aws.codeconnections", "detail-type": "Connection Status Change", "detail": {"status": "ERROR"}}),
        json!({"source": "aws.codestar-connections", "detail-type": "Git Sync Resource Sync Status Change", "detail": {"syncTarget": "x"}}),
        json!({"source": "aws.codeconnections", "detail-type": "git sync resource sync status change", "detail": {"syncTarget": "y"}}),
    ];
    for event in foreign {
        sent.push(("foreign".to_owned(), event, false));
    }
    assert!(
        sent.iter().filter(|(_, _, matches)| *matches).count() >= 3,
        "the Git sync fixtures in events/: {sent:?}"
    );
    for (index, (_, event, _)) in sent.iter().enumerate() {
        // A marker in the detail tells the deliveries apart.
        let mut detail = event["detail"].clone();
        detail["fixture"] = json!(index);
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(event["source"].as_str().unwrap_or_default())
            .detail_type(event["detail-type"].as_str().unwrap_or_default())
            .detail(detail.to_string())
            .build();
        let output = events
            .put_events()
            .entries(entry)
            .send()
            .await
            .expect("put events");
        assert_eq!(output.failed_entry_count(), 0);
    }

    let mut delivered = BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let output = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if output.messages().is_empty() && !delivered.is_empty() {
            break;
        }
        for message in output.messages() {
            let body: Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("event JSON");
            delivered.insert(body["detail"]["fixture"].as_u64().expect("marker") as usize);
        }
    }
    for (index, (file, event, should_match)) in sent.iter().enumerate() {
        assert_eq!(
            delivered.contains(&index),
            *should_match,
            "{file}: {} / {}",
            event["source"],
            event["detail-type"]
        );
    }
}
