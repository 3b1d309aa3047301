//! The pure half of `assemble`: what each referenced manifest contributes, and the one index made of
//! them — an OCI image index for OCI manifests, a Docker manifest list for Docker schema 2 manifests —
//! or the refusal that names the reference. No I/O here: `mod.rs` reads, this decides.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::inputs::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest type a tag can hold: indexes, and images of both image stores.
pub const MANIFEST_TYPES: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// The annotation `BuildKit` puts on an attestation manifest's descriptor in an index.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// What one reference stands for, read from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Child {
    /// An image manifest and its platform (from the image configuration); `None` when the
    /// configuration does not say it.
    Image {
        media_type: String,
        digest: String,
        size: usize,
        platform: Option<Platform>,
    },
    /// An index (or manifest list): its descriptors, attestation manifests included.
    Index { entries: Vec<Value> },
}

/// The index to write, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub media_type: &'static str,
    pub body: Vec<u8>,
    pub digest: String,
    /// Each platform's image, with its manifest digest, in order.
    pub platforms: Vec<(Platform, String)>,
}

/// `sha256:<hex>` of `bytes`: a manifest's digest.
pub fn digest_of(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    hash.iter().fold("sha256:".to_owned(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// What a manifest body is: an image (whose platform is read from its configuration, given by
/// `platform_of` from the configuration's digest) or an index.
pub fn kind(media_type: &str, body: &[u8]) -> Result<Kind, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let media_type = value["mediaType"].as_str().unwrap_or(media_type);
    match media_type {
        OCI_INDEX | DOCKER_LIST => Ok(Kind::Index(
            value["manifests"].as_array().cloned().unwrap_or_default(),
        )),
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let config = value["config"]["digest"].as_str();
            let config = config.ok_or("an image manifest without a configuration")?;
            Ok(Kind::Image {
                media_type: media_type.to_owned(),
                config: config.to_owned(),
            })
        }
        other => Err(format!(
            "a `{other}` manifest, which an index cannot hold (only OCI and Docker schema 2 images and indexes)"
        )),
    }
}

/// A manifest's kind, before an image's platform is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Image { media_type: String, config: String },
    Index(Vec<Value>),
}

/// The platform an image configuration states; `None` without `os` and `architecture`.
pub fn platform_in_config(config: &[u8]) -> Option<Platform> {
    platform_fields(&serde_json::from_slice(config).ok()?)
}

/// `os`, `architecture` and `variant` of a configuration or of a descriptor's `platform`.
fn platform_fields(value: &Value) -> Option<Platform> {
    let text = |key: &str| {
        value[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(Platform {
        os: text("os")?,
        architecture: text("architecture")?,
        variant: text("variant"),
    })
}

/// The index made of `children` (each with the reference it was read from), or why it cannot be.
pub fn build(children: &[(String, Child)]) -> Result<Index, String> {
    let mut descriptors: Vec<(String, Value)> = Vec::new();
    for (reference, child) in children {
        match child {
            Child::Image {
                media_type,
                digest,
                size,
                platform,
            } => {
                let platform = platform.as_ref().ok_or_else(|| {
                    format!(
                        "`{reference}`: its image configuration states no platform (`os` and \
                         `architecture`), so it cannot have a place in an index."
                    )
                })?;
                let mut descriptor =
                    json!({ "mediaType": media_type, "digest": digest, "size": size });
                descriptor["platform"] = platform_json(platform);
                descriptors.push((reference.clone(), descriptor));
            }
            Child::Index { entries } => {
                descriptors.extend(entries.iter().map(|e| (reference.clone(), e.clone())));
            }
        }
    }
    let media_type = index_type(&descriptors)?;
    let mut platforms: Vec<(Platform, String)> = Vec::new();
    let mut seen: Vec<(Platform, &str)> = Vec::new();
    for (reference, descriptor) in &descriptors {
        if is_attestation(descriptor) {
            continue;
        }
        let platform = platform_from(&descriptor["platform"]).ok_or_else(|| {
            format!("`{reference}` holds a manifest without a platform, so it cannot have a place in an index.")
        })?;
        // By how Docker names them: `linux/arm64` is `linux/arm64/v8`.
        if let Some((_, first)) = seen
            .iter()
            .find(|(p, _)| p.to_string() == platform.to_string())
        {
            return Err(format!(
                "`{first}` and `{reference}` are both {platform}: an index holds one image per platform. \
                 Assemble one of them."
            ));
        }
        seen.push((platform.clone(), reference));
        let digest = descriptor["digest"].as_str().unwrap_or_default().to_owned();
        platforms.push((platform, digest));
    }
    let manifests: Vec<Value> = descriptors.into_iter().map(|(_, d)| d).collect();
    let body = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    }))
    .map_err(|e| e.to_string())?;
    Ok(Index {
        media_type,
        digest: digest_of(&body),
        body,
        platforms,
    })
}

/// A Docker manifest list when every entry is a Docker schema 2 image, an OCI index when every entry
/// is an OCI image; a mix has no index type that holds it.
fn index_type(descriptors: &[(String, Value)]) -> Result<&'static str, String> {
    let of = |wanted: &str| -> Vec<&str> {
        let matching = descriptors.iter().filter(|(_, d)| d["mediaType"] == wanted);
        let mut references: Vec<&str> = matching.map(|(r, _)| r.as_str()).collect();
        references.dedup();
        references
    };
    let (docker, oci) = (of(DOCKER_MANIFEST), of(OCI_MANIFEST));
    if let Some((reference, d)) = descriptors
        .iter()
        .find(|(_, d)| d["mediaType"] != DOCKER_MANIFEST && d["mediaType"] != OCI_MANIFEST)
    {
        return Err(format!(
            "`{reference}` holds a `{}` manifest: an index holds only OCI and Docker schema 2 images.",
            d["mediaType"].as_str().unwrap_or("(no media type)")
        ));
    }
    match (docker.is_empty(), oci.is_empty()) {
        (_, true) => Ok(DOCKER_LIST),
        (true, false) => Ok(OCI_INDEX),
        (false, false) => Err(format!(
            "{} hold Docker schema 2 manifests and {} OCI manifests, and no index type holds both: \
             push every platform from the same kind of engine (the containerd image store writes OCI, \
             the classic store Docker schema 2).",
            quoted(&docker),
            quoted(&oci)
        )),
    }
}

fn quoted(references: &[&str]) -> String {
    let quoted: Vec<String> = references.iter().map(|r| format!("`{r}`")).collect();
    quoted.join(", ")
}

fn is_attestation(descriptor: &Value) -> bool {
    descriptor["annotations"][REFERENCE_TYPE] == "attestation-manifest"
}

fn platform_from(value: &Value) -> Option<Platform> {
    platform_fields(value).filter(|p| p.os != "unknown")
}

fn platform_json(platform: &Platform) -> Value {
    let mut value = json!({ "architecture": platform.architecture, "os": platform.os });
    if let Some(variant) = &platform.variant {
        value["variant"] = variant.clone().into();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(media_type: &str, digest: &str, platform: Option<&str>) -> Child {
        Child::Image {
            media_type: media_type.into(),
            digest: digest.into(),
            size: 500,
            platform: platform.map(|p| Platform::parse(p).expect("platform")),
        }
    }

    fn pair(reference: &str, child: Child) -> (String, Child) {
        (reference.into(), child)
    }

    #[test]
    fn docker_images_make_a_manifest_list() {
        let index = build(&[
            pair(
                "app-amd64",
                image(DOCKER_MANIFEST, "sha256:a", Some("linux/amd64")),
            ),
            pair(
                "app-arm64",
                image(DOCKER_MANIFEST, "sha256:b", Some("linux/arm64/v8")),
            ),
        ])
        .expect("valid");
        assert_eq!(index.media_type, DOCKER_LIST);
        let body: Value = serde_json::from_slice(&index.body).expect("JSON");
        assert_eq!(body["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(body["manifests"][0]["digest"], "sha256:a");
        assert_eq!(index.digest, digest_of(&index.body));
        let shown: Vec<String> = index
            .platforms
            .iter()
            .map(|(p, d)| format!("{p} {d}"))
            .collect();
        assert_eq!(shown, ["linux/amd64 sha256:a", "linux/arm64 sha256:b"]);
    }

    #[test]
    fn an_index_child_gives_its_entries_attestations_included() {
        let entries = vec![
            json!({"mediaType": OCI_MANIFEST, "digest": "sha256:c", "size": 1, "platform": {"os": "linux", "architecture": "arm64"}}),
            json!({"mediaType": OCI_MANIFEST, "digest": "sha256:d", "size": 1,
                   "platform": {"os": "unknown", "architecture": "unknown"},
                   "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": "sha256:c"}}),
        ];
        let index = build(&[
            pair(
                "amd64",
                image(OCI_MANIFEST, "sha256:a", Some("linux/amd64")),
            ),
            pair("arm64", Child::Index { entries }),
        ])
        .expect("valid");
        assert_eq!(index.media_type, OCI_INDEX);
        let body: Value = serde_json::from_slice(&index.body).expect("JSON");
        assert_eq!(body["manifests"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            body["manifests"][2]["annotations"]["vnd.docker.reference.digest"],
            "sha256:c"
        );
        assert_eq!(index.platforms.len(), 2);
    }

    #[test]
    fn refusals_name_the_references() {
        let twice = build(&[
            pair("one", image(OCI_MANIFEST, "sha256:a", Some("linux/amd64"))),
            pair("two", image(OCI_MANIFEST, "sha256:b", Some("linux/amd64"))),
        ])
        .expect_err("same platform");
        assert!(
            twice.contains("`one` and `two` are both linux/amd64"),
            "{twice}"
        );
        let mixed = build(&[
            pair("d", image(DOCKER_MANIFEST, "sha256:a", Some("linux/amd64"))),
            pair("o", image(OCI_MANIFEST, "sha256:b", Some("linux/arm64"))),
        ])
        .expect_err("mix");
        assert!(
            mixed.contains("`d` hold Docker schema 2") && mixed.contains("`o` OCI"),
            "{mixed}"
        );
        let unknown =
            build(&[pair("x", image(OCI_MANIFEST, "sha256:a", None))]).expect_err("no platform");
        assert!(
            unknown.starts_with("`x`: its image configuration states no platform"),
            "{unknown}"
        );
    }

    #[test]
    fn kinds_and_configurations_are_read() {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:c"}}"#;
        assert_eq!(
            kind("", manifest),
            Ok(Kind::Image {
                media_type: OCI_MANIFEST.into(),
                config: "sha256:c".into()
            })
        );
        assert!(kind(DOCKER_MANIFEST, b"{\"schemaVersion\":1}").is_err());
        assert!(
            kind(
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                b"{}"
            )
            .is_err()
        );
        assert_eq!(
            platform_in_config(br#"{"os":"linux","architecture":"arm","variant":"v7"}"#),
            Some(Platform::parse("linux/arm/v7").expect("platform"))
        );
        assert_eq!(platform_in_config(br#"{"os":"linux"}"#), None);
    }
}
