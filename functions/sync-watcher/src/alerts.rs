//! What sync-watcher says: the alerts it builds from Git sync values. Pure functions.

use std::time::{Duration, SystemTime};

use gitsync::domain::alert::{Alert, AlertKind, Section, Severity, stack_console_link};
use gitsync::domain::blocker_alert::BlockedStack;
use gitsync::domain::bus::{BusEvent, DetailType, blocker_event};
use gitsync::domain::event::Revision;
use gitsync::domain::sync::{
    CFN_STACK_SYNC, DEPLOYABLE_STACK_STATUSES, SyncAttempt, SyncBlocker, SyncStatus,
};
use gitsync::domain::text::{age, rfc3339, shell_quote, time_and_age};
use serde_json::json;

/// Most events of a sync attempt shown in an alert; the rest are counted.
pub const MAX_ATTEMPT_EVENTS: usize = 25;

fn with_revision(alert: Alert, revision: &Revision) -> Alert {
    alert
        .fact_opt("Provider", revision.provider.clone())
        .fact_opt("Repository", revision.repository.clone())
        .fact_opt("Branch", revision.branch.clone())
        .fact_opt("Commit", revision.commit.clone())
}

fn attempt_section(title: &str, attempt: &SyncAttempt) -> Section {
    let started = attempt
        .started_at
        .map(rfc3339)
        .unwrap_or_else(|| "unknown".into());
    let title_with_status = format!("{title} ({}, started {started})", attempt.status);
    if attempt.events.is_empty() {
        return Section::capped(title_with_status, vec!["no events recorded".into()], 1);
    }
    let items = attempt
        .events
        .iter()
        .map(|event| {
            let time = event.time.map(rfc3339).unwrap_or_else(|| "-".into());
            let external = event
                .external_id
                .as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default();
            format!("{time} [{}] {}{external}", event.kind, event.message)
        })
        .collect();
    Section::capped(title_with_status, items, MAX_ATTEMPT_EVENTS)
}

pub struct BlockerContext<'a> {
    pub stack: &'a str,
    pub region: &'a str,
    pub revision: &'a Revision,
    pub event_status: Option<&'a SyncStatus>,
    pub latest_attempt: Option<&'a SyncAttempt>,
    pub now: SystemTime,
}

pub fn blocker_alert(blocker: &SyncBlocker, context: &BlockerContext<'_>) -> Alert {
    let stack = context.stack;
    let place = BlockedStack {
        stack,
        region: context.region,
    };
    let alert = place.blocker_alert(
        AlertKind::Blocker,
        Severity::Critical,
        format!("Git sync blocked: stack {stack}"),
        blocker,
        context.now,
    );
    let mut alert = with_revision(alert, context.revision)
        .fact_opt("Sync status", context.event_status.map(ToString::to_string));
    alert.summary = format!(
        "Git sync stopped deploying stack {stack} and will not deploy new commits until this \
         blocker is resolved."
    );
    if let Some(attempt) = context.latest_attempt {
        alert
            .sections
            .push(attempt_section("Latest sync attempt", attempt));
    }
    alert.next_steps = next_steps();
    alert.commands = vec![place.resolve_command(&blocker.id)];
    let revision = context.revision;
    alert.event(blocker_event(
        DetailType::BlockerDetected,
        stack,
        blocker,
        json!({
            "provider": revision.provider,
            "repository": revision.repository,
            "branch": revision.branch,
            "commit": revision.commit,
            "syncStatus": context.event_status.map(ToString::to_string),
        }),
    ))
}

/// What to do about a blocker, whichever message names it.
fn next_steps() -> Vec<String> {
    vec![
        "Find the cause in the reason and events above and in the stack's events, and fix it \
         in the repository or in the stack."
            .into(),
        format!(
            "Make sure the stack is in one of {}: Git sync deploys to no other status \
             (for UPDATE_ROLLBACK_FAILED, continue the update rollback first).",
            DEPLOYABLE_STACK_STATUSES.join(", ")
        ),
        "Resolve the blocker with the command below; Git sync then retries the latest commit."
            .into(),
    ]
}

/// A blocker still ACTIVE `remind_after` or more after its alert.
pub fn reminder_alert(
    place: BlockedStack<'_>,
    blocker: &SyncBlocker,
    alerted_at: SystemTime,
    remind_after: Duration,
    now: SystemTime,
) -> Alert {
    let stack = place.stack;
    let since = blocker.created_at.unwrap_or(alerted_at);
    let blocked_for = age(since, now);
    let blocked_for = blocked_for.trim_end_matches(" ago");
    let mut alert = place
        .blocker_alert(
            AlertKind::Reminder,
            Severity::Critical,
            format!("Git sync still blocked: stack {stack}, for {blocked_for}"),
            blocker,
            now,
        )
        .fact("Blocked for", blocked_for)
        .fact("First alerted", time_and_age(Some(alerted_at), now))
        .fact(
            "Reminders",
            format!(
                "every {} while the blocker is ACTIVE",
                humantime::format_duration(remind_after)
            ),
        );
    alert.summary = format!(
        "Git sync has deployed nothing to stack {stack} for {blocked_for}: this blocker is still \
         ACTIVE, and every commit since waits behind it."
    );
    alert.next_steps = next_steps();
    alert.commands = vec![place.resolve_command(&blocker.id)];
    let blocked_for_seconds = now.duration_since(since).unwrap_or_default().as_secs();
    alert.event(blocker_event(
        DetailType::BlockerReminder,
        stack,
        blocker,
        json!({
            "firstAlertedAt": rfc3339(alerted_at),
            "blockedForSeconds": blocked_for_seconds,
        }),
    ))
}

pub fn recovery_alert(
    stack: &str,
    region: &str,
    alerted_ids: &[String],
    blockers: &[SyncBlocker],
    event_status: Option<&SyncStatus>,
) -> Alert {
    let items = alerted_ids
        .iter()
        .map(|id| {
            let resolution = blockers
                .iter()
                .find(|blocker| &blocker.id == id)
                .and_then(|blocker| blocker.resolved_reason.as_deref())
                .map(|reason| format!(": {reason}"))
                .unwrap_or_default();
            format!("{id}{resolution}")
        })
        .collect();
    let mut alert = Alert::new(
        AlertKind::Recovery,
        Severity::Info,
        format!("Git sync recovered: stack {stack}"),
    )
    .fact("Stack", stack)
    .fact_opt("Sync status", event_status.map(ToString::to_string));
    alert.summary =
        format!("Stack {stack} has no active sync blocker any more; Git sync deploys it again.");
    alert.stack = Some(stack.to_owned());
    alert
        .sections
        .push(Section::capped("Blockers no longer active", items, 50));
    alert.links = vec![stack_console_link(region, stack)];
    alert.event(
        BusEvent::new(
            DetailType::StackRecovered,
            json!({
                "stack": stack,
                "blockerIds": alerted_ids,
                "syncStatus": event_status.map(ToString::to_string),
            }),
        )
        .about_stack(stack),
    )
}

pub struct RepositoryContext<'a> {
    pub link_id: &'a str,
    pub branch: &'a str,
    pub revision: &'a Revision,
    pub connection_arn: Option<&'a str>,
    pub region: &'a str,
    pub attempt: Option<&'a SyncAttempt>,
}

pub fn repository_failure_alert(context: &RepositoryContext<'_>) -> Alert {
    let repository = context
        .revision
        .repository
        .as_deref()
        .unwrap_or(context.link_id);
    let mut alert = Alert::new(
        AlertKind::RepositorySync,
        Severity::Warning,
        format!("Git sync failed to read {repository}@{}", context.branch),
    )
    .fact("Repository link", context.link_id)
    .fact("Branch", context.branch);
    alert = with_revision(
        alert,
        &Revision {
            branch: None,
            ..context.revision.clone()
        },
    )
    .fact_opt("Connection", context.connection_arn);
    alert.summary = format!(
        "Git sync could not sync branch {} of {repository}; the stacks that deploy from it \
         receive no new commits until a sync succeeds.",
        context.branch
    );
    if let Some(attempt) = context.attempt {
        alert
            .sections
            .push(attempt_section("Failed sync attempt", attempt));
    }
    alert.next_steps = vec![
        "Read the events above: a missing or invalid deployment file, a template path that does \
         not exist, or a connection that lost access are the usual causes."
            .into(),
        "Check the connection's status (aws codestar-connections get-connection) and the \
         repository link."
            .into(),
        "Push a fix to the branch; Git sync retries on the next commit.".into(),
    ];
    alert.commands = vec![format!(
        "aws codestar-connections get-repository-sync-status --region {} --repository-link-id {} \
         --branch {} --sync-type {CFN_STACK_SYNC}",
        shell_quote(context.region),
        shell_quote(context.link_id),
        shell_quote(context.branch)
    )];
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::alert::{AlertFormat, render};
    use gitsync::domain::sync::{BlockerStatus, SyncAttemptEvent};
    use std::time::Duration;

    fn blocker() -> SyncBlocker {
        SyncBlocker {
            id: "e1b2c3d4-0000-4000-8000-00000000abcd".into(),
            status: BlockerStatus::Active,
            created_reason: "Stack payments-api is in UPDATE_ROLLBACK_FAILED state".into(),
            contexts: vec![(
                "StackId".into(),
                "arn:aws:cloudformation:eu-west-1:123456789012:stack/payments-api/1".into(),
            )],
            created_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            resolved_at: None,
            resolved_reason: None,
        }
    }

    fn attempt(events: usize) -> SyncAttempt {
        SyncAttempt {
            status: SyncStatus::Failed,
            started_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            events: (0..events)
                .map(|n| SyncAttemptEvent {
                    time: None,
                    kind: "CLOUDFORMATION".into(),
                    message: format!("step {n}"),
                    external_id: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_blocker_alert_has_everything_needed_to_act() {
        let revision = Revision {
            provider: Some("GitHub".into()),
            repository: Some("acme/infra".into()),
            branch: Some("main".into()),
            commit: Some("8d2f0c1".into()),
        };
        let attempt = attempt(30);
        let context = BlockerContext {
            stack: "payments-api",
            region: "eu-west-1",
            revision: &revision,
            event_status: Some(&SyncStatus::Failed),
            latest_attempt: Some(&attempt),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 2 * 3600 + 300),
        };
        let text = render(
            &blocker_alert(&blocker(), &context),
            AlertFormat::Text,
            "sync-watcher",
        )
        .message;
        for expected in [
            "Stack:       payments-api",
            "Blocker ID:  e1b2c3d4-0000-4000-8000-00000000abcd",
            "Reason:      Stack payments-api is in UPDATE_ROLLBACK_FAILED state",
            "Created:     2027-01-15T08:00:00Z (2h 5m ago)",
            "Repository:  acme/infra",
            "Commit:      8d2f0c1",
            "StackId: arn:aws:cloudformation:eu-west-1:123456789012:stack/payments-api/1",
            "Latest sync attempt (FAILED, started 2027-01-15T08:00:00Z):",
            "[CLOUDFORMATION] step 24",
            "... and 5 more",
            "aws codestar-connections update-sync-blocker --region eu-west-1 --id e1b2c3d4-0000-4000-8000-00000000abcd --sync-type CFN_STACK_SYNC --resource-name payments-api --resolved-reason",
            "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=payments-api",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(!text.contains("step 25"));
    }

    #[test]
    fn an_attempt_without_events_says_so() {
        let section = attempt_section("Latest sync attempt", &attempt(0));
        assert_eq!(section.items, vec!["no events recorded".to_owned()]);
        assert!(
            section
                .title
                .starts_with("Latest sync attempt (FAILED, started 2027-01-15")
        );
    }

    #[test]
    fn a_recovery_names_the_blockers_and_their_resolution() {
        let mut resolved = blocker();
        resolved.status = BlockerStatus::Resolved;
        resolved.resolved_reason = Some("Fixed the IAM policy".into());
        let alert = recovery_alert(
            "payments-api",
            "eu-west-1",
            &[resolved.id.clone()],
            &[resolved],
            Some(&SyncStatus::Succeeded),
        );
        assert_eq!(alert.severity, Severity::Info);
        assert_eq!(alert.kind, AlertKind::Recovery);
        let text = render(&alert, AlertFormat::Text, "sync-watcher").message;
        assert!(
            text.contains("e1b2c3d4-0000-4000-8000-00000000abcd: Fixed the IAM policy"),
            "{text}"
        );
    }

    #[test]
    fn a_repository_failure_names_link_branch_and_events() {
        let revision = Revision {
            repository: Some("infra".into()),
            commit: Some("abc123".into()),
            ..Revision::default()
        };
        let attempt = attempt(2);
        let alert = repository_failure_alert(&RepositoryContext {
            link_id: "6053346f-8a33-4edb-9397-10394b3b2d4b",
            branch: "main",
            revision: &revision,
            connection_arn: None,
            region: "us-east-1",
            attempt: Some(&attempt),
        });
        assert_eq!(alert.kind, AlertKind::RepositorySync);
        assert_eq!(alert.title, "Git sync failed to read infra@main");
        let text = render(&alert, AlertFormat::Text, "sync-watcher").message;
        assert!(text.contains("Failed sync attempt (FAILED"), "{text}");
        assert!(
            text.contains(
                "--repository-link-id 6053346f-8a33-4edb-9397-10394b3b2d4b --branch main"
            )
        );
    }
}
