//! The awsJson1_0 wire protocol: `POST /` with `X-Amz-Target`, JSON in and out, errors as
//! `{"__type": ..., "message": ...}` plus the `x-amzn-ErrorType` header.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_error::{ApiError, ErrorKind};
use crate::operation::Operation;
use crate::ops;
use crate::service::{Backend, Service, SharedService};
use crate::state::Timestamp;
use crate::validate::validate_input;

/// Largest request body the API accepts.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A body over the limit is still read, up to this much, so that the client reads the
/// error instead of a connection reset.
const MAX_DRAINED_BYTES: usize = 64 * MAX_BODY_BYTES;
/// A client that stops sending its body mid-way gets an error rather than a hung request.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

const AMZ_JSON: &str = "application/x-amz-json-1.0";
const TARGET: HeaderName = HeaderName::from_static("x-amz-target");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

pub async fn handle(State(app): State<SharedService>, headers: HeaderMap, body: Body) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let result = serve(&app, &headers, body).await;
    match result {
        Ok(output) => {
            tracing::debug!(%request_id, "answered 200");
            respond(StatusCode::OK, output, &request_id, None)
        }
        Err(error) => {
            tracing::debug!(%request_id, error = %error, "answered an error");
            let body = json!({ "__type": error.kind.name(), "message": error.message }).to_string();
            respond(
                error.kind.status(),
                body.into_bytes(),
                &request_id,
                Some(error.kind),
            )
        }
    }
}

async fn serve(app: &Service, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let body = read_body(body).await?;
    let operation = target_operation(headers)?;
    tracing::debug!(%operation, bytes = body.len(), "request");
    let input = parse_input(&body)?;
    let invalid_input = if app.model.reports_invalid_input(operation) {
        ErrorKind::InvalidInput
    } else {
        ErrorKind::Validation
    };
    // Validation needs no state, so it runs outside the lock; a fault still takes
    // precedence over its outcome, as throttling precedes validation in the service.
    let validation = validate_input(&app.model, operation, &input)
        .map_err(|message| ApiError::new(invalid_input, message));
    let call = Call {
        operation,
        input,
        validation,
        invalid_input,
    };

    let fault = {
        let mut backend = app.lock();
        match backend.begin_call(operation) {
            None => {
                let output = call.run(&mut backend);
                drop(backend);
                return encode(output?);
            }
            Some(fault) => fault,
        }
    };
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(error) = fault.error {
        return Err(error);
    }
    let output = call.run(&mut app.lock());
    encode(output?)
}

struct Call {
    operation: Operation,
    input: Value,
    validation: Result<(), ApiError>,
    invalid_input: ErrorKind,
}

impl Call {
    fn run(self, backend: &mut Backend) -> Result<Value, ApiError> {
        self.validation?;
        ops::execute(
            self.operation,
            self.input,
            backend,
            self.invalid_input,
            Timestamp::now(),
        )
    }
}

fn encode(output: Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&output).map_err(|error| {
        ApiError::new(
            ErrorKind::InternalServer,
            format!("Cannot encode the response: {error}"),
        )
    })
}

fn target_operation(headers: &HeaderMap) -> Result<Operation, ApiError> {
    let unknown = |message: String| ApiError::new(ErrorKind::UnknownOperation, message);
    let target = headers.get(TARGET).ok_or_else(|| {
        unknown(
            "Missing X-Amz-Target header: expected CodeStar_connections_20191201.<Operation>"
                .to_owned(),
        )
    })?;
    let target = target
        .to_str()
        .map_err(|_| unknown("The X-Amz-Target header is not ASCII text".to_owned()))?;
    Operation::from_target(target).ok_or_else(|| {
        unknown(format!(
            "Unknown operation {target}: expected CodeStar_connections_20191201.<Operation> or \
             com.amazonaws.codestar.connections.CodeStar_connections_20191201.<Operation>"
        ))
    })
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

fn parse_input(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let input: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            ErrorKind::Serialization,
            format!("The request body is not valid JSON: {error}"),
        )
    })?;
    if !input.is_object() {
        return Err(ApiError::new(
            ErrorKind::Serialization,
            "The request body must be a JSON object",
        ));
    }
    Ok(input)
}

fn respond(
    status: StatusCode,
    body: Vec<u8>,
    request_id: &str,
    error: Option<ErrorKind>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
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
        assert_eq!(parse_input(b"  "), Ok(json!({})));
    }

    #[test]
    fn malformed_or_non_object_bodies_are_serialization_errors() {
        for body in [&b"{"[..], b"[]", b"\"text\"", b"{\"a\":1} trailing"] {
            let error = parse_input(body).expect_err("rejected");
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
        assert_eq!(target_operation(&headers), Ok(Operation::ListHosts));
    }
}
