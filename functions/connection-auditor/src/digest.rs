//! What the auditor says: one digest per run with every change, pure. And the digest's
//! ledger key, derived from the changes alone so that a retried or a concurrent run that
//! finds the same changes finds the same key.

use std::fmt;
use std::time::{Duration, SystemTime};

use gitsync::domain::alert::{Alert, AlertKind, Link, Section, Severity};
use gitsync::domain::bus::{BusEvent, DetailType, time};
use gitsync::domain::connections::{ResourceKind, cli_service};
use gitsync::domain::text::{shell_quote, time_and_age};
use gitsync::ledger::LedgerKey;
use gitsync::ports::ApiError;
use serde_json::json;

use crate::evaluate::{Change, MUTE_TAG, Transition};
use gitsync::domain::topology::{Impact, LinkImpact};

/// Resources shown in full; the rest get one line each, so that a first run on a large
/// broken account still fits one SNS message.
pub const MAX_DETAILED_RESOURCES: usize = 50;
/// Lines of blast radius shown per resource; the rest are counted.
pub const MAX_LINES_PER_RESOURCE: usize = 40;
const MAX_FAILURES_SHOWN: usize = 50;
const MAX_COMMANDS: usize = 3;

/// A call that failed for one resource; the run went on without its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailure {
    /// What the call was about, e.g. `connection acme-github` or `every repository link`.
    pub subject: String,
    pub error: ApiError,
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.error)
    }
}

/// One change with what the reader needs to judge it.
#[derive(Debug, Clone)]
pub struct DigestItem<'a> {
    pub change: &'a Change<'a>,
    /// What it stalls; `None` for recoveries and deletions, which stall nothing any more.
    pub impact: Option<Impact<'a>>,
    /// Its tags could not be read: alerted although it may be muted.
    pub tags_unread: bool,
}

/// Counts over the whole audit, muted resources included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub connections: usize,
    pub unhealthy_connections: usize,
    pub hosts: usize,
    pub unhealthy_hosts: usize,
    pub stalled_stacks: usize,
    pub muted: usize,
}

pub struct Digest<'a> {
    pub items: Vec<DigestItem<'a>>,
    pub failures: &'a [AuditFailure],
    pub totals: Totals,
    pub region: &'a str,
    pub now: SystemTime,
    pub remind_after: Duration,
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::Warning => 1,
        Severity::Info => 0,
    }
}

/// Critical when stacks stop deploying (or may: part of the blast radius is unknown),
/// warning for an unhealthy resource nothing depends on, info for good news.
pub fn item_severity(item: &DigestItem<'_>) -> Severity {
    match &item.impact {
        None => Severity::Info,
        Some(impact) if impact.may_stall_stacks() => Severity::Critical,
        Some(_) => Severity::Warning,
    }
}

fn previous_status<'a>(change: &'a Change<'_>) -> &'a str {
    change
        .previous
        .map_or("unknown", |record| record.status.as_str())
}

/// What happened, in a few words: `ERROR, newly unhealthy`, `PENDING -> ERROR`, ...
fn headline(change: &Change<'_>) -> String {
    match change.transition {
        Transition::TurnedUnhealthy => format!("{}, newly unhealthy", change.status),
        Transition::StatusChanged => format!("{} -> {}", previous_status(change), change.status),
        Transition::Reminder => format!("still {} (reminder)", change.status),
        Transition::Recovered => format!("AVAILABLE again (was {})", previous_status(change)),
        Transition::Deleted => format!("deleted while {}", change.status),
    }
}

fn stacks_phrase(impact: Option<&Impact<'_>>) -> String {
    let Some(impact) = impact else {
        return "no stack stalled".to_owned();
    };
    let stacks = impact.stacks().len();
    let unknown = !impact.links_known || impact.links.iter().any(|link| link.stacks.is_none());
    match (stacks, unknown) {
        (0, true) => "stacks unknown".to_owned(),
        (0, false) => "no stack stalled".to_owned(),
        (1, _) => "1 stack stalled".to_owned(),
        (n, _) => format!("{n} stacks stalled"),
    }
}

fn single_title(item: &DigestItem<'_>) -> String {
    let change = item.change;
    let resource = format!("{} {}", change.kind.label(), change.name);
    match change.transition {
        Transition::TurnedUnhealthy => format!(
            "{resource} is {}: {}",
            change.status,
            stacks_phrase(item.impact.as_ref())
        ),
        Transition::StatusChanged => format!(
            "{resource} went {} -> {}: {}",
            previous_status(change),
            change.status,
            stacks_phrase(item.impact.as_ref())
        ),
        Transition::Reminder => format!(
            "Still {}: {}, {}",
            change.status,
            resource.to_lowercase(),
            stacks_phrase(item.impact.as_ref())
        ),
        Transition::Recovered => {
            format!("{resource} recovered (was {})", previous_status(change))
        }
        Transition::Deleted => format!("{resource} deleted while {}", change.status),
    }
}

fn summary_title(items: &[DigestItem<'_>], stalled: usize) -> String {
    let count = |transition: Transition| {
        items
            .iter()
            .filter(|item| item.change.transition == transition)
            .count()
    };
    let parts: Vec<String> = [
        (Transition::TurnedUnhealthy, "newly unhealthy"),
        (Transition::StatusChanged, "changed"),
        (Transition::Reminder, "still unhealthy"),
        (Transition::Recovered, "recovered"),
        (Transition::Deleted, "deleted"),
    ]
    .into_iter()
    .filter_map(|(transition, label)| {
        let n = count(transition);
        (n > 0).then(|| format!("{n} {label}"))
    })
    .collect();
    let mut title = format!("Connection audit: {}", parts.join(", "));
    if stalled > 0 {
        title.push_str(&format!("; {stalled} stacks stalled"));
    }
    title
}

fn link_line(link: &LinkImpact<'_>) -> String {
    let via = link
        .via
        .map(|connection| {
            format!(
                " through connection {} ({})",
                connection.name,
                connection.status.as_str()
            )
        })
        .unwrap_or_default();
    let stacks = match link.stacks {
        None => "stacks unknown (ListSyncConfigurations failed)".to_owned(),
        Some([]) => "no stack syncs from it".to_owned(),
        Some(stacks) => {
            let names: Vec<String> = stacks
                .iter()
                .map(|configuration| format!("{} ({})", configuration.stack, configuration.branch))
                .collect();
            format!("stacks {}", names.join(", "))
        }
    };
    format!(
        "Repository {}/{} (link {}){via}: {stacks}",
        link.link.owner, link.link.repository, link.link.id
    )
}

fn blast_radius_lines(impact: &Impact<'_>) -> Vec<String> {
    if !impact.links_known {
        return vec!["Repository links and stacks: unknown (ListRepositoryLinks failed)".into()];
    }
    let mut lines: Vec<String> = impact
        .connections
        .iter()
        .filter(|connection| {
            !impact
                .links
                .iter()
                .any(|link| link.via.is_some_and(|via| via.arn == connection.arn))
        })
        .map(|connection| {
            format!(
                "Connection {} ({}): no repository link uses it",
                connection.name,
                connection.status.as_str()
            )
        })
        .collect();
    lines.extend(impact.links.iter().map(link_line));
    if lines.is_empty() {
        lines.push("No repository link uses it: no stack is stalled".into());
    }
    lines
}

fn detailed_section(item: &DigestItem<'_>, now: SystemTime) -> Section {
    let change = item.change;
    let mut lines = vec![format!("ARN: {}", change.arn)];
    if let Some(provider) = change.provider.filter(|p| !p.is_empty()) {
        lines.push(format!("Provider: {provider}"));
    }
    if let Some(message) = change.status_message.filter(|m| !m.is_empty()) {
        lines.push(format!("Status message: {message}"));
    }
    match change.transition {
        Transition::TurnedUnhealthy | Transition::StatusChanged | Transition::Reminder => {
            lines.push(format!(
                "First seen {}: {}",
                change.status,
                time_and_age(Some(change.unhealthy_since(now)), now)
            ));
            if change.transition == Transition::Reminder {
                lines.push(format!(
                    "Last alerted: {}",
                    time_and_age(change.previous.and_then(|r| r.last_alerted_at), now)
                ));
            }
            if item.tags_unread {
                lines.push(format!(
                    "Its tags could not be read: alerted, although it may be muted ({MUTE_TAG}=true)"
                ));
            }
            if let Some(impact) = &item.impact {
                lines.extend(blast_radius_lines(impact));
            }
        }
        Transition::Recovered | Transition::Deleted => {
            if let Some(previous) = change.previous {
                lines.push(format!(
                    "Was {} since: {}",
                    previous.status,
                    time_and_age(Some(previous.since), now)
                ));
            }
        }
    }
    Section::capped(
        format!(
            "{} {}: {}",
            change.kind.label(),
            change.name,
            headline(change)
        ),
        lines,
        MAX_LINES_PER_RESOURCE,
    )
}

fn one_line(item: &DigestItem<'_>) -> String {
    let change = item.change;
    let mut line = format!(
        "{} {}: {}",
        change.kind.label(),
        change.name,
        headline(change)
    );
    if let Some(impact) = &item.impact {
        line.push_str(&format!(" ({})", stacks_phrase(Some(impact))));
    }
    line
}

fn next_steps(items: &[DigestItem<'_>], failures: &[AuditFailure]) -> Vec<String> {
    let unhealthy: Vec<&Change<'_>> = items
        .iter()
        .map(|item| item.change)
        .filter(|change| change.transition.is_unhealthy())
        .collect();
    let connection_in = |wanted: &[&str]| {
        unhealthy
            .iter()
            .any(|c| c.kind == ResourceKind::Connection && wanted.contains(&c.status))
    };
    let mut steps = Vec::new();
    if connection_in(&["ERROR"]) {
        steps.push(
            "ERROR: the provider app's authorization was revoked or its token expired. In the \
             console (Developer Tools > Settings > Connections) choose the connection, then \
             Update pending connection, and authorize it again."
                .to_owned(),
        );
    }
    if connection_in(&["PENDING"]) {
        steps.push(
            "PENDING: the connection was created from the CLI, an SDK or a template and its \
             handshake with the provider was never completed. In the console choose the \
             connection, then Update pending connection."
                .to_owned(),
        );
    }
    if unhealthy
        .iter()
        .any(|c| c.kind == ResourceKind::Connection && !["ERROR", "PENDING"].contains(&c.status))
    {
        steps.push(
            "A connection status other than PENDING or ERROR is new to this auditor: check the \
             connection in the console."
                .to_owned(),
        );
    }
    if unhealthy.iter().any(|c| c.kind == ResourceKind::Host) {
        steps.push(
            "Host not AVAILABLE: a PENDING host must be set up in the console (Set up host); \
             VPC_CONFIG_FAILED_INITIALIZATION means its VPC, subnets, security groups or TLS \
             certificate are wrong (fix them with update-host). Its connections cannot reach \
             the provider until it is AVAILABLE."
                .to_owned(),
        );
    }
    if !unhealthy.is_empty() {
        steps.push(format!(
            "A connection or host nobody uses any more: delete it, or tag it {MUTE_TAG}=true \
             to stop these alerts."
        ));
    }
    if !failures.is_empty() {
        steps.push(
            "The audit was incomplete (see the failed calls): the function reports an error, \
             and the next run tries again."
                .to_owned(),
        );
    }
    steps
}

fn commands(items: &[DigestItem<'_>], region: &str) -> Vec<String> {
    let unhealthy: Vec<&Change<'_>> = items
        .iter()
        .map(|item| item.change)
        .filter(|change| change.transition.is_unhealthy())
        .collect();
    let mut commands: Vec<String> = unhealthy
        .iter()
        .take(MAX_COMMANDS)
        .map(|change| {
            let service = cli_service(change.arn);
            match change.kind {
                ResourceKind::Connection => format!(
                    "aws {service} get-connection --region {} --connection-arn {}",
                    shell_quote(region),
                    shell_quote(change.arn)
                ),
                ResourceKind::Host => format!(
                    "aws {service} get-host --region {} --host-arn {}",
                    shell_quote(region),
                    shell_quote(change.arn)
                ),
            }
        })
        .collect();
    if let Some(first) = unhealthy.first() {
        commands.push(format!(
            "aws {} tag-resource --region {} --resource-arn {} \
             --tags Key={MUTE_TAG},Value=true",
            cli_service(first.arn),
            shell_quote(region),
            shell_quote(first.arn)
        ));
    }
    commands
}

fn hours(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    if minutes.is_multiple_of(60) {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}

/// The `Connection Health Change` event of one change: the resource, its status before and
/// now, and the stacks it stalls (none for a recovery or a deletion).
fn change_event(item: &DigestItem<'_>, now: SystemTime) -> BusEvent {
    let change = item.change;
    let stalled: Vec<&str> = item
        .impact
        .as_ref()
        .map(|impact| impact.stacks().into_iter().collect())
        .unwrap_or_default();
    let since = match change.transition {
        Transition::TurnedUnhealthy | Transition::Recovered | Transition::Deleted => now,
        Transition::StatusChanged | Transition::Reminder => {
            change.previous.map_or(now, |record| record.since)
        }
    };
    BusEvent::new(
        DetailType::ConnectionHealthChange,
        json!({
            "change": change.transition.as_str(),
            "resourceType": change.kind.as_str(),
            "arn": change.arn,
            "name": change.name,
            "provider": change.provider,
            "status": change.status,
            "previousStatus": change.previous.map(|record| record.status.as_str()),
            "since": time(Some(since)),
            "stalledStacks": stalled,
            "stalledStacksKnown": item.impact.as_ref().is_none_or(|impact| impact.links_known),
        }),
    )
    .about(change.arn)
    .distinct_by(change.arn)
}

/// Worst news first; within a severity, by transition, kind and name, so that the same
/// changes always read the same.
fn worst_first<'a>(items: &[DigestItem<'a>]) -> Vec<DigestItem<'a>> {
    let mut items: Vec<&DigestItem<'a>> = items.iter().collect();
    items.sort_by(|a, b| {
        severity_rank(item_severity(b))
            .cmp(&severity_rank(item_severity(a)))
            .then(a.change.transition.cmp(&b.change.transition))
            .then(a.change.kind.cmp(&b.change.kind))
            .then(a.change.name.cmp(b.change.name))
    });
    items.into_iter().cloned().collect()
}

fn summary(unhealthy: usize, stalled: usize) -> String {
    if unhealthy == 0 {
        "Every connection and host below is AVAILABLE again or gone: Git sync can read the \
         repositories behind them again."
            .to_owned()
    } else {
        format!(
            "{unhealthy} connection(s) or host(s) below are not AVAILABLE: Git sync cannot read the \
             repositories behind them, and {stalled} stack(s) deploy nothing new from Git until they are."
        )
    }
}

/// The first resources in full, one line each for the rest, then the calls that failed.
fn sections(sorted: &[DigestItem<'_>], digest: &Digest<'_>) -> Vec<Section> {
    let (detailed, brief) = sorted.split_at(sorted.len().min(MAX_DETAILED_RESOURCES));
    let mut sections: Vec<Section> = detailed
        .iter()
        .map(|item| detailed_section(item, digest.now))
        .collect();
    if !brief.is_empty() {
        sections.push(Section::capped(
            "More changes",
            brief.iter().map(one_line).collect(),
            usize::MAX,
        ));
    }
    if !digest.failures.is_empty() {
        sections.push(Section::capped(
            "Audit incomplete: these calls failed",
            digest.failures.iter().map(ToString::to_string).collect(),
            MAX_FAILURES_SHOWN,
        ));
    }
    sections
}

fn console_link(region: &str) -> Link {
    Link {
        title: "Connections console".into(),
        url: format!(
            "https://{region}.console.aws.amazon.com/codesuite/settings/connections?region={region}"
        ),
    }
}

/// The digest of one run: worst news first, everything that changed, what failed.
pub fn digest_alert(digest: &Digest<'_>) -> Alert {
    let sorted = worst_first(&digest.items);
    let severity = sorted
        .first()
        .map_or(Severity::Info, |worst| item_severity(worst));
    let kind = if sorted.iter().all(|i| i.change.kind == ResourceKind::Host) {
        AlertKind::Host
    } else {
        AlertKind::Connection
    };
    let unhealthy: Vec<&DigestItem<'_>> = sorted
        .iter()
        .filter(|item| item.change.transition.is_unhealthy())
        .collect();
    let stalled: std::collections::BTreeSet<&str> = unhealthy
        .iter()
        .filter_map(|item| item.impact.as_ref())
        .flat_map(Impact::stacks)
        .collect();
    let title = match sorted.as_slice() {
        [only] => single_title(only),
        _ => summary_title(&sorted, stalled.len()),
    };

    let mut alert = with_totals(Alert::new(kind, severity, title), digest);
    alert.summary = summary(unhealthy.len(), stalled.len());
    alert.sections = sections(&sorted, digest);
    alert.next_steps = next_steps(&sorted, digest.failures);
    alert.commands = commands(&sorted, digest.region);
    alert.links = vec![console_link(digest.region)];
    alert.events = sorted
        .iter()
        .map(|item| change_event(item, digest.now))
        .collect();
    alert
}

/// FNV-1a, 128 bits: a hash that, unlike std's `DefaultHasher`, is specified, so that a
/// key computed by one build of the function matches the key of the next.
fn fnv1a_128(text: &str) -> u128 {
    const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    text.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    })
}

/// The run's figures, first among the facts.
fn with_totals(alert: Alert, digest: &Digest<'_>) -> Alert {
    let totals = digest.totals;
    let audit = if digest.failures.is_empty() {
        "complete".to_owned()
    } else {
        format!(
            "INCOMPLETE: {} call(s) failed (listed below)",
            digest.failures.len()
        )
    };
    let unhealthy_of =
        |audited: usize, unhealthy: usize| format!("{audited} audited, {unhealthy} unhealthy");
    let muted = (totals.muted > 0).then(|| {
        format!(
            "{} unhealthy resource(s) not alerted ({MUTE_TAG}=true)",
            totals.muted
        )
    });
    // The region (and account) is the outbox's first fact on every message.
    alert
        .fact(
            "Connections",
            unhealthy_of(totals.connections, totals.unhealthy_connections),
        )
        .fact("Hosts", unhealthy_of(totals.hosts, totals.unhealthy_hosts))
        .fact(
            "Stacks stalled",
            format!(
                "{} (behind every unhealthy connection and host)",
                totals.stalled_stacks
            ),
        )
        .fact_opt("Muted", muted)
        .fact(
            "Reminders",
            format!("every {} while unhealthy", hours(digest.remind_after)),
        )
        .fact("Audit", audit)
}

/// The digest's ledger key: the same set of changes, from the same records, gives the same
/// key in whatever order they were found.
pub fn digest_key(changes: &[Change<'_>]) -> LedgerKey {
    let mut fingerprints: Vec<String> = changes.iter().map(Change::fingerprint).collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    LedgerKey::audit_digest(fingerprints.len(), fnv1a_128(&fingerprints.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::alert::{AlertFormat, SNS_MAX_BYTES, render};
    use gitsync::domain::connections::{Connection, ConnectionStatus};
    use gitsync::domain::sync::{RepositoryLink, SyncConfiguration};
    use gitsync::ledger::StatusRecord;
    use gitsync::ports::ApiErrorKind;

    const T0: u64 = 1_800_000_000;
    const HOUR: Duration = Duration::from_secs(3600);
    const ARN: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/c-1";

    fn at(offset: Duration) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0) + offset
    }

    fn record(status: &str, alerted: bool) -> StatusRecord {
        StatusRecord {
            arn: ARN.into(),
            kind: ResourceKind::Connection,
            name: None,
            status: status.into(),
            since: at(Duration::ZERO),
            last_alerted_at: alerted.then(|| at(Duration::ZERO)),
        }
    }

    fn change<'a>(
        name: &'a str,
        status: &'a str,
        transition: Transition,
        previous: Option<&'a StatusRecord>,
    ) -> Change<'a> {
        Change {
            kind: ResourceKind::Connection,
            arn: ARN,
            name,
            status,
            transition,
            previous,
            provider: Some("Bitbucket"),
            status_message: None,
        }
    }

    fn link() -> RepositoryLink {
        RepositoryLink {
            id: "l-1".into(),
            arn: "arn:aws:codeconnections:us-east-1:123456789012:repository-link/l-1".into(),
            connection_arn: ARN.into(),
            provider: "Bitbucket".into(),
            owner: "acme".into(),
            repository: "legacy-batch".into(),
        }
    }

    fn stacks(names: &[&str]) -> Vec<SyncConfiguration> {
        names
            .iter()
            .map(|name| SyncConfiguration {
                stack: (*name).into(),
                repository_link_id: "l-1".into(),
                branch: "master".into(),
                config_file: None,
                owner: "acme".into(),
                repository: "legacy-batch".into(),
                provider: "Bitbucket".into(),
            })
            .collect()
    }

    fn impact<'a>(link: &'a RepositoryLink, stacks: Option<&'a [SyncConfiguration]>) -> Impact<'a> {
        Impact {
            links_known: true,
            connections: Vec::new(),
            links: vec![LinkImpact {
                link,
                via: None,
                stacks,
            }],
        }
    }

    fn no_impact() -> Impact<'static> {
        Impact {
            links_known: true,
            connections: Vec::new(),
            links: Vec::new(),
        }
    }

    fn digest<'a>(items: Vec<DigestItem<'a>>, failures: &'a [AuditFailure]) -> Digest<'a> {
        Digest {
            items,
            failures,
            totals: Totals {
                connections: 5,
                unhealthy_connections: 2,
                hosts: 1,
                unhealthy_hosts: 0,
                stalled_stacks: 2,
                muted: 1,
            },
            region: "us-east-1",
            now: at(2 * HOUR),
            remind_after: 24 * HOUR,
        }
    }

    fn text(alert: &Alert) -> String {
        render(alert, AlertFormat::Text, "connection-auditor").message
    }

    #[test]
    fn each_command_uses_the_cli_service_of_its_resources_arn() {
        const RENAMED: &str = "arn:aws:codeconnections:us-east-1:123456789012:host/h-1";
        let old = change("acme-bitbucket", "ERROR", Transition::TurnedUnhealthy, None);
        let renamed = Change {
            kind: ResourceKind::Host,
            arn: RENAMED,
            ..change("ghes", "PENDING", Transition::TurnedUnhealthy, None)
        };
        let items = [&renamed, &old].map(|change| DigestItem {
            change,
            impact: None,
            tags_unread: false,
        });
        assert_eq!(
            commands(&items, "us-east-1"),
            [
                format!("aws codeconnections get-host --region us-east-1 --host-arn {RENAMED}"),
                format!(
                    "aws codestar-connections get-connection --region us-east-1 --connection-arn {ARN}"
                ),
                format!(
                    "aws codeconnections tag-resource --region us-east-1 --resource-arn {RENAMED} \
                     --tags Key=gitsync-guard:mute,Value=true"
                ),
            ]
        );
    }

    #[test]
    fn a_newly_broken_connection_names_its_links_and_stacks() {
        let change = change("acme-bitbucket", "ERROR", Transition::TurnedUnhealthy, None);
        let (link, stacks) = (link(), stacks(&["legacy-batch-jobs"]));
        let item = DigestItem {
            change: &change,
            impact: Some(impact(&link, Some(&stacks))),
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &[]));
        assert_eq!(alert.kind, AlertKind::Connection);
        assert_eq!(alert.severity, Severity::Critical);
        assert_eq!(
            alert.title,
            "Connection acme-bitbucket is ERROR: 1 stack stalled"
        );
        let text = text(&alert);
        for expected in [
            "Connections:    5 audited, 2 unhealthy",
            "Muted:          1 unhealthy resource(s) not alerted (gitsync-guard:mute=true)",
            "Reminders:      every 24h while unhealthy",
            "Audit:          complete",
            "Connection acme-bitbucket: ERROR, newly unhealthy:",
            "  - Provider: Bitbucket",
            "  - First seen ERROR: 2027-01-15T10:00:00Z (0s ago)",
            "  - Repository acme/legacy-batch (link l-1): stacks legacy-batch-jobs (master)",
            "ERROR: the provider app's authorization was revoked",
            "aws codestar-connections get-connection --region us-east-1 --connection-arn arn:aws:codestar-connections:us-east-1:123456789012:connection/c-1",
            "--tags Key=gitsync-guard:mute,Value=true",
            "https://us-east-1.console.aws.amazon.com/codesuite/settings/connections?region=us-east-1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn an_unhealthy_resource_nothing_depends_on_is_a_warning() {
        let change = change("spare", "PENDING", Transition::TurnedUnhealthy, None);
        let item = DigestItem {
            change: &change,
            impact: Some(no_impact()),
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &[]));
        assert_eq!(alert.severity, Severity::Warning);
        assert_eq!(alert.title, "Connection spare is PENDING: no stack stalled");
        assert!(text(&alert).contains("No repository link uses it: no stack is stalled"));
        assert!(text(&alert).contains("PENDING: the connection was created from the CLI"));
    }

    #[test]
    fn severity_and_order_follow_the_worst_item() {
        let (ok_record, error_record) = (record("ERROR", true), record("PENDING", true));
        let recovered = change(
            "acme-github",
            "AVAILABLE",
            Transition::Recovered,
            Some(&ok_record),
        );
        let changed = change(
            "data-team",
            "ERROR",
            Transition::StatusChanged,
            Some(&error_record),
        );
        let (link, stacks) = (link(), stacks(&["a", "b"]));
        let items = vec![
            DigestItem {
                change: &recovered,
                impact: None,
                tags_unread: false,
            },
            DigestItem {
                change: &changed,
                impact: Some(impact(&link, Some(&stacks))),
                tags_unread: true,
            },
        ];
        let alert = digest_alert(&digest(items, &[]));
        assert_eq!(alert.severity, Severity::Critical);
        assert_eq!(
            alert.title,
            "Connection audit: 1 changed, 1 recovered; 2 stacks stalled"
        );
        assert_eq!(
            alert.sections[0].title,
            "Connection data-team: PENDING -> ERROR"
        );
        assert_eq!(
            alert.sections[1].title,
            "Connection acme-github: AVAILABLE again (was ERROR)"
        );
        let text = text(&alert);
        assert!(text.contains("Its tags could not be read: alerted, although it may be muted"));
        assert!(
            text.contains("  - Was ERROR since: 2027-01-15T08:00:00Z (2h ago)"),
            "{text}"
        );
    }

    #[test]
    fn recoveries_alone_are_good_news() {
        let previous = record("ERROR", true);
        let recovered = change(
            "acme-github",
            "AVAILABLE",
            Transition::Recovered,
            Some(&previous),
        );
        let item = DigestItem {
            change: &recovered,
            impact: None,
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &[]));
        assert_eq!(alert.severity, Severity::Info);
        assert_eq!(alert.title, "Connection acme-github recovered (was ERROR)");
        assert!(alert.commands.is_empty());
        assert!(alert.summary.contains("AVAILABLE again"));
    }

    #[test]
    fn a_reminder_says_since_when_and_when_it_was_last_alerted() {
        let previous = record("ERROR", true);
        let reminder = change(
            "acme-bitbucket",
            "ERROR",
            Transition::Reminder,
            Some(&previous),
        );
        let (link, stacks) = (link(), stacks(&["legacy-batch-jobs"]));
        let item = DigestItem {
            change: &reminder,
            impact: Some(impact(&link, Some(&stacks))),
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &[]));
        assert_eq!(
            alert.title,
            "Still ERROR: connection acme-bitbucket, 1 stack stalled"
        );
        let text = text(&alert);
        assert!(
            text.contains("  - First seen ERROR: 2027-01-15T08:00:00Z (2h ago)"),
            "{text}"
        );
        assert!(
            text.contains("  - Last alerted: 2027-01-15T08:00:00Z (2h ago)"),
            "{text}"
        );
    }

    #[test]
    fn a_host_lists_its_connections_and_their_links() {
        let host_change = Change {
            kind: ResourceKind::Host,
            arn: "arn:aws:codestar-connections:us-east-1:123456789012:host/ghes-1",
            name: "ghes-corp",
            status: "VPC_CONFIG_FAILED_INITIALIZATION",
            transition: Transition::TurnedUnhealthy,
            previous: None,
            provider: Some("GitHubEnterpriseServer"),
            status_message: Some("subnet-0abc has no route to the endpoint"),
        };
        let connection = |name: &str| Connection {
            arn: format!("arn:aws:codestar-connections:us-east-1:123456789012:connection/{name}"),
            name: name.into(),
            provider: "GitHubEnterpriseServer".into(),
            status: ConnectionStatus::Available,
            host_arn: Some(host_change.arn.into()),
        };
        let (used, unused) = (connection("acme-ghes"), connection("spare-ghes"));
        let (link, stacks) = (link(), stacks(&["network-baseline"]));
        let item = DigestItem {
            change: &host_change,
            impact: Some(Impact {
                links_known: true,
                connections: vec![&used, &unused],
                links: vec![LinkImpact {
                    link: &link,
                    via: Some(&used),
                    stacks: Some(&stacks),
                }],
            }),
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &[]));
        assert_eq!(alert.kind, AlertKind::Host);
        let text = text(&alert);
        for expected in [
            "Host ghes-corp: VPC_CONFIG_FAILED_INITIALIZATION, newly unhealthy:",
            "Status message: subnet-0abc has no route to the endpoint",
            "Connection spare-ghes (AVAILABLE): no repository link uses it",
            "Repository acme/legacy-batch (link l-1) through connection acme-ghes (AVAILABLE): stacks network-baseline (master)",
            "Host not AVAILABLE",
            "aws codestar-connections get-host --region us-east-1 --host-arn",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn failures_make_the_digest_say_the_audit_is_incomplete() {
        let change = change("acme-bitbucket", "ERROR", Transition::TurnedUnhealthy, None);
        let link = link();
        let failures = [AuditFailure {
            subject: "repository link acme/legacy-batch (l-1)".into(),
            error: ApiError {
                operation: "ListSyncConfigurations",
                kind: ApiErrorKind::Throttled,
                message: "ThrottlingException: Rate exceeded".into(),
            },
        }];
        let item = DigestItem {
            change: &change,
            impact: Some(impact(&link, None)),
            tags_unread: false,
        };
        let alert = digest_alert(&digest(vec![item], &failures));
        assert_eq!(
            alert.severity,
            Severity::Critical,
            "unknown stacks may be stalled"
        );
        let text = text(&alert);
        for expected in [
            "Audit:          INCOMPLETE: 1 call(s) failed (listed below)",
            "stacks unknown (ListSyncConfigurations failed)",
            "Audit incomplete: these calls failed:\n  - repository link acme/legacy-batch (l-1): ListSyncConfigurations throttled: ThrottlingException: Rate exceeded",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn a_huge_first_run_fits_one_message() {
        let names: Vec<String> = (0..1_000).map(|n| format!("connection-{n:04}")).collect();
        let changes: Vec<Change<'_>> = names
            .iter()
            .map(|name| change(name, "ERROR", Transition::TurnedUnhealthy, None))
            .collect();
        let link = link();
        let stacks = stacks(&["stack-a", "stack-b", "stack-c"]);
        let items = changes
            .iter()
            .map(|change| DigestItem {
                change,
                impact: Some(impact(&link, Some(&stacks))),
                tags_unread: false,
            })
            .collect();
        let alert = digest_alert(&digest(items, &[]));
        assert_eq!(alert.sections.len(), MAX_DETAILED_RESOURCES + 1);
        for format in [AlertFormat::Text, AlertFormat::Chatbot, AlertFormat::Json] {
            let rendered = render(&alert, format, "connection-auditor");
            assert!(rendered.sns_size() <= SNS_MAX_BYTES, "{format}");
        }
        let text = text(&alert);
        assert!(text.contains("More changes:"));
        assert!(
            text.contains("Connection connection-0999: ERROR, newly unhealthy (3 stacks stalled)")
        );
    }

    #[test]
    fn the_key_depends_on_the_changes_not_their_order() {
        let (a, b) = (record("ERROR", true), record("PENDING", true));
        let first = change("one", "ERROR", Transition::Reminder, Some(&a));
        let mut second = change("two", "ERROR", Transition::StatusChanged, Some(&b));
        second.arn = "arn:aws:codeconnections:us-east-1:123456789012:connection/c-2";
        let key = digest_key(&[first.clone(), second.clone()]);
        assert_eq!(key, digest_key(&[second.clone(), first.clone()]));
        assert_eq!(key.scope(), LedgerKey::audit_digest(0, 0).scope());
        assert!(key.item().starts_with("digest#2#"), "{key}");
        assert_ne!(key, digest_key(std::slice::from_ref(&first)));
        let reminded_later = StatusRecord {
            last_alerted_at: Some(at(24 * HOUR)),
            ..a.clone()
        };
        let next_reminder = change("one", "ERROR", Transition::Reminder, Some(&reminded_later));
        assert_ne!(
            digest_key(std::slice::from_ref(&first)),
            digest_key(std::slice::from_ref(&next_reminder))
        );
    }

    #[test]
    fn fnv_matches_its_published_test_vectors() {
        assert_eq!(fnv1a_128(""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
        assert_eq!(fnv1a_128("a"), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
        assert_eq!(
            fnv1a_128("foobar"),
            0x343e_1662_793c_64bf_6f0d_3597_ba44_6f18
        );
    }
}
