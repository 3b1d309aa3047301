//! What the user reads when assembling stops, each problem written once with its stable code: a
//! reference that cannot be read or joined into an index (`mod.rs`, and `index.rs`'s refusals, which
//! are [`Diagnostic`]s whose text the reading side completes with where it read them), and a
//! registry's answer that is not what was asked for (`http.rs`).

use anyhow::Error;

use crate::diagnostic::{Diagnostic, error};

/// Why a platform a registry states is refused, after "says platform `…`, ".
const PLATFORM_RULE: &str = "which is not os/architecture[/variant] in the OCI spec's characters \
     (lower-case letters, digits, `_.-`): the `platforms` output would carry it into the workflow. \
     Assemble only images built from trusted sources.";

/// `why` told in `text`, keeping its code.
fn within(why: &Diagnostic, text: String) -> Diagnostic {
    Diagnostic::gathered(why.codes().iter().copied(), text)
}

// What a manifest is not: each completes "`<reference>` in <repository> (<digest>) …" (see
// `unusable`).

pub fn not_json(why: &serde_json::Error) -> Diagnostic {
    Diagnostic::new("E-ASSEMBLE-NOT-JSON", format!("is not JSON ({why})."))
}

pub fn without_configuration() -> Diagnostic {
    Diagnostic::new(
        "E-ASSEMBLE-NO-CONFIG",
        "is an image manifest without a configuration.",
    )
}

/// A descriptor's `field` (`mediaType`, `digest` or `size`) breaks the OCI grammar; `shown` is the
/// value as sent. Completes "… whose manifest N …" or "… whose configuration …".
pub fn descriptor_field(field: &str, shown: &str) -> Diagnostic {
    let text = match field {
        "mediaType" => {
            format!("has the media type {shown}, not `type/subtype` in the OCI grammar.")
        }
        "digest" => {
            format!("has the digest {shown}, not `sha256:` and 64 lower-case hex digits.")
        }
        _ => format!("has the size {shown}, not a whole number of bytes of 0 or more."),
    };
    Diagnostic::new("E-ASSEMBLE-DESCRIPTOR", text)
}

/// An index's descriptor (`at`, from 1) that is refused for `why`.
pub fn in_index(at: usize, why: &Diagnostic) -> Diagnostic {
    within(why, format!("is an index whose manifest {at} {why}"))
}

/// An image manifest's configuration descriptor that is refused for `why`.
pub fn in_configuration(why: &Diagnostic) -> Diagnostic {
    within(
        why,
        format!("is an image manifest whose configuration {why}"),
    )
}

/// An index's descriptor states a platform outside the input's rule. Completes "… whose manifest N …".
pub fn entry_platform(digest: &str, stated: &str) -> Diagnostic {
    Diagnostic::new(
        "E-ASSEMBLE-ENTRY-PLATFORM",
        format!("({digest}) says platform `{stated}`, {PLATFORM_RULE}"),
    )
}

/// A manifest of `media_type`, which no index holds: read as `<reference>` (completing "`<reference>`
/// in <repository> …"), or found inside the index `held_by`.
pub fn unsupported(media_type: &str, held_by: Option<&str>) -> Diagnostic {
    let text = match held_by {
        None => format!(
            "is a `{media_type}` manifest, which an index cannot hold (only OCI and Docker schema 2 images and indexes)."
        ),
        Some(reference) => format!(
            "`{reference}` holds a `{media_type}` manifest: an index holds only OCI and Docker schema 2 images."
        ),
    };
    Diagnostic::new("E-ASSEMBLE-UNSUPPORTED", text)
}

// Why the children cannot make one index: each a whole sentence (see `cannot_assemble`).

/// The image `reference` states no platform: its configuration, or (`in_index`) its descriptor in
/// the index `reference` names.
pub fn no_platform(reference: &str, in_index: bool) -> Diagnostic {
    let text = if in_index {
        format!(
            "`{reference}` holds a manifest without a platform, so it cannot have a place in an index."
        )
    } else {
        format!(
            "`{reference}`: its image configuration states no platform (`os` and `architecture`), so it cannot \
             have a place in an index."
        )
    };
    Diagnostic::new("E-ASSEMBLE-NO-PLATFORM", text)
}

pub fn platform_twice(first: &str, reference: &str, platform: &str) -> Diagnostic {
    Diagnostic::new(
        "E-ASSEMBLE-PLATFORM-TWICE",
        format!(
            "`{first}` and `{reference}` are both {platform}: an index holds one image per platform. Assemble \
             one of them."
        ),
    )
}

/// `docker` and `oci` are the references (quoted, comma-separated) holding each kind.
pub fn mixed(docker: &str, oci: &str) -> Diagnostic {
    Diagnostic::new(
        "E-ASSEMBLE-MIXED",
        format!(
            "{docker} hold Docker schema 2 manifests and {oci} OCI manifests, and no index type holds both: push \
             every platform from the same kind of engine (the containerd image store writes OCI, the classic \
             store Docker schema 2)."
        ),
    )
}

// What stops `read`, naming the reference.

pub fn missing(reference: &str, uri: &str) -> Error {
    error(
        "E-ASSEMBLE-MISSING",
        format!(
            "Input `assemble`: `{reference}` is not in {uri}. Push each platform's image there first (a \
             matrix job per platform), and name it here by its tag or `sha256:` digest. Nothing was written."
        ),
    )
}

/// `why` completes the sentence "`<reference>` in <repository> (<digest>) …".
pub fn unusable(reference: &str, uri: &str, digest: &str, why: &Diagnostic) -> Error {
    let text =
        format!("Input `assemble`: `{reference}` in {uri} ({digest}) {why} Nothing was written.");
    Error::new(within(why, text))
}

pub fn config_size(reference: &str, uri: &str, config: &str, said: u64, got: usize) -> Error {
    error(
        "E-ASSEMBLE-CONFIG-SIZE",
        format!(
            "Input `assemble`: the manifest of `{reference}` in {uri} says its image configuration {config} \
             is {said} bytes, and the registry served {got}. Nothing was written."
        ),
    )
}

pub fn config_platform(reference: &str, uri: &str, config: &str, stated: &str) -> Error {
    error(
        "E-ASSEMBLE-CONFIG-PLATFORM",
        format!(
            "Input `assemble`: the image configuration {config} of `{reference}` in {uri} says platform \
             `{stated}`, {PLATFORM_RULE} Nothing was written."
        ),
    )
}

pub fn cannot_assemble(why: &Diagnostic) -> Error {
    Error::new(within(
        why,
        format!("Input `assemble`: {why} Nothing was written."),
    ))
}

/// A tag's failure: the registry stored the index written under another digest.
pub fn stored_otherwise(stored: &str, made: &str) -> Error {
    error(
        "E-ASSEMBLE-REWRITTEN",
        format!("the registry stored the index as {stored}, not {made}: it rewrote the manifest"),
    )
}

// What the registry's answers are refused for (`http.rs`).

/// A manifest read, as the refusals of its content name it (`repository`: `<host>/<repository>`).
pub fn the_manifest(reference: &str, repository: &str) -> String {
    format!("the manifest `{reference}` in {repository}")
}

pub fn the_blob(digest: &str, repository: &str) -> String {
    format!("the blob {digest} in {repository}")
}

pub fn not_what_was_asked(what: &str, asked: &str, got: &str) -> Error {
    error(
        "E-ASSEMBLE-DIGEST-MISMATCH",
        format!(
            "The registry answered {what} with bytes that hash to {got}, not {asked}: it served other \
             content than the digest names (a corrupt or hostile registry, or a proxy that rewrites). Nothing \
             was written."
        ),
    )
}

pub fn header_disagrees(what: &str, stated: &str, got: &str) -> Error {
    error(
        "E-ASSEMBLE-DIGEST-HEADER",
        format!(
            "The registry says {what} is {stated} (Docker-Content-Digest), but its bytes hash to {got}: it \
             served other content than it names. Nothing was written."
        ),
    )
}

/// The last guard before a digest goes into a URL.
pub fn not_a_digest(digest: &str) -> Error {
    error(
        "E-ASSEMBLE-NOT-DIGEST",
        format!("`{digest}` is not a `sha256:` digest; nothing was read"),
    )
}

/// A redirect to where the action does not go (`why`: "`http://host`, not an `https://` URL", …).
pub fn bad_redirect(path: &str, why: &str) -> Error {
    error("E-ASSEMBLE-REDIRECT", redirect_refused(path, why))
}

/// The redirect's target, on `host`, redirected again.
pub fn redirected_again(path: &str, host: &str) -> Error {
    let why = format!("{host}, which redirected again: the action follows one redirect");
    error("E-ASSEMBLE-REDIRECT-AGAIN", redirect_refused(path, &why))
}

fn redirect_refused(path: &str, why: &str) -> String {
    format!(
        "GET /v2/{path}: the registry redirected to {why}. The action follows a registry's redirect once, \
         only to `https://` (where ECR sends it: S3), so that nothing read can be changed on the way. \
         Nothing was written."
    )
}

/// Where a redirect went that is not a URL.
pub const REDIRECT_NOT_URL: &str = "not a URL";

pub fn redirect_not_https(scheme: &str, host: &str) -> String {
    format!("`{scheme}://{host}`, not an `https://` URL")
}

/// The redirect's target failed (`status`: it answered, with `said`; `None`: no answer, `said` why).
pub fn redirect_failed(path: &str, host: &str, status: Option<u16>, said: &str) -> Error {
    let text = match status {
        Some(status) => {
            format!("GET /v2/{path}: its redirect to {host} answered HTTP {status}: {said}")
        }
        None => format!("GET /v2/{path}: its redirect to {host} failed: {said}"),
    };
    error("E-ASSEMBLE-REDIRECT-FAILED", text)
}

/// A request that kept failing (connections, 5xx, 429) through every attempt.
pub fn request_failed(method: &str, url: &str, attempts: u32, last: &str) -> Error {
    error(
        "E-ASSEMBLE-REQUEST",
        format!("{method} {url} failed {attempts} times, last: {last}"),
    )
}

/// The registry's TLS certificate is not trusted: no retry, which would meet the same certificate.
pub fn untrusted(why: &str) -> Error {
    error("E-REGISTRY-TLS", why.to_owned())
}

/// An answer larger than the action reads for what it should be (`why` says how large).
pub fn too_large(method: &str, url: &str, why: &str) -> Error {
    error("E-ASSEMBLE-TOO-LARGE", format!("{method} {url}: {why}"))
}

/// The registry refused the request for lack of permission: the doctor's explanation.
pub fn denied(doctor: &str) -> Error {
    error("E-ASSEMBLE-DENIED", doctor.to_owned())
}

pub fn login_refused(method: &str, path: &str, said: &str) -> Error {
    error(
        "E-ASSEMBLE-LOGIN",
        format!("The registry did not accept the login for {method} /v2/{path} (HTTP 401): {said}"),
    )
}

pub fn refused(method: &str, path: &str, status: u16, said: &str) -> Error {
    error(
        "E-ASSEMBLE-HTTP",
        format!("{method} /v2/{path}: HTTP {status}: {said}"),
    )
}

/// An upload's `Location` on another host or scheme: the login is not sent there.
pub fn upload_elsewhere(repository: &str, location: &str) -> Error {
    let shown: String = location.chars().take(200).collect();
    error(
        "E-REGISTRY-UPLOAD-ELSEWHERE",
        format!(
            "{repository} told the upload to go to `{shown}`, not to its own https:// host: the login \
             is not sent anywhere else. Check the registry host (and any proxy in between)."
        ),
    )
}
