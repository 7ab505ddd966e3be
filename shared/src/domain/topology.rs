//! Who depends on whom, pure: connections and hosts, the repository links that go through
//! them, the sync configurations of those links, and so the stacks an unhealthy connection or
//! host stalls (for a host, through each of its connections). ARNs match under either prefix
//! (`codestar-connections` and `codeconnections`, see [`same_resource`]).
//!
//! [`same_resource`]: crate::domain::connections::same_resource

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::domain::connections::{Connection, ResourceKind, resource_key};
use crate::domain::sync::{RepositoryLink, SyncConfiguration};

/// The sync configurations listed, by repository link id. A link missing here could not be
/// listed.
pub type Configurations = HashMap<String, Vec<SyncConfiguration>>;

/// Groups sync configurations by their repository link.
pub fn configurations_by_link(configurations: &[SyncConfiguration]) -> Configurations {
    let mut by_link = Configurations::new();
    for configuration in configurations {
        by_link
            .entry(configuration.repository_link_id.clone())
            .or_default()
            .push(configuration.clone());
    }
    by_link
}

/// Who depends on whom, indexed once.
#[derive(Debug, Clone)]
pub struct Topology<'a> {
    links_by_connection: HashMap<String, Vec<&'a RepositoryLink>>,
    connections_by_host: HashMap<String, Vec<&'a Connection>>,
    links_known: bool,
}

/// What one unhealthy resource stalls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact<'a> {
    /// False when the repository links could not be listed: the links (and stacks) are unknown.
    pub links_known: bool,
    /// For a host, its connections; empty for a connection.
    pub connections: Vec<&'a Connection>,
    pub links: Vec<LinkImpact<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkImpact<'a> {
    pub link: &'a RepositoryLink,
    /// For a host's blast radius, the connection the link uses.
    pub via: Option<&'a Connection>,
    /// `None` when the link's sync configurations could not be listed.
    pub stacks: Option<&'a [SyncConfiguration]>,
}

impl<'a> Impact<'a> {
    /// The stacks that stop deploying, each once, in order.
    pub fn stacks(&self) -> BTreeSet<&'a str> {
        self.links
            .iter()
            .flat_map(|link| link.stacks.unwrap_or_default())
            .map(|configuration| configuration.stack.as_str())
            .collect()
    }

    /// Whether some stack stops deploying, or may (part of the blast radius is unknown).
    pub fn may_stall_stacks(&self) -> bool {
        !self.links_known
            || self
                .links
                .iter()
                .any(|link| link.stacks.is_none_or(|stacks| !stacks.is_empty()))
    }
}

impl<'a> Topology<'a> {
    /// `links` is `None` when they could not be listed. `connections` are needed only for
    /// hosts: a host stalls the links of its connections.
    pub fn new(connections: &'a [Connection], links: Option<&'a [RepositoryLink]>) -> Self {
        let mut links_by_connection: HashMap<String, Vec<&'a RepositoryLink>> = HashMap::new();
        for link in links.unwrap_or_default() {
            links_by_connection
                .entry(resource_key(&link.connection_arn))
                .or_default()
                .push(link);
        }
        let mut connections_by_host: HashMap<String, Vec<&'a Connection>> = HashMap::new();
        for connection in connections {
            if let Some(host_arn) = &connection.host_arn {
                connections_by_host
                    .entry(resource_key(host_arn))
                    .or_default()
                    .push(connection);
            }
        }
        Self {
            links_by_connection,
            connections_by_host,
            links_known: links.is_some(),
        }
    }

    fn links_of(&self, connection_arn: &str) -> &[&'a RepositoryLink] {
        self.links_by_connection
            .get(&resource_key(connection_arn))
            .map_or(&[], Vec::as_slice)
    }

    fn connections_of(&self, host_arn: &str) -> &[&'a Connection] {
        self.connections_by_host
            .get(&resource_key(host_arn))
            .map_or(&[], Vec::as_slice)
    }

    /// The links behind a resource, with the connection each goes through for a host.
    fn links_behind(
        &self,
        kind: ResourceKind,
        arn: &str,
    ) -> Vec<(&'a RepositoryLink, Option<&'a Connection>)> {
        match kind {
            ResourceKind::Connection => self.links_of(arn).iter().map(|l| (*l, None)).collect(),
            ResourceKind::Host => self
                .connections_of(arn)
                .iter()
                .flat_map(|connection| {
                    self.links_of(&connection.arn)
                        .iter()
                        .map(move |link| (*link, Some(*connection)))
                })
                .collect(),
        }
    }

    /// Every link behind some of the `unhealthy` resources (kind and ARN), each once: the
    /// only links whose sync configurations a run needs.
    pub fn affected_links<'r>(
        &self,
        unhealthy: impl IntoIterator<Item = (ResourceKind, &'r str)>,
    ) -> Vec<&'a RepositoryLink> {
        let mut seen = HashSet::new();
        unhealthy
            .into_iter()
            .flat_map(|(kind, arn)| self.links_behind(kind, arn))
            .map(|(link, _)| link)
            .filter(|link| seen.insert(link.id.as_str()))
            .collect()
    }

    /// What one resource stalls, with the sync configurations known.
    pub fn impact<'b>(
        &self,
        kind: ResourceKind,
        arn: &str,
        configurations: &'b Configurations,
    ) -> Impact<'b>
    where
        'a: 'b,
    {
        let links = self
            .links_behind(kind, arn)
            .into_iter()
            .map(|(link, via)| LinkImpact {
                link,
                via,
                stacks: configurations.get(&link.id).map(Vec::as_slice),
            })
            .collect();
        let connections = match kind {
            ResourceKind::Connection => Vec::new(),
            ResourceKind::Host => self.connections_of(arn).to_vec(),
        };
        Impact {
            links_known: self.links_known,
            connections,
            links,
        }
    }
}

/// How many distinct stacks the affected links stall.
pub fn stalled_stack_count(
    affected_links: &[&RepositoryLink],
    configurations: &Configurations,
) -> usize {
    affected_links
        .iter()
        .filter_map(|link| configurations.get(&link.id))
        .flatten()
        .map(|configuration| configuration.stack.as_str())
        .collect::<HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::connections::same_resource;
    use crate::fakes::fixtures::{arn, configurations, connection, link};

    #[test]
    fn links_on_either_arn_prefix_belong_to_the_connection() {
        let connections = [connection("c-1", "ERROR", None)];
        let old_prefix = connections[0].arn.clone();
        let new_prefix = arn("codeconnections", "connection/c-1");
        assert!(same_resource(&old_prefix, &new_prefix));
        let links = [
            link("l-1", &old_prefix),
            link("l-2", &new_prefix),
            link("l-3", &arn("codeconnections", "connection/other")),
        ];
        let topology = Topology::new(&connections, Some(&links));
        let configs = configurations(&[("l-1", &["api", "worker"]), ("l-2", &["web", "api"])]);
        let impact = topology.impact(ResourceKind::Connection, &connections[0].arn, &configs);
        let ids: Vec<&str> = impact.links.iter().map(|l| l.link.id.as_str()).collect();
        assert_eq!(ids, ["l-1", "l-2"]);
        assert_eq!(impact.stacks(), BTreeSet::from(["api", "web", "worker"]));
        assert!(impact.may_stall_stacks());
        // Asked under the other prefix, the same stacks.
        let renamed = topology.impact(ResourceKind::Connection, &new_prefix, &configs);
        assert_eq!(renamed.stacks(), impact.stacks());
    }

    #[test]
    fn a_host_stalls_its_connections_and_their_links() {
        let connections = [
            connection("c-1", "AVAILABLE", Some("h-1")),
            connection("c-2", "PENDING", Some("h-1")),
            connection("c-3", "AVAILABLE", None),
        ];
        let links = [
            link("l-1", &connections[0].arn),
            link("l-2", &connections[2].arn),
        ];
        let topology = Topology::new(&connections, Some(&links));
        let configs = configurations(&[("l-1", &["network"])]);
        let host_arn = arn("codestar-connections", "host/h-1");
        let impact = topology.impact(ResourceKind::Host, &host_arn, &configs);
        let names: Vec<&str> = impact.connections.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["c-1", "c-2"]);
        assert_eq!(impact.links.len(), 1);
        assert_eq!(impact.links[0].via.map(|c| c.name.as_str()), Some("c-1"));
        assert_eq!(impact.stacks(), BTreeSet::from(["network"]));
    }

    #[test]
    fn only_links_behind_unhealthy_resources_are_affected_each_once() {
        let connections = [
            connection("c-1", "ERROR", Some("h-1")),
            connection("c-2", "AVAILABLE", None),
        ];
        let links = [
            link("l-1", &connections[0].arn),
            link("l-2", &connections[1].arn),
        ];
        let topology = Topology::new(&connections, Some(&links));
        let host_arn = arn("codeconnections", "host/h-1");
        let unhealthy = [
            (ResourceKind::Connection, connections[0].arn.as_str()),
            (ResourceKind::Host, host_arn.as_str()),
        ];
        let affected = topology.affected_links(unhealthy);
        let ids: Vec<&str> = affected.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            ["l-1"],
            "behind both the connection and its host, listed once"
        );
        let configs = configurations(&[("l-1", &["a", "b"]), ("l-2", &["c"])]);
        assert_eq!(stalled_stack_count(&affected, &configs), 2);
    }

    #[test]
    fn unknown_links_or_stacks_may_stall_stacks() {
        let connections = [connection("c-1", "ERROR", None)];
        let links = [link("l-1", &connections[0].arn)];
        let none = Configurations::new();

        let without_links = Topology::new(&connections, None);
        let impact = without_links.impact(ResourceKind::Connection, &connections[0].arn, &none);
        assert!(!impact.links_known);
        assert!(impact.may_stall_stacks());

        let unlisted = Topology::new(&connections, Some(&links));
        let impact = unlisted.impact(ResourceKind::Connection, &connections[0].arn, &none);
        assert_eq!(impact.links[0].stacks, None);
        assert!(impact.may_stall_stacks());

        let empty = configurations(&[("l-1", &[])]);
        let impact = unlisted.impact(ResourceKind::Connection, &connections[0].arn, &empty);
        assert!(
            !impact.may_stall_stacks(),
            "a link without stacks stalls nothing"
        );
    }

    #[test]
    fn configurations_group_by_their_link() {
        let grouped = configurations(&[("l-1", &["a", "b"]), ("l-2", &["c"])]);
        let flat: Vec<SyncConfiguration> = grouped.values().flatten().cloned().collect();
        assert_eq!(configurations_by_link(&flat), grouped);
    }
}
