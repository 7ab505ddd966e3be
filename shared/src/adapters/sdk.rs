//! One SDK configuration per cold start, shared by every client.

use std::time::{Duration, SystemTime};

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_codestarconnections::config::SharedHttpClient;
use aws_sdk_codestarconnections::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::TlsContext;
use thiserror::Error;

use super::trust::{TrustPath, connector};
use crate::config::Env;
use crate::ports::{ApiError, ApiErrorKind};

#[derive(Debug, Error)]
pub enum ClientsError {
    #[error("no AWS region is configured: set AWS_REGION (Lambda sets it) or AWS_DEFAULT_REGION")]
    NoRegion,
    #[error(
        "SSL_CERT_FILE={0} is not a file, so every TLS call to AWS would fail: point it at a CA \
         bundle (on provided.al2023: {AL2023_CA_BUNDLE}) or unset it"
    )]
    TrustStore(String),
}

/// Where provided.al2023 keeps its CA bundle; the template sets `SSL_CERT_FILE` to it so that
/// the trust store is one file read once, not that file plus every file of `/etc/ssl/certs`
/// and `/etc/pki/tls/certs` (which hold the same bundle again).
pub const AL2023_CA_BUNDLE: &str = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem";

/// The shared SDK configuration. Endpoints come only from the standard `AWS_ENDPOINT_URL*`
/// variables, which aws-config reads itself.
#[derive(Clone)]
pub struct AwsClients {
    config: SdkConfig,
}

impl AwsClients {
    /// Standard retry (3 attempts, with backoff and throttling handling); timeouts short
    /// enough that one hung connection cannot eat the whole Lambda timeout.
    pub async fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ClientsError> {
        // Read raw, as the TLS stack reads it, so that the path checked is the path it opens.
        check_trust_store(std::env::var_os("SSL_CERT_FILE"))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        // Lambda hands the function its credentials and region in environment variables, where
        // the SDK's default chains look first. Read from there directly, the rest of the chains
        // (profile, SSO, web identity with its STS client, ECS, IMDS) is not built at every cold
        // start; without the variables (a developer's profile), the default chains apply.
        if env.optional("AWS_ACCESS_KEY_ID").is_some() {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        if env.optional("AWS_REGION").is_some() || env.optional("AWS_DEFAULT_REGION").is_some() {
            loader = loader.region(EnvironmentVariableRegionProvider::new());
        }
        let config = loader
            .http_client(https_client())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        if config.region().is_none() {
            return Err(ClientsError::NoRegion);
        }
        Ok(Self { config })
    }

    pub fn region(&self) -> String {
        self.config
            .region()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }
}

/// One HTTPS client for every SDK client: one TLS configuration (the trust store is parsed
/// once, not once per service) and one connection pool. Built as the SDK builds its default
/// client, proxy settings from the environment (`HTTPS_PROXY`, `NO_PROXY`) included. With a
/// bundle at `SSL_CERT_FILE` holding Amazon's roots, chains are verified on those first and the
/// whole bundle is decoded only for a chain they reject (see [`TrustPath`]).
pub fn https_client() -> SharedHttpClient {
    match TrustPath::from_env() {
        Some(trust) => SharedHttpClient::new(trust.http_client()),
        None => aws_smithy_http_client::Builder::new().build_with_connector_fn(
            |settings, components| connector(settings, components, TlsContext::default()),
        ),
    }
}

/// A mistyped `SSL_CERT_FILE` fails at cold start with its path, not later as an unknown issuer
/// on every call.
fn check_trust_store(ssl_cert_file: Option<std::ffi::OsString>) -> Result<(), ClientsError> {
    match ssl_cert_file {
        Some(path) if !matches!(std::fs::metadata(&path), Ok(meta) if meta.is_file()) => Err(
            ClientsError::TrustStore(path.to_string_lossy().into_owned()),
        ),
        _ => Ok(()),
    }
}

/// Every item of every page of a paginated call: `items` reads one page's, `failed` says
/// what a failed page means to the caller's port.
pub(crate) async fn all_pages<P, E, R, T, X>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<
        Result<P, SdkError<E, R>>,
    >,
    failed: impl Fn(SdkError<E, R>) -> X,
    items: impl Fn(&P) -> Vec<T>,
) -> Result<Vec<T>, X> {
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        all.extend(items(&page.map_err(&failed)?));
    }
    Ok(all)
}

/// Maps an SDK error to the port's error, keeping the service's code and message.
pub(crate) fn api_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let kind = match error.code() {
        Some("ThrottlingException" | "Throttling" | "TooManyRequestsException") => {
            ApiErrorKind::Throttled
        }
        Some("ResourceNotFoundException" | "NotFound" | "NotFoundException") => {
            ApiErrorKind::NotFound
        }
        Some("AccessDeniedException" | "AccessDenied" | "AuthorizationError") => {
            ApiErrorKind::AccessDenied
        }
        Some("InvalidInputException" | "ValidationException" | "ValidationError") => {
            ApiErrorKind::InvalidInput
        }
        Some("SyncBlockerDoesNotExistException") => ApiErrorKind::BlockerGone,
        Some("RetryLatestCommitFailedException") => ApiErrorKind::RetryLatestCommitFailed,
        _ => ApiErrorKind::Other,
    };
    let message = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(&error).to_string(),
    };
    ApiError {
        operation,
        kind,
        message,
    }
}

/// The SDK's timestamps as the domain's.
pub(crate) fn system_time(
    time: &aws_sdk_codestarconnections::primitives::DateTime,
) -> Option<SystemTime> {
    SystemTime::try_from(*time).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ssl_cert_file_is_named_at_cold_start() {
        let missing = "/nonexistent/gitsync-guard/ca-bundle.pem";
        let err = check_trust_store(Some(missing.into())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("SSL_CERT_FILE={missing} is not a file"))
        );
        assert!(err.to_string().contains(AL2023_CA_BUNDLE));
        let directory = std::env::temp_dir();
        assert!(check_trust_store(Some(directory.into_os_string())).is_err());
    }

    #[test]
    fn an_existing_bundle_or_none_is_accepted() {
        assert!(check_trust_store(None).is_ok());
        let bundle = std::env::temp_dir().join(format!("gitsync-ca-{}.pem", std::process::id()));
        std::fs::write(&bundle, "").unwrap();
        assert!(check_trust_store(Some(bundle.clone().into_os_string())).is_ok());
        std::fs::remove_file(bundle).unwrap();
    }
}
