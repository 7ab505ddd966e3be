//! An organization: org/hub.yaml against template.yaml (the StackSet deploys the member
//! template with every parameter it requires and none it lacks, pointed at the hub's topic and
//! key), and two member accounts in two regions whose real functions publish to one hub topic
//! in a third account and region, in moto, filtered by account; their events forwarded to the
//! hub's bus by the rule template.yaml gives each member.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_eventbridge::types::Target;
use aws_sdk_sns::config::Credentials;
use e2e::template::Template;
use e2e::workspace_root;
use e2e::{
    ReceivedAlert, WorldBuilder, create_ledger_table, receive_alerts, receive_bodies, sample_event,
};
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

fn hub() -> Yaml {
    let path = workspace_root().join("org/hub.yaml");
    let text = std::fs::read_to_string(&path).expect("org/hub.yaml");
    serde_yaml_ng::from_str(&text).expect("org/hub.yaml is YAML")
}

fn keys(mapping: &Yaml) -> BTreeSet<String> {
    mapping
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(key, _)| key.as_str().map(str::to_owned))
        .collect()
}

/// The tag and value of `!Ref X` or `!GetAtt X.Y`.
fn intrinsic(value: &Yaml) -> Option<(String, String)> {
    match value {
        Yaml::Tagged(tagged) => Some((
            tagged.tag.to_string(),
            tagged.value.as_str().unwrap_or_default().to_owned(),
        )),
        _ => None,
    }
}

#[test]
fn the_stack_set_passes_what_the_member_template_requires_and_only_what_it_has() {
    let member = Template::load();
    let declared = keys(&member["Parameters"]);
    let required: BTreeSet<String> = member["Parameters"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, parameter)| parameter.get("Default").is_none())
        .filter_map(|(key, _)| key.as_str().map(str::to_owned))
        .collect();

    let hub = hub();
    let stack_set = &hub["Resources"]["Members"];
    assert_eq!(
        stack_set["Type"].as_str(),
        Some("AWS::CloudFormation::StackSet")
    );
    let passed: Vec<(String, &Yaml)> = stack_set["Properties"]["Parameters"]
        .as_sequence()
        .expect("the StackSet's Parameters")
        .iter()
        .map(|p| {
            let key = p["ParameterKey"].as_str().expect("ParameterKey").to_owned();
            (key, &p["ParameterValue"])
        })
        .collect();
    let names: BTreeSet<String> = passed.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(
        names.len(),
        passed.len(),
        "a parameter passed twice: {passed:?}"
    );
    assert!(
        required.is_subset(&names),
        "required by template.yaml but not passed: {:?}",
        required.difference(&names).collect::<Vec<_>>()
    );
    assert!(
        names.is_subset(&declared),
        "passed but not in template.yaml: {:?}",
        names.difference(&declared).collect::<Vec<_>>()
    );

    // The members publish to the hub's topic with the hub's key.
    let value = |name: &str| {
        passed
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| intrinsic(value))
    };
    assert_eq!(
        value("AlertTopicArn"),
        Some(("!Ref".to_owned(), "HubTopic".to_owned()))
    );
    assert_eq!(
        value("AlertTopicKmsKeyArn"),
        Some(("!GetAtt".to_owned(), "HubKey.Arn".to_owned()))
    );
    // Their events go to the hub's bus, and the hub's report replaces theirs unless asked.
    assert_eq!(
        value("HubEventBusArn"),
        Some(("!GetAtt".to_owned(), "HubBus.Arn".to_owned()))
    );
    assert_eq!(
        value("HealthReport"),
        Some(("!Ref".to_owned(), "MemberDailyReports".to_owned()))
    );
    assert_eq!(
        hub["Parameters"]["MemberDailyReports"]["Default"].as_str(),
        Some("off")
    );
}

#[test]
fn the_stack_set_follows_the_organization() {
    let hub = hub();
    let properties = &hub["Resources"]["Members"]["Properties"];
    assert_eq!(
        properties["PermissionModel"].as_str(),
        Some("SERVICE_MANAGED")
    );
    assert_eq!(
        properties["AutoDeployment"]["Enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        properties["AutoDeployment"]["RetainStacksOnAccountRemoval"].as_bool(),
        Some(false)
    );
    let capabilities: Vec<&str> = properties["Capabilities"]
        .as_sequence()
        .expect("Capabilities")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(capabilities, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]);
    // Every parameter the hub declares is used somewhere.
    let text = std::fs::read_to_string(workspace_root().join("org/hub.yaml")).expect("hub");
    for name in keys(&hub["Parameters"]) {
        assert!(
            text.matches(&name).count() >= 3,
            "{name} is declared (and grouped) but never used"
        );
    }
}

const HUB_ACCOUNT: &str = "333333333333";
const HUB_REGION: &str = "eu-central-1";
/// (account id, name, region) of each member.
const MEMBERS: [(&str, &str, &str); 2] = [
    ("111111111111", "payments-prod", "us-west-2"),
    ("222222222222", "data-dev", "ap-southeast-2"),
];
const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_secs(2);

/// Credentials acting in `account` (moto: an assumed role's credentials act in its account).
async fn credentials_in(moto_url: &str, account: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&e2e::sdk_config().await)
            .endpoint_url(moto_url)
            .build(),
    );
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/gitsync-guard"))
        .role_session_name("e2e-org")
        .send()
        .await
        .expect("assume a role in the account")
        .credentials
        .expect("credentials");
    Credentials::new(
        assumed.access_key_id,
        assumed.secret_access_key,
        Some(assumed.session_token),
        None,
        "e2e-org",
    )
}

fn config_in(base: &SdkConfig, credentials: &Credentials, region: &str) -> SdkConfig {
    base.to_builder()
        .credentials_provider(aws_sdk_sns::config::SharedCredentialsProvider::new(
            credentials.clone(),
        ))
        .region(Region::new(region.to_owned()))
        .build()
}

fn events_client(config: &SdkConfig, moto: &str) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(config)
            .endpoint_url(moto)
            .build(),
    )
}

/// A rule's event pattern as a template writes it, as EventBridge takes it.
fn event_pattern(rule: &Yaml) -> String {
    serde_json::to_string(&rule["Properties"]["EventPattern"]).expect("pattern as JSON")
}

/// The hub's bus as org/hub.yaml creates it, with a rule sending what reaches it to a queue of
/// the hub account; returns the bus's ARN and the queue's URL.
async fn hub_bus(config: &SdkConfig, moto: &str, sqs: &aws_sdk_sqs::Client) -> (String, String) {
    let events = events_client(config, moto);
    let bus = events
        .create_event_bus()
        .name("hub-gitsync-guard")
        .send()
        .await
        .expect("create the hub bus")
        .event_bus_arn
        .expect("bus ARN");
    let queue = sqs
        .create_queue()
        .queue_name("hub-events")
        .send()
        .await
        .expect("create the hub's events queue")
        .queue_url
        .expect("queue URL");
    let archive_pattern = event_pattern(&hub()["Resources"]["HubArchive"]);
    events
        .put_rule()
        .name("hub-events")
        .event_bus_name("hub-gitsync-guard")
        .event_pattern(archive_pattern)
        .send()
        .await
        .expect("the hub bus's rule");
    let target = Target::builder()
        .id("queue")
        .arn(format!("arn:aws:sqs:{HUB_REGION}:{HUB_ACCOUNT}:hub-events"))
        .build()
        .expect("target");
    events
        .put_targets()
        .rule("hub-events")
        .event_bus_name("hub-gitsync-guard")
        .targets(target)
        .send()
        .await
        .expect("target the queue");
    (bus, queue)
}

/// The member's forwarding rule as template.yaml wires it: on the bus its functions put their
/// events on, everything of gitsync-guard's, to the hub's bus.
async fn forward_to_hub(member: &SdkConfig, account: &str, moto: &str, hub_bus: &str) {
    let template = Template::load();
    let rule = &template["Resources"]["HubForwardRule"];
    assert_eq!(
        rule["Properties"]["EventBusName"],
        serde_yaml_ng::from_str::<Yaml>("!Ref EventBusName").expect("yaml")
    );
    let events = events_client(member, moto);
    events
        .put_rule()
        .name("gitsync-guard-to-hub")
        .event_bus_name("default")
        .event_pattern(event_pattern(rule))
        .send()
        .await
        .expect("the member's forwarding rule");
    let target = Target::builder()
        .id("hub-bus")
        .arn(hub_bus)
        .role_arn(format!("arn:aws:iam::{account}:role/gitsync-guard-to-hub"))
        .build()
        .expect("target");
    events
        .put_targets()
        .rule("gitsync-guard-to-hub")
        .event_bus_name("default")
        .targets(target)
        .send()
        .await
        .expect("target the hub bus");
}

/// A queue in the hub account subscribed to `topic`, with `filter` as its filter policy.
async fn hub_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
    name: &str,
    filter: Option<&str>,
) -> String {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue URL");
    let mut subscribe = sns
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:{HUB_REGION}:{HUB_ACCOUNT}:{name}"));
    if let Some(filter) = filter {
        subscribe = subscribe.attributes("FilterPolicy", filter);
    }
    subscribe.send().await.expect("subscribe the queue");
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_in_two_regions_reach_one_hub_in_a_third_account_and_region() {
    let world = WorldBuilder::new("org")
        .scenario("emulator/scenarios/demo.yaml")
        .build()
        .await;
    let moto = &world.moto.url;

    let hub = config_in(
        &world.config,
        &credentials_in(moto, HUB_ACCOUNT).await,
        HUB_REGION,
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&hub)
            .endpoint_url(moto)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&hub)
            .endpoint_url(moto)
            .build(),
    );
    let topic = sns
        .create_topic()
        .name("gitsync-guard-hub")
        .send()
        .await
        .expect("create the hub topic")
        .topic_arn
        .expect("topic ARN");
    assert_eq!(
        topic,
        format!("arn:aws:sns:{HUB_REGION}:{HUB_ACCOUNT}:gitsync-guard-hub")
    );
    let everything = hub_queue(&sns, &sqs, &topic, "everything", None).await;
    let payments = hub_queue(
        &sns,
        &sqs,
        &topic,
        "payments-only",
        Some(r#"{"account": ["111111111111"]}"#),
    )
    .await;

    let (hub_bus, hub_events) = hub_bus(&hub, moto, &sqs).await;

    let schedule = sample_event("connection-auditor/schedule.json");
    for (account, name, region) in MEMBERS {
        let credentials = credentials_in(moto, account).await;
        let member = config_in(&world.config, &credentials, region);
        forward_to_hub(&member, account, moto, &hub_bus).await;
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&member)
                .endpoint_url(moto)
                .build(),
        );
        create_ledger_table(&dynamodb, &world.sink.table).await;
        // The member's functions act in its account and region, and publish to the hub.
        let watch = world.start_functions(&[
            ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY",
                credentials.secret_access_key().to_owned(),
            ),
            (
                "AWS_SESSION_TOKEN",
                credentials.session_token().unwrap_or_default().to_owned(),
            ),
            ("AWS_REGION", region.to_owned()),
            ("ACCOUNT_ID", account.to_owned()),
            ("ACCOUNT_NAME", name.to_owned()),
            ("ALERT_TOPIC_ARN", topic.clone()),
        ]);
        let invocation = watch.invoke("connection-auditor", &schedule).await;
        assert!(
            !invocation.failed,
            "{name}: {}\n{}",
            invocation.body,
            watch.log_text()
        );
        assert_eq!(
            invocation.body["digest"], "published",
            "{name}: {}",
            invocation.body
        );
    }

    let mut all = receive_alerts(&sqs, &everything, 2, WAIT, QUIET).await;
    assert_eq!(all.len(), 2, "one digest from each member: {all:#?}");
    all.sort_by(|a, b| a.attribute("account").cmp(&b.attribute("account")));
    for ((account, name, region), alert) in MEMBERS.iter().zip(&all) {
        assert_eq!(alert.attribute("account"), Some(*account));
        assert_eq!(alert.attribute("region"), Some(*region));
        assert_from(alert, &format!("{name} ({account}), {region}"));
    }

    let filtered: Vec<ReceivedAlert> = receive_alerts(&sqs, &payments, 1, WAIT, QUIET).await;
    assert_eq!(filtered.len(), 1, "only payments-prod's: {filtered:#?}");
    assert_eq!(filtered[0].attribute("account"), Some("111111111111"));

    // Each member's events reached the hub's bus through its forwarding rule. (moto stamps a
    // forwarded event's envelope with the hub bus's account and region, where AWS keeps the
    // member's: the detail says where each fact is.)
    let bodies = receive_bodies(&sqs, &hub_events, 2, WAIT, QUIET).await;
    let forwarded: Vec<Value> = bodies
        .iter()
        .map(|body| serde_json::from_str(body).expect("an event"))
        .collect();
    let mut origins: Vec<(&str, &str, &str)> = forwarded
        .iter()
        .map(|event| {
            assert_eq!(event["source"], "gitsync-guard", "{event}");
            (
                event["detail"]["account"].as_str().unwrap_or_default(),
                event["detail"]["region"].as_str().unwrap_or_default(),
                event["detail-type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    origins.sort_unstable();
    origins.dedup();
    let expected: Vec<(&str, &str, &str)> = MEMBERS
        .iter()
        .map(|(account, _, region)| (*account, *region, "Connection Health Change"))
        .collect();
    assert_eq!(origins, expected, "{forwarded:#?}");

    the_hub_function_keeps_the_organization_s_state(&world, &hub, &sqs, &everything, &bodies).await;
}

/// org-hub, as org/hub.yaml wires it: the hub queue's messages in an SQS batch (as Lambda's
/// event source mapping delivers them), then its scheduled run: each member's state in the
/// hub's table, and one Organization-wide report on the hub topic.
async fn the_hub_function_keeps_the_organization_s_state(
    world: &e2e::World,
    hub: &SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    topic_queue: &str,
    bodies: &[String],
) {
    let moto = &world.moto.url;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(hub)
            .endpoint_url(moto)
            .build(),
    );
    create_state_table(&dynamodb, "hub-state").await;
    let credentials = credentials_in(moto, HUB_ACCOUNT).await;
    let template = hub_template_environment();
    let mut env: Vec<(String, String)> = template
        .into_iter()
        .filter(|(name, _)| !["STACK_SET_NAME", "SSL_CERT_FILE"].contains(&name.as_str()))
        .collect();
    env.extend([
        ("STATE_TABLE".to_owned(), "hub-state".to_owned()),
        ("ACCOUNT_ID".to_owned(), HUB_ACCOUNT.to_owned()),
        (
            "ALERT_TOPIC_ARN".to_owned(),
            format!("arn:aws:sns:{HUB_REGION}:{HUB_ACCOUNT}:gitsync-guard-hub"),
        ),
        // Due whatever the time of day the test runs.
        ("REPORT_AT".to_owned(), "00:00".to_owned()),
        (
            "AWS_ACCESS_KEY_ID".to_owned(),
            credentials.access_key_id().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            credentials.secret_access_key().to_owned(),
        ),
        (
            "AWS_SESSION_TOKEN".to_owned(),
            credentials.session_token().unwrap_or_default().to_owned(),
        ),
        ("AWS_REGION".to_owned(), HUB_REGION.to_owned()),
    ]);
    let watch = world.start_functions(&env);

    // moto delivers a forwarded event without its account and with the hub's region; AWS
    // keeps the member's (the envelope is whose bus it was put on): restored here as AWS
    // delivers it, from where the detail says the fact is.
    let delivered: Vec<String> = bodies
        .iter()
        .map(|body| {
            let mut event: Value = serde_json::from_str(body).expect("an event");
            event["account"] = event["detail"]["account"].clone();
            event["region"] = event["detail"]["region"].clone();
            event.to_string()
        })
        .collect();
    let records: Vec<Value> = delivered
        .iter()
        .enumerate()
        .map(|(n, body)| serde_json::json!({"messageId": format!("m{n}"), "body": body, "eventSource": "aws:sqs"}))
        .collect();
    let folded = watch
        .invoke("org-hub", &serde_json::json!({"Records": records}))
        .await;
    assert!(!folded.failed, "{}\n{}", folded.body, watch.log_text());
    assert_eq!(
        folded.body["batchItemFailures"],
        serde_json::json!([]),
        "{}",
        folded.body
    );
    for (account, _, region) in MEMBERS {
        let item = dynamodb
            .get_item()
            .table_name("hub-state")
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("member#{account}#{region}")),
            )
            .send()
            .await
            .expect("read the hub's state");
        assert!(
            item.item().is_some(),
            "{account} {region}: no state in the hub's table"
        );
    }

    let schedule = serde_json::json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "org-watch"}});
    let watched = watch.invoke("org-hub", &schedule).await;
    assert!(!watched.failed, "{}\n{}", watched.body, watch.log_text());
    assert_eq!(watched.body["report"], "published", "{}", watched.body);
    let report = receive_alerts(sqs, topic_queue, 1, WAIT, QUIET).await;
    assert_eq!(report.len(), 1, "one Organization report: {report:#?}");
    let text = &report[0].message;
    // The Organization's report as the hub topic's subscribers read it (`--nocapture` shows it).
    println!("{}\n{text}", report[0].subject);
    assert!(
        text.starts_with("Git sync across the Organization"),
        "{text}"
    );
    for (account, _, region) in MEMBERS {
        assert!(
            text.contains(&format!("{account} {region}")),
            "{account} {region}: {text}"
        );
    }
}

/// The hub function's environment as org/hub.yaml sets it, with parameters' defaults.
fn hub_template_environment() -> Vec<(String, String)> {
    let hub = hub();
    let variables = hub["Resources"]["HubFunction"]["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .expect("the hub function's variables")
        .clone();
    variables
        .into_iter()
        .filter_map(|(name, value)| {
            let name = name.as_str()?.to_owned();
            let value = match value {
                Yaml::String(text) => text,
                Yaml::Number(number) => number.to_string(),
                Yaml::Tagged(tagged) => {
                    let parameter = tagged.value.as_str()?;
                    let default = &hub["Parameters"][parameter]["Default"];
                    default
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| default.as_u64().map(|n| n.to_string()))?
                }
                _ => return None,
            };
            Some((name, value))
        })
        .collect()
}

/// The hub's state table as org/hub.yaml creates it: one item per key `pk`.
async fn create_state_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create the hub's state table");
}

/// The mail names the account and region (first among the facts: the unit tests check that).
fn assert_from(alert: &ReceivedAlert, origin: &str) {
    assert!(
        alert
            .message
            .lines()
            .any(|line| line.strip_prefix("Account:").map(str::trim) == Some(origin)),
        "no \"Account: {origin}\" in:\n{}",
        alert.message
    );
}

/// The hub's dashboard draws every metric org-hub writes and nothing it does not; its alarms
/// watch org-hub's metrics, the heartbeat over two of its schedule's periods.
#[test]
fn the_hub_s_dashboard_and_alarms_watch_what_org_hub_writes() {
    use gitsync::metrics::Metric;
    let text = std::fs::read_to_string(workspace_root().join("org/hub.yaml")).expect("hub");
    let drawn: BTreeSet<String> =
        regex::Regex::new(r#"\["GitSyncGuard", "(\w+)", "Function", "([\w-]+)""#)
            .expect("regex")
            .captures_iter(&text)
            .map(|c| {
                assert_eq!(&c[2], "org-hub", "{}", &c[0]);
                c[1].to_owned()
            })
            .collect();
    let written: BTreeSet<String> = Metric::ALL
        .iter()
        .filter(|metric| metric.writers().contains(&"org-hub"))
        .map(|metric| metric.name().to_owned())
        .collect();
    assert_eq!(drawn, written, "the hub dashboard vs what org-hub writes");

    let hub = hub();
    let resources = hub["Resources"].as_mapping().expect("Resources");
    let mut watched = Vec::new();
    for (id, resource) in resources {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let properties = &resource["Properties"];
        let metric = match properties.get("MetricName") {
            Some(_) => properties.clone(),
            None => properties["Metrics"][0]["MetricStat"]["Metric"].clone(),
        };
        if metric["Namespace"] == "GitSyncGuard" {
            let name = metric["MetricName"]
                .as_str()
                .expect("MetricName")
                .to_owned();
            assert_eq!(metric["Dimensions"][0]["Value"], "org-hub", "{id:?}");
            assert!(
                written.contains(&name),
                "{id:?} watches {name}, which org-hub does not write"
            );
            watched.push(name);
        }
        assert!(
            properties.get("TreatMissingData").is_some(),
            "{id:?} chooses missing data"
        );
    }
    assert!(
        watched.contains(&"CompleteRuns".to_owned()),
        "a heartbeat alarm: {watched:?}"
    );
    let heartbeat = &hub["Resources"]["HubHeartbeatAlarm"]["Properties"];
    let schedule = hub["Resources"]["HubFunction"]["Properties"]["Events"]["Watch"]["Properties"]
        ["ScheduleExpression"]
        .as_str()
        .expect("the watch schedule");
    assert_eq!(schedule, "rate(15 minutes)");
    assert_eq!(heartbeat["Period"].as_u64(), Some(2 * 15 * 60));
    assert_eq!(heartbeat["TreatMissingData"].as_str(), Some("breaching"));
}
