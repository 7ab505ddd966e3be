//! botocore's models of the two APIs, vendored under `model/` and compiled once at startup
//! into shape graphs that the validator and the output encoders walk.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use serde::Deserialize;

use crate::api::Api;
use crate::operation::Operation;

/// The error an operation answers for invalid input when its model lists it; the others
/// answer the protocol-wide `ValidationException`.
const INVALID_INPUT_ERROR: &str = "InvalidInputException";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the vendored model is not a botocore service model: {0}")]
    Json(#[from] serde_json::Error),
    #[error("shape `{shape}` refers to unknown shape `{target}`")]
    UnknownShape { shape: String, target: String },
    #[error("shape `{shape}` has type `{kind}`, which the emulator does not support")]
    UnsupportedType { shape: String, kind: String },
    #[error("shape `{shape}` has a pattern that does not compile ({pattern}): {source}")]
    Pattern {
        shape: String,
        pattern: String,
        source: regex::Error,
    },
    #[error("the model has no operation {0}")]
    MissingOperation(Operation),
    #[error("operation {0} of the model has no input shape")]
    MissingInput(Operation),
    #[error("the model has operation {0}, which the emulator does not implement")]
    UnknownOperation(String),
}

#[derive(Deserialize)]
struct RawModel {
    operations: BTreeMap<String, RawOperation>,
    shapes: BTreeMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<RawRef>,
    output: Option<RawRef>,
    #[serde(default)]
    errors: Vec<RawRef>,
}

#[derive(Deserialize)]
struct RawRef {
    shape: String,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: BTreeMap<String, RawRef>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<RawRef>,
    key: Option<RawRef>,
    value: Option<RawRef>,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeId(usize);

#[derive(Debug)]
pub struct Pattern {
    /// As written in the model, for error messages.
    pub source: String,
    pub regex: Regex,
}

#[derive(Debug)]
pub struct Member {
    /// The wire name, e.g. `ResourceName`.
    pub name: String,
    /// The name AWS uses in validation messages, e.g. `resourceName`.
    pub path_name: String,
    pub shape: ShapeId,
    pub required: bool,
}

#[derive(Debug)]
pub enum Shape {
    String {
        min: Option<usize>,
        max: Option<usize>,
        pattern: Option<Pattern>,
        allowed: Option<Vec<String>>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    Timestamp,
    List {
        member: ShapeId,
        min: Option<usize>,
        max: Option<usize>,
    },
    Map {
        value: ShapeId,
        min: Option<usize>,
        max: Option<usize>,
    },
    Structure {
        members: Vec<Member>,
    },
}

#[derive(Debug)]
pub struct Model {
    shapes: Vec<Shape>,
    ids: HashMap<String, ShapeId>,
    /// Indexed by [`Operation::index`].
    inputs: Vec<ShapeId>,
    /// Indexed by [`Operation::index`].
    outputs: Vec<Option<ShapeId>>,
    /// Indexed by [`Operation::index`]: whether the operation lists `InvalidInputException`.
    reports_invalid_input: Vec<bool>,
}

impl Model {
    /// Loads an API's vendored model, compiled into the binary.
    pub fn load(api: Api) -> Result<Self, ModelError> {
        Self::from_json(api.model_json())
    }

    fn from_json(json: &str) -> Result<Self, ModelError> {
        let raw: RawModel = serde_json::from_str(json)?;
        let ids: HashMap<String, ShapeId> = raw
            .shapes
            .keys()
            .enumerate()
            .map(|(index, name)| (name.clone(), ShapeId(index)))
            .collect();
        let shapes = raw
            .shapes
            .iter()
            .map(|(name, shape)| compile_shape(name, shape, &ids))
            .collect::<Result<Vec<_>, _>>()?;

        if let Some(unknown) = raw
            .operations
            .keys()
            .find(|name| Operation::from_name(name).is_none())
        {
            return Err(ModelError::UnknownOperation(unknown.clone()));
        }
        let mut inputs = Vec::with_capacity(Operation::ALL.len());
        let mut outputs = Vec::with_capacity(Operation::ALL.len());
        let mut reports_invalid_input = Vec::with_capacity(Operation::ALL.len());
        for &operation in Operation::ALL {
            let raw_operation = raw
                .operations
                .get(operation.name())
                .ok_or(ModelError::MissingOperation(operation))?;
            let input = raw_operation
                .input
                .as_ref()
                .ok_or(ModelError::MissingInput(operation))?;
            inputs.push(resolve(operation.name(), &input.shape, &ids)?);
            outputs.push(
                raw_operation
                    .output
                    .as_ref()
                    .map(|output| resolve(operation.name(), &output.shape, &ids))
                    .transpose()?,
            );
            reports_invalid_input.push(
                raw_operation
                    .errors
                    .iter()
                    .any(|error| error.shape == INVALID_INPUT_ERROR),
            );
        }
        Ok(Model {
            shapes,
            ids,
            inputs,
            outputs,
            reports_invalid_input,
        })
    }

    pub fn shape(&self, id: ShapeId) -> &Shape {
        &self.shapes[id.0]
    }

    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.ids.get(name).copied()
    }

    pub fn input_shape(&self, operation: Operation) -> ShapeId {
        self.inputs[operation.index()]
    }

    pub fn output_shape(&self, operation: Operation) -> Option<ShapeId> {
        self.outputs[operation.index()]
    }

    /// Whether the model lists `InvalidInputException` among the operation's errors.
    pub fn reports_invalid_input(&self, operation: Operation) -> bool {
        self.reports_invalid_input[operation.index()]
    }
}

/// Both APIs' models.
#[derive(Debug)]
pub struct Models {
    codestar_connections: Model,
    codeconnections: Model,
}

impl Models {
    pub fn load() -> Result<Self, ModelError> {
        Ok(Self {
            codestar_connections: Model::load(Api::CodeStarConnections)?,
            codeconnections: Model::load(Api::CodeConnections)?,
        })
    }

    pub fn of(&self, api: Api) -> &Model {
        match api {
            Api::CodeStarConnections => &self.codestar_connections,
            Api::CodeConnections => &self.codeconnections,
        }
    }

    /// The model that checks what the admin API and scenarios take: the current API's,
    /// which knows every provider type.
    pub fn current(&self) -> &Model {
        &self.codeconnections
    }
}

fn resolve(
    from: &str,
    target: &str,
    ids: &HashMap<String, ShapeId>,
) -> Result<ShapeId, ModelError> {
    ids.get(target)
        .copied()
        .ok_or_else(|| ModelError::UnknownShape {
            shape: from.to_owned(),
            target: target.to_owned(),
        })
}

fn length(bound: Option<i64>) -> Option<usize> {
    bound.and_then(|value| usize::try_from(value).ok())
}

fn compile_shape(
    name: &str,
    raw: &RawShape,
    ids: &HashMap<String, ShapeId>,
) -> Result<Shape, ModelError> {
    let target = |reference: &Option<RawRef>, role: &str| -> Result<ShapeId, ModelError> {
        let reference = reference.as_ref().ok_or_else(|| ModelError::UnknownShape {
            shape: name.to_owned(),
            target: format!("<missing {role}>"),
        })?;
        resolve(name, &reference.shape, ids)
    };
    Ok(match raw.kind.as_str() {
        "string" => Shape::String {
            min: length(raw.min),
            max: length(raw.max),
            pattern: raw
                .pattern
                .as_ref()
                .map(|pattern| compile_pattern(name, pattern))
                .transpose()?,
            allowed: raw.allowed.clone(),
        },
        "integer" | "long" => Shape::Integer {
            min: raw.min,
            max: raw.max,
        },
        "boolean" => Shape::Boolean,
        "timestamp" => Shape::Timestamp,
        "list" => Shape::List {
            member: target(&raw.member, "member")?,
            min: length(raw.min),
            max: length(raw.max),
        },
        "map" => {
            // Keys are JSON object keys, so only the values need a shape to check against.
            target(&raw.key, "key")?;
            Shape::Map {
                value: target(&raw.value, "value")?,
                min: length(raw.min),
                max: length(raw.max),
            }
        }
        "structure" => Shape::Structure {
            members: raw
                .members
                .iter()
                .map(|(member_name, reference)| {
                    Ok(Member {
                        name: member_name.clone(),
                        path_name: lower_camel(member_name),
                        shape: resolve(name, &reference.shape, ids)?,
                        required: raw.required.contains(member_name),
                    })
                })
                .collect::<Result<Vec<_>, ModelError>>()?,
        },
        other => {
            return Err(ModelError::UnsupportedType {
                shape: name.to_owned(),
                kind: other.to_owned(),
            });
        }
    })
}

fn compile_pattern(shape: &str, pattern: &str) -> Result<Pattern, ModelError> {
    let regex =
        Regex::new(&smithy_pattern_to_regex(pattern)).map_err(|source| ModelError::Pattern {
            shape: shape.to_owned(),
            pattern: pattern.to_owned(),
            source,
        })?;
    Ok(Pattern {
        source: pattern.to_owned(),
        regex,
    })
}

/// Translates a Smithy (ECMA 262) pattern into the `regex` crate's syntax.
///
/// Matching stays a search, as in Smithy: a pattern only anchors itself with `^`/`$`.
/// `\d` and `\w` become their ASCII classes (ECMA semantics; the crate's are Unicode).
/// And since the 2024 rename the service accepts `codeconnections` ARNs wherever it accepts
/// `codestar-connections` ones, although the model's patterns only name the old prefix.
pub fn smithy_pattern_to_regex(pattern: &str) -> String {
    let pattern = pattern.replace(
        "codestar-connections",
        "(?:codestar-connections|codeconnections)",
    );
    let mut translated = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') if in_class => translated.push_str("0-9"),
                Some('d') => translated.push_str("[0-9]"),
                Some('w') if in_class => translated.push_str("0-9A-Za-z_"),
                Some('w') => translated.push_str("[0-9A-Za-z_]"),
                Some(escaped) => {
                    translated.push('\\');
                    translated.push(escaped);
                }
                None => translated.push_str("\\\\"),
            },
            '[' => {
                in_class = true;
                translated.push(c);
            }
            ']' => {
                in_class = false;
                translated.push(c);
            }
            _ => translated.push(c),
        }
    }
    translated
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern_of<'m>(model: &'m Model, shape: &str) -> &'m Regex {
        let id = model.shape_id(shape).expect("shape exists");
        match model.shape(id) {
            Shape::String {
                pattern: Some(pattern),
                ..
            } => &pattern.regex,
            other => panic!("{shape} has no pattern: {other:?}"),
        }
    }

    #[test]
    fn the_vendored_model_loads_with_every_operation() {
        let model = Model::load(Api::CodeStarConnections).expect("model loads");
        assert!(model.reports_invalid_input(Operation::UpdateSyncBlocker));
        assert!(!model.reports_invalid_input(Operation::CreateConnection));
        assert!(!model.reports_invalid_input(Operation::ListConnections));
        assert!(model.reports_invalid_input(Operation::ListSyncConfigurations));
        let renamed = Model::load(Api::CodeConnections).expect("model loads");
        assert!(renamed.reports_invalid_input(Operation::UpdateSyncBlocker));
        assert!(renamed.shape_id("PullRequestComment").is_some());
        assert!(model.shape_id("PullRequestComment").is_none());
    }

    #[test]
    fn host_arn_patterns_accept_both_service_prefixes() {
        let model = Model::load(Api::CodeStarConnections).expect("model loads");
        let host_arn = pattern_of(&model, "HostArn");
        assert!(
            host_arn.is_match("arn:aws:codestar-connections:us-east-1:123456789012:host/h-1234")
        );
        assert!(host_arn.is_match("arn:aws:codeconnections:us-east-1:123456789012:host/h-1234"));
        assert!(!host_arn.is_match("arn:aws:s3:us-east-1:123456789012:host/h-1234"));
    }

    #[test]
    fn patterns_search_unless_anchored() {
        let model = Model::load(Api::CodeStarConnections).expect("model loads");
        // `[0-9]{12}` is unanchored: any run of 12 digits satisfies it.
        assert!(pattern_of(&model, "AccountId").is_match("x123456789012x"));
        let resource_name = pattern_of(&model, "ResourceName");
        assert!(resource_name.is_match("payments-api_v2"));
        assert!(!resource_name.is_match("-leading-dash"));
        assert!(!resource_name.is_match("has space"));
        let link_id = pattern_of(&model, "RepositoryLinkId");
        assert!(link_id.is_match("6053346f-8a33-4edb-9397-10394b695039"));
        assert!(!link_id.is_match("6053346f-8a33-4edb-9397-10394b69503"));
    }

    #[test]
    fn digit_and_word_classes_are_ascii() {
        assert_eq!(smithy_pattern_to_regex(r"\d{12}"), "[0-9]{12}");
        assert_eq!(smithy_pattern_to_regex(r"[\w\-]+"), r"[0-9A-Za-z_\-]+");
        let regex = Regex::new(&smithy_pattern_to_regex(r"^\d+$")).expect("compiles");
        assert!(regex.is_match("0123"));
        assert!(!regex.is_match("٣"));
    }

    #[test]
    fn member_path_names_are_lower_camel_case() {
        assert_eq!(lower_camel("ResourceName"), "resourceName");
        assert_eq!(lower_camel(""), "");
    }
}
