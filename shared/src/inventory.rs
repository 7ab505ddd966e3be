//! What Git sync deploys in this account and region: every repository link and every
//! CloudFormation sync configuration (ListRepositoryLinks, then ListSyncConfigurations of
//! each link). The sweeps start from it; a link that cannot be listed is a failure, and the
//! others are still listed.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use tracing::error;

use crate::domain::sync::{RepositoryLink, SyncConfiguration};
use crate::ports::GitSyncApi;

#[derive(Debug, Clone, Default)]
pub struct GitSyncInventory {
    pub links: Vec<RepositoryLink>,
    pub configurations: Vec<SyncConfiguration>,
    /// What could not be listed, in words an operator can act on.
    pub failures: Vec<String>,
}

impl GitSyncInventory {
    /// Lists everything, `concurrency` links at a time.
    pub async fn list<G: GitSyncApi>(api: &G, concurrency: usize) -> Self {
        let links = match api.repository_links().await {
            Ok(links) => links,
            Err(err) => {
                error!(error = %err, "cannot list repository links");
                return Self {
                    failures: vec![format!("listing repository links: {err}")],
                    ..Self::default()
                };
            }
        };
        let listed: Vec<_> = stream::iter(&links)
            .map(|link| async move { (link, api.sync_configurations(&link.id).await) })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut inventory = Self::default();
        for (link, configurations) in listed {
            match configurations {
                Ok(configurations) => inventory.configurations.extend(configurations),
                Err(err) => {
                    error!(repository_link = %link.id, error = %err, "cannot list sync configurations");
                    inventory.failures.push(format!(
                        "listing the sync configurations of repository link {} ({}/{}): {err}",
                        link.id, link.owner, link.repository
                    ));
                }
            }
        }
        inventory.links = links;
        inventory
    }

    /// Every stack under Git sync, once each, in order.
    pub fn stacks(&self) -> BTreeSet<String> {
        self.configurations
            .iter()
            .map(|configuration| configuration.stack.clone())
            .collect()
    }
}
