//! `docker save` before Docker 25: `manifest.json` naming one image's `Config` and its `Layers`,
//! uncompressed tars whose digests are the configuration's `rootfs.diff_ids` — pushed as an OCI image
//! manifest of those uncompressed layers (`application/vnd.oci.image.layer.v1.tar`).

use anyhow::Result;
use serde_json::{Value, json};

use super::advice;
use super::files::{self, At, Files};
use super::image::{Blob, Document, Image};
use crate::assemble::index::{OCI_MANIFEST, digest_of, platform_in_config};

/// The archive's one image, as an OCI manifest.
pub fn read(files: &Files) -> Result<Image> {
    let listed = files::json(&files.read("manifest.json", 4 << 20)?, "manifest.json")?;
    let entries = listed.as_array().map(Vec::as_slice).unwrap_or_default();
    let [entry] = entries else {
        let tag = |e: &Value| Some(e["RepoTags"].get(0)?.as_str()?.to_owned());
        let names: Vec<String> = entries.iter().filter_map(tag).collect();
        return Err(advice::several_images(&names));
    };
    let config_name = entry["Config"].as_str().unwrap_or_default();
    let config_at = files
        .find(config_name)
        .ok_or_else(|| advice::missing(config_name))?;
    let config = files::read(&config_at, config_name, 8 << 20)?;
    let diff_ids: Vec<String> = files::json(&config, config_name)?["rootfs"]["diff_ids"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    let layers: Vec<&str> = entry["Layers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| l.as_str().unwrap_or_default())
        .collect();
    if layers.len() != diff_ids.len() {
        return Err(advice::malformed(
            config_name,
            "its diff_ids do not match the archive's layers",
        ));
    }
    let mut layer_blobs = Vec::new();
    for (name, diff_id) in layers.iter().zip(diff_ids) {
        let at = files.find(name).ok_or_else(|| advice::missing(name))?;
        layer_blobs.push(Blob {
            digest: diff_id,
            at,
        });
    }
    Ok(as_oci(&config, config_at, layer_blobs))
}

/// The OCI image manifest of the configuration and the uncompressed layers, and its blobs.
fn as_oci(config: &[u8], config_at: At, layers: Vec<Blob>) -> Image {
    let config_digest = digest_of(config);
    let descriptors: Vec<Value> = layers
        .iter()
        .map(|b| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": b.digest, "size": b.at.size}))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    });
    let body = manifest.to_string().into_bytes();
    let digest = digest_of(&body);
    let platforms = match platform_in_config(config) {
        Ok(Some(platform)) => vec![(platform, digest.clone())],
        _ => Vec::new(),
    };
    let mut blobs = vec![Blob {
        digest: config_digest,
        at: config_at,
    }];
    for layer in layers {
        if !blobs.iter().any(|b| b.digest == layer.digest) {
            blobs.push(layer);
        }
    }
    Image {
        top: Document {
            media_type: OCI_MANIFEST.to_owned(),
            digest,
            body,
        },
        children: Vec::new(),
        blobs,
        platforms,
    }
}
