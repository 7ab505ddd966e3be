//! blocker-resolver's vocabulary, shared with whoever reads its decisions back (the ledger's
//! keys, sync-watcher's health report): the mode it runs in, and what it did to a blocker,
//! in words.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Whether blocker-resolver resolves what its rules match, or only says it would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Decide and report as `enforce` would; never call UpdateSyncBlocker.
    DryRun,
    Enforce,
}

impl Mode {
    pub const ALL: [Self; 2] = [Self::DryRun, Self::Enforce];

    /// As `RESOLVER_MODE`, the ledger's keys, messages and events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry-run",
            Self::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == raw)
            .ok_or_else(|| format!("{raw:?} is not a mode"))
    }
}

/// What blocker-resolver decided about one blocker, as its ledger item records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolverItem<'a> {
    /// Claimed before UpdateSyncBlocker, confirmed once its message is out.
    Resolution,
    /// A guard held a matching blocker back (reported once per guard).
    Held { guard: &'a str },
    /// UpdateSyncBlocker failed (reported once).
    Failed,
}

impl ResolverItem<'_> {
    /// What happened to the blocker, in a few words: `resolved` (`would be resolved` in
    /// dry-run), `held back`, `could not be resolved`.
    pub fn outcome(self, mode: Mode) -> &'static str {
        match (mode, self) {
            (Mode::DryRun, Self::Resolution) => "would be resolved",
            (Mode::Enforce, Self::Resolution) => "resolved",
            (_, Self::Held { .. }) => "held back",
            (_, Self::Failed) => "could not be resolved",
        }
    }

    /// [`outcome`](Self::outcome), naming the guard that held a blocker back:
    /// `held back by the loop-guard`.
    pub fn describe(self, mode: Mode) -> String {
        match self {
            Self::Held { guard } => format!("{} by the {guard}", self.outcome(mode)),
            _ => self.outcome(mode).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_back_as_they_are_spelled() {
        for mode in Mode::ALL {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
            assert_eq!(
                serde_json::to_value(mode).ok(),
                Some(serde_json::Value::from(mode.as_str()))
            );
        }
        assert_eq!(
            "Enforce".parse::<Mode>(),
            Err("\"Enforce\" is not a mode".to_owned())
        );
    }

    #[test]
    fn each_decision_has_its_words() {
        let held = ResolverItem::Held {
            guard: "loop-guard",
        };
        let cases = [
            (Mode::Enforce, ResolverItem::Resolution, "resolved"),
            (Mode::DryRun, ResolverItem::Resolution, "would be resolved"),
            (Mode::Enforce, held, "held back by the loop-guard"),
            (Mode::DryRun, held, "held back by the loop-guard"),
            (Mode::Enforce, ResolverItem::Failed, "could not be resolved"),
        ];
        for (mode, what, words) in cases {
            assert_eq!(what.describe(mode), words, "{mode} {what:?}");
        }
        assert_eq!(held.outcome(Mode::Enforce), "held back");
    }
}
