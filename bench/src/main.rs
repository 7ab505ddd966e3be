//! gitsync-guard's benchmark runner. Every figure comes from this one run on this machine;
//! the goals are ratios against floors measured the same way.
//!
//! ```text
//! gitsync-bench [--quick] [--profile release|debug] [--out DIR] [--skip-package]
//!               [--only SECTION[,SECTION...]] [--runs N] [--cfs-period-us US]
//!               [--arm LABEL[=DIR]]... [--arm-env LABEL:KEY=VALUE | LABEL:KEY]...
//!               [--arm-note LABEL:TEXT]...
//! ```
//!
//! 1. The cold path as Lambda gives it (`cold-path`): init (spawn to the first
//!    `GET /runtime/invocation/next`), first invocation and their sum, peak RSS, median and
//!    p90 over N runs, for hello-lambda (the floor for init), the three functions and a boto3
//!    handler making sync-watcher's AWS calls (bench/python), each inside a CPU cgroup capped
//!    at Lambda's share for 128 MB (0.072 vCPU) and 1,769 MB (1 vCPU), over TLS (a relay in
//!    the runner in front of the emulator and moto, certificates made at bench time, the
//!    system's CA bundle + the bench CA as the trust store) and over plain HTTP.
//! 2. Sweep scaling (`sweeps`): sync-watcher's and blocker-resolver's sweeps and
//!    connection-auditor's run over generated accounts, with 25 ms of emulator latency per
//!    call, against calls x latency / concurrency; and GetSyncBlockerSummary per stack per hour
//!    at template.yaml's default schedules.
//! 3. Package size (`packages`): `cargo lambda build --release --arm64 --output-format zip`.
//! 4. The emulator's own throughput (`throughput`), to show it is not the bottleneck.
//!
//! Options:
//! - `--profile` names the directory of the function binaries under the target directory.
//! - `--runs N`: runs per cold-path case (default 20, quick 2); `--cfs-period-us`: the CFS
//!   period of the CPU cgroups (default 100000, the kernel's default; the quota is
//!   share x period, at least the kernel's 1 ms).
//! - Arms, to measure cuts side by side in one run: `--arm LABEL=DIR` adds an arm whose
//!   function binaries come from DIR (`--arm LABEL`: the `--profile` directory);
//!   `--arm-env LABEL:KEY=VALUE` gives that arm's function processes an extra variable
//!   (`LABEL:KEY` alone removes one). Values may name `{bundle}` (the system CA bundle + the
//!   bench CA), `{ca}` (the bench CA alone) and `{al2023_certs}` (a directory emulating
//!   Amazon Linux 2023's default trust store loading: the system cert directory's entries
//!   and the bench CA). The base arm is labelled `base` (its env can be set the same way);
//!   it runs the whole matrix, every other arm the functions over TLS. E.g.
//!   `--arm al2023 --arm-env 'al2023:SSL_CERT_DIR={al2023_certs}'`. `--arm-note LABEL:TEXT`
//!   says in the report what the arm changes.
//!
//! Writes `DIR/BENCH.md` and `DIR/results.json`.

mod cgroup;
mod cold_path;
mod report;
mod runtime_api;
mod tls;
mod workloads;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;

use e2e::workspace_root;
use serde::Serialize;

use crate::cold_path::Arm;

const USAGE: &str =
    "usage: gitsync-bench [--quick] [--profile release|debug] [--out DIR] [--skip-package]
                     [--only SECTION[,SECTION...]] [--runs N] [--cfs-period-us US]
                     [--arm LABEL[=DIR]]... [--arm-env LABEL:KEY=VALUE | LABEL:KEY]...
                     [--arm-note LABEL:TEXT]...
sections: cold-path, sweeps, packages, throughput (default: all)
arm env values may name {bundle}, {ca} and {al2023_certs}; the base arm is `base`";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    ColdPath,
    Sweeps,
    Packages,
    Throughput,
}

const SECTIONS: [(Section, &str); 4] = [
    (Section::ColdPath, "cold-path"),
    (Section::Sweeps, "sweeps"),
    (Section::Packages, "packages"),
    (Section::Throughput, "throughput"),
];

pub struct Options {
    pub quick: bool,
    pub profile: String,
    pub out: PathBuf,
    pub skip_package: bool,
    /// `None`: every section.
    pub only: Option<Vec<Section>>,
    pub cold_runs: Option<usize>,
    pub cfs_period_us: u64,
    /// The base arm first.
    pub arms: Vec<Arm>,
}

impl Options {
    pub fn runs(&self, section: Section) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.contains(&section))
    }

    pub fn sections(&self) -> Vec<Section> {
        SECTIONS
            .iter()
            .map(|(section, _)| *section)
            .filter(|section| self.runs(*section))
            .filter(|section| *section != Section::Packages || !self.skip_package)
            .collect()
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        profile: "release".into(),
        out: workspace_root().join("bench-results"),
        skip_package: false,
        only: None,
        cold_runs: None,
        cfs_period_us: 100_000,
        arms: vec![Arm {
            label: "base".into(),
            dir: None,
            env: Vec::new(),
            note: None,
        }],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{arg} needs {what}"));
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--skip-package" => options.skip_package = true,
            "--profile" => options.profile = profile(value("release or debug")?)?,
            "--out" => options.out = PathBuf::from(value("a directory")?),
            "--only" => options.only = Some(sections(&value("a list of sections")?)?),
            "--runs" => options.cold_runs = Some(runs(&value("a number")?)?),
            "--cfs-period-us" => options.cfs_period_us = cfs_period_us(&value("microseconds")?)?,
            "--arm" => add_arm(&mut options.arms, &value("LABEL[=DIR]")?)?,
            "--arm-env" => set_arm_env(&mut options.arms, &value("LABEL:KEY=VALUE")?)?,
            "--arm-note" => set_arm_note(&mut options.arms, &value("LABEL:TEXT")?)?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(options)
}

fn profile(profile: String) -> Result<String, String> {
    if profile != "release" && profile != "debug" {
        return Err(format!("--profile {profile}: expected release or debug"));
    }
    Ok(profile)
}

/// `--only`'s comma-separated sections.
fn sections(list: &str) -> Result<Vec<Section>, String> {
    list.split(',')
        .map(|name| {
            SECTIONS
                .iter()
                .find(|(_, n)| *n == name.trim())
                .map(|(s, _)| *s)
                .ok_or(format!("--only: unknown section {name:?}\n{USAGE}"))
        })
        .collect()
}

fn runs(text: &str) -> Result<usize, String> {
    let runs: usize = text.parse().map_err(|err| format!("--runs: {err}"))?;
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(runs)
}

fn cfs_period_us(text: &str) -> Result<u64, String> {
    let period: u64 = text
        .parse()
        .map_err(|err| format!("--cfs-period-us: {err}"))?;
    // The kernel's bounds for cfs_period_us (and cpu.max's period).
    if !(1_000..=1_000_000).contains(&period) {
        return Err("--cfs-period-us must be within 1000..=1000000".into());
    }
    Ok(period)
}

/// `--arm LABEL[=DIR]`: a new arm, under a label no other arm has.
fn add_arm(arms: &mut Vec<Arm>, spec: &str) -> Result<(), String> {
    let (label, dir) = match spec.split_once('=') {
        Some((label, dir)) => (label.to_owned(), Some(PathBuf::from(dir))),
        None => (spec.to_owned(), None),
    };
    if label.is_empty() || arms.iter().any(|a| a.label == label) {
        return Err(format!("--arm {spec}: a new, non-empty label is needed"));
    }
    arms.push(Arm {
        label,
        dir,
        env: Vec::new(),
        note: None,
    });
    Ok(())
}

/// `--arm-env LABEL:KEY=VALUE` sets a variable for an arm, `LABEL:KEY` removes one.
fn set_arm_env(arms: &mut [Arm], spec: &str) -> Result<(), String> {
    let (label, setting) = spec
        .split_once(':')
        .ok_or(format!("--arm-env {spec}: expected LABEL:KEY=VALUE"))?;
    let (key, val) = match setting.split_once('=') {
        Some((key, val)) => (key.to_owned(), Some(val.to_owned())),
        None => (setting.to_owned(), None),
    };
    arm_named(arms, "--arm-env", spec, label)?
        .env
        .push((key, val));
    Ok(())
}

/// `--arm-note LABEL:TEXT`: what the arm changes, for the report.
fn set_arm_note(arms: &mut [Arm], spec: &str) -> Result<(), String> {
    let (label, text) = spec
        .split_once(':')
        .ok_or(format!("--arm-note {spec}: expected LABEL:TEXT"))?;
    arm_named(arms, "--arm-note", spec, label)?.note = Some(text.trim().to_owned());
    Ok(())
}

/// The arm an `--arm-env` or `--arm-note` names, which an earlier `--arm` must have added.
fn arm_named<'a>(
    arms: &'a mut [Arm],
    flag: &str,
    spec: &str,
    label: &str,
) -> Result<&'a mut Arm, String> {
    arms.iter_mut()
        .find(|arm| arm.label == label)
        .ok_or(format!(
            "{flag} {spec}: no arm {label:?} (give --arm first)"
        ))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match workloads::run_all(&options).await {
        Ok(results) => match report::write(&options, &results) {
            Ok(()) => {
                println!("{}", report::markdown(&results));
                println!("wrote {}/BENCH.md and results.json", options.out.display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("writing the results failed: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}
