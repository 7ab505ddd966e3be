//! The binary outside Lambda: `blocker-resolver --check-rules FILE` checks a rules file and
//! prints what each rule means, so that a change can be tested before it is deployed.
//! Without arguments the binary is the Lambda function.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::rules::RuleSet;

mod explain;

pub const USAGE: &str = "\
usage: blocker-resolver --check-rules FILE

Checks a rules file (YAML or JSON, the format of RESOLVER_RULES) and prints what each rule
means. Exit status: 0 when the rules are valid, 1 when they are not or FILE cannot be read,
2 on a usage error. Without arguments, blocker-resolver runs as an AWS Lambda function.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    CheckRules(PathBuf),
    Help,
    /// The arguments make no sense; the text says why.
    Misused(String),
}

impl Command {
    /// `None` when there are no arguments: the Lambda function.
    pub fn from_args(args: impl IntoIterator<Item = OsString>) -> Option<Self> {
        let mut args = args.into_iter();
        let first = args.next()?;
        let command = match first.to_str() {
            Some("--check-rules") => match (args.next(), args.next()) {
                (Some(file), None) => Self::CheckRules(PathBuf::from(file)),
                (None, _) => Self::Misused("--check-rules needs a FILE".into()),
                (Some(_), Some(extra)) => Self::Misused(format!(
                    "unexpected argument {:?} after the FILE",
                    extra.to_string_lossy()
                )),
            },
            Some("--help" | "-h") => Self::Help,
            _ => Self::Misused(format!("unknown argument {:?}", first.to_string_lossy())),
        };
        Some(command)
    }

    /// Runs the command, printing to stdout (results) or stderr (errors).
    pub fn run(self) -> ExitCode {
        match self {
            Self::CheckRules(path) => match check_rules_file(&path) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(text) => {
                    eprintln!("{text}");
                    ExitCode::FAILURE
                }
            },
            Self::Help => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Self::Misused(problem) => {
                eprintln!("blocker-resolver: {problem}\n\n{USAGE}");
                ExitCode::from(2)
            }
        }
    }
}

/// What `--check-rules` prints: the meaning of each rule, or why the file is invalid.
pub fn check_rules_file(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|err| format!("{shown}: cannot read: {err}"))?;
    let rules = RuleSet::parse(&text).map_err(|err| format!("{shown}: invalid: {err}"))?;
    Ok(format!(
        "{shown}: {} valid rule(s)\n\n{}",
        rules.rules().len(),
        explain::rule_set(&rules)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Option<Command> {
        Command::from_args(args.iter().map(OsString::from))
    }

    #[test]
    fn no_arguments_means_lambda() {
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn arguments_are_read_strictly() {
        assert_eq!(
            parse(&["--check-rules", "rules.yaml"]),
            Some(Command::CheckRules("rules.yaml".into()))
        );
        assert_eq!(parse(&["-h"]), Some(Command::Help));
        for (args, expected) in [
            (&["--check-rules"][..], "needs a FILE"),
            (
                &["--check-rules", "a", "b"][..],
                "unexpected argument \"b\"",
            ),
            (&["--check"][..], "unknown argument \"--check\""),
        ] {
            match parse(args) {
                Some(Command::Misused(problem)) => {
                    assert!(problem.contains(expected), "{args:?}: {problem}");
                }
                other => panic!("{args:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err =
            check_rules_file(std::path::Path::new("/nonexistent/rules.yaml")).expect_err("missing");
        assert!(
            err.starts_with("/nonexistent/rules.yaml: cannot read"),
            "{err}"
        );
    }
}
