//! The operator's rules: parsed, checked and compiled once, then matched against blockers.
//!
//! A rules document is YAML or JSON: a list of rules, or a mapping whose only key `rules`
//! holds that list. Every mistake is reported with the rule (position and name) and the
//! field, because a rule that silently means something else could resolve the wrong blocker.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use gitsync::domain::sync::SyncBlocker;
use regex::Regex;
use serde::de::DeserializeOwned;
use serde_yaml_ng::{Mapping, Value};
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

const FIELDS: [&str; 9] = [
    "name",
    "reason",
    "contexts",
    "action",
    "resolved_reason",
    "min_age",
    "stack_status_in",
    "max_resolutions",
    "window",
];
/// The fields that only mean something when the rule resolves.
const RESOLVE_ONLY_FIELDS: [&str; 5] = [
    "resolved_reason",
    "min_age",
    "stack_status_in",
    "max_resolutions",
    "window",
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
    #[error("{rule}: {problem}")]
    Rule { rule: String, problem: String },
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
        let items = match document {
            Value::Sequence(items) => items,
            Value::Mapping(mut mapping) => {
                let extra: Vec<String> = mapping
                    .keys()
                    .filter(|key| key.as_str() != Some("rules"))
                    .map(describe_key)
                    .collect();
                if !extra.is_empty() {
                    return Err(RulesError::Shape(format!(
                        "unexpected top-level key(s) {}",
                        extra.join(", ")
                    )));
                }
                match mapping.remove("rules") {
                    Some(Value::Sequence(items)) => items,
                    Some(other) => {
                        return Err(RulesError::Shape(format!("`rules` is {}", kind_of(&other))));
                    }
                    None => return Err(RulesError::Shape("`rules` is missing".into())),
                }
            }
            Value::Null => return Err(RulesError::Empty),
            other => return Err(RulesError::Shape(format!("got {}", kind_of(&other)))),
        };
        let mut rules: Vec<Rule> = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let rule = compile_rule(index + 1, item)?;
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
        Ok(Self { rules })
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

fn describe_key(key: &Value) -> String {
    match key.as_str() {
        Some(key) => format!("`{key}`"),
        None => kind_of(key).to_owned(),
    }
}

/// One rule's fields, read one at a time so that every error names its field.
struct Fields {
    rule: String,
    mapping: Mapping,
}

impl Fields {
    fn error(&self, field: &'static str, problem: impl Into<String>) -> RulesError {
        RulesError::Field {
            rule: self.rule.clone(),
            field,
            problem: problem.into(),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        field: &'static str,
        expected: &str,
    ) -> Result<Option<T>, RulesError> {
        match self.mapping.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_yaml_ng::from_value(value.clone())
                .map(Some)
                .map_err(|_| {
                    self.error(
                        field,
                        format!("expected {expected}, got {}", kind_of(value)),
                    )
                }),
        }
    }

    fn required<T: DeserializeOwned>(
        &self,
        field: &'static str,
        expected: &str,
    ) -> Result<T, RulesError> {
        self.get(field, expected)?
            .ok_or_else(|| self.error(field, format!("is required: {expected}")))
    }

    fn regex(&self, field: &'static str, pattern: &str) -> Result<Regex, RulesError> {
        Regex::new(pattern)
            .map_err(|err| self.error(field, format!("is not a valid regular expression: {err}")))
    }

    fn duration(&self, field: &'static str) -> Result<Option<Duration>, RulesError> {
        const EXPECTED: &str = "a duration such as \"10m\", \"6h\" or \"1h 30m\"";
        let Some(text) = self.get::<String>(field, EXPECTED)? else {
            return Ok(None);
        };
        let duration = humantime::parse_duration(&text)
            .map_err(|err| self.error(field, format!("{text:?} is not {EXPECTED}: {err}")))?;
        Ok(Some(duration))
    }
}

fn compile_rule(position: usize, item: Value) -> Result<Rule, RulesError> {
    let Value::Mapping(mapping) = item else {
        return Err(RulesError::Rule {
            rule: label(position, None),
            problem: format!(
                "expected a mapping with the fields {}, got {}",
                FIELDS.join(", "),
                kind_of(&item)
            ),
        });
    };
    let name = mapping
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let fields = Fields {
        rule: label(position, name.as_deref()),
        mapping,
    };
    for key in fields.mapping.keys() {
        if !key.as_str().is_some_and(|key| FIELDS.contains(&key)) {
            return Err(RulesError::Rule {
                rule: fields.rule.clone(),
                problem: format!(
                    "unknown field {}; the fields are {}",
                    describe_key(key),
                    FIELDS.join(", ")
                ),
            });
        }
    }

    let name: String = fields.required("name", "a name such as \"transient-throttling\"")?;
    if !valid_name(&name) {
        return Err(fields.error(
            "name",
            format!(
                "{name:?} is not a valid name: 1 to {MAX_NAME_CHARS} of A-Z a-z 0-9 _ . -, \
                 starting with a letter or digit"
            ),
        ));
    }
    let reason: String = fields.required("reason", "a regular expression on CreatedReason")?;
    let reason = fields.regex("reason", &reason)?;
    let contexts = fields
        .get::<BTreeMap<String, String>>(
            "contexts",
            "a mapping of context key to regular expression",
        )?
        .unwrap_or_default()
        .into_iter()
        .map(|(key, pattern)| Ok((key, fields.regex("contexts", &pattern)?)))
        .collect::<Result<Vec<_>, RulesError>>()?;
    let action: String = fields.required("action", "`resolve` or `ignore`")?;
    let resolution = match action.as_str() {
        "resolve" => Some(compile_resolution(&fields, &name)?),
        "ignore" => {
            if let Some(field) = RESOLVE_ONLY_FIELDS
                .iter()
                .find(|field| fields.mapping.contains_key(**field))
            {
                return Err(fields.error(
                    field,
                    "applies only to `action: resolve`; an ignore rule leaves its blockers alone",
                ));
            }
            None
        }
        other => {
            return Err(fields.error(
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

fn compile_resolution(fields: &Fields, name: &str) -> Result<Resolution, RulesError> {
    let template: String = fields.required(
        "resolved_reason",
        "the text recorded on the blocker, with {rule} and {blocker_id} placeholders",
    )?;
    let reason = ReasonTemplate::parse(&template, name)
        .map_err(|problem| fields.error("resolved_reason", problem))?;
    let min_age = fields.duration("min_age")?;
    let stack_status_in = fields
        .get::<Vec<String>>("stack_status_in", "a list of CloudFormation stack statuses")?
        .map(|statuses| {
            if statuses.is_empty() {
                return Err(fields.error(
                    "stack_status_in",
                    "must list at least one status (leave it out to skip the check)",
                ));
            }
            if let Some(unknown) = statuses
                .iter()
                .find(|status| !STACK_STATUSES.contains(&status.as_str()))
            {
                return Err(fields.error(
                    "stack_status_in",
                    format!(
                        "{unknown:?} is not a CloudFormation stack status; the statuses are {}",
                        STACK_STATUSES.join(", ")
                    ),
                ));
            }
            Ok(statuses.into_iter().collect::<BTreeSet<String>>())
        })
        .transpose()?;
    let max_resolutions = fields.get::<u32>(
        "max_resolutions",
        "a whole number of resolutions, at least 1",
    )?;
    let window = fields.duration("window")?;
    let loop_guard = match (max_resolutions, window) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(fields.error(
                "window",
                "is required with max_resolutions: the period over which resolutions are counted",
            ));
        }
        (None, Some(_)) => {
            return Err(fields.error(
                "max_resolutions",
                "is required with window: how many resolutions the window allows",
            ));
        }
        (Some(0), Some(_)) => {
            return Err(fields.error(
                "max_resolutions",
                "must be at least 1; to never resolve these blockers, use `action: ignore`",
            ));
        }
        (Some(max_resolutions), Some(window)) => {
            if window.is_zero() || window > MAX_WINDOW {
                return Err(fields.error(
                    "window",
                    format!(
                        "must be longer than 0 and at most {} (how long the ledger remembers \
                         resolutions)",
                        humantime::format_duration(MAX_WINDOW)
                    ),
                ));
            }
            Some(LoopGuard {
                max_resolutions,
                window,
            })
        }
    };
    Ok(Resolution {
        reason,
        min_age,
        stack_status_in,
        loop_guard,
    })
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
            ("rules: {}", "`rules` is a mapping"),
            ("rulez: []", "unexpected top-level key(s) `rulez`"),
            ("- just text", "rule #1: expected a mapping"),
            (
                "- name: a\n  reason: x\n  action: ignore\n  stack_status: [UPDATE_COMPLETE]",
                "rule #1 \"a\": unknown field `stack_status`",
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
                "field `contexts`: expected a mapping of context key to regular expression, got a list",
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
                "field `min_age`: expected a duration such as \"10m\", \"6h\" or \"1h 30m\", got a number",
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
                "field `max_resolutions`: expected a whole number",
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
}
