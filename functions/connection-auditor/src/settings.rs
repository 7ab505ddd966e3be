//! The auditor's own configuration, read and checked once at cold start. What every function
//! shares (topic, ledger table, alert format) is `gitsync::config::CommonConfig`.

use std::time::Duration;

use gitsync::config::{ConfigError, DEFAULT_REMIND_AFTER_HOURS, Env, remind_after};

/// The provider types ListConnections accepts as `ProviderTypeFilter`.
pub const PROVIDER_TYPES: [&str; 5] = [
    "Bitbucket",
    "GitHub",
    "GitHubEnterpriseServer",
    "GitLab",
    "GitLabSelfManaged",
];
/// Enough to hide the latency of per-link and per-resource calls, low enough to stay clear
/// of the API's request rate (the SDK retries what throttling remains).
pub const DEFAULT_API_CONCURRENCY: usize = 8;
pub const MAX_API_CONCURRENCY: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditSettings {
    /// Audit only connections and hosts of this provider type.
    pub provider_filter: Option<String>,
    /// How long an unhealthy resource stays quiet between reminders.
    pub remind_after: Duration,
    /// How many ListSyncConfigurations and ListTagsForResource calls run at once.
    pub api_concurrency: usize,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            provider_filter: None,
            remind_after: hours(DEFAULT_REMIND_AFTER_HOURS),
            api_concurrency: DEFAULT_API_CONCURRENCY,
        }
    }
}

fn hours(hours: f64) -> Duration {
    Duration::from_secs_f64(hours * 3600.0)
}

impl AuditSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let provider_filter = env
            .optional("PROVIDER_FILTER")
            .map(|raw| {
                PROVIDER_TYPES
                    .iter()
                    .find(|provider| provider.eq_ignore_ascii_case(&raw))
                    .map(|provider| (*provider).to_owned())
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "PROVIDER_FILTER",
                        value: raw,
                        expected: format!("one of {}, or unset", PROVIDER_TYPES.join(", ")),
                    })
            })
            .transpose()?;

        let remind_after = remind_after(env)?;

        let api_concurrency =
            env.parsed_or("API_CONCURRENCY", DEFAULT_API_CONCURRENCY, "a whole number")?;
        if !(1..=MAX_API_CONCURRENCY).contains(&api_concurrency) {
            return Err(ConfigError::Invalid {
                name: "API_CONCURRENCY",
                value: api_concurrency.to_string(),
                expected: format!("a whole number from 1 to {MAX_API_CONCURRENCY}"),
            });
        }

        Ok(Self {
            provider_filter,
            remind_after,
            api_concurrency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &'static str)]) -> Result<AuditSettings, ConfigError> {
        let pairs = pairs.to_vec();
        AuditSettings::from_env(&Env::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }))
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(settings(&[]), Ok(AuditSettings::default()));
        assert_eq!(
            AuditSettings::default().remind_after,
            Duration::from_secs(24 * 3600)
        );
    }

    #[test]
    fn provider_filter_is_normalised_to_the_api_spelling() {
        let parsed = settings(&[("PROVIDER_FILTER", "githubenterpriseserver")]).expect("valid");
        assert_eq!(
            parsed.provider_filter.as_deref(),
            Some("GitHubEnterpriseServer")
        );
    }

    #[test]
    fn fractional_reminder_intervals_are_accepted() {
        let parsed =
            settings(&[("REMIND_AFTER_HOURS", "0.5"), ("API_CONCURRENCY", "4")]).expect("valid");
        assert_eq!(parsed.remind_after, Duration::from_secs(1800));
        assert_eq!(parsed.api_concurrency, 4);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_expected_form() {
        let cases: [(&[(&'static str, &'static str)], &str); 6] = [
            (
                &[("PROVIDER_FILTER", "CodeCommit")],
                "PROVIDER_FILTER is \"CodeCommit\"; expected one of Bitbucket, GitHub",
            ),
            (
                &[("REMIND_AFTER_HOURS", "daily")],
                "REMIND_AFTER_HOURS is \"daily\"; expected a number of hours",
            ),
            (
                &[("REMIND_AFTER_HOURS", "0")],
                "REMIND_AFTER_HOURS is \"0\"; expected a number of hours from 0.01 to 720",
            ),
            (
                &[("REMIND_AFTER_HOURS", "NaN")],
                "REMIND_AFTER_HOURS is \"NaN\"",
            ),
            (
                &[("REMIND_AFTER_HOURS", "721")],
                "REMIND_AFTER_HOURS is \"721\"; expected a number of hours from 0.01 to 720",
            ),
            (
                &[("API_CONCURRENCY", "0")],
                "API_CONCURRENCY is \"0\"; expected a whole number from 1 to 32",
            ),
        ];
        for (pairs, expected) in cases {
            let err = settings(pairs).expect_err(expected);
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
