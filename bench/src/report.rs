//! The results as a Markdown table (BENCH.md) and JSON (results.json), goals included.

use std::fmt::Write as _;

use crate::Options;
use crate::workloads::Results;

const PACKAGE_GOAL_BYTES: u64 = 3 * 1024 * 1024;
const SWEEP_RATIO_GOAL: f64 = 1.3;
const SWEEP_MEMORY_GOAL_MIB: f64 = 32.0;
const EMULATOR_GOAL_RPS: f64 = 5_000.0;

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

pub fn markdown(results: &Results) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let _ = writeln!(out, "# gitsync-guard benchmarks\n");
    let _ = writeln!(
        out,
        "Measured {} on {} CPUs ({}), {} GiB; `{}` binaries{}. Reproduce with `scripts/bench.sh`.\n",
        m.date,
        m.cpus,
        m.cpu_model,
        m.memory_gib,
        results.profile,
        if results.quick {
            ", quick run (small sizes, few runs)"
        } else {
            ""
        }
    );

    let _ = writeln!(out, "## Cold start\n");
    let _ = writeln!(
        out,
        "Spawn to the first `GET /runtime/invocation/next` from a local Runtime API; the first invocation against the emulator (no added latency) and moto. boto3: the whole `python3 -c \"import boto3; boto3.client('codestar-connections')\"`.\n"
    );
    let _ = writeln!(
        out,
        "| binary | runs | init median ms | init p90 ms | first invocation median ms | p90 ms | peak RSS MiB |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for c in &results.cold_starts {
        let (inv_median, inv_p90) = c
            .first_invocation
            .as_ref()
            .map_or(("-".into(), "-".into()), |t| {
                (format!("{:.1}", t.median_ms), format!("{:.1}", t.p90_ms))
            });
        let rss = c.peak_rss_mib.map_or("-".into(), |v| format!("{v:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {inv_median} | {inv_p90} | {rss} |",
            c.name, c.runs, c.init.median_ms, c.init.p90_ms
        );
    }
    let floor = |name: &str| {
        results
            .cold_starts
            .iter()
            .find(|c| c.name.starts_with(name))
            .map(|c| c.init.median_ms)
    };
    if let (Some(hello), Some(boto3)) = (floor("hello-lambda"), floor("python3 boto3")) {
        let _ = writeln!(
            out,
            "\n| function | init / hello-world (goal <= 1.5) | init / boto3 (goal < 0.1) |"
        );
        let _ = writeln!(out, "|---|---:|---:|");
        for c in results
            .cold_starts
            .iter()
            .filter(|c| !c.name.starts_with("hello") && !c.name.starts_with("python"))
        {
            let vs_hello = c.init.median_ms / hello;
            let vs_boto3 = c.init.median_ms / boto3;
            let _ = writeln!(
                out,
                "| {} | {vs_hello:.2} ({}) | {vs_boto3:.3} ({}) |",
                c.name,
                verdict(vs_hello <= 1.5),
                verdict(vs_boto3 < 0.1)
            );
        }
    }

    let _ = writeln!(out, "\n## Sweep scaling\n");
    let _ = writeln!(
        out,
        "Generated accounts: 5 stacks per repository link, one link per connection, a host per 5 connections; 15% of connections and 10% of hosts unhealthy, 2% of stacks blocked. Ideal = sequential listing pages x latency + the other calls x latency / concurrency, every count read from `/_emulator/calls` (with no listing pages, calls x latency / concurrency).\n"
    );
    let _ = writeln!(
        out,
        "| function | stacks | connections | hosts | latency ms | concurrency | calls | calls/stack | wall s | ideal s | wall/ideal (goal <= {SWEEP_RATIO_GOAL}) | peak RSS MiB (goal < {SWEEP_MEMORY_GOAL_MIB}) |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for s in &results.sweeps {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} ({}) | {:.1} ({}) |",
            s.function,
            s.stacks,
            s.connections,
            s.hosts,
            s.latency_ms,
            s.concurrency,
            s.calls,
            s.calls_per_stack,
            s.wall_s,
            s.ideal_s,
            s.ratio,
            verdict(s.ratio <= SWEEP_RATIO_GOAL),
            s.peak_rss_mib,
            verdict(s.peak_rss_mib < SWEEP_MEMORY_GOAL_MIB)
        );
    }

    let _ = writeln!(out, "\n### Blocker reads per stack per hour\n");
    let _ = writeln!(
        out,
        "GetSyncBlockerSummary calls per stack in one run (the largest size above) x the runs per hour of that function's schedules at template.yaml's defaults. Git sync events add one read per event on top. Goal: at most 2.\n"
    );
    let mut total = 0.0;
    for (function, runs_per_hour) in &results.schedules {
        let per_run = results
            .sweeps
            .iter()
            .filter(|s| &s.function == function)
            .max_by_key(|s| s.stacks)
            .map_or(0.0, |s| s.blocker_reads_per_stack);
        total += per_run * runs_per_hour;
        let _ = writeln!(
            out,
            "- {function}: {per_run:.2} per run x {runs_per_hour:.2} run(s) per hour = {:.2}",
            per_run * runs_per_hour
        );
    }
    let _ = writeln!(
        out,
        "- total: **{total:.2}** per stack per hour ({})",
        verdict(total <= 2.0)
    );

    let _ = writeln!(out, "\n## Package size\n");
    if results.packages.is_empty() {
        let _ = writeln!(out, "Not measured in this run (`--skip-package`).");
    } else {
        let _ = writeln!(
            out,
            "`cargo lambda build --release --arm64 --output-format zip`.\n"
        );
        let _ = writeln!(out, "| function | zip bytes | MiB (goal < 3) |");
        let _ = writeln!(out, "|---|---:|---:|");
        for p in &results.packages {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} ({}) |",
                p.function,
                p.zip_bytes,
                p.zip_bytes as f64 / 1024.0 / 1024.0,
                verdict(p.zip_bytes < PACKAGE_GOAL_BYTES)
            );
        }
    }

    let e = &results.emulator;
    let _ = writeln!(out, "\n## Emulator throughput\n");
    let _ = writeln!(
        out,
        "{} GetConnection requests over {} keep-alive connections in {:.2} s: **{:.0} requests/s** (goal >= {EMULATOR_GOAL_RPS:.0}: {}).",
        e.requests,
        e.connections,
        e.seconds,
        e.requests_per_second,
        verdict(e.requests_per_second >= EMULATOR_GOAL_RPS)
    );
    out
}

pub fn write(options: &Options, results: &Results) -> Result<(), String> {
    std::fs::create_dir_all(&options.out)
        .map_err(|err| format!("{}: {err}", options.out.display()))?;
    let json =
        serde_json::to_string_pretty(results).map_err(|err| format!("results as JSON: {err}"))?;
    std::fs::write(options.out.join("results.json"), json)
        .map_err(|err| format!("results.json: {err}"))?;
    std::fs::write(options.out.join("BENCH.md"), markdown(results))
        .map_err(|err| format!("BENCH.md: {err}"))?;
    Ok(())
}
