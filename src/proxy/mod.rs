//! The action's own HTTP requests — GitHub's OIDC token, the registry's API for `assemble` — go
//! through the proxy that `HTTPS_PROXY` / `HTTP_PROXY` (or `ALL_PROXY`, any case) name, unless
//! `NO_PROXY` exempts the host, as the AWS SDK's requests do. Through a proxy every request is
//! tunnelled (`CONNECT`), so TLS stays end to end. An `https://` proxy is reached over TLS, verified
//! against the same roots as the destinations (the system's, or the bundle `SSL_CERT_FILE` names), and
//! the `CONNECT` with its `Proxy-Authorization` travels inside that TLS; any other scheme (`socks5://`,
//! …) is refused when the client is built, naming the variable. Proxy credentials never appear in an
//! error. The push itself is the Docker daemon's: it follows the daemon's own proxy settings. What the
//! user reads is in `advice.rs`.

mod advice;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Result;
use hyper::Uri;
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The action's own HTTP(S) client, for request bodies of type `B`.
pub type HttpClient<B> = Client<hyper_rustls::HttpsConnector<Connector>, B>;

/// An answer, read whole.
pub struct Answer {
    pub status: hyper::StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<String> {
        let value = self.headers.get(name)?.to_str().ok()?;
        Some(value.to_owned())
    }

    /// The wait a `Retry-After` of delay-seconds asks for (RFC 9110 §10.2.3; the HTTP-date form,
    /// which registries are not known to send, is not read).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        let seconds = self.header("retry-after")?.trim().parse::<u64>().ok()?;
        Some(std::time::Duration::from_secs(seconds))
    }
}

/// How much of an answer the action reads, by the kind of document it expects: an answer larger than
/// this is refused, never held in memory whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub bytes: usize,
    /// What the answer should be, for the error.
    pub what: &'static str,
}

/// A manifest or an index: the OCI distribution spec has registries accept at least 4 MiB; ECR's
/// limit is the same.
pub const MANIFEST: Cap = Cap {
    bytes: 4 << 20,
    what: "a manifest or index",
};
/// An image configuration (a JSON document of the image's settings and history).
pub const CONFIGURATION: Cap = Cap {
    bytes: 8 << 20,
    what: "an image configuration",
};
/// GitHub's answer with an ID token.
pub const TOKEN_ANSWER: Cap = Cap {
    bytes: 64 << 10,
    what: "a token answer",
};

/// Why an exchange gave no answer to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// None in time, or a connection or read problem: worth another try.
    Transient(String),
    /// Larger than its cap: another try would read the same.
    TooLarge(String),
    /// TLS refused the server's certificate (an issuer not trusted, expired, another host's):
    /// another try would meet the same certificate.
    Untrusted(String),
}

impl Failed {
    pub fn text(&self) -> &str {
        match self {
            Failed::Transient(text) | Failed::TooLarge(text) | Failed::Untrusted(text) => text,
        }
    }
}

/// Sends `request` and reads the whole answer — status, headers and body — within `limit`, and at
/// most `cap` bytes of body; what an answer means is the caller's to judge.
pub async fn exchange<B>(
    client: &HttpClient<B>,
    request: hyper::Request<B>,
    limit: std::time::Duration,
    cap: Cap,
) -> Result<Answer, Failed>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let host = request.uri().host().unwrap_or_default().to_owned();
    let too_large = || Failed::TooLarge(advice::too_large(&host, cap.bytes, cap.what));
    let read = async {
        use http_body_util::BodyExt as _;
        let response = client.request(request).await.map_err(|e| {
            let chain = crate::github::error_chain(&e);
            if refused_certificate(&e) {
                Failed::Untrusted(advice::untrusted(&host, &chain))
            } else {
                Failed::Transient(chain)
            }
        })?;
        let (parts, mut body) = response.into_parts();
        let announced = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if announced.is_some_and(|n| n > cap.bytes as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failed::Transient(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > cap.bytes {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: bytes,
        })
    };
    tokio::time::timeout(limit, read)
        .await
        .map_err(|_| Failed::Transient(advice::no_answer_in_time(&host, limit.as_secs())))?
}

/// Whether TLS refused the server's certificate somewhere in `err`'s chain: rustls's error, which
/// hyper-rustls hands on inside I/O errors (whose `source` skips what they carry, so each is opened).
fn refused_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(err);
    while let Some(e) = at {
        if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return true;
        }
        let carried = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        at = match carried {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// An HTTP(S) client for the action's own requests, with the proxy settings of the environment; a
/// proxy it cannot speak to is refused here, before any request.
pub fn client<B>() -> Result<HttpClient<B>>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    refuse_unsupported(|name| std::env::var(name).ok())?;
    let tls = tls_settings()?;
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(Connector::new(Matcher::from_env(), tls));
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// The TLS settings of every client the action builds, with one set of roots for the proxy's
/// certificate and the destination's. Loaded once per run: loading reads and parses every certificate
/// of the system's store (the bundle and the directory, several hundred on Debian and Ubuntu), which
/// took more CPU than the rest of a one-tag push when every registry client loaded its own.
fn tls_settings() -> Result<rustls::ClientConfig> {
    static SETTINGS: std::sync::OnceLock<Result<rustls::ClientConfig, String>> =
        std::sync::OnceLock::new();
    let settings = SETTINGS.get_or_init(|| {
        let roots = rustls::ClientConfig::builder().with_native_roots();
        Ok(roots.map_err(|e| e.to_string())?.with_no_client_auth())
    });
    settings
        .clone()
        .map_err(|why| advice::no_root_certificates(&why))
}

/// Refuses, before the run makes any request, a proxy in the environment that the action's own
/// client could not speak to (see [`refuse_unsupported`]): the AWS SDK's requests come first in most
/// runs, and it would fail on such a proxy only after its retries, without naming the variable.
pub fn check_environment() -> Result<()> {
    refuse_unsupported(|name| std::env::var(name).ok())
}

/// The variables that name a proxy, in the order `Matcher::from_env` reads each pair: the upper-case
/// name wins when both are set, even empty.
const PROXY_VARIABLES: [[&str; 2]; 3] = [
    ["HTTPS_PROXY", "https_proxy"],
    ["HTTP_PROXY", "http_proxy"],
    ["ALL_PROXY", "all_proxy"],
];

/// Refuses a proxy the client would use but cannot speak to: one that is not `http://` or
/// `https://` (the `Matcher` accepts `socks4`/`socks5` addresses, and silently ignores other schemes
/// and values it cannot parse, which would send the requests around the proxy). `var` reads a
/// variable. The error names the variable and the scheme, never the value: it may hold credentials.
fn refuse_unsupported(var: impl Fn(&str) -> Option<String>) -> Result<()> {
    // A CGI environment's HTTP_PROXY comes from a request header: the Matcher ignores every variable then.
    if var("REQUEST_METHOD").is_some() {
        return Ok(());
    }
    let set = |pair: [&'static str; 2]| {
        pair.into_iter()
            .find_map(|name| var(name).map(|value| (name, value)))
    };
    let all = set(PROXY_VARIABLES[2]).filter(|(_, value)| !value.is_empty());
    let mut used = Vec::new();
    for pair in &PROXY_VARIABLES[..2] {
        // An empty HTTPS_PROXY / HTTP_PROXY leaves the destination to ALL_PROXY, as in the Matcher.
        match set(*pair).filter(|(_, value)| !value.is_empty()) {
            Some(named) => used.push(named),
            None => used.extend(all.clone()),
        }
    }
    for (name, value) in used {
        check_proxy_address(name, &value)?;
    }
    Ok(())
}

fn check_proxy_address(name: &str, value: &str) -> Result<()> {
    // The Matcher splits the credentials at the first `@`; an unencoded `@` in the password would
    // leave the rest of it in the proxy's address, and in every error that names the address.
    let parsed = value.parse::<Uri>().ok().filter(|uri| {
        uri.authority()
            .is_none_or(|a| a.as_str().matches('@').count() <= 1)
    });
    let Some(uri) = parsed else {
        let scheme = value
            .split_once("://")
            .map(|(scheme, _)| scheme)
            .filter(|s| is_scheme(s));
        return Err(match scheme {
            Some(scheme) if !matches!(scheme, "http" | "https") => {
                advice::unsupported_scheme(name, scheme, false)
            }
            _ => advice::unreadable(name),
        });
    };
    match uri.scheme_str() {
        // Without a scheme the Matcher takes `http://`, as curl does.
        None | Some("http" | "https") if uri.host().is_some() => Ok(()),
        None | Some("http" | "https") => Err(advice::no_host(name)),
        Some(scheme) => Err(advice::unsupported_scheme(name, scheme, true)),
    }
}

/// A URI scheme's characters (RFC 3986), so that nothing else of a value is ever echoed.
fn is_scheme(text: &str) -> bool {
    text.len() <= 16
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Connects directly, or through a `CONNECT` tunnel to the proxy the environment names for the host —
/// over TLS when the proxy's address is `https://`.
#[derive(Clone)]
pub struct Connector {
    matcher: std::sync::Arc<Matcher>,
    direct: HttpConnector,
    /// To the proxy itself: TLS for an `https://` proxy, plain TCP for an `http://` one.
    to_proxy: hyper_rustls::HttpsConnector<HttpConnector>,
}

impl Connector {
    fn new(matcher: Matcher, tls: rustls::ClientConfig) -> Self {
        let mut direct = HttpConnector::new();
        // hyper-rustls puts TLS on top for `https://` destinations.
        direct.enforce_http(false);
        direct.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
        let to_proxy = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(direct.clone());
        Connector {
            matcher: std::sync::Arc::new(matcher),
            direct,
            to_proxy,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A connection to the destination: plain TCP, or a tunnel through the proxy (inside TLS to an
/// `https://` proxy). The destination's own TLS goes on top.
pub type Stream = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.direct.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let Some(proxy) = self.matcher.intercept(&destination) else {
            let connecting = self.direct.call(destination);
            return Box::pin(async move { Ok(MaybeHttpsStream::Http(connecting.await?)) });
        };
        // The Matcher keeps the credentials apart: this address has none, so errors may name it.
        let address = proxy.uri().clone();
        // Host and port only: nothing of a user-info part can reach a message.
        let shown = format!(
            "{}://{}{}",
            address.scheme_str().unwrap_or("http"),
            address.host().unwrap_or_default(),
            address.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        if !matches!(address.scheme_str(), Some("http" | "https")) {
            // `client` refuses these first; a SOCKS proxy must never receive an HTTP CONNECT.
            return Box::pin(async move { Err(advice::not_an_http_proxy(&shown).into()) });
        }
        let mut tunnel = Tunnel::new(address, self.to_proxy.clone());
        let with_credentials = proxy.basic_auth().is_some();
        if let Some(auth) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(auth.clone());
        }
        Box::pin(async move {
            let target = destination.authority().map(ToString::to_string);
            tunnel.call(destination).await.map_err(|e| {
                tunnel_failed(
                    &shown,
                    target.as_deref().unwrap_or(""),
                    with_credentials,
                    &e,
                )
                .into()
            })
        })
    }
}

/// A failed tunnel, said with the proxy's address (never its credentials: neither hyper-util's tunnel
/// errors nor the connectors beneath carry them) and what to check.
fn tunnel_failed(
    proxy: &str,
    target: &str,
    with_credentials: bool,
    error: &(dyn std::error::Error + 'static),
) -> String {
    let chain = crate::github::error_chain(error);
    advice::tunnel_failed(proxy, target, &chain, with_credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "pr0xy-s3cret";
    /// `Basic` of `someone:pr0xy-s3cret`, as the CONNECT would carry it.
    const ENCODED: &str = "c29tZW9uZTpwcjB4eS1zM2NyZXQ=";

    /// The refusal's code and text, when the variables `vars` are refused.
    fn refused(vars: &[(&str, &str)]) -> Option<(&'static str, String)> {
        let var = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let error = refuse_unsupported(var).err()?;
        let codes = crate::diagnostic::codes(&error);
        Some((codes[0], format!("{error:#}")))
    }

    #[track_caller]
    fn assert_no_credentials(text: &str) {
        assert!(
            !text.contains(PASSWORD) && !text.contains(ENCODED) && !text.contains("someone"),
            "{text}"
        );
    }

    #[test]
    fn http_and_https_proxies_are_used() {
        for value in [
            "http://proxy:3128",
            "https://someone:pr0xy-s3cret@proxy:443",
            "proxy.internal:3128",
            "",
        ] {
            assert_eq!(refused(&[("HTTPS_PROXY", value)]), None, "{value}");
        }
    }

    #[test]
    fn other_schemes_are_refused_naming_the_variable_and_scheme_only() {
        let cases = [
            (
                vec![("HTTPS_PROXY", "socks5://someone:pr0xy-s3cret@proxy:1080")],
                "HTTPS_PROXY",
                "`socks5://`",
            ),
            (
                vec![("http_proxy", "socks4a://someone:pr0xy-s3cret@proxy:1080")],
                "http_proxy",
                "`socks4a://`",
            ),
            (
                vec![("all_proxy", "socks5h://someone:pr0xy-s3cret@proxy")],
                "all_proxy",
                "`socks5h://`",
            ),
            (
                vec![("ALL_PROXY", "ftp://someone:pr0xy-s3cret@proxy")],
                "ALL_PROXY",
                "`ftp://`",
            ),
            // An empty HTTPS_PROXY leaves https destinations to ALL_PROXY.
            (
                vec![
                    ("HTTPS_PROXY", ""),
                    ("HTTP_PROXY", "http://p:1"),
                    ("ALL_PROXY", "socks5://p:1"),
                ],
                "ALL_PROXY",
                "socks5",
            ),
            // The upper-case name wins, as in the Matcher.
            (
                vec![
                    ("HTTPS_PROXY", "socks5://p:1"),
                    ("https_proxy", "http://p:1"),
                ],
                "HTTPS_PROXY",
                "socks5",
            ),
        ];
        for (vars, name, scheme) in cases {
            let (code, error) = refused(&vars).unwrap_or_else(|| panic!("{vars:?} is refused"));
            assert_eq!(code, "E-PROXY-SCHEME", "{error}");
            assert!(
                error.starts_with(&format!("`{name}` ")) && error.contains(scheme),
                "{error}"
            );
            assert_no_credentials(&error);
        }
    }

    #[test]
    fn a_value_the_client_would_ignore_is_refused_without_echoing_it() {
        for (value, problem) in [
            (
                "http://someone:pr0xy@s3cret@proxy:3128",
                "E-PROXY-UNREADABLE",
            ),
            ("http://someone:pr0xy-s3cret@", "E-PROXY-UNREADABLE"),
            ("/someone:pr0xy-s3cret", "E-PROXY-NO-HOST"),
            ("not a url someone pr0xy-s3cret", "E-PROXY-UNREADABLE"),
        ] {
            let (code, error) =
                refused(&[("HTTPS_PROXY", value)]).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(code, problem, "{error}");
            assert!(error.starts_with("`HTTPS_PROXY` "), "{error}");
            assert!(
                !error.contains("s3cret") && !error.contains("someone"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_unused_all_proxy_and_a_cgi_environment_are_left_alone() {
        let both = [
            ("HTTPS_PROXY", "http://p:1"),
            ("HTTP_PROXY", "http://p:1"),
            ("ALL_PROXY", "socks5://p:1"),
        ];
        assert_eq!(refused(&both), None);
        let cgi = [("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "socks5://p:1")];
        assert_eq!(refused(&cgi), None);
    }

    fn connector(proxy: &str) -> Connector {
        let matcher = Matcher::builder().all(proxy.to_owned()).build();
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        Connector::new(matcher, tls)
    }

    async fn connect(proxy: &str) -> Result<Stream, String> {
        use tower_service::Service as _;
        let destination: Uri = "https://registry.example:443/v2/".parse().expect("uri");
        connector(proxy)
            .call(destination)
            .await
            .map_err(|e| crate::github::error_chain(&*e))
    }

    /// A listener that answers each connection with `answer` and hands back what it received.
    async fn listener(answer: &'static [u8]) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut received = vec![0_u8; 4096];
            let n = socket.read(&mut received).await.unwrap_or(0);
            received.truncate(n);
            let _ = socket.write_all(answer).await;
            let _ = socket.shutdown().await;
            received
        });
        (port, received)
    }

    /// An `https://` proxy gets a TLS handshake first: the CONNECT and its credentials never cross in
    /// plain text, even when the proxy turns out to speak none.
    #[tokio::test]
    async fn an_https_proxy_gets_tls_before_the_connect() {
        let (port, received) = listener(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
        let error = connect(&format!("https://someone:{PASSWORD}@127.0.0.1:{port}"))
            .await
            .expect_err("no TLS, no tunnel");
        let received = received.await.expect("received");
        assert_eq!(
            received.first(),
            Some(&0x16),
            "a TLS handshake record first: {received:?}"
        );
        let text = String::from_utf8_lossy(&received);
        assert!(
            !text.contains("CONNECT") && !text.contains(ENCODED),
            "{text}"
        );
        assert!(
            error.contains(&format!("through the proxy https://127.0.0.1:{port}")),
            "{error}"
        );
        assert_no_credentials(&error);
    }

    /// An `http://` proxy gets the CONNECT as before, with its credentials.
    #[tokio::test]
    async fn an_http_proxy_gets_the_connect_with_its_credentials() {
        let (port, received) = listener(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
        let stream = connect(&format!("http://someone:{PASSWORD}@127.0.0.1:{port}")).await;
        let received = String::from_utf8(received.await.expect("received")).expect("text");
        assert!(stream.is_ok(), "a tunnel");
        assert!(
            received.starts_with("CONNECT registry.example:443 HTTP/1.1\r\n")
                && received.contains(&format!("Proxy-Authorization: Basic {ENCODED}\r\n")),
            "{received}"
        );
    }

    /// Every way a tunnel can fail says which proxy, never with what credentials.
    #[tokio::test]
    async fn tunnel_errors_name_the_proxy_without_credentials() {
        let (port, _) = listener(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
        let error = connect(&format!("http://someone:{PASSWORD}@127.0.0.1:{port}"))
            .await
            .expect_err("refused");
        assert!(error.contains("refused the credentials"), "{error}");
        assert_no_credentials(&error);

        let (port, _) = listener(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
        let error = connect(&format!("http://someone:{PASSWORD}@127.0.0.1:{port}"))
            .await
            .expect_err("refused");
        assert!(
            error.contains(&format!("http://127.0.0.1:{port} to registry.example:443")),
            "{error}"
        );
        assert_no_credentials(&error);

        // Nothing listens on port 1.
        let error = connect(&format!("https://someone:{PASSWORD}@127.0.0.1:1"))
            .await
            .expect_err("refused");
        assert!(error.contains("https://127.0.0.1:1"), "{error}");
        assert_no_credentials(&error);

        let error = connect(&format!("socks5://someone:{PASSWORD}@127.0.0.1:1"))
            .await
            .expect_err("refused");
        assert!(error.contains("not an HTTP proxy"), "{error}");
        assert_no_credentials(&error);
    }
}
