//! The paste-ready commands: whatever a blocker id or branch holds, a POSIX shell reads each
//! value back as exactly one argument, and runs nothing it smuggles in.

use std::time::{Duration, SystemTime};

use gitsync::domain::event::Revision;
use gitsync::domain::sync::{BlockerStatus, SyncBlocker};
use gitsync::fakes::shell::{HOSTILE, value_after, words as shell_words};
use sync_watcher::alerts::{
    BlockerContext, RepositoryContext, blocker_alert, repository_failure_alert,
};

#[test]
fn a_hostile_blocker_id_stays_one_argument() {
    let blocker = SyncBlocker {
        id: HOSTILE.into(),
        status: BlockerStatus::Active,
        created_reason: "r".into(),
        contexts: Vec::new(),
        created_at: None,
        resolved_at: None,
        resolved_reason: None,
    };
    let revision = Revision::default();
    let alert = blocker_alert(
        &blocker,
        &BlockerContext {
            stack: "payments-api",
            region: "eu-west-1",
            revision: &revision,
            event_status: None,
            latest_attempt: None,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        },
    );
    let words = shell_words(&alert.commands[0]);
    assert_eq!(value_after(&words, "--id"), HOSTILE);
    assert_eq!(value_after(&words, "--resource-name"), "payments-api");
    assert_eq!(
        value_after(&words, "--resolved-reason"),
        "Fixed: <what you fixed>"
    );
    // The usual values read as they always did.
    assert!(
        alert.commands[0].contains("--region eu-west-1 --id 'x'\\''; touch"),
        "{}",
        alert.commands[0]
    );
}

#[test]
fn a_hostile_branch_stays_one_argument() {
    let revision = Revision::default();
    let alert = repository_failure_alert(&RepositoryContext {
        link_id: "6053346f-8a33-4edb-9397-10394b3b2d4b",
        branch: HOSTILE,
        revision: &revision,
        connection_arn: None,
        region: "us-east-1",
        attempt: None,
    });
    let words = shell_words(&alert.commands[0]);
    assert_eq!(value_after(&words, "--branch"), HOSTILE);
    assert_eq!(
        value_after(&words, "--repository-link-id"),
        "6053346f-8a33-4edb-9397-10394b3b2d4b"
    );
    assert_eq!(value_after(&words, "--sync-type"), "CFN_STACK_SYNC");
}
