//! Connections, hosts, repository links and their tags.

use serde::Deserialize;

use super::rules::{self, HOST_STATUSES_BLOCKING_DELETE, NEW_HOST_STATUS, ProviderTypeProblem};
use super::{Backend, Page};
use crate::api::Api;
use crate::api_error::{ApiError, ErrorKind};
use crate::arn::{self, ResourceKind};
use crate::pagination::{Scope, page_size, take_page};
use crate::state::{
    Connection, ConnectionRecord, ConnectionStatus, Host, HostRecord, KeyValue, LinkRecord,
    ProviderType, RepositoryLinkInfo, Table, VpcConfiguration,
};

// Requests come in the model's input shapes, so that the protocol reads them straight
// from a request body.

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateConnectionRequest {
    pub connection_name: String,
    pub provider_type: Option<ProviderType>,
    pub host_arn: Option<String>,
    pub tags: Option<Vec<KeyValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateHostRequest {
    pub name: String,
    pub provider_type: ProviderType,
    pub provider_endpoint: String,
    pub vpc_configuration: Option<VpcConfiguration>,
    pub tags: Option<Vec<KeyValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateHostRequest {
    host_arn: String,
    provider_endpoint: Option<String>,
    vpc_configuration: Option<VpcConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRepositoryLinkRequest {
    pub connection_arn: String,
    pub owner_id: String,
    pub repository_name: String,
    pub encryption_key_arn: Option<String>,
    pub tags: Option<Vec<KeyValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRepositoryLinkRequest {
    repository_link_id: String,
    connection_arn: Option<String>,
    encryption_key_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListConnectionsRequest {
    provider_type_filter: Option<ProviderType>,
    host_arn_filter: Option<String>,
    max_results: Option<u32>,
    next_token: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidInput, message)
}

fn no_connection(connection_arn: &str) -> String {
    format!("Connection {connection_arn} does not exist")
}

fn no_host(host_arn: &str) -> ApiError {
    ApiError::not_found(format!("Host {host_arn} does not exist"))
}

pub(super) fn no_repository_link(repository_link_id: &str) -> String {
    format!("Repository link {repository_link_id} does not exist")
}

fn no_resource(resource_arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource {resource_arn} does not exist"))
}

/// What a scenario fixes of a new link's identity: its id, its ARN, both or neither.
#[derive(Default)]
pub struct LinkIdentity {
    pub id: Option<String>,
    pub arn: Option<String>,
}

/// An ARN fixed for a new resource must be one of this service's, name a resource of
/// the kind created, and be new; answers the resource id it ends with.
fn new_fixed_arn(fixed_arn: &str, kind: ResourceKind, taken: bool) -> Result<&str, ApiError> {
    let Some((found_kind, id)) = arn::resource(fixed_arn) else {
        return Err(invalid(format!(
            "{fixed_arn} is not an ARN of arn:aws:codestar-connections or arn:aws:codeconnections"
        )));
    };
    if found_kind != kind {
        return Err(invalid(format!("{fixed_arn} does not name a {kind:?}")));
    }
    if taken {
        return Err(ApiError::new(
            ErrorKind::ResourceAlreadyExists,
            format!("A resource with the ARN {fixed_arn} already exists"),
        ));
    }
    Ok(id)
}

fn check_tag_count(tags: &[KeyValue]) -> Result<(), ApiError> {
    if rules::within_tag_limit(tags.len()) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorKind::LimitExceeded,
        format!(
            "A resource can have at most {} tags; this request would give it {}",
            rules::MAX_TAGS_PER_RESOURCE,
            tags.len()
        ),
    ))
}

/// Adds or overwrites tags by key, keeping the order in which keys first appeared.
fn merge_tags(existing: &mut Vec<KeyValue>, added: Vec<KeyValue>) {
    for tag in added {
        match existing.iter_mut().find(|current| current.key == tag.key) {
            Some(current) => current.value = tag.value,
            None => existing.push(tag),
        }
    }
}

fn new_tags(tags: Option<Vec<KeyValue>>) -> Result<Vec<KeyValue>, ApiError> {
    let mut merged = Vec::new();
    merge_tags(&mut merged, tags.unwrap_or_default());
    check_tag_count(&merged)?;
    Ok(merged)
}

/// Where a list resumes: the start, or the row its NextToken names.
pub(super) fn page_start(scope: &Scope, next_token: Option<&str>) -> Result<u64, ApiError> {
    next_token.map_or(Ok(0), |token| {
        scope
            .decode(token)
            .map_err(|error| invalid(error.to_string()))
    })
}

/// One page of a whole table, for the lists without filters.
fn page_of_table<'a, R, T>(
    table: &'a Table<R>,
    list: &str,
    item: impl Fn(&'a R) -> &'a T,
    max_results: Option<u32>,
    next_token: Option<&str>,
) -> Result<Page<'a, T>, ApiError> {
    let scope = Scope::new(&[list]);
    let start = page_start(&scope, next_token)?;
    let rows = table
        .rows_from(start)
        .map(|(sequence, record)| (sequence, item(record)));
    Ok(take_page(rows, page_size(max_results), &scope))
}

impl Backend {
    pub fn create_connection(
        &mut self,
        request: CreateConnectionRequest,
        api: Api,
    ) -> Result<ConnectionRecord, ApiError> {
        self.create_connection_as(request, api, None)
    }

    /// Creates a connection under the ARN a scenario fixes, else under a new one.
    pub fn create_connection_as(
        &mut self,
        request: CreateConnectionRequest,
        api: Api,
        fixed_arn: Option<String>,
    ) -> Result<ConnectionRecord, ApiError> {
        let tags = new_tags(request.tags)?;
        let host_provider_type = match &request.host_arn {
            Some(host_arn) => Some(
                self.state
                    .host(host_arn)
                    .ok_or_else(|| no_host(host_arn))?
                    .host
                    .provider_type,
            ),
            None => None,
        };
        let provider_type =
            rules::connection_provider_type(request.provider_type, host_provider_type).map_err(
                |problem| match problem {
                    ProviderTypeProblem::DiffersFromHost { requested, host } => invalid(format!(
                        "ProviderType {} does not match the provider type {} of host {}",
                        requested.name(),
                        host.name(),
                        request.host_arn.as_deref().unwrap_or_default()
                    )),
                    ProviderTypeProblem::NeedsHost(requested) => invalid(format!(
                        "ProviderType {} is reached through a host: specify HostArn",
                        requested.name()
                    )),
                    ProviderTypeProblem::Missing => {
                        invalid("Either ProviderType or HostArn must be specified")
                    }
                },
            )?;
        let connection_arn = match fixed_arn {
            Some(connection_arn) => {
                let taken = self.state.connection(&connection_arn).is_some();
                new_fixed_arn(&connection_arn, ResourceKind::Connection, taken)?;
                connection_arn
            }
            None => rules::new_connection_arn(&self.settings, api),
        };
        let record = ConnectionRecord {
            connection: Connection {
                connection_name: request.connection_name,
                connection_arn,
                provider_type,
                owner_account_id: self.settings.account.clone(),
                connection_status: ConnectionStatus::Pending,
                host_arn: request.host_arn,
            },
            tags,
        };
        self.state.insert_connection(record.clone());
        Ok(record)
    }

    pub fn connection(&self, connection_arn: &str) -> Result<&Connection, ApiError> {
        self.state
            .connection(connection_arn)
            .map(|record| &record.connection)
            .ok_or_else(|| ApiError::not_found(no_connection(connection_arn)))
    }

    pub fn delete_connection(&mut self, connection_arn: &str) -> Result<(), ApiError> {
        self.state
            .connections
            .remove(&arn::key(connection_arn))
            .map(drop)
            .ok_or_else(|| ApiError::not_found(no_connection(connection_arn)))
    }

    pub fn list_connections(
        &self,
        request: &ListConnectionsRequest,
    ) -> Result<Page<'_, Connection>, ApiError> {
        let host_filter = request.host_arn_filter.as_deref().map(arn::key);
        let scope = Scope::new(&[
            "ListConnections",
            request.provider_type_filter.map_or("", ProviderType::name),
            host_filter.as_deref().unwrap_or(""),
        ]);
        let start = page_start(&scope, request.next_token.as_deref())?;
        let rows = self
            .state
            .connections
            .rows_from(start)
            .map(|(sequence, record)| (sequence, &record.connection))
            .filter(|(_, connection)| {
                request
                    .provider_type_filter
                    .is_none_or(|provider_type| connection.provider_type == provider_type)
                    && host_filter.as_ref().is_none_or(|host_key| {
                        connection
                            .host_arn
                            .as_deref()
                            .is_some_and(|host_arn| arn::key(host_arn) == *host_key)
                    })
            });
        Ok(take_page(rows, page_size(request.max_results), &scope))
    }

    /// Completing or breaking a connection's handshake, which only AWS can do.
    pub fn set_connection_status(
        &mut self,
        connection_arn: &str,
        status: ConnectionStatus,
    ) -> Result<&Connection, ApiError> {
        let record = self
            .state
            .connections
            .get_mut(&arn::key(connection_arn))
            .ok_or_else(|| {
                ApiError::not_found(format!("No connection has the ARN {connection_arn}"))
            })?;
        record.connection.connection_status = status;
        Ok(&record.connection)
    }

    pub fn create_host(
        &mut self,
        request: CreateHostRequest,
        api: Api,
    ) -> Result<HostRecord, ApiError> {
        self.create_host_as(request, api, None)
    }

    /// Creates a host under the ARN a scenario fixes, else under a new one.
    pub fn create_host_as(
        &mut self,
        request: CreateHostRequest,
        api: Api,
        fixed_arn: Option<String>,
    ) -> Result<HostRecord, ApiError> {
        if !rules::provider_has_hosts(request.provider_type) {
            return Err(invalid(format!(
                "ProviderType {} has no hosts: hosts are for GitHubEnterpriseServer and GitLabSelfManaged",
                request.provider_type.name()
            )));
        }
        let tags = new_tags(request.tags)?;
        let host_arn = match fixed_arn {
            Some(host_arn) => {
                let taken = self.state.host(&host_arn).is_some();
                new_fixed_arn(&host_arn, ResourceKind::Host, taken)?;
                host_arn
            }
            None => rules::new_host_arn(&self.settings, api, &request.name),
        };
        let record = HostRecord {
            host: Host {
                host_arn,
                name: request.name,
                provider_type: request.provider_type,
                provider_endpoint: request.provider_endpoint,
                vpc_configuration: request.vpc_configuration,
                status: NEW_HOST_STATUS.to_owned(),
                status_message: None,
            },
            tags,
        };
        self.state.insert_host(record.clone());
        Ok(record)
    }

    pub fn host(&self, host_arn: &str) -> Result<&Host, ApiError> {
        self.state
            .host(host_arn)
            .map(|record| &record.host)
            .ok_or_else(|| no_host(host_arn))
    }

    pub fn delete_host(&mut self, host_arn: &str) -> Result<(), ApiError> {
        let key = arn::key(host_arn);
        let host = &self
            .state
            .hosts
            .get(&key)
            .ok_or_else(|| no_host(host_arn))?
            .host;
        if HOST_STATUSES_BLOCKING_DELETE.contains(&host.status.as_str()) {
            return Err(ApiError::new(
                ErrorKind::ResourceUnavailable,
                format!(
                    "Host {host_arn} cannot be deleted while in status {}",
                    host.status
                ),
            ));
        }
        self.state.hosts.remove(&key);
        Ok(())
    }

    pub fn update_host(&mut self, request: UpdateHostRequest) -> Result<(), ApiError> {
        let host = &mut self
            .state
            .hosts
            .get_mut(&arn::key(&request.host_arn))
            .ok_or_else(|| no_host(&request.host_arn))?
            .host;
        if let Some(provider_endpoint) = request.provider_endpoint {
            host.provider_endpoint = provider_endpoint;
        }
        if let Some(vpc_configuration) = request.vpc_configuration {
            host.vpc_configuration = Some(vpc_configuration);
        }
        Ok(())
    }

    pub fn list_hosts(
        &self,
        max_results: Option<u32>,
        next_token: Option<&str>,
    ) -> Result<Page<'_, Host>, ApiError> {
        page_of_table(
            &self.state.hosts,
            "ListHosts",
            |record| &record.host,
            max_results,
            next_token,
        )
    }

    /// A host's status as its VPC configuration or its provider moves it along, which
    /// only AWS can do.
    pub fn set_host_status(
        &mut self,
        host_arn: &str,
        status: String,
        status_message: Option<String>,
    ) -> Result<&Host, ApiError> {
        let record = self
            .state
            .hosts
            .get_mut(&arn::key(host_arn))
            .ok_or_else(|| ApiError::not_found(format!("No host has the ARN {host_arn}")))?;
        record.host.status = status;
        record.host.status_message = status_message;
        Ok(&record.host)
    }

    pub fn create_repository_link(
        &mut self,
        request: CreateRepositoryLinkRequest,
        api: Api,
    ) -> Result<RepositoryLinkInfo, ApiError> {
        self.create_repository_link_as(request, api, LinkIdentity::default())
    }

    /// Creates a repository link with the id and ARN a scenario fixes, else with new ones.
    pub fn create_repository_link_as(
        &mut self,
        request: CreateRepositoryLinkRequest,
        api: Api,
        fixed: LinkIdentity,
    ) -> Result<RepositoryLinkInfo, ApiError> {
        let tags = new_tags(request.tags)?;
        let provider_type = self
            .state
            .connection(&request.connection_arn)
            .ok_or_else(|| invalid(no_connection(&request.connection_arn)))?
            .connection
            .provider_type;
        if let Some(existing) = self.state.link_of_repository(
            &request.connection_arn,
            &request.owner_id,
            &request.repository_name,
        ) {
            return Err(ApiError::new(
                ErrorKind::ResourceAlreadyExists,
                format!(
                    "Repository {}/{} already has repository link {} on connection {}",
                    request.owner_id,
                    request.repository_name,
                    existing.link.repository_link_id,
                    request.connection_arn
                ),
            ));
        }
        let (repository_link_id, repository_link_arn) = self.link_identity(fixed, api)?;
        let link = RepositoryLinkInfo {
            connection_arn: request.connection_arn,
            encryption_key_arn: request.encryption_key_arn,
            owner_id: request.owner_id,
            provider_type,
            repository_link_arn,
            repository_link_id,
            repository_name: request.repository_name,
        };
        self.state.insert_link(LinkRecord {
            link: link.clone(),
            tags,
            repository_syncs: Default::default(),
        });
        Ok(link)
    }

    /// The id and ARN of a new link: those fixed, which must be new and agree (a link's
    /// ARN ends with its id), the one derived from the other, or new ones.
    fn link_identity(&self, fixed: LinkIdentity, api: Api) -> Result<(String, String), ApiError> {
        let from_arn = match &fixed.arn {
            Some(link_arn) => Some(new_fixed_arn(
                link_arn,
                ResourceKind::RepositoryLink,
                false,
            )?),
            None => None,
        };
        let id = match (fixed.id, from_arn) {
            (Some(id), _) => id,
            (None, Some(from_arn)) => from_arn.to_owned(),
            (None, None) => rules::new_repository_link_id(),
        };
        if self.state.links.contains_key(&id) {
            return Err(ApiError::new(
                ErrorKind::ResourceAlreadyExists,
                format!("A repository link with the Id {id} already exists"),
            ));
        }
        match fixed.arn {
            Some(link_arn) if from_arn != Some(id.as_str()) => Err(invalid(format!(
                "Repository link ARN {link_arn} does not end with the link's Id {id}"
            ))),
            Some(link_arn) => Ok((id, link_arn)),
            None => {
                let link_arn = rules::repository_link_arn(&self.settings, api, &id);
                Ok((id, link_arn))
            }
        }
    }

    pub fn repository_link(
        &self,
        repository_link_id: &str,
    ) -> Result<&RepositoryLinkInfo, ApiError> {
        self.state
            .links
            .get(repository_link_id)
            .map(|record| &record.link)
            .ok_or_else(|| ApiError::not_found(no_repository_link(repository_link_id)))
    }

    pub fn delete_repository_link(&mut self, repository_link_id: &str) -> Result<(), ApiError> {
        self.repository_link(repository_link_id)?;
        let still_syncing: Vec<&str> = self
            .state
            .sync_configurations
            .values()
            .filter(|record| record.configuration.repository_link_id == repository_link_id)
            .map(|record| record.configuration.resource_name.as_str())
            .collect();
        if !still_syncing.is_empty() {
            return Err(ApiError::new(
                ErrorKind::SyncConfigurationStillExists,
                format!(
                    "Repository link {repository_link_id} still has sync configurations for: {}",
                    still_syncing.join(", ")
                ),
            ));
        }
        self.state.links.remove(repository_link_id);
        Ok(())
    }

    /// Moving a link to another connection moves its sync configurations along: they take
    /// the new connection's provider type.
    pub fn update_repository_link(
        &mut self,
        request: UpdateRepositoryLinkRequest,
    ) -> Result<RepositoryLinkInfo, ApiError> {
        self.repository_link(&request.repository_link_id)?;
        let new_connection = match request.connection_arn {
            Some(connection_arn) => {
                let record = self
                    .state
                    .connection(&connection_arn)
                    .ok_or_else(|| invalid(no_connection(&connection_arn)))?;
                Some((connection_arn, record.connection.provider_type))
            }
            None => None,
        };
        let Some(record) = self.state.links.get_mut(&request.repository_link_id) else {
            return Err(ApiError::not_found(no_repository_link(
                &request.repository_link_id,
            )));
        };
        if let Some((connection_arn, provider_type)) = new_connection {
            record.link.connection_arn = connection_arn;
            record.link.provider_type = provider_type;
        }
        if let Some(encryption_key_arn) = request.encryption_key_arn {
            record.link.encryption_key_arn = Some(encryption_key_arn);
        }
        let link = record.link.clone();
        for configuration in self
            .state
            .sync_configurations
            .values_mut()
            .map(|record| &mut record.configuration)
            .filter(|configuration| configuration.repository_link_id == link.repository_link_id)
        {
            configuration.attach_to(&link);
        }
        Ok(link)
    }

    pub fn list_repository_links(
        &self,
        max_results: Option<u32>,
        next_token: Option<&str>,
    ) -> Result<Page<'_, RepositoryLinkInfo>, ApiError> {
        page_of_table(
            &self.state.links,
            "ListRepositoryLinks",
            |record| &record.link,
            max_results,
            next_token,
        )
    }

    pub fn tags(&mut self, resource_arn: &str) -> Result<&[KeyValue], ApiError> {
        self.state
            .tags_mut(resource_arn)
            .map(|tags| tags.as_slice())
            .ok_or_else(|| no_resource(resource_arn))
    }

    /// Adds tags, overwriting the values of keys the resource already has.
    pub fn tag_resource(
        &mut self,
        resource_arn: &str,
        added: Vec<KeyValue>,
    ) -> Result<(), ApiError> {
        let tags = self
            .state
            .tags_mut(resource_arn)
            .ok_or_else(|| no_resource(resource_arn))?;
        let mut merged = tags.clone();
        merge_tags(&mut merged, added);
        check_tag_count(&merged)?;
        *tags = merged;
        Ok(())
    }

    pub fn untag_resource(
        &mut self,
        resource_arn: &str,
        tag_keys: &[String],
    ) -> Result<(), ApiError> {
        let tags = self
            .state
            .tags_mut(resource_arn)
            .ok_or_else(|| no_resource(resource_arn))?;
        tags.retain(|tag| !tag_keys.contains(&tag.key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn merging_tags_overwrites_by_key_and_keeps_order() {
        let mut tags = vec![tag("a", "1"), tag("b", "2")];
        merge_tags(&mut tags, vec![tag("b", "3"), tag("c", "4")]);
        assert_eq!(tags, [tag("a", "1"), tag("b", "3"), tag("c", "4")]);
    }

    #[test]
    fn more_than_fifty_tags_exceed_the_limit() {
        let tags: Vec<KeyValue> = (0..=rules::MAX_TAGS_PER_RESOURCE)
            .map(|i| tag(&i.to_string(), "v"))
            .collect();
        let error = check_tag_count(&tags).expect_err("over the limit");
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
        assert!(check_tag_count(&tags[..rules::MAX_TAGS_PER_RESOURCE]).is_ok());
    }
}
