//! Images on disk pushed without a daemon (`local-image: oci-layout:DIR`, `oci-archive:FILE`,
//! `docker-archive:FILE`), with `DOCKER_HOST` pointing nowhere: what buildx writes with `--output
//! type=oci` (two platforms, with attestations), what `docker save` writes (the classic store's
//! legacy archive, the containerd store's OCI one); every tag read back with skopeo. A layout with one
//! corrupted blob fails naming it, with nothing under any tag.

use std::path::Path;

use crate::support::{
    Action, Engine, read_back_with_skopeo, registry_digest, registry_manifest, stack, unique,
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
    let layer = blob(&path, &digest);
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

fn blob(layout: &Path, digest: &str) -> std::path::PathBuf {
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
        document = json(&blob(layout, next));
    }
}
