//! The registry's own HTTP API (the OCI distribution API that the Docker daemon speaks), with the ECR
//! login in memory: read a manifest, read a blob (following ECR's redirect to S3 without the login),
//! write a manifest. Connection failures, 5xx and 429 are retried; a 403 is explained by the doctor.

use anyhow::{Result, anyhow};
use base64::Engine as _;
use http_body_util::Full;

use super::index::MANIFEST_TYPES;
use crate::aws::denied;
use crate::aws::token::RegistryLogin;
use crate::proxy::{self, Answer};
use crate::retry::{Backoff, retry};

type Https = proxy::HttpClient<Full<bytes::Bytes>>;

/// One repository of one registry, with its login.
pub struct Repository {
    client: Https,
    /// `https://<host>/v2/<repository>`
    base: String,
    authorization: String,
    /// For the doctor's explanation of a refusal.
    arn: String,
}

/// A manifest as the registry serves it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub digest: String,
    pub body: Vec<u8>,
}

/// A failed request.
#[derive(Debug)]
struct Failure {
    text: String,
    transient: bool,
}

impl Repository {
    /// The repository `name` of the registry `login` opens; TLS trusts the system's roots (and
    /// `SSL_CERT_FILE`, as the AWS SDK does), through the environment's proxy.
    pub fn new(login: &RegistryLogin, name: &str, arn: &str) -> Result<Repository> {
        let client = proxy::client()?;
        let credentials = format!("{}:{}", login.username, login.password);
        Ok(Repository {
            client,
            base: format!("https://{}/v2/{name}", login.host),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            arn: arn.to_owned(),
        })
    }

    /// The manifest `reference` (a tag or digest) names; `None` when the registry does not have it.
    pub async fn manifest(&self, reference: &str) -> Result<Option<Manifest>> {
        let url = format!("{}/manifests/{reference}", self.base);
        let accept = MANIFEST_TYPES.join(", ");
        let answer = self
            .send("GET", &url, None, &[("Accept", &accept)], proxy::MANIFEST)
            .await?;
        match answer.status.as_u16() {
            200 => Ok(Some(Manifest {
                media_type: answer.header("content-type").unwrap_or_default(),
                digest: answer
                    .header("docker-content-digest")
                    .unwrap_or_else(|| super::index::digest_of(&answer.body)),
                body: answer.body,
            })),
            404 => Ok(None),
            _ => Err(self.refused("GET", &url, &answer)),
        }
    }

    /// The blob `digest` (an image configuration). ECR answers with a redirect to S3, which must be
    /// followed without the registry login.
    pub async fn blob(&self, digest: &str) -> Result<Vec<u8>> {
        let url = format!("{}/blobs/{digest}", self.base);
        let answer = self
            .send("GET", &url, None, &[], proxy::CONFIGURATION)
            .await?;
        let answer = match (answer.status.as_u16(), answer.header("location")) {
            (301 | 302 | 303 | 307 | 308, Some(location)) => self.fetch(&location).await?,
            _ => answer,
        };
        match answer.status.as_u16() {
            200 => Ok(answer.body),
            _ => Err(self.refused("GET", &url, &answer)),
        }
    }

    /// Writes `body` as the manifest `tag`; returns the digest the registry stored it under.
    pub async fn put_manifest(&self, tag: &str, media_type: &str, body: &[u8]) -> Result<String> {
        let url = format!("{}/manifests/{tag}", self.base);
        let headers = [("Content-Type", media_type)];
        let answer = self
            .send("PUT", &url, Some(body), &headers, proxy::MANIFEST)
            .await?;
        match answer.status.as_u16() {
            200 | 201 => Ok(answer
                .header("docker-content-digest")
                .unwrap_or_else(|| super::index::digest_of(body))),
            _ => Err(self.refused("PUT", &url, &answer)),
        }
    }

    /// A request with the login, retried while it fails transiently.
    async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
        cap: proxy::Cap,
    ) -> Result<Answer> {
        let attempt = || async {
            let mut request = hyper::Request::builder()
                .method(method)
                .uri(url)
                .header("Authorization", &self.authorization)
                .header("User-Agent", "ecr-push-action");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let body = Full::new(bytes::Bytes::copy_from_slice(body.unwrap_or_default()));
            let request = request.body(body).map_err(|e| Failure {
                text: e.to_string(),
                transient: false,
            })?;
            self.exchange(request, cap).await
        };
        retry(
            &format!("{method} {url}"),
            Backoff::STANDARD,
            attempt,
            |f: &Failure| f.transient,
            |f| f.text.clone(),
        )
        .await
        .map_err(|exhausted| {
            anyhow!(
                "{method} {url} failed {} times, last: {}",
                exhausted.attempts,
                exhausted.error.text
            )
        })
    }

    /// A redirect's target (S3): no login, which S3 would refuse beside its own signature.
    async fn fetch(&self, url: &str) -> Result<Answer> {
        let request = hyper::Request::get(url)
            .body(Full::new(bytes::Bytes::new()))
            .map_err(|e| anyhow!("the registry redirected to `{url}`: {e}"))?;
        self.exchange(request, proxy::CONFIGURATION)
            .await
            .map_err(|f| anyhow!("GET {url} (the registry's redirect) failed: {}", f.text))
    }

    /// One request within 60 s, at most `cap` read; 5xx and 429 answers are transient failures.
    async fn exchange(
        &self,
        request: hyper::Request<Full<bytes::Bytes>>,
        cap: proxy::Cap,
    ) -> Result<Answer, Failure> {
        let transient = |text: String| Failure {
            text,
            transient: true,
        };
        let limit = std::time::Duration::from_mins(1);
        let answer = proxy::exchange(&self.client, request, limit, cap)
            .await
            .map_err(|f| Failure {
                transient: matches!(f, proxy::Failed::Transient(_)),
                text: f.text().to_owned(),
            })?;
        let status = answer.status.as_u16();
        if status == 429 || status >= 500 {
            return Err(transient(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&answer.body)
            )));
        }
        Ok(answer)
    }

    /// A refusal as the user reads it: the doctor's explanation of a denied registry action, or the
    /// registry's own error.
    fn refused(&self, method: &str, url: &str, answer: &Answer) -> anyhow::Error {
        let text = String::from_utf8_lossy(&answer.body);
        let message = registry_message(&text).unwrap_or_else(|| text.trim().to_owned());
        let path = url.split_once("/v2/").map_or(url, |(_, p)| p);
        // `manifests` or `blobs`: what follows the repository's base in every URL made here.
        let kind = url
            .strip_prefix(&self.base)
            .and_then(|rest| rest.split('/').nth(1));
        let doctor = denied::parse(&message)
            .or_else(|| denied::registry_action(method, kind?, &self.arn))
            .filter(|_| answer.status == 403);
        match (doctor, answer.status.as_u16()) {
            (Some(denied), _) => anyhow!("{}", denied::explain(&denied)),
            (None, 401) => anyhow!(
                "The registry did not accept the login for {method} /v2/{path} (HTTP 401): {message}"
            ),
            (None, status) => anyhow!("{method} /v2/{path}: HTTP {status}: {message}"),
        }
    }
}

/// The first error message of a registry's JSON error body.
fn registry_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let first = value["errors"].get(0)?;
    Some(format!(
        "{}: {}",
        first["code"].as_str().unwrap_or_default(),
        first["message"].as_str().unwrap_or_default()
    ))
}
