//! What pushing an image on disk says: each problem a named constructor with its stable code.

use std::path::Path;

use anyhow::Error;

use crate::diagnostic::error;

pub fn not_a_directory(path: &Path) -> Error {
    error(
        "E-ONDISK-UNREADABLE",
        format!(
            "`{}` is not a directory (oci-layout: names the layout's directory).",
            path.display()
        ),
    )
}

pub fn unreadable(path: &Path, why: &std::io::Error) -> Error {
    error(
        "E-ONDISK-UNREADABLE",
        format!("`{}` cannot be read: {why}.", path.display()),
    )
}

pub fn not_a_tar(path: &Path, why: &std::io::Error) -> Error {
    error(
        "E-ONDISK-UNREADABLE",
        format!("`{}` is not a readable tar archive: {why}.", path.display()),
    )
}

pub fn missing(name: &str) -> Error {
    error(
        "E-ONDISK-INCOMPLETE",
        format!("The image on disk has no `{name}`: the layout or archive is incomplete."),
    )
}

pub fn too_large(name: &str, size: u64, cap: u64) -> Error {
    error(
        "E-ONDISK-MALFORMED",
        format!("`{name}` is {size} bytes, more than the {cap} such a document may have."),
    )
}

pub fn truncated(name: &str) -> Error {
    error(
        "E-ONDISK-INCOMPLETE",
        format!("`{name}` ends before its stated size: the archive is truncated."),
    )
}

pub fn malformed(name: &str, why: &str) -> Error {
    error(
        "E-ONDISK-MALFORMED",
        format!("`{name}` is not what an image layout holds there: {why}."),
    )
}

pub fn not_what_it_says(name: &str, stated: &str, got: &str) -> Error {
    error(
        "E-ONDISK-DIGEST",
        format!(
            "`{name}` hashes to {got}, not to {stated} as the layout names it: the image on disk is \
             corrupted; nothing was written under any tag."
        ),
    )
}

pub fn no_such_image(selector: &str, names: &[String]) -> Error {
    error(
        "E-ONDISK-NO-SUCH-IMAGE",
        format!(
            "The layout has no image {selector}; it has: {}.",
            if names.is_empty() {
                "no named image".to_owned()
            } else {
                names.join(", ")
            }
        ),
    )
}

pub fn several_images(names: &[String]) -> Error {
    error(
        "E-ONDISK-WHICH-IMAGE",
        format!(
            "The layout holds {} images ({}): name one, e.g. oci-layout:DIR:TAG or @sha256:DIGEST.",
            names.len(),
            names.join(", ")
        ),
    )
}

pub fn blob_corrupt(digest: &str, why: &str) -> Error {
    error(
        "E-ONDISK-DIGEST",
        format!(
            "The blob {digest} of the image on disk {why}: it is corrupted. Nothing was written under \
             any tag; rebuild or re-export the image."
        ),
    )
}

pub fn upload_failed(digest: &str, attempts: u32, why: &str) -> Error {
    error(
        "E-ONDISK-UPLOAD",
        format!(
            "The upload of blob {digest} failed {attempts} times: {why}. Nothing was written under any tag."
        ),
    )
}

/// A part of a blob's upload (bytes `first` to `last`, both included, as its `Content-Range`)
/// failed transiently: it goes again.
pub fn part_again(digest: &str, first: u64, last: u64, attempt: u32, of: u32, why: &str) -> String {
    format!(
        "Blob {digest}: bytes {first}–{last} failed (attempt {attempt} of {of}): {why}; sending them again"
    )
}

/// A blob's upload failed short of the registry keeping it: a new upload of it begins.
pub fn upload_again(digest: &str, attempt: u32, of: u32, why: &str) -> String {
    format!(
        "Blob {digest}: the upload failed (attempt {attempt} of {of}): {why}; starting a new one"
    )
}

/// `mounted`: how many blobs came from each `mount-from` repository.
pub fn pushed(
    uri: &str,
    uploaded: usize,
    mounted: &[(String, usize)],
    present: usize,
    digest: &str,
) -> String {
    let mut ways = vec![format!("{uploaded} uploaded")];
    ways.extend(
        (mounted.iter())
            .filter(|(_, n)| *n > 0)
            .map(|(from, n)| format!("{n} mounted from {from}")),
    );
    ways.push(format!("{present} already present"));
    let all = uploaded + present + mounted.iter().map(|(_, n)| n).sum::<usize>();
    format!("{uri}: {all} blobs: {} — digest {digest}", ways.join(", "))
}

/// A `mount-from` repository could not be asked whether it holds a blob.
pub fn source_unreadable(source: &str, why: &Error) -> String {
    format!(
        "mount-from: whether {source} holds the image's blobs could not be read ({why:#}); its blobs \
         are uploaded instead. Mounting needs ecr:BatchCheckLayerAvailability and \
         ecr:GetDownloadUrlForLayer on {source} (`ecr-push-action policy --mount-from {source}`)."
    )
}

/// The registry refused to mount from a `mount-from` repository.
pub fn mount_refused(source: &str, why: &Error) -> String {
    format!(
        "mount-from: the registry refused to mount blobs from {source} ({why:#}); they are uploaded \
         instead. Mounting needs ecr:GetDownloadUrlForLayer on {source}."
    )
}

/// The registry answered a mount with an upload: it does not mount.
pub fn not_mounted(repository: &str, source: &str) -> String {
    format!(
        "mount-from: the registry did not mount blobs from {source} into {repository}, but began \
         uploads, so they are uploaded: its blob mounting is off (`aws ecr put-account-setting --name \
         BLOB_MOUNTING --value ENABLED`), or the two repositories' encryption differs."
    )
}

/// What was read: `index` or `image`, its digest, how many blobs, and its platforms.
pub fn read(
    on_disk: &crate::inputs::OnDisk,
    what: &str,
    digest: &str,
    blobs: usize,
    platforms: &[String],
) -> String {
    let platforms = if platforms.is_empty() {
        String::new()
    } else {
        format!(", {}", platforms.join(", "))
    };
    format!(
        "{}{}: {what} {digest} ({blobs} blobs{platforms}), no daemon needed",
        on_disk.kind.prefix(),
        on_disk.path.display(),
    )
}

/// The classic store's image saved and compressed once, for the upload to every destination.
pub fn saved(
    reference: &str,
    archive_bytes: u64,
    (layers, before, after): (usize, u64, u64),
    took: std::time::Duration,
    destinations: usize,
) -> String {
    #[allow(clippy::cast_precision_loss)] // a size shown to one decimal
    let mb = |bytes: u64| match bytes {
        0..10_000 => format!("{bytes} bytes"),
        10_000..10_000_000 => format!("{:.0} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    };
    let layers = match layers {
        1 => "1 layer".to_owned(),
        n => format!("{n} layers"),
    };
    format!(
        "Saved {reference} from the daemon once ({}) and gzip-compressed its {layers} once ({} → {}) \
         in {:.2} s; uploading them to the {destinations} destinations at once (the classic image \
         store's daemon would push one destination after another, compressing each time).",
        mb(archive_bytes),
        mb(before),
        mb(after),
        took.as_secs_f64(),
    )
}

/// Saving the image for the action's own upload failed: the daemon pushes instead.
pub fn not_saved(why: &Error) -> String {
    format!(
        "The image could not be saved once for every destination ({why:#}); the daemon pushes it to \
         one destination after another instead."
    )
}

/// The repository held the image already: its tags were written without a push.
pub fn retagged(uri: &str, digest: &str, tags: &[&str]) -> String {
    format!(
        "{uri} already holds this image ({digest}): tagged {} there through the registry's API, with \
         nothing to push",
        tags.join(", ")
    )
}

/// The registry stored a manifest under another digest than that of the bytes sent.
pub fn stored_as(stored: &str, sent: &str) -> Error {
    error(
        "E-REGISTRY-DIGEST",
        format!(
            "the registry stored the manifest as {stored}, not {sent} (the digest of the bytes sent); \
             check what stands between the runner and the registry"
        ),
    )
}
