//! The pure half of `assemble`: what each referenced manifest contributes, and the one index made of
//! them — an OCI image index for OCI manifests, a Docker manifest list for Docker schema 2 manifests —
//! or the refusal that names the reference (told in `advice.rs`). No I/O here: `mod.rs` reads, this
//! decides.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::advice;
use crate::diagnostic::Diagnostic;
use crate::inputs::{Platform, is_sha256_digest};

pub use crate::aws::registry::repository::{
    DOCKER_LIST, DOCKER_MANIFEST, MANIFEST_TYPES, OCI_INDEX, OCI_MANIFEST, REFERENCE_TYPE,
};

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
    Index { entries: Vec<Entry> },
}

/// One descriptor of an index the registry served, checked before anything uses it: its digest,
/// media type and size in the OCI grammar, its platform (if it states one) under the `platform`
/// input's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As the registry sent it (annotations and all): written into the new index unchanged.
    pub descriptor: Value,
    pub media_type: String,
    pub digest: String,
    /// `None` when it states none, or `unknown` (an attestation manifest's).
    pub platform: Option<Platform>,
    pub attestation: bool,
}

/// An image manifest's configuration descriptor, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub digest: String,
    pub size: u64,
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
    digest_text(&Sha256::digest(bytes))
}

/// `sha256:<hex>` of a SHA-256 hash already made (of bytes hashed as they were sent).
pub fn digest_text(hash: &[u8]) -> String {
    hash.iter().fold("sha256:".to_owned(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// What a manifest body is: an image (with its configuration's descriptor) or an index (with its
/// descriptors). The error completes "`<reference>` in <repository> …" as a sentence.
pub fn content(media_type: &str, body: &[u8]) -> Result<Content, Diagnostic> {
    let value: Value = serde_json::from_slice(body).map_err(|e| advice::not_json(&e))?;
    let media_type = value["mediaType"].as_str().unwrap_or(media_type);
    match media_type {
        OCI_INDEX | DOCKER_LIST => {
            let listed = value["manifests"].as_array().map_or(&[][..], Vec::as_slice);
            let entries = listed.iter().enumerate().map(|(at, descriptor)| {
                entry(descriptor).map_err(|why| advice::in_index(at + 1, &why))
            });
            Ok(Content::Index(entries.collect::<Result<_, _>>()?))
        }
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let config = &value["config"];
            if !config.is_object() {
                return Err(advice::without_configuration());
            }
            let (_, digest, size) =
                checked_descriptor(config).map_err(|why| advice::in_configuration(&why))?;
            Ok(Content::Image {
                media_type: media_type.to_owned(),
                config: Config { digest, size },
            })
        }
        other => Err(advice::unsupported(other, None)),
    }
}

/// What a manifest holds (an image, or an index of entries), before an image's platform is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Image { media_type: String, config: Config },
    Index(Vec<Entry>),
}

/// One descriptor of an index, checked; the error completes "… whose manifest N …".
fn entry(descriptor: &Value) -> Result<Entry, Diagnostic> {
    let (media_type, digest, _) = checked_descriptor(descriptor)?;
    let platform = Platform::stated(&descriptor["platform"])
        .map_err(|stated| advice::entry_platform(&digest, &stated))?;
    Ok(Entry {
        media_type,
        platform: platform.filter(|p| p.os != "unknown"),
        attestation: descriptor["annotations"][REFERENCE_TYPE] == "attestation-manifest",
        digest,
        descriptor: descriptor.clone(),
    })
}

/// A descriptor's media type, digest and size, each in the OCI grammar — before the digest goes into
/// a URL or any of them into an index. The error completes "… whose manifest N …" or "… whose
/// configuration …".
fn checked_descriptor(descriptor: &Value) -> Result<(String, String, u64), Diagnostic> {
    let refused = |key: &str| {
        let value = descriptor.get(key).map_or_else(|| "none".to_owned(), shown);
        advice::descriptor_field(key, &value)
    };
    let media_type = descriptor["mediaType"]
        .as_str()
        .filter(|m| is_media_type(m))
        .ok_or_else(|| refused("mediaType"))?;
    let digest = descriptor["digest"]
        .as_str()
        .filter(|d| is_sha256_digest(d))
        .ok_or_else(|| refused("digest"))?;
    let size = descriptor["size"].as_u64().ok_or_else(|| refused("size"))?;
    Ok((media_type.to_owned(), digest.to_owned(), size))
}

/// A value a registry sent, for an error: JSON, at most 100 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The OCI spec's media type grammar (RFC 6838's restricted names): `type/subtype`.
fn is_media_type(text: &str) -> bool {
    let name_ok = |name: &str| {
        let mut bytes = name.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && name.len() <= 127
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    text.split_once('/')
        .is_some_and(|(kind, subtype)| name_ok(kind) && name_ok(subtype))
}

/// The platform an image configuration states: `None` without `os` and `architecture`; the stated
/// text as the error when it breaks the `platform` input's rule.
pub fn platform_in_config(config: &[u8]) -> Result<Option<Platform>, String> {
    match serde_json::from_slice::<Value>(config) {
        Ok(value) => Platform::stated(&value),
        Err(_) => Ok(None),
    }
}

/// The index made of `children` (each with the reference it was read from), or why it cannot be.
pub fn build(children: &[(String, Child)]) -> Result<Index, Diagnostic> {
    let entries = entries(children)?;
    let media_type = index_type(&entries)?;
    let platforms = platforms(&entries)?;
    let manifests: Vec<Value> = entries.into_iter().map(|(_, e)| e.descriptor).collect();
    // A `Value`'s text, which cannot fail to be written (unlike `serde_json::to_vec` of any type).
    let body = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": manifests,
    })
    .to_string()
    .into_bytes();
    Ok(Index {
        media_type,
        digest: digest_of(&body),
        body,
        platforms,
    })
}

/// The index's entries, each with the reference it came from: an image as one entry (its platform
/// from its configuration), an index as its own entries.
fn entries(children: &[(String, Child)]) -> Result<Vec<(&str, Entry)>, Diagnostic> {
    let mut entries: Vec<(&str, Entry)> = Vec::new();
    for (reference, child) in children {
        match child {
            Child::Image {
                media_type,
                digest,
                size,
                platform,
            } => {
                let platform = platform
                    .as_ref()
                    .ok_or_else(|| advice::no_platform(reference, false))?;
                let mut descriptor =
                    json!({ "mediaType": media_type, "digest": digest, "size": size });
                descriptor["platform"] = platform_json(platform);
                entries.push((
                    reference,
                    Entry {
                        descriptor,
                        media_type: media_type.clone(),
                        digest: digest.clone(),
                        platform: Some(platform.clone()),
                        attestation: false,
                    },
                ));
            }
            Child::Index { entries: listed } => {
                entries.extend(listed.iter().map(|e| (reference.as_str(), e.clone())));
            }
        }
    }
    Ok(entries)
}

/// Each platform's image and its digest, attestations aside: one image per platform.
fn platforms(entries: &[(&str, Entry)]) -> Result<Vec<(Platform, String)>, Diagnostic> {
    let mut platforms: Vec<(Platform, String)> = Vec::new();
    let mut seen: Vec<(Platform, &str)> = Vec::new();
    for (reference, entry) in entries {
        if entry.attestation {
            continue;
        }
        let platform = entry
            .platform
            .clone()
            .ok_or_else(|| advice::no_platform(reference, true))?;
        // By how Docker names them: `linux/arm64` is `linux/arm64/v8`.
        if let Some((_, first)) = seen
            .iter()
            .find(|(p, _)| p.to_string() == platform.to_string())
        {
            let named = platform.to_string();
            return Err(advice::platform_twice(first, reference, &named));
        }
        seen.push((platform.clone(), reference));
        platforms.push((platform, entry.digest.clone()));
    }
    Ok(platforms)
}

/// A Docker manifest list when every entry is a Docker schema 2 image, an OCI index when every entry
/// is an OCI image; a mix has no index type that holds it.
fn index_type(entries: &[(&str, Entry)]) -> Result<&'static str, Diagnostic> {
    let of = |wanted: &str| -> Vec<&str> {
        let matching = entries.iter().filter(|(_, e)| e.media_type == wanted);
        let mut references: Vec<&str> = matching.map(|(r, _)| *r).collect();
        references.dedup();
        references
    };
    let (docker, oci) = (of(DOCKER_MANIFEST), of(OCI_MANIFEST));
    if let Some((reference, e)) = entries
        .iter()
        .find(|(_, e)| e.media_type != DOCKER_MANIFEST && e.media_type != OCI_MANIFEST)
    {
        return Err(advice::unsupported(&e.media_type, Some(reference)));
    }
    match (docker.is_empty(), oci.is_empty()) {
        (_, true) => Ok(DOCKER_LIST),
        (true, false) => Ok(OCI_INDEX),
        (false, false) => Err(advice::mixed(&quoted(&docker), &quoted(&oci))),
    }
}

fn quoted(references: &[&str]) -> String {
    let quoted: Vec<String> = references.iter().map(|r| format!("`{r}`")).collect();
    quoted.join(", ")
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

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

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

    fn index_of(manifests: &Value) -> Result<Content, Diagnostic> {
        let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        content("", body.to_string().as_bytes())
    }

    #[test]
    fn docker_images_make_a_manifest_list() {
        let index = build(&[
            pair(
                "app-amd64",
                image(DOCKER_MANIFEST, &d('a'), Some("linux/amd64")),
            ),
            pair(
                "app-arm64",
                image(DOCKER_MANIFEST, &d('b'), Some("linux/arm64/v8")),
            ),
        ])
        .expect("valid");
        assert_eq!(index.media_type, DOCKER_LIST);
        let body: Value = serde_json::from_slice(&index.body).expect("JSON");
        assert_eq!(body["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(body["manifests"][0]["digest"], d('a'));
        assert_eq!(index.digest, digest_of(&index.body));
        let shown: Vec<String> = index
            .platforms
            .iter()
            .map(|(p, digest)| format!("{p} {digest}"))
            .collect();
        assert_eq!(
            shown,
            [
                format!("linux/amd64 {}", d('a')),
                format!("linux/arm64 {}", d('b'))
            ]
        );
    }

    #[test]
    fn an_index_child_gives_its_entries_attestations_included() {
        let Ok(Content::Index(entries)) = index_of(&json!([
            {"mediaType": OCI_MANIFEST, "digest": d('c'), "size": 1, "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": OCI_MANIFEST, "digest": d('d'), "size": 1,
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d('c')}},
        ])) else {
            panic!("an index")
        };
        let index = build(&[
            pair("amd64", image(OCI_MANIFEST, &d('a'), Some("linux/amd64"))),
            pair("arm64", Child::Index { entries }),
        ])
        .expect("valid");
        assert_eq!(index.media_type, OCI_INDEX);
        let body: Value = serde_json::from_slice(&index.body).expect("JSON");
        assert_eq!(body["manifests"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            body["manifests"][2]["annotations"]["vnd.docker.reference.digest"],
            d('c')
        );
        assert_eq!(index.platforms.len(), 2);
    }

    #[test]
    fn descriptors_are_checked_before_use() {
        let good = json!({"mediaType": OCI_MANIFEST, "digest": d('c'), "size": 1});
        let with = |key: &str, value: Value| {
            let mut descriptor = good.clone();
            descriptor[key] = value;
            index_of(&json!([good, descriptor])).expect_err(key)
        };
        let upper = format!("sha256:{}", "C".repeat(64));
        let descriptor = "E-ASSEMBLE-DESCRIPTOR";
        // Each refusal names the descriptor and shows the value it refuses.
        for (key, value, code, shown) in [
            (
                "digest",
                json!("sha256:../../x"),
                descriptor,
                "\"sha256:../../x\"",
            ),
            ("digest", json!(upper), descriptor, upper.as_str()),
            ("digest", json!(5), descriptor, "digest 5"),
            (
                "mediaType",
                json!("text/html\nx"),
                descriptor,
                "\"text/html\\nx\"",
            ),
            ("mediaType", json!("nothing"), descriptor, "\"nothing\""),
            ("size", json!(-1), descriptor, "size -1"),
            ("size", json!(1.5), descriptor, "size 1.5"),
            (
                "platform",
                json!({"os": "linux", "architecture": "amd64;touch${IFS}x"}),
                "E-ASSEMBLE-ENTRY-PLATFORM",
                "`linux/amd64;touch${IFS}x`",
            ),
        ] {
            let why = with(key, value);
            assert_eq!(why.codes(), [code], "{key}: {why}");
            assert!(why.text().contains(shown), "{shown}\n{why}");
            assert!(why.text().contains("manifest 2 "), "{why}");
        }
        let mut no_size = good.clone();
        no_size.as_object_mut().expect("object").remove("size");
        let why = index_of(&json!([no_size])).expect_err("size");
        assert_eq!(why.codes(), [descriptor]);
        assert!(why.text().contains("size none"), "{why}");
        let manifest = |config: Value| {
            let body = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config});
            content("", body.to_string().as_bytes())
        };
        let bad = manifest(
            json!({"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:/x", "size": 2}),
        )
        .expect_err("digest");
        assert_eq!(bad.codes(), [descriptor]);
        assert!(bad.text().contains("\"sha256:/x\""), "{bad}");
        assert_eq!(
            manifest(json!("x")).expect_err("config").codes(),
            ["E-ASSEMBLE-NO-CONFIG"]
        );
    }

    #[test]
    fn refusals_name_the_references() {
        let twice = build(&[
            pair("one", image(OCI_MANIFEST, &d('a'), Some("linux/amd64"))),
            pair("two", image(OCI_MANIFEST, &d('b'), Some("linux/amd64"))),
        ])
        .expect_err("same platform");
        assert_eq!(twice.codes(), ["E-ASSEMBLE-PLATFORM-TWICE"]);
        for named in ["`one`", "`two`", "linux/amd64"] {
            assert!(twice.text().contains(named), "{named}: {twice}");
        }
        let mixed = build(&[
            pair("d", image(DOCKER_MANIFEST, &d('a'), Some("linux/amd64"))),
            pair("o", image(OCI_MANIFEST, &d('b'), Some("linux/arm64"))),
        ])
        .expect_err("mix");
        assert_eq!(mixed.codes(), ["E-ASSEMBLE-MIXED"]);
        // Which reference holds which kind.
        assert!(
            mixed.text().contains("`d` hold Docker") && mixed.text().contains("`o` OCI"),
            "{mixed}"
        );
        let unknown =
            build(&[pair("x", image(OCI_MANIFEST, &d('a'), None))]).expect_err("no platform");
        assert_eq!(unknown.codes(), ["E-ASSEMBLE-NO-PLATFORM"]);
        assert!(unknown.text().starts_with("`x`"), "{unknown}");
    }

    #[test]
    fn kinds_and_configurations_are_read() {
        let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d('c'), "size": 7}});
        assert_eq!(
            content("", manifest.to_string().as_bytes()),
            Ok(Content::Image {
                media_type: OCI_MANIFEST.into(),
                config: Config {
                    digest: d('c'),
                    size: 7
                }
            })
        );
        let refused = |media_type, body| content(media_type, body).expect_err("refused");
        assert_eq!(
            refused(DOCKER_MANIFEST, b"{\"schemaVersion\":1}").codes(),
            ["E-ASSEMBLE-NO-CONFIG"]
        );
        let signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
        assert_eq!(refused(signed, b"{}").codes(), ["E-ASSEMBLE-UNSUPPORTED"]);
        assert_eq!(refused("", b"<html>").codes(), ["E-ASSEMBLE-NOT-JSON"]);
        assert_eq!(
            platform_in_config(br#"{"os":"linux","architecture":"arm","variant":"v7"}"#),
            Ok(Some(Platform::parse("linux/arm/v7").expect("platform")))
        );
        assert_eq!(platform_in_config(br#"{"os":"linux"}"#), Ok(None));
        assert_eq!(
            platform_in_config(br#"{"os":"linux","architecture":"amd64;touch${IFS}x"}"#),
            Err("linux/amd64;touch${IFS}x".to_owned())
        );
        assert_eq!(
            platform_in_config(br#"{"os":"linux","architecture":"amd64","variant":"v1\n::x"}"#),
            Err("linux/amd64/v1\n::x".to_owned())
        );
    }
}
