//! The Organization hub's domain: every member's gitsync-guard events (EventBridge envelopes,
//! delivered through SQS) folded into one state per member, the Organization-wide daily report,
//! the silent-member alerts and the numbers for metrics. Pure: the adapter stores each
//! [`MemberState`] as one JSON item and passes the time in.
//!
//! Delivery is at least once and unordered, so every entry keeps the time of the fact that last
//! set it, closed entries stay as tombstones, and only a newer fact changes an entry.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use super::alert::{Account, Alert, AlertKind, Origin, Section, Severity};
use super::bus::{DetailType, SOURCE, VERSION};
use super::connections::ResourceKind;
use super::text::{rfc3339, shell_quote, time_and_age};

/// A fact this far ahead of the hub's clock is taken as of now: a member's clock is off.
pub const MAX_CLOCK_AHEAD: Duration = Duration::from_secs(5 * 60);
/// How long a closed entry is remembered; older facts are too late to be ordered and ignored.
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most lines per list of the report; the rest are counted ("... and N more").
pub const MAX_REPORT_ITEMS: usize = 50;
/// Longest blocker reason kept: a member's state must stay one DynamoDB item (400 KB).
const MAX_REASON_BYTES: usize = 500;
/// Silent members given a paste-ready command in the report; the rest are in its list.
const MAX_MEMBER_COMMANDS: usize = 10;
/// Stands for the hub's StackSet name in commands: the hub's stack knows it, the domain not.
pub const STACK_SET_PLACEHOLDER: &str = "STACK_SET_NAME";

/// One member: an account and region running gitsync-guard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Member {
    pub account: String,
    pub region: String,
}

impl Member {
    fn origin(&self) -> Origin {
        Origin {
            account: Some(Account {
                id: self.account.clone(),
                name: self.account.clone(),
            }),
            region: self.region.clone(),
        }
    }

    fn describe_instance_command(&self) -> String {
        format!(
            "aws cloudformation describe-stack-instance --stack-set-name {STACK_SET_PLACEHOLDER} \
             --stack-instance-account {} --stack-instance-region {}",
            shell_quote(&self.account),
            shell_quote(&self.region)
        )
    }
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.account, self.region)
    }
}

/// One event a member put, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct HubEvent {
    /// From the envelope, which EventBridge sets: a member cannot speak for another.
    pub member: Member,
    pub detail_type: DetailType,
    /// When the fact held: the snapshot's `sweptAt`, else the envelope's `time`.
    pub time: SystemTime,
    pub id: String,
    pub detail: Value,
    /// What the event says, as the state reads it.
    pub fact: Fact,
}

/// What one event says about a member's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Detected, reminded, or a resolver decision that left it ACTIVE.
    BlockerOpen {
        stack: String,
        blocker_id: String,
        reason: Option<String>,
        created_at: Option<SystemTime>,
    },
    /// blocker-resolver resolved it.
    BlockerClosed {
        stack: String,
        blocker_id: String,
    },
    /// No blocker of the stack is ACTIVE any more.
    StackRecovered {
        stack: String,
    },
    ResourceUnhealthy {
        arn: String,
        unhealthy: Unhealthy,
    },
    /// Recovered or deleted.
    ResourceClosed {
        arn: String,
    },
    Snapshot(Snapshot),
    /// A function's test event: says nothing about the state.
    Test,
}

/// A `GitSync Health Snapshot`: the member's whole state as of `sweptAt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub stacks_swept: u64,
    /// (stack, blocker id, createdAt)
    pub open_blockers: Vec<(String, String, Option<SystemTime>)>,
    pub open_blockers_omitted: u64,
    /// (ARN, what it is)
    pub unhealthy: Vec<(String, Unhealthy)>,
    pub unhealthy_omitted: u64,
    pub jobs: Vec<JobRun>,
}

/// Why an SQS message is not an event the hub can apply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HubInputError {
    #[error(
        "the message is not an EventBridge event (a JSON object): {0}; only the hub's bus should \
         feed its queue"
    )]
    NotJson(String),
    #[error(
        "event {id}: source {found:?} is not {SOURCE}; the rule feeding the hub's queue must \
         match source {SOURCE} only"
    )]
    ForeignSource { id: String, found: String },
    #[error(
        "event {id}: unknown detail-type {found:?}; a member runs a newer gitsync-guard than \
         the hub: update the hub first"
    )]
    UnknownDetailType { id: String, found: String },
    #[error(
        "event {id} ({detail_type}): unknown version {found:?} of its detail (the hub reads \
         version {VERSION}); update the hub"
    )]
    UnknownVersion {
        id: String,
        detail_type: &'static str,
        found: String,
    },
    #[error("event {id}: field {field} {problem}")]
    BadField {
        id: String,
        field: String,
        problem: String,
    },
    #[error("event {id}: field {field} is not an RFC 3339 time: {found:?}")]
    BadTime {
        id: String,
        field: String,
        found: String,
    },
    #[error(
        "event {id}: detail.{field} is {in_detail:?} but EventBridge delivered it from \
         {from_envelope:?}; the member's stack is misconfigured or the event was forged"
    )]
    MemberMismatch {
        id: String,
        field: &'static str,
        in_detail: String,
        from_envelope: String,
    },
}

impl HubInputError {
    /// A short label for a metric dimension.
    pub fn metric_reason(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "not-json",
            Self::ForeignSource { .. } => "foreign-source",
            Self::UnknownDetailType { .. } => "unknown-detail-type",
            Self::UnknownVersion { .. } => "unknown-version",
            Self::BadField { .. } => "bad-field",
            Self::BadTime { .. } => "bad-time",
            Self::MemberMismatch { .. } => "member-mismatch",
        }
    }
}

/// An RFC 3339 time, to the second (what members write): stored times then round-trip exactly.
fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text
        .strip_suffix("+00:00")
        .map_or_else(|| text.to_owned(), |t| format!("{t}Z"));
    humantime::parse_rfc3339(&text).ok().map(whole_seconds)
}

fn whole_seconds(at: SystemTime) -> SystemTime {
    match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => SystemTime::UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        Err(_) => at,
    }
}

/// Reads the fields of one JSON object, naming each by its path in errors.
struct Fields<'a> {
    id: &'a str,
    path: String,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn bad(&self, field: &str, problem: &str) -> HubInputError {
        HubInputError::BadField {
            id: self.id.to_owned(),
            field: format!("{}{field}", self.path),
            problem: problem.to_owned(),
        }
    }

    /// A present, non-empty string.
    fn text(&self, field: &str) -> Result<&'a str, HubInputError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Err(self.bad(field, "is missing")),
            Some(Value::String(text)) if !text.is_empty() => Ok(text),
            Some(Value::String(_)) => Err(self.bad(field, "is empty")),
            Some(_) => Err(self.bad(field, "is not a string")),
        }
    }

    /// A string, null or absent.
    fn optional_text(&self, field: &str) -> Result<Option<&'a str>, HubInputError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.bad(field, "is not a string")),
        }
    }

    fn time(&self, field: &str) -> Result<SystemTime, HubInputError> {
        let text = self.text(field)?;
        parse_time(text).ok_or_else(|| HubInputError::BadTime {
            id: self.id.to_owned(),
            field: format!("{}{field}", self.path),
            found: text.to_owned(),
        })
    }

    fn optional_time(&self, field: &str) -> Result<Option<SystemTime>, HubInputError> {
        match self.optional_text(field)? {
            None => Ok(None),
            Some(_) => self.time(field).map(Some),
        }
    }

    fn count(&self, field: &str) -> Result<u64, HubInputError> {
        match self.object.get(field) {
            None | Some(Value::Null) => Err(self.bad(field, "is missing")),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| self.bad(field, "is not a whole number >= 0")),
        }
    }

    /// Each object of an array, as fields named `field[n].`.
    fn objects(&self, field: &str) -> Result<Vec<Fields<'a>>, HubInputError> {
        let Some(Value::Array(items)) = self.object.get(field) else {
            return Err(self.bad(field, "is missing or not an array"));
        };
        items
            .iter()
            .enumerate()
            .map(|(n, item)| match item {
                Value::Object(object) => Ok(Fields {
                    id: self.id,
                    path: format!("{}{field}[{n}].", self.path),
                    object,
                }),
                _ => Err(self.bad(&format!("{field}[{n}]"), "is not an object")),
            })
            .collect()
    }

    /// One of `allowed`.
    /// `connection` or `host`.
    fn kind(&self, field: &str) -> Result<ResourceKind, HubInputError> {
        let kinds = [ResourceKind::Connection, ResourceKind::Host];
        let value = self.one_of(field, &kinds.map(ResourceKind::as_str))?;
        ResourceKind::parse(value).ok_or_else(|| self.bad(field, "is not a resource kind"))
    }

    fn one_of(&self, field: &str, allowed: &[&str]) -> Result<&'a str, HubInputError> {
        let value = self.text(field)?;
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(self.bad(
                field,
                &format!("is {value:?}, not one of {}", allowed.join(", ")),
            ))
        }
    }
}

/// Reads one SQS message body: an EventBridge event a member put. The member is the envelope's
/// account and region, which EventBridge sets and keeps when a rule forwards the event across
/// accounts; only an event the hub's own account put (`hub_account`) may speak for the member
/// its detail names, since that account administers the hub anyway.
pub fn parse_event(body: &str, hub_account: Option<&str>) -> Result<HubEvent, HubInputError> {
    let value: Value =
        serde_json::from_str(body).map_err(|error| HubInputError::NotJson(error.to_string()))?;
    let Value::Object(envelope) = &value else {
        return Err(HubInputError::NotJson(
            "the body is JSON but not an object".into(),
        ));
    };
    let id = match envelope.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.as_str(),
        _ => "(no id)",
    };
    let outer = Fields {
        id,
        path: String::new(),
        object: envelope,
    };
    let source = outer.optional_text("source")?.unwrap_or_default();
    if source != SOURCE {
        return Err(HubInputError::ForeignSource {
            id: id.to_owned(),
            found: source.to_owned(),
        });
    }
    let raw_type = outer.text("detail-type")?;
    let detail_type =
        DetailType::parse(raw_type).ok_or_else(|| HubInputError::UnknownDetailType {
            id: id.to_owned(),
            found: raw_type.to_owned(),
        })?;
    outer.text("id")?;
    let mut member = Member {
        account: outer.text("account")?.to_owned(),
        region: outer.text("region")?.to_owned(),
    };
    let sent_at = outer.time("time")?;
    let Some(Value::Object(detail)) = envelope.get("detail") else {
        return Err(outer.bad("detail", "is missing or not an object"));
    };
    let detail = Fields {
        id,
        path: "detail.".into(),
        object: detail,
    };
    if hub_account == Some(member.account.as_str())
        && let (Some(account), Some(region)) = (
            detail.optional_text("account")?,
            detail.optional_text("region")?,
        )
    {
        member = Member {
            account: account.to_owned(),
            region: region.to_owned(),
        };
    }
    check_detail(&detail, detail_type, &member)?;
    let (fact, time) = read_fact(&detail, detail_type, sent_at)?;
    Ok(HubEvent {
        member,
        detail_type,
        time,
        id: id.to_owned(),
        detail: envelope.get("detail").cloned().unwrap_or(Value::Null),
        fact,
    })
}

/// The version, and the member the detail names when it names one.
fn check_detail(
    detail: &Fields<'_>,
    detail_type: DetailType,
    member: &Member,
) -> Result<(), HubInputError> {
    let version = detail.optional_text("version")?.unwrap_or_default();
    if version != VERSION {
        return Err(HubInputError::UnknownVersion {
            id: detail.id.to_owned(),
            detail_type: detail_type.as_str(),
            found: version.to_owned(),
        });
    }
    for (field, from_envelope) in [("account", &member.account), ("region", &member.region)] {
        if let Some(in_detail) = detail.optional_text(field)?
            && in_detail != from_envelope
        {
            return Err(HubInputError::MemberMismatch {
                id: detail.id.to_owned(),
                field,
                in_detail: in_detail.to_owned(),
                from_envelope: from_envelope.clone(),
            });
        }
    }
    Ok(())
}

/// The fact and when it held.
fn read_fact(
    detail: &Fields<'_>,
    detail_type: DetailType,
    sent_at: SystemTime,
) -> Result<(Fact, SystemTime), HubInputError> {
    let fact = match detail_type {
        DetailType::BlockerDetected | DetailType::BlockerReminder => blocker_open(detail)?,
        DetailType::BlockerResolution => {
            let decision = detail.one_of(
                "decision",
                &["resolved", "would-resolve", "held-back", "failed"],
            )?;
            if decision == "resolved" {
                Fact::BlockerClosed {
                    stack: detail.text("stack")?.to_owned(),
                    blocker_id: detail.text("blockerId")?.to_owned(),
                }
            } else {
                blocker_open(detail)?
            }
        }
        DetailType::StackRecovered => Fact::StackRecovered {
            stack: detail.text("stack")?.to_owned(),
        },
        DetailType::ConnectionHealthChange => resource_fact(detail)?,
        DetailType::HealthSnapshot => {
            return Ok((snapshot(detail)?, detail.time("sweptAt")?));
        }
        DetailType::Test => Fact::Test,
    };
    Ok((fact, sent_at))
}

fn blocker_open(detail: &Fields<'_>) -> Result<Fact, HubInputError> {
    Ok(Fact::BlockerOpen {
        stack: detail.text("stack")?.to_owned(),
        blocker_id: detail.text("blockerId")?.to_owned(),
        reason: detail
            .optional_text("reason")?
            .map(|reason| super::text::truncate(reason, MAX_REASON_BYTES)),
        created_at: detail.optional_time("createdAt")?,
    })
}

fn resource_fact(detail: &Fields<'_>) -> Result<Fact, HubInputError> {
    let change = detail.one_of(
        "change",
        &["unhealthy", "changed", "reminder", "recovered", "deleted"],
    )?;
    let arn = detail.text("arn")?.to_owned();
    if matches!(change, "recovered" | "deleted") {
        return Ok(Fact::ResourceClosed { arn });
    }
    Ok(Fact::ResourceUnhealthy {
        arn,
        unhealthy: Unhealthy {
            resource_type: detail.kind("resourceType")?,
            name: detail
                .optional_text("name")?
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
            status: detail.text("status")?.to_owned(),
            since: detail.optional_time("since")?,
        },
    })
}

fn snapshot(detail: &Fields<'_>) -> Result<Fact, HubInputError> {
    let open_blockers = detail
        .objects("openBlockers")?
        .iter()
        .map(|item| {
            Ok((
                item.text("stack")?.to_owned(),
                item.text("blockerId")?.to_owned(),
                item.optional_time("createdAt")?,
            ))
        })
        .collect::<Result<_, HubInputError>>()?;
    let unhealthy = detail
        .objects("unhealthyResources")?
        .iter()
        .map(|item| {
            let unhealthy = Unhealthy {
                resource_type: item.kind("resourceType")?,
                name: None,
                status: item.text("status")?.to_owned(),
                since: item.optional_time("since")?,
            };
            Ok((item.text("arn")?.to_owned(), unhealthy))
        })
        .collect::<Result<_, HubInputError>>()?;
    let jobs = detail
        .objects("jobs")?
        .iter()
        .map(|item| {
            Ok(JobRun {
                job: item.text("job")?.to_owned(),
                function: item.optional_text("function")?.unwrap_or_default().into(),
                last_completed_at: item.optional_time("lastCompletedAt")?,
            })
        })
        .collect::<Result<_, HubInputError>>()?;
    Ok(Fact::Snapshot(Snapshot {
        stacks_swept: detail.count("stacksSwept")?,
        open_blockers,
        open_blockers_omitted: detail.count("openBlockersOmitted")?,
        unhealthy,
        unhealthy_omitted: detail.count("unhealthyResourcesOmitted")?,
        jobs,
    }))
}

/// Times stored as RFC 3339, to the second: readable in the table, and exact on a round trip.
mod stamp {
    use super::{SystemTime, parse_time, rfc3339};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&rfc3339(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_time(&text)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not an RFC 3339 time")))
    }

    pub mod optional {
        use super::{SystemTime, parse_time, rfc3339};
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(
            at: &Option<SystemTime>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => serializer.serialize_some(&rfc3339(*at)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<SystemTime>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                None => Ok(None),
                Some(text) => parse_time(&text)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("{text:?} is not an RFC 3339 time"))),
            }
        }
    }
}

/// A connection or host that is not AVAILABLE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unhealthy {
    pub resource_type: ResourceKind,
    /// Known from a Connection Health Change; snapshots carry ARNs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: String,
    #[serde(default, with = "stamp::optional")]
    pub since: Option<SystemTime>,
}

/// When one of the member's scheduled jobs last completed, as its last snapshot says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    pub job: String,
    pub function: String,
    #[serde(default, with = "stamp::optional")]
    pub last_completed_at: Option<SystemTime>,
}

/// An ACTIVE blocker, as the hub knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenBlocker {
    /// Empty when only a snapshot named it (snapshots carry no reasons).
    #[serde(default)]
    pub reason: String,
    #[serde(default, with = "stamp::optional")]
    pub created_at: Option<SystemTime>,
    /// When the hub first learnt of it.
    #[serde(with = "stamp")]
    pub first_seen: SystemTime,
}

impl OpenBlocker {
    /// Since when the stack has been blocked, as well as the hub knows.
    pub fn since(&self) -> SystemTime {
        self.created_at.unwrap_or(self.first_seen)
    }
}

/// One entry and the time of the fact that last set it; `None` is a tombstone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry<T> {
    #[serde(with = "stamp")]
    at: SystemTime,
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    open: Option<T>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StackEntry {
    /// When the stack was last seen with no ACTIVE blocker (Stack Recovered): older blocker
    /// facts about it are stale.
    #[serde(
        default,
        with = "stamp::optional",
        skip_serializing_if = "Option::is_none"
    )]
    cleared_at: Option<SystemTime>,
    #[serde(default)]
    blockers: BTreeMap<String, Entry<OpenBlocker>>,
}

/// What the silence alerts have said, so a cold start neither repeats nor forgets them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Silence {
    #[serde(
        default,
        with = "stamp::optional",
        skip_serializing_if = "Option::is_none"
    )]
    alerted_at: Option<SystemTime>,
    #[serde(
        default,
        with = "stamp::optional",
        skip_serializing_if = "Option::is_none"
    )]
    reminded_at: Option<SystemTime>,
    /// The last snapshot before the silence, for the recovery notice.
    #[serde(
        default,
        with = "stamp::optional",
        skip_serializing_if = "Option::is_none"
    )]
    last_snapshot_before: Option<SystemTime>,
}

/// Everything the hub knows of one member: one JSON item in the hub's table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberState {
    #[serde(default, with = "stamp::optional")]
    swept_at: Option<SystemTime>,
    #[serde(default)]
    stacks_swept: u64,
    #[serde(default)]
    jobs: Vec<JobRun>,
    /// Open blockers the last snapshot counted but did not list (it lists at most 1,000).
    #[serde(default)]
    open_blockers_omitted: u64,
    #[serde(default)]
    unhealthy_omitted: u64,
    #[serde(default)]
    stacks: BTreeMap<String, StackEntry>,
    /// By ARN.
    #[serde(default)]
    resources: BTreeMap<String, Entry<Unhealthy>>,
    #[serde(default)]
    silence: Silence,
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    /// Set when the fact's time was this far ahead of the hub's clock (more than
    /// [`MAX_CLOCK_AHEAD`]) and was taken as of now: the member's clock is off.
    pub clamped_by: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The state changed: store it.
    Changed,
    /// The same fact, at the same time, is already applied (a redelivery).
    Duplicate,
    /// A newer fact already decided (or the fact is older than [`TOMBSTONE_TTL`]).
    Stale,
    /// Says nothing about the state (a test event).
    Ignored,
}

/// `None` when a fact at `at` may change what a fact at `stored` set.
fn ordered(stored: Option<SystemTime>, at: SystemTime) -> Option<Outcome> {
    match stored {
        Some(stored) if stored == at => Some(Outcome::Duplicate),
        Some(stored) if stored > at => Some(Outcome::Stale),
        _ => None,
    }
}

/// The fact's time, clamped to `now` when a member's clock runs ahead.
fn clamp(at: SystemTime, now: SystemTime) -> (SystemTime, Option<Duration>) {
    match at.duration_since(now) {
        Ok(ahead) if ahead > MAX_CLOCK_AHEAD => (whole_seconds(now), Some(ahead)),
        _ => (at, None),
    }
}

impl MemberState {
    /// The time of the member's last health snapshot: the last sign it is alive.
    pub fn swept_at(&self) -> Option<SystemTime> {
        self.swept_at
    }

    /// The stacks its last snapshot swept.
    pub fn stacks_swept(&self) -> u64 {
        self.stacks_swept
    }

    /// Its scheduled jobs' last completed runs, as its last snapshot says.
    pub fn jobs(&self) -> &[JobRun] {
        &self.jobs
    }

    /// Every open blocker: (stack, blocker id, blocker).
    pub fn open_blockers(&self) -> impl Iterator<Item = (&str, &str, &OpenBlocker)> {
        self.stacks.iter().flat_map(|(stack, entry)| {
            entry.blockers.iter().filter_map(move |(id, blocker)| {
                blocker
                    .open
                    .as_ref()
                    .map(|open| (stack.as_str(), id.as_str(), open))
            })
        })
    }

    /// Every connection and host not AVAILABLE: (ARN, what it is).
    pub fn unhealthy(&self) -> impl Iterator<Item = (&str, &Unhealthy)> {
        self.resources
            .iter()
            .filter_map(|(arn, entry)| entry.open.as_ref().map(|open| (arn.as_str(), open)))
    }

    /// Applies one event of this member; never moves an entry back to an older fact.
    pub fn apply(&mut self, event: &HubEvent, now: SystemTime) -> Applied {
        let (at, clamped_by) = clamp(event.time, now);
        let horizon = now.checked_sub(TOMBSTONE_TTL);
        self.forget_tombstones(horizon);
        let outcome = if horizon.is_some_and(|horizon| at < horizon) {
            // Its tombstone may be gone: too late to tell whether it is news.
            Outcome::Stale
        } else {
            match &event.fact {
                Fact::BlockerOpen {
                    stack,
                    blocker_id,
                    reason,
                    created_at,
                } => self.open_blocker(stack, blocker_id, (reason.as_deref(), *created_at), at),
                Fact::BlockerClosed { stack, blocker_id } => {
                    self.close_blocker(stack, blocker_id, at)
                }
                Fact::StackRecovered { stack } => self.recover_stack(stack, at),
                Fact::ResourceUnhealthy { arn, unhealthy } => {
                    self.set_resource(arn, Some(unhealthy), at)
                }
                Fact::ResourceClosed { arn } => self.set_resource(arn, None, at),
                Fact::Snapshot(snapshot) => self.apply_snapshot(snapshot, at),
                Fact::Test => Outcome::Ignored,
            }
        };
        Applied {
            outcome,
            clamped_by,
        }
    }

    /// The newest fact about one blocker: its own, or its stack's recovery.
    fn blocker_known_at(&self, stack: &str, blocker_id: &str) -> Option<SystemTime> {
        let entry = self.stacks.get(stack)?;
        let own = entry.blockers.get(blocker_id).map(|blocker| blocker.at);
        own.max(entry.cleared_at)
    }

    fn open_blocker(
        &mut self,
        stack: &str,
        blocker_id: &str,
        (reason, created_at): (Option<&str>, Option<SystemTime>),
        at: SystemTime,
    ) -> Outcome {
        if let Some(outcome) = ordered(self.blocker_known_at(stack, blocker_id), at) {
            return outcome;
        }
        let blockers = &mut self.stacks.entry(stack.to_owned()).or_default().blockers;
        let known = blockers
            .get(blocker_id)
            .and_then(|entry| entry.open.clone());
        let open = OpenBlocker {
            reason: reason
                .filter(|reason| !reason.is_empty())
                .map(str::to_owned)
                .or_else(|| known.as_ref().map(|known| known.reason.clone()))
                .unwrap_or_default(),
            created_at: created_at.or(known.as_ref().and_then(|known| known.created_at)),
            first_seen: known.map_or(at, |known| known.first_seen),
        };
        blockers.insert(
            blocker_id.to_owned(),
            Entry {
                at,
                open: Some(open),
            },
        );
        Outcome::Changed
    }

    fn close_blocker(&mut self, stack: &str, blocker_id: &str, at: SystemTime) -> Outcome {
        if let Some(outcome) = ordered(self.blocker_known_at(stack, blocker_id), at) {
            return outcome;
        }
        let blockers = &mut self.stacks.entry(stack.to_owned()).or_default().blockers;
        blockers.insert(blocker_id.to_owned(), Entry { at, open: None });
        Outcome::Changed
    }

    fn recover_stack(&mut self, stack: &str, at: SystemTime) -> Outcome {
        let entry = self.stacks.entry(stack.to_owned()).or_default();
        if let Some(outcome) = ordered(entry.cleared_at, at) {
            return outcome;
        }
        entry.cleared_at = Some(at);
        // The stack's tombstone now speaks for its older blockers; newer facts stay.
        entry.blockers.retain(|_, blocker| blocker.at > at);
        Outcome::Changed
    }

    fn set_resource(
        &mut self,
        arn: &str,
        unhealthy: Option<&Unhealthy>,
        at: SystemTime,
    ) -> Outcome {
        let known = self.resources.get(arn);
        if let Some(outcome) = ordered(known.map(|entry| entry.at), at) {
            return outcome;
        }
        let open = unhealthy.map(|unhealthy| {
            let mut unhealthy = unhealthy.clone();
            // Snapshots carry no names: keep the one a change event gave.
            if unhealthy.name.is_none() {
                unhealthy.name = known
                    .and_then(|entry| entry.open.as_ref())
                    .and_then(|open| open.name.clone());
            }
            unhealthy
        });
        self.resources.insert(arn.to_owned(), Entry { at, open });
        Outcome::Changed
    }

    /// The member's whole state as of `at`: heals missed detections and recoveries, except
    /// where the snapshot's list was capped (an unlisted entry may still be open).
    fn apply_snapshot(&mut self, snapshot: &Snapshot, at: SystemTime) -> Outcome {
        if let Some(outcome) = ordered(self.swept_at, at) {
            return outcome;
        }
        self.swept_at = Some(at);
        self.stacks_swept = snapshot.stacks_swept;
        self.jobs.clone_from(&snapshot.jobs);
        self.open_blockers_omitted = snapshot.open_blockers_omitted;
        self.unhealthy_omitted = snapshot.unhealthy_omitted;
        for (stack, blocker_id, created_at) in &snapshot.open_blockers {
            self.open_blocker(stack, blocker_id, (None, *created_at), at);
        }
        if snapshot.open_blockers_omitted == 0 {
            let listed: BTreeSet<(&str, &str)> = snapshot
                .open_blockers
                .iter()
                .map(|(stack, id, _)| (stack.as_str(), id.as_str()))
                .collect();
            for (stack, entry) in &mut self.stacks {
                for (id, blocker) in &mut entry.blockers {
                    if blocker.at < at && !listed.contains(&(stack.as_str(), id.as_str())) {
                        *blocker = Entry { at, open: None };
                    }
                }
            }
        }
        for (arn, unhealthy) in &snapshot.unhealthy {
            self.set_resource(arn, Some(unhealthy), at);
        }
        if snapshot.unhealthy_omitted == 0 {
            let listed: BTreeSet<&str> = snapshot
                .unhealthy
                .iter()
                .map(|(arn, _)| arn.as_str())
                .collect();
            for (arn, entry) in &mut self.resources {
                if entry.at < at && !listed.contains(arn.as_str()) {
                    *entry = Entry { at, open: None };
                }
            }
        }
        Outcome::Changed
    }

    /// Drops tombstones older than `horizon`: the state stays bounded.
    fn forget_tombstones(&mut self, horizon: Option<SystemTime>) {
        let Some(horizon) = horizon else { return };
        for entry in self.stacks.values_mut() {
            entry
                .blockers
                .retain(|_, blocker| blocker.open.is_some() || blocker.at >= horizon);
            if entry.cleared_at.is_some_and(|cleared| cleared < horizon) {
                entry.cleared_at = None;
            }
        }
        self.stacks
            .retain(|_, entry| entry.cleared_at.is_some() || !entry.blockers.is_empty());
        self.resources
            .retain(|_, entry| entry.open.is_some() || entry.at >= horizon);
    }
}

/// Whether a member is alive: only snapshots say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Liveness {
    Reporting,
    /// Since its last snapshot, at that time.
    Silent(SystemTime),
    /// No snapshot since the hub started.
    Never,
}

fn liveness(state: &MemberState, now: SystemTime, silent_after: Duration) -> Liveness {
    match state.swept_at {
        None => Liveness::Never,
        Some(at) if now.duration_since(at).unwrap_or_default() > silent_after => {
            Liveness::Silent(at)
        }
        Some(_) => Liveness::Reporting,
    }
}

/// "3h 12m", at minute precision (seconds only under a minute).
fn span(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let rounded = if seconds >= 60 {
        seconds - seconds % 60
    } else {
        seconds
    };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

/// The Organization's numbers, for metrics (no per-stack dimension: too many).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrgFigures {
    pub blocked_stacks: u64,
    pub unhealthy_resources: u64,
    pub oldest_blocker_age_seconds: Option<u64>,
    pub silent_members: u64,
    pub reporting_members: u64,
}

pub fn figures(
    members: &[(Member, &MemberState)],
    now: SystemTime,
    silent_after: Duration,
) -> OrgFigures {
    let mut figures = OrgFigures::default();
    for (_, state) in members {
        let stacks: BTreeSet<&str> = state.open_blockers().map(|(stack, ..)| stack).collect();
        figures.blocked_stacks += stacks.len() as u64;
        figures.unhealthy_resources += state.unhealthy().count() as u64;
        match liveness(state, now, silent_after) {
            Liveness::Reporting => figures.reporting_members += 1,
            Liveness::Silent(_) => figures.silent_members += 1,
            Liveness::Never => {}
        }
    }
    figures.oldest_blocker_age_seconds = oldest_blocker(members)
        .map(|since| now.duration_since(since).unwrap_or_default().as_secs());
    figures
}

fn oldest_blocker(members: &[(Member, &MemberState)]) -> Option<SystemTime> {
    members
        .iter()
        .flat_map(|(_, state)| state.open_blockers().map(|(.., open)| open.since()))
        .min()
}

/// One open blocker of the Organization.
struct BlockerLine<'a> {
    member: &'a Member,
    stack: &'a str,
    id: &'a str,
    open: &'a OpenBlocker,
}

impl BlockerLine<'_> {
    fn line(&self, now: SystemTime) -> String {
        let reason = match self.open.reason.as_str() {
            "" => "reason not known yet (only a health snapshot named it)",
            reason => reason,
        };
        format!(
            "{} {}: blocked since {}, blocker {}: {reason}",
            self.member,
            self.stack,
            time_and_age(Some(self.open.since()), now),
            self.id,
        )
    }
}

fn unhealthy_line(member: &Member, arn: &str, unhealthy: &Unhealthy, now: SystemTime) -> String {
    let kind = unhealthy.resource_type.label();
    // Named as the auditor's digest names it: by name, then its ARN.
    let name = match &unhealthy.name {
        Some(name) => format!("{name} ({arn})"),
        None => arn.to_owned(),
    };
    format!(
        "{member} {kind} {name} is {} since {}",
        unhealthy.status,
        time_and_age(unhealthy.since, now)
    )
}

/// What is wrong with one member, for the members' list; `None` when nothing is.
fn member_trouble(state: &MemberState, live: Liveness, now: SystemTime) -> Option<String> {
    let stacks: BTreeSet<&str> = state.open_blockers().map(|(stack, ..)| stack).collect();
    let unhealthy = state.unhealthy().count();
    let mut parts = Vec::new();
    if let Liveness::Silent(at) = live {
        parts.push(format!(
            "SILENT, last snapshot {}",
            time_and_age(Some(at), now)
        ));
    }
    if !stacks.is_empty() {
        parts.push(format!("{} blocked stack(s)", stacks.len()));
    }
    if state.open_blockers_omitted > 0 {
        parts.push(format!(
            "{} more open blocker(s) its snapshot counted but did not list",
            state.open_blockers_omitted
        ));
    }
    if unhealthy > 0 || state.unhealthy_omitted > 0 {
        parts.push(format!(
            "{} unhealthy connection(s) or host(s)",
            unhealthy as u64 + state.unhealthy_omitted
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The members' list: those with something wrong first, the oldest blocker first among them.
fn member_lines(
    members: &[(Member, &MemberState)],
    now: SystemTime,
    silent_after: Duration,
) -> Vec<String> {
    let mut lines: Vec<(bool, Option<SystemTime>, &Member, String)> = members
        .iter()
        .filter_map(|(member, state)| {
            let live = liveness(state, now, silent_after);
            let trouble = member_trouble(state, live, now);
            let line = match (&trouble, live) {
                // Also listed as never reported; named here only for what its events said.
                (None, Liveness::Never) => return None,
                (Some(trouble), Liveness::Never) => {
                    format!("{member}: {trouble}, no health snapshot yet")
                }
                (Some(trouble), _) => format!("{member}: {trouble}"),
                (None, _) => format!(
                    "{member}: all clear, {} stack(s) swept, last snapshot {}",
                    state.stacks_swept,
                    time_and_age(state.swept_at, now)
                ),
            };
            let oldest = state.open_blockers().map(|(.., open)| open.since()).min();
            Some((trouble.is_none(), oldest, member, line))
        })
        .collect();
    // `None` sorts first: put members without a blocker after those with one.
    lines.sort_by_key(|(clear, oldest, member, _)| (*clear, oldest.is_none(), *oldest, *member));
    lines.into_iter().map(|(.., line)| line).collect()
}

/// Members that sent no snapshot yet, expected or heard from otherwise.
fn never_reported<'a>(
    members: &'a [(Member, &MemberState)],
    expected: &'a [Member],
) -> BTreeSet<&'a Member> {
    let known: BTreeSet<&Member> = members.iter().map(|(member, _)| member).collect();
    let no_snapshot = members
        .iter()
        .filter(|(_, state)| state.swept_at.is_none())
        .map(|(member, _)| member);
    expected
        .iter()
        .filter(|member| !known.contains(member))
        .chain(no_snapshot)
        .collect()
}

struct Counts {
    blocked_stacks: usize,
    blocked_accounts: usize,
    unhealthy: usize,
    silent: usize,
    never: usize,
}

fn report_title(counts: &Counts) -> (Severity, String) {
    let Counts {
        blocked_stacks,
        blocked_accounts,
        unhealthy,
        silent,
        never,
    } = *counts;
    if blocked_stacks + unhealthy + silent + never == 0 {
        return (
            Severity::Info,
            "Git sync across the Organization: all clear".into(),
        );
    }
    let mut title = format!(
        "Git sync across the Organization: {blocked_stacks} blocked stack(s) in \
         {blocked_accounts} account(s), {unhealthy} unhealthy connection(s) or host(s), \
         {silent} silent member(s)"
    );
    if never > 0 {
        title.push_str(&format!(", {never} never reported"));
    }
    (Severity::Warning, title)
}

/// Every open blocker, the oldest first.
fn all_blockers<'a>(members: &'a [(Member, &MemberState)]) -> Vec<BlockerLine<'a>> {
    let mut blockers: Vec<BlockerLine<'_>> = members
        .iter()
        .flat_map(|(member, state)| {
            state
                .open_blockers()
                .map(move |(stack, id, open)| BlockerLine {
                    member,
                    stack,
                    id,
                    open,
                })
        })
        .collect();
    blockers.sort_by_key(|b| (b.open.since(), b.member, b.stack, b.id));
    blockers
}

/// Every unhealthy connection and host, the longest unhealthy first.
fn all_unhealthy<'a>(
    members: &'a [(Member, &MemberState)],
) -> Vec<(&'a Member, &'a str, &'a Unhealthy)> {
    let mut unhealthy: Vec<(&Member, &str, &Unhealthy)> = members
        .iter()
        .flat_map(|(member, state)| state.unhealthy().map(move |(arn, u)| (member, arn, u)))
        .collect();
    unhealthy.sort_by_key(|(member, arn, u)| (u.since.is_none(), u.since, *member, *arn));
    unhealthy
}

/// The silent members and their last snapshots, the longest silent first.
fn all_silent<'a>(
    members: &'a [(Member, &MemberState)],
    now: SystemTime,
    silent_after: Duration,
) -> Vec<(SystemTime, &'a Member)> {
    let mut silent: Vec<(SystemTime, &Member)> = members
        .iter()
        .filter_map(|(member, state)| match liveness(state, now, silent_after) {
            Liveness::Silent(at) => Some((at, member)),
            _ => None,
        })
        .collect();
    silent.sort();
    silent
}

/// The Organization's daily report: every member's blockers, unhealthy connections and hosts,
/// the members that went silent and those never heard from. Lists are capped to stay within
/// SNS's limits; commands name the StackSet as [`STACK_SET_PLACEHOLDER`].
pub fn org_report(
    members: &[(Member, &MemberState)],
    expected: &[Member],
    now: SystemTime,
    silent_after: Duration,
) -> Alert {
    let blockers = all_blockers(members);
    let unhealthy = all_unhealthy(members);
    let silent = all_silent(members, now, silent_after);
    let never = never_reported(members, expected);
    let blocked: BTreeSet<(&Member, &str)> = blockers.iter().map(|b| (b.member, b.stack)).collect();
    let accounts: BTreeSet<&str> = blocked.iter().map(|(m, _)| m.account.as_str()).collect();
    let counts = Counts {
        blocked_stacks: blocked.len(),
        blocked_accounts: accounts.len(),
        unhealthy: unhealthy.len(),
        silent: silent.len(),
        never: never.len(),
    };
    let mut alert = report_facts(&counts, members, &blockers, (now, silent_after));
    let sections = [
        (
            "Members (account, region), those with something wrong first",
            member_lines(members, now, silent_after),
        ),
        (
            "Blocked stacks, oldest first",
            blockers.iter().map(|b| b.line(now)).collect(),
        ),
        (
            "Unhealthy connections and hosts, longest first",
            unhealthy
                .iter()
                .map(|(member, arn, u)| unhealthy_line(member, arn, u, now))
                .collect(),
        ),
        (
            "Silent members, longest silent first",
            silent
                .iter()
                .map(|(at, member)| {
                    format!(
                        "{member}: no health snapshot since {}",
                        time_and_age(Some(*at), now)
                    )
                })
                .collect(),
        ),
        (
            "Members with no health snapshot yet",
            never
                .iter()
                .map(|member| format!("{member}: no health snapshot since the hub started"))
                .collect(),
        ),
    ];
    for (title, items) in sections {
        if !items.is_empty() {
            alert
                .sections
                .push(Section::capped(title, items, MAX_REPORT_ITEMS));
        }
    }
    report_next_steps(&mut alert, &counts, &silent, &never);
    alert
}

fn report_facts(
    counts: &Counts,
    members: &[(Member, &MemberState)],
    blockers: &[BlockerLine<'_>],
    (now, silent_after): (SystemTime, Duration),
) -> Alert {
    let (severity, title) = report_title(counts);
    let reporting = members
        .iter()
        .filter(|(_, state)| liveness(state, now, silent_after) == Liveness::Reporting)
        .count();
    let oldest = blockers.first().map(|b| b.open.since());
    let mut alert = Alert::new(AlertKind::Report, severity, title)
        .fact("Members reporting", reporting.to_string())
        .fact("Members silent", counts.silent.to_string())
        .fact("Members never reported", counts.never.to_string())
        .fact("Blocked stacks", counts.blocked_stacks.to_string())
        .fact("Open blockers", blockers.len().to_string())
        .fact(
            "Unhealthy connections and hosts",
            counts.unhealthy.to_string(),
        )
        .fact_opt(
            "Oldest blocker since",
            oldest.map(|at| time_and_age(Some(at), now)),
        );
    alert.summary = if severity == Severity::Info {
        "Every member reports, every stack under Git sync deploys, and every connection and \
         host is AVAILABLE."
            .into()
    } else {
        "As the members last reported. A silent member's state may be out of date; each \
         member's own alerts carry the details of its blockers and connections."
            .into()
    };
    alert
}

fn report_next_steps(
    alert: &mut Alert,
    counts: &Counts,
    silent: &[(SystemTime, &Member)],
    never: &BTreeSet<&Member>,
) {
    if counts.blocked_stacks > 0 {
        alert.next_steps.push(
            "For each blocked stack, in its account and region: read the blocker's reason in the \
             stack's Git sync tab, fix the cause, then resolve it (aws codestar-connections \
             update-sync-blocker); until then Git sync deploys nothing new to it."
                .into(),
        );
    }
    if counts.unhealthy > 0 {
        alert.next_steps.push(
            "Complete or update each connection or host that is not AVAILABLE in its account's \
             console (Settings, Connections): PENDING needs the handshake, ERROR new \
             authorization."
                .into(),
        );
    }
    if !silent.is_empty() || !never.is_empty() {
        alert.next_steps.push(format!(
            "For each silent or never-reported member, in its account and region: check \
             gitsync-guard's stack (its functions' errors in CloudWatch Logs, its heartbeat \
             alarms) and that its rule forwards to the hub's bus; then the StackSet's instance \
             for it (commands below, for the hub's StackSet {STACK_SET_PLACEHOLDER}; up to \
             {MAX_MEMBER_COMMANDS} members)."
        ));
        let members = silent
            .iter()
            .map(|(_, member)| *member)
            .chain(never.iter().copied());
        alert.commands.extend(
            members
                .take(MAX_MEMBER_COMMANDS)
                .map(Member::describe_instance_command),
        );
    }
}

impl MemberState {
    /// Whether the member went silent (no snapshot for longer than `silent_after`): alerts once,
    /// reminds every `remind_after` while it stays silent, and says once when a snapshot comes
    /// again. A member that never sent a snapshot is left to the report.
    pub fn silence(
        &mut self,
        member: &Member,
        now: SystemTime,
        silent_after: Duration,
        remind_after: Duration,
    ) -> Option<Alert> {
        let last = self.swept_at?;
        if liveness(self, now, silent_after) == Liveness::Reporting {
            let alerted = self.silence.alerted_at?;
            let before = self.silence.last_snapshot_before.unwrap_or(alerted);
            self.silence = Silence::default();
            return Some(back_alert(member, before, last, now));
        }
        let told = match self.silence.alerted_at {
            None => {
                self.silence.alerted_at = Some(now);
                self.silence.last_snapshot_before = Some(last);
                return Some(silent_alert(member, last, now, false));
            }
            Some(alerted) => self.silence.reminded_at.unwrap_or(alerted),
        };
        if now.duration_since(told).unwrap_or_default() < remind_after {
            return None;
        }
        self.silence.reminded_at = Some(now);
        Some(silent_alert(member, last, now, true))
    }
}

fn silent_alert(member: &Member, last: SystemTime, now: SystemTime, reminder: bool) -> Alert {
    let quiet = span(now.duration_since(last).unwrap_or_default());
    let title = if reminder {
        format!("gitsync-guard member still silent: {member}, no health snapshot for {quiet}")
    } else {
        format!("gitsync-guard member silent: {member}, no health snapshot for {quiet}")
    };
    let mut alert = Alert::new(AlertKind::Member, Severity::Critical, title)
        .fact("Silent for", quiet)
        .fact("Last health snapshot", time_and_age(Some(last), now))
        .from_origin(&member.origin());
    alert.summary = format!(
        "The hub has heard no health snapshot from gitsync-guard in account {} region {}: its \
         blockers and connections go unwatched from here, and what the hub shows of it may be \
         out of date.",
        member.account, member.region
    );
    alert.next_steps = vec![
        "In that account and region, check gitsync-guard's stack: sync-watcher's errors in \
         CloudWatch Logs and its heartbeat alarms (a sweep that does not complete sends no \
         snapshot)."
            .into(),
        "Check that its EventBridge rule still forwards to the hub's bus (its dead letters go \
         to its queue)."
            .into(),
        format!(
            "Check the StackSet's instance for that account and region (the command below, with \
             {STACK_SET_PLACEHOLDER} the hub's StackSet): a failed or outdated instance, or a \
             removed account, explains the silence."
        ),
    ];
    alert.commands.push(member.describe_instance_command());
    alert
}

fn back_alert(member: &Member, before: SystemTime, last: SystemTime, now: SystemTime) -> Alert {
    let gap = span(last.duration_since(before).unwrap_or_default());
    let mut alert = Alert::new(
        AlertKind::Member,
        Severity::Info,
        format!("gitsync-guard member reporting again: {member}, after {gap} of silence"),
    )
    .fact(
        "Health snapshot before the silence",
        time_and_age(Some(before), now),
    )
    .fact("Health snapshot now", time_and_age(Some(last), now))
    .from_origin(&member.origin());
    alert.summary = "The hub receives this member's health snapshots again; its state is \
                     rebuilt from the latest one and the Organization report is current for it."
        .into();
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::{AlertFormat, SNS_MAX_BYTES, render};
    use crate::domain::bus::{BusEvent, blocker_event};
    use crate::domain::sync::{BlockerStatus, SyncBlocker};
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    const PROD: &str = "111111111111";
    const DEV: &str = "222222222222";
    const HOUR: u64 = 3600;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
    }

    fn member(account: &str, region: &str) -> Member {
        Member {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The SQS body: the EventBridge envelope around what the member's function rendered.
    fn envelope(member: &Member, event: &BusEvent, time: SystemTime) -> Value {
        let rendered = event.render(&member.origin(), "sync-watcher", "key#1");
        json!({
            "version": "0",
            "id": format!("id-{}-{}", rfc3339(time), rendered.detail_type),
            "detail-type": rendered.detail_type,
            "source": "gitsync-guard",
            "account": member.account,
            "time": rfc3339(time),
            "region": member.region,
            "resources": rendered.resources,
            "detail": rendered.detail_json(),
        })
    }

    #[test]
    fn only_the_hub_s_own_account_may_speak_for_the_member_its_detail_names() {
        let payments = member("111111111111", "us-west-2");
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut body = envelope(&payments, &detected("web", "b-1", at), at);
        // As put by the hub's own account: the detail's member counts.
        body["account"] = json!("333333333333");
        body["region"] = json!("eu-central-1");
        let event = parse_event(&body.to_string(), Some("333333333333")).expect("the hub's own");
        assert_eq!(event.member, payments);
        // The same from any other account of the Organization is refused.
        let error = parse_event(&body.to_string(), Some("999999999999")).expect_err("forged");
        assert_eq!(error.metric_reason(), "member-mismatch", "{error}");
        assert!(parse_event(&body.to_string(), None).is_err());
    }

    fn hub_event(member: &Member, event: &BusEvent, time: SystemTime) -> HubEvent {
        parse_event(&envelope(member, event, time).to_string(), None).expect("a valid event")
    }

    fn blocker(id: &str, created: SystemTime) -> SyncBlocker {
        SyncBlocker {
            id: id.into(),
            status: BlockerStatus::Active,
            created_reason: format!("Stack is in UPDATE_ROLLBACK_FAILED ({id})"),
            contexts: vec![],
            created_at: Some(created),
            resolved_at: None,
            resolved_reason: None,
        }
    }

    fn detected(stack: &str, id: &str, created: SystemTime) -> BusEvent {
        let fields = json!({"provider": "GitHub", "repository": "org/repo", "branch": "main",
            "commit": "abc", "syncStatus": "FAILED"});
        blocker_event(
            DetailType::BlockerDetected,
            stack,
            &blocker(id, created),
            fields,
        )
    }

    fn resolution(stack: &str, id: &str, decision: &str) -> BusEvent {
        let fields = json!({"decision": decision, "mode": "enforce", "rule": "retry"});
        blocker_event(
            DetailType::BlockerResolution,
            stack,
            &blocker(id, at(0)),
            fields,
        )
    }

    fn recovered(stack: &str) -> BusEvent {
        BusEvent::new(
            DetailType::StackRecovered,
            json!({"stack": stack, "blockerIds": ["b-1"], "syncStatus": null}),
        )
        .about_stack(stack)
    }

    fn connection(change: &str, arn: &str) -> BusEvent {
        BusEvent::new(
            DetailType::ConnectionHealthChange,
            json!({"change": change, "resourceType": "connection", "arn": arn,
                "name": "github-main", "provider": "GitHub", "status": "ERROR",
                "previousStatus": "AVAILABLE", "since": rfc3339(at(0)), "stalledStacks": [],
                "stalledStacksKnown": true}),
        )
    }

    fn snapshot(blockers: &[(&str, &str)], omitted: usize, unhealthy: &[&str]) -> BusEvent {
        let open: Vec<Value> = blockers
            .iter()
            .map(|(stack, id)| json!({"stack": stack, "blockerId": id, "createdAt": null}))
            .collect();
        let resources: Vec<Value> = unhealthy
            .iter()
            .map(|arn| {
                json!({"arn": arn, "resourceType": "host", "status": "PENDING",
                    "since": rfc3339(at(0))})
            })
            .collect();
        BusEvent::new(
            DetailType::HealthSnapshot,
            json!({"stacksSwept": 40, "blockedStacks": blockers.len(), "openBlockers": open,
                "openBlockersOmitted": omitted, "unhealthyResources": resources,
                "unhealthyResourcesOmitted": 0,
                "jobs": [{"job": "sweep", "function": "sync-watcher", "lastCompletedAt": null}]}),
        )
    }

    /// A snapshot put at `swept`: its `sweptAt` is the fact's time, not the envelope's.
    fn snapshot_at(
        member: &Member,
        swept: SystemTime,
        blockers: &[(&str, &str)],
        omitted: usize,
        unhealthy: &[&str],
    ) -> HubEvent {
        let mut body = envelope(member, &snapshot(blockers, omitted, unhealthy), swept);
        body["detail"]["sweptAt"] = rfc3339(swept).into();
        body["time"] = rfc3339(swept + Duration::from_secs(3)).into();
        parse_event(&body.to_string(), None).expect("a valid snapshot")
    }

    fn open(state: &MemberState) -> Vec<(String, String)> {
        state
            .open_blockers()
            .map(|(stack, id, _)| (stack.to_owned(), id.to_owned()))
            .collect()
    }

    fn pair(stack: &str, id: &str) -> (String, String) {
        (stack.to_owned(), id.to_owned())
    }

    const CHANGED: Applied = Applied {
        outcome: Outcome::Changed,
        clamped_by: None,
    };

    fn outcome(outcome: Outcome) -> Applied {
        Applied {
            outcome,
            clamped_by: None,
        }
    }

    #[test]
    fn two_members_blockers_open_and_close_each_in_its_own_state() {
        let (prod, dev) = (member(PROD, "eu-west-1"), member(DEV, "us-east-1"));
        let (mut prod_state, mut dev_state) = (MemberState::default(), MemberState::default());
        let now = at(10 * HOUR);
        for (time, event) in [
            (at(HOUR), detected("web", "b-1", at(HOUR - 60))),
            (at(HOUR + 1), detected("api", "b-2", at(HOUR))),
            (at(2 * HOUR), recovered("web")),
            (at(2 * HOUR + 1), connection("unhealthy", "arn:conn/c-1")),
        ] {
            let applied = prod_state.apply(&hub_event(&prod, &event, time), now);
            assert_eq!(applied, CHANGED);
        }
        let event = hub_event(&dev, &detected("web", "b-9", at(HOUR)), at(HOUR));
        assert_eq!(event.member, dev);
        assert_eq!(dev_state.apply(&event, now), CHANGED);
        assert_eq!(open(&prod_state), [pair("api", "b-2")]);
        assert_eq!(open(&dev_state), [pair("web", "b-9")]);
        let (arn, unhealthy) = prod_state.unhealthy().next().expect("one unhealthy");
        assert_eq!(
            (arn, unhealthy.name.as_deref()),
            ("arn:conn/c-1", Some("github-main"))
        );
        let closing = [
            (resolution("api", "b-2", "held-back"), Outcome::Duplicate),
            (resolution("api", "b-2", "resolved"), Outcome::Changed),
        ];
        for (n, (event, expected)) in closing.into_iter().enumerate() {
            // held-back at the detection's own time: nothing new.
            let time = at(HOUR + 1 + n as u64 * HOUR);
            assert_eq!(
                prod_state
                    .apply(&hub_event(&prod, &event, time), now)
                    .outcome,
                expected
            );
        }
        let back = hub_event(
            &prod,
            &connection("recovered", "arn:conn/c-1"),
            at(3 * HOUR),
        );
        assert_eq!(prod_state.apply(&back, now), CHANGED);
        assert!(open(&prod_state).is_empty());
        assert_eq!(prod_state.unhealthy().count(), 0);
    }

    #[test]
    fn late_and_repeated_events_change_nothing() {
        let prod = member(PROD, "eu-west-1");
        let mut state = MemberState::default();
        let now = at(10 * HOUR);
        let recovery = hub_event(&prod, &recovered("web"), at(2 * HOUR));
        let late_detection = hub_event(&prod, &detected("web", "b-1", at(HOUR)), at(HOUR));
        assert_eq!(state.apply(&recovery, now), CHANGED);
        assert_eq!(state.apply(&late_detection, now), outcome(Outcome::Stale));
        assert!(open(&state).is_empty(), "a late detection does not reopen");

        let detection = hub_event(&prod, &detected("web", "b-2", at(3 * HOUR)), at(3 * HOUR));
        assert_eq!(state.apply(&detection, now), CHANGED);
        let stored = state.clone();
        assert_eq!(state.apply(&detection, now), outcome(Outcome::Duplicate));
        assert_eq!(state.apply(&recovery, now), outcome(Outcome::Duplicate));
        assert_eq!(state, stored);
        let closed = hub_event(&prod, &connection("deleted", "arn:host/h"), at(5 * HOUR));
        let opened = hub_event(&prod, &connection("reminder", "arn:host/h"), at(4 * HOUR));
        assert_eq!(state.apply(&closed, now), CHANGED);
        assert_eq!(state.apply(&opened, now), outcome(Outcome::Stale));
        assert_eq!(state.unhealthy().count(), 0);
        let test = hub_event(&prod, &crate::domain::bus::test_event("x", now), now);
        assert_eq!(state.apply(&test, now), outcome(Outcome::Ignored));
    }

    #[test]
    fn the_state_round_trips_through_json() {
        let prod = member(PROD, "eu-west-1");
        let mut state = MemberState::default();
        let now = at(10 * HOUR);
        state.apply(
            &snapshot_at(&prod, at(HOUR), &[("web", "b-1")], 0, &["arn:host/h"]),
            now,
        );
        state.apply(&hub_event(&prod, &recovered("api"), at(2 * HOUR)), now);
        let stored = serde_json::to_string(&state).expect("serializable");
        let back: MemberState = serde_json::from_str(&stored).expect("readable");
        assert_eq!(back, state, "{stored}");
        assert!(
            stored.contains("\"sweptAt\":\"2027-01-15T09:00:00Z\""),
            "{stored}"
        );
    }

    #[test]
    fn a_snapshot_heals_missed_events_unless_its_list_was_capped() {
        let prod = member(PROD, "eu-west-1");
        let now = at(10 * HOUR);
        let mut state = MemberState::default();
        state.apply(
            &hub_event(&prod, &detected("web", "b-1", at(0)), at(HOUR)),
            now,
        );
        state.apply(
            &hub_event(&prod, &detected("db", "b-3", at(0)), at(3 * HOUR)),
            now,
        );
        let mut capped = state.clone();
        // The recovery of web and the detection of api were lost; db's is newer than the sweep.
        let heal = snapshot_at(&prod, at(2 * HOUR), &[("api", "b-2")], 0, &[]);
        assert_eq!(state.apply(&heal, now), CHANGED);
        assert_eq!(open(&state), [pair("api", "b-2"), pair("db", "b-3")]);
        assert_eq!(state.swept_at(), Some(at(2 * HOUR)));
        assert_eq!(state.jobs()[0].job, "sweep");

        let partial = snapshot_at(&prod, at(2 * HOUR), &[("api", "b-2")], 7, &[]);
        assert_eq!(capped.apply(&partial, now), CHANGED);
        assert_eq!(
            open(&capped),
            [pair("api", "b-2"), pair("db", "b-3"), pair("web", "b-1")],
            "a capped list closes nothing"
        );

        let stored = state.clone();
        let stale = snapshot_at(&prod, at(HOUR + 1), &[("web", "b-1")], 0, &["arn:host/h"]);
        assert_eq!(state.apply(&stale, now), outcome(Outcome::Stale));
        assert_eq!(state.apply(&heal, now), outcome(Outcome::Duplicate));
        assert_eq!(state, stored, "an older snapshot changes nothing");
    }

    #[test]
    fn a_member_clock_ahead_is_clamped_to_now() {
        let prod = member(PROD, "eu-west-1");
        let now = at(10 * HOUR);
        let mut state = MemberState::default();
        let ahead = hub_event(
            &prod,
            &detected("web", "b-1", at(0)),
            now + Duration::from_secs(3600),
        );
        let applied = state.apply(&ahead, now);
        assert_eq!(applied.outcome, Outcome::Changed);
        assert_eq!(applied.clamped_by, Some(Duration::from_secs(3600)));
        let (.., blocker) = state.open_blockers().next().expect("open");
        assert_eq!(blocker.first_seen, now);
        let slightly = hub_event(&prod, &recovered("web"), now + Duration::from_secs(60));
        assert_eq!(
            state.apply(&slightly, now),
            CHANGED,
            "within 5 minutes: as sent"
        );
        let ancient = hub_event(
            &prod,
            &detected("web", "b-0", at(0)),
            now - TOMBSTONE_TTL * 2,
        );
        assert_eq!(state.apply(&ancient, now).outcome, Outcome::Stale);
    }

    fn parse_error(body: Value) -> HubInputError {
        parse_event(&body.to_string(), None).expect_err("rejected")
    }

    /// `body` with the value at `pointer` replaced, rejected.
    fn error_with(body: &Value, pointer: &str, value: Value) -> HubInputError {
        let mut body = body.clone();
        if let Some(slot) = body.pointer_mut(pointer) {
            *slot = value;
        }
        parse_error(body)
    }

    #[test]
    fn each_bad_input_is_named() {
        let prod = member(PROD, "eu-west-1");
        let good = envelope(&prod, &detected("web", "b-1", at(0)), at(HOUR));
        let id = good["id"].as_str().unwrap_or_default().to_owned();
        let with = |pointer: &str, value: Value| error_with(&good, pointer, value);
        let cases = [
            (
                parse_event("{nope", None).expect_err("not JSON"),
                "not-json",
                "not an EventBridge event",
            ),
            (parse_error(json!([1])), "not-json", "not an object"),
            (
                with("/source", "aws.events".into()),
                "foreign-source",
                "\"aws.events\"",
            ),
            (
                with("/detail-type", "GitSync Party".into()),
                "unknown-detail-type",
                "GitSync Party",
            ),
            (
                with("/detail/version", "2".into()),
                "unknown-version",
                "unknown version \"2\"",
            ),
            (
                with("/detail/stack", Value::Null),
                "bad-field",
                "field detail.stack is missing",
            ),
            (
                with("/detail/blockerId", 7.into()),
                "bad-field",
                "detail.blockerId is not a string",
            ),
            (
                with("/time", "yesterday".into()),
                "bad-time",
                "field time is not an RFC 3339",
            ),
            (
                with("/detail/createdAt", "soon".into()),
                "bad-time",
                "detail.createdAt",
            ),
            (
                with("/detail/account", DEV.into()),
                "member-mismatch",
                "detail.account is \"222222222222\"",
            ),
            (
                with("/detail/region", "us-east-1".into()),
                "member-mismatch",
                "delivered it from \"eu-west-1\"",
            ),
        ];
        for (error, reason, text) in cases {
            let message = error.to_string();
            assert_eq!(error.metric_reason(), reason, "{message}");
            assert!(message.contains(text), "{message}");
            if reason != "not-json" {
                assert!(message.contains(&id), "names the event: {message}");
            }
        }
    }

    #[test]
    fn a_bad_snapshot_item_is_named_and_a_null_account_is_not_cross_checked() {
        let prod = member(PROD, "eu-west-1");
        let good = envelope(&prod, &detected("web", "b-1", at(0)), at(HOUR));
        let mut snapshot = envelope(&prod, &snapshot(&[("web", "b-1")], 0, &[]), at(HOUR));
        snapshot["detail"]["openBlockers"][0]["blockerId"] = Value::Null;
        assert!(
            parse_error(snapshot)
                .to_string()
                .contains("detail.openBlockers[0].blockerId is missing")
        );
        let mut null_account = good.clone();
        null_account["detail"]["account"] = Value::Null;
        assert!(
            parse_event(&null_account.to_string(), None).is_ok(),
            "null: not cross-checked"
        );
    }

    /// prod (eu-west-1): web blocked since hour 1, one host; dev (us-east-1): api blocked since
    /// hour 0; quiet (eu-west-1): all clear; gone: silent since hour 1.
    fn organization(now: SystemTime) -> Vec<(Member, MemberState)> {
        let members = [
            member(PROD, "eu-west-1"),
            member(DEV, "us-east-1"),
            member("333333333333", "eu-west-1"),
            member("444444444444", "ap-southeast-2"),
        ];
        let swept = [
            now - Duration::from_secs(600),
            now - Duration::from_secs(600),
        ];
        let mut states = vec![MemberState::default(); 4];
        let facts = [
            snapshot_at(&members[0], swept[0], &[], 0, &["arn:host/h-1"]),
            hub_event(&members[0], &detected("web", "b-1", at(HOUR)), at(HOUR)),
            snapshot_at(&members[1], swept[1], &[("api", "b-2")], 0, &[]),
            snapshot_at(&members[2], now - Duration::from_secs(60), &[], 0, &[]),
            snapshot_at(&members[3], at(HOUR), &[], 0, &[]),
        ];
        for fact in &facts {
            let n = members.iter().position(|m| *m == fact.member).unwrap_or(0);
            states[n].apply(fact, now);
        }
        members.into_iter().zip(states).collect()
    }

    fn borrowed(members: &[(Member, MemberState)]) -> Vec<(Member, &MemberState)> {
        members.iter().map(|(m, s)| (m.clone(), s)).collect()
    }

    const SILENT_AFTER: Duration = Duration::from_secs(2 * HOUR);

    #[test]
    fn the_report_puts_what_is_wrong_first_and_the_oldest_blocker_first() {
        let now = at(10 * HOUR);
        let members = organization(now);
        let never = [member("555555555555", "eu-central-1")];
        let report = org_report(&borrowed(&members), &never, now, SILENT_AFTER);
        assert_eq!(report.kind, AlertKind::Report);
        assert_eq!(report.severity, Severity::Warning);
        assert_eq!(
            report.title,
            "Git sync across the Organization: 2 blocked stack(s) in 2 account(s), 1 unhealthy \
             connection(s) or host(s), 1 silent member(s), 1 never reported"
        );
        let text = render(&report, AlertFormat::Text, "org-hub").message;
        println!("{text}");
        let members_list = &report.sections[0].items;
        // dev's blocker has no createdAt: since the hub first saw it, 10 minutes ago.
        assert!(members_list[0].starts_with("111111111111 eu-west-1: 1 blocked stack(s)"));
        assert!(members_list[1].starts_with("222222222222 us-east-1: 1 blocked stack(s)"));
        assert!(members_list[2].starts_with("444444444444 ap-southeast-2: SILENT"));
        assert!(members_list[3].starts_with("333333333333 eu-west-1: all clear"));
        let blocked = &report.sections[1].items;
        assert!(
            blocked[0].starts_with("111111111111 eu-west-1 web: blocked since"),
            "{text}"
        );
        assert!(
            blocked[1].contains("blocker b-2: reason not known yet"),
            "{text}"
        );
        assert!(
            report.sections[2].items[0]
                .starts_with("111111111111 eu-west-1 Host arn:host/h-1 is PENDING since")
        );
        assert!(
            report.sections[3].items[0]
                .starts_with("444444444444 ap-southeast-2: no health snapshot since")
        );
        assert_eq!(
            report.sections[4].items,
            ["555555555555 eu-central-1: no health snapshot since the hub started"]
        );
        assert!(text.contains("aws cloudformation describe-stack-instance --stack-set-name STACK_SET_NAME --stack-instance-account 555555555555 --stack-instance-region eu-central-1"), "{text}");
        let all_clear = org_report(&borrowed(&members[2..3]), &[], now, SILENT_AFTER);
        assert_eq!(
            all_clear.title,
            "Git sync across the Organization: all clear"
        );
        assert_eq!(all_clear.severity, Severity::Info);
        assert!(all_clear.next_steps.is_empty());
    }

    #[test]
    fn ten_thousand_blockers_fit_every_format_and_are_counted() {
        let now = at(100 * HOUR);
        let members: Vec<(Member, MemberState)> = (0..100)
            .map(|n| {
                let member = member(&format!("{:012}", 100 + n), "eu-west-1");
                let mut state = MemberState::default();
                for b in 0..100 {
                    let created = at(n * 100 + b);
                    let event = detected(&format!("stack-{b}"), &format!("b-{n}-{b}"), created);
                    state.apply(&hub_event(&member, &event, created), now);
                }
                (member, state)
            })
            .collect();
        let report = org_report(&borrowed(&members), &[], now, SILENT_AFTER);
        assert!(
            report
                .title
                .contains("10000 blocked stack(s) in 100 account(s)")
        );
        let section = |title: &str| {
            report
                .sections
                .iter()
                .find(|s| s.title.starts_with(title))
                .expect(title)
        };
        let blocked = section("Blocked stacks");
        assert_eq!((blocked.items.len(), blocked.omitted), (50, 9_950));
        let listed = section("Members (account, region)");
        assert!(listed.items[0].ends_with("100 blocked stack(s), no health snapshot yet"));
        assert_eq!(section("Members with no health snapshot yet").omitted, 50);
        assert!(blocked.items[0].contains("blocker b-0-0:"), "oldest first");
        for format in [AlertFormat::Text, AlertFormat::Chatbot, AlertFormat::Json] {
            let rendered = render(&report, format, "org-hub");
            assert!(rendered.sns_size() <= SNS_MAX_BYTES, "{format}");
            assert!(rendered.message.contains("9950 more") || format == AlertFormat::Json);
        }
        let figures = figures(&borrowed(&members), now, SILENT_AFTER);
        assert_eq!(figures.blocked_stacks, 10_000);
        assert_eq!(figures.oldest_blocker_age_seconds, Some(100 * HOUR));
        assert_eq!(figures.reporting_members, 0, "no snapshot: not reporting");
    }

    #[test]
    fn figures_count_the_organization() {
        let now = at(10 * HOUR);
        let members = organization(now);
        let figures = figures(&borrowed(&members), now, SILENT_AFTER);
        assert_eq!(
            figures,
            OrgFigures {
                blocked_stacks: 2,
                unhealthy_resources: 1,
                oldest_blocker_age_seconds: Some(9 * HOUR),
                silent_members: 1,
                reporting_members: 3,
            }
        );
    }

    #[test]
    fn a_silent_member_is_alerted_once_reminded_and_back_once() {
        let gone = member("444444444444", "ap-southeast-2");
        let remind = Duration::from_secs(24 * HOUR);
        let mut state = MemberState::default();
        assert!(
            state
                .silence(&gone, at(HOUR), SILENT_AFTER, remind)
                .is_none(),
            "never: no alert"
        );
        state.apply(&snapshot_at(&gone, at(0), &[], 0, &[]), at(0));
        assert!(
            state
                .silence(&gone, at(HOUR), SILENT_AFTER, remind)
                .is_none()
        );
        let alert = state
            .silence(&gone, at(3 * HOUR), SILENT_AFTER, remind)
            .expect("silent");
        assert_eq!(
            (alert.kind, alert.severity),
            (AlertKind::Member, Severity::Critical)
        );
        assert_eq!(
            alert.title,
            "gitsync-guard member silent: 444444444444 ap-southeast-2, no health snapshot for 3h"
        );
        let text = render(&alert, AlertFormat::Text, "org-hub").message;
        assert!(
            text.contains("Account:              444444444444, ap-southeast-2"),
            "{text}"
        );
        assert!(text.contains(
            "--stack-instance-account 444444444444 --stack-instance-region ap-southeast-2"
        ));
    }

    #[test]
    fn a_silent_member_is_reminded_across_cold_starts_and_back_once() {
        let gone = member("444444444444", "ap-southeast-2");
        let remind = Duration::from_secs(24 * HOUR);
        let mut state = MemberState::default();
        state.apply(&snapshot_at(&gone, at(0), &[], 0, &[]), at(0));
        assert!(
            state
                .silence(&gone, at(3 * HOUR), SILENT_AFTER, remind)
                .is_some()
        );
        // A cold start between two runs: the bookkeeping is in the stored item.
        let stored = serde_json::to_string(&state).unwrap_or_default();
        let mut state: MemberState = serde_json::from_str(&stored).unwrap_or_default();
        assert!(
            state
                .silence(&gone, at(4 * HOUR), SILENT_AFTER, remind)
                .is_none(),
            "once"
        );
        let reminder = state
            .silence(&gone, at(27 * HOUR), SILENT_AFTER, remind)
            .expect("reminded");
        assert!(
            reminder.title.contains("still silent"),
            "{}",
            reminder.title
        );
        assert!(
            state
                .silence(&gone, at(28 * HOUR), SILENT_AFTER, remind)
                .is_none()
        );
        state.apply(
            &snapshot_at(&gone, at(29 * HOUR), &[], 0, &[]),
            at(29 * HOUR),
        );
        let back = state
            .silence(&gone, at(29 * HOUR), SILENT_AFTER, remind)
            .expect("back");
        assert_eq!(
            (back.kind, back.severity),
            (AlertKind::Member, Severity::Info)
        );
        assert_eq!(
            back.title,
            "gitsync-guard member reporting again: 444444444444 ap-southeast-2, after 1day 5h of silence"
        );
        assert!(
            state
                .silence(&gone, at(30 * HOUR), SILENT_AFTER, remind)
                .is_none(),
            "back once"
        );
    }
}
