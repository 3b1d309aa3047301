//! The runner's Docker daemon, through bollard: connect (honouring `DOCKER_HOST`, negotiating the API
//! version so older daemons such as 20.10 / API 1.41 work), find the local image, and push it under
//! each tag with in-memory credentials — then leave the daemon's tags as they were.

use anyhow::{Context, Result, anyhow, bail};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::models::{ImageInspect, ImageManifestSummaryKindEnum, OciPlatform};
use bollard::query_parameters::{
    ListImagesOptionsBuilder, PushImageOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder,
};
use futures_util::StreamExt as _;

use crate::aws::{Destination, denied};
use crate::inputs::{DockerHost, Platform, Tag};
use crate::retry::{Backoff, retry};
use crate::{github, step};

/// Where a push's progress goes: straight to the log, or kept until the push is done (pushes that run
/// at the same time would interleave their lines).
#[derive(Clone, Copy)]
enum Log {
    Live,
    Buffered,
}

pub struct Daemon {
    docker: Docker,
    address: String,
    /// Local tags the action added and has not put back yet. Each is put back right after its push;
    /// whatever is left when the daemon is dropped — a run stopped by `timeout` in the middle of a
    /// push drops it — is put back then (see `Drop`).
    added: std::sync::Mutex<Vec<AddedTag>>,
}

/// A tag to put back: the target, what it pointed at before, and the image the action tagged.
type AddedTag = (String, Option<String>, LocalImage);

impl Daemon {
    fn added(&self) -> std::sync::MutexGuard<'_, Vec<AddedTag>> {
        self.added
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Daemon {
    /// Puts back the tags a stopped run left behind. Drop cannot await, so it blocks this worker
    /// thread (the multi-threaded runtime allows that) for at most 15 s: a daemon that does not answer
    /// must not hold the job.
    fn drop(&mut self) {
        let left: Vec<AddedTag> = self.added().drain(..).collect();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if left.is_empty() || runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread
        {
            return;
        }
        tokio::task::block_in_place(|| {
            runtime.block_on(async {
                let restore_all = async {
                    for (target, before, image) in &left {
                        self.restore(target, before.as_deref(), image).await;
                    }
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(15), restore_all).await;
            });
        });
    }
}

/// An image found in the local daemon, and what of it the push sends.
#[derive(Debug, Clone)]
pub struct LocalImage {
    pub reference: String,
    pub id: String,
    /// The platforms the push sends: every platform of a multi-platform image pushed whole, or the
    /// one the `platform` input chose.
    pub platforms: Vec<Platform>,
    /// Set when the daemon must be asked for one platform of a multi-platform (containerd store)
    /// image: the push's `platform` parameter.
    pub push_platform: Option<Platform>,
}

/// What became of each tag.
#[derive(Debug, Default)]
pub struct PushOutcome {
    pub pushed: Vec<PushedTag>,
    /// Tags not pushed, each with the reason.
    pub failed: Vec<(Tag, String)>,
}

/// A failed push, as the registry or the daemon reported it.
#[derive(Debug)]
struct PushFailure {
    text: String,
    transient: bool,
}

/// Whether a push failure is worth another try. Refusals are checked first: a `denied` that mentions
/// a timeout is still a refusal.
fn is_transient(text: &str) -> bool {
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
    const TRANSIENT: [&str; 15] = [
        "connection reset",
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
        "429",
        "too many requests",
        "toomanyrequests",
        "blob unknown",
    ];
    let text = text.to_ascii_lowercase();
    !PERMANENT.iter().any(|p| text.contains(p)) && TRANSIENT.iter().any(|t| text.contains(t))
}

/// ECR's refusals of a push, said plainly; `None` for anything else.
fn explain_refusal(text: &str, target: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    // 20.10 passes on ECR's code (`tag invalid: …`), the containerd store only its message.
    if lower.contains("immutable")
        && (lower.contains("tag invalid") || lower.contains("cannot be overwritten"))
    {
        let (repository, tag) = target.rsplit_once(':').unwrap_or((target, ""));
        return Some(format!(
            "Docker: pushing {target} was refused: tag `{tag}` already exists in {repository}, and the repository is \
             immutable, so ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: skip`, or exclude such \
             tags from immutability. (The registry said: {text})"
        ));
    }
    if lower.contains("name unknown")
        || (lower.contains("repository with name") && lower.contains("does not exist"))
    {
        return Some(format!(
            "Docker: pushing {target} was refused: the registry does not know this repository (deleted after the \
             check, or never created). Create it, or set `create-repository: true`. (The registry said: {text})"
        ));
    }
    None
}

/// The Engine API that takes a `platform` parameter on push (Docker 27.0, API 1.46) and lists the
/// images of a multi-platform image (`manifests`, Docker 27.3, API 1.47).
const PUSH_PLATFORM_API: (usize, usize) = (1, 46);
const LIST_MANIFESTS_API: (usize, usize) = (1, 47);

fn platform_from(p: &OciPlatform) -> Platform {
    Platform {
        os: p.os.clone().unwrap_or_default(),
        architecture: p.architecture.clone().unwrap_or_default(),
        variant: p.variant.clone().filter(|v| !v.is_empty()),
    }
}

/// The platform of a single-platform image, from its inspection.
fn platform_of(image: &ImageInspect) -> Platform {
    Platform {
        os: image.os.clone().unwrap_or_default(),
        architecture: image.architecture.clone().unwrap_or_default(),
        variant: image.variant.clone().filter(|v| !v.is_empty()),
    }
}

/// How the daemon keeps the local image.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    /// The classic store: one image, one platform.
    Classic(Platform),
    /// The containerd store: an index (or manifest) with the platforms of its images where the engine
    /// can list them.
    Containerd(Option<Vec<Platform>>),
}

impl Stored {
    fn describe(&self) -> String {
        match self {
            Stored::Classic(platform) => platform.to_string(),
            Stored::Containerd(Some(platforms)) => join(platforms),
            Stored::Containerd(None) => "platforms not listed by this engine".to_owned(),
        }
    }
}

/// Why `platform` cannot be honoured.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Missing { wanted: Platform, has: String },
    EngineTooOld { wanted: Platform, has: String },
}

impl Refusal {
    fn advice(&self, reference: &str, api: &bollard::ClientVersion) -> String {
        match self {
            Refusal::Missing { wanted, has } => advice::platform_missing(reference, wanted, has),
            Refusal::EngineTooOld { wanted, has } => {
                advice::engine_too_old_for_platform(wanted, has, api)
            }
        }
    }
}

/// What the push sends — its platforms, and the push's `platform` parameter — for the `wanted`
/// platform (`None`: the whole image). A classic image is one platform's image already, so it is
/// pushed as it is (the parameter is for multi-platform images only); a containerd-store image needs
/// the parameter, which engines before API 1.46 do not take.
fn select(
    stored: &Stored,
    wanted: Option<&Platform>,
    can_push_platform: bool,
) -> Result<(Vec<Platform>, Option<Platform>), Refusal> {
    let has = stored.describe();
    let (listed, classic) = match stored {
        Stored::Classic(platform) => (Some(std::slice::from_ref(platform)), true),
        Stored::Containerd(platforms) => (platforms.as_deref(), false),
    };
    let Some(wanted) = wanted else {
        return Ok((listed.map(<[Platform]>::to_vec).unwrap_or_default(), None));
    };
    if listed.is_some_and(|all| !all.iter().any(|p| p.serves(wanted))) {
        return Err(Refusal::Missing {
            wanted: wanted.clone(),
            has,
        });
    }
    if classic {
        return Ok((vec![wanted.clone()], None));
    }
    if !can_push_platform {
        return Err(Refusal::EngineTooOld {
            wanted: wanted.clone(),
            has,
        });
    }
    Ok((vec![wanted.clone()], Some(wanted.clone())))
}

/// `linux/amd64,linux/arm64`: the `platforms` output's form.
pub fn join(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What the user reads when a local image cannot be pushed as asked.
mod advice {
    use bollard::ClientVersion;

    use crate::inputs::Platform;

    pub fn platform_missing(reference: &str, wanted: &Platform, has: &str) -> String {
        format!(
            "Input `platform`: the local image `{reference}` has no {wanted} image; it has {has}.\nBuild that \
             platform too (`docker buildx build --platform {has},{wanted} …`), or set `platform` to one it has."
        )
    }

    pub fn engine_too_old_for_platform(
        wanted: &Platform,
        has: &str,
        api: &ClientVersion,
    ) -> String {
        format!(
            "Input `platform`: pushing only {wanted} of a multi-platform image ({has}) needs Docker 27.3 or newer \
             (Engine API 1.46); this daemon speaks API {api}.\nUpgrade Docker on the runner, or leave `platform` \
             empty to push every platform."
        )
    }
}

/// One tag that the registry accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedTag {
    pub tag: Tag,
    pub digest: String,
}

/// Connects to the daemon `host` names (validated from `DOCKER_HOST` and its TLS settings) and checks
/// that it answers. A remote daemon is only reached over TLS: it receives the registry password.
pub async fn connect(host: &DockerHost) -> Result<Daemon> {
    let address = host.address().to_owned();
    let unreachable = |cause: &dyn std::fmt::Display| {
        anyhow!(
            "Cannot reach the Docker daemon at {address}: {cause}.\nStart Docker on the runner, or point DOCKER_HOST \
             at a running daemon; when running this action's image yourself, mount the socket \
             (-v /var/run/docker.sock:/var/run/docker.sock)."
        )
    };
    let docker = match host {
        DockerHost::Unix(socket) => {
            Docker::connect_with_unix(socket, 120, bollard::API_DEFAULT_VERSION)
        }
        DockerHost::Tcp { address } => {
            Docker::connect_with_http(address, 120, bollard::API_DEFAULT_VERSION)
        }
        DockerHost::Tls { address, cert_path } => Docker::connect_with_ssl(
            address,
            &cert_path.join("key.pem"),
            &cert_path.join("cert.pem"),
            &cert_path.join("ca.pem"),
            120,
            bollard::API_DEFAULT_VERSION,
        ),
    }
    .map_err(|e| unreachable(&e))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| unreachable(&crate::aws::error_chain(&e)))?;
    let tls = if matches!(host, DockerHost::Tls { .. }) {
        ", TLS"
    } else {
        ""
    };
    github::info(&format!(
        "Docker daemon at {address} (API {}{tls})",
        docker.client_version()
    ));
    Ok(Daemon {
        docker,
        address,
        added: std::sync::Mutex::default(),
    })
}

impl Daemon {
    /// Looks `reference` up (a name, `name:tag` or an image ID), learns its platforms, and checks that
    /// it has the `wanted` one — all before anything is pushed or created.
    pub async fn find_image(
        &self,
        reference: &str,
        wanted: Option<&Platform>,
    ) -> Result<LocalImage> {
        let inspected = match self.docker.inspect_image(reference).await {
            Ok(image) => image,
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => bail!(
                "Input `local-image`: no image `{reference}` in the Docker daemon at {}.\nBuild or load it in an \
                 earlier step (e.g. `docker build -t {reference} .`), or check the name with `docker images`.",
                self.address
            ),
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("Docker: inspecting image `{reference}` failed"));
            }
        };
        let id = inspected.id.clone().ok_or_else(|| {
            anyhow!("the Docker daemon returned image `{reference}` without an ID")
        })?;
        let stored = match self.platforms_of(reference, &id).await? {
            Some(platforms) => Stored::Containerd(Some(platforms)),
            // An engine that cannot list them (API < 1.47) may still keep an index: ask when it matters.
            None if wanted.is_some() && self.uses_containerd_store().await => {
                Stored::Containerd(None)
            }
            None => Stored::Classic(platform_of(&inspected)),
        };
        let (platforms, push_platform) =
            select(&stored, wanted, self.api_at_least(PUSH_PLATFORM_API)).map_err(|refusal| {
                anyhow!(refusal.advice(reference, &self.docker.client_version()))
            })?;
        github::info(&format!(
            "Local image {reference} is {id} ({})",
            stored.describe()
        ));
        Ok(LocalImage {
            reference: reference.to_owned(),
            id,
            platforms,
            push_platform,
        })
    }

    async fn uses_containerd_store(&self) -> bool {
        self.docker.info().await.is_ok_and(|info| {
            info.driver_status
                .unwrap_or_default()
                .iter()
                .flatten()
                .any(|s| s.starts_with("io.containerd.snapshotter"))
        })
    }

    /// The platforms of the images a multi-platform image (containerd image store) holds locally;
    /// `None` where the engine cannot list them (API < 1.47) or stores images classically.
    async fn platforms_of(&self, reference: &str, id: &str) -> Result<Option<Vec<Platform>>> {
        if !self.api_at_least(LIST_MANIFESTS_API) {
            return Ok(None);
        }
        let is_id = reference.starts_with("sha256:")
            || id.trim_start_matches("sha256:").starts_with(reference);
        let by_name =
            (!is_id).then(|| std::collections::HashMap::from([("reference", vec![reference])]));
        let mut options = ListImagesOptionsBuilder::new().manifests(true);
        if let Some(filters) = &by_name {
            options = options.filters(filters);
        }
        let images = self
            .docker
            .list_images(Some(options.build()))
            .await
            .with_context(|| format!("Docker: listing the platforms of `{reference}` failed"))?;
        let Some(manifests) = images
            .into_iter()
            .find(|image| image.id == id)
            .and_then(|image| image.manifests)
        else {
            return Ok(None);
        };
        Ok(Some(
            manifests
                .iter()
                .filter(|m| m.available && m.kind == Some(ImageManifestSummaryKindEnum::IMAGE))
                .filter_map(|m| m.image_data.as_ref().map(|d| platform_from(&d.platform)))
                .collect(),
        ))
    }

    fn api_at_least(&self, (major, minor): (usize, usize)) -> bool {
        let version = self.docker.client_version();
        (version.major_version, version.minor_version) >= (major, minor)
    }

    /// Tags `image` as `<repository_uri>:<tag>` and pushes it under every tag: the first tag alone
    /// (it uploads the layers, with its progress shown live), then the others at once (the layers are
    /// in the registry by then, so each only checks them and puts its manifest). Every tag must end with
    /// the same manifest digest. Local tags the action added are removed again, even on failure.
    pub async fn push(&self, image: &LocalImage, destination: &Destination) -> PushOutcome {
        let (repository_uri, tags, login) = (
            &destination.repository_uri,
            &destination.plan.push,
            &destination.login,
        );
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
            .tag_and_push(image, destination, first, &credentials, Log::Live)
            .await
        {
            Ok((done, _)) => outcome.pushed.push(done),
            Err(err) => {
                outcome.failed.push((first.clone(), format!("{err:#}")));
                for tag in rest {
                    outcome.failed.push((
                        tag.clone(),
                        format!("not pushed: the push of {first} failed first"),
                    ));
                }
                return outcome;
            }
        }
        let others =
            futures_util::future::join_all(rest.iter().map(|tag| {
                self.tag_and_push(image, destination, tag, &credentials, Log::Buffered)
            }))
            .await;
        for (tag, result) in rest.iter().zip(others) {
            match result {
                Ok((done, lines)) => {
                    let _step = step::enter(&format!("Push {repository_uri}:{tag}"));
                    for line in &lines {
                        github::info(line);
                    }
                    if done.digest == outcome.pushed[0].digest {
                        outcome.pushed.push(done);
                    } else {
                        outcome.failed.push((
                            tag.clone(),
                            format!(
                                "pushed with digest {}, but {first} with {}: the image changed during the push, or \
                                 the registry rewrote the manifest",
                                done.digest, outcome.pushed[0].digest
                            ),
                        ));
                    }
                }
                Err(err) => outcome.failed.push((tag.clone(), format!("{err:#}"))),
            }
        }
        outcome
    }

    async fn tag_and_push(
        &self,
        image: &LocalImage,
        destination: &Destination,
        tag: &Tag,
        credentials: &DockerCredentials,
        log: Log,
    ) -> Result<(PushedTag, Vec<String>)> {
        let repository_uri = &destination.repository_uri;
        let target = format!("{repository_uri}:{tag}");
        let before = self.image_id(&target).await?;
        self.docker
            .tag_image(
                &image.id,
                Some(
                    TagImageOptionsBuilder::new()
                        .repo(repository_uri)
                        .tag(tag.as_str())
                        .build(),
                ),
            )
            .await
            .with_context(|| format!("Docker: tagging {} as {target} failed", image.reference))?;
        self.added()
            .push((target.clone(), before.clone(), image.clone()));
        let lines = std::sync::Mutex::new(Vec::new());
        let _step = matches!(log, Log::Live).then(|| step::enter(&format!("Push {target}")));
        // Transient failures (connection resets, 5xx, 429, a stalled or cut upload) are retried with
        // backoff; refusals (denied, unknown repository, immutable tag, bad login) are not.
        let result = retry(
            &format!("Pushing {target}"),
            Backoff::STANDARD,
            || {
                self.push_tag(
                    repository_uri,
                    tag,
                    image.push_platform.as_ref(),
                    credentials,
                    |line| match log {
                        Log::Live => github::info(&line),
                        Log::Buffered => lines
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(line),
                    },
                )
            },
            |failure: &PushFailure| failure.transient,
            |failure| failure.text.clone(),
        )
        .await;
        self.restore(&target, before.as_deref(), image).await;
        self.added().retain(|(t, _, _)| *t != target);
        let digest = result.map_err(|exhausted| {
            let PushFailure { text, transient } = exhausted.error;
            if let Some(denied) = denied::parse(&text)
                .or_else(|| denied::from_registry_request(&text, &destination.arn))
            {
                // The registry enforces the layer and manifest permissions and says so in the stream.
                anyhow!(
                    "Docker: pushing {target} was denied by the registry.\n{}",
                    denied::explain(&denied)
                )
            } else if let Some(explained) = explain_refusal(&text, &target) {
                anyhow!(explained)
            } else if transient {
                anyhow!(
                    "Docker: pushing {target} failed {} times, last: {text}",
                    exhausted.attempts
                )
            } else {
                anyhow!("Docker: pushing {target} failed: {text}")
            }
        })?;
        let lines = lines
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok((
            PushedTag {
                tag: tag.clone(),
                digest,
            },
            lines,
        ))
    }

    /// Pushes one tag and drains the progress stream to its end; returns the manifest digest.
    async fn push_tag(
        &self,
        repository_uri: &str,
        tag: &Tag,
        platform: Option<&Platform>,
        credentials: &DockerCredentials,
        log: impl Fn(String),
    ) -> Result<String, PushFailure> {
        let target = format!("{repository_uri}:{tag}");
        let mut options = PushImageOptionsBuilder::new().tag(tag.as_str());
        if let Some(platform) = platform {
            options = options.platform(&platform.to_json());
        }
        let options = options.build();
        let mut stream =
            self.docker
                .push_image(repository_uri, Some(options), Some(credentials.clone()));
        let mut progress = Progress::default();
        let mut digest = None;
        let mut failure = None;
        // The daemon answers HTTP 200 and reports failures inside the stream: read it all, keep the first error.
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(error) = info.error_detail.and_then(|e| e.message) {
                        failure.get_or_insert(error);
                    }
                    if let Some(status) = info.status {
                        if let Some(found) = digest_in(&status) {
                            digest = Some(found.to_owned());
                        }
                        if let Some(line) = progress.note(&status) {
                            log(line);
                        }
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
        if let Some(text) = failure {
            return Err(PushFailure {
                transient: is_transient(&text),
                text,
            });
        }
        let Some(digest) = digest else {
            return Err(PushFailure {
                text: "the push ended without reporting a digest".into(),
                transient: true,
            });
        };
        log(format!(
            "{target}: {} — digest {digest}",
            progress.summary()
        ));
        Ok(digest)
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => Ok(image.id),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(err) => Err(err).with_context(|| format!("Docker: inspecting {reference} failed")),
        }
    }

    /// Puts `target` back the way it was before the action tagged it. Problems here are warnings:
    /// the push itself has succeeded or failed already, and says so.
    async fn restore(&self, target: &str, before: Option<&str>, image: &LocalImage) {
        let outcome = match before {
            Some(id) if id == image.id => return,
            Some(previous) => {
                let (repo, tag) = target.rsplit_once(':').unwrap_or((target, "latest"));
                self.docker
                    .tag_image(
                        previous,
                        Some(TagImageOptionsBuilder::new().repo(repo).tag(tag).build()),
                    )
                    .await
            }
            None => {
                // Removing the only tag of an image would delete the image itself.
                match self.docker.inspect_image(&image.id).await {
                    Ok(now)
                        if now
                            .repo_tags
                            .as_deref()
                            .unwrap_or_default()
                            .iter()
                            .all(|t| t == target) =>
                    {
                        github::warning(&format!(
                            "Kept the local tag {target}: the image {} has no other tag, and removing it would delete the image.",
                            image.reference
                        ));
                        return;
                    }
                    Ok(_) => {
                        let options = RemoveImageOptionsBuilder::new().noprune(true).build();
                        self.docker
                            .remove_image(target, Some(options), None)
                            .await
                            .map(|_| ())
                    }
                    Err(err) => Err(err),
                }
            }
        };
        if let Err(err) = outcome {
            github::warning(&format!(
                "Could not restore the local tag {target} after the push: {err}"
            ));
        }
    }
}

/// The digest in the daemon's final status line, `<tag>: digest: sha256:<hex> size: <n>`.
fn digest_in(status: &str) -> Option<&str> {
    let rest = status.split_once(": digest: ")?.1;
    let digest = rest.split_whitespace().next()?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
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
        ] {
            assert!(is_transient(transient), "{transient}");
        }
        for permanent in [
            "denied: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: ecr:PutImage on resource: x",
            "name unknown: The repository with name 'x' does not exist in the registry with id '1'",
            "tag invalid: The image tag 'v1' already exists in the 'x' repository and cannot be overwritten because the repository is immutable.",
            "unauthorized: authentication required",
            "manifest invalid: manifest invalid",
        ] {
            assert!(!is_transient(permanent), "{permanent}");
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

    #[test]
    fn progress_logs_state_changes_only() {
        let mut progress = Progress::default();
        let lines: Vec<String> = [
            "Preparing",
            "Preparing",
            "Waiting",
            "Pushing",
            "Pushing",
            "Pushed",
            "Layer already exists",
        ]
        .iter()
        .filter_map(|s| progress.note(s))
        .collect();
        assert_eq!(
            lines,
            ["layer 1/2 pushed", "layer 2/2 already in the registry"]
        );
        assert_eq!(
            progress.summary(),
            "2 layers: 1 pushed, 1 already present, 0 mounted"
        );
    }

    fn p(text: &str) -> Platform {
        Platform::parse(text).expect("platform")
    }

    #[test]
    fn a_platform_is_selected_only_where_the_image_and_the_engine_have_it() {
        let classic = Stored::Classic(p("linux/amd64"));
        let multi = Stored::Containerd(Some(vec![p("linux/amd64"), p("linux/arm64")]));
        let unlisted = Stored::Containerd(None);
        // The whole image: every platform it has, no parameter.
        assert_eq!(
            select(&multi, None, true),
            Ok((vec![p("linux/amd64"), p("linux/arm64")], None))
        );
        assert_eq!(
            select(&classic, None, false),
            Ok((vec![p("linux/amd64")], None))
        );
        // One platform: the parameter for an index, nothing for a classic image of that platform.
        let arm = p("linux/arm64");
        assert_eq!(
            select(&multi, Some(&arm), true),
            Ok((vec![arm.clone()], Some(arm.clone())))
        );
        assert_eq!(
            select(&classic, Some(&p("linux/amd64")), false),
            Ok((vec![p("linux/amd64")], None))
        );
        assert_eq!(
            select(&unlisted, Some(&arm), true),
            Ok((vec![arm.clone()], Some(arm.clone())))
        );
        // Refused: a platform the image lacks, and an index on an engine without the parameter.
        assert_eq!(
            select(&classic, Some(&arm), true),
            Err(Refusal::Missing {
                wanted: arm.clone(),
                has: "linux/amd64".into()
            })
        );
        assert_eq!(
            select(&multi, Some(&p("linux/s390x")), true),
            Err(Refusal::Missing {
                wanted: p("linux/s390x"),
                has: "linux/amd64,linux/arm64".into()
            })
        );
        assert!(matches!(
            select(&multi, Some(&arm), false),
            Err(Refusal::EngineTooOld { .. })
        ));
        assert!(matches!(
            select(&unlisted, Some(&arm), false),
            Err(Refusal::EngineTooOld { .. })
        ));
    }

    #[test]
    fn progress_counts_up_when_no_layer_was_announced() {
        // The containerd image store's stream: no "Preparing", terminal states only.
        let mut progress = Progress::default();
        let lines: Vec<String> = [
            "The push refers to repository [r/x]",
            "Pushed",
            "Mounted from other",
            "Layer already exists",
        ]
        .iter()
        .filter_map(|s| progress.note(s))
        .collect();
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
