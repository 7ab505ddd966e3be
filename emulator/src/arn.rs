//! The service's ARNs, under either service prefix: `codestar-connections` (the original)
//! and `codeconnections` (since the 2024 rename). Both name the same resource.

use crate::api::Api;

const SERVICE: &str = "codestar-connections";
const RENAMED_SERVICE: &str = "codeconnections";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Connection,
    Host,
    RepositoryLink,
}

impl ResourceKind {
    fn resource_prefix(self) -> &'static str {
        match self {
            Self::Connection => "connection/",
            Self::Host => "host/",
            Self::RepositoryLink => "repository-link/",
        }
    }
}

/// The parts of `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
struct Parts<'a> {
    partition: &'a str,
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn split(arn: &str) -> Option<Parts<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(Parts {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

/// The lookup key of an ARN of this service: the ARN spelled with the original prefix, so
/// that both spellings find the same resource. Other ARNs are their own key.
pub fn key(arn: &str) -> String {
    match split(arn) {
        Some(parts) if parts.service == RENAMED_SERVICE => format!(
            "arn:{}:{SERVICE}:{}:{}:{}",
            parts.partition, parts.region, parts.account, parts.resource
        ),
        _ => arn.to_owned(),
    }
}

/// Which kind of resource of this service an ARN names, and the part after `kind/`.
pub fn resource(arn: &str) -> Option<(ResourceKind, &str)> {
    let parts = split(arn)?;
    if parts.service != SERVICE && parts.service != RENAMED_SERVICE {
        return None;
    }
    [
        ResourceKind::Connection,
        ResourceKind::Host,
        ResourceKind::RepositoryLink,
    ]
    .into_iter()
    .find_map(|kind| {
        parts
            .resource
            .strip_prefix(kind.resource_prefix())
            .filter(|id| !id.is_empty())
            .map(|id| (kind, id))
    })
}

/// A new ARN, under the prefix of the API that creates the resource.
pub fn build(api: Api, region: &str, account: &str, kind: ResourceKind, id: &str) -> String {
    format!(
        "arn:aws:{}:{region}:{account}:{}{id}",
        api.arn_service(),
        kind.resource_prefix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_prefixes_share_a_key() {
        let old = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc";
        let new = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc";
        assert_eq!(key(old), old);
        assert_eq!(key(new), old);
        assert_eq!(key("not an arn"), "not an arn");
    }

    #[test]
    fn resources_are_recognised_under_both_prefixes() {
        assert_eq!(
            resource("arn:aws:codeconnections:eu-west-1:123456789012:host/ghes-1a2b3c4d"),
            Some((ResourceKind::Host, "ghes-1a2b3c4d"))
        );
        assert_eq!(
            resource("arn:aws:codestar-connections:eu-west-1:123456789012:repository-link/x-y"),
            Some((ResourceKind::RepositoryLink, "x-y"))
        );
        assert_eq!(resource("arn:aws:s3:::bucket/connection/x"), None);
        assert_eq!(
            resource("arn:aws:codestar-connections:eu-west-1:123456789012:connection/"),
            None
        );
    }

    #[test]
    fn built_arns_use_the_prefix_of_their_api() {
        assert_eq!(
            build(
                Api::CodeStarConnections,
                "us-east-1",
                "123456789012",
                ResourceKind::Connection,
                "id"
            ),
            "arn:aws:codestar-connections:us-east-1:123456789012:connection/id"
        );
        assert_eq!(
            build(
                Api::CodeConnections,
                "us-east-1",
                "123456789012",
                ResourceKind::Host,
                "h"
            ),
            "arn:aws:codeconnections:us-east-1:123456789012:host/h"
        );
    }
}
