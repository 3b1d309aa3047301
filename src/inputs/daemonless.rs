//! `local-image` naming an image on disk rather than in a daemon: `oci-layout:DIR[:TAG|@DIGEST]` (an
//! OCI image layout, as `docker buildx build --output type=oci,tar=false`, Jib, ko, `rules_oci` or
//! `skopeo copy … oci:` write it), `oci-archive:FILE[:TAG|@DIGEST]` (that layout in a tar) and
//! `docker-archive:FILE` (what `docker save` writes) — the transports' names `skopeo` uses. Only the
//! shape is checked here; the files are read in the run's first step, before any AWS call.

use std::path::PathBuf;

use super::names::{RepositoryName, is_sha256_digest, items, repository_rule};
use super::problem::{Checked, Problem, problem};
use super::raw::RawInputs;

/// The kind of file an image is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A directory holding `oci-layout`, `index.json` and `blobs/`.
    OciLayout,
    /// A tar of such a directory.
    OciArchive,
    /// `docker save`'s tar: `manifest.json` (and, from Docker 25, an OCI layout beside it).
    DockerArchive,
}

impl ArchiveKind {
    pub fn prefix(self) -> &'static str {
        match self {
            ArchiveKind::OciLayout => "oci-layout:",
            ArchiveKind::OciArchive => "oci-archive:",
            ArchiveKind::DockerArchive => "docker-archive:",
        }
    }
}

/// Which image of the layout: its `org.opencontainers.image.ref.name` annotation, or its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Tag(String),
    Digest(String),
}

/// An image on disk, to be pushed without a daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDisk {
    pub kind: ArchiveKind,
    pub path: PathBuf,
    /// `None`: the layout's only image.
    pub selector: Option<Selector>,
}

/// `Some` when `value` names an image on disk (a checked shape), `None` for a daemon's image.
pub fn rule(value: &str) -> Option<Checked<OnDisk>> {
    let kinds = [
        ArchiveKind::OciLayout,
        ArchiveKind::OciArchive,
        ArchiveKind::DockerArchive,
    ];
    let kind = kinds.into_iter().find(|k| value.starts_with(k.prefix()))?;
    let rest = &value[kind.prefix().len()..];
    Some(parse(kind, rest).ok_or_else(|| malformed(value)))
}

fn parse(kind: ArchiveKind, rest: &str) -> Option<OnDisk> {
    let (path, selector) = match rest.rsplit_once('@') {
        Some((path, digest)) if is_sha256_digest(digest) => {
            (path, Some(Selector::Digest(digest.to_owned())))
        }
        _ => match rest.rsplit_once(':') {
            Some((path, tag)) if is_tag(tag) => (path, Some(Selector::Tag(tag.to_owned()))),
            _ => (rest, None),
        },
    };
    let docker_with_selector = kind == ArchiveKind::DockerArchive && selector.is_some();
    if path.is_empty() || path.contains('\0') || docker_with_selector {
        return None;
    }
    Some(OnDisk {
        kind,
        path: PathBuf::from(path),
        selector,
    })
}

/// An OCI reference name as a layout's `ref.name` holds a tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn malformed(value: &str) -> Problem {
    let shown: String = value.chars().take(120).collect();
    let text = format!(
        "`{shown}` is not an image on disk: write oci-layout:DIR[:TAG|@sha256:DIGEST], \
         oci-archive:FILE[:TAG|@sha256:DIGEST] or docker-archive:FILE."
    );
    problem("local-image", "E-INPUT-IMAGE-ON-DISK", text)
}

/// `mount-from`: repositories of each destination's registry whose layers an image on disk mounts
/// rather than uploads (ECR's blob mounting, within one registry); each a repository name, once,
/// not the one pushed to. Private ECR only: ECR Public's documentation says nothing of mounting.
pub fn mount_from_rule(raw: &RawInputs, public: bool) -> Checked<Vec<RepositoryName>> {
    let (Some(value), repository) = (raw.mount_from.as_deref(), raw.repository.as_deref()) else {
        return Ok(Vec::new());
    };
    if public {
        let text = "`mount-from` is for private ECR (blob mounting within a registry); ECR Public does \
                    not document it. Remove `mount-from`.";
        return Err(problem("mount-from", "E-INPUT-MOUNT-FROM", text));
    }
    let mut names: Vec<RepositoryName> = Vec::new();
    for name in items(value) {
        let shown: String = name.chars().take(120).collect();
        let why = match repository_rule(Some(name)) {
            Err(_) => {
                "is not a repository name (2–256 characters: lowercase letters and digits, separated \
                 by `.`, `_`, `-` or `/`)"
            }
            Ok(_) if repository == Some(name) => {
                "is the repository pushed to: a blob is mounted from another one"
            }
            Ok(_) if names.iter().any(|n| n.as_str() == name) => "is listed twice",
            Ok(checked) => {
                names.push(checked);
                continue;
            }
        };
        let text = format!("`mount-from`: `{shown}` {why}.");
        return Err(problem("mount-from", "E-INPUT-MOUNT-FROM", text));
    }
    Ok(names)
}

/// `mount-from` names where an image on disk's layers may already be; a daemon's image is pushed by
/// the engine, which mounts what it knows of itself, and `assemble` uploads no blob.
pub fn mount_from_without_image_on_disk() -> Problem {
    let text = "`mount-from` is for an image on disk (oci-layout:, oci-archive:, docker-archive:), \
                whose blobs the action uploads itself; a daemon's push mounts what the engine knows. \
                Remove `mount-from`.";
    problem("mount-from", "E-INPUT-MOUNT-FROM", text)
}

/// `platform` picks an image of a daemon's multi-platform image; an image on disk is pushed whole.
pub fn platform_with_image_on_disk() -> Problem {
    let text = "`platform` is for an image in a daemon: an image on disk (oci-layout:, oci-archive:, \
                docker-archive:) is pushed as it is. Select a platform's manifest with @sha256:DIGEST.";
    problem("platform", "E-INPUT-PLATFORM-ON-DISK", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_on_disk_are_named_as_skopeo_names_them() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let on_disk = |v: &str| rule(v).map(|c| c.map_err(|p| p.code));
        assert_eq!(on_disk("app:1.0"), None, "a daemon's image");
        assert_eq!(
            on_disk("oci-layout:/tmp/out:v1"),
            Some(Ok(OnDisk {
                kind: ArchiveKind::OciLayout,
                path: PathBuf::from("/tmp/out"),
                selector: Some(Selector::Tag("v1".to_owned())),
            }))
        );
        assert_eq!(
            on_disk(&format!("oci-archive:build/img.tar@{digest}")),
            Some(Ok(OnDisk {
                kind: ArchiveKind::OciArchive,
                path: PathBuf::from("build/img.tar"),
                selector: Some(Selector::Digest(digest.clone())),
            }))
        );
        assert_eq!(
            on_disk("docker-archive:./saved.tar")
                .and_then(Result::ok)
                .map(|d| d.selector),
            Some(None)
        );
        for bad in ["oci-layout:", "docker-archive:a.tar:v1", "oci-archive::v1"] {
            assert_eq!(on_disk(bad), Some(Err("E-INPUT-IMAGE-ON-DISK")), "{bad}");
        }
    }

    #[test]
    fn mount_from_names_other_repositories_of_private_ecr_once_each() {
        let rule = |value: Option<&str>, public| {
            let raw = RawInputs {
                repository: Some("team/api".to_owned()),
                mount_from: value.map(str::to_owned),
                ..RawInputs::default()
            };
            mount_from_rule(&raw, public)
                .map(|names| names.iter().map(|n| n.as_str().to_owned()).collect())
                .map_err(|p| p.code)
        };
        assert_eq!(rule(None, false), Ok(Vec::<String>::new()));
        assert_eq!(
            rule(Some("base/runtime, team/base\nshared"), false),
            Ok(vec![
                "base/runtime".to_owned(),
                "team/base".to_owned(),
                "shared".to_owned()
            ])
        );
        for bad in ["Base", "team/api", "a b a", "x"] {
            assert_eq!(rule(Some(bad), false), Err("E-INPUT-MOUNT-FROM"), "{bad}");
        }
        assert_eq!(rule(Some("base"), true), Err("E-INPUT-MOUNT-FROM"));
    }
}
