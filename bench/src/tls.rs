//! Every AWS endpoint is HTTPS: a local relay in front of the emulator and moto, terminating
//! TLS (or not: the plain-HTTP twin takes the same hop), with certificates made at bench time
//! and a trust store that costs what a real one costs.
//!
//! - A root CA, an intermediate and a leaf for `localhost` and `127.0.0.1` (rcgen); the relay
//!   sends leaf + intermediate, as AWS endpoints send their leaf and Amazon's intermediate.
//! - The bundle: the system's CA bundle followed by the bench root, for `SSL_CERT_FILE`
//!   (rustls-native-certs in the functions) and `AWS_CA_BUNDLE` (botocore).
//! - Amazon Linux 2023's default loading, emulated: rustls-native-certs reads the cert file and
//!   every file of the cert directories when neither variable is set. The bench makes a
//!   directory with the system cert directory's entries (symbolic links to what they point
//!   at, so that the loader's skipping of files it already read works as it does on the
//!   system's own directory) plus the bench root, for `SSL_CERT_DIR` next to `SSL_CERT_FILE`.
//! - The relay also reads the requests it forwards (service from the SigV4 scope, operation
//!   from `X-Amz-Target` or the query protocol's `Action`), so the bench knows which AWS calls
//!   each cold path made, in order.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where Linux distributions keep the CA bundle (the list openssl-probe searches).
const SYSTEM_BUNDLES: [&str; 7] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/cacert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

/// The trust material of one bench run, in a directory of its own.
pub struct Trust {
    pub server: Arc<ServerConfig>,
    /// The system bundle + the bench root.
    pub bundle: PathBuf,
    /// The bench root alone.
    pub ca: PathBuf,
    /// The emulated AL2023 cert directory.
    pub al2023_dir: PathBuf,
    pub system_bundle: PathBuf,
    pub system_certs: usize,
    pub system_dir: PathBuf,
    pub system_dir_entries: usize,
}

fn certificate_count(pem: &str) -> usize {
    pem.matches("-----BEGIN CERTIFICATE-----").count()
}

/// The system CA bundle: the runner's own `SSL_CERT_FILE` if set, else the first that exists.
fn system_bundle() -> Result<PathBuf, String> {
    std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
        .find(|path| {
            std::fs::read_to_string(path).is_ok_and(|pem| certificate_count(&pem) > 0)
        })
        .ok_or_else(|| {
            format!(
                "no system CA bundle (looked at $SSL_CERT_FILE and {}): the TLS rows need one to cost what a real trust store costs",
                SYSTEM_BUNDLES.join(", ")
            )
        })
}

fn ca_params(name: &str) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn io_error(what: &Path, err: std::io::Error) -> String {
    format!("{}: {err}", what.display())
}

fn certificate_error(err: rcgen::Error) -> String {
    format!("bench certificates: {err}")
}

/// The bench's certificates: a root CA (its PEM, for the trust stores) and the server's
/// configuration, presenting a leaf for localhost and 127.0.0.1 and the intermediate
/// that signed it.
fn certificates() -> Result<(String, ServerConfig), String> {
    let tls = certificate_error;
    let root_key = KeyPair::generate().map_err(tls)?;
    let root = ca_params("gitsync-bench root CA")?
        .self_signed(&root_key)
        .map_err(tls)?;
    let intermediate_key = KeyPair::generate().map_err(tls)?;
    let mut intermediate_params = ca_params("gitsync-bench intermediate CA")?;
    intermediate_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root, &root_key)
        .map_err(tls)?;
    let leaf_key = KeyPair::generate().map_err(tls)?;
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(tls)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf = leaf_params
        .signed_by(&leaf_key, &intermediate, &intermediate_key)
        .map_err(tls)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS versions: {err}"))?
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(leaf.der().to_vec()),
                CertificateDer::from(intermediate.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|err| format!("TLS server configuration: {err}"))?;
    Ok((root.pem(), server))
}

/// Writes `pem` to `path`.
fn write_pem(path: &Path, pem: &str) -> Result<(), String> {
    std::fs::write(path, pem).map_err(|e| io_error(path, e))
}

/// The system bundle with the bench root appended.
fn bundle_pem(system_pem: &str, root_pem: &str) -> String {
    let mut bundle_pem = system_pem.to_owned();
    if !bundle_pem.ends_with('\n') {
        bundle_pem.push('\n');
    }
    bundle_pem.push_str(root_pem);
    bundle_pem
}

/// A directory as Amazon Linux 2023 loads its trust store: a link to each certificate of
/// the system cert directory, and the bench root. Answers how many links it made.
fn al2023_dir(al2023_dir: &Path, system_dir: &Path, root_pem: &str) -> Result<usize, String> {
    std::fs::create_dir_all(al2023_dir).map_err(|e| io_error(al2023_dir, e))?;
    let mut entries = 0;
    for entry in std::fs::read_dir(system_dir).map_err(|e| io_error(system_dir, e))? {
        let entry = entry.map_err(|e| io_error(system_dir, e))?;
        // Dangling links are skipped, as the loader skips them.
        let Ok(target) = std::fs::canonicalize(entry.path()) else {
            continue;
        };
        if !target.is_file() {
            continue;
        }
        let link = al2023_dir.join(entry.file_name());
        std::os::unix::fs::symlink(&target, &link).map_err(|e| io_error(&link, e))?;
        entries += 1;
    }
    write_pem(&al2023_dir.join("gitsync-bench-ca.pem"), root_pem)?;
    Ok(entries)
}

impl Trust {
    /// Makes the certificates, the bundle and the AL2023 directory under `dir`.
    pub fn create(dir: &Path) -> Result<Self, String> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let (root_pem, server) = certificates()?;

        let system_bundle = system_bundle()?;
        let system_pem =
            std::fs::read_to_string(&system_bundle).map_err(|e| io_error(&system_bundle, e))?;
        let ca = dir.join("gitsync-bench-ca.pem");
        write_pem(&ca, &root_pem)?;
        let bundle = dir.join("bundle.pem");
        write_pem(&bundle, &bundle_pem(&system_pem, &root_pem))?;

        // The system cert directory is the bundle's (Debian: /etc/ssl/certs, AL2023:
        // /etc/pki/tls/certs).
        let system_dir = system_bundle
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs"));
        let al2023 = dir.join("al2023-certs");
        let system_dir_entries = al2023_dir(&al2023, &system_dir, &root_pem)?;

        Ok(Self {
            server: Arc::new(server),
            bundle,
            ca,
            al2023_dir: al2023,
            system_certs: certificate_count(&system_pem),
            system_bundle,
            system_dir,
            system_dir_entries,
        })
    }
}

/// What the relays saw: connections accepted and AWS calls forwarded, in order.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub connections: usize,
    pub calls: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Seen>>);

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Seen) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What was seen since the last take.
    pub fn take(&self) -> Seen {
        self.with(std::mem::take)
    }
}

/// A relay to one plain-HTTP upstream, with or without TLS in front; stops on drop.
pub struct Relay {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// Listens on a loopback port and forwards every connection to `upstream` (an `http://`
    /// URL), terminating TLS first when `tls` is given.
    pub async fn start(
        upstream: &str,
        tls: Option<Arc<ServerConfig>>,
        recorder: Recorder,
    ) -> Result<Self, String> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .map_err(|err| format!("relay upstream {upstream}: {err}"))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|err| format!("relay listener: {err}"))?;
        let address = listener
            .local_addr()
            .map_err(|err| format!("relay address: {err}"))?;
        let url = format!(
            "{}://127.0.0.1:{}",
            if tls.is_some() { "https" } else { "http" },
            address.port()
        );
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                recorder.with(|seen| seen.connections += 1);
                let acceptor = acceptor.clone();
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = server.set_nodelay(true);
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(client) = acceptor.accept(client).await {
                                pump(client, server, recorder).await;
                            }
                        }
                        None => pump(client, server, recorder).await,
                    }
                });
            }
        });
        Ok(Self { url, task })
    }
}

/// Copies both ways until either side closes, reading the requests on the way up.
async fn pump<C>(client: C, server: TcpStream, recorder: Recorder)
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let mut sniffer = Sniffer::default();
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let calls = sniffer.feed(&buffer[..n]);
            if !calls.is_empty() {
                recorder.with(|seen| seen.calls.extend(calls));
            }
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Reads HTTP/1.1 requests from a byte stream: `service:Operation` for each.
#[derive(Default)]
struct Sniffer {
    buffer: Vec<u8>,
    /// A request it cannot follow (chunked body, no end of headers): it stops reading.
    lost: bool,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Sniffer {
    fn feed(&mut self, data: &[u8]) -> Vec<String> {
        let mut calls = Vec::new();
        if self.lost {
            return calls;
        }
        self.buffer.extend_from_slice(data);
        while let Some(end) = find(&self.buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
            let mut length = 0;
            let (mut target, mut service) = (None, None);
            for line in head.lines().skip(1) {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap_or(0),
                    "transfer-encoding" if value.contains("chunked") => {
                        self.lost = true;
                        return calls;
                    }
                    "x-amz-target" => target = value.rsplit('.').next().map(str::to_owned),
                    // SigV4: Credential=KEY/DATE/REGION/SERVICE/aws4_request
                    "authorization" => {
                        service = value
                            .split("Credential=")
                            .nth(1)
                            .and_then(|c| c.split('/').nth(3))
                            .map(str::to_owned);
                    }
                    _ => {}
                }
            }
            let total = end + 4 + length;
            if self.buffer.len() < total {
                break;
            }
            let body = String::from_utf8_lossy(&self.buffer[end + 4..total]).into_owned();
            let action = body
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .map(str::to_owned);
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            let operation = target
                .or(action)
                .unwrap_or_else(|| format!("{} {path}", head.split(' ').next().unwrap_or("?")));
            calls.push(format!(
                "{}:{operation}",
                service.as_deref().unwrap_or("unsigned")
            ));
            self.buffer.drain(..total);
        }
        if self.buffer.len() > 1 << 20 {
            self.lost = true;
        }
        calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sniffer_names_json_and_query_calls_across_reads() {
        let mut sniffer = Sniffer::default();
        let json = "POST / HTTP/1.1\r\nX-Amz-Target: com.amazonaws.codestar.connections.CodeStar_connections_20191201.GetSyncBlockerSummary\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/codestar-connections/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: 2\r\n\r\n{}";
        let query = "POST / HTTP/1.1\r\nauthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sns/aws4_request\r\ncontent-length: 22\r\n\r\nAction=Publish&Version";
        let stream = format!("{json}{query}");
        let (first, second) = stream.as_bytes().split_at(50);
        assert!(sniffer.feed(first).is_empty());
        assert_eq!(
            sniffer.feed(second),
            ["codestar-connections:GetSyncBlockerSummary", "sns:Publish"]
        );
    }
}
