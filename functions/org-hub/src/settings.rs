//! The hub's configuration, read and checked once at cold start; errors name the variable and
//! the form it expects.

use std::time::Duration;

use gitsync::config::{
    ConfigError, Env, TimeOfDay, account_id, remind_after, table_name, topic_arn,
};
use gitsync::domain::alert::AlertFormat;

const WATCH_FORM: &str = "whole minutes from 1 to 1440, the members' WatchEveryMinutes";

#[derive(Debug, Clone, PartialEq)]
pub struct HubSettings {
    pub state_table: String,
    pub alert_topic_arn: String,
    pub alert_format: AlertFormat,
    /// The StackSet whose instances should all report; `None`: only members heard from count.
    pub stack_set: Option<String>,
    /// `SELF` or `DELEGATED_ADMIN`, as the hub deploys the StackSet.
    pub call_as: String,
    /// No snapshot for this long (two of the members' sweep periods): the member is silent.
    pub silent_after: Duration,
    pub remind_after: Duration,
    pub report_at: TimeOfDay,
    /// The hub's own account (`ACCOUNT_ID`), if set: its events may speak for the member
    /// their detail names.
    pub account: Option<String>,
}

impl HubSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let call_as = env.optional("CALL_AS").unwrap_or_else(|| "SELF".to_owned());
        if !matches!(call_as.as_str(), "SELF" | "DELEGATED_ADMIN") {
            return Err(ConfigError::Invalid {
                name: "CALL_AS",
                value: call_as,
                expected: "SELF or DELEGATED_ADMIN, as the hub template's CallAs".to_owned(),
            });
        }
        let watch_minutes: u64 =
            env.parsed_within("WATCH_EVERY_MINUTES", 60, 1..=1440, WATCH_FORM)?;
        Ok(Self {
            state_table: table_name(env, "STATE_TABLE")?,
            alert_topic_arn: topic_arn(env, "ALERT_TOPIC_ARN")?,
            alert_format: env.parsed_or(
                "ALERT_FORMAT",
                AlertFormat::Text,
                "text, chatbot or json",
            )?,
            stack_set: env.optional("STACK_SET_NAME"),
            call_as,
            silent_after: Duration::from_secs(2 * 60 * watch_minutes),
            remind_after: remind_after(env)?,
            report_at: env.parsed_or(
                "REPORT_AT",
                TimeOfDay { hour: 8, minute: 0 },
                "a time of day in UTC as HH:MM, such as 08:00",
            )?,
            account: account_id(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:hub";

    #[test]
    fn the_template_s_variables_give_the_hub_its_settings() {
        let settings = HubSettings::from_env(&Env::from_pairs(&[
            ("STATE_TABLE", "hub-state"),
            ("ALERT_TOPIC_ARN", TOPIC),
            ("ALERT_FORMAT", "chatbot"),
            ("STACK_SET_NAME", "hub-members"),
            ("CALL_AS", "DELEGATED_ADMIN"),
            ("WATCH_EVERY_MINUTES", "15"),
            ("REMIND_AFTER_HOURS", "6"),
            ("REPORT_AT", "07:30"),
        ]))
        .expect("valid");
        assert_eq!(settings.silent_after, Duration::from_secs(30 * 60));
        assert_eq!(settings.remind_after, Duration::from_secs(6 * 3600));
        assert_eq!(settings.report_at.to_string(), "07:30");
        assert_eq!(settings.stack_set.as_deref(), Some("hub-members"));
        assert_eq!(settings.alert_format, AlertFormat::Chatbot);
    }

    #[test]
    fn a_bad_variable_is_named_with_the_form_it_expects() {
        let err = |pairs: &[(&str, &str)]| {
            HubSettings::from_env(&Env::from_pairs(pairs))
                .expect_err("invalid")
                .to_string()
        };
        let base = [("STATE_TABLE", "hub-state"), ("ALERT_TOPIC_ARN", TOPIC)];
        assert!(err(&[("ALERT_TOPIC_ARN", TOPIC)]).contains("STATE_TABLE"));
        let with = |extra: (&'static str, &'static str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            err(&pairs)
        };
        assert!(with(("CALL_AS", "ME")).contains("SELF or DELEGATED_ADMIN"));
        assert!(with(("WATCH_EVERY_MINUTES", "0")).contains("WATCH_EVERY_MINUTES"));
        assert!(with(("REPORT_AT", "8am")).contains("HH:MM"));
    }
}
