//! template.yaml against the code: the environment each function gets is exactly what it
//! reads, the schedules' inputs are schedule events to the functions, and the Git sync rule's
//! pattern, run by moto's EventBridge, takes the project's Git sync events and rejects others;
//! the dashboard draws exactly the metrics the code writes, and the alarm watches one of them.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use e2e::template::Template;
use e2e::{Moto, REGION, log_dir, sdk_config, workspace_root};
use gitsync::domain::bus::DetailType;
use gitsync::domain::event::Incoming;
use gitsync::domain::selfwatch::Job;
use gitsync::metrics::{DIMENSION, Metric, NAMESPACE};
use regex::Regex;
use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;

fn template() -> Template {
    Template::load()
}

/// The variables a template sets for the code, except SSL_CERT_FILE, which the TLS stack reads
/// (see the trust store test).
fn variable_names(environment: &Yaml) -> BTreeSet<String> {
    environment["Variables"]
        .as_mapping()
        .map(|variables| {
            variables
                .keys()
                .filter_map(|key| key.as_str().map(str::to_owned))
                .filter(|name| name != "SSL_CERT_FILE")
                .collect()
        })
        .unwrap_or_default()
}

fn read_regex() -> Regex {
    Regex::new(
        r#"\.(?:required|required_matching|optional|parsed_or|parsed_within)\(\s*"([A-Z][A-Z0-9_]+)""#,
    )
    .expect("regex")
}

/// The shared crate's parsers of one setting (`pub fn NAME(env)` in config.rs) and the variable
/// each reads: a function reads it when it calls the parser, not because the crate has it.
fn shared_setting_parsers() -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(workspace_root().join("shared/src/config.rs")).expect("config.rs");
    let read = read_regex();
    text.split("\npub fn ")
        .skip(1)
        .filter_map(|section| {
            // The function's body: up to its closing brace at the start of a line.
            let section = section.split("\n}").next().unwrap_or_default();
            let name: String = section
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let variables: Vec<String> = read
                .captures_iter(section)
                .map(|capture| capture[1].to_owned())
                .collect();
            match variables.as_slice() {
                [one] => Some((name, one.clone())),
                _ => None,
            }
        })
        .collect()
}

/// The variables the Rust code reads through `gitsync::config::Env`, except the ones Lambda
/// sets itself (AWS_*) and the developer's RUST_LOG override.
fn variables_read_under(dir: &Path) -> BTreeSet<String> {
    let read = read_regex();
    let parsers = shared_setting_parsers();
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
                for (parser, variable) in &parsers {
                    if text.contains(&format!("{parser}(env)")) {
                        names.insert(variable.clone());
                    }
                }
            }
        }
    }
    names.retain(|name| !name.starts_with("AWS_") && name != "RUST_LOG");
    names
}

#[test]
fn every_function_reads_the_runtime_ca_bundle_once() {
    let template = template();
    assert_eq!(
        template["Globals"]["Function"]["Environment"]["Variables"]["SSL_CERT_FILE"].as_str(),
        Some(gitsync::adapters::AL2023_CA_BUNDLE),
        "SSL_CERT_FILE names provided.al2023's bundle, the path the cold start checks"
    );
}

#[test]
fn each_function_gets_exactly_the_variables_it_reads() {
    let template = template();
    let root = workspace_root();
    let global = variable_names(&template["Globals"]["Function"]["Environment"]);
    let mut shared = variables_read_under(&root.join("shared/src"));
    let parsers = shared_setting_parsers();
    assert!(
        parsers.iter().any(|(parser, _)| parser == "remind_after"),
        "{parsers:?}"
    );
    for (_, variable) in &parsers {
        shared.remove(variable);
    }
    let functions = template.resources("AWS::Serverless::Function");
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
    for (id, function) in template.resources("AWS::Serverless::Function") {
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
fn git_sync_pattern(template: &Template) -> Value {
    let rules = template.resources("AWS::Events::Rule");
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

/// A `!Sub` string's text (serde_yaml_ng keeps the tag).
fn sub_text(value: &Yaml) -> &str {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str(),
        _ => None,
    }
    .expect("a !Sub string")
}

/// A `!Sub` JSON body as JSON: `${Name}` inside a string stays its name, outside one (a
/// number) becomes 0.
fn substituted_json(text: &str) -> Value {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '$' && rest[1..].starts_with('{') && !escaped {
            let end = rest.find('}').expect("closed ${...}");
            out.push_str(if in_string { &rest[2..end] } else { "0" });
            rest = &rest[end + 1..];
            continue;
        }
        match c {
            '"' if !escaped => in_string = !in_string,
            _ => {}
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    serde_json::from_str(&out).unwrap_or_else(|err| panic!("DashboardBody is not JSON: {err}"))
}

/// A metric a dashboard widget draws: namespace, name, dimensions (name, value).
type Drawn = (String, String, Vec<(String, String)>);

/// Every metric the dashboard's widgets draw, expressions aside.
fn drawn_metrics(body: &Value) -> Vec<Drawn> {
    let mut drawn = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        for entry in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let parts = entry.as_array().expect("a metric entry is an array");
            let strings: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            if strings.is_empty() {
                assert!(parts[0].get("expression").is_some(), "{entry}");
                continue;
            }
            assert!(
                strings.len().is_multiple_of(2) && !strings.contains(&"."),
                "full metric entries, no shorthand: {entry}"
            );
            let dimensions = strings[2..]
                .chunks(2)
                .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                .collect();
            drawn.push((strings[0].to_owned(), strings[1].to_owned(), dimensions));
        }
    }
    drawn
}

#[test]
fn the_dashboard_draws_exactly_the_metrics_the_code_writes() {
    let template = template();
    let dashboards = template.resources("AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "{:?}", dashboards.keys());
    let (_, dashboard) = dashboards.into_iter().next().expect("a dashboard");
    let body = substituted_json(sub_text(&dashboard["Properties"]["DashboardBody"]));
    let drawn = drawn_metrics(&body);

    // The GitSyncGuard metrics: each (name, Function) the code declares, and nothing else.
    let ours: BTreeSet<(String, String)> = drawn
        .iter()
        .filter(|(namespace, ..)| namespace == NAMESPACE)
        .map(|(_, name, dimensions)| {
            assert_eq!(dimensions.len(), 1, "{name}: {dimensions:?}");
            assert_eq!(dimensions[0].0, DIMENSION, "{name}");
            (name.clone(), dimensions[0].1.clone())
        })
        .collect();
    // This template's functions' metrics (org-hub's are org/hub.yaml's).
    let binaries: BTreeSet<String> = template
        .resources("AWS::Serverless::Function")
        .values()
        .filter_map(|f| {
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let written: BTreeSet<(String, String)> = Metric::ALL
        .iter()
        .flat_map(|metric| {
            metric
                .writers()
                .iter()
                .filter(|function| binaries.contains(**function))
                .map(|function| (metric.name().to_owned(), (*function).to_owned()))
        })
        .collect();
    assert_eq!(ours, written, "dashboard (metric, Function) vs the code's");
    let names: BTreeSet<&str> = ours.iter().map(|(name, _)| name.as_str()).collect();
    let all: BTreeSet<&str> = Metric::ALL
        .iter()
        .filter(|metric| metric.writers().iter().any(|f| binaries.contains(*f)))
        .map(|metric| metric.name())
        .collect();
    assert_eq!(
        names, all,
        "dashboard metric names vs this template's functions' metrics"
    );

    // Beside them: each function's errors and throttles, the dead-letter queue's depth.
    let aws: BTreeSet<Drawn> = drawn
        .into_iter()
        .filter(|(namespace, ..)| namespace != NAMESPACE)
        .collect();
    let functions = template.resources("AWS::Serverless::Function");
    let mut expected = BTreeSet::new();
    for id in functions.keys() {
        for name in ["Errors", "Throttles"] {
            expected.insert((
                "AWS/Lambda".to_owned(),
                name.to_owned(),
                vec![("FunctionName".to_owned(), id.clone())],
            ));
        }
    }
    expected.insert((
        "AWS/SQS".to_owned(),
        "ApproximateNumberOfMessagesVisible".to_owned(),
        vec![(
            "QueueName".to_owned(),
            "DeadLetterQueue.QueueName".to_owned(),
        )],
    ));
    assert_eq!(aws, expected);

    // Every alarm the template always creates is on the alarm widget (a dashboard cannot name
    // a conditional one: the delivery alarm exists only with the stack's own topic).
    let alarms: BTreeSet<String> = template
        .resources("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, alarm)| alarm["Condition"].is_null())
        .map(|(id, _)| format!("{id}.Arn"))
        .collect();
    let shown: BTreeSet<String> = body["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter(|widget| widget["type"] == "alarm")
        .flat_map(|widget| widget["properties"]["alarms"].as_array().cloned())
        .flatten()
        .filter_map(|arn| arn.as_str().map(str::to_owned))
        .collect();
    assert_eq!(shown, alarms);
}

#[test]
fn the_blocked_too_long_alarm_watches_a_metric_the_code_writes() {
    let template = template();
    let alarms = template.resources("AWS::CloudWatch::Alarm");
    let alarm = &alarms["StackBlockedTooLongAlarm"]["Properties"];
    let queries = alarm["Metrics"].as_sequence().expect("metric math");
    let stats: Vec<&Yaml> = queries
        .iter()
        .filter(|query| !query["MetricStat"].is_null())
        .collect();
    assert_eq!(stats.len(), 1);
    let metric = &stats[0]["MetricStat"]["Metric"];
    assert_eq!(metric["Namespace"].as_str(), Some(NAMESPACE));
    let name = metric["MetricName"].as_str().expect("MetricName");
    let watched = Metric::from_name(name).expect("a metric of Metric::ALL");
    assert_eq!(watched, Metric::OldestBlockerAgeSeconds);
    let dimensions = metric["Dimensions"].as_sequence().expect("Dimensions");
    assert_eq!(dimensions.len(), 1);
    assert_eq!(dimensions[0]["Name"].as_str(), Some(DIMENSION));
    let function = dimensions[0]["Value"].as_str().expect("a constant value");
    assert!(
        watched.writers().contains(&function),
        "{name} by {function}"
    );

    // The metric is in seconds, the threshold in hours: the returned expression divides.
    let stat_id = stats[0]["Id"].as_str().expect("Id");
    let returned: Vec<&Yaml> = queries
        .iter()
        .filter(|query| query["ReturnData"].as_bool() != Some(false))
        .collect();
    assert_eq!(returned.len(), 1);
    let expression = returned[0]["Expression"].as_str().expect("Expression");
    assert_eq!(expression.replace(' ', ""), format!("{stat_id}/3600"));
    match &alarm["Threshold"] {
        Yaml::Tagged(tagged) => {
            assert_eq!(tagged.tag, "Ref");
            assert_eq!(tagged.value.as_str(), Some("BlockedAlarmHours"));
        }
        other => panic!("Threshold is !Ref BlockedAlarmHours, not {other:?}"),
    }
    let parameter = &template["Parameters"]["BlockedAlarmHours"];
    assert_eq!(parameter["Default"].as_u64(), Some(24));
    assert_eq!(parameter["MinValue"].as_u64(), Some(1));
    assert_eq!(
        alarm["TreatMissingData"].as_str(),
        Some("ignore"),
        "neither clears nor fires when sync-watcher stops: its heartbeat alarm says that"
    );
}

/// The heartbeat alarms watch exactly what each scheduled job writes: `CompleteRuns` with its
/// function's `Function` dimension, summed over its schedule's period (derived from the same
/// parameter as the schedule), firing after two periods without a complete run, missing data
/// breaching.
#[test]
fn each_heartbeat_alarm_watches_its_jobs_complete_runs_over_two_of_its_schedule_periods() {
    let template = template();
    let alarms = template.resources("AWS::CloudWatch::Alarm");
    let heartbeats: Vec<(&String, &&Yaml)> = alarms
        .iter()
        .filter(|(_, alarm)| {
            alarm["Properties"]["MetricName"].as_str() == Some(Metric::CompleteRuns.name())
        })
        .collect();
    assert_eq!(heartbeats.len(), Job::ALL.len(), "one per scheduled job");
    let functions = template.resources("AWS::Serverless::Function");
    for job in Job::ALL {
        let function = job.function();
        let (id, alarm) = heartbeats
            .iter()
            .find(|(_, alarm)| {
                alarm["Properties"]["Dimensions"][0]["Value"].as_str() == Some(function)
            })
            .unwrap_or_else(|| panic!("a heartbeat alarm for {function}"));
        let alarm = &alarm["Properties"];
        assert_eq!(alarm["Namespace"].as_str(), Some(NAMESPACE), "{id}");
        assert_eq!(alarm["Dimensions"].as_sequence().map(Vec::len), Some(1));
        assert_eq!(alarm["Dimensions"][0]["Name"].as_str(), Some(DIMENSION));
        assert!(Metric::CompleteRuns.writers().contains(&function), "{id}");
        assert_eq!(alarm["Statistic"].as_str(), Some("Sum"), "{id}");
        assert_eq!(alarm["EvaluationPeriods"].as_u64(), Some(2), "{id}");
        assert_eq!(alarm["DatapointsToAlarm"].as_u64(), Some(2), "{id}");
        assert_eq!(alarm["Threshold"].as_u64(), Some(1), "{id}");
        assert_eq!(
            alarm["ComparisonOperator"].as_str(),
            Some("LessThanThreshold")
        );
        assert_eq!(
            alarm["TreatMissingData"].as_str(),
            Some("breaching"),
            "{id}"
        );
        assert!(
            !alarm["OKActions"].is_null(),
            "{id} says when the job runs again"
        );

        // Period: !FindInMap [JobPeriod, !Ref PARAMETER, Seconds], the parameter of the schedule.
        let Yaml::Tagged(find) = &alarm["Period"] else {
            panic!("{id}'s Period is !FindInMap");
        };
        assert_eq!(find.tag, "FindInMap", "{id}");
        let args = find.value.as_sequence().expect("[map, key, key]");
        assert_eq!(args[0].as_str(), Some("JobPeriod"));
        assert_eq!(args[2].as_str(), Some("Seconds"));
        let Yaml::Tagged(key) = &args[1] else {
            panic!("{id}: the key is !Ref PARAMETER");
        };
        let parameter = key.value.as_str().expect("a parameter");
        let (resource, deployed) = functions
            .iter()
            .find(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(function))
            .expect("the function");
        let schedule = deployed["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(_, event)| event)
            .find(|event| event["Type"].as_str() == Some("ScheduleV2"))
            .unwrap_or_else(|| panic!("{resource} has a schedule"));
        let Yaml::Tagged(expression) = &schedule["Properties"]["ScheduleExpression"] else {
            panic!("{resource}'s ScheduleExpression is a !Sub");
        };
        assert_eq!(
            expression.value.as_str(),
            Some(format!("rate(${{{parameter}}} minutes)").as_str()),
            "{resource} runs on the period its heartbeat alarm watches"
        );
        let input: Value =
            serde_json::from_str(schedule["Properties"]["Input"].as_str().expect("Input"))
                .expect("JSON");
        assert_eq!(input["detail"]["job"], job.as_str(), "{resource}");

        // Every allowed value maps to itself in seconds.
        let allowed = template["Parameters"][parameter]["AllowedValues"]
            .as_sequence()
            .expect("AllowedValues");
        assert!(!allowed.is_empty());
        for minutes in allowed {
            let minutes = minutes.as_u64().expect("minutes");
            let seconds =
                &template["Mappings"]["JobPeriod"][minutes.to_string().as_str()]["Seconds"];
            assert_eq!(
                seconds.as_u64(),
                Some(minutes * 60),
                "{parameter}={minutes}"
            );
            assert!(minutes > 1, "rate(1 minutes) is not an expression");
        }
    }
}

/// Every alarm says why its missing data is treated as it is, right above the setting.
#[test]
fn every_alarm_chooses_its_missing_data_behaviour_and_says_why() {
    let template = template();
    let alarms = template.resources("AWS::CloudWatch::Alarm");
    for (id, alarm) in &alarms {
        let treatment = alarm["Properties"]["TreatMissingData"].as_str();
        assert!(
            matches!(
                treatment,
                Some("breaching" | "notBreaching" | "ignore" | "missing")
            ),
            "{id} sets TreatMissingData"
        );
    }
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let commented = lines
        .windows(2)
        .filter(|pair| pair[1].trim_start().starts_with("TreatMissingData:"))
        .inspect(|pair| {
            assert!(
                pair[0].trim_start().starts_with('#'),
                "no reason above {:?}",
                pair[1]
            );
        })
        .count();
    assert_eq!(commented, alarms.len());
}

/// The conditional topics, the condition that creates each, and the branch of
/// `!If [OwnAlertTopic, ...]` a reference to it must be in (true: the first).
const CONDITIONAL_TOPICS: [(&str, &str, bool); 2] = [
    ("AlertTopic", "OwnAlertTopic", true),
    ("AlarmTopic", "ExternalAlertTopic", false),
];

/// The resources `value` refers to (`!Ref`, `!GetAtt`) outside the `!If [OwnAlertTopic, ...]`
/// branch that guards them, as (resource, where).
fn unguarded_refs(value: &Yaml, path: &str, found: &mut Vec<(String, String)>) {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "If" => {
            let items = tagged.value.as_sequence().expect("!If [condition, a, b]");
            let condition = items[0].as_str().unwrap_or_default();
            for (branch, item) in items[1..].iter().enumerate() {
                let mut inner = Vec::new();
                unguarded_refs(item, path, &mut inner);
                found.extend(inner.into_iter().filter(|(resource, _)| {
                    !CONDITIONAL_TOPICS.iter().any(|(name, _, first)| {
                        name == resource && condition == "OwnAlertTopic" && (branch == 0) == *first
                    })
                }));
            }
        }
        Yaml::Tagged(tagged) if tagged.tag == "Ref" || tagged.tag == "GetAtt" => {
            let target = tagged.value.as_str().unwrap_or_default();
            let target = target.split('.').next().unwrap_or_default();
            found.push((target.to_owned(), path.to_owned()));
        }
        Yaml::Tagged(tagged) => unguarded_refs(&tagged.value, path, found),
        Yaml::Sequence(items) => {
            for item in items {
                unguarded_refs(item, path, found);
            }
        }
        Yaml::Mapping(map) => {
            for (key, item) in map {
                let key = key.as_str().unwrap_or_default();
                unguarded_refs(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// With `AlertTopicArn` set the stack has no alert topic, and without it no alarm topic: every
/// reference to either is guarded by its condition, or CloudFormation rejects one of the two
/// deployments.
#[test]
fn an_external_alert_topic_replaces_the_own_one_everywhere() {
    let template = template();
    let mut found = Vec::new();
    for section in ["Globals", "Resources", "Outputs"] {
        let Some(entries) = template[section].as_mapping() else {
            continue;
        };
        for (id, entry) in entries {
            let id = id.as_str().unwrap_or_default();
            let condition = entry["Condition"].as_str().unwrap_or_default();
            let mut refs = Vec::new();
            unguarded_refs(entry, &format!("{section}.{id}"), &mut refs);
            found.extend(refs.into_iter().filter(|(resource, _)| {
                CONDITIONAL_TOPICS.iter().any(|(name, guard, _)| {
                    // A resource of the same condition (or the email subscription, which
                    // needs OwnAlertTopic) may refer to it directly.
                    name == resource
                        && *guard != condition
                        && !(condition == "SubscribeAlertEmail" && *guard == "OwnAlertTopic")
                })
            }));
        }
    }
    assert!(found.is_empty(), "unguarded references: {found:#?}");
    assert_eq!(
        template["Resources"]["AlertTopic"]["Condition"].as_str(),
        Some("OwnAlertTopic")
    );
    assert_eq!(
        template["Resources"]["AlarmTopic"]["Condition"].as_str(),
        Some("ExternalAlertTopic")
    );
}

/// The schemas' one source is `schemas/*.json`: one per detail-type, each a Draft 4 schema, and
/// the template registers each with exactly that content.
#[test]
fn the_registry_holds_each_detail_types_schema_exactly_as_the_repository_does() {
    let template = template();
    let registered = template.resources("AWS::EventSchemas::Schema");
    assert_eq!(
        registered.len(),
        DetailType::ALL.len(),
        "{:?}",
        registered.keys()
    );
    let on_disk = std::fs::read_dir(workspace_root().join("schemas"))
        .expect("schemas/")
        .count();
    assert_eq!(on_disk, DetailType::ALL.len(), "one file per detail-type");
    for detail_type in DetailType::ALL {
        let name = detail_type.schema_name();
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(workspace_root().join(format!("schemas/{name}.json")))
                .unwrap_or_else(|err| panic!("schemas/{name}.json: {err}")),
        )
        .expect("JSON");
        assert_eq!(file["$schema"], "http://json-schema.org/draft-04/schema#");
        assert_eq!(
            file["properties"]["detail-type"]["enum"],
            json!([detail_type.as_str()])
        );
        jsonschema::draft4::new(&file).unwrap_or_else(|err| panic!("{name}: {err}"));
        let resource = registered
            .get(&format!("{name}Schema"))
            .unwrap_or_else(|| panic!("{name}Schema in template.yaml"));
        let properties = &resource["Properties"];
        assert_eq!(properties["Type"].as_str(), Some("JSONSchemaDraft4"));
        assert_eq!(
            properties["SchemaName"].as_str(),
            Some(format!("gitsync-guard@{name}").as_str())
        );
        let content: Value =
            serde_json::from_str(properties["Content"].as_str().expect("Content")).expect("JSON");
        assert_eq!(
            content,
            file,
            "{name}Schema's Content differs from schemas/{name}.json; its Content must be:\n{}",
            serde_json::to_string(&file).unwrap_or_default()
        );
    }
}

/// A field the code adds and the schema lacks fails validation: details admit no other field.
#[test]
fn a_schema_rejects_a_detail_field_it_does_not_declare() {
    let file = workspace_root().join("schemas/GitSyncTest.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("JSON");
    let validator = jsonschema::draft4::new(&schema).expect("Draft 4");
    let mut event = json!({
        "version": "0", "id": "1", "detail-type": "GitSync Test", "source": "gitsync-guard",
        "account": "123456789012", "time": "2027-01-15T08:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"version": "1", "key": "test#sync-watcher#2027-01-15T08:00:00Z",
                   "account": "123456789012", "region": "us-east-1",
                   "function": "sync-watcher", "sentAt": "2027-01-15T08:00:00Z"}
    });
    assert!(validator.is_valid(&event), "the documented shape is valid");
    event["detail"]["newField"] = json!(1);
    assert!(
        !validator.is_valid(&event),
        "an undeclared field is rejected"
    );
}

/// Each function may put events on the parameter's bus only, and only when events are on.
#[test]
fn each_function_may_put_events_on_its_bus_only() {
    let template = template();
    assert_eq!(
        template["Globals"]["Function"]["Environment"]["Variables"]["EVENT_BUS_NAME"],
        serde_yaml_ng::from_str::<Yaml>("!Ref EventBusName").expect("yaml")
    );
    for (id, function) in template.resources("AWS::Serverless::Function") {
        let statements = function["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .expect("statements");
        let puts: Vec<&Yaml> = statements
            .iter()
            .filter(|statement| {
                serde_yaml_ng::to_string(statement)
                    .unwrap_or_default()
                    .contains("events:")
            })
            .collect();
        assert_eq!(puts.len(), 1, "{id}");
        let Yaml::Tagged(guarded) = puts[0] else {
            panic!("{id}: the PutEvents statement is !If [PutEvents, ...]");
        };
        let branches = guarded.value.as_sequence().expect("!If");
        assert_eq!(branches[0].as_str(), Some("PutEvents"), "{id}");
        let statement = &branches[1];
        assert_eq!(
            statement["Action"].as_str(),
            Some("events:PutEvents"),
            "{id}"
        );
        let resource = serde_yaml_ng::to_string(&statement["Resource"]).unwrap_or_default();
        assert!(
            resource.contains(":event-bus/${EventBusName}"),
            "{id}: {resource}"
        );
    }
}
