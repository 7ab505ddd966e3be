//! The AWS SDK for Rust against a running emulator: every operation, success and error paths,
//! and pagination across pages, through both APIs' SDK crates: aws-sdk-codestarconnections
//! (awsJson1_0) and aws-sdk-codeconnections (Smithy RPC v2 CBOR). The crates have distinct
//! but like-named types, so one macro states the flows once for both.

mod common;

/// The flows, for one SDK crate: `$sdk` is the crate, `$service` the ARN prefix of what it
/// creates, `$other` the other API's prefix, under which the same resources are found, and
/// `$create_connection_invalid` the error CreateConnection's model lists for invalid input.
macro_rules! sdk_flows {
    (
        $module:ident,
        $sdk:ident,
        $service:literal,
        $other:literal,
        $create_connection_invalid:literal
    ) => {
        mod $module {
            const SERVICE: &str = $service;
            const OTHER_SERVICE: &str = $other;
            /// What CreateConnection answers for invalid input: the error its model lists.
            const CREATE_CONNECTION_INVALID: &str = $create_connection_invalid;

            use $sdk::Client;
            use $sdk::error::ProvideErrorMetadata;
            use $sdk::types::{
                BlockerStatus, ConnectionStatus, ProviderType, PublishDeploymentStatus, RepositorySyncStatus,
                ResourceSyncStatus, SyncConfigurationType, Tag, TriggerResourceUpdateOn, VpcConfiguration,
            };
            use super::common::{ACCOUNT, Emulator, REGION, demo};
            use serde_json::json;

            const CFN: SyncConfigurationType = SyncConfigurationType::CfnStackSync;
            const ROLE: &str = "arn:aws:iam::123456789012:role/GitSyncRole";

            fn tag(key: &str, value: &str) -> Tag {
                Tag::builder().key(key).value(value).build().expect("a tag")
            }

            fn uuid_like(text: &str) -> bool {
                let groups: Vec<&str> = text.split('-').collect();
                groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
                    && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
            }

            async fn create_github_connection(client: &Client, name: &str) -> String {
                client
                    .create_connection()
                    .provider_type(ProviderType::Github)
                    .connection_name(name)
                    .send()
                    .await
                    .expect("CreateConnection succeeds")
                    .connection_arn()
                    .to_owned()
            }

            #[tokio::test]
            async fn connections_are_created_pending_and_can_be_read_listed_and_deleted() {
                let emulator = Emulator::start();
                let client = Client::new(&emulator.sdk_config().await);

                let created = client
                    .create_connection()
                    .provider_type(ProviderType::Github)
                    .connection_name("my-github")
                    .tags(tag("team", "platform"))
                    .send()
                    .await
                    .expect("CreateConnection succeeds");
                let arn = created.connection_arn().to_owned();
                let prefix = format!("arn:aws:{SERVICE}:{REGION}:{ACCOUNT}:connection/");
                assert!(arn.starts_with(&prefix), "{arn}");
                assert!(uuid_like(&arn[prefix.len()..]), "{arn}");
                assert_eq!(created.tags(), [tag("team", "platform")]);

                let connection = client
                    .get_connection()
                    .connection_arn(&arn)
                    .send()
                    .await
                    .expect("GetConnection succeeds")
                    .connection
                    .expect("a connection");
                assert_eq!(connection.connection_name(), Some("my-github"));
                assert_eq!(
                    connection.connection_status(),
                    Some(&ConnectionStatus::Pending)
                );
                assert_eq!(connection.provider_type(), Some(&ProviderType::Github));
                assert_eq!(connection.owner_account_id(), Some(ACCOUNT));
                assert_eq!(connection.host_arn(), None);

                // The other API's ARN prefix names the same connection.
                let renamed = arn.replace(SERVICE, OTHER_SERVICE);
                let again = client
                    .get_connection()
                    .connection_arn(&renamed)
                    .send()
                    .await
                    .expect("either prefix works");
                assert_eq!(
                    again.connection.and_then(|c| c.connection_arn),
                    Some(arn.clone())
                );

                let gitlab = client
                    .create_connection()
                    .provider_type(ProviderType::Gitlab)
                    .connection_name("my-gitlab")
                    .send()
                    .await
                    .expect("CreateConnection succeeds");
                let listed = client
                    .list_connections()
                    .send()
                    .await
                    .expect("ListConnections succeeds");
                let names: Vec<_> = listed
                    .connections()
                    .iter()
                    .filter_map(|c| c.connection_name())
                    .collect();
                assert_eq!(names, ["my-github", "my-gitlab"]);
                assert_eq!(listed.next_token(), None);
                let only_gitlab = client
                    .list_connections()
                    .provider_type_filter(ProviderType::Gitlab)
                    .send()
                    .await
                    .expect("filtered ListConnections succeeds");
                let arns: Vec<_> = only_gitlab
                    .connections()
                    .iter()
                    .filter_map(|c| c.connection_arn())
                    .collect();
                assert_eq!(arns, [gitlab.connection_arn()]);

                client
                    .delete_connection()
                    .connection_arn(&arn)
                    .send()
                    .await
                    .expect("DeleteConnection succeeds");
                let error = client
                    .get_connection()
                    .connection_arn(&arn)
                    .send()
                    .await
                    .expect_err("deleted");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let error = client
                    .delete_connection()
                    .connection_arn(&arn)
                    .send()
                    .await
                    .expect_err("already deleted");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
            }

            #[tokio::test]
            async fn invalid_connections_are_rejected_with_the_modelled_error() {
                let emulator = Emulator::start();
                let client = Client::new(&emulator.sdk_config().await);

                let error = client
                    .create_connection()
                    .connection_name("no-provider")
                    .send()
                    .await
                    .expect_err("invalid");
                assert_eq!(error.code(), Some(CREATE_CONNECTION_INVALID));
                assert!(
                    error
                        .message()
                        .is_some_and(|m| m.contains("ProviderType or HostArn")),
                    "{error:?}"
                );

                let error = client
                    .create_connection()
                    .provider_type(ProviderType::GithubEnterpriseServer)
                    .connection_name("needs-a-host")
                    .send()
                    .await
                    .expect_err("invalid");
                assert_eq!(error.code(), Some(CREATE_CONNECTION_INVALID));

                let error = client
                    .create_connection()
                    .provider_type(ProviderType::Github)
                    .connection_name("a-name-that-is-far-too-long-for-a-connection")
                    .send()
                    .await
                    .expect_err("too long");
                assert_eq!(error.code(), Some(CREATE_CONNECTION_INVALID));
                assert!(
                    error.message().is_some_and(
                        |m| m.contains("'connectionName'") && m.contains("less than or equal to 32")
                    ),
                    "{error:?}"
                );

                let error = client
                    .create_connection()
                    .host_arn(format!(
                        "arn:aws:codestar-connections:{REGION}:{ACCOUNT}:host/missing-12345678"
                    ))
                    .connection_name("on-a-missing-host")
                    .send()
                    .await
                    .expect_err("no such host");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
            }

            #[tokio::test]
            async fn hosts_back_self_managed_connections() {
                let emulator = Emulator::start();
                let client = Client::new(&emulator.sdk_config().await);

                let vpc = VpcConfiguration::builder()
                    .vpc_id("vpc-0123456789abcdef0")
                    .subnet_ids("subnet-0123456789abcdef0")
                    .security_group_ids("sg-0123456789abcdef0")
                    .build()
                    .expect("a VPC configuration");
                let created = client
                    .create_host()
                    .name("ghes")
                    .provider_type(ProviderType::GithubEnterpriseServer)
                    .provider_endpoint("https://git.example.com")
                    .vpc_configuration(vpc.clone())
                    .tags(tag("env", "prod"))
                    .send()
                    .await
                    .expect("CreateHost succeeds");
                let host_arn = created.host_arn().expect("a host ARN").to_owned();
                let prefix = format!("arn:aws:{SERVICE}:{REGION}:{ACCOUNT}:host/ghes-");
                assert!(
                    host_arn.starts_with(&prefix) && host_arn.len() == prefix.len() + 8,
                    "{host_arn}"
                );
                assert_eq!(created.tags(), [tag("env", "prod")]);

                let host = client
                    .get_host()
                    .host_arn(&host_arn)
                    .send()
                    .await
                    .expect("GetHost succeeds");
                assert_eq!(host.name(), Some("ghes"));
                assert_eq!(host.status(), Some("PENDING"));
                assert_eq!(
                    host.provider_type(),
                    Some(&ProviderType::GithubEnterpriseServer)
                );
                assert_eq!(host.provider_endpoint(), Some("https://git.example.com"));
                assert_eq!(host.vpc_configuration(), Some(&vpc));

                client
                    .update_host()
                    .host_arn(&host_arn)
                    .provider_endpoint("https://git2.example.com")
                    .send()
                    .await
                    .expect("UpdateHost succeeds");
                let hosts = client
                    .list_hosts()
                    .send()
                    .await
                    .expect("ListHosts succeeds");
                assert_eq!(hosts.hosts().len(), 1);
                assert_eq!(
                    hosts.hosts()[0].provider_endpoint(),
                    Some("https://git2.example.com")
                );
                assert_eq!(hosts.hosts()[0].host_arn(), Some(host_arn.as_str()));

                let connection_arn = client
                    .create_connection()
                    .host_arn(&host_arn)
                    .connection_name("ghes-connection")
                    .send()
                    .await
                    .expect("CreateConnection on a host succeeds")
                    .connection_arn()
                    .to_owned();
                create_github_connection(&client, "plain-github").await;
                let on_host = client
                    .list_connections()
                    .host_arn_filter(host_arn.replace(SERVICE, OTHER_SERVICE))
                    .send()
                    .await
                    .expect("ListConnections by host succeeds");
                assert_eq!(on_host.connections().len(), 1);
                let connection = &on_host.connections()[0];
                assert_eq!(connection.connection_arn(), Some(connection_arn.as_str()));
                assert_eq!(
                    connection.provider_type(),
                    Some(&ProviderType::GithubEnterpriseServer)
                );
                assert_eq!(connection.host_arn(), Some(host_arn.as_str()));

                let error = client
                    .create_host()
                    .name("github-dot-com")
                    .provider_type(ProviderType::Github)
                    .provider_endpoint("https://github.com")
                    .send()
                    .await
                    .expect_err("GitHub has no hosts");
                assert_eq!(error.code(), Some("ValidationException"));

                let (status, _) = emulator
                    .admin_post(
                        "host-status",
                        json!({"HostArn": host_arn, "Status": "VPC_CONFIG_INITIALIZING"}),
                    )
                    .await;
                assert_eq!(status, 200);
                let error = client
                    .delete_host()
                    .host_arn(&host_arn)
                    .send()
                    .await
                    .expect_err("busy host");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_unavailable_exception()),
                    "{error:?}"
                );
                emulator
                    .admin_post(
                        "host-status",
                        json!({"HostArn": host_arn, "Status": "AVAILABLE"}),
                    )
                    .await;
                client
                    .delete_host()
                    .host_arn(&host_arn)
                    .send()
                    .await
                    .expect("DeleteHost succeeds");
                let error = client
                    .get_host()
                    .host_arn(&host_arn)
                    .send()
                    .await
                    .expect_err("deleted");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let error = client
                    .update_host()
                    .host_arn(&host_arn)
                    .send()
                    .await
                    .expect_err("deleted");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
            }

            #[tokio::test]
            async fn repository_links_and_sync_configurations_reference_each_other() {
                let emulator = Emulator::start();
                let client = Client::new(&emulator.sdk_config().await);
                let github = create_github_connection(&client, "github").await;
                let gitlab = client
                    .create_connection()
                    .provider_type(ProviderType::Gitlab)
                    .connection_name("gitlab")
                    .send()
                    .await
                    .expect("CreateConnection succeeds")
                    .connection_arn()
                    .to_owned();

                let info = client
                    .create_repository_link()
                    .connection_arn(&github)
                    .owner_id("acme")
                    .repository_name("infra")
                    .send()
                    .await
                    .expect("CreateRepositoryLink succeeds")
                    .repository_link_info
                    .expect("link info");
                let link_id = info.repository_link_id().to_owned();
                assert!(uuid_like(&link_id), "{link_id}");
                assert_eq!(
                    info.repository_link_arn(),
                    format!("arn:aws:{SERVICE}:{REGION}:{ACCOUNT}:repository-link/{link_id}")
                );
                assert_eq!(info.provider_type(), &ProviderType::Github);
                assert_eq!((info.owner_id(), info.repository_name()), ("acme", "infra"));

                let error = client
                    .create_repository_link()
                    .connection_arn(&github)
                    .owner_id("acme")
                    .repository_name("infra")
                    .send()
                    .await
                    .expect_err("duplicate");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_already_exists_exception()),
                    "{error:?}"
                );
                let error = client
                    .create_repository_link()
                    .connection_arn(format!("arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/00000000-0000-0000-0000-000000000000"))
                    .owner_id("acme")
                    .repository_name("other")
                    .send()
                    .await
                    .expect_err("no such connection");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_input_exception()),
                    "{error:?}"
                );

                let fetched = client
                    .get_repository_link()
                    .repository_link_id(&link_id)
                    .send()
                    .await
                    .expect("GetRepositoryLink");
                assert_eq!(
                    fetched.repository_link_info.map(|i| i.connection_arn),
                    Some(github.clone())
                );

                let created = client
                    .create_sync_configuration()
                    .branch("main")
                    .config_file("stacks/app.yaml")
                    .repository_link_id(&link_id)
                    .resource_name("app-stack")
                    .role_arn(ROLE)
                    .sync_type(CFN)
                    .publish_deployment_status(PublishDeploymentStatus::Enabled)
                    .send()
                    .await
                    .expect("CreateSyncConfiguration succeeds")
                    .sync_configuration
                    .expect("a sync configuration");
                assert_eq!(created.resource_name(), "app-stack");
                assert_eq!(
                    (created.owner_id(), created.repository_name()),
                    ("acme", "infra")
                );
                assert_eq!(created.provider_type(), &ProviderType::Github);
                assert_eq!(
                    created.publish_deployment_status(),
                    Some(&PublishDeploymentStatus::Enabled)
                );
                assert_eq!(
                    created.trigger_resource_update_on(),
                    Some(&TriggerResourceUpdateOn::AnyChange)
                );

                let error = client
                    .create_sync_configuration()
                    .branch("main")
                    .config_file("x.yaml")
                    .repository_link_id(&link_id)
                    .resource_name("app-stack")
                    .role_arn(ROLE)
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("one per resource and sync type");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_already_exists_exception()),
                    "{error:?}"
                );
                let error = client
                    .create_sync_configuration()
                    .branch("main")
                    .config_file("x.yaml")
                    .repository_link_id("00000000-0000-4000-8000-000000000000")
                    .resource_name("orphan")
                    .role_arn(ROLE)
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("no such link");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_input_exception()),
                    "{error:?}"
                );

                let fetched = client
                    .get_sync_configuration()
                    .resource_name("app-stack")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("GetSyncConfiguration succeeds");
                assert_eq!(
                    fetched.sync_configuration.map(|c| c.config_file),
                    Some(Some("stacks/app.yaml".to_owned()))
                );

                let updated = client
                    .update_sync_configuration()
                    .resource_name("app-stack")
                    .sync_type(CFN)
                    .branch("release")
                    .trigger_resource_update_on(TriggerResourceUpdateOn::FileChange)
                    .send()
                    .await
                    .expect("UpdateSyncConfiguration succeeds")
                    .sync_configuration
                    .expect("a sync configuration");
                assert_eq!(updated.branch(), "release");
                assert_eq!(
                    updated.trigger_resource_update_on(),
                    Some(&TriggerResourceUpdateOn::FileChange)
                );
                let error = client
                    .update_sync_configuration()
                    .resource_name("missing-stack")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("no such configuration");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );

                // Moving the link to another connection changes its provider, and its stacks'.
                let moved = client
                    .update_repository_link()
                    .repository_link_id(&link_id)
                    .connection_arn(&gitlab)
                    .send()
                    .await
                    .expect("UpdateRepositoryLink succeeds")
                    .repository_link_info
                    .expect("link info");
                assert_eq!(moved.connection_arn(), gitlab);
                assert_eq!(moved.provider_type(), &ProviderType::Gitlab);
                let listed = client
                    .list_sync_configurations()
                    .repository_link_id(&link_id)
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("ListSyncConfigurations succeeds");
                assert_eq!(listed.sync_configurations().len(), 1);
                assert_eq!(
                    listed.sync_configurations()[0].provider_type(),
                    &ProviderType::Gitlab
                );
                let error = client
                    .update_repository_link()
                    .repository_link_id("00000000-0000-4000-8000-000000000000")
                    .send()
                    .await
                    .expect_err("no such link");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );

                let definitions = client
                    .list_repository_sync_definitions()
                    .repository_link_id(&link_id)
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("ListRepositorySyncDefinitions succeeds");
                let definition = &definitions.repository_sync_definitions()[0];
                assert_eq!(
                    (
                        definition.branch(),
                        definition.directory(),
                        definition.parent(),
                        definition.target()
                    ),
                    ("release", "stacks/app.yaml", "app-stack", "app-stack")
                );
                let links = client
                    .list_repository_links()
                    .send()
                    .await
                    .expect("ListRepositoryLinks succeeds");
                assert_eq!(links.repository_links().len(), 1);

                let error = client
                    .delete_repository_link()
                    .repository_link_id(&link_id)
                    .send()
                    .await
                    .expect_err("in use");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_sync_configuration_still_exists_exception()),
                    "{error:?}"
                );
                client
                    .delete_sync_configuration()
                    .resource_name("app-stack")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("DeleteSyncConfiguration succeeds");
                let error = client
                    .delete_sync_configuration()
                    .resource_name("app-stack")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("already deleted");
                assert_eq!(error.code(), Some("ResourceNotFoundException"));
                let error = client
                    .get_sync_configuration()
                    .resource_name("app-stack")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("gone");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );

                client
                    .delete_repository_link()
                    .repository_link_id(&link_id)
                    .send()
                    .await
                    .expect("DeleteRepositoryLink succeeds");
                let error = client
                    .get_repository_link()
                    .repository_link_id(&link_id)
                    .send()
                    .await
                    .expect_err("deleted");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                for error in [
                    client
                        .list_sync_configurations()
                        .repository_link_id(&link_id)
                        .sync_type(CFN)
                        .send()
                        .await
                        .err()
                        .map(|e| e.code().map(str::to_owned)),
                    client
                        .list_repository_sync_definitions()
                        .repository_link_id(&link_id)
                        .sync_type(CFN)
                        .send()
                        .await
                        .err()
                        .map(|e| e.code().map(str::to_owned)),
                    client
                        .delete_repository_link()
                        .repository_link_id(&link_id)
                        .send()
                        .await
                        .err()
                        .map(|e| e.code().map(str::to_owned)),
                ] {
                    assert_eq!(error, Some(Some("ResourceNotFoundException".to_owned())));
                }
            }

            #[tokio::test]
            async fn sync_blockers_are_summarised_newest_first_and_resolved_once() {
                let emulator = Emulator::start_demo();
                let client = Client::new(&emulator.sdk_config().await);

                let summary = client
                    .get_sync_blocker_summary()
                    .resource_name("payments-api")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("GetSyncBlockerSummary succeeds")
                    .sync_blocker_summary
                    .expect("a summary");
                assert_eq!(summary.resource_name(), "payments-api");
                let blockers = summary.latest_blockers();
                let ids: Vec<&str> = blockers.iter().map(|b| b.id()).collect();
                assert_eq!(
                    ids,
                    [demo::PAYMENTS_BLOCKER, demo::PAYMENTS_RESOLVED_BLOCKER]
                );
                assert_eq!(blockers[0].status(), &BlockerStatus::Active);
                assert!(
                    blockers[0]
                        .created_reason()
                        .contains("UPDATE_ROLLBACK_FAILED")
                );
                assert!(
                    blockers[0]
                        .contexts()
                        .iter()
                        .any(|c| c.key() == "StackStatus" && c.value() == "UPDATE_ROLLBACK_FAILED")
                );
                assert!(blockers[0].created_at() > blockers[1].created_at());
                assert_eq!(blockers[1].status(), &BlockerStatus::Resolved);
                assert!(blockers[1].resolved_reason().is_some() && blockers[1].resolved_at().is_some());

                let before =
                    $sdk::primitives::DateTime::from(std::time::SystemTime::now());
                let resolved = client
                    .update_sync_blocker()
                    .id(demo::PAYMENTS_BLOCKER)
                    .resource_name("payments-api")
                    .sync_type(CFN)
                    .resolved_reason("Rolled back by hand")
                    .send()
                    .await
                    .expect("UpdateSyncBlocker succeeds");
                assert_eq!(resolved.resource_name(), "payments-api");
                let blocker = resolved.sync_blocker().expect("the blocker");
                assert_eq!(blocker.status(), &BlockerStatus::Resolved);
                assert_eq!(blocker.resolved_reason(), Some("Rolled back by hand"));
                assert!(
                    blocker
                        .resolved_at()
                        .is_some_and(|at| at.secs() >= before.secs()),
                    "{blocker:?}"
                );

                let again = client
                    .update_sync_blocker()
                    .id(demo::PAYMENTS_BLOCKER)
                    .resource_name("payments-api")
                    .sync_type(CFN)
                    .resolved_reason("twice")
                    .send()
                    .await
                    .expect_err("already resolved");
                assert!(
                    again
                        .as_service_error()
                        .is_some_and(|e| e.is_sync_blocker_does_not_exist_exception()),
                    "{again:?}"
                );
                let unknown = client
                    .update_sync_blocker()
                    .id("no-such-blocker")
                    .resource_name("payments-api")
                    .sync_type(CFN)
                    .resolved_reason("x")
                    .send()
                    .await
                    .expect_err("unknown id");
                assert!(
                    unknown
                        .as_service_error()
                        .is_some_and(|e| e.is_sync_blocker_does_not_exist_exception()),
                    "{unknown:?}"
                );
                let no_stack = client
                    .update_sync_blocker()
                    .id(demo::WEB_BLOCKER)
                    .resource_name("no-such-stack")
                    .sync_type(CFN)
                    .resolved_reason("x")
                    .send()
                    .await
                    .expect_err("unknown resource");
                assert!(
                    no_stack
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{no_stack:?}"
                );

                let summary = client
                    .get_sync_blocker_summary()
                    .resource_name("payments-api")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("GetSyncBlockerSummary succeeds")
                    .sync_blocker_summary
                    .expect("a summary");
                let first = &summary.latest_blockers()[0];
                assert_eq!(first.status(), &BlockerStatus::Resolved);
                assert_eq!(first.resolved_reason(), Some("Rolled back by hand"));

                let error = client
                    .get_sync_blocker_summary()
                    .resource_name("not-synced")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("no configuration");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let error = client
                    .get_sync_blocker_summary()
                    .resource_name("bad name!")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("pattern");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_input_exception()),
                    "{error:?}"
                );
                assert!(
                    error
                        .message()
                        .is_some_and(|m| m.contains("'resourceName'")),
                    "{error:?}"
                );
            }

            #[tokio::test]
            async fn sync_status_reports_what_the_admin_api_recorded() {
                let emulator = Emulator::start_demo();
                let client = Client::new(&emulator.sdk_config().await);

                let error = client
                    .get_resource_sync_status()
                    .resource_name("platform-vpc")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("no sync yet");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );

                let first = "1111111111111111111111111111111111111111";
                let second = "2222222222222222222222222222222222222222";
                for (status, commit) in [
                    ("INITIATED", first),
                    ("SUCCEEDED", first),
                    ("IN_PROGRESS", second),
                    ("FAILED", second),
                ] {
                    let (code, _) = emulator
                        .admin_post(
                            "resource-sync",
                            json!({"ResourceName": "platform-vpc", "Status": status, "Commit": commit}),
                        )
                        .await;
                    assert_eq!(code, 200);
                }
                let status = client
                    .get_resource_sync_status()
                    .resource_name("platform-vpc")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("GetResourceSyncStatus succeeds");
                let latest = status.latest_sync().expect("latest");
                assert_eq!(latest.status(), &ResourceSyncStatus::Failed);
                assert_eq!(latest.target(), "platform-vpc");
                assert_eq!(latest.target_revision().map(|r| r.sha()), Some(second));
                assert_eq!(latest.initial_revision().map(|r| r.sha()), Some(first));
                let revision = latest.target_revision().expect("revision");
                assert_eq!(
                    (
                        revision.owner_id(),
                        revision.repository_name(),
                        revision.branch(),
                        revision.directory()
                    ),
                    ("acme", "platform-infra", "main", "deployments/vpc.yaml")
                );
                let successful = status.latest_successful_sync().expect("a successful sync");
                assert_eq!(successful.status(), &ResourceSyncStatus::Succeeded);
                assert_eq!(successful.target_revision().map(|r| r.sha()), Some(first));
                assert_eq!(status.desired_state().map(|r| r.sha()), Some(second));

                let error = client
                    .get_repository_sync_status()
                    .repository_link_id(demo::PLATFORM_LINK)
                    .branch("main")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect_err("no repository sync yet");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let (code, _) = emulator
                    .admin_post(
                        "repository-sync",
                        json!({"RepositoryLinkId": demo::PLATFORM_LINK, "Branch": "main", "Status": "IN_PROGRESS",
                               "Events": [{"Event": "Fetching commit", "Type": "INFO"}]}),
                    )
                    .await;
                assert_eq!(code, 200);
                let repository = client
                    .get_repository_sync_status()
                    .repository_link_id(demo::PLATFORM_LINK)
                    .branch("main")
                    .sync_type(CFN)
                    .send()
                    .await
                    .expect("GetRepositorySyncStatus succeeds");
                let latest = repository.latest_sync().expect("latest");
                assert_eq!(latest.status(), &RepositorySyncStatus::InProgress);
                assert_eq!(latest.events().len(), 1);
                assert_eq!(latest.events()[0].event(), "Fetching commit");
                assert_eq!(latest.events()[0].r#type(), "INFO");
            }

            #[tokio::test]
            async fn tags_work_on_connections_hosts_and_links_under_either_prefix() {
                let emulator = Emulator::start_demo();
                let client = Client::new(&emulator.sdk_config().await);
                let link_arn = format!(
                    "arn:aws:codestar-connections:{REGION}:{ACCOUNT}:repository-link/{}",
                    demo::PAYMENTS_LINK
                );

                let connection_tags = client
                    .list_tags_for_resource()
                    .resource_arn(demo::GITHUB_CONNECTION.replace("codestar-connections", "codeconnections"))
                    .send()
                    .await
                    .expect("ListTagsForResource succeeds");
                assert_eq!(
                    connection_tags.tags(),
                    [tag("cost-center", "1042"), tag("team", "platform")]
                );

                for arn in [demo::GITLAB_CONNECTION, demo::HOST, link_arn.as_str()] {
                    client
                        .tag_resource()
                        .resource_arn(arn)
                        .tags(tag("owner", "alice"))
                        .tags(tag("env", "prod"))
                        .send()
                        .await
                        .expect("TagResource succeeds");
                    client
                        .tag_resource()
                        .resource_arn(arn)
                        .tags(tag("owner", "bob"))
                        .send()
                        .await
                        .expect("TagResource overwrites");
                    client
                        .untag_resource()
                        .resource_arn(arn)
                        .tag_keys("env")
                        .send()
                        .await
                        .expect("UntagResource succeeds");
                    let tags = client
                        .list_tags_for_resource()
                        .resource_arn(arn)
                        .send()
                        .await
                        .expect("ListTagsForResource");
                    assert!(
                        tags.tags().contains(&tag("owner", "bob")),
                        "{arn}: {:?}",
                        tags.tags()
                    );
                    assert!(
                        !tags.tags().iter().any(|t| t.key() == "env"),
                        "{arn}: {:?}",
                        tags.tags()
                    );
                }

                let too_many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
                let error = client
                    .tag_resource()
                    .resource_arn(demo::HOST)
                    .set_tags(Some(too_many))
                    .send()
                    .await
                    .expect_err("over the limit");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_limit_exceeded_exception()),
                    "{error:?}"
                );

                let missing = format!(
                    "arn:aws:codestar-connections:{REGION}:{ACCOUNT}:connection/00000000-0000-0000-0000-000000000000"
                );
                let error = client
                    .list_tags_for_resource()
                    .resource_arn(&missing)
                    .send()
                    .await
                    .expect_err("no such resource");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let error = client
                    .tag_resource()
                    .resource_arn(&missing)
                    .tags(tag("a", "b"))
                    .send()
                    .await
                    .expect_err("missing");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
                let error = client
                    .untag_resource()
                    .resource_arn(&missing)
                    .tag_keys("a")
                    .send()
                    .await
                    .expect_err("missing");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()),
                    "{error:?}"
                );
            }

            #[tokio::test]
            async fn list_operations_paginate_across_pages() {
                let emulator = Emulator::start();
                let client = Client::new(&emulator.sdk_config().await);
                let connections = (0..23)
                    .map(|i| json!({"Name": format!("conn-{i:02}"), "ProviderType": "GitHub"}))
                    .collect::<Vec<_>>();
                let hosts = (0..7)
                    .map(|i| json!({"Name": format!("host-{i}"), "ProviderType": "GitLabSelfManaged", "ProviderEndpoint": "https://gitlab.example.com"}))
                    .collect::<Vec<_>>();
                let links = (0..12)
                    .map(|i| json!({"Connection": "conn-00", "OwnerId": "acme", "RepositoryName": format!("repo-{i:02}")}))
                    .collect::<Vec<_>>();
                let stacks = (0..11)
                    .map(|i| json!({"ResourceName": format!("stack-{i:02}"), "Repository": "acme/repo-00"}))
                    .chain([json!({"ResourceName": "elsewhere", "Repository": "acme/repo-01"})])
                    .collect::<Vec<_>>();
                let (status, counts) = emulator
                    .admin_post(
                        "seed",
                        json!({"Connections": connections, "Hosts": hosts, "RepositoryLinks": links, "SyncConfigurations": stacks}),
                    )
                    .await;
                assert_eq!(status, 200, "{counts}");

                let mut names = Vec::new();
                let mut token: Option<String> = None;
                let mut pages = Vec::new();
                loop {
                    let page = client
                        .list_connections()
                        .max_results(10)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .expect("ListConnections succeeds");
                    pages.push(page.connections().len());
                    names.extend(
                        page.connections()
                            .iter()
                            .filter_map(|c| c.connection_name().map(str::to_owned)),
                    );
                    match page.next_token() {
                        Some(next) => token = Some(next.to_owned()),
                        None => break,
                    }
                }
                assert_eq!(pages, [10, 10, 3]);
                let expected: Vec<String> = (0..23).map(|i| format!("conn-{i:02}")).collect();
                assert_eq!(names, expected);

                let pages: Vec<_> = client
                    .list_connections()
                    .into_paginator()
                    .page_size(4)
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await
                    .expect("the paginator succeeds");
                assert_eq!(pages.len(), 6);
                assert_eq!(
                    pages
                        .iter()
                        .map(|page| page.connections().len())
                        .sum::<usize>(),
                    23
                );

                let pages: Vec<_> = client
                    .list_hosts()
                    .into_paginator()
                    .page_size(3)
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await
                    .expect("the paginator succeeds");
                let host_names: Vec<_> = pages
                    .iter()
                    .flat_map(|page| page.hosts())
                    .filter_map(|h| h.name())
                    .collect();
                assert_eq!(
                    host_names,
                    [
                        "host-0", "host-1", "host-2", "host-3", "host-4", "host-5", "host-6"
                    ]
                );

                let first = client
                    .list_repository_links()
                    .max_results(5)
                    .send()
                    .await
                    .expect("ListRepositoryLinks succeeds");
                assert_eq!(first.repository_links().len(), 5);
                let pages: Vec<_> = client
                    .list_repository_links()
                    .into_paginator()
                    .page_size(5)
                    .send()
                    .collect::<Result<Vec<_>, _>>()
                    .await
                    .expect("the paginator succeeds");
                let links: Vec<_> = pages
                    .iter()
                    .flat_map(|page| page.repository_links())
                    .collect();
                assert_eq!(links.len(), 12);
                let link_id = links[0].repository_link_id().to_owned();
                assert_eq!(links[0].repository_name(), "repo-00");

                let mut stacks = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let page = client
                        .list_sync_configurations()
                        .repository_link_id(&link_id)
                        .sync_type(CFN)
                        .max_results(5)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .expect("ListSyncConfigurations succeeds");
                    stacks.extend(
                        page.sync_configurations()
                            .iter()
                            .map(|c| c.resource_name().to_owned()),
                    );
                    match page.next_token() {
                        Some(next) => token = Some(next.to_owned()),
                        None => break,
                    }
                }
                let expected: Vec<String> = (0..11).map(|i| format!("stack-{i:02}")).collect();
                assert_eq!(stacks, expected);

                // A token is bound to its list: another list, a mangled token, a bad size are rejected.
                let links_token = first.next_token().expect("more links").to_owned();
                let error = client
                    .list_connections()
                    .next_token(&links_token)
                    .send()
                    .await
                    .expect_err("foreign token");
                assert_eq!(error.code(), Some("ValidationException"));
                assert!(
                    error.message().is_some_and(|m| m.contains("NextToken")),
                    "{error:?}"
                );
                let error = client
                    .list_sync_configurations()
                    .repository_link_id(&link_id)
                    .sync_type(CFN)
                    .next_token("garbage")
                    .send()
                    .await
                    .expect_err("invalid token");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_input_exception()),
                    "{error:?}"
                );
                let error = client
                    .list_hosts()
                    .max_results(101)
                    .send()
                    .await
                    .expect_err("too many");
                assert_eq!(error.code(), Some("ValidationException"));
                assert!(
                    error.message().is_some_and(|m| m.contains("'maxResults'")),
                    "{error:?}"
                );
                let error = client
                    .list_repository_links()
                    .max_results(-1)
                    .send()
                    .await
                    .expect_err("negative");
                assert!(
                    error
                        .as_service_error()
                        .is_some_and(|e| e.is_invalid_input_exception()),
                    "{error:?}"
                );
            }
        }
    };
}

sdk_flows!(
    codestar_connections,
    aws_sdk_codestarconnections,
    "codestar-connections",
    "codeconnections",
    "ValidationException"
);
sdk_flows!(
    codeconnections,
    aws_sdk_codeconnections,
    "codeconnections",
    "codestar-connections",
    "InvalidInputException"
);
