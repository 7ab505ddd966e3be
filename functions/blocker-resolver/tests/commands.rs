//! The paste-ready commands: whatever a blocker id or stack name holds, a POSIX shell reads
//! each value back as exactly one argument, and runs nothing it smuggles in.

use std::process::Command;
use std::time::{Duration, SystemTime};

use blocker_resolver::Mode;
use blocker_resolver::alerts::{StackContext, failure_alert, held_back_alert};
use blocker_resolver::engine::Hold;
use gitsync::domain::sync::{BlockerStatus, SyncBlocker};
use gitsync::ports::{ApiError, ApiErrorKind};

const HOSTILE: &str = "x'; touch /tmp/pwned; echo '$(id) `id` \"a b\"";

/// The arguments `sh` reads from `command` (after its leading `aws`), without running it.
fn shell_words(command: &str) -> Vec<String> {
    let rest = command.strip_prefix("aws ").expect("an aws command");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\0' {rest}"))
        .output()
        .expect("sh runs");
    assert!(output.status.success(), "sh rejected: {command}");
    let mut words: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .map(str::to_owned)
        .collect();
    words.pop(); // after the last NUL
    words
}

fn value_after(words: &[String], option: &str) -> String {
    let at = words.iter().position(|w| w == option).expect(option);
    words[at + 1].clone()
}

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
