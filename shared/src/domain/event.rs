//! Incoming Lambda payloads, parsed into domain values.
//!
//! Git sync events are delivered at least once and their fields are not all promised, so
//! every detail field is optional here; only what a handler cannot work without (the stack
//! of a resource sync event) makes an event malformed.
//!
//! The envelope of a Git sync event is `aws_lambda_events`' `EventBridgeEvent`. It requires
//! `source` and `detail-type`, while a payload without them is a direct request and a schedule
//! needs only its `detail-type`, so the payload is first told apart by those two fields, read
//! from the raw object; only a Git sync event, whose content is read, goes through the envelope.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use super::selfwatch::Job;
use super::sync::SyncStatus;

pub const GIT_SYNC_SOURCE: &str = "aws.codeconnections";
/// Both spellings appear in AWS's own documentation; EventBridge may deliver either.
pub const RESOURCE_SYNC_DETAIL_TYPES: [&str; 2] = [
    "Git Sync Resource Sync Status Change",
    "GitSync Resource Sync Status Change",
];
pub const REPOSITORY_SYNC_DETAIL_TYPES: [&str; 2] = [
    "Git Sync Repository Sync Status Change",
    "GitSync Repository Sync Status Change",
];
pub const SCHEDULED_EVENT_DETAIL_TYPE: &str = "Scheduled Event";
/// The `detail.job` of the input that asks a function for a test alert.
pub const TEST_JOB: &str = "test";

/// Envelope fields that no handler reads. The envelope type parses them strictly (`time` as an
/// RFC 3339 timestamp, `resources` as strings); when one is malformed they are dropped, rather
/// than allowed to fail an event whose detail is fine.
const UNREAD_ENVELOPE_FIELDS: [&str; 4] = ["version", "id", "time", "resources"];
/// Envelope fields that handlers read, all strings: a wrong type there is the event's error.
const READ_ENVELOPE_FIELDS: [&str; 2] = ["region", "account"];

/// What a function was invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    ResourceSync(ResourceSyncEvent),
    RepositorySync(RepositorySyncEvent),
    /// An EventBridge schedule (rule or Scheduler input carrying `"detail-type": "Scheduled Event"`):
    /// the function's scheduled job, whatever `detail.job` names of [`Job`].
    Schedule,
    /// The schedule-shaped input whose `detail.job` is `test`: send one test alert.
    TestAlert,
    /// A direct invocation by an operator: `{"stack": "NAME"}`.
    StackRequest {
        stack: String,
    },
    /// Anything else from EventBridge: not ours to handle, and not an error.
    Unrelated {
        source: Option<String>,
        detail_type: Option<String>,
    },
}

/// Where the commit that Git sync tried to deploy came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revision {
    pub provider: Option<String>,
    pub repository: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSyncEvent {
    pub stack: String,
    pub status: Option<SyncStatus>,
    pub previous_status: Option<SyncStatus>,
    pub sync_type: Option<String>,
    pub revision: Revision,
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositorySyncEvent {
    pub repository_link_id: Option<String>,
    pub connection_arn: Option<String>,
    pub owner_id: Option<String>,
    pub status: Option<SyncStatus>,
    pub previous_status: Option<SyncStatus>,
    pub sync_type: Option<String>,
    pub revision: Revision,
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    #[error(
        "the event is not a JSON object (got {0}); expected an EventBridge event or {{\"stack\": \"NAME\"}}"
    )]
    NotAnObject(&'static str),
    #[error("field `{field}` must be a string, got {got}")]
    NotAString {
        field: &'static str,
        got: &'static str,
    },
    #[error("the {detail_type:?} event has no `detail` object")]
    MissingDetail { detail_type: String },
    #[error("the resource sync event names no stack: `detail.syncTarget` is missing or empty")]
    MissingStack,
    #[error(
        "`{field}` is {value:?}, which is not a CloudFormation stack name or stack ARN \
         (a name matches ^[0-9A-Za-z]+[0-9A-Za-z_-]*$, at most 100 characters)"
    )]
    InvalidStack { field: &'static str, value: String },
    #[error(
        "the payload has neither `source`/`detail-type` (an EventBridge event) nor `stack` (a direct request)"
    )]
    Unrecognized,
    #[error(
        "the scheduled event's `detail.job` is {0:?}; expected `watch`, `sweep` or `audit` (the function's scheduled run), `test` (a test alert), or no job"
    )]
    UnknownJob(String),
    /// Not expected: every field the envelope type could reject is checked or dropped first.
    #[error("the EventBridge envelope is malformed: {0}")]
    MalformedEnvelope(String),
}

/// The detail of a Git sync event, for both kinds. Every field is optional and takes any JSON
/// value, so that a field one kind does not read can never fail an event of that kind, as
/// before; a field is checked to be a string where it is read, with the field named.
/// (`repositoryArn` is documented but read by no handler, so it is not here.) `Serialize` is
/// only there because `EventBridgeEvent` requires it of its detail.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct GitSyncDetail {
    provider_type: Option<Value>,
    repository_name: Option<Value>,
    branch: Option<Value>,
    commit: Option<Value>,
    sync_type: Option<Value>,
    sync_target: Option<Value>,
    status: Option<Value>,
    /// AWS documents the previous status under both `previousSync` and `previousStatus`.
    previous_sync: Option<Value>,
    previous_status: Option<Value>,
    connection_arn: Option<Value>,
    repository_link_id: Option<Value>,
    owner_id: Option<Value>,
}

type GitSyncEnvelope = EventBridgeEvent<GitSyncDetail>;

impl Incoming {
    pub fn parse(payload: &Value) -> Result<Self, EventError> {
        let object = payload
            .as_object()
            .ok_or(EventError::NotAnObject(json_kind(payload)))?;
        let source = optional_str(object.get("source"), "source")?;
        let detail_type = optional_str(object.get("detail-type"), "detail-type")?;

        if source.is_none() && detail_type.is_none() {
            return match optional_str(object.get("stack"), "stack")? {
                Some(stack) => Ok(Self::StackRequest {
                    stack: stack_name(stack, "stack")?,
                }),
                None => Err(EventError::Unrecognized),
            };
        }
        if detail_type == Some(SCHEDULED_EVENT_DETAIL_TYPE) {
            return scheduled_job(object);
        }
        let unrelated = || Self::Unrelated {
            source: source.map(str::to_owned),
            detail_type: detail_type.map(str::to_owned),
        };
        let (Some(GIT_SYNC_SOURCE), Some(detail_type)) = (source, detail_type) else {
            return Ok(unrelated());
        };
        let is_resource = RESOURCE_SYNC_DETAIL_TYPES.contains(&detail_type);
        if !is_resource && !REPOSITORY_SYNC_DETAIL_TYPES.contains(&detail_type) {
            return Ok(unrelated());
        }
        // Checked on the raw object: the derived detail would also accept an array, by position.
        if !object.get("detail").is_some_and(Value::is_object) {
            return Err(EventError::MissingDetail {
                detail_type: detail_type.to_owned(),
            });
        }
        let envelope = git_sync_envelope(payload, object)?;
        if is_resource {
            parse_resource(envelope).map(Self::ResourceSync)
        } else {
            parse_repository(envelope).map(Self::RepositorySync)
        }
    }
}

/// A schedule's input: the function's run, or a test alert when `detail.job` is `test`.
fn scheduled_job(object: &Map<String, Value>) -> Result<Incoming, EventError> {
    let job = object.get("detail").and_then(|detail| detail.get("job"));
    match optional_str(job, "detail.job")? {
        Some(TEST_JOB) => Ok(Incoming::TestAlert),
        Some(name) if Job::parse(name).is_none() => Err(EventError::UnknownJob(name.to_owned())),
        _ => Ok(Incoming::Schedule),
    }
}

/// The envelope of a Git sync event whose `source`, `detail-type` and `detail` are known good.
fn git_sync_envelope(
    payload: &Value,
    object: &Map<String, Value>,
) -> Result<GitSyncEnvelope, EventError> {
    // Checked on the raw object first, so that a wrong type is reported as before, field named.
    for field in READ_ENVELOPE_FIELDS {
        optional_str(object.get(field), field)?;
    }
    if let Ok(envelope) = GitSyncEnvelope::deserialize(payload) {
        return Ok(envelope);
    }
    // Only an unread field is left to be malformed, in a payload EventBridge did not write:
    // rare enough for a copy without them.
    let mut trimmed = object.clone();
    for field in UNREAD_ENVELOPE_FIELDS {
        trimmed.remove(field);
    }
    GitSyncEnvelope::deserialize(&Value::Object(trimmed))
        .map_err(|error| EventError::MalformedEnvelope(error.to_string()))
}

fn parse_resource(envelope: GitSyncEnvelope) -> Result<ResourceSyncEvent, EventError> {
    let mut detail = envelope.detail;
    let target = optional_str(detail.sync_target.as_ref(), "detail.syncTarget")?
        .filter(|target| !target.is_empty())
        .ok_or(EventError::MissingStack)?;
    Ok(ResourceSyncEvent {
        stack: stack_name(target, "detail.syncTarget")?,
        status: status(detail.status.take(), "detail.status")?,
        previous_status: previous_status(&mut detail)?,
        sync_type: text(detail.sync_type.take(), "detail.syncType")?,
        revision: revision(&mut detail)?,
        region: envelope.region,
        account: envelope.account,
    })
}

fn parse_repository(envelope: GitSyncEnvelope) -> Result<RepositorySyncEvent, EventError> {
    let mut detail = envelope.detail;
    Ok(RepositorySyncEvent {
        repository_link_id: text(detail.repository_link_id.take(), "detail.repositoryLinkId")?,
        connection_arn: text(detail.connection_arn.take(), "detail.connectionArn")?,
        owner_id: text(detail.owner_id.take(), "detail.ownerId")?,
        status: status(detail.status.take(), "detail.status")?,
        previous_status: previous_status(&mut detail)?,
        sync_type: text(detail.sync_type.take(), "detail.syncType")?,
        revision: revision(&mut detail)?,
        region: envelope.region,
        account: envelope.account,
    })
}

/// The detail fields are taken, not borrowed, so that their strings are not copied again.
fn revision(detail: &mut GitSyncDetail) -> Result<Revision, EventError> {
    Ok(Revision {
        provider: text(detail.provider_type.take(), "detail.providerType")?,
        repository: text(detail.repository_name.take(), "detail.repositoryName")?,
        branch: text(detail.branch.take(), "detail.branch")?,
        commit: text(detail.commit.take(), "detail.commit")?,
    })
}

/// `previousSync` wins; `previousStatus` is read, and so checked, only when it is absent.
fn previous_status(detail: &mut GitSyncDetail) -> Result<Option<SyncStatus>, EventError> {
    match status(detail.previous_sync.take(), "detail.previousSync")? {
        Some(previous) => Ok(Some(previous)),
        None => status(detail.previous_status.take(), "detail.previousStatus"),
    }
}

fn status(value: Option<Value>, field: &'static str) -> Result<Option<SyncStatus>, EventError> {
    Ok(optional_str(value.as_ref(), field)?.map(SyncStatus::parse))
}

/// A stack given as a plain name or as `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`.
pub fn stack_name(target: &str, field: &'static str) -> Result<String, EventError> {
    let invalid = || EventError::InvalidStack {
        field,
        value: target.to_owned(),
    };
    let name = if target.starts_with("arn:") {
        let mut parts = target.splitn(6, ':');
        let service = parts.nth(2);
        let resource = parts.nth(2).ok_or_else(invalid)?;
        if service != Some("cloudformation") {
            return Err(invalid());
        }
        let mut path = resource.split('/');
        match (path.next(), path.next()) {
            (Some("stack"), Some(name)) => name,
            _ => return Err(invalid()),
        }
    } else {
        target
    };
    if is_resource_name(name) {
        Ok(name.to_owned())
    } else {
        Err(invalid())
    }
}

/// The API's ResourceName constraint: `^[0-9A-Za-z]+[0-9A-Za-z_\-]*$`, 1 to 100 characters.
pub fn is_resource_name(name: &str) -> bool {
    name.len() <= 100
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A field that must be a string when present; JSON `null` counts as absent.
fn optional_str<'a>(
    value: Option<&'a Value>,
    field: &'static str,
) -> Result<Option<&'a str>, EventError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(other) => Err(EventError::NotAString {
            field,
            got: json_kind(other),
        }),
    }
}

/// A detail field that must be a string when present, moved out of its value.
fn text(value: Option<Value>, field: &'static str) -> Result<Option<String>, EventError> {
    match value {
        Some(Value::String(text)) => Ok(Some(text)),
        // Anything else is absent or an error: optional_str says which.
        other => optional_str(other.as_ref(), field).map(|_| None),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource_event(detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "5b2a9c3e-0000-4000-8000-000000000001",
            "detail-type": detail_type,
            "source": "aws.codeconnections",
            "account": "123456789012",
            "time": "2026-11-21T10:00:00Z",
            "region": "eu-west-1",
            "resources": [],
            "detail": detail,
        })
    }

    fn parse_resource_event(detail_type: &str, detail: Value) -> ResourceSyncEvent {
        match Incoming::parse(&resource_event(detail_type, detail)) {
            Ok(Incoming::ResourceSync(event)) => event,
            other => panic!("expected a resource sync event, got {other:?}"),
        }
    }

    #[test]
    fn both_resource_detail_type_spellings_parse_the_same() {
        let detail = json!({
            "providerType": "GitHub", "commit": "8d2f0c1", "repositoryName": "acme/infra",
            "branch": "main", "syncType": "CFN_STACK_SYNC", "syncTarget": "payments-api",
            "status": "FAILED", "previousSync": "IN_PROGRESS"
        });
        let spaced = parse_resource_event("Git Sync Resource Sync Status Change", detail.clone());
        let joined = parse_resource_event("GitSync Resource Sync Status Change", detail);
        assert_eq!(spaced, joined);
        assert_eq!(spaced.stack, "payments-api");
        assert_eq!(spaced.status, Some(SyncStatus::Failed));
        assert_eq!(spaced.previous_status, Some(SyncStatus::InProgress));
        assert_eq!(spaced.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            spaced.revision,
            Revision {
                provider: Some("GitHub".into()),
                repository: Some("acme/infra".into()),
                branch: Some("main".into()),
                commit: Some("8d2f0c1".into()),
            }
        );
    }

    #[test]
    fn previous_status_is_read_from_either_key() {
        let from_previous_status = parse_resource_event(
            "Git Sync Resource Sync Status Change",
            json!({"syncTarget": "web", "status": "SUCCEEDED", "previousStatus": "FAILED"}),
        );
        assert_eq!(
            from_previous_status.previous_status,
            Some(SyncStatus::Failed)
        );
        let neither = parse_resource_event(
            "Git Sync Resource Sync Status Change",
            json!({"syncTarget": "web"}),
        );
        assert_eq!(neither.previous_status, None);
        assert_eq!(neither.status, None);
    }

    #[test]
    fn a_stack_arn_target_yields_the_stack_name() {
        let event = parse_resource_event(
            "Git Sync Resource Sync Status Change",
            json!({"syncTarget": "arn:aws:cloudformation:eu-west-1:123456789012:stack/payments-api/2a8e1c40-5b1e-11ef-9f3a-0a1b2c3d4e5f"}),
        );
        assert_eq!(event.stack, "payments-api");
        let gov = stack_name(
            "arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/web/abc",
            "t",
        );
        assert_eq!(gov.as_deref(), Ok("web"));
    }

    #[test]
    fn invalid_targets_are_rejected_with_the_field_named() {
        for bad in [
            "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/x/y",
            "arn:aws:s3:::bucket",
            "arn:aws:cloudformation",
            "has space",
            "-leading-dash",
            &"x".repeat(101),
        ] {
            let err = stack_name(bad, "detail.syncTarget").unwrap_err();
            assert!(
                err.to_string().contains("detail.syncTarget"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn unknown_statuses_are_data() {
        let event = parse_resource_event(
            "Git Sync Resource Sync Status Change",
            json!({"syncTarget": "web", "status": "ROLLED_SIDEWAYS"}),
        );
        assert_eq!(
            event.status,
            Some(SyncStatus::Other("ROLLED_SIDEWAYS".into()))
        );
        assert_eq!(
            event.status.map(|s| s.to_string()).as_deref(),
            Some("ROLLED_SIDEWAYS")
        );
    }

    #[test]
    fn repository_events_parse_in_both_spellings() {
        for detail_type in REPOSITORY_SYNC_DETAIL_TYPES {
            let payload = json!({
                "source": "aws.codeconnections", "detail-type": detail_type,
                "detail": {
                    "connectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
                    "providerType": "GitLab", "repositoryName": "infra", "ownerId": "acme",
                    "repositoryLinkId": "6053346f-8a33-4edb-9397-10394b3b2d4b",
                    "branch": "main", "commit": "abc123", "syncType": "CFN_STACK_SYNC",
                    "status": "FAILED", "previousSync": "QUEUED"
                }
            });
            let Ok(Incoming::RepositorySync(event)) = Incoming::parse(&payload) else {
                panic!("{detail_type} did not parse");
            };
            assert_eq!(event.status, Some(SyncStatus::Failed));
            assert_eq!(event.previous_status, Some(SyncStatus::Queued));
            assert_eq!(
                event.repository_link_id.as_deref(),
                Some("6053346f-8a33-4edb-9397-10394b3b2d4b")
            );
            assert_eq!(event.revision.provider.as_deref(), Some("GitLab"));
        }
    }

    #[test]
    fn schedules_direct_requests_and_foreign_events_are_recognised() {
        let rule = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(Incoming::parse(&rule), Ok(Incoming::Schedule));
        let scheduler = json!({"detail-type": "Scheduled Event", "source": "gitsync-guard"});
        assert_eq!(Incoming::parse(&scheduler), Ok(Incoming::Schedule));
        for job in ["watch", "sweep", "audit"] {
            let input = json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": job}});
            assert_eq!(Incoming::parse(&input), Ok(Incoming::Schedule), "{job}");
        }
        let test = json!({"detail-type": "Scheduled Event", "source": "gitsync-guard.schedule", "detail": {"job": "test"}});
        assert_eq!(Incoming::parse(&test), Ok(Incoming::TestAlert));
        let typo = json!({"detail-type": "Scheduled Event", "detail": {"job": "tset"}});
        let error = Incoming::parse(&typo).expect_err("an unknown job is an error");
        assert_eq!(error, EventError::UnknownJob("tset".into()));
        assert!(error.to_string().contains("\"tset\""), "{error}");
        let number = json!({"detail-type": "Scheduled Event", "detail": {"job": 1}});
        assert!(matches!(
            Incoming::parse(&number),
            Err(EventError::NotAString {
                field: "detail.job",
                ..
            })
        ));
        assert_eq!(
            Incoming::parse(&json!({"stack": "web"})),
            Ok(Incoming::StackRequest {
                stack: "web".into()
            })
        );
        let foreign = json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}});
        assert_eq!(
            Incoming::parse(&foreign),
            Ok(Incoming::Unrelated {
                source: Some("aws.s3".into()),
                detail_type: Some("Object Created".into())
            })
        );
        let other_type = json!({"source": "aws.codeconnections", "detail-type": "Something New"});
        assert!(matches!(
            Incoming::parse(&other_type),
            Ok(Incoming::Unrelated { .. })
        ));
    }

    #[test]
    fn malformed_envelope_fields_no_handler_reads_are_dropped() {
        let mut payload = resource_event(
            "Git Sync Resource Sync Status Change",
            json!({"syncTarget": "web", "status": "FAILED"}),
        );
        for (key, junk) in [
            ("time", json!("yesterday")),
            ("id", json!(5)),
            ("version", json!(0)),
            ("resources", json!("arn:aws:x")),
        ] {
            payload[key] = junk;
        }
        let Ok(Incoming::ResourceSync(event)) = Incoming::parse(&payload) else {
            panic!("a malformed unread envelope field failed the event");
        };
        assert_eq!(event.stack, "web");
        assert_eq!(event.status, Some(SyncStatus::Failed));
        assert_eq!(event.region.as_deref(), Some("eu-west-1"));
        assert_eq!(event.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn fields_an_event_kind_does_not_read_are_not_checked() {
        let resource = parse_resource_event(
            "Git Sync Resource Sync Status Change",
            json!({
                "syncTarget": "web", "ownerId": 7, "repositoryArn": {}, "extra": [1],
                "previousSync": "FAILED", "previousStatus": false
            }),
        );
        assert_eq!(resource.previous_status, Some(SyncStatus::Failed));
        let repository = json!({
            "source": "aws.codeconnections",
            "detail-type": "GitSync Repository Sync Status Change",
            "detail": {"syncTarget": 3, "status": "QUEUED"}
        });
        let Ok(Incoming::RepositorySync(event)) = Incoming::parse(&repository) else {
            panic!("syncTarget is not read from a repository event");
        };
        assert_eq!(event.status, Some(SyncStatus::Queued));
        assert_eq!(event.region, None);
    }

    #[test]
    fn junk_is_an_error_that_says_what_is_wrong() {
        let cases = [
            (json!([1, 2]), "not a JSON object (got an array)"),
            (json!("text"), "not a JSON object (got a string)"),
            (json!(null), "not a JSON object (got null)"),
            (json!({}), "neither `source`/`detail-type`"),
            (
                json!({"stack": 7}),
                "field `stack` must be a string, got a number",
            ),
            (
                json!({"stack": "bad name"}),
                "not a CloudFormation stack name",
            ),
            (
                json!({"source": 1, "detail-type": "x"}),
                "field `source` must be a string",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "Git Sync Resource Sync Status Change"}),
                "has no `detail` object",
            ),
            (
                resource_event(
                    "Git Sync Resource Sync Status Change",
                    json!({"status": "FAILED"}),
                ),
                "names no stack",
            ),
            (
                resource_event(
                    "Git Sync Resource Sync Status Change",
                    json!({"syncTarget": ""}),
                ),
                "names no stack",
            ),
            (
                resource_event(
                    "Git Sync Resource Sync Status Change",
                    json!({"syncTarget": "web", "status": 3}),
                ),
                "field `detail.status` must be a string",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "GitSync Resource Sync Status Change", "detail": ["web"]}),
                "has no `detail` object",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "GitSync Resource Sync Status Change", "detail": null}),
                "has no `detail` object",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "GitSync Resource Sync Status Change",
                       "region": 5, "detail": {"syncTarget": "web"}}),
                "field `region` must be a string, got a number",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "GitSync Repository Sync Status Change",
                       "account": ["123456789012"], "detail": {}}),
                "field `account` must be a string, got an array",
            ),
            (
                json!({"source": "aws.codeconnections", "detail-type": "GitSync Repository Sync Status Change",
                       "detail": {"previousStatus": true}}),
                "field `detail.previousStatus` must be a string, got a boolean",
            ),
        ];
        for (payload, expected) in cases {
            let err = Incoming::parse(&payload).expect_err(&payload.to_string());
            assert!(
                err.to_string().contains(expected),
                "{payload}: {err} lacks {expected:?}"
            );
        }
    }
}
