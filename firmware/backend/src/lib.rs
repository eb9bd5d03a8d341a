//! The HTTP(S) client that runs flow `http` nodes ([`yingda_flow::HttpRequest`]) against the
//! hospital's or bank's own backends.
//!
//! - `https` is verified by rustls (ring provider) against the CA bundle of the box
//!   ([`BackendConfig::ca_bundle`]) — or, for a host with a **pinned CA**
//!   ([`BackendConfig::pinned`]), against that CA alone, so a certificate from any other CA
//!   (even one in the bundle) is refused.
//! - **Resolve overrides** ([`BackendConfig::resolve`]) map `host:port` to an address, as
//!   curl's `--resolve` does: the LAN's backend needs no DNS entry, and the certificate is
//!   still checked against the host name.
//! - One deadline, the request's `timeout_ms`, covers resolving, connecting, the TLS
//!   handshake, sending and reading the whole response.
//! - Redirects are not followed; a response over [`BackendConfig::max_response_bytes`] or
//!   not UTF-8 is an error, never truncated.
//! - Error messages name the host and port only: never the path, query, headers or body,
//!   which may carry a PIN or an ID number.
//!
//! Retries and circuit breaking belong to the flow interpreter; this client makes one
//! attempt per call.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use yingda_flow::interp::{Event, HttpRequest, Id};

/// Where Debian keeps the system's trusted CAs.
pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Largest response body accepted by default.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;

/// How the client reaches backends.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// PEM bundle of trusted CAs for hosts without a pinned CA.
    pub ca_bundle: PathBuf,
    /// Host name → PEM file of the only CA trusted for that host.
    pub pinned: BTreeMap<String, PathBuf>,
    /// `(host, port)` → address to connect to instead of resolving the name.
    pub resolve: BTreeMap<(String, u16), SocketAddr>,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// `User-Agent` sent.
    pub user_agent: String,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            ca_bundle: PathBuf::from(DEFAULT_CA_BUNDLE),
            pinned: BTreeMap::new(),
            resolve: BTreeMap::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: concat!("yingda/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

/// Why a backend call failed. Messages name host and port only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// A CA file could not be used.
    #[error("CA file {path}: {detail}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The URL is not an absolute http(s) URL with a host.
    #[error("bad URL: {0}")]
    Url(&'static str),
    /// The method is not one flows may use.
    #[error("method {0:?} is not GET, POST, PUT or DELETE")]
    Method(String),
    /// The host name did not resolve.
    #[error("{host}:{port}: cannot resolve the host name")]
    Resolve {
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
    /// TCP connect failed.
    #[error("{host}:{port}: cannot connect: {source}")]
    Connect {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS handshake failed (untrusted certificate, wrong name, protocol).
    #[error("{host}:{port}: TLS: {detail}")]
    Tls {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// rustls's reason.
        detail: String,
    },
    /// The HTTP exchange failed (connection closed, malformed response).
    #[error("{host}:{port}: HTTP: {detail}")]
    Http {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// hyper's reason.
        detail: String,
    },
    /// The whole exchange took longer than the request's timeout.
    #[error("{host}:{port}: no complete answer within {ms} ms")]
    Timeout {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// The timeout.
        ms: u64,
    },
    /// The response body is larger than allowed.
    #[error("{host}:{port}: response larger than {limit} bytes")]
    TooLarge {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// The limit.
        limit: usize,
    },
    /// The response body is not UTF-8.
    #[error("{host}:{port}: response body is not UTF-8")]
    NotUtf8 {
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
}

/// A backend's answer: any status (4xx/5xx included) with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body, UTF-8.
    pub body: String,
}

/// The client, shared by all calls (cheap to clone).
#[derive(Debug, Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: BackendConfig,
    default_tls: Arc<ClientConfig>,
    pinned_tls: BTreeMap<String, Arc<ClientConfig>>,
}

fn load_roots(path: &Path) -> Result<RootCertStore, BackendError> {
    let err = |detail: String| BackendError::Ca {
        path: path.to_path_buf(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| err(format!("not PEM certificates: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| err(format!("unusable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(err("no certificate in the file".into()));
    }
    Ok(roots)
}

fn tls_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, BackendError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BackendError::Ca {
            path: PathBuf::new(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

impl Backend {
    /// A client with `cfg`; CA files are read now, so a bad one is reported at start-up.
    ///
    /// # Errors
    /// [`BackendError::Ca`] naming the file.
    pub fn new(cfg: BackendConfig) -> Result<Backend, BackendError> {
        let default_tls = tls_config(load_roots(&cfg.ca_bundle)?)?;
        let mut pinned_tls = BTreeMap::new();
        for (host, ca) in &cfg.pinned {
            pinned_tls.insert(host.to_ascii_lowercase(), tls_config(load_roots(ca)?)?);
        }
        Ok(Backend {
            inner: Arc::new(Inner {
                cfg,
                default_tls,
                pinned_tls,
            }),
        })
    }

    /// Make the request once, within its `timeout_ms`.
    ///
    /// # Errors
    /// Every way it can fail, as [`BackendError`]; an HTTP error status is a [`Reply`].
    pub async fn send(&self, req: &HttpRequest) -> Result<Reply, BackendError> {
        if !matches!(req.method.as_str(), "GET" | "POST" | "PUT" | "DELETE") {
            return Err(BackendError::Method(req.method.clone()));
        }
        let uri: Uri = req
            .url
            .parse()
            .map_err(|_| BackendError::Url("not a URL"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(BackendError::Url("scheme must be http or https")),
        };
        let host = uri
            .host()
            .ok_or(BackendError::Url("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(BackendError::Url("user names in URLs are not allowed"));
        }
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let ms = req.timeout_ms;
        let exchange = self.exchange(req, &uri, https, &host, port);
        match tokio::time::timeout(Duration::from_millis(ms), exchange).await {
            Ok(r) => r,
            Err(_) => Err(BackendError::Timeout { host, port, ms }),
        }
    }

    async fn exchange(
        &self,
        req: &HttpRequest,
        uri: &Uri,
        https: bool,
        host: &str,
        port: u16,
    ) -> Result<Reply, BackendError> {
        let cfg = &self.inner.cfg;
        let addr = match cfg.resolve.get(&(host.to_string(), port)) {
            Some(a) => *a,
            None => tokio::net::lookup_host((host, port))
                .await
                .ok()
                .and_then(|mut it| it.next())
                .ok_or_else(|| BackendError::Resolve {
                    host: host.into(),
                    port,
                })?,
        };
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| BackendError::Connect {
                host: host.into(),
                port,
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let http_err = |e: hyper::Error| BackendError::Http {
            host: host.into(),
            port,
            detail: e.to_string(),
        };
        let request = self.build(req, uri, host, port, https)?;
        let (response, _connection) = if https {
            let tls = self
                .inner
                .pinned_tls
                .get(host)
                .unwrap_or(&self.inner.default_tls);
            let name = ServerName::try_from(host.to_string())
                .map_err(|_| BackendError::Url("host is not a valid name"))?;
            let stream = TlsConnector::from(Arc::clone(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| BackendError::Tls {
                    host: host.into(),
                    port,
                    detail: e.to_string(),
                })?;
            self.round_trip(TokioIo::new(stream), request)
                .await
                .map_err(http_err)?
        } else {
            self.round_trip(TokioIo::new(tcp), request)
                .await
                .map_err(http_err)?
        };
        let status = response.status().as_u16();
        let limit = cfg.max_response_bytes;
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    BackendError::TooLarge {
                        host: host.into(),
                        port,
                        limit,
                    }
                } else {
                    BackendError::Http {
                        host: host.into(),
                        port,
                        detail: e.to_string(),
                    }
                }
            })?
            .to_bytes();
        let body = String::from_utf8(body.to_vec()).map_err(|_| BackendError::NotUtf8 {
            host: host.into(),
            port,
        })?;
        Ok(Reply { status, body })
    }

    fn build(
        &self,
        req: &HttpRequest,
        uri: &Uri,
        host: &str,
        port: u16,
        https: bool,
    ) -> Result<hyper::Request<Full<Bytes>>, BackendError> {
        let default_port = if https { 443 } else { 80 };
        let host_header = if port == default_port {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut b = hyper::Request::builder()
            .method(req.method.as_str())
            .uri(path)
            .header(hyper::header::HOST, host_header)
            .header(hyper::header::USER_AGENT, &self.inner.cfg.user_agent)
            .header(hyper::header::CONNECTION, "close")
            .header(hyper::header::ACCEPT, "application/json");
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let body = match &req.body {
            Some(text) => {
                b = b.header(hyper::header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(text.clone()))
            }
            None => Full::new(Bytes::new()),
        };
        b.body(body)
            .map_err(|_| BackendError::Url("a header name or value is not valid HTTP"))
    }

    async fn round_trip<T>(
        &self,
        io: TokioIo<T>,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, AbortOnDrop), hyper::Error>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        // The connection is driven by its own task while the body is read; the guard goes
        // back to the caller, whose drop (done, or the deadline passed) ends it.
        let task = AbortOnDrop(tokio::spawn(conn));
        let response = sender.send_request(request).await?;
        Ok((response, task))
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The flow event for a finished backend call.
pub fn event(id: Id, at_ms: i64, outcome: Result<Reply, BackendError>) -> Event {
    match outcome {
        Ok(r) => Event::HttpReply {
            at_ms,
            id,
            status: r.status,
            body: r.body,
        },
        Err(e) => Event::HttpFailed {
            at_ms,
            id,
            error: e.to_string(),
        },
    }
}
