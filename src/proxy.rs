//! The action's own HTTP requests — GitHub's OIDC token, the registry's API for `assemble` — go
//! through the proxy that `HTTPS_PROXY` / `HTTP_PROXY` (or `ALL_PROXY`, any case) name, unless
//! `NO_PROXY` exempts the host, as the AWS SDK's requests do. Through a proxy every request is
//! tunnelled (`CONNECT`), so TLS stays end to end. The push itself is the Docker daemon's: it follows
//! the daemon's own proxy settings.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::{Result, anyhow};
use hyper::Uri;
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
}

impl Failed {
    pub fn text(&self) -> &str {
        match self {
            Failed::Transient(text) | Failed::TooLarge(text) => text,
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
    let too_large = || {
        Failed::TooLarge(format!(
            "the answer from {host} is larger than {} bytes, the most the action reads for {}",
            cap.bytes, cap.what
        ))
    };
    let read = async {
        use http_body_util::BodyExt as _;
        let response = client
            .request(request)
            .await
            .map_err(|e| Failed::Transient(crate::aws::error_chain(&e)))?;
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
    tokio::time::timeout(limit, read).await.map_err(|_| {
        Failed::Transient(format!(
            "no whole answer from {host} within {} s",
            limit.as_secs()
        ))
    })?
}

/// An HTTP(S) client for the action's own requests, with the proxy settings of the environment.
pub fn client<B>() -> Result<HttpClient<B>>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| anyhow!("loading the system's root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(Connector::from_env());
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// Connects directly, or through a `CONNECT` tunnel to the proxy the environment names for the host.
#[derive(Clone)]
pub struct Connector {
    matcher: std::sync::Arc<Matcher>,
    direct: HttpConnector,
}

impl Connector {
    fn from_env() -> Self {
        let mut direct = HttpConnector::new();
        // hyper-rustls puts TLS on top for `https://` destinations.
        direct.enforce_http(false);
        direct.set_connect_timeout(Some(std::time::Duration::from_secs(10)));
        Connector {
            matcher: std::sync::Arc::new(Matcher::from_env()),
            direct,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Connecting =
    Pin<Box<dyn Future<Output = Result<TokioIo<tokio::net::TcpStream>, BoxError>> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<tokio::net::TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.direct.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let Some(proxy) = self.matcher.intercept(&destination) else {
            let connecting = self.direct.call(destination);
            return Box::pin(async move { connecting.await.map_err(Into::into) });
        };
        let mut tunnel = Tunnel::new(proxy.uri().clone(), self.direct.clone());
        if let Some(auth) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(auth.clone());
        }
        Box::pin(async move { tunnel.call(destination).await.map_err(Into::into) })
    }
}
