//! gitsync-guard's benchmark runner. Every figure comes from this one run on this machine;
//! the goals are ratios against floors measured the same way.
//!
//! ```text
//! gitsync-bench [--quick] [--profile release|debug] [--out DIR] [--skip-package]
//! ```
//!
//! 1. Cold start of each function's binary against a local Runtime API, next to a hello-world
//!    lambda_runtime binary (what Rust costs) and boto3's import and client creation (what a
//!    Python alternative pays before it does anything).
//! 2. Sweep scaling: sync-watcher's and blocker-resolver's sweeps and connection-auditor's
//!    run over generated accounts, with 25 ms of emulator latency per call, against
//!    calls x latency / concurrency; and GetSyncBlockerSummary per stack per hour at
//!    template.yaml's default schedules.
//! 3. Package size: `cargo lambda build --release --arm64 --output-format zip`.
//! 4. The emulator's own throughput, to show it is not the bottleneck.
//!
//! Writes `DIR/BENCH.md` and `DIR/results.json`.

mod report;
mod runtime_api;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use e2e::workspace_root;

pub struct Options {
    pub quick: bool,
    pub profile: String,
    pub out: PathBuf,
    pub skip_package: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        profile: "release".into(),
        out: workspace_root().join("bench-results"),
        skip_package: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--skip-package" => options.skip_package = true,
            "--profile" => {
                options.profile = args.next().ok_or("--profile needs release or debug")?;
                if options.profile != "release" && options.profile != "debug" {
                    return Err(format!(
                        "--profile {}: expected release or debug",
                        options.profile
                    ));
                }
            }
            "--out" => options.out = PathBuf::from(args.next().ok_or("--out needs a directory")?),
            "-h" | "--help" => {
                return Err("usage: gitsync-bench [--quick] [--profile release|debug] [--out DIR] [--skip-package]".into());
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(options)
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
