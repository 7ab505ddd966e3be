//! The admin API under `/_emulator/`, for tests and demos: JSON in, JSON out. It is never
//! faulted and never counted as a call.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api_error::{ApiError, ErrorKind};
use crate::faults::FaultConfig;
use crate::scenario::{self, ScenarioDocument, SeedCounts};
use crate::service::{
    Backend, CallReport, NewSyncBlocker, PersistentCause, RepositorySyncStep, ResourceSyncStep,
    Service, SharedService, is_account_id,
};
use crate::state::{ConnectionStatus, Timestamp};
use crate::validate::validate_named;

/// Seed documents with thousands of resources are far larger than API calls.
const MAX_ADMIN_BODY_BYTES: usize = 256 * 1024 * 1024;

pub fn router() -> Router<SharedService> {
    Router::new()
        .route("/reset", post(reset))
        .route("/state", get(dump_state))
        .route("/accounts", get(list_accounts))
        .route("/connection-status", post(set_connection_status))
        .route("/host-status", post(set_host_status))
        .route("/sync-blockers", post(create_sync_blocker))
        .route("/resource-sync", post(record_resource_sync))
        .route("/repository-sync", post(record_repository_sync))
        .route("/persistent-cause", post(set_persistent_cause))
        .route("/faults", post(set_faults))
        .route("/calls", get(calls))
        .route("/seed", post(seed))
        .layer(DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES))
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// The service's refusals: what does not exist is a 404, anything else a bad request.
impl From<ApiError> for AdminError {
    fn from(error: ApiError) -> Self {
        match error.kind {
            ErrorKind::ResourceNotFound => Self::NotFound(error.message),
            _ => Self::BadRequest(error.message),
        }
    }
}

/// `?account=123456789012`: the account an admin call acts in; the default one when absent.
/// (An account id is digits, so the query needs no decoding.)
struct AccountQuery {
    account: Option<String>,
}

impl AccountQuery {
    fn new(query: Option<String>) -> Self {
        let account = query.as_deref().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("account="))
                .map(str::to_owned)
        });
        Self { account }
    }

    fn id(&self) -> Result<Option<&str>, AdminError> {
        match self.account.as_deref() {
            Some(id) if !is_account_id(id) => Err(AdminError::BadRequest(format!(
                "Invalid query: account '{id}' is not an account id (12 digits)"
            ))),
            id => Ok(id),
        }
    }
}

/// Reads a JSON body (empty means `{}`), naming the field at fault in errors.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        AdminError::BadRequest(if path == "." {
            format!("Invalid body: {inner}")
        } else {
            format!("Invalid body at {path}: {inner}")
        })
    })?;
    deserializer
        .end()
        .map_err(|error| AdminError::BadRequest(format!("Invalid body: {error}")))?;
    Ok(value)
}

fn check(app: &Service, shape: &str, value: &str, field: &str) -> Result<(), AdminError> {
    validate_named(
        app.models.current(),
        shape,
        &Value::String(value.to_owned()),
        field,
    )
    .map_err(AdminError::BadRequest)
}

/// Without an account, every account is forgotten; with one, only that one is emptied.
async fn reset(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    match account.id()? {
        Some(id) => app.lock().account(Some(id)).reset(),
        None => app.lock().reset_all(),
    }
    app.changed();
    tracing::info!(account = ?account.account, "state, faults and call counts reset");
    Ok(Json(json!({ "Reset": true })))
}

async fn dump_state(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let mut accounts = app.lock();
    Ok(Json(json!(accounts.account(account.id()?).dump())))
}

/// The accounts used so far: the default one and those named by credentials, the admin
/// API or scenarios.
async fn list_accounts(State(app): State<SharedService>) -> Json<Value> {
    let accounts = app.lock();
    let ids: Vec<&str> = accounts.ids().collect();
    Json(json!({ "Default": accounts.default_account(), "Accounts": ids }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConnectionStatusBody {
    connection_arn: String,
    status: ConnectionStatus,
}

async fn set_connection_status(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let body: ConnectionStatusBody = parse(&body)?;
    let connection = in_account(&app, &account, |backend| {
        backend
            .set_connection_status(&body.connection_arn, body.status)
            .cloned()
    })?;
    Ok(Json(json!({ "Connection": connection })))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct HostStatusBody {
    host_arn: String,
    status: String,
    status_message: Option<String>,
}

async fn set_host_status(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let body: HostStatusBody = parse(&body)?;
    check(&app, "HostStatus", &body.status, "Status")?;
    let host = in_account(&app, &account, |backend| {
        backend
            .set_host_status(&body.host_arn, body.status, body.status_message)
            .cloned()
    })?;
    Ok(Json(json!({ "Host": host })))
}

async fn create_sync_blocker(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let blocker: NewSyncBlocker = parse(&body)?;
    let id = in_account(&app, &account, |backend| backend.raise_blocker(blocker))?;
    Ok(Json(json!({ "Id": id })))
}

async fn record_resource_sync(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let step: ResourceSyncStep = parse(&body)?;
    if let Some(commit) = &step.commit {
        check(&app, "SHA", commit, "Commit")?;
    }
    let event = in_account(&app, &account, |backend| backend.record_resource_sync(step))?;
    Ok(Json(event))
}

async fn record_repository_sync(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let step: RepositorySyncStep = parse(&body)?;
    check(&app, "BranchName", &step.branch, "Branch")?;
    if let Some(commit) = &step.commit {
        check(&app, "SHA", commit, "Commit")?;
    }
    let event = in_account(&app, &account, |backend| {
        backend.record_repository_sync(step)
    })?;
    Ok(Json(event))
}

async fn set_persistent_cause(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let marking: PersistentCause = parse(&body)?;
    let persistent = marking.persistent;
    in_account(&app, &account, |backend| {
        backend.set_persistent_cause(marking)
    })?;
    Ok(Json(json!({ "Persistent": persistent })))
}

/// Runs a change in an account, then carries out what it set in motion (its events).
fn in_account<T>(
    app: &SharedService,
    account: &AccountQuery,
    change: impl FnOnce(&mut Backend) -> Result<T, ApiError>,
) -> Result<T, AdminError> {
    let (changed, effects) = {
        let mut accounts = app.lock();
        let backend = accounts.account(account.id()?);
        (change(backend), backend.take_effects())
    };
    app.changed();
    app.carry_out(effects);
    Ok(changed?)
}

async fn set_faults(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let account = AccountQuery::new(query);
    let config: FaultConfig = parse(&body)?;
    let mut accounts = app.lock();
    let faults = accounts
        .account(account.id()?)
        .set_faults(config)
        .map_err(AdminError::BadRequest)?;
    tracing::info!(?faults, "faults set");
    Ok(Json(json!({ "Faults": faults })))
}

async fn calls(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
) -> Result<Json<CallReport>, AdminError> {
    let account = AccountQuery::new(query);
    Ok(Json(app.lock().account(account.id()?).call_report()))
}

async fn seed(
    State(app): State<SharedService>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<SeedCounts>, AdminError> {
    let account = AccountQuery::new(query);
    let document: ScenarioDocument = parse(&body)?;
    let id = document
        .account(account.id()?)
        .map_err(AdminError::BadRequest)?;
    let mut accounts = app.lock();
    let backend = accounts.account(id.as_deref());
    let counts = scenario::apply(document, backend, app.models.current(), Timestamp::now())
        .map_err(AdminError::BadRequest)?;
    drop(accounts);
    app.changed();
    tracing::info!(?counts, "seeded");
    Ok(Json(counts))
}
