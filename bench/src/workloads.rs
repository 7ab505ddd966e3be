//! The measurements themselves.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::template::Template;
use e2e::{AlertSink, Emulator, Moto, REGION, log_dir, workspace_root};
use serde::Serialize;
use serde_json::{Value, json};

use crate::Options;
use crate::runtime_api::{Run, RuntimeApi};

const FUNCTIONS: [&str; 3] = ["sync-watcher", "blocker-resolver", "connection-auditor"];
/// The sweeps' concurrency in the sweep benchmark (the template's default).
const SWEEP_CONCURRENCY: usize = 8;
/// connection-auditor lists sync configurations this many links at a time.
const AUDIT_CONCURRENCY: usize = 8;
/// Listings whose pages follow one another; everything else can run `concurrency` at a time.
const SEQUENTIAL_LISTINGS: [&str; 3] = ["ListConnections", "ListHosts", "ListRepositoryLinks"];
/// Rules the sweep evaluates: one that matches the generated blockers and leaves them be.
const BENCH_RULES: &str = r#"{"rules": [{"name": "leave-failed-rollbacks", "reason": "ROLLBACK_FAILED", "action": "ignore"}]}"#;

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub memory_gib: f64,
    pub cpu_model: String,
    pub date: String,
}

#[derive(Debug, Serialize)]
pub struct Timing {
    pub median_ms: f64,
    pub p90_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct ColdStart {
    pub name: String,
    pub runs: usize,
    /// Spawn to the first `GET /runtime/invocation/next` (for boto3: the whole process).
    pub init: Timing,
    /// The first invocation, against the emulator with no added latency.
    pub first_invocation: Option<Timing>,
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Sweep {
    pub function: String,
    pub stacks: usize,
    pub connections: usize,
    pub hosts: usize,
    pub latency_ms: u64,
    pub concurrency: usize,
    pub calls: u64,
    /// Listing pages, which cannot overlap one another.
    pub sequential_calls: u64,
    pub calls_per_stack: f64,
    /// GetSyncBlockerSummary calls per stack in one run.
    pub blocker_reads_per_stack: f64,
    pub wall_s: f64,
    pub ideal_s: f64,
    pub ratio: f64,
    pub peak_rss_mib: f64,
}

#[derive(Debug, Serialize)]
pub struct Package {
    pub function: String,
    pub zip_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub requests: usize,
    pub connections: usize,
    pub seconds: f64,
    pub requests_per_second: f64,
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub profile: String,
    pub quick: bool,
    pub cold_starts: Vec<ColdStart>,
    pub sweeps: Vec<Sweep>,
    /// Each function and how many times an hour template.yaml's default schedules run it.
    pub schedules: Vec<(String, f64)>,
    pub packages: Vec<Package>,
    pub emulator: Throughput,
}

fn timing(mut samples: Vec<Duration>) -> Timing {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Timing {
        median_ms: at(0.5),
        p90_ms: at(0.9),
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn machine() -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        cpu_model,
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    }
}

struct World {
    emulator: Emulator,
    moto: Moto,
    sink: AlertSink,
    binaries: PathBuf,
}

impl World {
    /// The environment a function process gets: the local services and its configuration.
    fn command(&self, binary: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(self.binaries.join(binary));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/gitsync-guard/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/gitsync-guard/credentials",
            )
            .env("AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS", &self.emulator.url)
            .env("AWS_ENDPOINT_URL_SNS", &self.moto.url)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &self.moto.url)
            .env("AWS_ENDPOINT_URL_CLOUDFORMATION", &self.moto.url)
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .env("ALERT_TOPIC_ARN", &self.sink.topic_arn)
            .env("LEDGER_TABLE", &self.sink.table)
            .env("RESOLVER_MODE", "dry-run")
            .env("RESOLVER_RULES", BENCH_RULES)
            .env("SWEEP_CONCURRENCY", SWEEP_CONCURRENCY.to_string())
            // The sweep alone: the daily report would add its own reads to one run a day.
            .env("HEALTH_REPORT", "off");
        command
    }

    async fn run_once(
        &self,
        binary: &str,
        event: &Value,
        timeout: Duration,
    ) -> Result<Run, String> {
        let api = RuntimeApi::start(event.clone()).await?;
        api.run(self.command(binary), timeout)
            .await
            .map_err(|err| format!("{binary}: {err}"))
    }
}

pub async fn run_all(options: &Options) -> Result<Results, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let binaries = target.join(&options.profile);
    for binary in FUNCTIONS
        .iter()
        .chain(&["hello-lambda", "connections-emulator"])
    {
        if !binaries.join(binary).is_file() {
            return Err(format!(
                "{} is missing: build first (cargo build --profile {} --bins)",
                binaries.join(binary).display(),
                if options.profile == "debug" {
                    "dev"
                } else {
                    "release"
                }
            ));
        }
    }
    let logs = log_dir("bench");
    let emulator = Emulator::start_binary(
        &binaries.join("connections-emulator"),
        Some(&workspace_root().join("emulator/scenarios/demo.yaml")),
    );
    let moto = Moto::start(&logs);
    let sink = AlertSink::create(&moto).await;
    let world = World {
        emulator,
        moto,
        sink,
        binaries,
    };

    let runs = if options.quick { 3 } else { 20 };
    eprintln!("cold starts: {runs} runs each");
    let cold_starts = cold_starts(&world, runs).await?;

    let (sizes, latency_ms): (&[usize], u64) = if options.quick {
        (&[20, 100], 5)
    } else {
        (&[100, 1_000, 5_000, 10_000], 25)
    };
    let mut sweeps = Vec::new();
    for &stacks in sizes {
        for function in ["sync-watcher", "blocker-resolver", "connection-auditor"] {
            eprintln!("sweep: {function} over {stacks} stacks, {latency_ms} ms per call");
            sweeps.push(sweep(&world, function, stacks, latency_ms).await?);
        }
    }

    let packages = if options.skip_package {
        Vec::new()
    } else {
        eprintln!("packages: cargo lambda build --release --arm64 --output-format zip");
        packages()?
    };

    eprintln!("emulator throughput");
    let requests = if options.quick { 4_000 } else { 40_000 };
    let emulator = throughput(&world, requests, 4).await?;

    Ok(Results {
        machine: machine(),
        profile: options.profile.clone(),
        quick: options.quick,
        cold_starts,
        sweeps,
        schedules: Template::load()
            .functions()
            .iter()
            .map(|function| (function.binary.clone(), function.runs_per_hour()))
            .collect(),
        packages,
        emulator,
    })
}

async fn cold_starts(world: &World, runs: usize) -> Result<Vec<ColdStart>, String> {
    let schedule = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    // Each function's first invocation touches the emulator (and the ledger) once or a few times.
    let cases = [
        ("hello-lambda", json!({"hello": "world"})),
        ("sync-watcher", json!({"stack": "platform-vpc"})),
        ("blocker-resolver", json!({"stack": "platform-vpc"})),
        ("connection-auditor", schedule),
    ];
    let mut results = Vec::new();
    for (binary, event) in cases {
        let mut init = Vec::new();
        let mut invocation = Vec::new();
        let mut peak = 0;
        for _ in 0..runs {
            let run = world
                .run_once(binary, &event, Duration::from_secs(60))
                .await?;
            init.push(run.init);
            invocation.push(run.invocation);
            peak = peak.max(run.peak_rss_kib);
        }
        results.push(ColdStart {
            name: binary.to_owned(),
            runs,
            init: timing(init),
            first_invocation: Some(timing(invocation)),
            peak_rss_mib: Some(mib(peak)),
        });
    }
    results.push(boto3_floor(runs)?);
    Ok(results)
}

/// What a boto3 function pays before it does anything: the import and one client.
fn boto3_floor(runs: usize) -> Result<ColdStart, String> {
    let python = std::env::var_os("GITSYNC_GUARD_VENV")
        .map(|venv| PathBuf::from(venv).join("bin/python"))
        .ok_or("GITSYNC_GUARD_VENV is not set: run through scripts/bench.sh (it sources scripts/tools.sh)")?;
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let status = std::process::Command::new(&python)
            .args([
                "-c",
                "import boto3; boto3.client('codestar-connections', region_name='us-east-1')",
            ])
            .status()
            .map_err(|err| format!("boto3 floor: {err}"))?;
        if !status.success() {
            return Err(format!("boto3 floor: python exited with {status}"));
        }
        samples.push(started.elapsed());
    }
    Ok(ColdStart {
        name: "python3 boto3 import + client".into(),
        runs,
        init: timing(samples),
        first_invocation: None,
        peak_rss_mib: None,
    })
}

/// A generated account: `stacks` sync configurations, 5 per repository link, one link per
/// connection, a host for every 5 connections; 10% of connections in ERROR and 5% PENDING,
/// 10% of hosts failing, 2% of stacks blocked.
fn account(stacks: usize) -> (Value, usize, usize) {
    let connections = stacks.div_ceil(5).max(1);
    let hosts = (connections / 5).max(1);
    let host_entries: Vec<Value> = (0..hosts)
        .map(|i| {
            json!({
                "Name": format!("ghes-{i}"),
                "ProviderType": "GitHubEnterpriseServer",
                "ProviderEndpoint": format!("https://ghes-{i}.example.com"),
                "Status": if i % 10 == 3 { "VPC_CONFIG_FAILED_INITIALIZATION" } else { "AVAILABLE" },
            })
        })
        .collect();
    let connection_entries: Vec<Value> = (0..connections)
        .map(|i| {
            let status = match i % 20 {
                1 | 11 => "ERROR",
                7 => "PENDING",
                _ => "AVAILABLE",
            };
            if i % 5 == 0 {
                json!({"Name": format!("conn-{i}"), "Host": format!("ghes-{}", (i / 5) % hosts), "Status": status})
            } else {
                json!({"Name": format!("conn-{i}"), "ProviderType": "GitHub", "Status": status})
            }
        })
        .collect();
    let links: Vec<Value> = (0..connections)
        .map(|i| json!({"Connection": format!("conn-{i}"), "OwnerId": "acme", "RepositoryName": format!("repo-{i}")}))
        .collect();
    let configurations: Vec<Value> = (0..stacks)
        .map(|i| {
            json!({
                "ResourceName": format!("stack-{i}"),
                "Repository": format!("acme/repo-{}", i / 5),
                "Branch": "main",
                "ConfigFile": "deployment.yaml",
                "RoleArn": "arn:aws:iam::123456789012:role/GitSyncRole",
            })
        })
        .collect();
    let blockers: Vec<Value> = (0..stacks)
        .filter(|i| i % 50 == 7)
        .map(|i| {
            json!({
                "ResourceName": format!("stack-{i}"),
                "Status": "ACTIVE",
                "CreatedReason": format!("Stack stack-{i} is in UPDATE_ROLLBACK_FAILED state and can not be updated."),
            })
        })
        .collect();
    let document = json!({
        "Hosts": host_entries,
        "Connections": connection_entries,
        "RepositoryLinks": links,
        "SyncConfigurations": configurations,
        "SyncBlockers": blockers,
    });
    (document, connections, hosts)
}

async fn sweep(
    world: &World,
    function: &str,
    stacks: usize,
    latency_ms: u64,
) -> Result<Sweep, String> {
    let (document, connections, hosts) = account(stacks);
    world.emulator.admin("reset", json!({})).await;
    world.emulator.admin("seed", document).await;
    world
        .emulator
        .admin(
            "faults",
            json!({"LatencyMs": latency_ms, "ThrottleRate": 0.0, "ServerErrorRate": 0.0, "Seed": 1}),
        )
        .await;
    let schedule = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let run = world
        .run_once(function, &schedule, Duration::from_secs(900))
        .await?;
    // The run must have covered the whole account, or its figures mean nothing.
    let (field, expected) = if function == "connection-auditor" {
        ("connections", connections)
    } else {
        ("stacks", stacks)
    };
    if run.response[field].as_u64() != Some(expected as u64) {
        return Err(format!(
            "{function} over {stacks} stacks answered {}; expected {field} = {expected}",
            run.response
        ));
    }
    let counts = world.emulator.admin_get("calls").await;
    let calls = counts["total"]
        .as_u64()
        .ok_or("/_emulator/calls has no total")?;
    // Paging through a listing is sequential by nature (each page needs the last token).
    let sequential: u64 = SEQUENTIAL_LISTINGS
        .iter()
        .filter_map(|operation| counts["operations"][operation].as_u64())
        .sum();
    world.emulator.admin("faults", json!({})).await;
    let concurrency = if function == "connection-auditor" {
        AUDIT_CONCURRENCY
    } else {
        SWEEP_CONCURRENCY
    };
    let blocker_reads = counts["operations"]["GetSyncBlockerSummary"]
        .as_u64()
        .unwrap_or(0);
    let latency_s = latency_ms as f64 / 1000.0;
    let ideal_s = sequential as f64 * latency_s
        + (calls - sequential) as f64 * latency_s / concurrency as f64;
    let wall_s = run.invocation.as_secs_f64();
    Ok(Sweep {
        function: function.to_owned(),
        stacks,
        connections,
        hosts,
        latency_ms,
        concurrency,
        calls,
        sequential_calls: sequential,
        calls_per_stack: calls as f64 / stacks as f64,
        blocker_reads_per_stack: blocker_reads as f64 / stacks as f64,
        wall_s,
        ideal_s,
        ratio: wall_s / ideal_s,
        peak_rss_mib: mib(run.peak_rss_kib),
    })
}

fn packages() -> Result<Vec<Package>, String> {
    let root = workspace_root();
    let mut packages = Vec::new();
    for function in FUNCTIONS {
        let status = std::process::Command::new("cargo-lambda")
            .args([
                "lambda",
                "build",
                "--release",
                "--arm64",
                "--output-format",
                "zip",
                "--bin",
                function,
            ])
            .current_dir(&root)
            .status()
            .map_err(|err| format!("cargo-lambda (on PATH through scripts/tools.sh): {err}"))?;
        if !status.success() {
            return Err(format!(
                "cargo lambda build of {function} exited with {status}"
            ));
        }
        let zip = zip_path(&root, function);
        let zip_bytes = std::fs::metadata(&zip)
            .map_err(|err| format!("{}: {err}", zip.display()))?
            .len();
        packages.push(Package {
            function: function.to_owned(),
            zip_bytes,
        });
    }
    Ok(packages)
}

fn zip_path(root: &Path, function: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("lambda").join(function).join("bootstrap.zip")
}

/// GetConnection as fast as `connections` keep-alive clients can send it.
async fn throughput(
    world: &World,
    requests: usize,
    connections: usize,
) -> Result<Throughput, String> {
    world.emulator.admin("reset", json!({})).await;
    world
        .emulator
        .admin(
            "seed",
            json!({"Connections": [{"Name": "bench", "ProviderType": "GitHub", "Status": "AVAILABLE"}]}),
        )
        .await;
    let state = world.emulator.admin_get("state").await;
    let arn =
        find_connection_arn(&state).ok_or("the seeded connection is not in /_emulator/state")?;
    let body = json!({"ConnectionArn": arn}).to_string();
    let per_client = requests / connections;
    let started = Instant::now();
    let clients = (0..connections).map(|_| {
        let url = world.emulator.url.clone();
        let body = body.clone();
        async move {
            let client = reqwest::Client::new();
            for _ in 0..per_client {
                let response = client
                    .post(&url)
                    .header("content-type", "application/x-amz-json-1.0")
                    .header(
                        "x-amz-target",
                        "CodeStar_connections_20191201.GetConnection",
                    )
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|err| format!("GetConnection: {err}"))?;
                if !response.status().is_success() {
                    return Err(format!("GetConnection answered {}", response.status()));
                }
                response
                    .bytes()
                    .await
                    .map_err(|err| format!("GetConnection body: {err}"))?;
            }
            Ok::<(), String>(())
        }
    });
    for outcome in futures::future::join_all(clients).await {
        outcome?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let sent = per_client * connections;
    Ok(Throughput {
        requests: sent,
        connections,
        seconds,
        requests_per_second: sent as f64 / seconds,
    })
}

/// The first connection ARN anywhere in the emulator's state document.
fn find_connection_arn(state: &Value) -> Option<String> {
    match state {
        Value::Object(map) => map
            .get("ConnectionArn")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(find_connection_arn)),
        Value::Array(items) => items.iter().find_map(find_connection_arn),
        _ => None,
    }
}
