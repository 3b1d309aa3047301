//! The runner's Docker daemon, through bollard: connect (the validated `DOCKER_HOST`, negotiating the
//! API version so older daemons such as 20.10 / API 1.41 work), find the local image and its platforms,
//! and leave the daemon's tags as they were. Pushing lives in `push.rs`, the choice of what a push
//! sends for the `platform` input in `platform.rs`, and what the user reads in `advice.rs`.

use anyhow::Result;
use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ImageInspect, ImageManifestSummaryKindEnum, ImageSummary};
use bollard::query_parameters::{
    ListImagesOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};

use crate::aws::registry::Identity;
use crate::inputs::{DockerHost, Platform, Tag};
use crate::{diagnostic, github};

mod advice;
mod platform;
mod push;
mod save;

pub use platform::join;
use platform::{Stored, platform_from, platform_of, select};

pub struct Daemon {
    docker: Docker,
    address: String,
    /// Local tags the action added and has not put back yet. Each is put back right after its push;
    /// whatever is left when the daemon is dropped — a run stopped by `timeout` in the middle of a
    /// push drops it — is put back then (see `Drop`).
    added: std::sync::Mutex<Vec<AddedTag>>,
    /// Held while a local tag is added or put back: Podman updates an image's names by reading and
    /// writing them whole, so two destinations tagging at once can lose one's tag ("image not
    /// known" at its push; seen on Podman 4.3). Pushes still run at once.
    names: tokio::sync::Mutex<()>,
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
    /// What a registry's tag holds when it holds this image.
    pub identity: Identity,
}

/// What became of each tag.
#[derive(Debug, Default)]
pub struct PushOutcome {
    pub pushed: Vec<PushedTag>,
    /// Tags not pushed, each with the reason.
    pub failed: Vec<(Tag, String)>,
    /// The diagnostic codes of the reasons, in order, once each: what the run's error is titled with.
    pub codes: Vec<&'static str>,
}

impl PushOutcome {
    /// Records that `tag` was not pushed, and why.
    pub fn fail(&mut self, tag: &Tag, why: &anyhow::Error) {
        self.failed.push((tag.clone(), format!("{why:#}")));
        for code in diagnostic::codes(why) {
            if !self.codes.contains(&code) {
                self.codes.push(code);
            }
        }
    }
}

/// The Engine API that takes a `platform` parameter on push (Docker 27.0, API 1.46) and lists the
/// images of a multi-platform image (`manifests`, Docker 27.3, API 1.47).
const PUSH_PLATFORM_API: (usize, usize) = (1, 46);
const LIST_MANIFESTS_API: (usize, usize) = (1, 47);

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
    let unreachable = |cause: &dyn std::fmt::Display| advice::daemon_unreachable(&address, cause);
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
        .map_err(|e| unreachable(&github::error_chain(&e)))?;
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
        names: tokio::sync::Mutex::default(),
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
        // The image and the list of its platforms are asked for at once (two round trips of the
        // containerd store's, the second no longer waiting for the first's ID).
        let (inspected, listed) = tokio::join!(self.inspect(reference), self.listed(reference));
        let inspected = inspected
            .map_err(|e| advice::inspect_failed(reference, &e))?
            .ok_or_else(|| advice::no_local_image(reference, &self.address))?;
        let id = inspected
            .id
            .clone()
            .ok_or_else(|| advice::image_without_id(reference))?;
        let manifests = Self::platforms_of(reference, &id, listed)?;
        let stored = match &manifests {
            Some(manifests) => {
                Stored::Containerd(Some(manifests.iter().map(|(p, _)| p.clone()).collect()))
            }
            // An engine that cannot list them (API < 1.47) may still keep an index: ask when it matters.
            None if wanted.is_some() && self.uses_containerd_store().await => {
                Stored::Containerd(None)
            }
            None => Stored::Classic(
                platform_of(&inspected)
                    .map_err(|why| advice::local_platform_unusable(reference, &why))?,
            ),
        };
        let (platforms, push_platform) =
            select(&stored, wanted, self.api_at_least(PUSH_PLATFORM_API))
                .map_err(|refusal| refusal.advice(reference, &self.docker.client_version()))?;
        github::info(&format!(
            "Local image {reference} is {id} ({})",
            stored.describe()
        ));
        let identity = Identity {
            digest: match (&stored, &push_platform) {
                (Stored::Classic(_), _) => None,
                (Stored::Containerd(_), None) => Some(id.clone()),
                (Stored::Containerd(_), Some(wanted)) => manifests
                    .iter()
                    .flatten()
                    .find(|(p, _)| p.serves(wanted))
                    .map(|(_, digest)| digest.clone()),
            },
            config: matches!(stored, Stored::Classic(_)).then(|| id.clone()),
            known: inspected.repo_digests.unwrap_or_default(),
        };
        Ok(LocalImage {
            reference: reference.to_owned(),
            id,
            platforms,
            push_platform,
            identity,
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

    /// The images the daemon lists for `reference`, with their manifests: filtered by name, or all of
    /// them where `reference` may be an image ID (hex, or `sha256:…`) — the name filter does not match
    /// IDs; `None` where the engine cannot list them (API < 1.47).
    async fn listed(&self, reference: &str) -> Option<Result<Vec<ImageSummary>, DockerError>> {
        if !self.api_at_least(LIST_MANIFESTS_API) {
            return None;
        }
        let hex = reference.trim_start_matches("sha256:");
        let maybe_id =
            reference.starts_with("sha256:") || hex.bytes().all(|b| b.is_ascii_hexdigit());
        let by_name = std::collections::HashMap::from([("reference", vec![reference])]);
        let mut options = ListImagesOptionsBuilder::new().manifests(true);
        if !maybe_id {
            options = options.filters(&by_name);
        }
        Some(self.docker.list_images(Some(options.build())).await)
    }

    /// The platforms of the images a multi-platform image (containerd image store) holds locally, each
    /// with its manifest digest, from what [`Daemon::listed`] found for `reference`; `None` where the
    /// engine cannot list them (API < 1.47) or stores images classically.
    fn platforms_of(
        reference: &str,
        id: &str,
        listed: Option<Result<Vec<ImageSummary>, DockerError>>,
    ) -> Result<Option<Vec<(Platform, String)>>> {
        let Some(images) = listed else {
            return Ok(None);
        };
        let images = images.map_err(|e| advice::list_failed(reference, &e))?;
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
                .filter_map(|m| Some((m.image_data.as_ref()?, m)))
                .map(|(data, m)| {
                    let platform = platform_from(&data.platform)
                        .map_err(|why| advice::local_platform_unusable(reference, &why))?;
                    Ok((platform, m.id.clone()))
                })
                .collect::<Result<_>>()?,
        ))
    }

    fn api_at_least(&self, (major, minor): (usize, usize)) -> bool {
        let version = self.docker.client_version();
        (version.major_version, version.minor_version) >= (major, minor)
    }

    async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        let image = self.inspect(reference).await;
        let image = image.map_err(|e| advice::inspect_failed(reference, &e))?;
        Ok(image.and_then(|i| i.id))
    }

    /// The daemon's view of `reference`, `None` when it has no such image.
    async fn inspect(&self, reference: &str) -> Result<Option<ImageInspect>, DockerError> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => Ok(Some(image)),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Puts `target` back the way it was before the action tagged it. Problems here are warnings:
    /// the push itself has succeeded or failed already, and says so.
    async fn restore(&self, target: &str, before: Option<&str>, image: &LocalImage) {
        let _names = self.names.lock().await;
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
                // Removing the only tag of an image would delete the image itself. Asked now, not
                // when the image was found: on a daemon that other jobs share, its other names can
                // move to another image meanwhile (a build tagging `app:latest`).
                match self.docker.inspect_image(&image.id).await {
                    Ok(now)
                        if now
                            .repo_tags
                            .as_deref()
                            .unwrap_or_default()
                            .iter()
                            .all(|t| t == target) =>
                    {
                        github::warning(&advice::kept_local_tag(target, &image.reference));
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
            github::warning(&advice::not_restored(target, &err));
        }
    }
}
