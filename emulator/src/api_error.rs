//! The errors the API answers, named as in the model (plus the protocol-level ones every
//! awsJson service has).

use axum::http::StatusCode;

/// Each kind answers as `<Kind>Exception`, e.g. `ResourceNotFoundException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Invalid input for operations whose model does not list `InvalidInputException`.
    Validation,
    InvalidInput,
    ResourceNotFound,
    ResourceAlreadyExists,
    ResourceUnavailable,
    LimitExceeded,
    SyncConfigurationStillExists,
    SyncBlockerDoesNotExist,
    Throttling,
    InternalServer,
    /// The body is not a JSON object.
    Serialization,
    /// Missing or unknown `X-Amz-Target`.
    UnknownOperation,
    /// The body exceeds the emulator's 1 MiB limit.
    RequestEntityTooLarge,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Validation => "ValidationException",
            Self::InvalidInput => "InvalidInputException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            Self::ResourceUnavailable => "ResourceUnavailableException",
            Self::LimitExceeded => "LimitExceededException",
            Self::SyncConfigurationStillExists => "SyncConfigurationStillExistsException",
            Self::SyncBlockerDoesNotExist => "SyncBlockerDoesNotExistException",
            Self::Throttling => "ThrottlingException",
            Self::InternalServer => "InternalServerException",
            Self::Serialization => "SerializationException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::RequestEntityTooLarge => "RequestEntityTooLargeException",
        }
    }

    /// The service answers client errors, throttling included, with 400.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InternalServer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::RequestEntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }
}
