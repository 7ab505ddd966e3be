//! The shared application state and the HTTP routes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;

use crate::admin;
use crate::faults::Faults;
use crate::model::Model;
use crate::operation::Operation;
use crate::protocol;
use crate::state::State;

/// Where the emulated resources live.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account: String,
}

/// How many calls each operation received since the last reset.
#[derive(Debug, Clone)]
pub struct CallCounts {
    by_operation: Vec<u64>,
}

impl Default for CallCounts {
    fn default() -> Self {
        Self {
            by_operation: vec![0; Operation::ALL.len()],
        }
    }
}

#[derive(Serialize)]
pub struct CallReport {
    pub total: u64,
    pub operations: BTreeMap<&'static str, u64>,
}

impl CallCounts {
    pub fn record(&mut self, operation: Operation) {
        self.by_operation[operation.index()] += 1;
    }

    pub fn report(&self) -> CallReport {
        let operations: BTreeMap<&'static str, u64> = Operation::ALL
            .iter()
            .zip(&self.by_operation)
            .filter(|(_, count)| **count > 0)
            .map(|(operation, count)| (operation.name(), *count))
            .collect();
        CallReport {
            total: operations.values().sum(),
            operations,
        }
    }
}

/// Everything that changes, behind one lock.
#[derive(Debug, Clone, Default)]
pub struct Emulator {
    pub state: State,
    pub faults: Faults,
    pub calls: CallCounts,
}

pub struct AppState {
    pub model: Model,
    pub settings: Settings,
    emulator: Mutex<Emulator>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(model: Model, settings: Settings, emulator: Emulator) -> SharedState {
        Arc::new(Self {
            model,
            settings,
            emulator: Mutex::new(emulator),
        })
    }

    /// The lock is never held across an await; a panic while holding it cannot leave a
    /// half-applied change (changes are applied after all checks), so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Emulator> {
        self.emulator.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub fn router(app: SharedState) -> Router {
    Router::new()
        .route("/", post(protocol::handle))
        .nest("/_emulator", admin::router())
        .fallback(not_found)
        .with_state(app)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "error": "Not found: the API is POST / (awsJson1_0, X-Amz-Target), the admin API is under /_emulator/"
        })),
    )
        .into_response()
}
