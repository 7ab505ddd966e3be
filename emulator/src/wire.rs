//! Request and response bodies in the two wire encodings: JSON (awsJson1_0, both APIs) and
//! CBOR (Smithy RPC v2 CBOR, which AWS CodeConnections also speaks and the AWS SDK for Rust
//! uses for it). Outputs are shaped by the calling API's model: members it does not know
//! (e.g. `PullRequestComment` for CodeStar Connections) are left out, and in CBOR timestamps
//! carry tag 1 (epoch seconds), as the protocol requires.

use minicbor::data::{IanaTag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Number, Value};

use crate::model::{Model, Shape, ShapeId};

/// Deep CBOR nesting is refused rather than recursed into without bound.
const MAX_DEPTH: usize = 64;

/// Drops the members of `value` that its shape does not know, at every level.
pub fn prune(model: &Model, shape: ShapeId, value: &mut Value) {
    match (model.shape(shape), value) {
        (Shape::Structure { members }, Value::Object(object)) => {
            object.retain(|name, _| members.iter().any(|member| member.name == *name));
            for member in members {
                if let Some(inner) = object.get_mut(&member.name) {
                    prune(model, member.shape, inner);
                }
            }
        }
        (Shape::List { member, .. }, Value::Array(items)) => {
            for item in items {
                prune(model, *member, item);
            }
        }
        (Shape::Map { value: inner, .. }, Value::Object(entries)) => {
            for entry in entries.values_mut() {
                prune(model, *inner, entry);
            }
        }
        _ => {}
    }
}

/// Encodes a (pruned) output or error value as CBOR; timestamps are found through `shape`.
pub fn to_cbor(model: &Model, shape: Option<ShapeId>, value: &Value) -> Result<Vec<u8>, String> {
    let mut encoder = Encoder::new(Vec::new());
    encode(model, shape, value, &mut encoder).map_err(|error| error.to_string())?;
    Ok(encoder.into_writer())
}

type EncodeResult = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

fn encode(
    model: &Model,
    shape: Option<ShapeId>,
    value: &Value,
    encoder: &mut Encoder<Vec<u8>>,
) -> EncodeResult {
    let shape = shape.map(|id| model.shape(id));
    match value {
        Value::Null => encoder.null().map(drop),
        Value::Bool(flag) => encoder.bool(*flag).map(drop),
        Value::Number(number) => {
            if let Some(Shape::Timestamp) = shape {
                encoder.tag(IanaTag::Timestamp)?;
            }
            encode_number(number, encoder)
        }
        Value::String(text) => encoder.str(text).map(drop),
        Value::Array(items) => {
            encoder.array(items.len() as u64)?;
            let member = match shape {
                Some(Shape::List { member, .. }) => Some(*member),
                _ => None,
            };
            items
                .iter()
                .try_for_each(|item| encode(model, member, item, encoder))
        }
        Value::Object(object) => {
            encoder.map(object.len() as u64)?;
            for (name, inner) in object {
                let inner_shape = match shape {
                    Some(Shape::Structure { members }) => members
                        .iter()
                        .find(|member| member.name == *name)
                        .map(|member| member.shape),
                    Some(Shape::Map { value, .. }) => Some(*value),
                    _ => None,
                };
                encoder.str(name)?;
                encode(model, inner_shape, inner, encoder)?;
            }
            Ok(())
        }
    }
}

fn encode_number(number: &Number, encoder: &mut Encoder<Vec<u8>>) -> EncodeResult {
    if let Some(unsigned) = number.as_u64() {
        encoder.u64(unsigned).map(drop)
    } else if let Some(signed) = number.as_i64() {
        encoder.i64(signed).map(drop)
    } else {
        encoder.f64(number.as_f64().unwrap_or_default()).map(drop)
    }
}

/// Decodes a CBOR request body into the JSON value the operations read.
pub fn from_cbor(bytes: &[u8]) -> Result<Value, String> {
    let mut decoder = Decoder::new(bytes);
    let value = decode(&mut decoder, 0)?;
    if decoder.position() != bytes.len() {
        return Err(format!(
            "{} bytes follow the CBOR value",
            bytes.len() - decoder.position()
        ));
    }
    Ok(value)
}

fn decode(decoder: &mut Decoder<'_>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("values are nested more than {MAX_DEPTH} deep"));
    }
    let error = |error: minicbor::decode::Error| error.to_string();
    let datatype = decoder.datatype().map_err(error)?;
    Ok(match datatype {
        Type::Bool => Value::Bool(decoder.bool().map_err(error)?),
        Type::Null | Type::Undefined => {
            decoder.skip().map_err(error)?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(decoder.u64().map_err(error)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(decoder.i64().map_err(error)?),
        Type::F16 | Type::F32 | Type::F64 => {
            Number::from_f64(decoder.f64().map_err(error)?).map_or(Value::Null, Value::Number)
        }
        Type::String => Value::String(decoder.str().map_err(error)?.to_owned()),
        Type::StringIndef => {
            let mut text = String::new();
            for chunk in decoder.str_iter().map_err(error)? {
                text.push_str(chunk.map_err(error)?);
            }
            Value::String(text)
        }
        Type::Array | Type::ArrayIndef => decode_array(decoder, depth)?,
        Type::Map | Type::MapIndef => decode_map(decoder, depth)?,
        // Tag 1 (a timestamp) and other tags: the tagged value is what the input holds.
        Type::Tag => {
            decoder.tag().map_err(error)?;
            decode(decoder, depth + 1)?
        }
        other => return Err(format!("unsupported CBOR data type {other}")),
    })
}

fn decode_array(decoder: &mut Decoder<'_>, depth: usize) -> Result<Value, String> {
    let error = |error: minicbor::decode::Error| error.to_string();
    let mut items = Vec::new();
    match decoder.array().map_err(error)? {
        Some(length) => {
            for _ in 0..length {
                items.push(decode(decoder, depth + 1)?);
            }
        }
        None => {
            while decoder.datatype().map_err(error)? != Type::Break {
                items.push(decode(decoder, depth + 1)?);
            }
            decoder.skip().map_err(error)?;
        }
    }
    Ok(Value::Array(items))
}

fn decode_map(decoder: &mut Decoder<'_>, depth: usize) -> Result<Value, String> {
    let error = |error: minicbor::decode::Error| error.to_string();
    let mut object = Map::new();
    let mut entry = |decoder: &mut Decoder<'_>| -> Result<(), String> {
        let Value::String(key) = decode(decoder, depth + 1)? else {
            return Err("map keys must be text strings".to_owned());
        };
        object.insert(key, decode(decoder, depth + 1)?);
        Ok(())
    };
    match decoder.map().map_err(error)? {
        Some(length) => {
            for _ in 0..length {
                entry(decoder)?;
            }
        }
        None => {
            while decoder.datatype().map_err(error)? != Type::Break {
                entry(decoder)?;
            }
            decoder.skip().map_err(error)?;
        }
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Api;
    use crate::operation::Operation;
    use serde_json::json;

    #[test]
    fn cbor_round_trips_and_tags_timestamps() {
        let model = Model::load(Api::CodeConnections).expect("model");
        let output = model.output_shape(Operation::UpdateSyncBlocker);
        let value = json!({"ResourceName": "stack", "SyncBlocker": {"Id": "b", "CreatedAt": 1700000000.25, "Contexts": [{"Key": "k", "Value": "v"}]}});
        let bytes = to_cbor(&model, output, &value).expect("encodes");
        // 0xc1 is tag 1, a timestamp, before the float.
        assert!(bytes.windows(2).any(|pair| pair == [0xc1, 0xfb]));
        assert_eq!(from_cbor(&bytes), Ok(value));
    }

    #[test]
    fn members_the_api_does_not_know_are_pruned() {
        let model = Model::load(Api::CodeStarConnections).expect("model");
        let output = model
            .output_shape(Operation::GetSyncConfiguration)
            .expect("an output");
        let mut value = json!({"SyncConfiguration": {"Branch": "main", "PullRequestComment": "ENABLED"}, "Extra": 1});
        prune(&model, output, &mut value);
        assert_eq!(value, json!({"SyncConfiguration": {"Branch": "main"}}));
    }

    #[test]
    fn malformed_cbor_is_refused() {
        assert!(from_cbor(&[0xa1]).is_err());
        assert!(from_cbor(&[0xa0, 0x00]).is_err());
        assert!(from_cbor(&[0xa1, 0x01, 0x02]).is_err());
    }
}
