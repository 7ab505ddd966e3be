//! The wire protocols of both APIs over one state: awsJson1_0 (`POST /` with
//! `X-Amz-Target`, JSON in and out, errors as `{"__type": ..., "message": ...}` plus the
//! `x-amzn-ErrorType` header), and for AWS CodeConnections also Smithy RPC v2 CBOR
//! (`POST /service/CodeConnections_20231201/operation/<Operation>`), which the AWS SDK for
//! Rust speaks to it. A call acts in the account its credentials name.

use std::sync::MutexGuard;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::Api;
use crate::api_error::{ApiError, ErrorKind};
use crate::model::{Model, ShapeId};
use crate::operation::Operation;
use crate::ops;
use crate::service::{Accounts, Backend, Service, SharedService, is_account_id};
use crate::state::Timestamp;
use crate::validate::validate_input;
use crate::wire;

/// Largest request body the API accepts.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A body over the limit is still read, up to this much, so that the client reads the
/// error instead of a connection reset.
const MAX_DRAINED_BYTES: usize = 64 * MAX_BODY_BYTES;
/// A client that stops sending its body mid-way gets an error rather than a hung request.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

const AMZ_JSON: &str = "application/x-amz-json-1.0";
const CBOR: &str = "application/cbor";
const TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
const SMITHY_PROTOCOL: HeaderName = HeaderName::from_static("smithy-protocol");
const RPC_V2_CBOR: &str = "rpc-v2-cbor";

/// The encoding of a request and its answer.
#[derive(Clone, Copy)]
enum Encoding {
    Json,
    Cbor,
}

/// `POST /`: awsJson1_0, either API, named by the target.
pub async fn handle_json(
    State(app): State<SharedService>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let target = target_operation(&headers);
    let api = target
        .as_ref()
        .map_or(Api::CodeStarConnections, |(api, _)| *api);
    let outcome = match target {
        Ok((api, operation)) => serve(&app, api, operation, &headers, body, Encoding::Json).await,
        Err(error) => Err(error),
    };
    answer(&app, api, outcome, Encoding::Json)
}

/// `POST /service/<Service>/operation/<Operation>`: Smithy RPC v2 CBOR.
pub async fn handle_cbor(
    State(app): State<SharedService>,
    Path((service, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let api = Api::from_service_shape(&service).unwrap_or(Api::CodeConnections);
    let named = match (
        Api::from_service_shape(&service),
        Operation::from_name(&operation),
    ) {
        (Some(api), Some(operation)) => Ok((api, operation)),
        _ => Err(ApiError::new(
            ErrorKind::UnknownOperation,
            format!(
                "Unknown operation {operation} of service {service}: expected /service/{}/operation/<Operation>",
                Api::CodeConnections.service_shape()
            ),
        )),
    };
    let outcome = match named {
        Ok((api, operation)) => serve(&app, api, operation, &headers, body, Encoding::Cbor).await,
        Err(error) => Err(error),
    };
    answer(&app, api, outcome, Encoding::Cbor)
}

/// What a call answered: its operation (to shape the output) and its output.
type Outcome = Result<(Operation, Value), ApiError>;

fn answer(app: &Service, api: Api, outcome: Outcome, encoding: Encoding) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let model = app.models.of(api);
    match outcome {
        Ok((operation, mut output)) => {
            tracing::debug!(%request_id, %operation, "answered 200");
            let shape = model.output_shape(operation);
            if let Some(shape) = shape {
                wire::prune(model, shape, &mut output);
            }
            let body = encode(model, shape, &output, encoding);
            respond(StatusCode::OK, body, &request_id, None, encoding)
        }
        Err(error) => {
            tracing::debug!(%request_id, error = %error, "answered an error");
            let output = json!({ "__type": error.kind.name(), "message": error.message });
            let body = encode(model, None, &output, encoding);
            respond(
                error.kind.status(),
                body,
                &request_id,
                Some(error.kind),
                encoding,
            )
        }
    }
}

fn encode(model: &Model, shape: Option<ShapeId>, output: &Value, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Json => output.to_string().into_bytes(),
        // Writing to memory does not fail; should it ever, the client sees an empty body
        // and the log says why.
        Encoding::Cbor => wire::to_cbor(model, shape, output).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot encode the answer as CBOR");
            Vec::new()
        }),
    }
}

async fn serve(
    app: &SharedService,
    api: Api,
    operation: Operation,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Outcome {
    let body = read_body(body).await?;
    tracing::debug!(%operation, ?api, bytes = body.len(), "request");
    let input = parse_input(&body, encoding)?;
    let account = credential_account(headers);
    let model = app.models.of(api);
    let invalid_input = if model.reports_invalid_input(operation) {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Validation
    };
    // Validation needs no state, so it runs outside the lock; a fault still takes
    // precedence over its outcome, as throttling precedes validation in the service.
    let validation = validate_input(model, operation, &input)
        .map_err(|message| ApiError::new(invalid_input, message));
    let call = Call {
        api,
        operation,
        input,
        validation,
        invalid_input,
    };

    let fault = {
        let mut accounts = app.lock();
        match accounts.account(account.as_deref()).begin_call(operation) {
            None => return finish(app, accounts, account.as_deref(), call),
            Some(fault) => fault,
        }
    };
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(error) = fault.error {
        return Err(error);
    }
    finish(app, app.lock(), account.as_deref(), call)
}

/// Runs the call under the lock it is given, then, outside it, carries out what the call
/// set in motion (events, Git sync's later steps).
fn finish(
    app: &SharedService,
    mut accounts: MutexGuard<'_, Accounts>,
    account: Option<&str>,
    call: Call,
) -> Outcome {
    let backend = accounts.account(account);
    let changes = !call.operation.is_read_only();
    let outcome = call.run(backend);
    let effects = backend.take_effects();
    drop(accounts);
    if changes && outcome.is_ok() {
        app.changed();
    }
    app.carry_out(effects);
    outcome
}

struct Call {
    api: Api,
    operation: Operation,
    input: Value,
    validation: Result<(), ApiError>,
    invalid_input: ErrorKind,
}

impl Call {
    fn run(self, backend: &mut Backend) -> Outcome {
        self.validation?;
        let output = ops::execute(
            self.api,
            self.operation,
            self.input,
            backend,
            self.invalid_input,
            Timestamp::now(),
        )?;
        Ok((self.operation, output))
    }
}

/// The account a call acts in, as in moto: the access key id of the SigV4 credential
/// (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`)
/// names it when it is 12 digits; otherwise the default account.
fn credential_account(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    let access_key_id = credential.split('/').next()?;
    is_account_id(access_key_id).then(|| access_key_id.to_owned())
}

fn target_operation(headers: &HeaderMap) -> Result<(Api, Operation), ApiError> {
    let unknown = |message: String| ApiError::new(ErrorKind::UnknownOperation, message);
    let expected = "CodeStar_connections_20191201.<Operation> or CodeConnections_20231201.<Operation>, \
                    or the same with the com.amazonaws.codestar.connections. or com.amazonaws.codeconnections. prefix";
    let target = headers
        .get(TARGET)
        .ok_or_else(|| unknown(format!("Missing X-Amz-Target header: expected {expected}")))?;
    let target = target
        .to_str()
        .map_err(|_| unknown("The X-Amz-Target header is not ASCII text".to_owned()))?;
    Operation::from_target(target)
        .ok_or_else(|| unknown(format!("Unknown operation {target}: expected {expected}")))
}

async fn read_body(body: Body) -> Result<Vec<u8>, ApiError> {
    tokio::time::timeout(BODY_TIMEOUT, collect_body(body))
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorKind::Serialization,
                format!(
                    "The request body did not arrive within {} seconds",
                    BODY_TIMEOUT.as_secs()
                ),
            ))
        })
}

async fn collect_body(body: Body) -> Result<Vec<u8>, ApiError> {
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut received: usize = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::new(
                ErrorKind::Serialization,
                format!("Cannot read the request body: {error}"),
            )
        })?;
        received = received.saturating_add(chunk.len());
        if received <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&chunk);
        } else if received > MAX_DRAINED_BYTES {
            break;
        }
    }
    if received > MAX_BODY_BYTES {
        return Err(ApiError::new(
            ErrorKind::RequestEntityTooLarge,
            format!("The request body exceeds the limit of {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// Reads a request body in its encoding: one JSON object or CBOR map; an empty body is an
/// input without members.
fn parse_input(body: &[u8], encoding: Encoding) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let serialization = |message: String| ApiError::new(ErrorKind::Serialization, message);
    let (input, object) = match encoding {
        Encoding::Json => (
            serde_json::from_slice(body).map_err(|error| {
                serialization(format!("The request body is not valid JSON: {error}"))
            })?,
            "a JSON object",
        ),
        Encoding::Cbor => (
            wire::from_cbor(body).map_err(|error| {
                serialization(format!("The request body is not valid CBOR: {error}"))
            })?,
            "a CBOR map",
        ),
    };
    if !Value::is_object(&input) {
        return Err(serialization(format!("The request body must be {object}")));
    }
    Ok(input)
}

fn respond(
    status: StatusCode,
    body: Vec<u8>,
    request_id: &str,
    error: Option<ErrorKind>,
    encoding: Encoding,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    match encoding {
        Encoding::Json => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
        }
        Encoding::Cbor => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CBOR));
            headers.insert(SMITHY_PROTOCOL, HeaderValue::from_static(RPC_V2_CBOR));
        }
    }
    if let Ok(request_id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, request_id);
    }
    if let Some(error) = error {
        headers.insert(ERROR_TYPE, HeaderValue::from_static(error.name()));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_is_an_empty_input() {
        assert_eq!(parse_input(b"  ", Encoding::Json), Ok(json!({})));
        assert_eq!(parse_input(b"", Encoding::Cbor), Ok(json!({})));
    }

    #[test]
    fn malformed_or_non_object_bodies_are_serialization_errors() {
        for body in [&b"{"[..], b"[]", b"\"text\"", b"{\"a\":1} trailing"] {
            let error = parse_input(body, Encoding::Json).expect_err("rejected");
            assert_eq!(error.kind, ErrorKind::Serialization);
        }
    }

    #[test]
    fn the_target_header_is_required_and_must_name_an_operation() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            target_operation(&headers).map_err(|e| e.kind),
            Err(ErrorKind::UnknownOperation)
        );
        headers.insert(
            TARGET,
            HeaderValue::from_static("CodeStar_connections_20191201.Nope"),
        );
        assert_eq!(
            target_operation(&headers).map_err(|e| e.kind),
            Err(ErrorKind::UnknownOperation)
        );
        headers.insert(
            TARGET,
            HeaderValue::from_static("CodeStar_connections_20191201.ListHosts"),
        );
        assert_eq!(
            target_operation(&headers),
            Ok((Api::CodeStarConnections, Operation::ListHosts))
        );
    }

    #[test]
    fn a_twelve_digit_access_key_id_names_the_account() {
        let mut headers = HeaderMap::new();
        assert_eq!(credential_account(&headers), None);
        let signed = |key: &str| {
            HeaderValue::from_str(&format!(
                "AWS4-HMAC-SHA256 Credential={key}/20250601/us-east-1/codeconnections/aws4_request, SignedHeaders=host, Signature=abc"
            ))
            .expect("a header value")
        };
        headers.insert(header::AUTHORIZATION, signed("111122223333"));
        assert_eq!(
            credential_account(&headers).as_deref(),
            Some("111122223333")
        );
        headers.insert(header::AUTHORIZATION, signed("AKIDEXAMPLE"));
        assert_eq!(credential_account(&headers), None);
        headers.insert(header::AUTHORIZATION, signed("1111222233334"));
        assert_eq!(credential_account(&headers), None);
    }
}
