//! The events gitsync-guard puts on EventBridge: the facts AWS itself sends no event for (a
//! blocker raised, still there, resolved; a connection or host broken or back; gitsync-guard's
//! own state), for machines to act on. One event per fact, put under the same ledger key as the
//! message people read, with a JSON Schema per detail-type in `schemas/` (registered by
//! template.yaml).
//!
//! Every detail carries `version`, `key` (what consumers deduplicate on: EventBridge delivers
//! at least once), `account`, `region` and `function`; the rest is the fact's own fields, raw
//! values (escaping belongs to rendering a message, not to data).

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::alert::Origin;
use super::sync::SyncBlocker;
use super::text::rfc3339;

/// The `source` of every event.
pub const SOURCE: &str = "gitsync-guard";
/// The details' schema version: fields are only added within a version.
pub const VERSION: &str = "1";

/// Every detail-type gitsync-guard puts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DetailType {
    BlockerDetected,
    BlockerReminder,
    StackRecovered,
    BlockerResolution,
    ConnectionHealthChange,
    HealthSnapshot,
    Test,
}

impl DetailType {
    pub const ALL: [Self; 7] = [
        Self::BlockerDetected,
        Self::BlockerReminder,
        Self::StackRecovered,
        Self::BlockerResolution,
        Self::ConnectionHealthChange,
        Self::HealthSnapshot,
        Self::Test,
    ];

    /// The `detail-type` of the event.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BlockerDetected => "GitSync Blocker Detected",
            Self::BlockerReminder => "GitSync Blocker Reminder",
            Self::StackRecovered => "GitSync Stack Recovered",
            Self::BlockerResolution => "GitSync Blocker Resolution",
            Self::ConnectionHealthChange => "Connection Health Change",
            Self::HealthSnapshot => "GitSync Health Snapshot",
            Self::Test => "GitSync Test",
        }
    }

    /// The schema's name: its file `schemas/NAME.json` and its name in the registry.
    pub const fn schema_name(self) -> &'static str {
        match self {
            Self::BlockerDetected => "GitSyncBlockerDetected",
            Self::BlockerReminder => "GitSyncBlockerReminder",
            Self::StackRecovered => "GitSyncStackRecovered",
            Self::BlockerResolution => "GitSyncBlockerResolution",
            Self::ConnectionHealthChange => "ConnectionHealthChange",
            Self::HealthSnapshot => "GitSyncHealthSnapshot",
            Self::Test => "GitSyncTest",
        }
    }

    pub fn parse(detail_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == detail_type)
    }
}

/// One fact, before it is stamped with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEvent {
    pub detail_type: DetailType,
    /// What it is about, as ARNs: connections and hosts as listed. Stacks as
    /// `arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME` (Git sync names stacks, not
    /// their ids), once the account is known.
    pub resources: Vec<String>,
    /// The stack the fact is about, if one: it becomes a resource once the origin is known.
    pub stack: Option<String>,
    pub detail: Map<String, Value>,
    /// The key it is deduplicated on, when it is put without a ledger key of its own.
    pub key: Option<String>,
    /// Set when one message carries several events (a digest of changes): appended to the
    /// message's key, so that each event's key names its own fact.
    pub key_qualifier: Option<String>,
}

/// An event as EventBridge's PutEvents takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEvent {
    pub detail_type: &'static str,
    pub resources: Vec<String>,
    /// The detail, a JSON object.
    pub detail: String,
}

impl RenderedEvent {
    /// The detail as JSON (it is always an object).
    pub fn detail_json(&self) -> Value {
        serde_json::from_str(&self.detail).unwrap_or(Value::Null)
    }
}

impl BusEvent {
    /// `detail` must be a JSON object; anything else is kept under `value`.
    pub fn new(detail_type: DetailType, detail: Value) -> Self {
        let detail = match detail {
            Value::Object(map) => map,
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        Self {
            detail_type,
            resources: Vec::new(),
            stack: None,
            detail,
            key: None,
            key_qualifier: None,
        }
    }

    /// About this stack.
    pub fn about_stack(mut self, stack: &str) -> Self {
        self.stack = Some(stack.to_owned());
        self
    }

    /// About this connection or host.
    pub fn about(mut self, arn: &str) -> Self {
        self.resources.push(arn.to_owned());
        self
    }

    /// One of several events under one message's key: its key is that key, `#`, `qualifier`.
    pub fn distinct_by(mut self, qualifier: &str) -> Self {
        self.key_qualifier = Some(qualifier.to_owned());
        self
    }

    /// Deduplicated on `key` (for an event put without a ledger key).
    pub fn keyed(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Stamped with its origin, the function that puts it and its key.
    pub fn render(&self, origin: &Origin, function: &str, key: &str) -> RenderedEvent {
        let account = origin.account.as_ref().map(|account| account.id.as_str());
        let mut detail = Map::new();
        detail.insert("version".into(), VERSION.into());
        let key = self.key.as_deref().unwrap_or(key);
        let key = match &self.key_qualifier {
            Some(qualifier) => format!("{key}#{qualifier}"),
            None => key.to_owned(),
        };
        detail.insert("key".into(), key.into());
        detail.insert("account".into(), account.map_or(Value::Null, Value::from));
        detail.insert("region".into(), origin.region.as_str().into());
        detail.insert("function".into(), function.into());
        detail.extend(self.detail.clone());
        let mut resources = self.resources.clone();
        if let (Some(stack), Some(account)) = (&self.stack, account) {
            resources.insert(0, stack_arn(&origin.region, account, stack));
        }
        RenderedEvent {
            detail_type: self.detail_type.as_str(),
            resources,
            detail: Value::Object(detail).to_string(),
        }
    }
}

/// A time as events carry it: RFC 3339, or null when unknown.
pub fn time(at: Option<SystemTime>) -> Value {
    at.map_or(Value::Null, |at| rfc3339(at).into())
}

/// The stack as an ARN without its id.
pub fn stack_arn(region: &str, account: &str, stack: &str) -> String {
    format!(
        "arn:{}:cloudformation:{region}:{account}:stack/{stack}",
        partition(region)
    )
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// What every event about one blocker says of it: the stack, the blocker's Id, reason,
/// creation time and contexts, as Git sync reports them.
pub fn blocker_detail(stack: &str, blocker: &SyncBlocker) -> Map<String, Value> {
    let contexts: Map<String, Value> = blocker
        .contexts
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().into()))
        .collect();
    Map::from_iter([
        ("stack".to_owned(), stack.into()),
        ("blockerId".to_owned(), blocker.id.as_str().into()),
        ("reason".to_owned(), blocker.created_reason.as_str().into()),
        ("createdAt".to_owned(), time(blocker.created_at)),
        ("contexts".to_owned(), Value::Object(contexts)),
    ])
}

/// An event about one blocker of `stack`, with `fields` besides [`blocker_detail`]'s.
pub fn blocker_event(
    detail_type: DetailType,
    stack: &str,
    blocker: &SyncBlocker,
    fields: Value,
) -> BusEvent {
    let mut detail = blocker_detail(stack, blocker);
    if let Value::Object(fields) = fields {
        detail.extend(fields);
    }
    BusEvent::new(detail_type, Value::Object(detail)).about_stack(stack)
}

/// The test job's event.
pub fn test_event(function: &str, now: SystemTime) -> BusEvent {
    let sent_at = rfc3339(now);
    BusEvent::new(DetailType::Test, json!({ "sentAt": sent_at }))
        .keyed(format!("test#{function}#{sent_at}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::Account;
    use std::time::UNIX_EPOCH;

    fn origin(account: bool) -> Origin {
        Origin {
            account: account.then(|| Account {
                id: "123456789012".into(),
                name: "prod".into(),
            }),
            region: "eu-west-1".into(),
        }
    }

    #[test]
    fn a_rendered_event_carries_its_origin_key_and_raw_fields() {
        let event = BusEvent::new(
            DetailType::BlockerDetected,
            json!({"stack": "web", "reason": "<b>a & b</b>\n"}),
        )
        .about_stack("web");
        let rendered = event.render(&origin(true), "sync-watcher", "stack#web/blocker#b-1");
        assert_eq!(rendered.detail_type, "GitSync Blocker Detected");
        assert_eq!(
            rendered.resources,
            ["arn:aws:cloudformation:eu-west-1:123456789012:stack/web"]
        );
        assert_eq!(
            rendered.detail_json(),
            json!({
                "version": "1", "key": "stack#web/blocker#b-1", "account": "123456789012",
                "region": "eu-west-1", "function": "sync-watcher",
                "stack": "web", "reason": "<b>a & b</b>\n",
            })
        );
        let one_of_many = BusEvent::new(DetailType::ConnectionHealthChange, json!({}))
            .distinct_by("arn:aws:codeconnections:eu-west-1:1:connection/c-1");
        assert_eq!(
            one_of_many
                .render(
                    &origin(true),
                    "connection-auditor",
                    "audit#digest/digest#2#ab"
                )
                .detail_json()["key"],
            "audit#digest/digest#2#ab#arn:aws:codeconnections:eu-west-1:1:connection/c-1"
        );
        let local = event.render(&origin(false), "sync-watcher", "k");
        assert!(local.resources.is_empty(), "no account, no stack ARN");
        assert_eq!(local.detail_json()["account"], Value::Null);
    }

    #[test]
    fn an_event_of_its_own_keeps_its_key_and_detail_types_round_trip() {
        let test = test_event("connection-auditor", UNIX_EPOCH);
        let rendered = test.render(&origin(true), "connection-auditor", "ignored");
        assert_eq!(
            rendered.detail_json()["key"],
            "test#connection-auditor#1970-01-01T00:00:00Z"
        );
        for detail_type in DetailType::ALL {
            assert_eq!(DetailType::parse(detail_type.as_str()), Some(detail_type));
            assert!(
                detail_type
                    .schema_name()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
            );
        }
        assert_eq!(
            stack_arn("cn-north-1", "1", "s"),
            "arn:aws-cn:cloudformation:cn-north-1:1:stack/s"
        );
    }
}
