//! What every message about one sync blocker says, whichever function sends it: the stack,
//! the blocker, its reason and age, its contexts, the console link and the command that
//! resolves it by hand.

use std::time::SystemTime;

use super::alert::{Alert, AlertKind, Severity, contexts_section, stack_console_link};
use super::sync::{CFN_STACK_SYNC, SyncBlocker};
use super::text::{shell_quote, time_and_age};

/// Where a blocker is: its stack and region (the names and commands of its messages).
#[derive(Debug, Clone, Copy)]
pub struct BlockedStack<'a> {
    pub stack: &'a str,
    pub region: &'a str,
}

impl BlockedStack<'_> {
    /// The exact command that resolves `blocker_id` once its cause is fixed.
    pub fn resolve_command(&self, blocker_id: &str) -> String {
        format!(
            "aws codestar-connections update-sync-blocker --region {} --id {} \
             --sync-type {CFN_STACK_SYNC} --resource-name {} --resolved-reason \"Fixed: <what you fixed>\"",
            shell_quote(self.region),
            shell_quote(blocker_id),
            shell_quote(self.stack)
        )
    }

    /// An alert about `blocker` of this stack: its facts, contexts and console link. The
    /// caller adds what its message is for (facts, next steps, commands).
    pub fn blocker_alert(
        &self,
        kind: AlertKind,
        severity: Severity,
        title: String,
        blocker: &SyncBlocker,
        now: SystemTime,
    ) -> Alert {
        let mut alert = Alert::new(kind, severity, title)
            .fact("Stack", self.stack)
            .fact("Blocker ID", &blocker.id)
            .fact("Reason", &blocker.created_reason)
            .fact("Created", time_and_age(blocker.created_at, now));
        alert.stack = Some(self.stack.to_owned());
        alert.sections.extend(contexts_section(&blocker.contexts));
        alert.links = vec![stack_console_link(self.region, self.stack)];
        alert
    }
}
