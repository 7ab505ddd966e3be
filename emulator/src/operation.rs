//! The 27 operations of the CodeStar Connections API, which AWS CodeConnections shares.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::Api;

macro_rules! operations {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Operation {
            $($name),*
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$name),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name)),*
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Operation::$name),)*
                    _ => None,
                }
            }
        }
    };
}

operations!(
    CreateConnection,
    CreateHost,
    CreateRepositoryLink,
    CreateSyncConfiguration,
    DeleteConnection,
    DeleteHost,
    DeleteRepositoryLink,
    DeleteSyncConfiguration,
    GetConnection,
    GetHost,
    GetRepositoryLink,
    GetRepositorySyncStatus,
    GetResourceSyncStatus,
    GetSyncBlockerSummary,
    GetSyncConfiguration,
    ListConnections,
    ListHosts,
    ListRepositoryLinks,
    ListRepositorySyncDefinitions,
    ListSyncConfigurations,
    ListTagsForResource,
    TagResource,
    UntagResource,
    UpdateHost,
    UpdateRepositoryLink,
    UpdateSyncBlocker,
    UpdateSyncConfiguration,
);

impl Operation {
    /// Position in [`Operation::ALL`], for per-operation tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses an `X-Amz-Target` header value of either API, in either the SDK's or
    /// botocore's form.
    pub fn from_target(target: &str) -> Option<(Api, Self)> {
        let (api, name) = Api::split_target(target)?;
        Some((api, Self::from_name(name)?))
    }

    /// Whether the operation only reads: a call of any other one may change the state.
    pub fn is_read_only(self) -> bool {
        let name = self.name();
        name.starts_with("Get") || name.starts_with("List")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown operation `{name}`, expected one of the 27 CodeStar Connections operations such as GetConnection"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_target_forms_name_the_same_operation() {
        assert_eq!(
            Operation::from_target("CodeStar_connections_20191201.GetConnection"),
            Some((Api::CodeStarConnections, Operation::GetConnection))
        );
        assert_eq!(
            Operation::from_target(
                "com.amazonaws.codeconnections.CodeConnections_20231201.ListHosts"
            ),
            Some((Api::CodeConnections, Operation::ListHosts))
        );
        assert_eq!(Operation::from_target("GetConnection"), None);
        assert_eq!(
            Operation::from_target("CodeStar_connections_20191201.Nope"),
            None
        );
    }

    #[test]
    fn there_are_27_operations_indexed_in_order() {
        assert_eq!(Operation::ALL.len(), 27);
        for (position, operation) in Operation::ALL.iter().enumerate() {
            assert_eq!(operation.index(), position);
            assert_eq!(Operation::from_name(operation.name()), Some(*operation));
        }
    }
}
