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

/// Sends `request` and reads the whole answer within `limit`. `Err` says why no answer came — none in
/// time, or a connection or read problem — each worth another try; what an answer means is the
/// caller's to judge.
pub async fn exchange<B>(
    client: &HttpClient<B>,
    request: hyper::Request<B>,
    limit: std::time::Duration,
) -> Result<Answer, String>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    use http_body_util::BodyExt as _;
    let response = tokio::time::timeout(limit, client.request(request))
        .await
        .map_err(|_| format!("no answer within {} s", limit.as_secs()))?
        .map_err(|e| crate::aws::error_chain(&e))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.to_vec(),
    })
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
