//! The admin API under `/_emulator/`, for tests and demos: JSON in, JSON out. It is never
//! faulted and never counted as a call.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::arn;
use crate::faults::{FaultConfig, Faults};
use crate::scenario::{self, ScenarioDocument, SeedCounts};
use crate::server::{CallReport, Emulator, SharedState};
use crate::state::{
    BlockerStatus, BlockerType, ConnectionRecord, ConnectionStatus, HostRecord, KeyValue,
    LinkRecord, RepositorySyncStatus, ResourceSyncStatus, SyncBlocker, SyncConfigurationRecord,
    SyncEvent, SyncType, Timestamp, sync_key,
};
use crate::validate::validate_named;

/// Seed documents with thousands of resources are far larger than API calls.
const MAX_ADMIN_BODY_BYTES: usize = 256 * 1024 * 1024;

const EVENT_SOURCE: &str = "aws.codeconnections";
const RESOURCE_SYNC_DETAIL_TYPE: &str = "Git Sync Resource Sync Status Change";
const REPOSITORY_SYNC_DETAIL_TYPE: &str = "Git Sync Repository Sync Status Change";

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/reset", post(reset))
        .route("/state", get(dump_state))
        .route("/connection-status", post(set_connection_status))
        .route("/host-status", post(set_host_status))
        .route("/sync-blockers", post(create_sync_blocker))
        .route("/resource-sync", post(record_resource_sync))
        .route("/repository-sync", post(record_repository_sync))
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

fn check(app: &SharedState, shape: &str, value: &str, field: &str) -> Result<(), AdminError> {
    validate_named(&app.model, shape, &Value::String(value.to_owned()), field)
        .map_err(AdminError::BadRequest)
}

async fn reset(State(app): State<SharedState>) -> Json<Value> {
    *app.lock() = Emulator::default();
    tracing::info!("state, faults and call counts reset");
    Json(json!({ "Reset": true }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StateDump<'a> {
    region: &'a str,
    account: &'a str,
    connections: Vec<&'a ConnectionRecord>,
    hosts: Vec<&'a HostRecord>,
    repository_links: Vec<&'a LinkRecord>,
    sync_configurations: Vec<&'a SyncConfigurationRecord>,
    faults: &'a FaultConfig,
}

async fn dump_state(State(app): State<SharedState>) -> Json<Value> {
    let emulator = app.lock();
    let state = &emulator.state;
    let dump = StateDump {
        region: &app.settings.region,
        account: &app.settings.account,
        connections: state.connections.values().collect(),
        hosts: state.hosts.values().collect(),
        repository_links: state.links.values().collect(),
        sync_configurations: state.sync_configurations.values().collect(),
        faults: emulator.faults.config(),
    };
    Json(json!(dump))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConnectionStatusBody {
    connection_arn: String,
    status: ConnectionStatus,
}

async fn set_connection_status(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let body: ConnectionStatusBody = parse(&body)?;
    let mut emulator = app.lock();
    let record = emulator
        .state
        .connections
        .get_mut(&arn::key(&body.connection_arn))
        .ok_or_else(|| {
            AdminError::NotFound(format!("No connection has the ARN {}", body.connection_arn))
        })?;
    record.connection.connection_status = body.status;
    Ok(Json(json!({ "Connection": record.connection })))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct HostStatusBody {
    host_arn: String,
    status: String,
    status_message: Option<String>,
}

async fn set_host_status(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let body: HostStatusBody = parse(&body)?;
    check(&app, "HostStatus", &body.status, "Status")?;
    let mut emulator = app.lock();
    let record = emulator
        .state
        .hosts
        .get_mut(&arn::key(&body.host_arn))
        .ok_or_else(|| AdminError::NotFound(format!("No host has the ARN {}", body.host_arn)))?;
    record.host.status = body.status;
    record.host.status_message = body.status_message;
    Ok(Json(json!({ "Host": record.host })))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SyncBlockerBody {
    resource_name: String,
    #[serde(default)]
    sync_type: SyncType,
    created_reason: String,
    #[serde(default)]
    contexts: Vec<KeyValue>,
}

async fn create_sync_blocker(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let body: SyncBlockerBody = parse(&body)?;
    if body.created_reason.trim().is_empty() {
        return Err(AdminError::BadRequest(
            "CreatedReason must not be empty".to_owned(),
        ));
    }
    let mut emulator = app.lock();
    let record = emulator
        .state
        .sync_configurations
        .get_mut(&sync_key(body.sync_type, &body.resource_name))
        .ok_or_else(|| no_sync_configuration(body.sync_type, &body.resource_name))?;
    let id = Uuid::new_v4().to_string();
    record.add_blocker(SyncBlocker {
        id: id.clone(),
        kind: BlockerType::Automated,
        status: BlockerStatus::Active,
        created_reason: body.created_reason,
        created_at: Timestamp::now(),
        contexts: body.contexts,
        resolved_reason: None,
        resolved_at: None,
    });
    Ok(Json(json!({ "Id": id })))
}

fn no_sync_configuration(sync_type: SyncType, resource_name: &str) -> AdminError {
    AdminError::NotFound(format!(
        "No sync configuration of type {} exists for resource {resource_name}",
        sync_type.name()
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct EventBody {
    event: String,
    #[serde(rename = "Type")]
    kind: String,
    external_id: Option<String>,
}

fn sync_events(events: Vec<EventBody>, now: Timestamp) -> Vec<SyncEvent> {
    events
        .into_iter()
        .map(|event| SyncEvent {
            event: event.event,
            external_id: event.external_id,
            time: now,
            kind: event.kind,
        })
        .collect()
}

/// An EventBridge event as Git sync publishes it.
fn eventbridge_event(
    app: &SharedState,
    detail_type: &str,
    resource: &str,
    detail: Value,
    now: Timestamp,
) -> Value {
    json!({
        "version": "0",
        "id": Uuid::new_v4().to_string(),
        "detail-type": detail_type,
        "source": EVENT_SOURCE,
        "account": app.settings.account,
        "time": now.to_rfc3339(),
        "region": app.settings.region,
        "resources": [resource],
        "detail": detail,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ResourceSyncBody {
    resource_name: String,
    #[serde(default)]
    sync_type: SyncType,
    status: ResourceSyncStatus,
    commit: Option<String>,
    #[serde(default)]
    events: Vec<EventBody>,
}

async fn record_resource_sync(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let body: ResourceSyncBody = parse(&body)?;
    if let Some(commit) = &body.commit {
        check(&app, "SHA", commit, "Commit")?;
    }
    let now = Timestamp::now();
    let mut emulator = app.lock();
    let state = &mut emulator.state;
    let record = state
        .sync_configurations
        .get_mut(&sync_key(body.sync_type, &body.resource_name))
        .ok_or_else(|| no_sync_configuration(body.sync_type, &body.resource_name))?;
    let previous = record.record_sync(body.status, body.commit, sync_events(body.events, now), now);
    let configuration = &record.configuration;
    let commit = record
        .latest_sync
        .as_ref()
        .map(|attempt| attempt.target_revision.sha.as_str())
        .unwrap_or_default();
    let link_arn = state
        .links
        .get(&configuration.repository_link_id)
        .map(|link| link.link.repository_link_arn.as_str())
        .unwrap_or_default();
    let mut detail = json!({
        "providerType": configuration.provider_type,
        "commit": commit,
        "repositoryName": configuration.repository_name,
        "branch": configuration.branch,
        "syncType": configuration.sync_type,
        "syncTarget": configuration.resource_name,
        "status": body.status,
    });
    if let Some(previous) = previous {
        detail["previousSync"] = json!(previous);
    }
    Ok(Json(eventbridge_event(
        &app,
        RESOURCE_SYNC_DETAIL_TYPE,
        link_arn,
        detail,
        now,
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RepositorySyncBody {
    repository_link_id: String,
    branch: String,
    #[serde(default)]
    sync_type: SyncType,
    status: RepositorySyncStatus,
    commit: Option<String>,
    #[serde(default)]
    events: Vec<EventBody>,
}

async fn record_repository_sync(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let body: RepositorySyncBody = parse(&body)?;
    check(&app, "BranchName", &body.branch, "Branch")?;
    if let Some(commit) = &body.commit {
        check(&app, "SHA", commit, "Commit")?;
    }
    let now = Timestamp::now();
    let mut emulator = app.lock();
    let record = emulator
        .state
        .links
        .get_mut(&body.repository_link_id)
        .ok_or_else(|| {
            AdminError::NotFound(format!(
                "No repository link has the Id {}",
                body.repository_link_id
            ))
        })?;
    let (previous, commit) = record.record_sync(
        &body.branch,
        body.status,
        body.commit,
        sync_events(body.events, now),
        now,
    );
    let link = &record.link;
    let mut detail = json!({
        "connectionArn": link.connection_arn,
        "providerType": link.provider_type,
        "repositoryName": link.repository_name,
        "repositoryLinkId": link.repository_link_id,
        "ownerId": link.owner_id,
        "commit": commit,
        "branch": body.branch,
        "syncType": body.sync_type,
        "status": body.status,
    });
    if let Some(previous) = previous {
        detail["previousSync"] = json!(previous);
    }
    Ok(Json(eventbridge_event(
        &app,
        REPOSITORY_SYNC_DETAIL_TYPE,
        &link.repository_link_arn,
        detail,
        now,
    )))
}

async fn set_faults(
    State(app): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let config: FaultConfig = parse(&body)?;
    let faults = Faults::new(config).map_err(AdminError::BadRequest)?;
    let mut emulator = app.lock();
    emulator.faults = faults;
    tracing::info!(faults = ?emulator.faults.config(), "faults set");
    Ok(Json(json!({ "Faults": emulator.faults.config() })))
}

async fn calls(State(app): State<SharedState>) -> Json<CallReport> {
    Json(app.lock().calls.report())
}

async fn seed(State(app): State<SharedState>, body: Bytes) -> Result<Json<SeedCounts>, AdminError> {
    let document: ScenarioDocument = parse(&body)?;
    let mut emulator = app.lock();
    let counts = scenario::apply(
        document,
        &mut emulator,
        &app.model,
        &app.settings,
        Timestamp::now(),
    )
    .map_err(AdminError::BadRequest)?;
    tracing::info!(?counts, "seeded");
    Ok(Json(counts))
}
