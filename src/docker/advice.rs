//! What the user reads when the daemon, the local image or the registry stands in the way: each message
//! written once, so that the logic around it reads on one screen.

use bollard::ClientVersion;

use crate::inputs::Platform;

pub fn daemon_unreachable(address: &str, cause: &dyn std::fmt::Display) -> String {
    format!(
        "Cannot reach the Docker daemon at {address}: {cause}.\nStart Docker on the runner, or point DOCKER_HOST \
         at a running daemon; when running this action's image yourself, mount the socket \
         (-v /var/run/docker.sock:/var/run/docker.sock)."
    )
}

pub fn no_local_image(reference: &str, address: &str) -> String {
    format!(
        "Input `local-image`: no image `{reference}` in the Docker daemon at {address}.\nBuild or load it in an \
         earlier step (e.g. `docker build -t {reference} .`), or check the name with `docker images`."
    )
}

pub fn local_platform_unusable(reference: &str, why: &str) -> String {
    format!(
        "The local image `{reference}` states a platform outside the OCI spec's characters: {why}. It \
         would reach the `platforms` output, and through it any workflow step that uses it; rebuild or \
         re-tag the image from a trusted base. Nothing was pushed."
    )
}

pub fn platform_missing(reference: &str, wanted: &Platform, has: &str) -> String {
    format!(
        "Input `platform`: the local image `{reference}` has no {wanted} image; it has {has}.\nBuild that \
         platform too (`docker buildx build --platform {has},{wanted} …`), or set `platform` to one it has."
    )
}

pub fn engine_too_old_for_platform(wanted: &Platform, has: &str, api: &ClientVersion) -> String {
    format!(
        "Input `platform`: pushing only {wanted} of an image in the containerd image store ({has}) needs Docker \
         27 or newer (Engine API 1.46); this daemon speaks API {api}.\nUpgrade Docker on the runner, or leave \
         `platform` empty to push the image whole."
    )
}

pub fn immutable_tag(target: &str, said: &str) -> String {
    let (repository, tag) = target.rsplit_once(':').unwrap_or((target, ""));
    format!(
        "Docker: pushing {target} was refused: tag `{tag}` already exists in {repository}, and the repository is \
         immutable, so ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: skip`, or exclude such \
         tags from immutability. (The registry said: {said})"
    )
}

pub fn repository_unknown(target: &str, said: &str) -> String {
    format!(
        "Docker: pushing {target} was refused: the registry does not know this repository (deleted after the \
         check, or never created). Create it, or set `create-repository: true`. (The registry said: {said})"
    )
}

pub fn denied_by_registry(target: &str, doctor: &str) -> String {
    format!("Docker: pushing {target} was denied by the registry.\n{doctor}")
}

pub fn push_failed(target: &str, attempts: u32, said: &str) -> String {
    if attempts > 1 {
        format!("Docker: pushing {target} failed {attempts} times, last: {said}")
    } else {
        format!("Docker: pushing {target} failed: {said}")
    }
}

pub fn digests_differ(digest: &str, first: &str, first_digest: &str) -> String {
    format!(
        "pushed with digest {digest}, but {first} with {first_digest}: the image changed during the push, or the \
         registry rewrote the manifest"
    )
}
