//! The two APIs the emulator serves over one state: AWS CodeStar Connections
//! (`codestar-connections`, 2019-12-01) and, since the 2024 rename, AWS CodeConnections
//! (`codeconnections`, 2023-12-01). They have the same 27 operations; each validates against
//! its own botocore model and names the resources it creates with its own ARN prefix.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Api {
    #[default]
    #[serde(rename = "codestar-connections")]
    CodeStarConnections,
    #[serde(rename = "codeconnections")]
    CodeConnections,
}

impl Api {
    pub const ALL: [Api; 2] = [Api::CodeStarConnections, Api::CodeConnections];

    /// The Smithy service shape name: the AWS SDK for Rust's target prefix (awsJson1_0) and
    /// the service segment of its Smithy RPC v2 CBOR paths.
    pub fn service_shape(self) -> &'static str {
        match self {
            Self::CodeStarConnections => "CodeStar_connections_20191201",
            Self::CodeConnections => "CodeConnections_20231201",
        }
    }

    /// The model's `targetPrefix`, which botocore and the AWS CLI send.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Self::CodeStarConnections => {
                "com.amazonaws.codestar.connections.CodeStar_connections_20191201"
            }
            Self::CodeConnections => "com.amazonaws.codeconnections.CodeConnections_20231201",
        }
    }

    /// The service name in ARNs (and the signing name).
    pub fn arn_service(self) -> &'static str {
        match self {
            Self::CodeStarConnections => "codestar-connections",
            Self::CodeConnections => "codeconnections",
        }
    }

    /// botocore's model of the API, vendored unchanged.
    pub fn model_json(self) -> &'static str {
        match self {
            Self::CodeStarConnections => {
                include_str!("../model/codestar-connections-2019-12-01.json")
            }
            Self::CodeConnections => include_str!("../model/codeconnections-2023-12-01.json"),
        }
    }

    /// Which API an `X-Amz-Target` names, and the operation name after the dot; both the
    /// short (Smithy shape) and the long (botocore) prefix are accepted for each API.
    pub fn split_target(target: &str) -> Option<(Api, &str)> {
        Self::ALL.into_iter().find_map(|api| {
            let rest = target
                .strip_prefix(api.service_shape())
                .or_else(|| target.strip_prefix(api.target_prefix()))?;
            Some((api, rest.strip_prefix('.')?))
        })
    }

    /// The API a Smithy RPC v2 path's service segment names.
    pub fn from_service_shape(name: &str) -> Option<Api> {
        Self::ALL
            .into_iter()
            .find(|api| api.service_shape() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_target_forms_of_both_apis_are_recognised() {
        assert_eq!(
            Api::split_target("CodeStar_connections_20191201.GetConnection"),
            Some((Api::CodeStarConnections, "GetConnection"))
        );
        assert_eq!(
            Api::split_target(
                "com.amazonaws.codestar.connections.CodeStar_connections_20191201.ListHosts"
            ),
            Some((Api::CodeStarConnections, "ListHosts"))
        );
        assert_eq!(
            Api::split_target("CodeConnections_20231201.GetHost"),
            Some((Api::CodeConnections, "GetHost"))
        );
        assert_eq!(
            Api::split_target("com.amazonaws.codeconnections.CodeConnections_20231201.GetHost"),
            Some((Api::CodeConnections, "GetHost"))
        );
        assert_eq!(Api::split_target("CodeConnections_20231201GetHost"), None);
        assert_eq!(Api::split_target("GetHost"), None);
    }
}
