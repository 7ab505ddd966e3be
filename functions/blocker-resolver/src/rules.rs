//! The operator's rules: read as a document, compiled once, then matched against blockers.
//!
//! A rules document is YAML or JSON: a list of rules, or a mapping whose only key `rules`
//! holds that list. Reading it into [`RuleDoc`]s (serde, unknown fields denied) catches the
//! mistakes of shape, each named by its path; compiling checks what a type cannot say:
//! required fields, regular expressions, durations, statuses, the recorded reason's length and
//! which fields go together. Every mistake names the rule (position and name) and the field,
//! because a rule that silently means something else could resolve the wrong blocker.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use gitsync::domain::sync::SyncBlocker;
use regex::Regex;
use serde::de::Unexpected;
use serde::{Deserialize, Deserializer};
use serde_path_to_error::Segment;
use serde_yaml_ng::Value;
use thiserror::Error;

/// UpdateSyncBlocker's ResolvedReason: 1 to 250 characters.
pub const MAX_RESOLVED_REASON_CHARS: usize = 250;
/// The API's longest sync blocker Id (shape `Id`, 1 to 50 characters).
pub const MAX_BLOCKER_ID_CHARS: usize = 50;
/// The loop guard also counts the ledger's resolution entries, which live 30 days: a longer
/// window would count fewer resolutions than it promises.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);
const MAX_NAME_CHARS: usize = 64;
const PLACEHOLDER_RULE: &str = "{rule}";
pub const PLACEHOLDER_BLOCKER_ID: &str = "{blocker_id}";
const DURATION_EXPECTED: &str = "a duration such as \"10m\", \"6h\" or \"1h 30m\"";

/// Every CloudFormation stack status (aws-sdk-cloudformation's `StackStatus`).
pub const STACK_STATUSES: [&str; 23] = [
    "CREATE_COMPLETE",
    "CREATE_FAILED",
    "CREATE_IN_PROGRESS",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
    "DELETE_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_COMPLETE",
    "IMPORT_ROLLBACK_FAILED",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "REVIEW_IN_PROGRESS",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "UPDATE_COMPLETE",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
];

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RulesError {
    #[error("the rules are not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error(
        "the rules must be a list of rules, or a mapping with one key `rules` holding that list; {0}"
    )]
    Shape(String),
    #[error("the document is empty; write `[]` for no rules (then nothing is ever resolved)")]
    Empty,
    /// A rule as written does not fit the format (serde's message, at `path`).
    #[error("{rule}: {path}: {problem}")]
    Document {
        rule: String,
        path: String,
        problem: String,
    },
    #[error("{rule}: field `{field}`: {problem}")]
    Field {
        rule: String,
        field: &'static str,
        problem: String,
    },
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Resolve,
    Ignore,
}

/// The loop guard: at most `max_resolutions` blockers resolved on one stack per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopGuard {
    pub max_resolutions: u32,
    pub window: Duration,
}

/// What a `resolve` rule records and the guards it must pass.
#[derive(Debug, Clone)]
pub struct Resolution {
    reason: ReasonTemplate,
    pub min_age: Option<Duration>,
    pub stack_status_in: Option<BTreeSet<String>>,
    pub loop_guard: Option<LoopGuard>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    /// Position in the list, from 1.
    pub position: usize,
    reason: Regex,
    contexts: Vec<(String, Regex)>,
    /// `None` for an `ignore` rule.
    resolution: Option<Resolution>,
}

impl Rule {
    pub fn action(&self) -> Action {
        if self.resolution.is_some() {
            Action::Resolve
        } else {
            Action::Ignore
        }
    }

    pub fn resolution(&self) -> Option<&Resolution> {
        self.resolution.as_ref()
    }

    /// The regular expression searched in CreatedReason, as written.
    pub fn reason_pattern(&self) -> &str {
        self.reason.as_str()
    }

    /// Each context key with the regular expression its value must match, as written.
    pub fn contexts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.contexts
            .iter()
            .map(|(key, pattern)| (key.as_str(), pattern.as_str()))
    }

    /// The CreatedReason pattern and every context pattern match.
    pub fn matches(&self, blocker: &SyncBlocker) -> bool {
        self.reason.is_match(&blocker.created_reason)
            && self.contexts.iter().all(|(key, pattern)| {
                blocker
                    .contexts
                    .iter()
                    .any(|(k, value)| k == key && pattern.is_match(value))
            })
    }
}

impl Resolution {
    /// The ResolvedReason recorded on `blocker_id`.
    pub fn resolved_reason(&self, blocker_id: &str) -> String {
        self.reason.expand(blocker_id)
    }

    /// The most characters `resolved_reason` can return, for the longest blocker Id.
    pub fn longest_reason_chars(&self) -> usize {
        self.reason.longest_chars
    }

    /// Whether `resolved_reason` is one this rule records (for any blocker Id).
    pub fn recorded(&self, resolved_reason: &str) -> bool {
        self.reason.pattern.is_match(resolved_reason)
    }
}

/// A `resolved_reason` with the rule name already in place; the blocker Id is filled in
/// per blocker.
#[derive(Debug, Clone)]
struct ReasonTemplate {
    /// Literal text between the `{blocker_id}` placeholders.
    pieces: Vec<String>,
    /// Recognises the expansions of this template, whatever the blocker Id.
    pattern: Regex,
    longest_chars: usize,
}

impl ReasonTemplate {
    fn parse(template: &str, rule: &str) -> Result<Self, String> {
        if template.trim().is_empty() {
            return Err(
                "must not be empty: it is what the blocker's history shows as the reason".into(),
            );
        }
        let mut pieces = vec![String::new()];
        let mut rest = template;
        while let Some(at) = rest.find(['{', '}']) {
            let (text, tail) = rest.split_at(at);
            push_text(&mut pieces, text);
            if let Some(after) = tail.strip_prefix("{{") {
                push_text(&mut pieces, "{");
                rest = after;
            } else if let Some(after) = tail.strip_prefix("}}") {
                push_text(&mut pieces, "}");
                rest = after;
            } else if let Some(after) = tail.strip_prefix(PLACEHOLDER_RULE) {
                push_text(&mut pieces, rule);
                rest = after;
            } else if let Some(after) = tail.strip_prefix(PLACEHOLDER_BLOCKER_ID) {
                pieces.push(String::new());
                rest = after;
            } else {
                let shown: String = tail.chars().take(20).collect();
                return Err(format!(
                    "unknown placeholder at {shown:?}: the placeholders are {PLACEHOLDER_RULE} and \
                     {PLACEHOLDER_BLOCKER_ID}; write {{{{ and }}}} for literal braces"
                ));
            }
        }
        push_text(&mut pieces, rest);

        let literal_chars: usize = pieces.iter().map(|piece| piece.chars().count()).sum();
        let longest_chars = literal_chars + (pieces.len() - 1) * MAX_BLOCKER_ID_CHARS;
        if longest_chars > MAX_RESOLVED_REASON_CHARS {
            return Err(format!(
                "expands to up to {longest_chars} characters (rule name in place, blocker Ids of \
                 up to {MAX_BLOCKER_ID_CHARS}); UpdateSyncBlocker accepts at most \
                 {MAX_RESOLVED_REASON_CHARS}"
            ));
        }
        let body: Vec<String> = pieces.iter().map(|piece| regex::escape(piece)).collect();
        let pattern = Regex::new(&format!(
            "^(?s:{})$",
            body.join(&format!(".{{1,{MAX_BLOCKER_ID_CHARS}}}"))
        ))
        .map_err(|err| format!("cannot be recognised in the blocker history: {err}"))?;
        Ok(Self {
            pieces,
            pattern,
            longest_chars,
        })
    }

    fn expand(&self, blocker_id: &str) -> String {
        self.pieces.join(blocker_id)
    }
}

fn push_text(pieces: &mut [String], text: &str) {
    if let Some(last) = pieces.last_mut() {
        last.push_str(text);
    }
}

/// The compiled rules, in the operator's order.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Parses, checks and compiles a YAML or JSON rules document.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let document = read_document(text)?;
        compile(rules_as_written(&document)?)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule that decides `blocker`: the first that matches.
    pub fn first_match(&self, blocker: &SyncBlocker) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.matches(blocker))
    }

    /// Whether a ResolvedReason is one any rule records: that blocker was resolved by us.
    pub fn recorded_by_us(&self, resolved_reason: &str) -> bool {
        self.rules
            .iter()
            .filter_map(Rule::resolution)
            .any(|resolution| resolution.recorded(resolved_reason))
    }
}

// ---------------------------------------------------------------------------------------------
// The document as written.

/// `{rules: [...]}`, the second form of the document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    /// `None` when missing, `Some(None)` when written empty: serde would read an empty
    /// `rules:` as no rule at all, and an operator who forgot to indent the list means some.
    #[serde(default, deserialize_with = "written")]
    rules: Option<Option<Vec<RuleDoc>>>,
}

/// One rule as written. The required fields are optional here so that the compile step says
/// what each one is for; the resolve-only fields keep whether they were written at all, even
/// empty, because on an `ignore` rule writing one is the mistake (a guard the operator
/// believes in would do nothing).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with the fields name, reason, contexts, action, resolved_reason, \
                 min_age, stack_status_in, max_resolutions, window"
)]
struct RuleDoc {
    name: Option<String>,
    reason: Option<String>,
    contexts: Option<BTreeMap<String, String>>,
    action: Option<String>,
    #[serde(default, deserialize_with = "written")]
    resolved_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "written")]
    min_age: Option<Option<DurationText>>,
    #[serde(default, deserialize_with = "written")]
    stack_status_in: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "written")]
    max_resolutions: Option<Option<Count>>,
    #[serde(default, deserialize_with = "written")]
    window: Option<Option<DurationText>>,
}

impl RuleDoc {
    /// The first resolve-only field written, in the order of the format's table.
    fn resolve_only_field(&self) -> Option<&'static str> {
        [
            ("resolved_reason", self.resolved_reason.is_some()),
            ("min_age", self.min_age.is_some()),
            ("stack_status_in", self.stack_status_in.is_some()),
            ("max_resolutions", self.max_resolutions.is_some()),
            ("window", self.window.is_some()),
        ]
        .into_iter()
        .find_map(|(field, written)| written.then_some(field))
    }
}

/// Called only for a field that is there: `Some`, whatever its value, `null` included.
fn written<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A duration as written, read by humantime when compiling. A type of its own so that
/// serde's message for a number (`min_age: 600`) says what a duration looks like.
#[derive(Debug)]
struct DurationText(String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = DurationText;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(DURATION_EXPECTED)
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<DurationText, E> {
                Ok(DurationText(text.to_owned()))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// `max_resolutions` as written. A type of its own so that serde's message for `-1` or `2.5`
/// speaks of resolutions rather than of `u32`; 0 fits here and is refused when compiling,
/// where the message can say what to write instead.
#[derive(Debug)]
struct Count(u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Number;
        impl serde::de::Visitor<'_> for Number {
            type Value = Count;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a whole number of resolutions, at least 1")
            }

            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Count, E> {
                u32::try_from(number)
                    .map(Count)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(number), &self))
            }

            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Count, E> {
                match u64::try_from(number) {
                    Ok(number) => self.visit_u64(number),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(number), &self)),
                }
            }
        }
        deserializer.deserialize_u32(Number)
    }
}

/// JSON when it looks like JSON (a document YAML may read differently), YAML otherwise.
fn read_document(text: &str) -> Result<Value, RulesError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            return Ok(value);
        }
        // A YAML flow collection such as `[{name: a, ...}]` is not JSON but is fine YAML.
        return serde_yaml_ng::from_str(text).map_err(|err| RulesError::Syntax {
            format: "JSON or YAML",
            message: err.to_string(),
        });
    }
    serde_yaml_ng::from_str(text).map_err(|err| RulesError::Syntax {
        format: "YAML",
        message: err.to_string(),
    })
}

/// The rules as written, in either form of the document. The document is read as a `Value`
/// first: JSON and YAML then share one reader, and a Value does not turn `name: 123` into the
/// string "123" as reading YAML text into a `String` would.
fn rules_as_written(document: &Value) -> Result<Vec<RuleDoc>, RulesError> {
    match document {
        Value::Null => Err(RulesError::Empty),
        Value::Sequence(_) => read(document),
        Value::Mapping(_) => match read::<Wrapped>(document)?.rules {
            Some(Some(rules)) => Ok(rules),
            Some(None) => Err(RulesError::Shape("`rules` is empty".into())),
            None => Err(RulesError::Shape("`rules` is missing".into())),
        },
        other => Err(RulesError::Shape(format!("got {}", kind_of(other)))),
    }
}

fn read<'de, T: Deserialize<'de>>(document: &'de Value) -> Result<T, RulesError> {
    serde_path_to_error::deserialize(document).map_err(|err| {
        let path = err.path().to_string();
        let problem = err.inner().to_string();
        // The first index on the path is the rule's: `[2].min_age` or `rules[2].min_age`.
        let index = err.path().iter().find_map(|segment| match segment {
            Segment::Seq { index } => Some(*index),
            _ => None,
        });
        match index {
            Some(index) => RulesError::Document {
                rule: label(index + 1, rule_name(document, index)),
                path,
                problem,
            },
            None if err.path().iter().next().is_none() => RulesError::Shape(problem),
            None => RulesError::Shape(format!("{path}: {problem}")),
        }
    })
}

/// The name of the rule at `index` as written, if it is a string, to label its errors.
fn rule_name(document: &Value, index: usize) -> Option<&str> {
    document
        .get("rules")
        .unwrap_or(document)
        .get(index)?
        .get("name")?
        .as_str()
}

fn label(position: usize, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("rule #{position} {name:?}"),
        None => format!("rule #{position}"),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling: from the rules as written to the rules matched.

fn compile(written: Vec<RuleDoc>) -> Result<RuleSet, RulesError> {
    let mut rules: Vec<Rule> = Vec::with_capacity(written.len());
    for (index, doc) in written.into_iter().enumerate() {
        let rule = compile_rule(index + 1, doc)?;
        if let Some(first) = rules.iter().find(|r| r.name == rule.name) {
            return Err(RulesError::Field {
                rule: label(rule.position, Some(&rule.name)),
                field: "name",
                problem: format!(
                    "rule #{} already has this name; names identify rules in reports and \
                     in the recorded reasons, so they must be unique",
                    first.position
                ),
            });
        }
        rules.push(rule);
    }
    Ok(RuleSet { rules })
}

/// Names the rule in every error of its fields.
struct Checker {
    rule: String,
}

impl Checker {
    fn error(&self, field: &'static str, problem: impl Into<String>) -> RulesError {
        RulesError::Field {
            rule: self.rule.clone(),
            field,
            problem: problem.into(),
        }
    }

    fn required<T>(
        &self,
        field: &'static str,
        value: Option<T>,
        expected: &str,
    ) -> Result<T, RulesError> {
        value.ok_or_else(|| self.error(field, format!("is required: {expected}")))
    }

    fn regex(&self, field: &'static str, pattern: &str) -> Result<Regex, RulesError> {
        Regex::new(pattern)
            .map_err(|err| self.error(field, format!("is not a valid regular expression: {err}")))
    }

    fn duration(
        &self,
        field: &'static str,
        text: Option<DurationText>,
    ) -> Result<Option<Duration>, RulesError> {
        text.map(|DurationText(text)| {
            humantime::parse_duration(&text).map_err(|err| {
                self.error(field, format!("{text:?} is not {DURATION_EXPECTED}: {err}"))
            })
        })
        .transpose()
    }
}

fn compile_rule(position: usize, mut doc: RuleDoc) -> Result<Rule, RulesError> {
    let check = Checker {
        rule: label(position, doc.name.as_deref()),
    };
    let name = compile_name(&check, doc.name.take())?;
    let reason = check.required(
        "reason",
        doc.reason.take(),
        "a regular expression on CreatedReason",
    )?;
    let reason = check.regex("reason", &reason)?;
    let contexts = doc
        .contexts
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|(key, pattern)| Ok((key, check.regex("contexts", &pattern)?)))
        .collect::<Result<Vec<_>, RulesError>>()?;
    let action = check.required("action", doc.action.take(), "`resolve` or `ignore`")?;
    let resolution = match action.as_str() {
        "resolve" => Some(compile_resolution(&check, doc, &name)?),
        "ignore" => match doc.resolve_only_field() {
            Some(field) => {
                return Err(check.error(
                    field,
                    "applies only to `action: resolve`; an ignore rule leaves its blockers alone",
                ));
            }
            None => None,
        },
        other => {
            return Err(check.error(
                "action",
                format!("{other:?} is not an action: `resolve` or `ignore`"),
            ));
        }
    };
    Ok(Rule {
        name,
        position,
        reason,
        contexts,
        resolution,
    })
}

fn compile_name(check: &Checker, name: Option<String>) -> Result<String, RulesError> {
    let name = check.required("name", name, "a name such as \"transient-throttling\"")?;
    if !valid_name(&name) {
        return Err(check.error(
            "name",
            format!(
                "{name:?} is not a valid name: 1 to {MAX_NAME_CHARS} of A-Z a-z 0-9 _ . -, \
                 starting with a letter or digit"
            ),
        ));
    }
    Ok(name)
}

fn compile_resolution(check: &Checker, doc: RuleDoc, name: &str) -> Result<Resolution, RulesError> {
    let template = check.required(
        "resolved_reason",
        doc.resolved_reason.flatten(),
        "the text recorded on the blocker, with {rule} and {blocker_id} placeholders",
    )?;
    let reason = ReasonTemplate::parse(&template, name)
        .map_err(|problem| check.error("resolved_reason", problem))?;
    Ok(Resolution {
        reason,
        min_age: check.duration("min_age", doc.min_age.flatten())?,
        stack_status_in: doc
            .stack_status_in
            .flatten()
            .map(|statuses| compile_statuses(check, statuses))
            .transpose()?,
        loop_guard: compile_loop_guard(
            check,
            doc.max_resolutions.flatten().map(|Count(count)| count),
            check.duration("window", doc.window.flatten())?,
        )?,
    })
}

fn compile_statuses(
    check: &Checker,
    statuses: Vec<String>,
) -> Result<BTreeSet<String>, RulesError> {
    if statuses.is_empty() {
        return Err(check.error(
            "stack_status_in",
            "must list at least one status (leave it out to skip the check)",
        ));
    }
    if let Some(unknown) = statuses
        .iter()
        .find(|status| !STACK_STATUSES.contains(&status.as_str()))
    {
        return Err(check.error(
            "stack_status_in",
            format!(
                "{unknown:?} is not a CloudFormation stack status; the statuses are {}",
                STACK_STATUSES.join(", ")
            ),
        ));
    }
    Ok(statuses.into_iter().collect())
}

fn compile_loop_guard(
    check: &Checker,
    max_resolutions: Option<u32>,
    window: Option<Duration>,
) -> Result<Option<LoopGuard>, RulesError> {
    match (max_resolutions, window) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(check.error(
            "window",
            "is required with max_resolutions: the period over which resolutions are counted",
        )),
        (None, Some(_)) => Err(check.error(
            "max_resolutions",
            "is required with window: how many resolutions the window allows",
        )),
        (Some(0), Some(_)) => Err(check.error(
            "max_resolutions",
            "must be at least 1; to never resolve these blockers, use `action: ignore`",
        )),
        (Some(_), Some(window)) if window.is_zero() || window > MAX_WINDOW => Err(check.error(
            "window",
            format!(
                "must be longer than 0 and at most {} (how long the ledger remembers \
                 resolutions)",
                humantime::format_duration(MAX_WINDOW)
            ),
        )),
        (Some(max_resolutions), Some(window)) => Ok(Some(LoopGuard {
            max_resolutions,
            window,
        })),
    }
}

fn valid_name(name: &str) -> bool {
    name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::sync::BlockerStatus;

    fn blocker(reason: &str, contexts: &[(&str, &str)]) -> SyncBlocker {
        SyncBlocker {
            id: "b-1".into(),
            status: BlockerStatus::Active,
            created_reason: reason.into(),
            contexts: contexts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            created_at: None,
            resolved_at: None,
            resolved_reason: None,
        }
    }

    const EXAMPLE: &str = include_str!("../rules.example.yaml");

    #[test]
    fn the_example_rules_compile_and_read_in_order() {
        let rules = RuleSet::parse(EXAMPLE).expect("the example is valid");
        let names: Vec<&str> = rules.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "never-touch-failed-rollbacks",
                "transient-throttling",
                "dependency-deployed-since",
                "stack-busy-elsewhere",
            ]
        );
    }

    #[test]
    fn an_empty_list_is_no_rule_at_all() {
        for text in ["[]", "rules: []", "{\"rules\": []}"] {
            let rules = RuleSet::parse(text).expect(text);
            assert!(rules.rules().is_empty());
        }
    }

    #[test]
    fn the_main_readme_inline_example_parses() {
        let inline = "[{name: in-progress, reason: 'is in UPDATE_IN_PROGRESS state and can not be updated', \
                      action: resolve, resolved_reason: 'gitsync-guard {rule}: retried after the concurrent update ended', \
                      min_age: 10m, stack_status_in: [UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE]}]";
        let rules = RuleSet::parse(inline).expect("flow YAML");
        let resolution = rules.rules()[0].resolution().expect("resolves");
        assert_eq!(
            resolution.resolved_reason("b"),
            "gitsync-guard in-progress: retried after the concurrent update ended"
        );
    }

    #[test]
    fn json_and_a_bare_list_are_accepted() {
        let json = r#"[{"name": "a", "reason": "x", "action": "resolve",
                        "resolved_reason": "by {rule}", "min_age": "5m"}]"#;
        let rules = RuleSet::parse(json).expect("JSON list");
        assert_eq!(
            rules.rules()[0].resolution().and_then(|r| r.min_age),
            Some(Duration::from_secs(300))
        );
        let wrapped = r#"{"rules": [{"name": "a", "reason": "x", "action": "ignore"}]}"#;
        assert_eq!(
            RuleSet::parse(wrapped).expect("JSON mapping").rules().len(),
            1
        );
        let flow = "[{name: a, reason: x, action: ignore}]";
        assert_eq!(RuleSet::parse(flow).expect("YAML flow").rules().len(), 1);
    }

    #[test]
    fn matching_needs_the_reason_and_every_context() {
        let rules = RuleSet::parse(
            "- name: r\n  reason: '(?i)rate exceeded'\n  contexts: {StackStatus: '^UPDATE_'}\n  action: ignore\n",
        )
        .expect("valid");
        let rule = &rules.rules()[0];
        assert!(rule.matches(&blocker(
            "Rate exceeded",
            &[("StackStatus", "UPDATE_COMPLETE")]
        )));
        assert!(!rule.matches(&blocker("Rate exceeded", &[])));
        assert!(!rule.matches(&blocker(
            "Rate exceeded",
            &[("StackStatus", "CREATE_COMPLETE")]
        )));
        assert!(!rule.matches(&blocker(
            "Access denied",
            &[("StackStatus", "UPDATE_COMPLETE")]
        )));
    }

    #[test]
    fn placeholders_expand_and_the_expansion_is_recognised() {
        let rules = RuleSet::parse(
            "- name: flaky\n  reason: x\n  action: resolve\n  resolved_reason: 'gitsync-guard {rule} resolved {blocker_id} {{auto}}'\n",
        )
        .expect("valid");
        let resolution = rules.rules()[0].resolution().expect("resolve rule");
        let reason = resolution.resolved_reason("abc-123");
        assert_eq!(reason, "gitsync-guard flaky resolved abc-123 {auto}");
        assert!(rules.recorded_by_us(&reason));
        assert!(!rules.recorded_by_us("Fixed the IAM policy by hand"));
        assert!(!rules.recorded_by_us("gitsync-guard other resolved abc-123 {auto}"));
    }

    #[test]
    fn the_longest_expansion_is_checked_at_load_time() {
        // 200 literal characters + one Id of up to 50 = 250: accepted.
        let fits = format!(
            "- name: r\n  reason: x\n  action: resolve\n  resolved_reason: '{}{{blocker_id}}'\n",
            "a".repeat(200)
        );
        assert!(RuleSet::parse(&fits).is_ok());
        let too_long = format!(
            "- name: r\n  reason: x\n  action: resolve\n  resolved_reason: '{}{{blocker_id}}'\n",
            "a".repeat(201)
        );
        let err = RuleSet::parse(&too_long).expect_err("251 characters");
        assert!(
            err.to_string().starts_with(
                "rule #1 \"r\": field `resolved_reason`: expands to up to 251 characters"
            ),
            "{err}"
        );
    }

    #[test]
    fn every_mistake_names_the_rule_and_the_field() {
        let ok = "- name: fine\n  reason: x\n  action: ignore\n";
        let cases: &[(&str, &str)] = &[
            ("name: x", "must be a list of rules"),
            ("", "the document is empty; write `[]` for no rules"),
            ("# only a comment", "the document is empty"),
            ("rules: {}", "rules: invalid type: map, expected a sequence"),
            ("rulez: []", "unknown field `rulez`, expected `rules`"),
            (
                "- just text",
                "rule #1: [0]: invalid type: string \"just text\", expected a mapping with the fields name",
            ),
            (
                "- name: a\n  reason: x\n  action: ignore\n  stack_status: [UPDATE_COMPLETE]",
                "rule #1 \"a\": [0].stack_status: unknown field `stack_status`, expected one of `name`",
            ),
            (
                "- reason: x\n  action: ignore",
                "rule #1: field `name`: is required",
            ),
            (
                "- name: 'has space'\n  reason: x\n  action: ignore",
                "field `name`: \"has space\" is not a valid name",
            ),
            (
                "- name: a\n  action: ignore",
                "rule #1 \"a\": field `reason`: is required",
            ),
            (
                "- name: a\n  reason: '(unclosed'\n  action: ignore",
                "field `reason`: is not a valid regular expression",
            ),
            (
                "- name: a\n  reason: x\n  contexts: {K: '['}\n  action: ignore",
                "field `contexts`: is not a valid regular expression",
            ),
            (
                "- name: a\n  reason: x\n  contexts: [K]\n  action: ignore",
                "rule #1 \"a\": [0].contexts: invalid type: sequence, expected a map",
            ),
            ("- name: a\n  reason: x", "field `action`: is required"),
            (
                "- name: a\n  reason: x\n  action: delete",
                "field `action`: \"delete\" is not an action",
            ),
            (
                "- name: a\n  reason: x\n  action: ignore\n  min_age: 5m",
                "field `min_age`: applies only to `action: resolve`",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve",
                "field `resolved_reason`: is required",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: '  '",
                "field `resolved_reason`: must not be empty",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: 'by {who}'",
                "field `resolved_reason`: unknown placeholder at \"{who}\"",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  min_age: soon",
                "field `min_age`: \"soon\" is not a duration",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  min_age: 600",
                "[0].min_age: invalid type: integer `600`, expected a duration such as \"10m\", \"6h\" or \"1h 30m\"",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  stack_status_in: [UPDATE_COMPLET]",
                "field `stack_status_in`: \"UPDATE_COMPLET\" is not a CloudFormation stack status",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  stack_status_in: []",
                "field `stack_status_in`: must list at least one status",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  max_resolutions: 3",
                "field `window`: is required with max_resolutions",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  window: 1h",
                "field `max_resolutions`: is required with window",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  max_resolutions: 0\n  window: 1h",
                "field `max_resolutions`: must be at least 1",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  max_resolutions: -1\n  window: 1h",
                "[0].max_resolutions: invalid value: integer `-1`, expected a whole number of resolutions",
            ),
            (
                "- name: a\n  reason: x\n  action: resolve\n  resolved_reason: r\n  max_resolutions: 2\n  window: 31days",
                "field `window`: must be longer than 0 and at most 30days",
            ),
            ("- name: a\n  reason: [x\n", "not valid YAML"),
            ("[{\"name\": \"a\"", "not valid JSON or YAML"),
        ];
        for (text, expected) in cases {
            let err = RuleSet::parse(text).expect_err(text);
            assert!(
                err.to_string().contains(expected),
                "{text:?}: {err}\n  lacks {expected:?}"
            );
        }
        let duplicate = format!("{ok}{ok}");
        let err = RuleSet::parse(&duplicate).expect_err("duplicate names");
        assert!(
            err.to_string()
                .starts_with("rule #2 \"fine\": field `name`: rule #1 already has this name"),
            "{err}"
        );
    }

    #[test]
    fn both_forms_of_the_document_read_the_same_rules() {
        let rule =
            "{name: a, reason: x, action: resolve, resolved_reason: 'by {rule}', min_age: 5m}";
        for text in [format!("[{rule}]"), format!("rules: [{rule}]")] {
            let rules = RuleSet::parse(&text).expect(&text);
            let [only] = rules.rules() else {
                panic!("{text}: one rule");
            };
            assert_eq!(only.name, "a");
            let resolution = only.resolution().expect("a resolve rule");
            assert_eq!(resolution.min_age, Some(Duration::from_secs(300)));
            assert_eq!(resolution.resolved_reason("b"), "by a");
        }
    }

    #[test]
    fn an_unknown_field_is_rejected_with_its_path() {
        let ok = "{name: ok, reason: x, action: ignore}";
        let bad = "{name: typo, reason: x, action: ignore, stack_status_in: [UPDATE_COMPLETE], windw: 1h}";
        for (text, path) in [
            (format!("[{ok}, {bad}]"), "[1].windw"),
            (format!("rules: [{ok}, {bad}]"), "rules[1].windw"),
        ] {
            let err = RuleSet::parse(&text).expect_err(&text).to_string();
            assert!(
                err.starts_with(&format!(
                    "rule #2 \"typo\": {path}: unknown field `windw`, expected one of"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_path_and_what_is_expected() {
        let cases = [
            (
                "- name: 7\n  reason: x\n  action: ignore",
                "rule #1: [0].name: invalid type: integer `7`, expected a string",
            ),
            (
                "rules:\n  - {name: a, reason: x, action: resolve, resolved_reason: r, stack_status_in: [UPDATE_COMPLETE, 5]}",
                "rule #1 \"a\": rules[0].stack_status_in[1]: invalid type: integer `5`, expected a string",
            ),
            (
                "[{\"name\": \"a\", \"reason\": \"x\", \"action\": \"resolve\", \"resolved_reason\": \"r\", \"max_resolutions\": 2.5, \"window\": \"1h\"}]",
                "rule #1 \"a\": [0].max_resolutions: invalid type: floating point `2.5`, expected a whole number of resolutions, at least 1",
            ),
            (
                "- {name: a, reason: x, action: ignore, contexts: {K: 5}}",
                "rule #1 \"a\": [0].contexts.K: invalid type: integer `5`, expected a string",
            ),
        ];
        for (text, expected) in cases {
            let err = RuleSet::parse(text).expect_err(text);
            assert_eq!(err.to_string(), expected, "{text}");
        }
    }

    #[test]
    fn a_field_written_empty_still_counts_as_written() {
        // serde reads an empty value as absent; these two must stay mistakes.
        let err = RuleSet::parse("- name: a\n  reason: x\n  action: ignore\n  min_age:\n")
            .expect_err("a guard on an ignore rule");
        assert!(
            err.to_string()
                .contains("field `min_age`: applies only to `action: resolve`"),
            "{err}"
        );
        let err = RuleSet::parse("rules:\n").expect_err("an empty `rules`");
        assert!(err.to_string().ends_with("`rules` is empty"), "{err}");
    }
}
