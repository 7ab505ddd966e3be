//! The rules the service's actions share. The API, the admin API and scenarios all act
//! through those actions, so each decision is taken here, once, and worded as the
//! service's error.

use uuid::Uuid;

use super::Settings;
use crate::api::Api;
use crate::arn::{self, ResourceKind};
use crate::state::{
    ProviderType, PublishDeploymentStatus, PullRequestComment, RepositoryLinkInfo,
    SyncConfiguration, SyncType, TriggerResourceUpdateOn,
};

/// AWS's limit of tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// The status a new host starts in, as a host created through the API does.
pub const NEW_HOST_STATUS: &str = "PENDING";

/// Host statuses in which the service refuses to delete a host.
pub const HOST_STATUSES_BLOCKING_DELETE: [&str; 2] =
    ["VPC_CONFIG_INITIALIZING", "VPC_CONFIG_DELETING"];

/// Why a connection cannot have the provider type it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderTypeProblem {
    /// The connection names a host and a different provider type.
    DiffersFromHost {
        requested: ProviderType,
        host: ProviderType,
    },
    /// Self-managed providers are reached through a host, and none was named.
    NeedsHost(ProviderType),
    /// Neither a provider type nor a host was named.
    Missing,
}

/// The provider type of a new connection: its host's (when it names one, which must agree
/// with any requested type), else the requested one, which must not need a host.
pub fn connection_provider_type(
    requested: Option<ProviderType>,
    host: Option<ProviderType>,
) -> Result<ProviderType, ProviderTypeProblem> {
    match (host, requested) {
        (Some(host), Some(requested)) if requested != host => {
            Err(ProviderTypeProblem::DiffersFromHost { requested, host })
        }
        (Some(host), _) => Ok(host),
        (None, Some(requested)) if requested.is_self_managed() => {
            Err(ProviderTypeProblem::NeedsHost(requested))
        }
        (None, Some(requested)) => Ok(requested),
        (None, None) => Err(ProviderTypeProblem::Missing),
    }
}

/// Hosts exist only for the self-managed providers.
pub fn provider_has_hosts(provider_type: ProviderType) -> bool {
    provider_type.is_self_managed()
}

pub fn within_tag_limit(count: usize) -> bool {
    count <= MAX_TAGS_PER_RESOURCE
}

/// A blocker's reason says what went wrong: it cannot be blank.
pub fn reason_is_given(reason: &str) -> bool {
    !reason.trim().is_empty()
}

/// New resources carry the ARN prefix of the API that creates them.
pub fn new_connection_arn(settings: &Settings, api: Api) -> String {
    arn::build(
        api,
        &settings.region,
        &settings.account,
        ResourceKind::Connection,
        &Uuid::new_v4().to_string(),
    )
}

/// A host's ARN ends with its name and a random suffix, as the service's do.
pub fn new_host_arn(settings: &Settings, api: Api, name: &str) -> String {
    let suffix = Uuid::new_v4().simple().to_string();
    arn::build(
        api,
        &settings.region,
        &settings.account,
        ResourceKind::Host,
        &format!("{name}-{}", &suffix[..8]),
    )
}

pub fn new_repository_link_id() -> String {
    Uuid::new_v4().to_string()
}

/// A link's ARN ends with its id.
pub fn repository_link_arn(settings: &Settings, api: Api, repository_link_id: &str) -> String {
    arn::build(
        api,
        &settings.region,
        &settings.account,
        ResourceKind::RepositoryLink,
        repository_link_id,
    )
}

pub fn new_blocker_id() -> String {
    Uuid::new_v4().to_string()
}

/// The settings of a sync configuration that its creator chooses; the repository and the
/// provider come from the link.
pub struct SyncConfigurationChoices {
    pub branch: String,
    pub config_file: String,
    pub resource_name: String,
    pub role_arn: String,
    pub sync_type: SyncType,
    pub publish_deployment_status: PublishDeploymentStatus,
    pub trigger_resource_update_on: TriggerResourceUpdateOn,
    pub pull_request_comment: Option<PullRequestComment>,
}

/// A sync configuration on a link: it syncs the link's repository, from its provider.
pub fn sync_configuration_on(
    link: &RepositoryLinkInfo,
    choices: SyncConfigurationChoices,
) -> SyncConfiguration {
    SyncConfiguration {
        branch: choices.branch,
        config_file: choices.config_file,
        owner_id: link.owner_id.clone(),
        provider_type: link.provider_type,
        repository_link_id: link.repository_link_id.clone(),
        repository_name: link.repository_name.clone(),
        resource_name: choices.resource_name,
        role_arn: choices.role_arn,
        sync_type: choices.sync_type,
        publish_deployment_status: choices.publish_deployment_status,
        trigger_resource_update_on: choices.trigger_resource_update_on,
        pull_request_comment: choices.pull_request_comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_takes_its_provider_type_from_its_host() {
        use ProviderType::{GitHub, GitHubEnterpriseServer, GitLabSelfManaged};
        assert_eq!(
            connection_provider_type(None, Some(GitHubEnterpriseServer)),
            Ok(GitHubEnterpriseServer)
        );
        assert_eq!(
            connection_provider_type(Some(GitLabSelfManaged), Some(GitHubEnterpriseServer)),
            Err(ProviderTypeProblem::DiffersFromHost {
                requested: GitLabSelfManaged,
                host: GitHubEnterpriseServer
            })
        );
        assert_eq!(
            connection_provider_type(Some(GitHubEnterpriseServer), None),
            Err(ProviderTypeProblem::NeedsHost(GitHubEnterpriseServer))
        );
        assert_eq!(connection_provider_type(Some(GitHub), None), Ok(GitHub));
        assert_eq!(
            connection_provider_type(None, None),
            Err(ProviderTypeProblem::Missing)
        );
    }

    #[test]
    fn more_than_fifty_tags_exceed_the_limit() {
        assert!(within_tag_limit(MAX_TAGS_PER_RESOURCE));
        assert!(!within_tag_limit(MAX_TAGS_PER_RESOURCE + 1));
    }
}
