//! The measurements themselves.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::template::Template;
use e2e::workspace_root;
use serde::Serialize;
use serde_json::{Value, json};

use crate::cold_path::{self, ColdPath};
use crate::world::{FUNCTIONS, SWEEP_CONCURRENCY, World, mib};
use crate::{Options, Section};

/// connection-auditor lists sync configurations this many links at a time.
const AUDIT_CONCURRENCY: usize = 8;
/// Listings whose pages follow one another; everything else can run `concurrency` at a time.
const SEQUENTIAL_LISTINGS: [&str; 3] = ["ListConnections", "ListHosts", "ListRepositoryLinks"];

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub memory_gib: f64,
    pub cpu_model: String,
    pub date: String,
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
    /// Sections this run measured (`--only`).
    pub sections: Vec<Section>,
    pub cold_path: Option<ColdPath>,
    pub sweeps: Vec<Sweep>,
    /// Each function and how many times an hour template.yaml's default schedules run it.
    pub schedules: Vec<(String, f64)>,
    pub packages: Vec<Package>,
    pub emulator: Option<Throughput>,
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

pub async fn run_all(options: &Options) -> Result<Results, String> {
    let world = World::start(&options.profile).await?;
    let cold_path = cold_path_section(options, &world).await?;
    let sweeps = sweeps_section(options, &world).await?;
    let packages = packages_section(options)?;
    let emulator = throughput_section(options, &world).await?;
    Ok(Results {
        machine: machine(),
        profile: options.profile.clone(),
        quick: options.quick,
        sections: options.sections(),
        cold_path,
        sweeps,
        schedules: schedules(),
        packages,
        emulator,
    })
}

async fn cold_path_section(options: &Options, world: &World) -> Result<Option<ColdPath>, String> {
    if !options.runs(Section::ColdPath) {
        return Ok(None);
    }
    let runs = options
        .cold_runs
        .unwrap_or(if options.quick { 2 } else { 20 });
    eprintln!("cold path: {runs} runs per case");
    let settings = cold_path::Settings {
        profile_dir: &world.binaries,
        runs,
        cfs_period_us: options.cfs_period_us,
        work_dir: &world.logs.join("tls"),
    };
    Ok(Some(cold_path::run(world, &options.arms, &settings).await?))
}

async fn sweeps_section(options: &Options, world: &World) -> Result<Vec<Sweep>, String> {
    let (sizes, latency_ms): (&[usize], u64) = if options.quick {
        (&[20, 100], 5)
    } else {
        (&[100, 1_000, 5_000, 10_000], 25)
    };
    let mut sweeps = Vec::new();
    if options.runs(Section::Sweeps) {
        for &stacks in sizes {
            for function in FUNCTIONS {
                eprintln!("sweep: {function} over {stacks} stacks, {latency_ms} ms per call");
                sweeps.push(sweep(world, function, stacks, latency_ms).await?);
            }
        }
    }
    Ok(sweeps)
}

/// Each function and how many times an hour template.yaml's default schedules run it.
fn schedules() -> Vec<(String, f64)> {
    Template::load()
        .functions()
        .iter()
        .map(|function| (function.binary.clone(), function.runs_per_hour()))
        .collect()
}

fn packages_section(options: &Options) -> Result<Vec<Package>, String> {
    if options.skip_package || !options.runs(Section::Packages) {
        return Ok(Vec::new());
    }
    eprintln!("packages: cargo lambda build --release --arm64 --output-format zip");
    packages()
}

async fn throughput_section(
    options: &Options,
    world: &World,
) -> Result<Option<Throughput>, String> {
    if !options.runs(Section::Throughput) {
        return Ok(None);
    }
    eprintln!("emulator throughput");
    let requests = if options.quick { 4_000 } else { 40_000 };
    Ok(Some(throughput(world, requests, 4).await?))
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
