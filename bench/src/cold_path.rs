//! The cold path as Lambda gives it: each subject's init (spawn to the first
//! `GET /runtime/invocation/next`) and first invocation, at Lambda's CPU share for 128 MB and
//! for 1,769 MB (one vCPU), over TLS and over plain HTTP, N runs each.
//!
//! Subjects: hello-lambda (the floor for a Rust init), the three functions, and a boto3
//! handler (bench/python) making the AWS calls sync-watcher's first invocation makes, under a
//! minimal Python Runtime API loop. Every first invocation must have done its work (its
//! answer is checked), and the boto3 handler's AWS calls must be sync-watcher's, in order:
//! otherwise the bench fails.
//!
//! Arms compare cuts in one run: the first arm runs the whole matrix; every other arm runs the
//! function binaries its directory holds (one at least, and its hello-lambda if it has one)
//! over TLS at each share, with its own extra environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::cgroup::{CpuControl, MB_PER_VCPU, Version};
use crate::runtime_api::{Run, RuntimeApi};
use crate::tls::{Recorder, Relay, Trust};
use crate::world::{Endpoints, FUNCTIONS, Timing, World, mib, timing};

/// The boto3 handler's name in the tables.
pub const BOTO3: &str = "boto3 handler";
pub const HELLO: &str = "hello-lambda";
/// Lambda memory sizes whose CPU share the matrix runs at.
pub const MEMORY_SIZES: [u32; 2] = [128, 1769];
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// An arm: a label, a directory of function binaries and extra environment for the function
/// processes (`KEY=None` removes a variable). Values may name `{bundle}` (the bench trust
/// bundle), `{ca}` (the bench root CA alone) and `{al2023_certs}` (the emulated AL2023 cert
/// directory).
#[derive(Debug, Clone)]
pub struct Arm {
    pub label: String,
    pub dir: Option<PathBuf>,
    pub env: Vec<(String, Option<String>)>,
    /// What the arm changes, for the report.
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ArmInfo {
    pub label: String,
    pub dir: String,
    pub env: Vec<String>,
    pub note: Option<String>,
    /// The size in bytes of each function binary the arm ran.
    pub binary_bytes: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Share {
    /// `None`: no cgroup could be made, the process had the whole machine.
    pub memory_mb: Option<u32>,
    pub vcpu: f64,
    pub quota_us: Option<u64>,
}

impl Share {
    pub fn label(&self) -> String {
        match self.memory_mb {
            Some(mb) => format!("{mb} MB ({:.3} vCPU)", self.vcpu),
            None => "whole CPU (no cgroup)".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tls,
    Plain,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Transport::Tls => "TLS",
            Transport::Plain => "plain HTTP",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub arm: String,
    pub subject: String,
    pub memory_mb: Option<u32>,
    pub transport: Transport,
    pub runs: usize,
    pub init: Timing,
    pub first_invocation: Timing,
    /// Init + first invocation, per run.
    pub sum: Timing,
    pub peak_rss_mib: f64,
    /// Median time the process waited for its CPU quota.
    pub throttled_ms: Option<f64>,
    /// Connections the relays accepted in the last run (one TLS handshake each over TLS).
    pub connections: usize,
}

#[derive(Debug, Serialize)]
pub struct TrustInfo {
    pub system_bundle: String,
    pub system_certificates: usize,
    pub system_dir: String,
    pub al2023_dir_entries: usize,
}

#[derive(Debug, Serialize)]
pub struct ColdPath {
    pub cgroup_version: Option<Version>,
    pub cfs_period_us: u64,
    /// Why no cgroup could be made, when none could.
    pub cgroup_unavailable: Option<String>,
    pub shares: Vec<Share>,
    pub trust: TrustInfo,
    pub arms: Vec<ArmInfo>,
    pub rows: Vec<Row>,
    /// Each subject's AWS calls in its first invocation, as the TLS relays saw them.
    pub calls: Vec<(String, Vec<String>)>,
}

impl ColdPath {
    pub fn row(
        &self,
        arm: &str,
        subject: &str,
        memory_mb: Option<u32>,
        transport: Transport,
    ) -> Option<&Row> {
        self.rows.iter().find(|r| {
            r.arm == arm
                && r.subject == subject
                && r.memory_mb == memory_mb
                && r.transport == transport
        })
    }
}

#[derive(Clone)]
enum Program {
    Rust(PathBuf),
    Python { python: PathBuf, script: PathBuf },
}

struct Subject {
    name: String,
    program: Program,
    event: Value,
    /// Whether the arm's environment applies (the Rust binaries only).
    arm_env: bool,
}

fn event_for(name: &str) -> Value {
    match name {
        HELLO => json!({"hello": "world"}),
        "connection-auditor" => {
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})
        }
        _ => json!({"stack": "platform-vpc"}),
    }
}

/// Whether the first invocation did its work, from its answer.
fn check(subject: &str, event: &Value, response: &Value) -> Result<(), String> {
    let ok = match subject {
        HELLO => response == event,
        "sync-watcher" | BOTO3 => {
            response["action"] == "checked-stack" && response["stack"] == "platform-vpc"
        }
        "blocker-resolver" => {
            response["action"] == "evaluated-stack" && response["stacks"].as_u64() == Some(1)
        }
        // demo.yaml: five connections, one host.
        "connection-auditor" => {
            response["action"] == "audited"
                && response["connections"].as_u64() == Some(5)
                && response["hosts"].as_u64() == Some(1)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{subject}'s first invocation did not do its work: it answered {response}"
        ))
    }
}

fn substitute(value: &str, trust: &Trust) -> String {
    value
        .replace("{bundle}", &trust.bundle.to_string_lossy())
        .replace("{ca}", &trust.ca.to_string_lossy())
        .replace("{al2023_certs}", &trust.al2023_dir.to_string_lossy())
}

struct Bench<'a> {
    world: &'a World,
    trust: Trust,
    control: Option<CpuControl>,
    recorder: Recorder,
    tls: Endpoints,
    plain: Endpoints,
    _relays: Vec<Relay>,
}

/// One run's figures.
struct Sample {
    run: Run,
    connections: usize,
    calls: Vec<String>,
}

impl<'a> Bench<'a> {
    /// The bench's trust store and a relay in front of the emulator and of moto, over TLS
    /// and over plain HTTP, all recording what they relay.
    async fn start(
        world: &'a World,
        control: Option<CpuControl>,
        work_dir: &Path,
    ) -> Result<Self, String> {
        let trust = Trust::create(work_dir)?;
        let recorder = Recorder::default();
        let mut relays = Vec::new();
        let mut endpoints = Vec::new();
        for tls in [Some(trust.server.clone()), None] {
            let codestar = Relay::start(&world.emulator.url, tls.clone(), recorder.clone()).await?;
            let aws = Relay::start(&world.moto.url, tls, recorder.clone()).await?;
            endpoints.push(Endpoints {
                codestar: codestar.url.clone(),
                aws: aws.url.clone(),
            });
            relays.extend([codestar, aws]);
        }
        let plain = endpoints.pop().ok_or("no plain endpoints")?;
        let tls = endpoints.pop().ok_or("no TLS endpoints")?;
        Ok(Self {
            world,
            trust,
            control,
            recorder,
            tls,
            plain,
            _relays: relays,
        })
    }

    fn trust_info(&self) -> TrustInfo {
        TrustInfo {
            system_bundle: self.trust.system_bundle.display().to_string(),
            system_certificates: self.trust.system_certs,
            system_dir: self.trust.system_dir.display().to_string(),
            al2023_dir_entries: self.trust.system_dir_entries + 1,
        }
    }

    /// A subject's rows for an arm: every share, over both transports for the base arm and
    /// over TLS for the others, `runs` runs each.
    async fn measure(
        &self,
        subject: &Subject,
        arm: &Arm,
        base: bool,
        shares: &[Share],
        runs: usize,
        measured: &mut Measured,
    ) -> Result<(), String> {
        let transports: &[Transport] = if base {
            &[Transport::Tls, Transport::Plain]
        } else {
            &[Transport::Tls]
        };
        // One unrecorded run first, at the largest share over TLS: the binary is in the
        // page cache and the ledger already holds what the first run writes, so every
        // recorded run does the same work. Its calls are the subject's calls.
        let top = shares[shares.len() - 1];
        eprintln!("cold path [{}]: {}", arm.label, subject.name);
        let warm = self.once(subject, arm, &top, Transport::Tls).await?;
        if base {
            measured.calls.push((subject.name.clone(), warm.calls));
        }
        for share in shares {
            let mut samples: Vec<Vec<Sample>> = transports.iter().map(|_| Vec::new()).collect();
            // Transports interleaved, so that drift on the machine hits both alike.
            for _ in 0..runs {
                for (t, &transport) in transports.iter().enumerate() {
                    samples[t].push(self.once(subject, arm, share, transport).await?);
                }
            }
            for (t, &transport) in transports.iter().enumerate() {
                measured.rows.push(row(
                    &arm.label,
                    &subject.name,
                    share,
                    transport,
                    &samples[t],
                ));
            }
        }
        Ok(())
    }

    async fn once(
        &self,
        subject: &Subject,
        arm: &Arm,
        share: &Share,
        transport: Transport,
    ) -> Result<Sample, String> {
        let endpoints = match transport {
            Transport::Tls => &self.tls,
            Transport::Plain => &self.plain,
        };
        let memory = share.memory_mb.unwrap_or(MEMORY_SIZES[1]);
        let mut command = match &subject.program {
            Program::Rust(binary) => {
                self.world
                    .command_at(binary, &subject.name, endpoints, memory)
            }
            Program::Python { python, script } => {
                let mut command = self
                    .world
                    .command_at(python, "boto3-handler", endpoints, memory);
                command.arg(script);
                command
            }
        };
        // The same trust store over both transports: plain HTTP differs only by the scheme.
        command
            .env("SSL_CERT_FILE", &self.trust.bundle)
            .env("AWS_CA_BUNDLE", &self.trust.bundle);
        if subject.arm_env {
            for (key, value) in &arm.env {
                match value {
                    Some(value) => command.env(key, substitute(value, &self.trust)),
                    None => command.env_remove(key),
                };
            }
        }
        let cgroup = match (&self.control, share.memory_mb) {
            (Some(control), Some(_)) => Some(control.create(share.vcpu)?),
            _ => None,
        };
        let api = RuntimeApi::start(subject.event.clone()).await?;
        self.recorder.take();
        let run = api.run(command, RUN_TIMEOUT, cgroup.as_ref()).await;
        let seen = self.recorder.take();
        drop(cgroup);
        let run = run.map_err(|err| {
            format!(
                "{} ({}, {}, arm {}): {err}",
                subject.name,
                share.label(),
                transport.label(),
                arm.label
            )
        })?;
        check(&subject.name, &subject.event, &run.response)?;
        Ok(Sample {
            run,
            connections: seen.connections,
            calls: seen.calls,
        })
    }
}

/// How the matrix runs: where the binaries are by default, how many runs per case, the CFS
/// period of the CPU cgroups, and where the bench's certificates go.
pub struct Settings<'a> {
    pub profile_dir: &'a Path,
    pub runs: usize,
    pub cfs_period_us: u64,
    pub work_dir: &'a Path,
}

/// What the matrix has measured so far.
#[derive(Default)]
struct Measured {
    rows: Vec<Row>,
    calls: Vec<(String, Vec<String>)>,
    arms: Vec<ArmInfo>,
}

/// The matrix. `arms[0]` is the base arm.
pub async fn run(world: &World, arms: &[Arm], settings: &Settings<'_>) -> Result<ColdPath, String> {
    let (control, cgroup_unavailable) = cpu_control(settings.cfs_period_us);
    let shares = shares(control.as_ref());
    let boto3 = boto3_program()?;
    let bench = Bench::start(world, control, settings.work_dir).await?;
    let mut measured = Measured::default();
    for (index, arm) in arms.iter().enumerate() {
        let base = index == 0;
        let dir = arm
            .dir
            .clone()
            .unwrap_or_else(|| settings.profile_dir.to_path_buf());
        measured.arms.push(arm_info(arm, &dir));
        let mut subjects = rust_subjects(arm, &dir, base)?;
        if base {
            subjects.push(Subject {
                name: BOTO3.to_owned(),
                program: boto3.clone(),
                event: event_for(BOTO3),
                arm_env: false,
            });
        }
        for subject in &subjects {
            bench
                .measure(subject, arm, base, &shares, settings.runs, &mut measured)
                .await?;
        }
    }
    check_boto3_calls(&measured.calls)?;
    Ok(ColdPath {
        cgroup_version: bench.control.as_ref().map(|c| c.version),
        cfs_period_us: settings.cfs_period_us,
        cgroup_unavailable,
        shares,
        trust: bench.trust_info(),
        arms: measured.arms,
        rows: measured.rows,
        calls: measured.calls,
    })
}

/// The CPU cgroup control, or why there is none.
fn cpu_control(cfs_period_us: u64) -> (Option<CpuControl>, Option<String>) {
    match CpuControl::detect(cfs_period_us) {
        Ok(control) => (Some(control), None),
        Err(reason) => {
            eprintln!(
                "cold path: no CPU cgroup ({reason}); the shares are skipped, runs use the whole CPU"
            );
            (None, Some(reason))
        }
    }
}

/// Lambda's CPU share at each memory size, or the whole machine without a cgroup.
fn shares(control: Option<&CpuControl>) -> Vec<Share> {
    match control {
        Some(control) => MEMORY_SIZES
            .iter()
            .map(|&mb| {
                let vcpu = f64::from(mb) / MB_PER_VCPU;
                Share {
                    memory_mb: Some(mb),
                    vcpu,
                    quota_us: Some(control.quota_us(vcpu)),
                }
            })
            .collect(),
        None => vec![Share {
            memory_mb: None,
            vcpu: std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64),
            quota_us: None,
        }],
    }
}

/// The boto3 handler under the venv's Python.
fn boto3_program() -> Result<Program, String> {
    let python = std::env::var_os("GITSYNC_GUARD_VENV")
        .map(|venv| PathBuf::from(venv).join("bin/python"))
        .ok_or("GITSYNC_GUARD_VENV is not set: run through scripts/bench.sh (it sources scripts/tools.sh)")?;
    let script = e2e::workspace_root().join("bench/python/runtime.py");
    Ok(Program::Python { python, script })
}

fn arm_info(arm: &Arm, dir: &Path) -> ArmInfo {
    ArmInfo {
        label: arm.label.clone(),
        dir: dir.display().to_string(),
        env: arm
            .env
            .iter()
            .map(|(k, v)| v.as_ref().map_or(format!("-{k}"), |v| format!("{k}={v}")))
            .collect(),
        note: arm.note.clone(),
        binary_bytes: FUNCTIONS
            .iter()
            .filter_map(|name| {
                let size = std::fs::metadata(dir.join(name)).ok()?.len();
                Some((name.to_string(), size))
            })
            .collect(),
    }
}

/// hello-lambda and the functions from an arm's directory: all of them for the base arm, at
/// least one for any other (a cut's arm may hold only the binaries it compares).
fn rust_subjects(arm: &Arm, dir: &Path, base: bool) -> Result<Vec<Subject>, String> {
    let mut subjects = Vec::new();
    for name in std::iter::once(HELLO).chain(FUNCTIONS) {
        let binary = dir.join(name);
        if !binary.is_file() {
            if !base {
                continue;
            }
            return Err(format!(
                "arm {}: {} is missing",
                arm.label,
                binary.display()
            ));
        }
        subjects.push(Subject {
            name: name.to_owned(),
            program: Program::Rust(binary),
            event: event_for(name),
            arm_env: true,
        });
    }
    if !base && subjects.is_empty() {
        return Err(format!(
            "arm {}: no function binary in {}",
            arm.label,
            dir.display()
        ));
    }
    Ok(subjects)
}

/// The boto3 handler stands for sync-watcher only if it makes the same calls.
fn check_boto3_calls(calls: &[(String, Vec<String>)]) -> Result<(), String> {
    let calls_of = |name: &str| calls.iter().find(|(n, _)| n == name).map(|(_, c)| c);
    if let (Some(rust), Some(python)) = (calls_of("sync-watcher"), calls_of(BOTO3))
        && rust != python
    {
        return Err(format!(
            "the boto3 handler's AWS calls {python:?} are not sync-watcher's {rust:?}: bench/python/handler.py must follow sync-watcher"
        ));
    }
    Ok(())
}

fn row(arm: &str, subject: &str, share: &Share, transport: Transport, samples: &[Sample]) -> Row {
    let durations = |f: &dyn Fn(&Run) -> Duration| samples.iter().map(|s| f(&s.run)).collect();
    let throttled: Vec<Duration> = samples.iter().filter_map(|s| s.run.throttled).collect();
    Row {
        arm: arm.to_owned(),
        subject: subject.to_owned(),
        memory_mb: share.memory_mb,
        transport,
        runs: samples.len(),
        init: timing(durations(&|r| r.init)),
        first_invocation: timing(durations(&|r| r.invocation)),
        sum: timing(durations(&|r| r.init + r.invocation)),
        peak_rss_mib: mib(samples
            .iter()
            .map(|s| s.run.peak_rss_kib)
            .max()
            .unwrap_or(0)),
        throttled_ms: (!throttled.is_empty()).then(|| timing(throttled).median_ms),
        connections: samples.last().map_or(0, |s| s.connections),
    }
}
