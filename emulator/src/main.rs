//! The connections-emulator command: parses the command line, sets up logging and runs
//! the emulator (see the library for everything else).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use connections_emulator::Options;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A local AWS CodeStar Connections emulator: the real wire protocol, in-memory state"
)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// A YAML scenario to load at start (see emulator/README.md).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// The region in generated ARNs and events.
    #[arg(long, default_value = "us-east-1", value_parser = parse_region)]
    region: String,
    /// The account id in generated ARNs and events.
    #[arg(long, default_value = "123456789012", value_parser = parse_account)]
    account: String,
    /// The time between the steps of Git sync's retry after a blocker is resolved
    /// (INITIATED, IN_PROGRESS, then SUCCEEDED or FAILED), e.g. 200ms; 0 takes them at once.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    sync_step_delay: Duration,
    /// POST every EventBridge event (JSON) to this collector, e.g. http://127.0.0.1:9000/events.
    #[arg(long, value_name = "URL")]
    events_to: Option<String>,
    /// Load every account's state from this file at start (when it exists) and save it
    /// there after each change and at exit.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
}

fn parse_region(region: &str) -> Result<String, String> {
    let valid = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(region.to_owned())
    } else {
        Err("a region is lowercase letters, digits and dashes, e.g. us-east-1".to_owned())
    }
}

fn parse_account(account: &str) -> Result<String, String> {
    if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) {
        Ok(account.to_owned())
    } else {
        Err("an account id is 12 digits".to_owned())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let options = Options {
        listen: cli.listen,
        scenario: cli.scenario,
        region: cli.region,
        account: cli.account,
        sync_step_delay: cli.sync_step_delay,
        events_to: cli.events_to,
        state_file: cli.state_file,
    };
    match connections_emulator::run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("connections-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}
