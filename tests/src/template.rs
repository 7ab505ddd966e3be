//! template.yaml as the end-to-end tests read it: each function's environment with every
//! parameter at its default, and the inputs of its schedules, so that a test can run the
//! functions as a default deployment runs them.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use crate::workspace_root;

pub struct Template(Yaml);

/// One function as the template deploys it with its parameters' defaults.
#[derive(Debug, Clone)]
pub struct DeployedFunction {
    pub binary: String,
    pub environment: Vec<(String, String)>,
    /// What each of its EventBridge Scheduler schedules sends it.
    pub schedule_inputs: Vec<Value>,
    /// Each schedule's expression, such as `rate(1 hour)`.
    pub schedule_expressions: Vec<String>,
}

impl DeployedFunction {
    /// How many times an hour its schedules run, for `rate(...)` expressions.
    pub fn runs_per_hour(&self) -> f64 {
        self.schedule_expressions
            .iter()
            .map(|e| rate_per_hour(e))
            .sum()
    }
}

/// `rate(N unit)` as runs per hour; other expressions (cron) are not counted here.
fn rate_per_hour(expression: &str) -> f64 {
    let Some(inner) = expression
        .strip_prefix("rate(")
        .and_then(|e| e.strip_suffix(')'))
    else {
        return 0.0;
    };
    let mut words = inner.split_whitespace();
    let (Some(count), Some(unit)) = (
        words.next().and_then(|n| n.parse::<f64>().ok()),
        words.next(),
    ) else {
        return 0.0;
    };
    match unit.trim_end_matches('s') {
        "minute" => count.recip() * 60.0,
        "hour" => count.recip(),
        "day" => count.recip() / 24.0,
        _ => 0.0,
    }
}

impl std::ops::Deref for Template {
    type Target = Yaml;
    fn deref(&self) -> &Yaml {
        &self.0
    }
}

impl Template {
    pub fn load() -> Self {
        let path = workspace_root().join("template.yaml");
        let text = std::fs::read_to_string(&path).expect("template.yaml");
        Self(serde_yaml_ng::from_str(&text).expect("template.yaml is YAML"))
    }

    /// The resources of one type, by logical id.
    pub fn resources(&self, kind: &str) -> BTreeMap<String, &Yaml> {
        self.0["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
            .map(|(id, resource)| (id.as_str().unwrap_or_default().to_owned(), resource))
            .collect()
    }

    /// A value with `!Ref PARAMETER`, or each `${PARAMETER}` of a `!Sub`, replaced by the
    /// parameter's default.
    fn with_defaults(&self, value: &Yaml) -> String {
        match value {
            Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
                let name = tagged.value.as_str().expect("!Ref names a parameter");
                self.default_of(name)
            }
            Yaml::Tagged(tagged) if tagged.tag == "Sub" => {
                let mut text = tagged.value.as_str().expect("!Sub of a string").to_owned();
                while let Some(start) = text.find("${") {
                    let end = start + text[start..].find('}').expect("${NAME}");
                    let value = self.default_of(&text[start + 2..end]);
                    text.replace_range(start..=end, &value);
                }
                text
            }
            other => scalar(other),
        }
    }

    /// A parameter's default, as text.
    pub fn default_of(&self, parameter: &str) -> String {
        let default = &self.0["Parameters"][parameter]["Default"];
        assert!(!default.is_null(), "parameter {parameter} has a default");
        scalar(default)
    }

    pub fn functions(&self) -> Vec<DeployedFunction> {
        self.resources("AWS::Serverless::Function")
            .values()
            .map(|function| DeployedFunction {
                binary: function["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .expect("each function names its binary")
                    .to_owned(),
                environment: function["Properties"]["Environment"]["Variables"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .map(|(name, value)| {
                        let name = name.as_str().expect("variable name").to_owned();
                        (name, self.with_defaults(value))
                    })
                    .collect(),
                schedule_inputs: function["Properties"]["Events"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .filter(|(_, event)| event["Type"].as_str() == Some("ScheduleV2"))
                    .map(|(_, event)| {
                        let input = event["Properties"]["Input"].as_str().expect("Input");
                        serde_json::from_str(input).expect("Input is JSON")
                    })
                    .collect(),
                schedule_expressions: function["Properties"]["Events"]
                    .as_mapping()
                    .into_iter()
                    .flatten()
                    .filter(|(_, event)| event["Type"].as_str() == Some("ScheduleV2"))
                    .map(|(_, event)| {
                        self.with_defaults(&event["Properties"]["ScheduleExpression"])
                    })
                    .collect(),
            })
            .collect()
    }
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Bool(flag) => flag.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}
