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
}

impl Template {
    pub fn load() -> Self {
        let path = workspace_root().join("template.yaml");
        let text = std::fs::read_to_string(&path).expect("template.yaml");
        Self(serde_yaml_ng::from_str(&text).expect("template.yaml is YAML"))
    }

    pub fn yaml(&self) -> &Yaml {
        &self.0
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

    /// A value with `!Ref PARAMETER` replaced by the parameter's default.
    fn with_defaults(&self, value: &Yaml) -> String {
        match value {
            Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
                let name = tagged.value.as_str().expect("!Ref names a parameter");
                scalar(&self.0["Parameters"][name]["Default"])
            }
            other => scalar(other),
        }
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
