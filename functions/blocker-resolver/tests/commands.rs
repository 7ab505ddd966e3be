//! The paste-ready commands: whatever a blocker id or stack name holds, a POSIX shell reads
//! each value back as exactly one argument, and runs nothing it smuggles in.

use std::time::{Duration, SystemTime};

use blocker_resolver::Mode;
use blocker_resolver::alerts::{StackContext, failure_alert, held_back_alert};
use blocker_resolver::engine::Hold;
use gitsync::domain::sync::{BlockerStatus, SyncBlocker};
use gitsync::fakes::shell::{HOSTILE, value_after, words as shell_words};
use gitsync::ports::{ApiError, ApiErrorKind};

fn blocker() -> SyncBlocker {
    SyncBlocker {
        id: HOSTILE.into(),
        status: BlockerStatus::Active,
        created_reason: "r".into(),
        contexts: Vec::new(),
        created_at: None,
        resolved_at: None,
        resolved_reason: None,
    }
}

fn context(stack: &str) -> StackContext<'_> {
    StackContext {
        stack,
        region: "eu-west-1",
        mode: Mode::Enforce,
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
    }
}

#[test]
fn every_command_keeps_hostile_values_one_argument_each() {
    let stack = "stack name; $(id)";
    let held = held_back_alert(
        &context(stack),
        &blocker(),
        "rule",
        &Hold::StackStatus {
            current: None,
            allowed: vec!["UPDATE_COMPLETE".into()],
        },
    );
    let failed = failure_alert(
        &context(stack),
        &blocker(),
        "rule",
        &ApiError {
            operation: "UpdateSyncBlocker",
            kind: ApiErrorKind::AccessDenied,
            message: "no".into(),
        },
        3,
    );
    let describe = shell_words(&held.commands[0]);
    assert_eq!(value_after(&describe, "--stack-name"), stack);
    assert_eq!(value_after(&describe, "--query"), "Stacks[0].StackStatus");
    for command in [&held.commands[1], &failed.commands[0]] {
        let words = shell_words(command);
        assert_eq!(value_after(&words, "--id"), HOSTILE);
        assert_eq!(value_after(&words, "--resource-name"), stack);
        assert_eq!(value_after(&words, "--region"), "eu-west-1");
    }
}
