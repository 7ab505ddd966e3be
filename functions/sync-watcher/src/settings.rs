//! sync-watcher's own settings, read once at cold start; errors name the variable and the
//! form it expects.

use std::str::FromStr;
use std::time::Duration;

use gitsync::config::{
    ConfigError, DEFAULT_REMIND_AFTER_HOURS, DEFAULT_SWEEP_CONCURRENCY, Env, TimeOfDay,
    remind_after, sweep_concurrency,
};
use gitsync::domain::selfwatch::Job;

/// How often each scheduled job runs, in minutes, as the template's `*EveryMinutes` parameters
/// say (their defaults here): the report calls a job overdue after two of its periods without
/// a complete run, as its heartbeat alarm does. At most a day, the longest the template offers.
const JOB_PERIOD_MINUTES: std::ops::RangeInclusive<u64> = 1..=1440;
const JOB_PERIOD_FORM: &str = "whole minutes from 1 to 1440, the job's schedule period";
const DEFAULT_WATCH_MINUTES: u64 = 60;
const DEFAULT_SWEEP_MINUTES: u64 = 60;
const DEFAULT_AUDIT_MINUTES: u64 = 15;

fn minutes(minutes: u64) -> Duration {
    Duration::from_secs(minutes * 60)
}

/// When the daily health report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthReport {
    /// Only on a day when something is blocked or unhealthy.
    WhenUnhealthy,
    Always,
    Off,
}

impl FromStr for HealthReport {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "when-unhealthy" => Ok(Self::WhenUnhealthy),
            "always" => Ok(Self::Always),
            "off" => Ok(Self::Off),
            other => Err(format!("{other:?} is not a report setting")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WatcherSettings {
    /// How long a blocker stays ACTIVE between reminders.
    pub remind_after: Duration,
    /// Stacks checked at once by the sweep.
    pub sweep_concurrency: usize,
    pub health_report: HealthReport,
    /// The first sweep at or after this time (UTC) sends the day's report.
    pub report_at: TimeOfDay,
    /// How often each scheduled job runs, in [`Job::ALL`]'s order.
    pub job_periods: [(Job, Duration); 3],
}

impl Default for WatcherSettings {
    fn default() -> Self {
        Self {
            remind_after: Duration::from_secs_f64(DEFAULT_REMIND_AFTER_HOURS * 3600.0),
            sweep_concurrency: DEFAULT_SWEEP_CONCURRENCY,
            health_report: HealthReport::WhenUnhealthy,
            report_at: TimeOfDay { hour: 8, minute: 0 },
            job_periods: [
                (Job::Watch, minutes(DEFAULT_WATCH_MINUTES)),
                (Job::Sweep, minutes(DEFAULT_SWEEP_MINUTES)),
                (Job::Audit, minutes(DEFAULT_AUDIT_MINUTES)),
            ],
        }
    }
}

impl WatcherSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let (range, form) = (JOB_PERIOD_MINUTES, JOB_PERIOD_FORM);
        let job_periods = [
            (
                Job::Watch,
                minutes(env.parsed_within(
                    "WATCH_EVERY_MINUTES",
                    DEFAULT_WATCH_MINUTES,
                    range.clone(),
                    form,
                )?),
            ),
            (
                Job::Sweep,
                minutes(env.parsed_within(
                    "SWEEP_EVERY_MINUTES",
                    DEFAULT_SWEEP_MINUTES,
                    range.clone(),
                    form,
                )?),
            ),
            (
                Job::Audit,
                minutes(env.parsed_within(
                    "AUDIT_EVERY_MINUTES",
                    DEFAULT_AUDIT_MINUTES,
                    range,
                    form,
                )?),
            ),
        ];
        Ok(Self {
            remind_after: remind_after(env)?,
            sweep_concurrency: sweep_concurrency(env)?,
            health_report: env.parsed_or(
                "HEALTH_REPORT",
                defaults.health_report,
                "when-unhealthy, always or off",
            )?,
            report_at: env.parsed_or(
                "HEALTH_REPORT_AT",
                defaults.report_at,
                "a time of day in UTC as HH:MM, such as 08:00",
            )?,
            job_periods,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        Env::from_pairs(pairs)
    }

    #[test]
    fn defaults_and_values_parse() {
        assert_eq!(
            WatcherSettings::from_env(&env(&[])).expect("defaults"),
            WatcherSettings::default()
        );
        let settings = WatcherSettings::from_env(&env(&[
            ("REMIND_AFTER_HOURS", "0.5"),
            ("SWEEP_CONCURRENCY", "16"),
            ("HEALTH_REPORT", "always"),
            ("HEALTH_REPORT_AT", "06:30"),
            ("AUDIT_EVERY_MINUTES", "5"),
        ]))
        .expect("valid");
        assert_eq!(
            settings.job_periods,
            [
                (Job::Watch, Duration::from_secs(3600)),
                (Job::Sweep, Duration::from_secs(3600)),
                (Job::Audit, Duration::from_secs(300)),
            ]
        );
        assert_eq!(settings.remind_after, Duration::from_secs(1800));
        assert_eq!(settings.sweep_concurrency, 16);
        assert_eq!(settings.health_report, HealthReport::Always);
        assert_eq!(settings.report_at.to_string(), "06:30");
    }

    #[test]
    fn errors_name_the_variable_and_the_expected_form() {
        for (name, value, expected) in [
            (
                "REMIND_AFTER_HOURS",
                "0",
                "REMIND_AFTER_HOURS is \"0\"; expected a number of hours",
            ),
            ("REMIND_AFTER_HOURS", "soon", "expected a number of hours"),
            (
                "SWEEP_CONCURRENCY",
                "0",
                "SWEEP_CONCURRENCY is \"0\"; expected a whole number from 1 to 64",
            ),
            (
                "HEALTH_REPORT",
                "daily",
                "HEALTH_REPORT is \"daily\"; expected when-unhealthy, always or off",
            ),
            (
                "HEALTH_REPORT_AT",
                "8:00",
                "HEALTH_REPORT_AT is \"8:00\"; expected a time of day in UTC as HH:MM",
            ),
            ("HEALTH_REPORT_AT", "24:00", "expected a time of day"),
            (
                "WATCH_EVERY_MINUTES",
                "0",
                "WATCH_EVERY_MINUTES is \"0\"; expected whole minutes from 1 to 1440",
            ),
            ("SWEEP_EVERY_MINUTES", "1 hour", "expected whole minutes"),
        ] {
            let err = WatcherSettings::from_env(&env(&[(name, value)])).expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
