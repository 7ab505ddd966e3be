//! What the cold path and the workloads share: the services every measurement runs
//! against, the function processes' environment, and how figures are summarised.

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::{AlertSink, Emulator, Moto, REGION, log_dir, workspace_root};
use serde::Serialize;
use serde_json::Value;

use crate::runtime_api::{Run, RuntimeApi};

pub const FUNCTIONS: [&str; 3] = ["sync-watcher", "blocker-resolver", "connection-auditor"];
/// The sweeps' concurrency in the sweep benchmark (the template's default).
pub const SWEEP_CONCURRENCY: usize = 8;
/// Rules the sweep evaluates: one that matches the generated blockers and leaves them be.
const BENCH_RULES: &str = r#"{"rules": [{"name": "leave-failed-rollbacks", "reason": "ROLLBACK_FAILED", "action": "ignore"}]}"#;

#[derive(Debug, Serialize)]
pub struct Timing {
    pub median_ms: f64,
    pub p90_ms: f64,
}

pub fn timing(mut samples: Vec<Duration>) -> Timing {
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

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub struct World {
    pub emulator: Emulator,
    pub moto: Moto,
    sink: AlertSink,
    /// Where the function binaries are: the `--profile` directory.
    pub binaries: PathBuf,
    /// Where the services and the bench write their logs and files.
    pub logs: PathBuf,
}

/// Where a function process finds the AWS endpoints: the emulator's and moto's (SNS, DynamoDB,
/// CloudFormation), directly or through a relay.
pub struct Endpoints {
    pub codestar: String,
    pub aws: String,
}

impl World {
    /// The emulator (with demo.yaml), moto and the alert sink, for the binaries of a
    /// profile, which must have been built.
    pub async fn start(profile: &str) -> Result<Self, String> {
        let binaries = binaries_of(profile)?;
        let logs = log_dir("bench");
        let emulator = Emulator::start_binary(
            &binaries.join("connections-emulator"),
            Some(&workspace_root().join("emulator/scenarios/demo.yaml")),
        );
        let moto = Moto::start(&logs);
        let sink = AlertSink::create(&moto).await;
        Ok(Self {
            emulator,
            moto,
            sink,
            binaries,
            logs,
        })
    }

    /// The environment a function process gets: the local services and its configuration.
    fn command(&self, binary: &str) -> tokio::process::Command {
        let direct = Endpoints {
            codestar: self.emulator.url.clone(),
            aws: self.moto.url.clone(),
        };
        self.command_at(&self.binaries.join(binary), binary, &direct, 128)
    }

    /// `program` with a function's environment, as `name`, with `memory_mb` of memory.
    pub fn command_at(
        &self,
        program: &Path,
        name: &str,
        endpoints: &Endpoints,
        memory_mb: u32,
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/gitsync-guard/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/gitsync-guard/credentials",
            )
            .env("AWS_ENDPOINT_URL_CODESTAR_CONNECTIONS", &endpoints.codestar)
            .env("AWS_ENDPOINT_URL_SNS", &endpoints.aws)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &endpoints.aws)
            .env("AWS_ENDPOINT_URL_CLOUDFORMATION", &endpoints.aws)
            // As template.yaml deploys them: events on the default bus (an arm can remove it).
            .env("AWS_ENDPOINT_URL_EVENTBRIDGE", &endpoints.aws)
            .env("EVENT_BUS_NAME", "default")
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
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

    pub async fn run_once(
        &self,
        binary: &str,
        event: &Value,
        timeout: Duration,
    ) -> Result<Run, String> {
        let api = RuntimeApi::start(event.clone()).await?;
        api.run(self.command(binary), timeout, None)
            .await
            .map_err(|err| format!("{binary}: {err}"))
    }
}

/// The directory of a profile's binaries, with every binary the bench runs in it.
fn binaries_of(profile: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let binaries = target.join(profile);
    let cargo_profile = if profile == "debug" { "dev" } else { "release" };
    for binary in FUNCTIONS
        .iter()
        .chain(&["hello-lambda", "connections-emulator"])
    {
        if !binaries.join(binary).is_file() {
            return Err(format!(
                "{} is missing: build first (cargo build --profile {cargo_profile} --bins)",
                binaries.join(binary).display(),
            ));
        }
    }
    Ok(binaries)
}
