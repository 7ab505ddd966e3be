//! Connections and hosts, and what makes them healthy.

/// The one status in which a connection or host lets Git sync read repositories.
pub const HEALTHY_STATUS: &str = "AVAILABLE";

/// Whether a connection's or host's status, as listed or recorded, is healthy: only
/// [`HEALTHY_STATUS`] is; any other status, unknown ones included, is not.
pub fn is_healthy_status(status: &str) -> bool {
    status == HEALTHY_STATUS
}

/// What a status record is about. Stored as `connection` or `host`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Connection,
    Host,
}

impl ResourceKind {
    /// How the ledger stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::Host => "host",
        }
    }

    /// How messages name it, before its name: `Connection` or `Host`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connection => "Connection",
            Self::Host => "Host",
        }
    }

    /// The stored form back; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Connection, Self::Host]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// A connection's status; only AVAILABLE lets Git sync read repositories.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    Pending,
    Available,
    Error,
    Other(String),
}

impl ConnectionStatus {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "PENDING" => Self::Pending,
            "AVAILABLE" => Self::Available,
            "ERROR" => Self::Error,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::Available => "AVAILABLE",
            Self::Error => "ERROR",
            Self::Other(raw) => raw,
        }
    }

    pub fn is_healthy(&self) -> bool {
        is_healthy_status(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub arn: String,
    pub name: String,
    pub provider: String,
    pub status: ConnectionStatus,
    /// Set for GitHub Enterprise Server and GitLab self-managed connections.
    pub host_arn: Option<String>,
}

/// A host (GitHub Enterprise Server, GitLab self-managed). Its status is a free string:
/// anything but AVAILABLE is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub arn: String,
    pub name: String,
    pub provider: String,
    pub endpoint: Option<String>,
    pub status: String,
    pub status_message: Option<String>,
}

impl Host {
    pub fn is_healthy(&self) -> bool {
        is_healthy_status(&self.status)
    }
}

/// The resource type and id of a CodeStar Connections ARN, under either service prefix:
/// `arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID` or `arn:aws:codeconnections:...`.
pub fn arn_resource(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service)) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if service != "codestar-connections" && service != "codeconnections" {
        return None;
    }
    let resource = parts.nth(2)?;
    resource.split_once('/')
}

/// The AWS CLI service whose commands take this ARN: `codeconnections` for an
/// `arn:aws:codeconnections:...` ARN, `codestar-connections` for any other (both services
/// accept either prefix today; a command that matches its ARN reads right and keeps working
/// should the old name go).
pub fn cli_service(arn: &str) -> &'static str {
    match arn.split(':').nth(2) {
        Some("codeconnections") => "codeconnections",
        _ => "codestar-connections",
    }
}

/// Two ARNs name the same connection or host even when one uses the `codeconnections`
/// prefix and the other `codestar-connections`.
pub fn same_resource(a: &str, b: &str) -> bool {
    a == b || matches!((arn_resource(a), arn_resource(b)), (Some(x), Some(y)) if x == y)
}

/// The identity of a connection or host under either ARN prefix: the same equivalence as
/// [`same_resource`], usable as a map key.
pub fn resource_key(arn: &str) -> String {
    match arn_resource(arn) {
        Some((kind, id)) => format!("{kind}/{id}"),
        None => arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_prefixes_name_the_same_connection() {
        let old = "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc-123";
        let new = "arn:aws:codeconnections:us-east-1:123456789012:connection/abc-123";
        assert_eq!(arn_resource(old), Some(("connection", "abc-123")));
        assert_eq!(arn_resource(new), Some(("connection", "abc-123")));
        assert!(same_resource(old, new));
        assert!(!same_resource(
            old,
            "arn:aws:codeconnections:us-east-1:123456789012:host/abc-123"
        ));
        assert_eq!(arn_resource("arn:aws:s3:::bucket/x"), None);
        assert_eq!(arn_resource("not an arn"), None);
        assert_eq!(resource_key(old), resource_key(new));
        assert_eq!(cli_service(old), "codestar-connections");
        assert_eq!(cli_service(new), "codeconnections");
        assert_eq!(cli_service("not an arn"), "codestar-connections");
        assert_eq!(resource_key("not an arn"), "not an arn");
    }

    #[test]
    fn only_available_is_healthy() {
        assert!(ConnectionStatus::parse("AVAILABLE").is_healthy());
        for status in ["PENDING", "ERROR", "SOMETHING_NEW"] {
            assert!(!ConnectionStatus::parse(status).is_healthy());
        }
        let host = |status: &str| Host {
            arn: String::new(),
            name: String::new(),
            provider: String::new(),
            endpoint: None,
            status: status.into(),
            status_message: None,
        };
        assert!(host("AVAILABLE").is_healthy());
        assert!(!host("VPC_CONFIG_FAILED_INITIALIZATION").is_healthy());
        assert!(!host("BRAND_NEW_STATUS").is_healthy());
        assert!(is_healthy_status(HEALTHY_STATUS));
        assert!(!is_healthy_status("") && !is_healthy_status("available"));
    }
}
