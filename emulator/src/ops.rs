//! The 27 operations as the wire sees them: each reads its validated input, makes one
//! service call and shapes the result as the operation's output. Rules live in the
//! service, not here.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::Api;
use crate::api_error::{ApiError, ErrorKind};
use crate::operation::Operation;
use crate::service::{
    Backend, ListConnectionsRequest, Page, UpdateHostRequest, UpdateRepositoryLinkRequest,
    UpdateSyncConfigurationRequest,
};
use crate::state::{KeyValue, SyncType, Timestamp};

/// Runs one operation. `invalid_input` is what this operation answers for invalid input:
/// `InvalidInputException` where its model lists that error, `ValidationException`
/// otherwise; the service always speaks of `InvalidInput`.
pub fn execute(
    api: Api,
    operation: Operation,
    input: Value,
    backend: &mut Backend,
    invalid_input: ErrorKind,
    now: Timestamp,
) -> Result<Value, ApiError> {
    dispatch(api, operation, input, backend, now).map_err(|mut error| {
        if error.kind == ErrorKind::InvalidInput {
            error.kind = invalid_input;
        }
        error
    })
}

/// `api` is the API called: new resources carry its ARN prefix.
fn dispatch(
    api: Api,
    operation: Operation,
    input: Value,
    backend: &mut Backend,
    now: Timestamp,
) -> Result<Value, ApiError> {
    use Operation::*;
    match operation {
        CreateConnection | CreateHost | DeleteConnection | DeleteHost | GetConnection | GetHost
        | ListConnections | ListHosts | UpdateHost | ListTagsForResource | TagResource
        | UntagResource => connections_and_hosts(api, operation, input, backend),
        CreateRepositoryLink | DeleteRepositoryLink | GetRepositoryLink | ListRepositoryLinks
        | UpdateRepositoryLink => repository_links(api, operation, input, backend),
        CreateSyncConfiguration
        | DeleteSyncConfiguration
        | GetSyncConfiguration
        | ListSyncConfigurations
        | UpdateSyncConfiguration
        | ListRepositorySyncDefinitions => sync_configurations(operation, input, backend),
        GetRepositorySyncStatus
        | GetResourceSyncStatus
        | GetSyncBlockerSummary
        | UpdateSyncBlocker => sync_status(operation, input, backend, now),
    }
}

/// `dispatch` sent an operation to the wrong family: a bug of ours, not of the caller.
fn outside_family(operation: Operation, family: &str) -> ApiError {
    ApiError::new(
        ErrorKind::InternalServer,
        format!("{operation} is not an operation on {family}"),
    )
}

/// The operations on connections, hosts and tags.
fn connections_and_hosts(
    api: Api,
    operation: Operation,
    input: Value,
    backend: &mut Backend,
) -> Result<Value, ApiError> {
    match operation {
        Operation::CreateConnection => {
            let record = backend.create_connection(parse(input)?, api)?;
            Ok(with_tags(
                json!({ "ConnectionArn": record.connection.connection_arn }),
                &record.tags,
            ))
        }
        Operation::CreateHost => {
            let record = backend.create_host(parse(input)?, api)?;
            Ok(with_tags(
                json!({ "HostArn": record.host.host_arn }),
                &record.tags,
            ))
        }
        Operation::DeleteConnection => {
            let input: ConnectionArnInput = parse(input)?;
            backend.delete_connection(&input.connection_arn)?;
            Ok(json!({}))
        }
        Operation::DeleteHost => {
            let input: HostArnInput = parse(input)?;
            backend.delete_host(&input.host_arn)?;
            Ok(json!({}))
        }
        Operation::GetConnection => {
            let input: ConnectionArnInput = parse(input)?;
            Ok(json!({ "Connection": backend.connection(&input.connection_arn)? }))
        }
        Operation::GetHost => {
            let input: HostArnInput = parse(input)?;
            let host = backend.host(&input.host_arn)?;
            let mut output = json!({
                "Name": host.name,
                "Status": host.status,
                "ProviderType": host.provider_type,
                "ProviderEndpoint": host.provider_endpoint,
            });
            if let Some(vpc_configuration) = &host.vpc_configuration {
                output["VpcConfiguration"] = json!(vpc_configuration);
            }
            Ok(output)
        }
        Operation::ListConnections => {
            let page = backend.list_connections(&parse::<ListConnectionsRequest>(input)?)?;
            Ok(page_output("Connections", page))
        }
        Operation::ListHosts => {
            let input: PageInput = parse(input)?;
            let page = backend.list_hosts(input.max_results, input.next_token.as_deref())?;
            Ok(page_output("Hosts", page))
        }
        Operation::UpdateHost => {
            backend.update_host(parse::<UpdateHostRequest>(input)?)?;
            Ok(json!({}))
        }
        Operation::ListTagsForResource => {
            let input: ResourceArnInput = parse(input)?;
            Ok(json!({ "Tags": backend.tags(&input.resource_arn)? }))
        }
        Operation::TagResource => {
            let input: TagResourceInput = parse(input)?;
            backend.tag_resource(&input.resource_arn, input.tags)?;
            Ok(json!({}))
        }
        Operation::UntagResource => {
            let input: UntagResourceInput = parse(input)?;
            backend.untag_resource(&input.resource_arn, &input.tag_keys)?;
            Ok(json!({}))
        }
        other => Err(outside_family(other, "connections, hosts and tags")),
    }
}

/// The operations on repository links.
fn repository_links(
    api: Api,
    operation: Operation,
    input: Value,
    backend: &mut Backend,
) -> Result<Value, ApiError> {
    match operation {
        Operation::CreateRepositoryLink => {
            let link = backend.create_repository_link(parse(input)?, api)?;
            Ok(json!({ "RepositoryLinkInfo": link }))
        }
        Operation::DeleteRepositoryLink => {
            let input: RepositoryLinkIdInput = parse(input)?;
            backend.delete_repository_link(&input.repository_link_id)?;
            Ok(json!({}))
        }
        Operation::GetRepositoryLink => {
            let input: RepositoryLinkIdInput = parse(input)?;
            Ok(json!({ "RepositoryLinkInfo": backend.repository_link(&input.repository_link_id)? }))
        }
        Operation::ListRepositoryLinks => {
            let input: PageInput = parse(input)?;
            let page =
                backend.list_repository_links(input.max_results, input.next_token.as_deref())?;
            Ok(page_output("RepositoryLinks", page))
        }
        Operation::UpdateRepositoryLink => {
            let link =
                backend.update_repository_link(parse::<UpdateRepositoryLinkRequest>(input)?)?;
            Ok(json!({ "RepositoryLinkInfo": link }))
        }
        other => Err(outside_family(other, "repository links")),
    }
}

/// The operations on sync configurations.
fn sync_configurations(
    operation: Operation,
    input: Value,
    backend: &mut Backend,
) -> Result<Value, ApiError> {
    match operation {
        Operation::CreateSyncConfiguration => {
            let configuration = backend.create_sync_configuration(parse(input)?)?;
            Ok(json!({ "SyncConfiguration": configuration }))
        }
        Operation::DeleteSyncConfiguration => {
            let input: SyncResourceInput = parse(input)?;
            backend.delete_sync_configuration(input.sync_type, &input.resource_name)?;
            Ok(json!({}))
        }
        Operation::GetSyncConfiguration => {
            let input: SyncResourceInput = parse(input)?;
            let configuration =
                backend.sync_configuration(input.sync_type, &input.resource_name)?;
            Ok(json!({ "SyncConfiguration": configuration }))
        }
        Operation::ListSyncConfigurations => {
            let input: ListSyncConfigurationsInput = parse(input)?;
            let page = backend.list_sync_configurations(
                &input.repository_link_id,
                input.sync_type,
                input.max_results,
                input.next_token.as_deref(),
            )?;
            Ok(page_output("SyncConfigurations", page))
        }
        Operation::UpdateSyncConfiguration => {
            let configuration = backend
                .update_sync_configuration(parse::<UpdateSyncConfigurationRequest>(input)?)?;
            Ok(json!({ "SyncConfiguration": configuration }))
        }
        Operation::ListRepositorySyncDefinitions => {
            let input: RepositoryLinkSyncInput = parse(input)?;
            let definitions: Vec<Value> = backend
                .repository_sync_definitions(&input.repository_link_id, input.sync_type)?
                .into_iter()
                .map(|definition| {
                    json!({
                        "Branch": definition.branch,
                        "Directory": definition.directory,
                        "Parent": definition.parent,
                        "Target": definition.target,
                    })
                })
                .collect();
            Ok(json!({ "RepositorySyncDefinitions": definitions }))
        }
        other => Err(outside_family(other, "sync configurations")),
    }
}

/// The operations on sync status and blockers.
fn sync_status(
    operation: Operation,
    input: Value,
    backend: &mut Backend,
    now: Timestamp,
) -> Result<Value, ApiError> {
    match operation {
        Operation::GetRepositorySyncStatus => {
            let input: GetRepositorySyncStatusInput = parse(input)?;
            let latest = backend.repository_sync_status(
                &input.repository_link_id,
                &input.branch,
                input.sync_type,
            )?;
            Ok(json!({ "LatestSync": latest }))
        }
        Operation::GetResourceSyncStatus => {
            let input: SyncResourceInput = parse(input)?;
            let status = backend.resource_sync_status(input.sync_type, &input.resource_name)?;
            let mut output = json!({
                "DesiredState": status.latest_sync.target_revision,
                "LatestSync": status.latest_sync,
            });
            if let Some(successful) = status.latest_successful_sync {
                output["LatestSuccessfulSync"] = json!(successful);
            }
            Ok(output)
        }
        Operation::GetSyncBlockerSummary => {
            let input: SyncResourceInput = parse(input)?;
            let latest = backend.latest_blockers(input.sync_type, &input.resource_name)?;
            Ok(json!({
                "SyncBlockerSummary": {
                    "ResourceName": input.resource_name,
                    "LatestBlockers": latest,
                }
            }))
        }
        Operation::UpdateSyncBlocker => {
            let input: UpdateSyncBlockerInput = parse(input)?;
            let blocker = backend.resolve_blocker(
                input.sync_type,
                &input.resource_name,
                &input.id,
                input.resolved_reason,
                now,
            )?;
            Ok(json!({
                "ResourceName": input.resource_name,
                "SyncBlocker": blocker,
            }))
        }
        other => Err(outside_family(other, "sync status and blockers")),
    }
}

/// Reads a validated input into its typed form; a failure here means a value the model
/// allows but the emulator cannot represent, answered as invalid input.
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|error| ApiError::new(ErrorKind::InvalidInput, format!("Invalid input: {error}")))
}

fn with_tags(mut output: Value, tags: &[KeyValue]) -> Value {
    if !tags.is_empty() {
        output["Tags"] = json!(tags);
    }
    output
}

fn page_output<T: serde::Serialize>(member: &str, page: Page<'_, T>) -> Value {
    let mut output = Value::Object(serde_json::Map::new());
    output[member] = json!(page.items);
    if let Some(next_token) = page.next_token {
        output["NextToken"] = Value::String(next_token);
    }
    output
}

// The inputs of the operations that name one resource; the others read straight into
// the service's requests.

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionArnInput {
    connection_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostArnInput {
    host_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RepositoryLinkIdInput {
    repository_link_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RepositoryLinkSyncInput {
    repository_link_id: String,
    sync_type: SyncType,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SyncResourceInput {
    resource_name: String,
    sync_type: SyncType,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceArnInput {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRepositorySyncStatusInput {
    branch: String,
    repository_link_id: String,
    sync_type: SyncType,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PageInput {
    max_results: Option<u32>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListSyncConfigurationsInput {
    repository_link_id: String,
    sync_type: SyncType,
    max_results: Option<u32>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    resource_arn: String,
    tags: Vec<KeyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateSyncBlockerInput {
    id: String,
    resource_name: String,
    sync_type: SyncType,
    resolved_reason: String,
}
