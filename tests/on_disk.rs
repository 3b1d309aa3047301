//! Images on disk pushed without a daemon (`local-image: oci-layout:DIR`, `oci-archive:FILE`,
//! `docker-archive:FILE`), with `DOCKER_HOST` pointing nowhere: what buildx writes with `--output
//! type=oci` (two platforms, with attestations), what `docker save` writes (the classic store's
//! legacy archive, the containerd store's OCI one); every tag read back with skopeo. A layout with one
//! corrupted blob fails naming it, with nothing under any tag. A layer larger than one part goes in
//! parts through the ECR-like front (which answers each `PATCH` as ECR does), a failed part sent again.

use std::path::{Path, PathBuf};

use crate::support::front::{self, arm, fired};
use crate::support::{
    Action, Engine, TempDir, read_back_with_skopeo, registry_digest, registry_manifest, stack,
    unique,
};

/// The action pushing `local` (an image on disk) with no daemon reachable.
fn push(local: &str, repository: &str, tags: &str) -> Action {
    Action::new(local, repository)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .input("tags", tags)
}

#[track_caller]
fn assert_served(run: &crate::support::Run, repository: &str, tags: &[&str]) {
    run.assert_success();
    let host = stack().host(&stack().account);
    for tag in tags {
        assert_eq!(
            registry_digest(&host, repository, tag).as_deref(),
            Some(run.output("digest")),
            "{tag}"
        );
        assert_eq!(
            read_back_with_skopeo(&host, repository, tag),
            run.output("digest")
        );
    }
}

#[test]
fn a_buildx_oci_layout_and_archive_of_two_platforms_are_pushed_without_a_daemon() {
    for tar in [false, true] {
        let (_guard, path) = Engine::Containerd.oci_export(&["linux/amd64", "linux/arm64"], tar);
        let kind = if tar { "oci-archive" } else { "oci-layout" };
        let repository = unique("on-disk-oci");
        let run = push(
            &format!("{kind}:{}", path.display()),
            &repository,
            "v1 latest",
        )
        .run();
        assert_served(&run, &repository, &["v1", "latest"]);
        assert_eq!(run.output("platforms"), "linux/amd64,linux/arm64");
        let index = registry_manifest(&stack().host(&stack().account), &repository, "v1");
        let children = index["manifests"].as_array().expect("an index");
        assert_eq!(children.len(), 4, "two images, two attestations: {index}");
        assert!(run.stdout.contains("no daemon needed"), "{}", run.stdout);
    }
}

#[test]
fn docker_save_archives_of_both_stores_are_pushed() {
    for engine in [Engine::Classic, Engine::Containerd] {
        let image = engine.image(&format!("{}:saved", unique("e2e-saved")));
        let (_guard, path) = engine.saved(&image.reference);
        let repository = unique("on-disk-saved");
        let run = push(
            &format!("docker-archive:{}", path.display()),
            &repository,
            "s1",
        )
        .run();
        assert_served(&run, &repository, &["s1"]);
    }
}

/// One byte of a layer changed (same size): the checks before any AWS call read manifests, not
/// layers, so it is found as the blob is sent, before the registry stores it; the run names the
/// blob, and no tag was written.
#[test]
fn a_corrupted_blob_fails_naming_it_and_nothing_is_tagged() {
    let (_guard, path) = Engine::Containerd.oci_export(&["linux/amd64"], false);
    let digest = first_layer(&path);
    let layer = blob_path(&path, &digest);
    let mut bytes = std::fs::read(&layer).expect("the layer");
    bytes[0] ^= 0xff;
    std::fs::write(&layer, bytes).expect("corrupted");
    let repository = unique("on-disk-corrupt");
    let run = push(
        &format!("oci-layout:{}", path.display()),
        &repository,
        "bad",
    )
    .run();
    let error = run.assert_error("E-ONDISK-DIGEST");
    assert!(error.contains(&digest), "{error}");
    let host = stack().host(&stack().account);
    assert_eq!(
        registry_digest(&host, &repository, "bad"),
        None,
        "nothing tagged"
    );
}

/// 8 MiB parts (src/daemonless/upload.rs): a layer of 17 MiB and some goes as two `PATCH`es and a
/// `PUT`. The front answers each `PATCH` with 201 and a `Range` stuck at the first part's end, as ECR
/// does (aws/containers-roadmap#2831); the second part is refused once with a 503 and a third part
/// (the last, sent with the `PUT`) cut halfway once: each is sent again, nothing starts over, and
/// what the registry serves hashes to the digest (skopeo checks every blob).
#[test]
fn a_large_layer_goes_in_parts_and_a_failed_part_is_sent_again() {
    let (_guard, path) = layout_of_one_layer(17 * (1 << 20) + 12_345);
    let repository = unique("on-disk-parts");
    arm(
        &repository,
        &serde_json::json!({"kind": "status", "status": 503, "action": "UploadLayerPart", "after": 1}),
    );
    arm(
        &repository,
        &serde_json::json!({"kind": "cut", "action": "CompleteLayerUpload"}),
    );
    let run = push(&format!("oci-layout:{}", path.display()), &repository, "p1")
        .input("aws-region", &front::region())
        .run();
    run.assert_success();
    assert_eq!(fired(&repository), 2, "both faults hit a part");
    let again = run.stdout.matches("; sending them again").count();
    assert_eq!(again, 2, "{}", run.stdout);
    assert!(!run.stdout.contains("starting a new one"), "{}", run.stdout);
    assert_eq!(
        registry_digest(&front::host(), &repository, "p1").as_deref(),
        Some(run.output("digest"))
    );
    assert_eq!(
        read_back_with_skopeo(&front::host(), &repository, "p1"),
        run.output("digest")
    );
}

/// `mount-from`: where the registry mounts (the front's "mounting" rule stands in for ECR's
/// `BLOB_MOUNTING` setting), every blob the source holds is mounted, none uploaded; where it does
/// not (the setting's default), the registry's upload is used and the log says why. Both read back
/// whole with skopeo.
#[test]
fn blobs_a_mount_from_repository_holds_are_mounted_where_the_registry_mounts() {
    let (_guard, path) = layout_of_one_layer(3 * (1 << 20));
    let local = format!("oci-layout:{}", path.display());
    let in_front = |repository: &str, mount_from: Option<&str>| {
        let action = push(&local, repository, "m1").input("aws-region", &front::region());
        match mount_from {
            Some(source) => action.input("mount-from", source),
            None => action,
        }
        .run()
    };
    let source = unique("on-disk-mount-src");
    in_front(&source, None).assert_success();
    let mounting = unique("on-disk-mount-on");
    arm(&mounting, &serde_json::json!({"kind": "mounting"}));
    let missing = unique("on-disk-mount-none");
    let sources = format!("{missing} {source}");
    let run = in_front(&mounting, Some(&sources));
    run.assert_success();
    let line = format!("2 blobs: 0 uploaded, 2 mounted from {source}, 0 already present");
    assert!(run.stdout.contains(&line), "{}", run.stdout);
    let not_mounting = unique("on-disk-mount-off");
    let run_off = in_front(&not_mounting, Some(&source));
    run_off.assert_success();
    assert!(
        run_off
            .stdout
            .contains("2 blobs: 2 uploaded, 0 already present"),
        "{}",
        run_off.stdout
    );
    assert!(
        run_off.stdout.contains("BLOB_MOUNTING"),
        "{}",
        run_off.stdout
    );
    for (repository, run) in [(&mounting, &run), (&not_mounting, &run_off)] {
        assert_eq!(
            read_back_with_skopeo(&front::host(), repository, "m1"),
            run.output("digest")
        );
    }
}

/// A registry that refuses the parts of an upload (an identity policy without
/// `ecr:UploadLayerPart`, enforced by the front on the registry's requests as ECR does): the run
/// fails at the first `PATCH`, naming that action on the repository, with nothing tagged.
#[test]
fn a_refused_part_names_ecr_upload_layer_part() {
    let (_guard, path) = layout_of_one_layer(9 * (1 << 20));
    let repository = unique("on-disk-no-parts");
    let allowed = [
        "BatchCheckLayerAvailability",
        "InitiateLayerUpload",
        "CompleteLayerUpload",
        "PutImage",
        "BatchGetImage",
    ];
    arm(
        &repository,
        &serde_json::json!({"kind": "allow", "actions": allowed}),
    );
    let run = push(&format!("oci-layout:{}", path.display()), &repository, "p1")
        .input("aws-region", &front::region())
        .run();
    let error = run.assert_error("E-ASSEMBLE-DENIED");
    assert!(error.contains("ecr:UploadLayerPart"), "{error}");
    assert!(
        error.contains(&format!("repository/{repository}")),
        "{error}"
    );
    assert_eq!(registry_digest(&front::host(), &repository, "p1"), None);
}

/// A registry whose certificate the action does not trust (the test CA left out of `SSL_CERT_FILE`)
/// fails at once, naming what to trust: another try meets the same certificate.
#[test]
fn an_untrusted_registry_certificate_fails_at_once() {
    let (_guard, path) = layout_of_one_layer(1 << 10);
    let repository = unique("on-disk-untrusted");
    let run = push(&format!("oci-layout:{}", path.display()), &repository, "u1")
        .env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        .run();
    let error = run.assert_error("E-REGISTRY-TLS");
    assert!(error.contains("SSL_CERT_FILE"), "{error}");
    assert!(
        !run.stdout.contains("(attempt "),
        "retried:\n{}",
        run.stdout
    );
}

/// An OCI layout of one linux/amd64 image whose one layer (an uncompressed tar of one file of
/// `size` bytes that do not compress) is larger than an upload part.
fn layout_of_one_layer(size: usize) -> (TempDir, PathBuf) {
    let digest = ecr_push_action::assemble::index::digest_of;
    let guard = TempDir::new();
    let root = guard.0.join("layout");
    std::fs::create_dir_all(root.join("blobs/sha256")).expect("layout");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "data", data.as_slice())
        .expect("tar");
    let layer = tar.into_inner().expect("tar");
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]},
    })
    .to_string();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config.as_bytes()), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(&layer), "size": layer.len()}],
    })
    .to_string();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": digest(manifest.as_bytes()), "size": manifest.len()}],
    });
    for blob in [layer.as_slice(), config.as_bytes(), manifest.as_bytes()] {
        std::fs::write(blob_path(&root, &digest(blob)), blob).expect("blob");
    }
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    std::fs::write(root.join("index.json"), index.to_string()).expect("index");
    (guard, root)
}

fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

/// The digest of the first layer of the layout's image (through its index, to the first platform's
/// manifest): a blob only the upload reads, not the checks before it.
fn first_layer(layout: &Path) -> String {
    let mut document = json(&layout.join("index.json"));
    loop {
        if let Some(layer) = document["layers"][0]["digest"].as_str() {
            return layer.to_owned();
        }
        let next = document["manifests"][0]["digest"]
            .as_str()
            .expect("a manifest");
        document = json(&blob_path(layout, next));
    }
}
