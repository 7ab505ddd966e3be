//! The trust path of the one HTTPS client.
//!
//! AWS endpoints chain to Amazon Trust Services' five roots, so a cold start need not decode the
//! runtime's whole CA bundle (144 certificates on provided.al2023, most of a function's init) to
//! verify them. The client first verifies against those five roots, compiled in, and only those
//! the bundle holds: the fast path trusts nothing the bundle does not. A chain those roots do not
//! verify (an endpoint under another root, a TLS-inspecting proxy, a bad chain) is verified again
//! on a connector that trusts exactly what the client trusted before, the whole bundle, built
//! the first time one is needed; its answer, success or error, is the call's.
//!
//! aws-smithy-http-client builds its rustls configuration itself and takes no verifier of ours,
//! so the two paths are two of its connectors, built by the same code, and the fallback is a
//! second connection: a rejected handshake sent no request, so the request is sent again.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_http_client::{Connector, ConnectorBuilder};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The roots AWS endpoints chain to, as Amazon Trust Services lists them: Amazon Root CA 1 to 4
/// and Starfield Services Root Certificate Authority - G2. The PEMs are Mozilla's root store's,
/// as Debian ships it; the tests pin each one's SHA-256.
pub const AMAZON_ROOTS: [&str; 5] = [
    include_str!("amazon-roots/amazon-root-ca-1.pem"),
    include_str!("amazon-roots/amazon-root-ca-2.pem"),
    include_str!("amazon-roots/amazon-root-ca-3.pem"),
    include_str!("amazon-roots/amazon-root-ca-4.pem"),
    include_str!("amazon-roots/starfield-services-root-ca-g2.pem"),
];

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";

/// A connector as the SDK's own client builds one: rustls on ring, the connector settings and
/// sleep of the SDK client that asks for it, proxies from the environment; `tls` is its trust.
pub(crate) fn connector(
    settings: Option<&HttpConnectorSettings>,
    components: Option<&RuntimeComponents>,
    tls: TlsContext,
) -> Connector {
    let mut connector = ConnectorBuilder::default()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls);
    connector.set_connector_settings(settings.cloned());
    if let Some(components) = components {
        connector.set_sleep_impl(components.sleep_impl());
    }
    connector.set_proxy_config(Some(ProxyConfig::from_env()));
    connector.build()
}

/// Which of `roots` (PEM) `bundle` holds, each as a certificate block of its own.
///
/// A PEM's base64 body is the certificate's DER, so finding a root's whole block (its lines,
/// wrapped at 64 characters as RFC 7468 and every distribution's bundle wrap them, up to its
/// END line) finds that exact certificate. A bundle wrapped otherwise only hides roots from the
/// fast path, which then falls back to the whole bundle: it can make a call slower, never
/// trust more. Base64 has no '-', so the scan jumps from one marker or label line to the next
/// (a search per line would cost as much as the rest of the trust path); each BEGIN line is
/// compared with each root.
pub fn roots_in_bundle<'a>(roots: &[&'a str], bundle: &str) -> Vec<&'a str> {
    // What follows a root's BEGIN line: its body lines and its END line.
    let tails: Vec<Option<&str>> = roots
        .iter()
        .map(|root| root.trim().strip_prefix(BEGIN))
        .collect();
    let mut held = vec![false; roots.len()];
    let mut at = 0;
    while let Some(found) = bundle[at..].find('-') {
        let start = at + found;
        let line = &bundle[start..];
        let at_line_start = start == 0 || bundle.as_bytes()[start - 1] == b'\n';
        if at_line_start && let Some(after) = line.strip_prefix(BEGIN) {
            for (tail, held) in tails.iter().zip(held.iter_mut()) {
                if let Some(tail) = tail
                    && let Some(rest) = strip_lines(after, tail)
                    && (rest.is_empty() || rest.starts_with(['\n', '\r']))
                {
                    *held = true;
                }
            }
        }
        match line.find('\n') {
            Some(end) => at = start + end + 1,
            None => break,
        }
    }
    roots
        .iter()
        .zip(held)
        .filter_map(|(root, held)| held.then_some(*root))
        .collect()
}

/// `text` after `lines`, whose line breaks `text` may have as CRLF.
fn strip_lines<'t>(text: &'t str, lines: &str) -> Option<&'t str> {
    if !text.starts_with("\r\n") {
        return text.strip_prefix(lines);
    }
    let mut rest = text;
    for (index, line) in lines.split('\n').enumerate() {
        if index > 0 {
            rest = rest.strip_prefix("\r\n")?;
        }
        rest = rest.strip_prefix(line)?;
    }
    Some(rest)
}

/// The client's trust: the fast roots, and the full trust to fall back to.
#[derive(Clone, Debug)]
pub struct TrustPath {
    fast: TlsContext,
    full: TlsContext,
}

impl TrustPath {
    /// `fast_roots` (PEM) are tried first, those of them that `bundle` (the text of the CA bundle
    /// `full` trusts) holds; `full` is the trust to fall back to. `None` when the bundle holds
    /// none of them: then `full` is all there is to use.
    pub fn new(fast_roots: &[&str], bundle: &str, full: TlsContext) -> Option<Self> {
        let held = roots_in_bundle(fast_roots, bundle);
        if held.is_empty() {
            return None;
        }
        let store = held.iter().fold(TrustStore::empty(), |store, root| {
            store.with_pem_certificate(root.as_bytes())
        });
        let fast = TlsContext::builder().with_trust_store(store).build().ok()?;
        Some(Self { fast, full })
    }

    /// The product's trust path: Amazon's roots that the bundle at `SSL_CERT_FILE` holds, then
    /// the trust the SDK's client has by default (that bundle, or the platform's certificates
    /// when the variable is unset: then there is no bundle to check the roots against, and no
    /// fast path). Read once per cold start.
    pub fn from_env() -> Option<Self> {
        let bundle = std::fs::read_to_string(std::env::var_os("SSL_CERT_FILE")?).ok()?;
        Self::new(&AMAZON_ROOTS, &bundle, TlsContext::default())
    }

    /// A connector on this trust path, with the settings and sleep of the SDK client asking.
    pub fn connector(
        &self,
        settings: Option<&HttpConnectorSettings>,
        components: Option<&RuntimeComponents>,
    ) -> TrustPathConnector {
        let fast = connector(settings, components, self.fast.clone());
        let (settings, components, full) =
            (settings.cloned(), components.cloned(), self.full.clone());
        TrustPathConnector {
            inner: Arc::new(Inner {
                fast: SharedHttpConnector::new(fast),
                full: OnceLock::new(),
                build_full: Box::new(move || {
                    connector(settings.as_ref(), components.as_ref(), full.clone())
                }),
                fallen_back: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The SDK's HTTP client on this trust path.
    pub fn http_client(self) -> TrustPathClient {
        TrustPathClient {
            trust: self,
            connectors: RwLock::new(HashMap::new()),
        }
    }
}

/// An HTTP client whose connectors verify on the fast roots and fall back to the full trust.
/// One connector per timeout settings, as the SDK's own client caches them.
#[derive(Debug)]
pub struct TrustPathClient {
    trust: TrustPath,
    connectors: RwLock<HashMap<TimeoutKey, SharedHttpConnector>>,
}

/// The connector settings a connector is built with: connect and read timeouts.
type TimeoutKey = (Option<Duration>, Option<Duration>);

impl HttpClient for TrustPathClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        if let Some(connector) = self
            .connectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return connector.clone();
        }
        self.connectors
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| {
                SharedHttpConnector::new(self.trust.connector(Some(settings), Some(components)))
            })
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// A connector that verifies on the fast roots and, for a chain they reject, on the full trust.
#[derive(Clone)]
pub struct TrustPathConnector {
    inner: Arc<Inner>,
}

struct Inner {
    fast: SharedHttpConnector,
    full: OnceLock<SharedHttpConnector>,
    build_full: Box<dyn Fn() -> Connector + Send + Sync>,
    /// Hosts (and ports) whose chain the fast roots rejected: their calls go to the full trust
    /// directly, not through a handshake known to fail.
    fallen_back: Mutex<HashSet<String>>,
}

impl Inner {
    fn full(&self) -> &SharedHttpConnector {
        self.full
            .get_or_init(|| SharedHttpConnector::new((self.build_full)()))
    }

    fn has_fallen_back(&self, authority: &str) -> bool {
        self.fallen_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(authority)
    }

    fn fall_back(&self, authority: String) {
        self.fallen_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(authority);
    }

    fn call_full(&self, request: http::Request<SdkBody>) -> HttpConnectorFuture {
        match HttpRequest::try_from(request) {
            Ok(request) => self.full().call(request),
            Err(error) => HttpConnectorFuture::ready(Err(ConnectorError::user(error.into()))),
        }
    }
}

impl TrustPathConnector {
    /// Whether the full trust has been built: not until a chain needed it.
    pub fn fallback_built(&self) -> bool {
        self.inner.full.get().is_some()
    }
}

impl fmt::Debug for TrustPathConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustPathConnector")
            .field("fallback_built", &self.fallback_built())
            .finish()
    }
}

impl HttpConnector for TrustPathConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let authority = request
            .uri()
            .authority()
            .map(|authority| authority.as_str().to_owned())
            .unwrap_or_default();
        if self.inner.has_fallen_back(&authority) {
            return self.inner.call_full(request);
        }
        let (parts, body) = request.into_parts();
        // The copy to send again if the fast roots reject the chain, extensions included (the
        // SDK's connection capture and telemetry). A body that cannot be copied (none of this
        // project's calls has one) goes to the full trust at once: it is tried only once.
        let Some(spare_body) = body.try_clone() else {
            return self.inner.call_full(http::Request::from_parts(parts, body));
        };
        let spare = http::Request::from_parts(parts.clone(), spare_body);
        let fast = match HttpRequest::try_from(http::Request::from_parts(parts, body)) {
            Ok(request) => self.inner.fast.call(request),
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(error.into())));
            }
        };
        let inner = Arc::clone(&self.inner);
        HttpConnectorFuture::new(async move {
            match fast.await {
                Err(error) if rejects_certificate(&error) => {
                    tracing::debug!(
                        %authority,
                        "the chain does not verify on Amazon's roots: verifying on the whole CA bundle"
                    );
                    inner.fall_back(authority);
                    inner.call_full(spare).await
                }
                result => result,
            }
        })
    }
}

/// Whether `error` is our verifier rejecting the server's certificate chain, the one failure
/// another trust store can change. hyper-rustls nests the rustls error in `io::Error`s, whose
/// `source` skips their payload, so the chain is walked through the payloads.
fn rejects_certificate(error: &ConnectorError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = next {
        if let Some(rustls::Error::InvalidCertificate(_)) = error.downcast_ref::<rustls::Error>() {
            return true;
        }
        next = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::SocketAddr;

    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::error::display::DisplayErrorContext;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, SanType,
    };
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A root CA made at test time.
    struct Root {
        certificate: rcgen::Certificate,
        key: KeyPair,
    }

    impl Root {
        fn new(name: &str) -> Self {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let key = KeyPair::generate().unwrap();
            let certificate = params.self_signed(&key).unwrap();
            Self { certificate, key }
        }

        fn pem(&self) -> String {
            self.certificate.pem()
        }

        /// A server on 127.0.0.1 presenting a leaf this root signed, answering 200 to every
        /// request.
        async fn serve(&self) -> SocketAddr {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
            params
                .distinguished_name
                .push(DnType::CommonName, "127.0.0.1");
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let key = KeyPair::generate().unwrap();
            let leaf = params
                .signed_by(&key, &self.certificate, &self.key)
                .unwrap();
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A client that rejects the chain ends the handshake: nothing to answer.
                        let Ok(mut tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        let mut request = Vec::new();
                        let mut buffer = [0; 1024];
                        loop {
                            match tls.read(&mut buffer).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&buffer[..n]),
                            }
                            if request.windows(4).any(|window| window == b"\r\n\r\n") {
                                request.clear();
                                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                                if tls.write_all(answer).await.is_err() {
                                    return;
                                }
                            }
                        }
                    });
                }
            });
            address
        }
    }

    /// The trust the product falls back to, built from `bundle` as the SDK builds it from the
    /// bundle at `SSL_CERT_FILE`.
    fn full_trust(bundle: &str) -> TlsContext {
        TlsContext::builder()
            .with_trust_store(TrustStore::empty().with_pem_certificate(bundle.as_bytes()))
            .build()
            .unwrap()
    }

    async fn get(
        connector: &dyn HttpConnector,
        address: SocketAddr,
    ) -> Result<HttpResponse, ConnectorError> {
        let request = HttpRequest::get(format!("https://{address}/")).unwrap();
        connector.call(request).await
    }

    /// The rustls error a failed call carries, if any.
    fn rustls_error(error: &ConnectorError) -> Option<rustls::Error> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(error) = next {
            if let Some(rustls) = error.downcast_ref::<rustls::Error>() {
                return Some(rustls.clone());
            }
            next = match error.downcast_ref::<std::io::Error>() {
                Some(io) => io
                    .get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static)),
                None => error.source(),
            };
        }
        None
    }

    /// Three roots: `fast` is compiled in and in the bundle, `other` is only in the bundle,
    /// `removed` is compiled in but not in the bundle.
    struct World {
        fast: Root,
        other: Root,
        removed: Root,
        bundle: String,
    }

    impl World {
        fn new() -> Self {
            let (fast, other, removed) = (
                Root::new("fast root"),
                Root::new("other root"),
                Root::new("removed root"),
            );
            let bundle = format!("# fast\n{}\n# other\n{}", fast.pem(), other.pem());
            Self {
                fast,
                other,
                removed,
                bundle,
            }
        }

        fn trust(&self) -> TrustPath {
            let fast_roots = [self.fast.pem(), self.removed.pem()];
            let fast_roots: Vec<&str> = fast_roots.iter().map(String::as_str).collect();
            TrustPath::new(&fast_roots, &self.bundle, full_trust(&self.bundle)).unwrap()
        }
    }

    #[tokio::test]
    async fn a_chain_to_a_fast_root_never_builds_the_fallback() {
        let world = World::new();
        let connector = world.trust().connector(None, None);
        let address = world.fast.serve().await;
        for _ in 0..2 {
            let response = get(&connector, address).await.unwrap();
            assert_eq!(200, response.status().as_u16());
        }
        assert!(!connector.fallback_built());
    }

    #[tokio::test]
    async fn a_chain_to_another_root_of_the_bundle_verifies_through_the_fallback() {
        let world = World::new();
        let connector = world.trust().connector(None, None);
        let address = world.other.serve().await;
        let response = get(&connector, address).await.unwrap();
        assert_eq!(200, response.status().as_u16());
        assert!(connector.fallback_built());
        // The host is now known: its calls go to the full trust directly.
        assert!(connector.inner.has_fallen_back(&address.to_string()));
        let response = get(&connector, address).await.unwrap();
        assert_eq!(200, response.status().as_u16());
        // A host under a fast root still takes the fast path.
        let fast = world.fast.serve().await;
        assert_eq!(200, get(&connector, fast).await.unwrap().status().as_u16());
        assert!(!connector.inner.has_fallen_back(&fast.to_string()));
    }

    #[tokio::test]
    async fn a_compiled_in_root_the_bundle_lacks_is_trusted_by_neither_path() {
        let world = World::new();
        let removed = world.removed.pem();
        let fast = world.fast.pem();
        assert_eq!(
            vec![fast.as_str()],
            roots_in_bundle(&[&fast, &removed], &world.bundle)
        );
        let connector = world.trust().connector(None, None);
        let address = world.removed.serve().await;
        let error = get(&connector, address).await.unwrap_err();
        assert_eq!(
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            rustls_error(&error)
        );
        assert!(connector.fallback_built());
    }

    #[tokio::test]
    async fn a_bad_chain_fails_as_on_the_whole_bundle_alone() {
        let world = World::new();
        let stranger = Root::new("stranger root");
        let address = stranger.serve().await;
        let trust_path = world.trust().connector(None, None);
        let on_trust_path = get(&trust_path, address).await.unwrap_err();
        assert!(trust_path.fallback_built());
        let on_bundle_alone = get(&connector(None, None, full_trust(&world.bundle)), address)
            .await
            .unwrap_err();
        assert_eq!(
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            rustls_error(&on_bundle_alone)
        );
        assert_eq!(rustls_error(&on_bundle_alone), rustls_error(&on_trust_path));
        assert_eq!(on_bundle_alone.is_io(), on_trust_path.is_io());
        assert_eq!(
            format!("{}", DisplayErrorContext(&on_bundle_alone)),
            format!("{}", DisplayErrorContext(&on_trust_path))
        );
    }

    #[test]
    fn a_bundle_holding_none_of_the_fast_roots_has_no_fast_path() {
        let bundle = Root::new("some root").pem();
        assert!(TrustPath::new(&AMAZON_ROOTS, &bundle, full_trust(&bundle)).is_none());
    }

    #[test]
    fn a_root_is_found_only_as_a_whole_certificate_block() {
        let root = AMAZON_ROOTS[0];
        let other = AMAZON_ROOTS[2];
        let held = |bundle: &str| roots_in_bundle(&[root], bundle) == [root];
        assert!(held(root));
        assert!(held(&format!("# Amazon Root CA 1\n{root}\n{other}")));
        assert!(held(&format!(
            "# Services Root - G2\n{other}# - a label -\n{root}"
        )));
        assert!(held(&format!("{other}{}", root.trim_end())));
        assert!(held(&root.replace('\n', "\r\n")));
        // Wrapped otherwise, the root is not recognised: the fast path just goes without it.
        let body: String = root
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let rewrapped = format!(
            "{BEGIN}\n{}\n{}\n-----END CERTIFICATE-----\n",
            &body[..76],
            &body[76..]
        );
        assert!(!held(&rewrapped));
        // Its lines in another block (a longer DER, a TRUSTED CERTIFICATE) are not the root.
        let truncated: String = root
            .lines()
            .filter(|line| line.len() == 64)
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(!held(&format!(
            "{BEGIN}\n{truncated}-----END CERTIFICATE-----\n"
        )));
        let longer = root.replace("\n-----END", "\nAAAA\n-----END");
        assert!(!held(&longer));
        let trusted = root.replace("CERTIFICATE-----", "TRUSTED CERTIFICATE-----");
        assert!(!held(&trusted));
        assert!(!held(&format!("# {root}")));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Each compiled-in root is Amazon's: its public key hashes as Amazon Trust Services'
    /// repository lists it (SHA-256 of the subjectPublicKeyInfo), and the certificate as
    /// Mozilla's root store lists it (SHA-256 of the DER).
    #[test]
    fn the_compiled_in_roots_are_amazons() {
        let spki = [
            "fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
            "7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
            "36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
            "f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
            "2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92",
        ];
        let certificate = [
            "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
            "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
            "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
            "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        ];
        let sha256 = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
            .tls13()
            .unwrap()
            .common
            .hash_provider;
        for ((pem, spki), certificate) in AMAZON_ROOTS.iter().zip(spki).zip(certificate) {
            let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
            assert_eq!(certificate, hex(sha256.hash(&der).as_ref()));
            let mut anchors = rustls::RootCertStore::empty();
            anchors.add(der).unwrap();
            // The anchor keeps the SEQUENCE's contents; the hash is over the whole SEQUENCE.
            let contents = anchors.roots[0].subject_public_key_info.as_ref();
            let length = contents.len();
            let mut sequence = match length {
                0..0x80 => vec![0x30, length as u8],
                0x80..0x100 => vec![0x30, 0x81, length as u8],
                _ => vec![0x30, 0x82, (length >> 8) as u8, length as u8],
            };
            sequence.extend_from_slice(contents);
            assert_eq!(spki, hex(sha256.hash(&sequence).as_ref()));
        }
        // All five are usable trust anchors: the fast connector is built from them.
        let trust = TrustPath::new(&AMAZON_ROOTS, &AMAZON_ROOTS.concat(), TlsContext::default());
        let connector = trust.unwrap().connector(None, None);
        assert!(!connector.fallback_built());
    }
}
