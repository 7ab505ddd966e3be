//! The HTTP server: the routes, and running it from start-up to a graceful stop.

use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use crate::admin;
use crate::model::{ModelError, Models};
use crate::protocol;
use crate::scenario::{self, ScenarioError};
use crate::service::{
    Accounts, EventSink, EventSinkError, Service, SharedService, StateFile, StateFileError,
};

/// How long in-flight requests may take to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the command line chooses.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub scenario: Option<PathBuf>,
    pub region: String,
    pub account: String,
    /// The time between the steps of a Git sync retry; zero takes them all at once.
    pub sync_step_delay: Duration,
    /// A collector that receives every EventBridge event as a JSON POST.
    pub events_to: Option<String>,
    /// Where the state is loaded from at start and saved to after changes and at exit.
    pub state_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the service model: {0}")]
    Model(#[from] ModelError),
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Events(#[from] EventSinkError),
    #[error("{0}")]
    StateFile(#[from] StateFileError),
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

/// Loads the models, the state file and the scenario, listens, announces
/// `listening on http://ADDRESS` on stdout, and serves until SIGINT or SIGTERM; then saves
/// the state file, if any.
pub async fn run(options: Options) -> Result<(), StartError> {
    let service = build_service(&options)?;
    let stop_signals = StopSignals::install()?;

    let listen_failed = |source| StartError::Listen {
        address: options.listen,
        source,
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(listen_failed)?;
    let address = listener.local_addr().map_err(listen_failed)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{address}")
        .and_then(|()| stdout.flush())
        .map_err(StartError::Announce)?;
    drop(stdout);
    tracing::info!(%address, region = %options.region, account = %options.account, "ready");

    // Graceful shutdown waits for requests in flight, but never longer than SHUTDOWN_GRACE.
    let (stopping, mut stop_requested) = watch::channel(false);
    let server = axum::serve(listener, router(Arc::clone(&service)))
        .with_graceful_shutdown(async move {
            stop_signals.received().await;
            tracing::info!("shutting down");
            stopping.send_replace(true);
        })
        .into_future();
    let served = tokio::select! {
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
    };
    service.save_state()?;
    served
}

/// The service as the options describe it: the state file's accounts (or else the
/// scenario's), the event collector, and the saver of the state file.
fn build_service(options: &Options) -> Result<SharedService, StartError> {
    let models = Models::load()?;
    let mut accounts = Accounts::new(
        options.region.clone(),
        options.account.clone(),
        options.sync_step_delay,
    );
    let state_file = options.state_file.clone().map(StateFile::new).map(Arc::new);
    let restored = match &state_file {
        Some(file) => file.load(&mut accounts)?,
        None => false,
    };
    // A saved state is the account as it was left: a scenario only seeds a fresh one.
    match &options.scenario {
        Some(path) if restored => {
            tracing::info!(scenario = %path.display(), "state restored from the state file; scenario not applied");
        }
        Some(path) => {
            let counts = scenario::load_file(path, &mut accounts, models.current())?;
            tracing::info!(scenario = %path.display(), ?counts, "scenario loaded");
        }
        None => {}
    }
    let events = options
        .events_to
        .as_deref()
        .map(EventSink::start)
        .transpose()?;
    let service = Service::new(models, accounts, events, state_file);
    service.keep_saving();
    Ok(service)
}

fn router(service: SharedService) -> Router {
    Router::new()
        .route("/", post(protocol::handle_json))
        .route(
            "/service/{service}/operation/{operation}",
            post(protocol::handle_cbor),
        )
        .nest("/_emulator", admin::router())
        .fallback(not_found)
        .with_state(service)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "Not found: the API is POST / (awsJson1_0, X-Amz-Target) or POST /service/CodeConnections_20231201/operation/<Operation> (Smithy RPC v2 CBOR), the admin API is under /_emulator/"
        })),
    )
        .into_response()
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
