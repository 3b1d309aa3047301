//! What the user reads when the daemon, the local image or the registry stands in the way: each problem
//! written once, with its stable code, so that the logic around it reads on one screen.

use anyhow::Error;
use bollard::ClientVersion;
use bollard::errors::Error as DockerError;

use crate::diagnostic::error;
use crate::github::error_chain;
use crate::inputs::Platform;

pub fn daemon_unreachable(address: &str, cause: &dyn std::fmt::Display) -> Error {
    error(
        "E-DOCKER-UNREACHABLE",
        format!(
            "Cannot reach the Docker daemon at {address}: {cause}.\nStart Docker on the runner, or point DOCKER_HOST \
             at a running daemon; when running this action's image yourself, mount the socket \
             (-v /var/run/docker.sock:/var/run/docker.sock)."
        ),
    )
}

pub fn inspect_failed(reference: &str, cause: &DockerError) -> Error {
    daemon_failed(&format!("inspecting image `{reference}`"), cause)
}

pub fn list_failed(reference: &str, cause: &DockerError) -> Error {
    daemon_failed(&format!("listing the platforms of `{reference}`"), cause)
}

pub fn tag_failed(reference: &str, target: &str, cause: &DockerError) -> Error {
    daemon_failed(&format!("tagging {reference} as {target}"), cause)
}

/// The daemon failed at what it was asked to do with an image (`doing`).
fn daemon_failed(doing: &str, cause: &DockerError) -> Error {
    error(
        "E-DOCKER-DAEMON",
        format!("Docker: {doing} failed: {}", error_chain(cause)),
    )
}

/// The image could not be saved for the action's own upload (the caller then pushes through the daemon).
pub fn save_failed(reference: &str, cause: &dyn std::fmt::Display) -> Error {
    error(
        "E-DOCKER-SAVE",
        format!(
            "Docker: saving image `{reference}` for the upload to every destination failed: {cause}"
        ),
    )
}

pub fn no_local_image(reference: &str, address: &str) -> Error {
    error(
        "E-DOCKER-NO-IMAGE",
        format!(
            "Input `local-image`: no image `{reference}` in the Docker daemon at {address}.\nBuild or load it in an \
             earlier step (e.g. `docker build -t {reference} .`), or check the name with `docker images`."
        ),
    )
}

pub fn image_without_id(reference: &str) -> Error {
    error(
        "E-DOCKER-NO-ID",
        format!("the Docker daemon returned image `{reference}` without an ID"),
    )
}

pub fn local_platform_unusable(reference: &str, why: &str) -> Error {
    error(
        "E-DOCKER-PLATFORM-INVALID",
        format!(
            "The local image `{reference}` states a platform outside the OCI spec's characters: {why}. It \
             would reach the `platforms` output, and through it any workflow step that uses it; rebuild or \
             re-tag the image from a trusted base. Nothing was pushed."
        ),
    )
}

pub fn platform_missing(reference: &str, wanted: &Platform, has: &str) -> Error {
    error(
        "E-DOCKER-PLATFORM-MISSING",
        format!(
            "Input `platform`: the local image `{reference}` has no {wanted} image; it has {has}.\nBuild that \
             platform too (`docker buildx build --platform {has},{wanted} …`), or set `platform` to one it has."
        ),
    )
}

pub fn engine_too_old_for_platform(wanted: &Platform, has: &str, api: &ClientVersion) -> Error {
    error(
        "E-DOCKER-ENGINE-TOO-OLD",
        format!(
            "Input `platform`: pushing only {wanted} of an image in the containerd image store ({has}) needs Docker \
             27 or newer (Engine API 1.46); this daemon speaks API {api}.\nUpgrade Docker on the runner, or leave \
             `platform` empty to push the image whole."
        ),
    )
}

pub fn immutable_tag(target: &str, said: &str) -> Error {
    let (repository, tag) = target.rsplit_once(':').unwrap_or((target, ""));
    error(
        "E-DOCKER-PUSH-IMMUTABLE",
        format!(
            "Docker: pushing {target} was refused: tag `{tag}` already exists in {repository}, and the repository is \
             immutable, so ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: skip`, or exclude \
             such tags from immutability. (The registry said: {said})"
        ),
    )
}

pub fn repository_unknown(target: &str, said: &str) -> Error {
    error(
        "E-DOCKER-PUSH-UNKNOWN-REPOSITORY",
        format!(
            "Docker: pushing {target} was refused: the registry does not know this repository (deleted after the \
             check, or never created). Create it, or set `create-repository: true`. (The registry said: {said})"
        ),
    )
}

pub fn denied_by_registry(target: &str, doctor: &str) -> Error {
    error(
        "E-DOCKER-PUSH-DENIED",
        format!("Docker: pushing {target} was denied by the registry.\n{doctor}"),
    )
}

pub fn push_failed(target: &str, attempts: u32, said: &str) -> Error {
    let text = if attempts > 1 {
        format!("Docker: pushing {target} failed {attempts} times, last: {said}")
    } else {
        format!("Docker: pushing {target} failed: {said}")
    };
    error("E-DOCKER-PUSH", text)
}

/// Why a push that ended without a digest is tried again.
pub const NO_DIGEST: &str = "the push ended without reporting a digest";

pub fn digests_differ(digest: &str, first: &str, first_digest: &str) -> Error {
    error(
        "E-DOCKER-DIGESTS-DIFFER",
        format!(
            "pushed with digest {digest}, but {first} with {first_digest}: the image changed during the push, or \
             the registry rewrote the manifest"
        ),
    )
}

/// Why a tag after the first was not pushed: the first one's failure, which has its own code, says why.
pub fn after_first_failed(first: &str) -> String {
    format!("not pushed: the push of {first} failed first")
}

/// A warning: the tag the action added is the image's only one, and removing it would remove the image.
pub fn kept_local_tag(target: &str, reference: &str) -> String {
    format!(
        "Kept the local tag {target}: the image {reference} has no other tag, and removing it would delete the image."
    )
}

/// A warning: the local tag could not be put back after the push (which has said how it went).
pub fn not_restored(target: &str, cause: &dyn std::fmt::Display) -> String {
    format!("Could not restore the local tag {target} after the push: {cause}")
}
