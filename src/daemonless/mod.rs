//! Images on disk, pushed without a daemon (`local-image: oci-layout:DIR`, `oci-archive:FILE`,
//! `docker-archive:FILE`): the image read and checked first — every manifest and index hashed against
//! its digest, every blob found with its stated size — before any AWS call, then uploaded through the
//! registry's API with the login in memory (upload.rs), each blob hashed as it is sent.
//!
//! OCI image layout: `oci-layout`, `index.json`, `blobs/<algorithm>/<hex>` (OCI image-spec,
//! "image-layout.md"); a tag is an index entry's `org.opencontainers.image.ref.name`. `docker save`
//! before Docker 25 writes `manifest.json` (`Config`, `Layers` — uncompressed tars whose digests are
//! the configuration's `rootfs.diff_ids`): such an image is pushed as an OCI manifest of those
//! uncompressed layers; from Docker 25 the archive is an OCI layout too, read as one.

pub mod advice;
mod compress;
mod files;
pub mod image;
mod legacy;
pub mod retag;
pub mod saved;
pub mod upload;

use anyhow::Result;
use serde_json::Value;

use crate::assemble::index::{DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, digest_of, platform_in_config};
use crate::inputs::{ArchiveKind, OnDisk, Platform, Selector, is_sha256_digest};
use files::Files;
use image::{Blob, Document, Image};

const INDEX_TYPES: [&str; 2] = [OCI_INDEX, DOCKER_LIST];
/// Manifests and indexes: ECR's limit, 4 MiB; a legacy archive's `manifest.json` the same.
const DOCUMENT_CAP: u64 = 4 << 20;

/// Reads the image `source` names, checking every document; nothing is sent anywhere.
pub fn read(source: &OnDisk) -> Result<Image> {
    let files = match source.kind {
        ArchiveKind::OciLayout => Files::dir(&source.path)?,
        ArchiveKind::OciArchive | ArchiveKind::DockerArchive => Files::tar(&source.path)?,
    };
    let legacy = source.kind == ArchiveKind::DockerArchive && files.find("index.json").is_none();
    if legacy {
        return legacy::read(&files);
    }
    let index: Value = files::json(&files.read("index.json", DOCUMENT_CAP)?, "index.json")?;
    let descriptor = select(&index, source.selector.as_ref())?;
    let top = document(&files, &descriptor)?;
    let mut image = Image {
        top: top.clone(),
        children: Vec::new(),
        blobs: Vec::new(),
        platforms: Vec::new(),
    };
    if INDEX_TYPES.contains(&top.media_type.as_str()) {
        let index: Value = files::json(&top.body, &top.digest)?;
        for child in index["manifests"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let manifest = document(&files, child)?;
            if INDEX_TYPES.contains(&manifest.media_type.as_str()) {
                return Err(advice::malformed(
                    &manifest.digest,
                    "an index inside an index",
                ));
            }
            add_blobs(&files, &manifest, &mut image.blobs)?;
            if let Some(platform) = platform_of(&child["platform"]) {
                image.platforms.push((platform, manifest.digest.clone()));
            }
            image.children.push(manifest);
        }
    } else {
        let config = add_blobs(&files, &top, &mut image.blobs)?;
        let stated = files::read(&config.at, &config.digest, 8 << 20)?;
        if let Ok(Some(platform)) = platform_in_config(&stated) {
            image.platforms.push((platform, top.digest.clone()));
        }
    }
    Ok(image)
}

/// The index entry the selector names: by `ref.name`, by digest, or the only one.
fn select(index: &Value, selector: Option<&Selector>) -> Result<Value> {
    let entries = index["manifests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let name = |e: &Value| {
        e["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .map(str::to_owned)
    };
    let names: Vec<String> = entries.iter().filter_map(name).collect();
    let found = match selector {
        Some(Selector::Tag(tag)) => entries.iter().find(|e| name(e).as_deref() == Some(tag)),
        Some(Selector::Digest(d)) => entries.iter().find(|e| e["digest"] == d.as_str()),
        None if entries.len() == 1 => entries.first(),
        None if entries.is_empty() => return Err(advice::no_such_image("at all", &names)),
        None => return Err(advice::several_images(&names)),
    };
    let shown = match selector {
        Some(Selector::Tag(t)) => format!("named `{t}`"),
        Some(Selector::Digest(d)) => format!("with digest {d}"),
        None => String::new(),
    };
    found
        .cloned()
        .ok_or_else(|| advice::no_such_image(&shown, &names))
}

/// The document a descriptor points to, read whole and checked against its digest.
fn document(files: &Files, descriptor: &Value) -> Result<Document> {
    let digest = descriptor["digest"].as_str().unwrap_or_default();
    let name = blob_name(digest)?;
    let body = files.read(&name, DOCUMENT_CAP)?;
    let got = digest_of(&body);
    if got != digest {
        return Err(advice::not_what_it_says(&name, digest, &got));
    }
    let stated: Value = files::json(&body, digest)?;
    let media_type = descriptor["mediaType"]
        .as_str()
        .or(stated["mediaType"].as_str())
        .unwrap_or(OCI_MANIFEST)
        .to_owned();
    Ok(Document {
        media_type,
        digest: digest.to_owned(),
        body,
    })
}

/// An image manifest's configuration and layers added to `blobs` (once each); its configuration.
fn add_blobs(files: &Files, manifest: &Document, blobs: &mut Vec<Blob>) -> Result<Blob> {
    let value: Value = files::json(&manifest.body, &manifest.digest)?;
    let layers = value["layers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut config = None;
    for descriptor in std::iter::once(&value["config"]).chain(layers) {
        let digest = descriptor["digest"].as_str().unwrap_or_default();
        let name = blob_name(digest)?;
        let at = files.find(&name).ok_or_else(|| advice::missing(&name))?;
        if descriptor["size"].as_u64() != Some(at.size) {
            let why = format!(
                "{} bytes, not the {} its descriptor states",
                at.size, descriptor["size"]
            );
            return Err(advice::malformed(&name, &why));
        }
        let blob = Blob {
            digest: digest.to_owned(),
            at,
        };
        config.get_or_insert_with(|| blob.clone());
        if !blobs.iter().any(|b| b.digest == blob.digest) {
            blobs.push(blob);
        }
    }
    config.ok_or_else(|| advice::malformed(&manifest.digest, "a manifest without a configuration"))
}

/// `blobs/sha256/<hex>` for a `sha256:` digest (the only algorithm ECR takes).
fn blob_name(digest: &str) -> Result<String> {
    if !is_sha256_digest(digest) {
        return Err(advice::malformed(
            "a descriptor",
            &format!("`{digest}` is not a sha256 digest"),
        ));
    }
    Ok(format!("blobs/sha256/{}", &digest["sha256:".len()..]))
}

/// A descriptor's platform; none for an attestation manifest's (`unknown`).
fn platform_of(platform: &Value) -> Option<Platform> {
    Platform::stated(platform)
        .ok()
        .flatten()
        .filter(|p| p.os != "unknown")
}
