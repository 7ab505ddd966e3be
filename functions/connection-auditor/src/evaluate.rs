//! The audit's decisions, pure: from what this run lists and what the status records say,
//! which changes to announce and which records to write once they are announced.
//!
//! A record holds the last status seen of a resource that has been unhealthy. Healthy
//! resources without a record are not written at all (a healthy account costs no writes).
//! A recovered resource keeps an AVAILABLE record: it marks the end of the incident, so that
//! the next incident differs from the previous one in the digest's ledger key.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use gitsync::domain::connections::{Connection, HEALTHY_STATUS, Host, ResourceKind, resource_key};
use gitsync::ledger::StatusRecord;

/// The tag that silences a connection or host; its value must be `true`.
pub const MUTE_TAG: &str = "gitsync-guard:mute";
/// Shown, and remembered, when the API gave no status at all.
const MISSING_STATUS: &str = "UNKNOWN";

/// One connection or host as this run listed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation<'a> {
    pub kind: ResourceKind,
    pub arn: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub healthy: bool,
    pub provider: &'a str,
    /// A host's explanation of its status.
    pub status_message: Option<&'a str>,
}

impl<'a> Observation<'a> {
    pub fn connection(connection: &'a Connection) -> Self {
        Self {
            kind: ResourceKind::Connection,
            arn: &connection.arn,
            name: &connection.name,
            status: status_or_missing(connection.status.as_str()),
            healthy: connection.status.is_healthy(),
            provider: &connection.provider,
            status_message: None,
        }
    }

    pub fn host(host: &'a Host) -> Self {
        Self {
            kind: ResourceKind::Host,
            arn: &host.arn,
            name: &host.name,
            status: status_or_missing(&host.status),
            healthy: host.is_healthy(),
            provider: &host.provider,
            status_message: host.status_message.as_deref(),
        }
    }
}

fn status_or_missing(status: &str) -> &str {
    if status.is_empty() {
        MISSING_STATUS
    } else {
        status
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transition {
    /// Unhealthy now; healthy, or never seen, before.
    TurnedUnhealthy,
    /// From one unhealthy status to another.
    StatusChanged,
    /// Still unhealthy, and the last alert about it is older than the reminder interval.
    Reminder,
    /// AVAILABLE again after an alerted unhealthy status.
    Recovered,
    /// No longer listed, while it was alerted as unhealthy.
    Deleted,
}

impl Transition {
    /// Alerts about a resource that is unhealthy now: the ones a mute tag withholds.
    pub fn is_unhealthy(self) -> bool {
        matches!(
            self,
            Self::TurnedUnhealthy | Self::StatusChanged | Self::Reminder
        )
    }

    /// The change as events name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TurnedUnhealthy => "unhealthy",
            Self::StatusChanged => "changed",
            Self::Reminder => "reminder",
            Self::Recovered => "recovered",
            Self::Deleted => "deleted",
        }
    }
}

/// Something worth telling about one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    pub kind: ResourceKind,
    /// As listed; for a deleted resource, as recorded.
    pub arn: &'a str,
    /// For a deleted resource, as recorded (without a recorded name, the id in its ARN).
    pub name: &'a str,
    /// The status now; for a deleted resource, the last one seen.
    pub status: &'a str,
    pub transition: Transition,
    pub previous: Option<&'a StatusRecord>,
    /// As listed; unknown for a deleted resource.
    pub provider: Option<&'a str>,
    pub status_message: Option<&'a str>,
}

/// A write to the status records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordUpdate {
    Save(StatusRecord),
    Forget(String),
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl Change<'_> {
    /// What identifies this change across a retried or a concurrent run: the resource, the
    /// transition, the status now, and the record it starts from (unchanged until the run that
    /// announces it saves the new one). Times in whole seconds, as the table keeps them.
    pub fn fingerprint(&self) -> String {
        let previous = self.previous.map_or_else(
            || "none".to_owned(),
            |record| {
                format!(
                    "{}@{}@{}",
                    record.status,
                    seconds(record.since),
                    record.last_alerted_at.map_or(0, seconds)
                )
            },
        );
        format!(
            "{}|{}|{}|{}|{previous}",
            self.kind.as_str(),
            resource_key(self.arn),
            self.transition.as_str(),
            self.status
        )
    }

    /// When the resource entered its current unhealthy status, as far as the records know.
    pub fn unhealthy_since(&self, now: SystemTime) -> SystemTime {
        match (self.transition, self.previous) {
            (Transition::Reminder, Some(previous)) => previous.since,
            _ => now,
        }
    }

    /// The writes that record this change as announced at `now`.
    pub fn record_updates(&self, now: SystemTime) -> Vec<RecordUpdate> {
        let record = |status: &str, since: SystemTime, last_alerted_at: Option<SystemTime>| {
            RecordUpdate::Save(StatusRecord {
                arn: self.arn.to_owned(),
                kind: self.kind,
                name: Some(self.name.to_owned()),
                status: status.to_owned(),
                since,
                last_alerted_at,
            })
        };
        let mut updates = vec![match self.transition {
            Transition::TurnedUnhealthy | Transition::StatusChanged => {
                record(self.status, now, Some(now))
            }
            Transition::Reminder => record(self.status, self.unhealthy_since(now), Some(now)),
            Transition::Recovered => record(HEALTHY_STATUS, now, None),
            Transition::Deleted => RecordUpdate::Forget(self.arn.to_owned()),
        }];
        // The resource is listed under the other ARN prefix than its record: move the record.
        if let Some(previous) = self.previous
            && previous.arn != self.arn
        {
            updates.push(RecordUpdate::Forget(previous.arn.clone()));
        }
        updates
    }
}

pub struct Rules {
    pub now: SystemTime,
    pub remind_after: Duration,
    /// Every connection and host was listed (no provider filter): a record without a listed
    /// resource means the resource was deleted.
    pub complete_listing: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Assessment<'a> {
    /// Changes to announce; the unhealthy ones still subject to the mute tag.
    pub changes: Vec<Change<'a>>,
    /// Writes that need no announcement (records of resources gone without an alert).
    pub quiet_updates: Vec<RecordUpdate>,
}

/// Compares what this run listed with the records of earlier runs.
pub fn assess<'a>(
    observed: &[Observation<'a>],
    records: &'a [StatusRecord],
    rules: &Rules,
) -> Assessment<'a> {
    let by_resource: HashMap<String, &StatusRecord> = records
        .iter()
        .map(|record| (resource_key(&record.arn), record))
        .collect();
    let mut seen: HashSet<String> = HashSet::with_capacity(records.len());
    let mut assessment = Assessment::default();

    for observation in observed {
        let key = resource_key(observation.arn);
        let previous = by_resource.get(&key).copied();
        if previous.is_some() {
            seen.insert(key);
        }
        if let Some(transition) = transition(observation, previous, rules) {
            assessment.changes.push(Change {
                kind: observation.kind,
                arn: observation.arn,
                name: observation.name,
                status: observation.status,
                transition,
                previous,
                provider: Some(observation.provider),
                status_message: observation.status_message,
            });
        }
    }

    if rules.complete_listing {
        for record in records {
            if seen.contains(&resource_key(&record.arn)) {
                continue;
            }
            if !record.is_healthy() && record.last_alerted_at.is_some() {
                assessment.changes.push(Change {
                    kind: record.kind,
                    arn: &record.arn,
                    name: record.display_name(),
                    status: &record.status,
                    transition: Transition::Deleted,
                    previous: Some(record),
                    provider: None,
                    status_message: None,
                });
            } else {
                assessment
                    .quiet_updates
                    .push(RecordUpdate::Forget(record.arn.clone()));
            }
        }
    }
    assessment
}

fn transition(
    observation: &Observation<'_>,
    previous: Option<&StatusRecord>,
    rules: &Rules,
) -> Option<Transition> {
    let Some(previous) = previous else {
        return (!observation.healthy).then_some(Transition::TurnedUnhealthy);
    };
    let was_healthy = previous.is_healthy();
    if observation.healthy {
        // A record never alerted belongs to nobody's incident: nothing to announce.
        return (!was_healthy && previous.last_alerted_at.is_some())
            .then_some(Transition::Recovered);
    }
    if was_healthy {
        return Some(Transition::TurnedUnhealthy);
    }
    if previous.status != observation.status {
        return Some(Transition::StatusChanged);
    }
    let reminder_due = previous
        .last_alerted_at
        .is_none_or(|alerted| rules.now >= alerted + rules.remind_after);
    reminder_due.then_some(Transition::Reminder)
}

/// Whether a resource's tags mute it: `gitsync-guard:mute` = `true` (any case).
pub fn is_muted(tags: &[(String, String)]) -> bool {
    tags.iter()
        .any(|(key, value)| key == MUTE_TAG && value.trim().eq_ignore_ascii_case("true"))
}

/// Drops the unhealthy changes of muted resources: they are counted, never announced, and
/// their records are left as they are, so that unmuting a resource that is still unhealthy
/// alerts it on the next run. Returns the changes kept and how many were withheld.
pub fn withhold_muted<'a>(
    changes: Vec<Change<'a>>,
    muted_arns: &HashSet<&str>,
) -> (Vec<Change<'a>>, usize) {
    let before = changes.len();
    let kept: Vec<Change<'a>> = changes
        .into_iter()
        .filter(|change| !(change.transition.is_unhealthy() && muted_arns.contains(change.arn)))
        .collect();
    let withheld = before - kept.len();
    (kept, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::connections::is_healthy_status;

    const T0: u64 = 1_800_000_000;
    const HOUR: Duration = Duration::from_secs(3600);
    const OLD: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/c-1";
    const NEW: &str = "arn:aws:codeconnections:us-east-1:123456789012:connection/c-1";
    const HOST: &str = "arn:aws:codestar-connections:us-east-1:123456789012:host/h-1";

    fn at(offset: Duration) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0) + offset
    }

    fn rules(now: SystemTime) -> Rules {
        Rules {
            now,
            remind_after: 24 * HOUR,
            complete_listing: true,
        }
    }

    fn connection(arn: &'static str, status: &'static str) -> Observation<'static> {
        Observation {
            kind: ResourceKind::Connection,
            arn,
            name: "acme",
            status,
            healthy: is_healthy_status(status),
            provider: "GitHub",
            status_message: None,
        }
    }

    fn host(status: &str) -> Host {
        Host {
            arn: HOST.into(),
            name: "ghes".into(),
            provider: "GitHubEnterpriseServer".into(),
            endpoint: None,
            status: status.into(),
            status_message: None,
        }
    }

    fn record(
        arn: &str,
        status: &str,
        since: SystemTime,
        alerted: Option<SystemTime>,
    ) -> StatusRecord {
        let (kind, name) = if arn.contains(":host/") {
            (ResourceKind::Host, "ghes")
        } else {
            (ResourceKind::Connection, "acme")
        };
        StatusRecord {
            arn: arn.into(),
            kind,
            name: Some(name.into()),
            status: status.into(),
            since,
            last_alerted_at: alerted,
        }
    }

    fn transitions(assessment: &Assessment<'_>) -> Vec<(String, Transition)> {
        assessment
            .changes
            .iter()
            .map(|change| (change.status.to_owned(), change.transition))
            .collect()
    }

    #[test]
    fn a_healthy_account_without_records_changes_nothing() {
        let ghes = host("AVAILABLE");
        let observed = [connection(OLD, "AVAILABLE"), Observation::host(&ghes)];
        assert_eq!(
            assess(&observed, &[], &rules(at(HOUR))),
            Assessment::default()
        );
    }

    #[test]
    fn pending_error_and_unknown_statuses_turn_unhealthy() {
        for status in ["PENDING", "ERROR", "SOMETHING_NEW"] {
            let observed = [connection(OLD, status)];
            let assessment = assess(&observed, &[], &rules(at(HOUR)));
            assert_eq!(
                transitions(&assessment),
                [(status.to_owned(), Transition::TurnedUnhealthy)]
            );
        }
    }

    #[test]
    fn a_connection_without_status_is_unhealthy_and_named_unknown() {
        let listed = Connection {
            arn: OLD.into(),
            name: "acme".into(),
            provider: "GitHub".into(),
            status: gitsync::domain::connections::ConnectionStatus::parse(""),
            host_arn: None,
        };
        let observed = [Observation::connection(&listed)];
        let assessment = assess(&observed, &[], &rules(at(HOUR)));
        assert_eq!(
            transitions(&assessment),
            [("UNKNOWN".to_owned(), Transition::TurnedUnhealthy)]
        );
    }

    #[test]
    fn hosts_are_unhealthy_in_any_status_but_available_unknown_ones_included() {
        for status in [
            "PENDING",
            "VPC_CONFIG_INITIALIZING",
            "VPC_CONFIG_FAILED_INITIALIZATION",
            "VPC_CONFIG_DELETING",
            "RECONFIGURING_SOMEHOW",
        ] {
            let ghes = host(status);
            let observed = [Observation::host(&ghes)];
            let assessment = assess(&observed, &[], &rules(at(HOUR)));
            assert_eq!(
                transitions(&assessment),
                [(status.to_owned(), Transition::TurnedUnhealthy)],
                "{status}"
            );
            assert_eq!(assessment.changes[0].kind, ResourceKind::Host);
        }
        let available = host("AVAILABLE");
        let observed = [Observation::host(&available)];
        assert!(assess(&observed, &[], &rules(at(HOUR))).changes.is_empty());
    }

    #[test]
    fn the_same_unhealthy_status_is_quiet_until_a_reminder_is_due() {
        let records = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let observed = [connection(OLD, "ERROR")];
        let quiet = assess(&observed, &records, &rules(at(23 * HOUR)));
        assert!(quiet.changes.is_empty(), "{quiet:?}");
        let due = assess(&observed, &records, &rules(at(24 * HOUR)));
        assert_eq!(
            transitions(&due),
            [("ERROR".to_owned(), Transition::Reminder)]
        );
        let updates = due.changes[0].record_updates(at(24 * HOUR));
        assert_eq!(
            updates,
            [RecordUpdate::Save(record(
                OLD,
                "ERROR",
                at(Duration::ZERO),
                Some(at(24 * HOUR))
            ))],
            "a reminder keeps `since` and moves `last_alerted_at`"
        );
    }

    #[test]
    fn a_change_between_unhealthy_statuses_alerts_at_once() {
        let records = [record(
            OLD,
            "PENDING",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let observed = [connection(OLD, "ERROR")];
        let assessment = assess(&observed, &records, &rules(at(HOUR)));
        assert_eq!(
            transitions(&assessment),
            [("ERROR".to_owned(), Transition::StatusChanged)]
        );
        assert_eq!(
            assessment.changes[0].record_updates(at(HOUR)),
            [RecordUpdate::Save(record(
                OLD,
                "ERROR",
                at(HOUR),
                Some(at(HOUR))
            ))]
        );
    }

    #[test]
    fn recovery_is_announced_once_and_leaves_an_available_record() {
        let records = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let observed = [connection(OLD, "AVAILABLE")];
        let recovered = assess(&observed, &records, &rules(at(HOUR)));
        assert_eq!(
            transitions(&recovered),
            [("AVAILABLE".to_owned(), Transition::Recovered)]
        );
        let updates = recovered.changes[0].record_updates(at(HOUR));
        let [RecordUpdate::Save(saved)] = updates.as_slice() else {
            panic!("one record saved");
        };
        assert_eq!(saved, &record(OLD, "AVAILABLE", at(HOUR), None));
        let after = assess(&observed, std::slice::from_ref(saved), &rules(at(2 * HOUR)));
        assert!(after.changes.is_empty(), "no second recovery notice");
    }

    #[test]
    fn a_new_incident_after_a_recovery_has_a_new_fingerprint() {
        let first = assess(&[connection(OLD, "ERROR")], &[], &rules(at(Duration::ZERO)));
        let after_recovery = [record(OLD, "AVAILABLE", at(HOUR), None)];
        let second = assess(
            &[connection(OLD, "ERROR")],
            &after_recovery,
            &rules(at(48 * HOUR)),
        );
        assert_eq!(second.changes[0].transition, Transition::TurnedUnhealthy);
        assert_ne!(
            first.changes[0].fingerprint(),
            second.changes[0].fingerprint()
        );
    }

    #[test]
    fn fingerprints_are_stable_across_runs_until_the_record_changes() {
        let records = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let observed = [connection(OLD, "ERROR")];
        let run = |now| assess(&observed, &records, &rules(now)).changes[0].fingerprint();
        assert_eq!(run(at(25 * HOUR)), run(at(26 * HOUR)), "a retry matches");
        let reminded = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(25 * HOUR)),
        )];
        let next = assess(&observed, &reminded, &rules(at(49 * HOUR)));
        assert_ne!(next.changes[0].fingerprint(), run(at(25 * HOUR)));
    }

    #[test]
    fn a_record_under_the_other_arn_prefix_is_the_same_resource() {
        let records = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let still = assess(&[connection(NEW, "ERROR")], &records, &rules(at(HOUR)));
        assert_eq!(still, Assessment::default(), "neither new nor deleted");

        let changed = assess(&[connection(NEW, "PENDING")], &records, &rules(at(HOUR)));
        assert_eq!(changed.changes[0].transition, Transition::StatusChanged);
        assert_eq!(
            changed.changes[0].record_updates(at(HOUR)),
            [
                RecordUpdate::Save(record(NEW, "PENDING", at(HOUR), Some(at(HOUR)))),
                RecordUpdate::Forget(OLD.into()),
            ],
            "the record moves to the ARN as listed"
        );
    }

    #[test]
    fn a_deleted_resource_is_announced_if_alerted_and_forgotten_either_way() {
        let records = [
            record(OLD, "ERROR", at(Duration::ZERO), Some(at(Duration::ZERO))),
            record(HOST, "AVAILABLE", at(Duration::ZERO), None),
        ];
        let assessment = assess(&[], &records, &rules(at(HOUR)));
        assert_eq!(assessment.changes.len(), 1);
        let deleted = &assessment.changes[0];
        assert_eq!(
            (deleted.transition, deleted.name, deleted.status),
            (Transition::Deleted, "acme", "ERROR"),
            "named as it was last listed"
        );
        assert_eq!(
            deleted.record_updates(at(HOUR)),
            [RecordUpdate::Forget(OLD.into())]
        );
        let unnamed = [StatusRecord {
            name: None,
            ..records[0].clone()
        }];
        let without_name = assess(&[], &unnamed, &rules(at(HOUR)));
        assert_eq!(
            without_name.changes[0].name, "c-1",
            "a record from before names were kept: the id in its ARN"
        );
        assert_eq!(
            assessment.quiet_updates,
            [RecordUpdate::Forget(HOST.into())]
        );
    }

    #[test]
    fn a_filtered_listing_forgets_nothing() {
        let records = [record(
            OLD,
            "ERROR",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let filtered = Rules {
            complete_listing: false,
            ..rules(at(HOUR))
        };
        assert_eq!(assess(&[], &records, &filtered), Assessment::default());
    }

    #[test]
    fn muting_withholds_only_unhealthy_changes_of_muted_resources() {
        let records = [record(
            HOST,
            "PENDING",
            at(Duration::ZERO),
            Some(at(Duration::ZERO)),
        )];
        let other = "arn:aws:codestar-connections:us-east-1:123456789012:connection/c-2";
        let ghes = host("AVAILABLE");
        let observed = [
            connection(OLD, "ERROR"),
            connection(other, "PENDING"),
            Observation::host(&ghes),
        ];
        let assessment = assess(&observed, &records, &rules(at(HOUR)));
        assert_eq!(assessment.changes.len(), 3);
        let muted = HashSet::from([OLD, HOST]);
        let (kept, withheld) = withhold_muted(assessment.changes, &muted);
        assert_eq!(withheld, 1);
        let kept: Vec<(&str, Transition)> = kept.iter().map(|c| (c.arn, c.transition)).collect();
        assert_eq!(
            kept,
            [
                (other, Transition::TurnedUnhealthy),
                (HOST, Transition::Recovered)
            ],
            "a recovery of an alerted resource still goes out"
        );
    }

    #[test]
    fn only_a_true_mute_tag_mutes() {
        let tags = |key: &str, value: &str| vec![(key.to_owned(), value.to_owned())];
        assert!(is_muted(&tags(MUTE_TAG, "true")));
        assert!(is_muted(&tags(MUTE_TAG, " TRUE ")));
        assert!(!is_muted(&tags(MUTE_TAG, "false")));
        assert!(!is_muted(&tags(MUTE_TAG, "yes")));
        assert!(!is_muted(&tags("mute", "true")));
        assert!(!is_muted(&[]));
    }
}
