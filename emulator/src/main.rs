//! connections-emulator: a local AWS CodeStar Connections (AWS CodeConnections) emulator
//! speaking the real awsJson1_0 wire protocol over in-memory state.

mod admin;
mod api_error;
mod arn;
mod faults;
mod model;
mod operation;
mod ops;
mod pagination;
mod protocol;
mod scenario;
mod server;
mod state;
mod validate;

use std::future::IntoFuture;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use crate::model::{Model, ModelError};
use crate::scenario::ScenarioError;
use crate::server::{AppState, Emulator, Settings};

/// How long in-flight requests may take to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("cannot load the service model: {0}")]
    Model(#[from] ModelError),
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot announce the address on stdout: {0}")]
    Announce(std::io::Error),
    #[error("cannot handle SIGINT and SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
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
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("connections-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let model = Model::load()?;
    let settings = Settings {
        region: cli.region,
        account: cli.account,
    };
    let mut emulator = Emulator::default();
    if let Some(path) = &cli.scenario {
        let counts = scenario::load_file(path, &mut emulator, &model, &settings)?;
        tracing::info!(scenario = %path.display(), ?counts, "scenario loaded");
    }
    let app = AppState::new(model, settings, emulator);
    let stop_signals = StopSignals::install()?;

    let listener = TcpListener::bind(cli.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: cli.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Listen {
        address: cli.listen,
        source,
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{address}")
        .and_then(|()| stdout.flush())
        .map_err(StartError::Announce)?;
    drop(stdout);
    tracing::info!(%address, region = %app.settings.region, account = %app.settings.account, "ready");

    // Graceful shutdown waits for requests in flight, but never longer than SHUTDOWN_GRACE.
    let (stopping, mut stop_requested) = watch::channel(false);
    let server = axum::serve(listener, server::router(app))
        .with_graceful_shutdown(async move {
            stop_signals.received().await;
            tracing::info!("shutting down");
            stopping.send_replace(true);
        })
        .into_future();
    tokio::select! {
        served = server => served.map_err(StartError::Serve),
        () = async move {
            if stop_requested.wait_for(|stop| *stop).await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; exiting anyway");
            Ok(())
        }
    }
}

/// SIGINT and SIGTERM handlers, installed before the address is announced so that a
/// signal sent right after start-up stops the emulator cleanly rather than killing it.
struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    fn install() -> Result<Self, StartError> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).map_err(StartError::Signals)?,
            terminate: signal(SignalKind::terminate()).map_err(StartError::Signals)?,
        })
    }

    async fn received(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
