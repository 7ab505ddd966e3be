//! The results as a Markdown table (BENCH.md) and JSON (results.json), goals included.

use std::fmt::Write as _;

use crate::Options;
use crate::cold_path::{BOTO3, ColdPath, HELLO, MEMORY_SIZES, Transport};
use crate::workloads::{Package, Results};
use crate::world::FUNCTIONS;

/// What a section says when `--only` left it out.
const NOT_RUN: &str = "Not measured in this run (`--only`).";
const PACKAGE_GOAL_BYTES: u64 = 3 * 1024 * 1024;
const SWEEP_RATIO_GOAL: f64 = 1.3;
const SWEEP_MEMORY_GOAL_MIB: f64 = 32.0;
const EMULATOR_GOAL_RPS: f64 = 5_000.0;
/// At 128 MB: a function's init against hello-world's.
const INIT_VS_HELLO_GOAL: f64 = 1.5;
/// At 128 MB: a function's cold path against boto3's.
const COLD_PATH_VS_BOTO3_GOAL: f64 = 0.05;

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

    match &results.cold_path {
        Some(cold) => cold_path(&mut out, cold, &results.packages),
        None => {
            let _ = writeln!(out, "## Cold path\n\n{NOT_RUN}");
        }
    }

    let _ = writeln!(out, "\n## Sweep scaling\n");
    if results.sweeps.is_empty() {
        let _ = writeln!(out, "{NOT_RUN}");
    } else {
        sweeps(&mut out, results);
    }

    packages_section(&mut out, &results.packages);
    let _ = writeln!(out, "\n## Emulator throughput\n");
    let Some(e) = &results.emulator else {
        let _ = writeln!(out, "{NOT_RUN}");
        return out;
    };
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

fn sweeps(out: &mut String, results: &Results) {
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
}

fn packages_section(out: &mut String, packages: &[Package]) {
    let _ = writeln!(out, "\n## Package size\n");
    if packages.is_empty() {
        let _ = writeln!(out, "Not measured in this run (`--skip-package`).");
    } else {
        let _ = writeln!(
            out,
            "`cargo lambda build --release --arm64 --output-format zip`.\n"
        );
        let _ = writeln!(out, "| function | zip bytes | MiB (goal <= 3) |");
        let _ = writeln!(out, "|---|---:|---:|");
        for p in packages {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} ({}) |",
                p.function,
                p.zip_bytes,
                p.zip_bytes as f64 / 1024.0 / 1024.0,
                verdict(p.zip_bytes <= PACKAGE_GOAL_BYTES)
            );
        }
    }
}

fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn share_label(memory_mb: Option<u32>) -> String {
    memory_mb.map_or("whole CPU".into(), |mb| format!("{mb} MB"))
}

fn cold_path(out: &mut String, cold: &ColdPath, packages: &[Package]) {
    let _ = writeln!(out, "## Cold path\n");
    cpu_shares(out, cold);
    method(out, cold);
    cold_path_rows(out, cold);
    let base = cold.arms.first().map_or("base", |a| a.label.as_str());
    let shares: Vec<Option<u32>> = cold.shares.iter().map(|s| s.memory_mb).collect();
    side_by_side(out, cold, base, &shares);
    goals(out, cold, base, packages);
    if cold.arms.len() > 1 {
        arms(out, cold, &shares);
    }
    calls(out, cold);
}

/// The CPU cgroup the processes ran in, and each share's quota; or why there was none.
fn cpu_shares(out: &mut String, cold: &ColdPath) {
    match (&cold.cgroup_version, &cold.cgroup_unavailable) {
        (Some(version), _) => {
            let quotas: Vec<String> = cold
                .shares
                .iter()
                .map(|s| {
                    format!(
                        "{}: {:.4} vCPU = quota {} us",
                        share_label(s.memory_mb),
                        s.vcpu,
                        s.quota_us.unwrap_or(0)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "Each process starts inside a CPU cgroup ({}) capped at Lambda's share for its memory size (1,769 MB = 1 vCPU), CFS period {} us; {}.",
                match version {
                    crate::cgroup::Version::V1 => "v1, `cpu.cfs_quota_us` / `cpu.cfs_period_us`",
                    crate::cgroup::Version::V2 => "v2, `cpu.max`",
                },
                cold.cfs_period_us,
                quotas.join("; ")
            );
        }
        (None, reason) => {
            let _ = writeln!(
                out,
                "**No CPU cgroup could be made on this machine** ({}): the per-share rows and the goals are not measured; the rows below ran on the whole CPU.",
                reason.as_deref().unwrap_or("unknown reason")
            );
        }
    }
}

/// What is measured, over which transports, with which trust store.
fn method(out: &mut String, cold: &ColdPath) {
    let t = &cold.trust;
    let _ = writeln!(
        out,
        "Init: spawn to the first `GET /runtime/invocation/next`; first invocation: the event handed out to the answer; sum: init + first invocation per run; medians and p90 over the runs, after one unrecorded run per subject. \
TLS: a relay in the runner terminates TLS (rustls, certificates made at bench time: root, intermediate, leaf for `127.0.0.1`) in front of the emulator and moto; plain HTTP goes through the same relay without TLS. Trust store, both transports: `SSL_CERT_FILE` (the functions) and `AWS_CA_BUNDLE` (boto3) = the system bundle `{}` ({} certificates) + the bench CA. \
The boto3 handler (`bench/python/handler.py`, under the minimal Runtime API loop `bench/python/runtime.py`) makes sync-watcher's calls (below) with module-level clients for sync-watcher's four services.\n",
        t.system_bundle, t.system_certificates
    );
}

/// Every row the matrix measured.
fn cold_path_rows(out: &mut String, cold: &ColdPath) {
    let _ = writeln!(
        out,
        "| arm | subject | share | transport | runs | init ms | p90 | first invocation ms | p90 | sum ms | p90 | peak RSS MiB | throttled ms | connections |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in &cold.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
            r.arm,
            r.subject,
            share_label(r.memory_mb),
            r.transport.label(),
            r.runs,
            ms(r.init.median_ms),
            ms(r.init.p90_ms),
            ms(r.first_invocation.median_ms),
            ms(r.first_invocation.p90_ms),
            ms(r.sum.median_ms),
            ms(r.sum.p90_ms),
            r.peak_rss_mib,
            r.throttled_ms.map_or("-".into(), ms),
            r.connections
        );
    }
}

/// The base arm's floors, functions and boto3 handler over TLS, a column pair per share.
fn side_by_side(out: &mut String, cold: &ColdPath, base: &str, shares: &[Option<u32>]) {
    let _ = writeln!(
        out,
        "\n### Floors and functions side by side (TLS, medians)\n"
    );
    let mut header = "| subject |".to_owned();
    let mut rule = "|---|".to_owned();
    for share in shares {
        let label = share_label(*share);
        let _ = write!(header, " {label} init ms | {label} cold path ms |");
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for subject in std::iter::once(HELLO).chain(FUNCTIONS).chain([BOTO3]) {
        let mut line = format!("| {subject} |");
        for share in shares {
            match cold.row(base, subject, *share, Transport::Tls) {
                Some(r) => {
                    let _ = write!(
                        line,
                        " {} | {} |",
                        ms(r.init.median_ms),
                        ms(r.sum.median_ms)
                    );
                }
                None => line.push_str(" - | - |"),
            }
        }
        let _ = writeln!(out, "{line}");
    }
}

/// Each arm, what it changes, and its rows beside the others'.
fn arms(out: &mut String, cold: &ColdPath, shares: &[Option<u32>]) {
    let _ = writeln!(out, "\n### Arms (cuts), TLS, medians\n");
    for arm in &cold.arms {
        let env = if arm.env.is_empty() {
            "no extra environment".to_owned()
        } else {
            arm.env
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sizes = arm
            .binary_bytes
            .iter()
            .map(|(name, bytes)| format!("{name} {bytes} bytes"))
            .collect::<Vec<_>>()
            .join(", ");
        let note = arm
            .note
            .as_deref()
            .map_or(String::new(), |n| format!("{n} "));
        let _ = writeln!(
            out,
            "- `{}`: {note}(binaries from `{}`: {sizes}; {env})",
            arm.label, arm.dir
        );
    }
    let _ = writeln!(
        out,
        "\n| function | share | arm | init ms | first invocation ms | sum ms | peak RSS MiB |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|");
    for subject in std::iter::once(HELLO).chain(FUNCTIONS) {
        for share in shares {
            for arm in &cold.arms {
                if let Some(r) = cold.row(&arm.label, subject, *share, Transport::Tls) {
                    let _ = writeln!(
                        out,
                        "| {subject} | {} | {} | {} | {} | {} | {:.1} |",
                        share_label(*share),
                        arm.label,
                        ms(r.init.median_ms),
                        ms(r.first_invocation.median_ms),
                        ms(r.sum.median_ms),
                        r.peak_rss_mib
                    );
                }
            }
        }
    }
}

/// Each subject's AWS calls in its first invocation.
fn calls(out: &mut String, cold: &ColdPath) {
    let _ = writeln!(
        out,
        "\n### AWS calls of each first invocation\n\nAs the TLS relays read them (service from the SigV4 scope, operation from `X-Amz-Target` or `Action`), in order.\n"
    );
    for (subject, calls) in &cold.calls {
        let calls = if calls.is_empty() {
            "none".to_owned()
        } else {
            calls.join(", ")
        };
        let _ = writeln!(out, "- {subject}: {calls}");
    }
}

/// The goals table's rows.
#[derive(Default)]
struct Goals(Vec<String>);

impl Goals {
    fn row(&mut self, goal: String, measured: String, limit: String, ok: Option<bool>) {
        let verdict = ok.map_or("not measured", verdict);
        self.0
            .push(format!("| {goal} | {measured} | {limit} | {verdict} |"));
    }

    /// A goal measured as (measured, limit, met), or `-` where a row it needs is missing.
    fn compare(&mut self, goal: String, outcome: Option<(String, String, bool)>) {
        match outcome {
            Some((measured, limit, ok)) => self.row(goal, measured, limit, Some(ok)),
            None => self.row(goal, "-".into(), "-".into(), None),
        }
    }
}

fn goals(out: &mut String, cold: &ColdPath, base: &str, packages: &[Package]) {
    let _ = writeln!(out, "\n### Goals\n");
    let mut goals = Goals::default();
    let small = Some(MEMORY_SIZES[0]);
    let tls = |subject: &str, share| cold.row(base, subject, share, Transport::Tls);
    let plain = |subject: &str, share| cold.row(base, subject, share, Transport::Plain);
    for function in FUNCTIONS {
        let outcome = tls(function, small).zip(tls(HELLO, small)).map(|(f, h)| {
            let limit = h.init.median_ms * INIT_VS_HELLO_GOAL;
            let ratio = f.init.median_ms / h.init.median_ms;
            let measured = format!("{} ms ({ratio:.2} x)", ms(f.init.median_ms));
            (
                measured,
                format!("{} ms", ms(limit)),
                f.init.median_ms <= limit,
            )
        });
        goals.compare(
            format!("{function}: init at 128 MB <= {INIT_VS_HELLO_GOAL} x hello-world's (TLS)"),
            outcome,
        );
    }
    for function in FUNCTIONS {
        let outcome = tls(function, small).zip(tls(BOTO3, small)).map(|(f, b)| {
            let limit = b.sum.median_ms * COLD_PATH_VS_BOTO3_GOAL;
            let ratio = f.sum.median_ms / b.sum.median_ms;
            let measured = format!("{} ms ({ratio:.3} x)", ms(f.sum.median_ms));
            (
                measured,
                format!("{} ms", ms(limit)),
                f.sum.median_ms <= limit,
            )
        });
        goals.compare(
            format!("{function}: cold path at 128 MB <= {COLD_PATH_VS_BOTO3_GOAL} x boto3's (TLS)"),
            outcome,
        );
    }
    let added = |subject: &str, share: Option<u32>| -> Option<f64> {
        Some(tls(subject, share)?.sum.median_ms - plain(subject, share)?.sum.median_ms)
    };
    for share in MEMORY_SIZES.map(Some) {
        for function in FUNCTIONS {
            let outcome = added(function, share)
                .zip(added(BOTO3, share))
                .map(|(f, b)| (format!("{} ms", ms(f)), format!("{} ms", ms(b)), f <= b));
            goals.compare(
                format!(
                    "{function}: what TLS adds to the cold path at {} <= what it adds to boto3's",
                    share_label(share)
                ),
                outcome,
            );
        }
    }
    package_goals(&mut goals, packages);
    let _ = writeln!(out, "| goal | measured (median) | limit | verdict |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for l in goals.0 {
        let _ = writeln!(out, "{l}");
    }
}

fn package_goals(goals: &mut Goals, packages: &[Package]) {
    for function in FUNCTIONS {
        let goal = format!("{function}: arm64 zip <= 3 MiB");
        let (measured, ok) = match packages.iter().find(|p| p.function == function) {
            Some(p) => (
                format!("{:.2} MiB", p.zip_bytes as f64 / 1024.0 / 1024.0),
                Some(p.zip_bytes <= PACKAGE_GOAL_BYTES),
            ),
            None => ("not measured (`--skip-package`)".into(), None),
        };
        goals.row(goal, measured, "3.00 MiB".into(), ok);
    }
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
