//! Configuration from the environment, read and checked once at cold start.
//!
//! Every error names the variable and the form it expects, so that a bad deployment fails
//! its first invocation with a message that says what to fix.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// regex-lite, not regex: these patterns are ASCII and tiny, and compiling them with regex's
// full engine was a fifth of a cold start's instructions (BENCH.md); the SDK already links it.
use regex_lite::Regex;
use thiserror::Error;

use crate::domain::alert::{Account, AlertFormat};
use crate::ledger::ALERT_RETENTION;

const DAY_SECONDS: u64 = 24 * 3600;

/// A time of day, UTC: when a daily report is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
}

impl TimeOfDay {
    pub fn seconds(self) -> u64 {
        u64::from(self.hour) * 3600 + u64::from(self.minute) * 60
    }

    /// The UTC day (`YYYY-MM-DD`) whose report is due at `now`, or `None` before this time of
    /// day.
    pub fn due_day(self, now: SystemTime) -> Option<String> {
        let seconds = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        if seconds % DAY_SECONDS < self.seconds() {
            return None;
        }
        let midnight = UNIX_EPOCH + Duration::from_secs(seconds - seconds % DAY_SECONDS);
        Some(humantime::format_rfc3339_seconds(midnight).to_string()[..10].to_owned())
    }
}

impl FromStr for TimeOfDay {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let parsed = raw
            .split_once(':')
            .and_then(|(hour, minute)| Some((hour.parse::<u8>().ok()?, minute.parse::<u8>().ok()?)))
            .filter(|(hour, minute)| *hour < 24 && *minute < 60 && raw.len() == 5);
        match parsed {
            Some((hour, minute)) => Ok(Self { hour, minute }),
            None => Err(format!("{raw:?} is not HH:MM")),
        }
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {name} is not set; expected {expected}")]
    Missing {
        name: &'static str,
        expected: &'static str,
    },
    #[error("environment variable {name} is {value:?}; expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: String,
    },
}

/// Reads variables through a lookup function, so tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: |name| std::env::var(name).ok(),
        }
    }

    /// These variables and no others: for tests of what a function reads.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Env::from_lookup(move |name: &str| map.get(name).cloned())
    }
}

/// `REMIND_AFTER_HOURS` when unset: a reminder a day.
pub const DEFAULT_REMIND_AFTER_HOURS: f64 = 24.0;
/// The shortest reminder interval, 36 seconds: shorter than any schedule, for tests and demos.
pub const MIN_REMIND_AFTER_HOURS: f64 = 0.01;
/// The longest reminder interval, 720 hours: the ledger keeps an alert's item
/// [`ALERT_RETENTION`] (30 days) and a reminder is deduplicated on it; a longer interval
/// would let the item expire first and turn the reminder into a fresh alert.
pub const MAX_REMIND_AFTER_HOURS: f64 = ALERT_RETENTION.as_secs() as f64 / 3600.0;

/// `SWEEP_CONCURRENCY` when unset.
pub const DEFAULT_SWEEP_CONCURRENCY: usize = 8;
/// How many stacks a sweep checks at once, at most: each check is one or two Git sync calls,
/// and beyond this the API's request rate throttles them (the SDK retries, the sweep gains
/// nothing).
pub const SWEEP_CONCURRENCY: RangeInclusive<usize> = 1..=64;

/// `REMIND_AFTER_HOURS`: how long an alerted condition stays quiet before its reminder, the
/// same for blockers (sync-watcher) and connections and hosts (connection-auditor).
pub fn remind_after<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Duration, ConfigError> {
    let hours = env.parsed_within(
        "REMIND_AFTER_HOURS",
        DEFAULT_REMIND_AFTER_HOURS,
        MIN_REMIND_AFTER_HOURS..=MAX_REMIND_AFTER_HOURS,
        &format!(
            "a number of hours from {MIN_REMIND_AFTER_HOURS} to {MAX_REMIND_AFTER_HOURS}, \
             such as 24 or 0.5"
        ),
    )?;
    // Finite and within the range: from_secs_f64 cannot panic.
    Ok(Duration::from_secs_f64(hours * 3600.0))
}

/// `SWEEP_CONCURRENCY`: how many stacks a sweep checks at once (sync-watcher,
/// blocker-resolver).
pub fn sweep_concurrency<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<usize, ConfigError> {
    let (min, max) = (*SWEEP_CONCURRENCY.start(), *SWEEP_CONCURRENCY.end());
    env.parsed_within(
        "SWEEP_CONCURRENCY",
        DEFAULT_SWEEP_CONCURRENCY,
        SWEEP_CONCURRENCY,
        &format!("a whole number from {min} to {max}"),
    )
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn from_lookup(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value, `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    pub fn required(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or(ConfigError::Missing { name, expected })
    }

    /// A required value that must match `pattern`.
    pub fn required_matching(
        &self,
        name: &'static str,
        pattern: &Regex,
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        let value = self.required(name, expected)?;
        if pattern.is_match(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name,
                value,
                expected: expected.to_owned(),
            })
        }
    }

    /// An optional value parsed with `FromStr`, or `default` when unset.
    pub fn parsed_or<T>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|err| ConfigError::Invalid {
                name,
                expected: format!("{expected} ({err})"),
                value,
            }),
        }
    }

    /// An optional value parsed with `FromStr` that must lie in `range`, or `default`.
    pub fn parsed_within<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
        expected: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + fmt::Display,
        T::Err: fmt::Display,
    {
        let value = self.parsed_or(name, default, expected)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name,
                value: value.to_string(),
                expected: expected.to_owned(),
            })
        }
    }
}

static TOPIC_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
        .unwrap_or_else(|err| unreachable!("constant regex: {err}"))
});
static ACCOUNT_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{12}$").unwrap_or_else(|err| unreachable!("constant regex: {err}"))
});
static EVENT_BUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]{1,256})$",
    )
    .unwrap_or_else(|err| unreachable!("constant regex: {err}"))
});
static TABLE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_.-]{3,255}$")
        .unwrap_or_else(|err| unreachable!("constant regex: {err}"))
});

/// What every gitsync-guard function needs: where alerts go, how they look, the ledger, and
/// which account it watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonConfig {
    pub alert_topic_arn: String,
    pub ledger_table: String,
    pub alert_format: AlertFormat,
    /// The account the function runs in, named in every alert. Lambda sets no variable with
    /// it, so the template passes `AWS::AccountId`; unset, the outbox takes the account from
    /// the first invocation's function ARN (`Outbox::adopt_invocation_account`), and without
    /// one (a local run) alerts name the region only.
    pub account: Option<Account>,
    /// The EventBridge bus gitsync-guard puts its events on (a name or an ARN); `None`, no
    /// events: a deployment that does not name one (and may not be allowed to put) puts none.
    pub event_bus: Option<String>,
}

/// `EVENT_BUS_NAME`, if set: a bus name or ARN.
fn event_bus_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<String>, ConfigError> {
    match env.optional("EVENT_BUS_NAME") {
        Some(bus) if !EVENT_BUS.is_match(&bus) => Err(ConfigError::Invalid {
            name: "EVENT_BUS_NAME",
            value: bus,
            expected:
                "an EventBridge bus name (such as default) or bus ARN, or unset for no events"
                    .to_owned(),
        }),
        bus => Ok(bus),
    }
}

const TOPIC_ARN_FORM: &str =
    "an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:gitsync-guard-alerts";
const TABLE_NAME_FORM: &str = "a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)";

/// An SNS topic ARN, required, from the variable `name`.
pub fn topic_arn<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
) -> Result<String, ConfigError> {
    env.required_matching(name, &TOPIC_ARN, TOPIC_ARN_FORM)
}

/// A DynamoDB table name, required, from the variable `name`.
pub fn table_name<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
) -> Result<String, ConfigError> {
    env.required_matching(name, &TABLE_NAME, TABLE_NAME_FORM)
}

/// The account in a Lambda function's ARN, `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`
/// (with an optional `:QUALIFIER`), which every invocation's context carries; `None` for
/// anything else.
pub fn function_arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    let fields: [Option<&str>; 7] = std::array::from_fn(|_| parts.next());
    match fields {
        [
            Some("arn"),
            Some(partition),
            Some("lambda"),
            Some(region),
            Some(account),
            Some("function"),
            Some(name),
        ] if !partition.is_empty()
            && !region.is_empty()
            && !name.is_empty()
            && ACCOUNT_ID.is_match(account) =>
        {
            Some(account)
        }
        _ => None,
    }
}

/// `ACCOUNT_ID`, if set: a 12-digit account id.
pub fn account_id<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<String>, ConfigError> {
    env.optional("ACCOUNT_ID")
        .map(|_| env.required_matching("ACCOUNT_ID", &ACCOUNT_ID, ACCOUNT_ID_FORM))
        .transpose()
}

const ACCOUNT_ID_FORM: &str = "a 12-digit AWS account id such as 123456789012";

/// The account from `ACCOUNT_ID` and `ACCOUNT_NAME`, if set.
fn account_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<Account>, ConfigError> {
    let name = env.optional("ACCOUNT_NAME");
    let Some(id) = account_id(env)? else {
        // A name without an id would make alerts from two accounts look alike.
        return match name {
            None => Ok(None),
            Some(_) => Err(ConfigError::Missing {
                name: "ACCOUNT_ID",
                expected: "a 12-digit AWS account id (ACCOUNT_NAME is set, so is needed)",
            }),
        };
    };
    if let Some(name) = &name
        && name.chars().count() > 256
    {
        return Err(ConfigError::Invalid {
            name: "ACCOUNT_NAME",
            value: name.clone(),
            expected: "a name of at most 256 characters".to_owned(),
        });
    }
    Ok(Some(Account {
        name: name.unwrap_or_else(|| id.clone()),
        id,
    }))
}

impl CommonConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            alert_topic_arn: env.required_matching(
                "ALERT_TOPIC_ARN",
                &TOPIC_ARN,
                TOPIC_ARN_FORM,
            )?,
            ledger_table: env.required_matching("LEDGER_TABLE", &TABLE_NAME, TABLE_NAME_FORM)?,
            alert_format: env.parsed_or(
                "ALERT_FORMAT",
                AlertFormat::Text,
                "text, chatbot or json",
            )?,
            account: account_from_env(env)?,
            event_bus: event_bus_from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:gitsync-guard-alerts";

    #[test]
    fn a_function_arn_names_its_account() {
        for (arn, account) in [
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:sync-watcher",
                Some("123456789012"),
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:sync-watcher:live",
                Some("123456789012"),
            ),
            (
                "arn:aws-cn:lambda:cn-north-1:210987654321:function:f",
                Some("210987654321"),
            ),
            ("", None),
            ("not an arn", None),
            ("arn:aws:lambda:eu-west-1:12345:function:sync-watcher", None),
            ("arn:aws:lambda:eu-west-1::function:sync-watcher", None),
            ("arn:aws:sns:eu-west-1:123456789012:function:topic", None),
            ("arn:aws:lambda:eu-west-1:123456789012:layer:x", None),
            ("arn:aws:lambda:eu-west-1:123456789012:function:", None),
        ] {
            assert_eq!(function_arn_account(arn), account, "{arn:?}");
        }
    }

    #[test]
    fn the_reminder_interval_is_bounded_by_the_alerts_retention() {
        assert_eq!(MAX_REMIND_AFTER_HOURS, 720.0);
        assert!(Duration::from_secs_f64(MAX_REMIND_AFTER_HOURS * 3600.0) <= ALERT_RETENTION);
        let hours = |raw: &str| remind_after(&env(&[("REMIND_AFTER_HOURS", raw)]));
        assert_eq!(remind_after(&env(&[])), Ok(Duration::from_secs(24 * 3600)));
        assert_eq!(hours("0.5"), Ok(Duration::from_secs(1800)));
        assert_eq!(hours("0.01"), Ok(Duration::from_secs(36)));
        assert_eq!(hours("720"), Ok(Duration::from_secs(720 * 3600)));
        for (raw, expected) in [
            (
                "0",
                "environment variable REMIND_AFTER_HOURS is \"0\"; expected a number of hours \
                 from 0.01 to 720, such as 24 or 0.5",
            ),
            (
                "721",
                "REMIND_AFTER_HOURS is \"721\"; expected a number of hours",
            ),
            ("-1", "REMIND_AFTER_HOURS is \"-1\""),
            ("NaN", "REMIND_AFTER_HOURS is \"NaN\""),
            ("inf", "REMIND_AFTER_HOURS is \"inf\""),
            (
                "daily",
                "REMIND_AFTER_HOURS is \"daily\"; expected a number of hours",
            ),
        ] {
            let err = hours(raw).expect_err(raw).to_string();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn the_sweep_concurrency_is_a_whole_number_from_1_to_64() {
        let concurrency = |raw: &str| sweep_concurrency(&env(&[("SWEEP_CONCURRENCY", raw)]));
        assert_eq!(sweep_concurrency(&env(&[])), Ok(DEFAULT_SWEEP_CONCURRENCY));
        assert_eq!(concurrency("1"), Ok(1));
        assert_eq!(concurrency("64"), Ok(64));
        for raw in ["0", "65", "many", "-1"] {
            let err = concurrency(raw).expect_err(raw).to_string();
            assert!(
                err.contains(&format!(
                    "SWEEP_CONCURRENCY is {raw:?}; expected a whole number from 1 to 64"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn a_complete_environment_parses() {
        let config = CommonConfig::from_env(&env(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("LEDGER_TABLE", "gitsync-guard-ledger"),
            ("ALERT_FORMAT", "chatbot"),
        ]))
        .expect("valid");
        assert_eq!(config.alert_topic_arn, TOPIC);
        assert_eq!(config.ledger_table, "gitsync-guard-ledger");
        assert_eq!(config.event_bus, None, "no bus named, no events");
        let with_bus = |bus: &str| {
            CommonConfig::from_env(&env(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("LEDGER_TABLE", "gitsync-guard-ledger"),
                ("EVENT_BUS_NAME", bus),
            ]))
        };
        assert_eq!(
            with_bus("default").expect("a name").event_bus.as_deref(),
            Some("default")
        );
        let arn = "arn:aws:events:eu-west-1:210987654321:event-bus/gitsync-hub";
        assert_eq!(
            with_bus(arn).expect("an ARN").event_bus.as_deref(),
            Some(arn)
        );
        let err = with_bus("no spaces").expect_err("not a bus");
        assert!(
            err.to_string().contains("EVENT_BUS_NAME is \"no spaces\""),
            "{err}"
        );
        assert_eq!(config.alert_format, AlertFormat::Chatbot);
        assert_eq!(config.account, None);
    }

    #[test]
    fn the_account_is_named_or_goes_by_its_id() {
        let base = [("ALERT_TOPIC_ARN", TOPIC), ("LEDGER_TABLE", "ledger")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            CommonConfig::from_env(&env(&pairs))
        };
        assert_eq!(
            with(&[
                ("ACCOUNT_ID", "123456789012"),
                ("ACCOUNT_NAME", "payments-prod")
            ])
            .expect("valid")
            .account,
            Some(Account {
                id: "123456789012".into(),
                name: "payments-prod".into()
            })
        );
        assert_eq!(
            with(&[("ACCOUNT_ID", "123456789012"), ("ACCOUNT_NAME", " ")])
                .expect("valid")
                .account,
            Some(Account {
                id: "123456789012".into(),
                name: "123456789012".into()
            })
        );
        let err = with(&[("ACCOUNT_ID", "12345")]).expect_err("too short");
        assert!(
            err.to_string()
                .contains("ACCOUNT_ID is \"12345\"; expected a 12-digit AWS account id"),
            "{err}"
        );
        let err = with(&[("ACCOUNT_NAME", "prod")]).expect_err("a name needs an id");
        assert!(err.to_string().contains("ACCOUNT_ID is not set"), "{err}");
    }

    #[test]
    fn format_defaults_to_text_and_blank_counts_as_unset() {
        let config = CommonConfig::from_env(&env(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("LEDGER_TABLE", "ledger"),
            ("ALERT_FORMAT", "  "),
        ]))
        .expect("valid");
        assert_eq!(config.alert_format, AlertFormat::Text);
    }

    #[test]
    fn errors_name_the_variable_and_the_expected_form() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[("LEDGER_TABLE", "ledger")],
                "ALERT_TOPIC_ARN is not set; expected an SNS topic ARN",
            ),
            (
                &[("ALERT_TOPIC_ARN", TOPIC)],
                "LEDGER_TABLE is not set; expected a DynamoDB table name",
            ),
            (
                &[
                    ("ALERT_TOPIC_ARN", "arn:aws:sqs:eu-west-1:123456789012:q"),
                    ("LEDGER_TABLE", "ledger"),
                ],
                "ALERT_TOPIC_ARN is \"arn:aws:sqs:eu-west-1:123456789012:q\"; expected an SNS topic ARN",
            ),
            (
                &[("ALERT_TOPIC_ARN", TOPIC), ("LEDGER_TABLE", "a b")],
                "LEDGER_TABLE is \"a b\"",
            ),
            (
                &[
                    ("ALERT_TOPIC_ARN", TOPIC),
                    ("LEDGER_TABLE", "ledger"),
                    ("ALERT_FORMAT", "html"),
                ],
                "ALERT_FORMAT is \"html\"; expected text, chatbot or json",
            ),
        ];
        for (pairs, expected) in cases {
            let err = CommonConfig::from_env(&env(pairs)).expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
    #[test]
    fn a_report_is_due_from_its_time_of_day_until_midnight() {
        let day = 1_800_000_000 - 1_800_000_000 % DAY_SECONDS; // 2027-01-15T00:00:00Z
        let at = |seconds: u64| UNIX_EPOCH + Duration::from_secs(day + seconds);
        let eight = TimeOfDay { hour: 8, minute: 0 };
        assert_eq!(eight.due_day(at(8 * 3600 - 1)), None);
        assert_eq!(eight.due_day(at(8 * 3600)).as_deref(), Some("2027-01-15"));
        assert_eq!(
            eight.due_day(at(DAY_SECONDS - 1)).as_deref(),
            Some("2027-01-15")
        );
        assert_eq!(
            eight.due_day(at(DAY_SECONDS + 8 * 3600)).as_deref(),
            Some("2027-01-16")
        );
        assert_eq!("08:00".parse::<TimeOfDay>(), Ok(eight));
        assert!("8:00".parse::<TimeOfDay>().is_err());
        assert!("24:00".parse::<TimeOfDay>().is_err());
    }
}
