//! Logging set up the way Lambda expects: `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`) picks the
//! level, `AWS_LAMBDA_LOG_FORMAT=JSON` switches to one JSON object per line.

use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, Env};

/// Lambda's advanced logging levels, mapped to tracing's (FATAL has no twin: ERROR).
fn lambda_level(raw: &str) -> Option<&'static str> {
    match raw.to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    }
}

/// The filter and whether to log JSON, as the environment asks.
pub fn settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<(EnvFilter, bool), ConfigError> {
    let filter = if let Some(raw) = env.optional("AWS_LAMBDA_LOG_LEVEL") {
        let level = lambda_level(&raw).ok_or_else(|| ConfigError::Invalid {
            name: "AWS_LAMBDA_LOG_LEVEL",
            value: raw.clone(),
            expected: "one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL".into(),
        })?;
        EnvFilter::new(level)
    } else if let Some(raw) = env.optional("RUST_LOG") {
        EnvFilter::try_new(&raw).map_err(|err| ConfigError::Invalid {
            name: "RUST_LOG",
            value: raw.clone(),
            expected: format!(
                "tracing filter directives such as `info` or `gitsync=debug` ({err})"
            ),
        })?
    } else {
        EnvFilter::new("info")
    };
    let json = env
        .optional("AWS_LAMBDA_LOG_FORMAT")
        .is_some_and(|format| format.eq_ignore_ascii_case("json"));
    Ok((filter, json))
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() -> Result<(), ConfigError> {
    let (filter, json) = settings(&Env::process())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    // A second init (tests) keeps the first subscriber: not worth failing a start over.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.without_time().try_init()
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_for(pairs: &[(&'static str, &'static str)]) -> Result<(String, bool), ConfigError> {
        let pairs = pairs.to_vec();
        let env = Env::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        settings(&env).map(|(filter, json)| (filter.to_string(), json))
    }

    #[test]
    fn lambda_level_wins_over_rust_log() {
        let (filter, json) =
            settings_for(&[("AWS_LAMBDA_LOG_LEVEL", "fatal"), ("RUST_LOG", "debug")])
                .expect("valid");
        assert_eq!(filter, "error");
        assert!(!json);
    }

    #[test]
    fn json_format_and_rust_log_directives() {
        let (filter, json) = settings_for(&[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("RUST_LOG", "gitsync=debug"),
        ])
        .expect("valid");
        assert_eq!(filter, "gitsync=debug");
        assert!(json);
    }

    #[test]
    fn bad_levels_name_the_variable() {
        let err = settings_for(&[("AWS_LAMBDA_LOG_LEVEL", "LOUD")]).unwrap_err();
        assert!(
            err.to_string().contains("AWS_LAMBDA_LOG_LEVEL is \"LOUD\""),
            "{err}"
        );
        let err = settings_for(&[("RUST_LOG", "gitsync=[")]).unwrap_err();
        assert!(err.to_string().contains("RUST_LOG"), "{err}");
    }
}
