//! Pushing a local image under each tag with in-memory credentials: the first tag alone, the others
//! at once; the progress stream drained and logged as layer states; transient registry failures retried
//! and refusals explained.

use anyhow::{Error, Result};
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::models::PushImageInfo;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt as _;

use super::{Daemon, LocalImage, PushOutcome, PushedTag, advice};
use crate::aws::denied;
use crate::aws::registry::Destination;
use crate::inputs::{Platform, Tag, is_sha256_digest};
use crate::retry::{Backoff, Verdict, retry_judged};
use crate::{github, step};

/// A failed push, as the registry or the daemon reported it.
#[derive(Debug)]
struct PushFailure {
    text: String,
    verdict: Verdict,
}

/// Whether a push failure is worth another try, and whether the registry sheds load (then over a
/// longer time). Refusals are checked first: a `denied` that mentions a timeout is still a refusal.
/// A daemon reports a throttled `HEAD` (no body) as "error parsing HTTP 429 response body", the
/// containerd store a throttled write as "error from registry: Rate exceeded".
fn judge(text: &str) -> Verdict {
    const PERMANENT: [&str; 8] = [
        "denied",
        "unauthorized",
        "not authorized",
        "name unknown",
        "name_unknown",
        "tag invalid",
        "manifest invalid",
        "does not exist",
    ];
    const THROTTLED: [&str; 4] = [
        "429",
        "too many requests",
        "toomanyrequests",
        "rate exceeded",
    ];
    const TRANSIENT: [&str; 16] = [
        "connection reset",
        "closed network connection",
        "server closed idle connection",
        "transport connection broken",
        "blob upload unknown",
        "broken pipe",
        "eof",
        "timeout",
        "timed out",
        "connection refused",
        "tls handshake",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway",
        "blob unknown",
    ];
    let text = text.to_ascii_lowercase();
    let any = |list: &[&str]| list.iter().any(|t| text.contains(t));
    if any(&PERMANENT) {
        Verdict::Final
    } else if any(&THROTTLED) {
        Verdict::Throttled(None)
    } else if any(&TRANSIENT) {
        Verdict::Again
    } else {
        Verdict::Final
    }
}

/// ECR's refusals of a push, said plainly; `None` for anything else.
fn explain_refusal(text: &str, target: &str) -> Option<Error> {
    let lower = text.to_ascii_lowercase();
    // 20.10 passes on ECR's code (`tag invalid: …`), the containerd store only its message.
    if lower.contains("immutable")
        && (lower.contains("tag invalid") || lower.contains("cannot be overwritten"))
    {
        return Some(advice::immutable_tag(target, text));
    }
    if lower.contains("name unknown")
        || (lower.contains("repository with name") && lower.contains("does not exist"))
    {
        return Some(advice::repository_unknown(target, text));
    }
    None
}

impl Daemon {
    /// Pushes to every destination at once; each uploads the layers once (with its first tag). One
    /// destination's progress is logged live; several hold theirs and log each destination's pushes
    /// when it is done.
    pub async fn push_all(
        &self,
        image: &LocalImage,
        destinations: &[&Destination],
    ) -> Vec<PushOutcome> {
        let each = destinations.iter().map(|d| self.push(image, d));
        github::at_once_logged_as_done(each).await
    }

    /// Tags `image` as `<repository_uri>:<tag>` and pushes it under every tag: the first tag alone
    /// (it uploads the layers), then the others at once (the layers are in the registry by then, so
    /// each only checks them and puts its manifest; their logs are held and printed in order). Every
    /// tag must end with the same manifest digest. Local tags the action added are removed again, even
    /// on failure.
    pub async fn push(&self, image: &LocalImage, destination: &Destination) -> PushOutcome {
        let (tags, login) = (&destination.plan.push, &destination.login);
        let credentials = DockerCredentials {
            username: Some(login.username.clone()),
            password: Some(login.password.clone()),
            serveraddress: Some(login.host.clone()),
            ..DockerCredentials::default()
        };
        let mut outcome = PushOutcome::default();
        let Some((first, rest)) = tags.split_first() else {
            return outcome;
        };
        match self
            .tag_and_push(image, destination, first, &credentials)
            .await
        {
            Ok(done) => outcome.pushed.push(done),
            Err(err) => {
                outcome.fail(first, &err);
                for tag in rest {
                    let why = advice::after_first_failed(first.as_str());
                    outcome.failed.push((tag.clone(), why));
                }
                return outcome;
            }
        }
        let others = github::at_once(
            rest.iter()
                .map(|tag| self.tag_and_push(image, destination, tag, &credentials)),
        )
        .await;
        for (tag, result) in rest.iter().zip(others) {
            match result {
                Ok(done) if done.digest == outcome.pushed[0].digest => outcome.pushed.push(done),
                Ok(done) => {
                    let first_digest = &outcome.pushed[0].digest;
                    let why = advice::digests_differ(&done.digest, first.as_str(), first_digest);
                    outcome.fail(tag, &why);
                }
                Err(err) => outcome.fail(tag, &err),
            }
        }
        outcome
    }

    /// Tags the image as `<repository>:<tag>`, pushes that tag (retrying transient failures) and puts
    /// the local tag back; returns what was pushed.
    async fn tag_and_push(
        &self,
        image: &LocalImage,
        destination: &Destination,
        tag: &Tag,
        credentials: &DockerCredentials,
    ) -> Result<PushedTag> {
        let repository_uri = &destination.repository_uri;
        let target = format!("{repository_uri}:{tag}");
        let before = self
            .tag_locally(image, repository_uri, tag, &target)
            .await?;
        let _step = step::enter(&format!("Push {target}"));
        // Transient failures (connection resets, 5xx, 429, a stalled or cut upload) are retried with
        // backoff; refusals (denied, unknown repository, immutable tag, bad login) are not.
        let platform = image.push_platform.as_ref();
        let result = retry_judged(
            &format!("Pushing {target}"),
            Backoff::STANDARD,
            || self.push_tag(repository_uri, tag, platform, credentials),
            |failure: &PushFailure| failure.verdict,
            |failure| failure.text.clone(),
        )
        .await;
        self.restore(&target, before.as_deref(), image).await;
        self.added().retain(|(t, _, _)| *t != target);
        let digest = result.map_err(|exhausted| {
            failure(
                &exhausted.error.text,
                exhausted.attempts,
                &target,
                &destination.arn,
            )
        })?;
        Ok(PushedTag {
            tag: tag.clone(),
            digest,
        })
    }

    /// Tags the local image as `target` and remembers what `target` was before, to put it back.
    async fn tag_locally(
        &self,
        image: &LocalImage,
        repository_uri: &str,
        tag: &Tag,
        target: &str,
    ) -> Result<Option<String>> {
        let _names = self.names.lock().await;
        let before = self.image_id(target).await?;
        let options = TagImageOptionsBuilder::new()
            .repo(repository_uri)
            .tag(tag.as_str())
            .build();
        self.docker
            .tag_image(&image.id, Some(options))
            .await
            .map_err(|e| advice::tag_failed(&image.reference, target, &e))?;
        self.added()
            .push((target.to_owned(), before.clone(), image.clone()));
        Ok(before)
    }

    /// Pushes one tag and drains the progress stream to its end; returns the manifest digest.
    async fn push_tag(
        &self,
        repository_uri: &str,
        tag: &Tag,
        platform: Option<&Platform>,
        credentials: &DockerCredentials,
    ) -> Result<String, PushFailure> {
        let mut options = PushImageOptionsBuilder::new().tag(tag.as_str());
        if let Some(platform) = platform {
            options = options.platform(&platform.to_json());
        }
        let stream = self.docker.push_image(
            repository_uri,
            Some(options.build()),
            Some(credentials.clone()),
        );
        let mut progress = Progress::default();
        let (digest, failure) = drain(stream, &mut progress).await;
        if let Some(text) = failure {
            return Err(PushFailure {
                verdict: judge(&text),
                text,
            });
        }
        let Some(digest) = digest else {
            return Err(PushFailure {
                text: advice::NO_DIGEST.into(),
                verdict: Verdict::Again,
            });
        };
        github::info(&format!(
            "{repository_uri}:{tag}: {} — digest {digest}",
            progress.summary()
        ));
        Ok(digest)
    }
}

/// Reads the push stream to its end: the daemon answers HTTP 200 and reports failures inside the
/// stream. Returns the digest of the final status line and the first error, logging layer states.
async fn drain(
    mut stream: impl futures_util::Stream<Item = Result<PushImageInfo, DockerError>> + Unpin,
    progress: &mut Progress,
) -> (Option<String>, Option<String>) {
    let (mut digest, mut failure) = (None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(error) = info.error_detail.and_then(|e| e.message) {
                    failure.get_or_insert(error);
                }
                let Some(status) = info.status else { continue };
                if let Some(found) = digest_in(&status) {
                    digest = Some(found.to_owned());
                }
                if let Some(line) = progress.note(&status) {
                    github::info(&line);
                }
            }
            Err(DockerError::DockerStreamError { error }) => {
                failure.get_or_insert(error);
            }
            Err(err) => {
                failure.get_or_insert(format!("{err}"));
                break;
            }
        }
    }
    (digest, failure)
}

/// What the user reads when a tag could not be pushed: the doctor's explanation of a refusal (the
/// registry enforces the layer and manifest permissions), ECR's other refusals said plainly, or the
/// daemon's text.
fn failure(text: &str, attempts: u32, target: &str, repository_arn: &str) -> Error {
    let doctor =
        denied::parse(text).or_else(|| denied::from_registry_request(text, repository_arn));
    match doctor {
        Some(denied) => advice::denied_by_registry(target, &denied::explain(&denied)),
        None => explain_refusal(text, target)
            .unwrap_or_else(|| advice::push_failed(target, attempts, text)),
    }
}

/// The digest in the daemon's final status line, `<tag>: digest: sha256:<hex> size: <n>`.
fn digest_in(status: &str) -> Option<&str> {
    let rest = status.split_once(": digest: ")?.1;
    let digest = rest.split_whitespace().next()?;
    is_sha256_digest(digest).then_some(digest)
}

/// Per-layer progress, logged as state changes rather than byte counts. Each layer's terminal state
/// comes once ("Pushed", "Layer already exists", "Mounted from …"). The classic image store announces
/// every layer first ("Preparing"), so its lines can say "k of n"; the containerd store announces
/// nothing ahead, so its lines count up, and its layers include those of attestation manifests.
#[derive(Debug, Default)]
struct Progress {
    announced: usize,
    pushed: usize,
    existing: usize,
    mounted: usize,
}

impl Progress {
    fn note(&mut self, status: &str) -> Option<String> {
        let what = match status {
            "Preparing" => {
                self.announced += 1;
                return None;
            }
            "Pushed" => {
                self.pushed += 1;
                "pushed".to_owned()
            }
            "Layer already exists" => {
                self.existing += 1;
                "already in the registry".to_owned()
            }
            s if s.starts_with("Mounted from ") => {
                self.mounted += 1;
                format!("mounted ({})", s.to_lowercase())
            }
            // The daemon retries a failed layer upload itself ("Retrying in 5 seconds"): say so once.
            s if s.starts_with("Retrying in ") => {
                return Some(format!(
                    "a layer upload failed; the daemon retries it ({s})"
                ));
            }
            s if s.starts_with("The push refers to") => return Some(s.to_owned()),
            _ => return None,
        };
        let done = self.done();
        Some(if self.announced >= done {
            format!("layer {done}/{} {what}", self.announced)
        } else {
            format!("layer {done} {what}")
        })
    }

    fn done(&self) -> usize {
        self.pushed + self.existing + self.mounted
    }

    fn summary(&self) -> String {
        let layers = self.announced.max(self.done());
        if layers == 0 {
            // Podman's Docker-compatible push stream says nothing of layers (only the digest).
            return "the engine reported no layer progress".to_owned();
        }
        format!(
            "{layers} {}: {} pushed, {} already present, {} mounted",
            if layers == 1 { "layer" } else { "layers" },
            self.pushed,
            self.existing,
            self.mounted
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_told_from_refusals() {
        for transient in [
            "Put \"https://r/v2/x/blobs/uploads/1\": read tcp 127.0.0.1:1->127.0.0.1:443: read: connection reset by peer",
            "received unexpected HTTP status: 503 Service Unavailable",
            "received unexpected HTTP status: 502 Bad Gateway",
            "toomanyrequests: Rate exceeded",
            "blob unknown: blob unknown to registry",
            "unexpected EOF",
            "net/http: TLS handshake timeout",
            // Go's HTTP client (Podman, the engines) when the registry drops a connection mid-request.
            "writing blob: Patch \"https://r/v2/x/blobs/uploads/1\": net/http: HTTP/1.x transport connection broken: write tcp 127.0.0.1:1->127.0.0.1:443: use of closed network connection",
            "Patch \"https://r/v2/x/blobs/uploads/1\": http: server closed idle connection",
            // An upload session the registry lost (ECR's BLOB_UPLOAD_UNKNOWN): a new upload starts it again.
            "blob upload unknown: blob upload unknown to registry",
        ] {
            assert_ne!(judge(transient), Verdict::Final, "{transient}");
        }
        for permanent in [
            "denied: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:PutImage on resource: x",
            "name unknown: The repository with name 'x' does not exist in the registry with id '1'",
            "tag invalid: The image tag 'v1' already exists in the 'x' repository and cannot be overwritten because the repository is immutable.",
            "unauthorized: authentication required",
            "manifest invalid: manifest invalid",
        ] {
            assert_eq!(judge(permanent), Verdict::Final, "{permanent}");
        }
        for throttled in [
            "toomanyrequests: Rate exceeded",
            "error parsing HTTP 429 response body: unexpected end of JSON input: \"\"",
            "received unexpected HTTP status: 429 Too Many Requests",
            "error from registry: Rate exceeded",
        ] {
            assert_eq!(judge(throttled), Verdict::Throttled(None), "{throttled}");
        }
        assert_eq!(judge("unexpected EOF"), Verdict::Again);
    }

    /// Each refusal of a push is its own problem: denied (with or without AWS's sentence), an
    /// immutable tag, an unknown repository; anything else is a failed push.
    #[test]
    fn push_failures_are_told_by_problem() {
        let arn = "arn:aws:ecr:us-east-1:123456789012:repository/app";
        let target = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1";
        for (said, problem) in [
            (
                "denied: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:PutImage on resource: x",
                "E-DOCKER-PUSH-DENIED",
            ),
            (
                "unexpected status from HEAD request to https://r/v2/app/manifests/v1: 403 Forbidden",
                "E-DOCKER-PUSH-DENIED",
            ),
            (
                "tag invalid: The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
                "E-DOCKER-PUSH-IMMUTABLE",
            ),
            (
                "name unknown: The repository with name 'app' does not exist in the registry with id '1'",
                "E-DOCKER-PUSH-UNKNOWN-REPOSITORY",
            ),
            (
                "received unexpected HTTP status: 503 Service Unavailable",
                "E-DOCKER-PUSH",
            ),
        ] {
            let error = failure(said, 1, target, arn);
            assert_eq!(crate::diagnostic::codes(&error), [problem], "{said}");
            assert!(format!("{error:#}").contains(target), "{error:#}");
        }
    }

    #[test]
    fn finds_the_digest_in_the_final_status_line() {
        let hex = "1eb5a0181bf380d3ed78e6773c37e6510a8e2117108f445a124e535043be5a00";
        assert_eq!(
            digest_in(&format!("v1: digest: sha256:{hex} size: 523")),
            Some(format!("sha256:{hex}").as_str())
        );
        assert_eq!(digest_in("Pushed"), None);
        assert_eq!(digest_in("v1: digest: sha256:short size: 1"), None);
    }

    /// The log lines a stream of statuses makes, and the progress after it.
    fn logged(statuses: &[&str]) -> (Vec<String>, Progress) {
        let mut progress = Progress::default();
        let lines = statuses.iter().filter_map(|s| progress.note(s)).collect();
        (lines, progress)
    }

    #[test]
    fn progress_logs_state_changes_only() {
        let (lines, progress) = logged(&[
            "Preparing",
            "Preparing",
            "Waiting",
            "Pushing",
            "Pushing",
            "Pushed",
            "Layer already exists",
        ]);
        assert_eq!(
            lines,
            ["layer 1/2 pushed", "layer 2/2 already in the registry"]
        );
        assert_eq!(
            progress.summary(),
            "2 layers: 1 pushed, 1 already present, 0 mounted"
        );
    }

    #[test]
    fn progress_counts_up_when_no_layer_was_announced() {
        // The containerd image store's stream: no "Preparing", terminal states only.
        let (lines, progress) = logged(&[
            "The push refers to repository [r/x]",
            "Pushed",
            "Mounted from other",
            "Layer already exists",
        ]);
        assert_eq!(
            lines,
            [
                "The push refers to repository [r/x]",
                "layer 1 pushed",
                "layer 2 mounted (mounted from other)",
                "layer 3 already in the registry"
            ]
        );
        assert_eq!(
            progress.summary(),
            "3 layers: 1 pushed, 1 already present, 1 mounted"
        );
        let mut one = Progress::default();
        one.note("Pushed");
        assert_eq!(
            one.summary(),
            "1 layer: 1 pushed, 0 already present, 0 mounted"
        );
    }
}
