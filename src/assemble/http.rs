//! The registry's own HTTP API (the OCI distribution API that the Docker daemon speaks), with the ECR
//! login in memory: read a manifest, read a blob (following ECR's redirect to S3 without the login),
//! write a manifest. Connection failures, 5xx and 429 are retried; a 403 is explained by the doctor.
//!
//! What is read is checked here, before anyone uses it: a manifest's digest is the hash of its bytes
//! (never the registry's `Docker-Content-Digest` header, which must agree), a document read by digest
//! must hash to it, and a redirect is followed once, only to `https://`.

use anyhow::Result;
use base64::Engine as _;
use http_body_util::Full;

use super::advice;
use super::index::{MANIFEST_TYPES, digest_of};
use crate::aws::denied;
use crate::aws::token::RegistryLogin;
use crate::inputs::is_sha256_digest;
use crate::proxy::{self, Answer};
use crate::retry::{Backoff, Verdict, retry_judged};

type Https = proxy::HttpClient<Full<bytes::Bytes>>;

/// A blob's bytes as an upload streams them (a file read as it is sent).
pub type UploadBody = http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, std::io::Error>;

/// One repository of one registry, with its login.
pub struct RepositoryApi {
    client: Https,
    /// For blob uploads, whose bodies are streamed.
    uploads: proxy::HttpClient<UploadBody>,
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
    /// The hash of `body`: what the bytes are, whatever the registry says.
    pub digest: String,
    pub body: Vec<u8>,
}

/// How an upload began.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// The registry mounted the blob from the other repository: nothing to send.
    Mounted,
    /// The upload's location, on the registry's own host.
    At(String),
}

/// Why a part of an upload did not go.
#[derive(Debug)]
pub enum PartFailure {
    /// No answer in time, a dropped connection, a 5xx: the same part may go again.
    Again(String),
    /// HTTP 429: the same part may go again, after a longer wait and no sooner than the answer's
    /// `Retry-After` asks.
    Throttled(String, Option<std::time::Duration>),
    /// The registry's upload is not where the parts sent say (HTTP 416): only a new upload mends it.
    OutOfStep(String),
    /// Refused: final.
    Refused(anyhow::Error),
}

/// A failed request.
#[derive(Debug)]
enum Failure {
    /// No answer in time, a connection problem, a 5xx: worth another try.
    Transient(String),
    /// HTTP 429: worth more tries, none before the wait the answer's `Retry-After` asks for.
    Throttled(String, Option<std::time::Duration>),
    /// An answer larger than the action reads: another try would read the same.
    TooLarge(String),
    /// A request that could not be made.
    Unmade(String),
    /// The registry's TLS certificate is not trusted.
    Untrusted(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::Transient(text)
            | Failure::Throttled(text, _)
            | Failure::TooLarge(text)
            | Failure::Unmade(text)
            | Failure::Untrusted(text) => text,
        }
    }
}

impl RepositoryApi {
    /// The repository `name` of the registry `login` opens; TLS trusts the system's roots (and
    /// `SSL_CERT_FILE`, as the AWS SDK does), through the environment's proxy.
    pub fn new(login: &RegistryLogin, name: &str, arn: &str) -> Result<RepositoryApi> {
        let client = proxy::client()?;
        let credentials = format!("{}:{}", login.username, login.password);
        Ok(RepositoryApi {
            client,
            uploads: proxy::client()?,
            base: format!("https://{}/v2/{name}", login.host),
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            arn: arn.to_owned(),
        })
    }

    /// The manifest `reference` (a tag or digest) names; `None` when the registry does not have it.
    /// Its bytes must hash to `reference` when that is a digest, and to the digest the registry states
    /// for them.
    pub async fn manifest(&self, reference: &str) -> Result<Option<Manifest>> {
        let url = format!("{}/manifests/{reference}", self.base);
        let accept = MANIFEST_TYPES.join(", ");
        let answer = self
            .send("GET", &url, None, &[("Accept", &accept)], proxy::MANIFEST)
            .await?;
        match answer.status.as_u16() {
            200 => {
                let digest = digest_of(&answer.body);
                let what = advice::the_manifest(reference, &self.shown());
                if is_sha256_digest(reference) && digest != reference {
                    return Err(advice::not_what_was_asked(&what, reference, &digest));
                }
                // Only a `sha256:` statement can be compared; any other is not used either.
                let stated = answer.header("docker-content-digest");
                if let Some(stated) = stated.filter(|s| s.starts_with("sha256:") && *s != digest) {
                    return Err(advice::header_disagrees(&what, &stated, &digest));
                }
                Ok(Some(Manifest {
                    media_type: answer.header("content-type").unwrap_or_default(),
                    digest,
                    body: answer.body,
                }))
            }
            404 => Ok(None),
            _ => Err(self.refused("GET", &url, &answer)),
        }
    }

    /// The blob `digest` (an image configuration), whose bytes must hash to it. ECR answers with a
    /// redirect to S3, which is followed once, only to `https://`, and without the registry login.
    pub async fn blob(&self, digest: &str) -> Result<Vec<u8>> {
        // It goes into the URL: a digest from a manifest is checked before, this is the last guard.
        if !is_sha256_digest(digest) {
            return Err(advice::not_a_digest(digest));
        }
        let url = format!("{}/blobs/{digest}", self.base);
        let answer = self
            .send("GET", &url, None, &[], proxy::CONFIGURATION)
            .await?;
        let answer = match (answer.status.as_u16(), answer.header("location")) {
            (301 | 302 | 303 | 307 | 308, Some(location)) => self.fetch(&url, &location).await?,
            _ => answer,
        };
        if answer.status.as_u16() != 200 {
            return Err(self.refused("GET", &url, &answer));
        }
        let got = digest_of(&answer.body);
        if got != digest {
            let what = advice::the_blob(digest, &self.shown());
            return Err(advice::not_what_was_asked(&what, digest, &got));
        }
        Ok(answer.body)
    }

    /// `<host>/<repository>`, as messages name it.
    fn shown(&self) -> String {
        let path = self.base.trim_start_matches("https://");
        path.replacen("/v2/", "/", 1)
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
                .unwrap_or_else(|| digest_of(body))),
            _ => Err(self.refused("PUT", &url, &answer)),
        }
    }

    /// Whether the repository holds the blob `digest` (`HEAD`, which ECR authorizes as
    /// `ecr:BatchCheckLayerAvailability`): what a push skips.
    pub async fn has_blob(&self, digest: &str) -> Result<bool> {
        if !is_sha256_digest(digest) {
            return Err(advice::not_a_digest(digest));
        }
        let url = format!("{}/blobs/{digest}", self.base);
        let answer = self.send("HEAD", &url, None, &[], proxy::MANIFEST).await?;
        match answer.status.as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.refused("HEAD", &url, &answer)),
        }
    }

    /// Starts an upload (`POST …/blobs/uploads/`, which ECR authorizes as `ecr:InitiateLayerUpload`);
    /// with `mount`, asks the registry to mount the blob from another repository of the same
    /// registry instead (`?mount=<digest>&from=<repository>`, the distribution spec's cross-repository
    /// mount; ECR mounts only when the registry's `BLOB_MOUNTING` setting is on, and needs
    /// `ecr:GetDownloadUrlForLayer` on the source — a registry that does not mount answers with an
    /// upload to make, as one without `mount` — see
    /// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html>).
    pub async fn start_upload(&self, mount: Option<(&str, &str)>) -> Result<Started> {
        let start = match mount {
            Some((digest, _)) if !is_sha256_digest(digest) => {
                return Err(advice::not_a_digest(digest));
            }
            Some((digest, from)) => {
                format!("{}/blobs/uploads/?mount={digest}&from={from}", self.base)
            }
            None => format!("{}/blobs/uploads/", self.base),
        };
        let answer = self
            .send("POST", &start, None, &[], proxy::MANIFEST)
            .await?;
        match (answer.status.as_u16(), answer.header("location")) {
            (201, _) if mount.is_some() => Ok(Started::Mounted),
            (202, Some(location)) => Ok(Started::At(self.upload_url(&location)?)),
            _ => Err(self.refused("POST", &start, &answer)),
        }
    }

    /// The repository's path in the registry (`<repository>`, after `/v2/`): what another
    /// repository's mount names as `from`.
    pub fn path(&self) -> &str {
        self.base.split_once("/v2/").map_or("", |(_, path)| path)
    }

    /// Sends `size` bytes of a blob, which `body` streams, from byte `first` of the blob on, to the
    /// upload at `location`: with `digest`, the upload's last part (`PUT <location>&digest=…`, ECR:
    /// `ecr:CompleteLayerUpload`), whole when `first` is 0 — the distribution spec's monolithic upload
    /// — after earlier parts with its `Content-Range`; without, a part of a chunked upload (`PATCH`,
    /// `ecr:UploadLayerPart`, with its `Content-Range`), answered with the location of what follows.
    ///
    /// ECR answers a `PATCH` with 201 where the spec says 202, and its `Range` header does not
    /// advance after the first part (aws/containers-roadmap#2831), so neither is relied on: the
    /// caller counts what it sent. Not retried here: a retry needs the body again.
    pub async fn send_part(
        &self,
        location: &str,
        first: u64,
        size: u64,
        body: UploadBody,
        digest: Option<&str>,
    ) -> Result<Option<String>, PartFailure> {
        let (method, url) = match digest {
            Some(digest) => {
                let joint = if location.contains('?') { '&' } else { '?' };
                ("PUT", format!("{location}{joint}digest={digest}"))
            }
            None => ("PATCH", location.to_owned()),
        };
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header("Authorization", &self.authorization)
            .header("User-Agent", "ecr-push-action")
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size);
        if digest.is_none() || first > 0 {
            let last = (first + size).saturating_sub(1);
            request = request.header("Content-Range", format!("{first}-{last}"));
        }
        let request = request
            .body(body)
            .map_err(|e| PartFailure::Refused(anyhow::anyhow!(e)))?;
        // At least 1 MiB/s, and a minute for the registry to answer.
        let limit = std::time::Duration::from_secs(60 + size / (1 << 20));
        let answer = proxy::exchange(&self.uploads, request, limit, proxy::MANIFEST)
            .await
            .map_err(|failed| match failed {
                proxy::Failed::Untrusted(why) => PartFailure::Refused(advice::untrusted(&why)),
                failed => PartFailure::Again(failed.text().to_owned()),
            })?;
        match (answer.status.as_u16(), digest) {
            (201 | 204, Some(_)) => Ok(None),
            (201 | 202, None) => match answer.header("location") {
                Some(next) => self
                    .upload_url(&next)
                    .map(Some)
                    .map_err(PartFailure::Refused),
                None => Ok(Some(location.to_owned())),
            },
            (416, _) => Err(PartFailure::OutOfStep(format!(
                "the registry holds other bytes of the upload than the {first} sent before this part (HTTP 416)"
            ))),
            (429, _) => Err(PartFailure::Throttled(
                "HTTP 429".to_owned(),
                answer.retry_after(),
            )),
            (status @ 500.., _) => Err(PartFailure::Again(format!("HTTP {status}"))),
            _ => Err(PartFailure::Refused(self.refused(method, &url, &answer))),
        }
    }

    /// Where an upload goes on: the registry's `Location` (relative, or absolute on this registry's
    /// own `https://` host — the login goes with it, so never anywhere else).
    fn upload_url(&self, location: &str) -> Result<String> {
        let origin = self.base.split("/v2/").next().unwrap_or_default();
        if location.starts_with('/') {
            Ok(format!("{origin}{location}"))
        } else if location.starts_with(&format!("{origin}/")) {
            Ok(location.to_owned())
        } else {
            Err(advice::upload_elsewhere(&self.shown(), location))
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
            let request = request
                .body(body)
                .map_err(|e| Failure::Unmade(e.to_string()))?;
            self.exchange(request, cap).await
        };
        let judge = |f: &Failure| match f {
            Failure::Transient(_) => Verdict::Again,
            Failure::Throttled(_, asked) => Verdict::Throttled(*asked),
            _ => Verdict::Final,
        };
        retry_judged(
            &format!("{method} {url}"),
            Backoff::STANDARD,
            attempt,
            judge,
            |f| f.text().to_owned(),
        )
        .await
        .map_err(|exhausted| match exhausted.error {
            Failure::TooLarge(why) => advice::too_large(method, url, &why),
            Failure::Untrusted(why) => advice::untrusted(&why),
            failure => advice::request_failed(method, url, exhausted.attempts, failure.text()),
        })
    }

    /// A redirect's target (S3): no login, which S3 would refuse beside its own signature; only
    /// `https://` (the answer is what the index is made of, and a presigned URL is a credential of
    /// sorts), and only this one hop. Messages name the host, never the URL with its signature.
    async fn fetch(&self, from: &str, location: &str) -> Result<Answer> {
        let path = from.split_once("/v2/").map_or(from, |(_, p)| p);
        let target: hyper::Uri = location
            .parse()
            .map_err(|_| advice::bad_redirect(path, advice::REDIRECT_NOT_URL))?;
        let host = target.host().unwrap_or_default().to_owned();
        if target.scheme_str() != Some("https") || host.is_empty() {
            let scheme = target.scheme_str().unwrap_or("no scheme");
            let why = advice::redirect_not_https(scheme, &host);
            return Err(advice::bad_redirect(path, &why));
        }
        let request = hyper::Request::get(target)
            .body(Full::new(bytes::Bytes::new()))
            .map_err(|e| advice::bad_redirect(path, &e.to_string()))?;
        let answer = self
            .exchange(request, proxy::CONFIGURATION)
            .await
            .map_err(|failure| match failure {
                Failure::TooLarge(why) => advice::too_large("GET", from, &why),
                failure => advice::redirect_failed(path, &host, None, failure.text()),
            })?;
        match answer.status.as_u16() {
            200 => Ok(answer),
            300..=399 => Err(advice::redirected_again(path, &host)),
            status => {
                let said = String::from_utf8_lossy(&answer.body);
                Err(advice::redirect_failed(
                    path,
                    &host,
                    Some(status),
                    said.trim(),
                ))
            }
        }
    }

    /// One request within 60 s, at most `cap` read; 5xx and 429 answers are transient failures.
    async fn exchange(
        &self,
        request: hyper::Request<Full<bytes::Bytes>>,
        cap: proxy::Cap,
    ) -> Result<Answer, Failure> {
        let limit = std::time::Duration::from_mins(1);
        let answer = proxy::exchange(&self.client, request, limit, cap)
            .await
            .map_err(|f| match f {
                proxy::Failed::Transient(text) => Failure::Transient(text),
                proxy::Failed::TooLarge(text) => Failure::TooLarge(text),
                proxy::Failed::Untrusted(text) => Failure::Untrusted(text),
            })?;
        let status = answer.status.as_u16();
        if status == 429 || status >= 500 {
            let text = format!("HTTP {status}: {}", String::from_utf8_lossy(&answer.body));
            return Err(if status == 429 {
                Failure::Throttled(text, answer.retry_after())
            } else {
                Failure::Transient(text)
            });
        }
        Ok(answer)
    }

    /// A refusal as the user reads it: the doctor's explanation of a denied registry action, or the
    /// registry's own error.
    fn refused(&self, method: &str, url: &str, answer: &Answer) -> anyhow::Error {
        let text = String::from_utf8_lossy(&answer.body);
        let message = registry_message(&text).unwrap_or_else(|| text.trim().to_owned());
        let path = url.split_once("/v2/").map_or(url, |(_, p)| p);
        // An upload's location carries the registry's state of it: not for the reader.
        let path = path.split('?').next().unwrap_or(path);
        // `manifests` or `blobs`: what follows the repository's base in every URL made here.
        let kind = url.strip_prefix(&self.base).and_then(|rest| {
            if rest.starts_with("/blobs/uploads") {
                Some("blobs/uploads")
            } else {
                rest.split('/').nth(1)
            }
        });
        let doctor = denied::parse(&message)
            .or_else(|| denied::registry_action(method, kind?, &self.arn))
            .filter(|_| answer.status == 403);
        match (doctor, answer.status.as_u16()) {
            (Some(denied), _) => advice::denied(&denied::explain(&denied)),
            (None, 401) => advice::login_refused(method, path, &message),
            (None, status) => advice::refused(method, path, status, &message),
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
