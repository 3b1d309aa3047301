//! Checks made from outside, as a puller would: what the registries serve over HTTPS with ECR's login.

use std::process::Command;

use super::{registry_password, run, stack};

/// Every manifest media type a push may store: single-platform images of both engines, and the
/// containerd store's indexes (Docker manifest lists for completeness).
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The digest the registry serves for `repository:tag`, asked over HTTPS with ECR's login, as a
/// puller would; `None` when the registry does not know the tag.
pub fn registry_digest(host: &str, repository: &str, tag: &str) -> Option<String> {
    registry_digest_as(host, repository, tag, &registry_password())
}

/// [`registry_digest`] with another registry password (ECR Public's).
pub fn registry_digest_as(
    host: &str,
    repository: &str,
    tag: &str,
    password: &str,
) -> Option<String> {
    let s = stack();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "--head"])
        .arg("--cacert")
        .arg(s.dir.join("ca.crt"))
        .args(["-u", &format!("AWS:{password}")])
        .args(
            MANIFEST_TYPES
                .iter()
                .flat_map(|t| ["-H".to_owned(), format!("Accept: {t}")]),
        )
        .arg(format!("https://{host}/v2/{repository}/manifests/{tag}"))
        .output()
        .expect("curl");
    let headers = String::from_utf8_lossy(&out.stdout);
    if !headers.starts_with("HTTP/1.1 200") && !headers.starts_with("HTTP/2 200") {
        return None;
    }
    headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("docker-content-digest")
            .then(|| value.trim().to_owned())
    })
}

/// The manifest (or index) the registry serves for `repository:reference`, as a puller would read it.
pub fn registry_manifest(host: &str, repository: &str, reference: &str) -> serde_json::Value {
    let out = run(Command::new("curl")
        .args(["-fsS", "--cacert"])
        .arg(stack().dir.join("ca.crt"))
        .args(["-u", &format!("AWS:{}", registry_password())])
        .args(
            MANIFEST_TYPES
                .iter()
                .flat_map(|t| ["-H".to_owned(), format!("Accept: {t}")]),
        )
        .arg(format!(
            "https://{host}/v2/{repository}/manifests/{reference}"
        )));
    serde_json::from_slice(&out.stdout).expect("manifest JSON")
}

/// The distinct layer blobs behind `reference`: a manifest's own, or those of every manifest of an
/// index (attestation manifests included: the daemon pushes their layers too).
pub fn registry_layers(
    host: &str,
    repository: &str,
    reference: &str,
) -> std::collections::BTreeSet<String> {
    let manifest = registry_manifest(host, repository, reference);
    let digests = |m: &serde_json::Value, key: &str| -> Vec<String> {
        m[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["digest"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let manifests = if manifest["manifests"].is_array() {
        digests(&manifest, "manifests")
            .iter()
            .map(|child| registry_manifest(host, repository, child))
            .collect()
    } else {
        vec![manifest]
    };
    manifests
        .iter()
        .flat_map(|m| digests(m, "layers"))
        .collect()
}

/// Writes `repository:tag` straight to the registry as a puller-side tool could: an image whose
/// configuration states no platform (no `os`, no `architecture`) and has no layers.
pub fn put_platformless_image(host: &str, repository: &str, tag: &str) {
    let s = stack();
    let login = format!("AWS:{}", registry_password());
    let base = format!("https://{host}/v2/{repository}");
    let curl = || {
        let mut cmd = Command::new("curl");
        cmd.args(["-fsS", "--cacert"])
            .arg(s.dir.join("ca.crt"))
            .args(["-u", &login]);
        cmd
    };
    let config = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let digest = ecr_push_action::assemble::index::digest_of(config);
    let started = run(curl()
        .args(["-X", "POST", "-D", "-", "-o", "/dev/null"])
        .arg(format!("{base}/blobs/uploads/")));
    let headers = String::from_utf8_lossy(&started.stdout).into_owned();
    let location = headers
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .expect("an upload location");
    let separator = if location.contains('?') { '&' } else { '?' };
    let dir = super::TempDir::new();
    let file = dir.0.join("config.json");
    std::fs::write(&file, config).expect("config file");
    run(curl()
        .args([
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
        ])
        .arg(format!("@{}", file.display()))
        .arg(format!("{location}{separator}digest={digest}")));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": digest},
        "layers": [],
    });
    run(curl()
        .args([
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.docker.distribution.manifest.v2+json",
            "--data-binary",
        ])
        .arg(manifest.to_string())
        .arg(format!("{base}/manifests/{tag}")));
}

/// Reads `repository:tag` back with skopeo, a client this project did not write: `skopeo copy --all`
/// into a `dir:` fetches the manifest (an index: each image it lists too) and every blob, and checks
/// each against its digest, as a puller does; returns the digest of the manifest skopeo reads raw
/// (`skopeo inspect --raw`, hashed here), which must be what the registry serves the tag as.
#[track_caller]
pub fn read_back_with_skopeo(host: &str, repository: &str, tag: &str) -> String {
    let s = stack();
    // skopeo's certificate directory takes every `*.crt` in it as a CA: only the test CA.
    let certs = super::TempDir::new();
    std::fs::copy(s.dir.join("ca.crt"), certs.0.join("ca.crt")).expect("the test CA");
    let out = super::TempDir::new();
    let image = format!("docker://{host}/{repository}:{tag}");
    let creds = format!("AWS:{}", registry_password());
    let skopeo = |args: &[&str]| {
        let done = Command::new("skopeo")
            .arg("--insecure-policy")
            .args(args)
            .output()
            .expect("skopeo (testbed/stack-up installs it)");
        assert!(
            done.status.success(),
            "skopeo {args:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        done.stdout
    };
    let certs = certs.0.display().to_string();
    let dir = format!("dir:{}", out.0.display());
    skopeo(&[
        "copy",
        "--all",
        "--src-cert-dir",
        &certs,
        "--src-creds",
        &creds,
        &image,
        &dir,
    ]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--cert-dir",
        &certs,
        "--creds",
        &creds,
        &image,
    ]);
    ecr_push_action::assemble::index::digest_of(&raw)
}
