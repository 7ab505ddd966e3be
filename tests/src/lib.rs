//! The end-to-end harness: real processes on loopback ports.
//!
//! - the CodeStar Connections emulator (the workspace's own binary, built beforehand),
//! - moto's server for SNS, SQS, DynamoDB and CloudFormation (`moto_server` on PATH),
//! - the real function binaries under `cargo-lambda lambda watch` (on PATH),
//!
//! all talked to with the real AWS SDK for Rust. `scripts/test.sh` installs the tools and
//! builds everything once before the tests run.

pub mod deployed;
pub mod template;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use connections_emulator::launcher::{Launcher, RunningEmulator};
use gitsync::metrics::{DIMENSION, Metric, NAMESPACE};
use serde_json::{Value, json};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, what: &str, timeout: Duration, process: &mut Child) {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = process.try_wait() {
            panic!("{what} exited with {status} before listening on port {port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on port {port} within {timeout:?}");
}

/// A command running `name` from PATH, failing clearly when the tools are not installed.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is not on PATH: run the tests through scripts/test.sh, or `. scripts/tools.sh` first"
    );
    Command::new(name)
}

/// A child process in its own process group, stopped with everything it started on drop.
pub struct Process {
    child: Child,
    name: String,
}

impl Process {
    fn spawn(mut command: Command, name: &str) -> Self {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        Self {
            child,
            name: name.to_owned(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let stopped = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        if stopped.is_err() {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        eprintln!("{} had to be killed", self.name);
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("an HTTP client")
}

async fn json_response(response: reqwest::Result<reqwest::Response>, what: &str) -> Value {
    let response = response.unwrap_or_else(|err| panic!("{what}: {err}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: HTTP {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|err| panic!("{what}: not JSON ({err}): {body}"))
}

/// The CodeStar Connections emulator, started from the workspace's build.
pub struct Emulator {
    pub url: String,
    process: RunningEmulator,
}

impl Emulator {
    /// The debug build's emulator, which the test script builds.
    pub fn start(scenario: Option<&Path>) -> Self {
        Self::start_binary(
            &target_dir().join("debug").join("connections-emulator"),
            scenario,
        )
    }

    pub fn start_binary(binary: &Path, scenario: Option<&Path>) -> Self {
        assert!(
            binary.is_file(),
            "{} is missing: build the workspace first (cargo build --workspace)",
            binary.display()
        );
        let mut launcher = Launcher::new(binary)
            .args(["--region", REGION, "--account", ACCOUNT])
            .stderr(Stdio::null());
        if let Some(scenario) = scenario {
            launcher = launcher.scenario(scenario);
        }
        let process = launcher
            .start()
            .unwrap_or_else(|err| panic!("connections-emulator: {err}"));
        Self {
            url: process.endpoint().to_owned(),
            process,
        }
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let url = self.process.admin_url(path);
        json_response(http().post(&url).json(&body).send().await, &url).await
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let url = self.process.admin_url(path);
        json_response(http().get(&url).send().await, &url).await
    }
}

/// moto's server: SNS, SQS, DynamoDB, CloudFormation.
pub struct Moto {
    pub url: String,
    _process: Process,
}

impl Moto {
    pub fn start(log_dir: &Path) -> Self {
        let port = free_port();
        let log = std::fs::File::create(log_dir.join("moto.log")).expect("moto log file");
        let mut command = tool("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        let mut process = Process::spawn(command, "moto_server");
        wait_for_port(
            port,
            "moto_server",
            Duration::from_secs(60),
            &mut process.child,
        );
        Self {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
        }
    }
}

/// An SDK configuration for the local services: dummy credentials, fixed region.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(gitsync::adapters::https_client())
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "e2e",
        ))
        .load()
        .await
}

/// The alert topic, a queue subscribed to it, and the ledger table, created in moto.
pub struct AlertSink {
    pub topic_arn: String,
    pub queue_url: String,
    pub table: String,
    sqs: aws_sdk_sqs::Client,
}

/// One alert as it reached the queue through SNS.
#[derive(Debug, Clone)]
pub struct ReceivedAlert {
    pub subject: String,
    pub message: String,
    pub attributes: Vec<(String, String)>,
}

impl ReceivedAlert {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl AlertSink {
    pub async fn create(moto: &Moto) -> Self {
        let config = sdk_config().await;
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&config)
                .endpoint_url(&moto.url)
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&config)
                .endpoint_url(&moto.url)
                .build(),
        );
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&config)
                .endpoint_url(&moto.url)
                .build(),
        );
        let topic_arn = sns
            .create_topic()
            .name("gitsync-guard-alerts")
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic ARN");
        let queue_url = sqs
            .create_queue()
            .queue_name("alerts")
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue URL");
        let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:alerts");
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("subscribe queue");
        let table = "gitsync-guard-ledger".to_owned();
        create_ledger_table(&dynamodb, &table).await;
        Self {
            topic_arn,
            queue_url,
            table,
            sqs,
        }
    }

    /// Waits until `count` alerts arrived (at most `timeout`), then `quiet` more to catch
    /// any extra one; returns everything received and removes it from the queue.
    pub async fn receive(
        &self,
        count: usize,
        timeout: Duration,
        quiet: Duration,
    ) -> Vec<ReceivedAlert> {
        receive_alerts(&self.sqs, &self.queue_url, count, timeout, quiet).await
    }
}

/// What [`AlertSink::receive`] does, on any queue subscribed to an alert topic.
pub async fn receive_alerts(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    count: usize,
    timeout: Duration,
    quiet: Duration,
) -> Vec<ReceivedAlert> {
    receive_bodies(sqs, queue_url, count, timeout, quiet)
        .await
        .iter()
        .map(|body| {
            let envelope: Value = serde_json::from_str(body)
                .unwrap_or_else(|err| panic!("SNS envelope is not JSON ({err}): {body}"));
            let attributes = envelope["MessageAttributes"]
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(name, value)| {
                            (
                                name.clone(),
                                value["Value"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            ReceivedAlert {
                subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
                message: envelope["Message"].as_str().unwrap_or_default().to_owned(),
                attributes,
            }
        })
        .collect()
}

/// Waits until `count` messages arrived on the queue (at most `timeout`), then `quiet` more to
/// catch any extra one; returns every body received and removes it from the queue.
pub async fn receive_bodies(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    count: usize,
    timeout: Duration,
    quiet: Duration,
) -> Vec<String> {
    let mut bodies = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut quiet_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if bodies.len() >= count {
            let until = *quiet_until.get_or_insert(now + quiet);
            if now >= until {
                break;
            }
        } else if now >= deadline {
            break;
        }
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive from the queue");
        for message in output.messages() {
            bodies.push(message.body().unwrap_or_default().to_owned());
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete the received message");
            }
        }
    }
    bodies
}

/// A queue that receives every gitsync-guard event of the default bus, through a rule whose
/// pattern is `{"source": ["gitsync-guard"]}`: what a consumer's rule sees.
pub struct EventSink {
    pub queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

/// The rule's pattern: everything gitsync-guard puts.
pub const EVENTS_PATTERN: &str = r#"{"source": ["gitsync-guard"]}"#;

impl EventSink {
    pub async fn create(moto: &Moto) -> Self {
        let config = sdk_config().await;
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&config)
                .endpoint_url(&moto.url)
                .build(),
        );
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&config)
                .endpoint_url(&moto.url)
                .build(),
        );
        let queue_url = sqs
            .create_queue()
            .queue_name("gitsync-guard-events")
            .send()
            .await
            .expect("create the events queue")
            .queue_url
            .expect("queue URL");
        events
            .put_rule()
            .name("gitsync-guard-events")
            .event_bus_name("default")
            .event_pattern(EVENTS_PATTERN)
            .send()
            .await
            .expect("create the rule");
        events
            .put_targets()
            .rule("gitsync-guard-events")
            .event_bus_name("default")
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(format!(
                        "arn:aws:sqs:{REGION}:{ACCOUNT}:gitsync-guard-events"
                    ))
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target the queue");
        Self { queue_url, sqs }
    }

    /// The events the rule delivered, as EventBridge delivers them (envelope and detail): waits
    /// for `count`, then `quiet` more.
    pub async fn receive(&self, count: usize, timeout: Duration, quiet: Duration) -> Vec<Value> {
        receive_bodies(&self.sqs, &self.queue_url, count, timeout, quiet)
            .await
            .iter()
            .map(|body| {
                serde_json::from_str(body)
                    .unwrap_or_else(|err| panic!("an event is not JSON ({err}): {body}"))
            })
            .collect()
    }
}

/// The ledger table as the template creates it (its keys), through `dynamodb`'s account and
/// region.
pub async fn create_ledger_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key schema")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .send()
        .await
        .expect("create ledger table");
}

/// A TCP relay in front of a service that can be switched off, to make it unreachable.
pub struct Relay {
    pub url: String,
    open: Arc<AtomicBool>,
}

impl Relay {
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("relay listener");
        let port = listener.local_addr().expect("relay address").port();
        let open = Arc::new(AtomicBool::new(true));
        let gate = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !gate.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            open,
        }
    }

    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }
}

/// The result of one invocation through `cargo lambda watch`'s Invoke API.
#[derive(Debug)]
pub struct Invocation {
    pub failed: bool,
    pub body: Value,
}

/// The function binaries running under `cargo-lambda lambda watch`.
pub struct LambdaWatch {
    pub port: u16,
    pub log: PathBuf,
    _process: Process,
}

impl LambdaWatch {
    /// Starts the watcher with `env` added to the functions' environment.
    pub fn start(env: &[(&str, String)], log_dir: &Path) -> Self {
        let port = free_port();
        let log_path = log_dir.join(format!("cargo-lambda-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("cargo lambda log file");
        let mut command = tool("cargo-lambda");
        command
            .args(["lambda", "watch", "--ignore-changes", "--quiet"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .args(["--concurrency", "3"])
            .current_dir(workspace_root())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", "/nonexistent/gitsync-guard/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/gitsync-guard/credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "2")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut process = Process::spawn(command, "cargo-lambda watch");
        wait_for_port(
            port,
            "cargo-lambda watch",
            Duration::from_secs(60),
            &mut process.child,
        );
        Self {
            port,
            log: log_path,
            _process: process,
        }
    }

    pub async fn invoke(&self, function: &str, payload: &Value) -> Invocation {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations",
            self.port
        );
        let response = http()
            .post(&url)
            .json(payload)
            .send()
            .await
            .unwrap_or_else(|err| panic!("invoking {function}: {err}; see {}", self.log.display()));
        let failed = response.headers().contains_key("x-amz-function-error")
            || !response.status().is_success();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Invocation { failed, body }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A fresh directory for logs, outside the workspace so that `cargo lambda watch` does not see it.
pub fn log_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gitsync-guard-e2e-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("log directory");
    dir
}

/// Creates a stack in moto's CloudFormation (it ends CREATE_COMPLETE), for the resolver's
/// stack-status precondition.
pub async fn create_stack(moto: &Moto, name: &str) {
    let config = sdk_config().await;
    let cloudformation = aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::config::Builder::from(&config)
            .endpoint_url(&moto.url)
            .build(),
    );
    cloudformation
        .create_stack()
        .stack_name(name)
        .template_body(r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#)
        .send()
        .await
        .unwrap_or_else(|err| panic!("create stack {name} in moto: {err:?}"));
}

/// Reads a sample event of `events/` (a path relative to that folder).
pub fn sample_event(relative: &str) -> Value {
    let file = workspace_root().join("events").join(relative);
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("{} is not readable JSON", file.display()))
}

/// Builds what every end-to-end test stands on: the emulator (optionally with a scenario),
/// moto, the alert topic with its queue and the ledger table, and optionally a relay in front
/// of SNS that the test can switch off.
pub struct WorldBuilder {
    test: String,
    scenario: Option<PathBuf>,
    sns_relay: bool,
    events_relay: bool,
}

/// The running services of one test, and the environment the functions get to use them.
pub struct World {
    pub emulator: Emulator,
    pub moto: Moto,
    pub sink: AlertSink,
    /// Every event the functions put on the default bus, through a rule.
    pub events: EventSink,
    /// In front of SNS, when the builder asked for it.
    pub relay: Option<Relay>,
    /// In front of EventBridge, when the builder asked for it.
    pub events_relay: Option<Relay>,
    pub config: SdkConfig,
    pub codestar: aws_sdk_codestarconnections::Client,
    pub logs: PathBuf,
}

impl WorldBuilder {
    pub fn new(test: &str) -> Self {
        Self {
            test: test.to_owned(),
            scenario: None,
            sns_relay: false,
            events_relay: false,
        }
    }

    /// An emulator scenario, relative to the workspace root.
    pub fn scenario(mut self, relative: &str) -> Self {
        self.scenario = Some(workspace_root().join(relative));
        self
    }

    /// SNS reached through a [`Relay`], so that the test can make it unreachable.
    pub fn sns_through_relay(mut self) -> Self {
        self.sns_relay = true;
        self
    }

    /// EventBridge reached through a [`Relay`], so that the test can make it unreachable.
    pub fn events_through_relay(mut self) -> Self {
        self.events_relay = true;
        self
    }

    pub async fn build(self) -> World {
        let logs = log_dir(&self.test);
        let emulator = Emulator::start(self.scenario.as_deref());
        let moto = Moto::start(&logs);
        let sink = AlertSink::create(&moto).await;
        let events = EventSink::create(&moto).await;
        let relay = match self.sns_relay {
            true => Some(Relay::start(&moto.url).await),
            false => None,
        };
        let events_relay = match self.events_relay {
            true => Some(Relay::start(&moto.url).await),
            false => None,
        };
        let config = sdk_config().await;
        let codestar = aws_sdk_codestarconnections::Client::from_conf(
            aws_sdk_codestarconnections::config::Builder::from(&config)
                .endpoint_url(&emulator.url)
                .build(),
        );
        World {
            emulator,
            moto,
            sink,
            events,
            relay,
            events_relay,
            config,
            codestar,
            logs,
        }
    }
}

impl World {
    /// What every function needs: the topic, the table and the local endpoints.
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        let sns = self
            .relay
            .as_ref()
            .map_or(&self.moto.url, |relay| &relay.url);
        let eventbridge = self
            .events_relay
            .as_ref()
            .map_or(&self.moto.url, |relay| &relay.url);
        vec![
            ("ALERT_TOPIC_ARN", self.sink.topic_arn.clone()),
            ("LEDGER_TABLE", self.sink.table.clone()),
            // moto's default account, which the world's resources live in.
            ("ACCOUNT_ID", ACCOUNT.to_owned()),
            (
                "AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS",
                self.emulator.url.clone(),
            ),
            ("AWS_ENDPOINT_URL_SNS", sns.clone()),
            // As the template deploys them: events on the default bus.
            ("EVENT_BUS_NAME", "default".to_owned()),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", eventbridge.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.moto.url.clone()),
            ("AWS_ENDPOINT_URL_CLOUDFORMATION", self.moto.url.clone()),
        ]
    }

    /// The functions under `cargo lambda watch`, with [`World::function_env`] and `extra`.
    pub fn start_functions<S: AsRef<str>>(&self, extra: &[(S, String)]) -> LambdaWatch {
        let mut env: Vec<(&str, String)> = self.function_env();
        env.extend(
            extra
                .iter()
                .map(|(name, value)| (name.as_ref(), value.clone())),
        );
        LambdaWatch::start(&env, &self.logs)
    }

    /// The functions as template.yaml deploys them: each with its environment at the
    /// parameters' defaults (and [`World::function_env`]), `overrides` replacing values.
    pub fn start_as_deployed(&self, overrides: &[(&str, &str)]) -> LambdaWatch {
        let mut environment: Vec<(String, String)> = Vec::new();
        for function in template::Template::load().functions() {
            for (name, value) in function.environment {
                let value = overrides
                    .iter()
                    .find(|(overridden, _)| *overridden == name)
                    .map_or(value, |(_, value)| (*value).to_owned());
                environment.push((name, value));
            }
        }
        self.start_functions(&environment)
    }

    /// Someone resolves a blocker of `stack` (UpdateSyncBlocker through the emulator's API).
    pub async fn resolve_blocker(&self, stack: &str, blocker_id: &str, reason: &str) {
        self.codestar
            .update_sync_blocker()
            .id(blocker_id)
            .resource_name(stack)
            .sync_type(aws_sdk_codestarconnections::types::SyncConfigurationType::CfnStackSync)
            .resolved_reason(reason)
            .send()
            .await
            .expect("resolve the blocker");
    }

    /// A DynamoDB client on moto, to look into the ledger table.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&self.config)
                .endpoint_url(&self.moto.url)
                .build(),
        )
    }

    /// The relay in front of SNS; the test built the world with one.
    pub fn relay(&self) -> &Relay {
        self.relay
            .as_ref()
            .expect("the world was built with WorldBuilder::sns_through_relay")
    }
}

/// The EMF documents of a function log, in order. Every line that mentions `"_aws"` must be one
/// whole JSON document with an `_aws` member: CloudWatch extracts metrics only from such lines.
pub fn emf_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|line| line.contains("\"_aws\""))
        .map(|line| {
            let document: Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("not a whole EMF line ({err}): {line}"));
            assert!(document["_aws"].is_object(), "no _aws directive: {line}");
            document
        })
        .collect()
}

/// Checks one EMF document against `gitsync::metrics`: the namespace, the one dimension with
/// `function` as its value, a timestamp, and only the project's metrics, each in its unit,
/// written by `function`, with a whole-number value.
pub fn assert_emf(document: &Value, function: &str) {
    let aws = &document["_aws"];
    assert!(
        aws["Timestamp"]
            .as_u64()
            .is_some_and(|ms| ms > 1_600_000_000_000),
        "timestamp in {document}"
    );
    let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
    assert_eq!(directives.len(), 1, "{document}");
    let directive = &directives[0];
    assert_eq!(directive["Namespace"], NAMESPACE, "{document}");
    assert_eq!(directive["Dimensions"], json!([[DIMENSION]]), "{document}");
    assert_eq!(document[DIMENSION], function, "{document}");
    let declared = directive["Metrics"].as_array().expect("metrics");
    assert!(!declared.is_empty(), "no metric in {document}");
    for definition in declared {
        let name = definition["Name"].as_str().expect("a name");
        let metric = Metric::from_name(name)
            .unwrap_or_else(|| panic!("{name} is not in Metric::ALL: {document}"));
        assert_eq!(definition["Unit"], metric.unit().as_str(), "{document}");
        assert!(
            metric.writers().contains(&function),
            "{name} is not {function}'s: {document}"
        );
        assert!(document[name].is_u64(), "{name}'s value in {document}");
    }
    let members = document.as_object().expect("an object").len();
    assert_eq!(
        members,
        declared.len() + 2,
        "only _aws, {DIMENSION} and the metrics: {document}"
    );
}
