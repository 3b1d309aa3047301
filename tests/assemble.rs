//! `assemble`: the images of a matrix (one job per platform) joined into one multi-platform image in
//! the registry — read back as a puller reads it, pulled per platform, re-run, and each refusal.

use serde_json::Value;

use crate::on_every_engine;
use crate::support::{
    Action, Engine, Image, Run, TempDir, put_platformless_image, registry_digest,
    registry_manifest, run, seed_tag, stack, unique,
};

/// The push of one matrix job: `image` under `tag`.
#[track_caller]
fn push(engine: Engine, image: &Image, repository: &str, tag: &str) -> String {
    let run = Action::new(&image.reference, repository)
        .on(engine)
        .input("tags", tag)
        .run();
    run.assert_success();
    run.output("digest").to_owned()
}

/// The assemble job: no local image, no Docker daemon.
fn assemble(repository: &str, references: &str, tags: &str) -> Action {
    Action::new("", repository)
        .without_input("local-image")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .input("assemble", references)
        .input("tags", tags)
}

/// The manifests an index lists, by digest.
fn children(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .map(|m| m["digest"].as_str().expect("digest").to_owned())
        .collect()
}

/// The platform image manifests a pushed reference stands for: itself, or an index's entries.
fn expected_children(host: &str, repository: &str, digest: &str) -> Vec<String> {
    let manifest = registry_manifest(host, repository, digest);
    if manifest["manifests"].is_array() {
        children(&manifest)
    } else {
        vec![digest.to_owned()]
    }
}

on_every_engine! {
/// Two platform images pushed by the action, assembled under two tags: the registry serves an index
/// whose children are exactly those manifests (the containerd store's attestation manifests kept),
/// the outputs and summary name each platform, and a re-run writes the same index again.
fn assembles_the_images_of_a_matrix(engine: Engine) {
    let s = stack();
    let host = s.host(&s.account);
    let repository = unique("assemble");
    let sha = unique("sha").replace('-', "");
    let amd64 = engine.platform_image(&format!("{}:a", unique("e2e-amd64")), "linux/amd64");
    let arm64 = engine.platform_image(&format!("{}:b", unique("e2e-arm64")), "linux/arm64");
    let amd64_digest = push(engine, &amd64, &repository, &format!("{sha}-amd64"));
    let arm64_digest = push(engine, &arm64, &repository, &format!("{sha}-arm64"));

    let references = format!("{sha}-amd64\n{sha}-arm64");
    let run = assemble(&repository, &references, &format!("{sha}, latest")).run();
    run.assert_success();
    let digest = run.output("digest");
    assert_eq!(run.output("platforms"), "linux/amd64,linux/arm64");
    assert_eq!(run.output("pushed-tags"), format!("{sha}\nlatest"));
    assert_eq!(run.output("image-ref"), format!("{host}/{repository}@{digest}"));
    for tag in [sha.as_str(), "latest"] {
        assert_eq!(registry_digest(&host, &repository, tag).as_deref(), Some(digest), "{tag}");
    }
    let index = registry_manifest(&host, &repository, &sha);
    let mut want = expected_children(&host, &repository, &amd64_digest);
    want.extend(expected_children(&host, &repository, &arm64_digest));
    assert_eq!(children(&index), want);
    let media_type = match engine {
        Engine::Classic => "application/vnd.docker.distribution.manifest.list.v2+json",
        // Podman pushes OCI image manifests, as the containerd store does.
        Engine::Containerd | Engine::Podman => "application/vnd.oci.image.index.v1+json",
    };
    assert_eq!(index["mediaType"], media_type);
    let arm64_entry = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["platform"]["architecture"] == "arm64")
        .expect("an arm64 entry");
    let arm64_manifest = arm64_entry["digest"].as_str().expect("digest");
    assert!(
        run.summary.contains(&format!("| `linux/arm64` | `{arm64_manifest}` |")),
        "{}",
        run.summary
    );
    assert!(!run.stdout.contains("Docker daemon"), "no daemon was asked:\n{}", run.stdout);

    // Re-running the job is idempotent: the same index under the same tags, as `match` sees it too.
    let again = assemble(&repository, &references, &format!("{sha}, latest")).run();
    again.assert_success();
    assert_eq!(again.output("digest"), digest);
    seed_tag(&repository, &sha);
    let matched = assemble(&repository, &references, &sha)
        .input("if-tag-exists", "match")
        .run();
    matched.assert_success();
    assert_eq!(matched.output("pushed-tags"), sha);
    assert!(
        matched.stdout.contains(&format!("Tag {sha} holds this image already ({digest})")),
        "{}",
        matched.stdout
    );
    if engine == Engine::Classic {
        assert_pulls_arm64(&host, &repository, &sha, &arm64.id);
    }
}
}

/// `docker pull --platform linux/arm64` of the assembled tag gets the arm64 image (20.10: its image ID
/// is the configuration digest, the same as the local arm64 image's).
#[track_caller]
fn assert_pulls_arm64(host: &str, repository: &str, tag: &str, arm64_id: &str) {
    let config = TempDir::new();
    let reference = format!("{host}/{repository}:{tag}");
    let docker = || {
        let mut cmd = std::process::Command::new("docker");
        cmd.arg("--config").arg(&config.0);
        cmd
    };
    let mut login = docker();
    login.args([
        "login",
        "-u",
        "AWS",
        "--password",
        &crate::support::registry_password(),
        host,
    ]);
    run(&mut login);
    run(docker().args(["pull", "-q", "--platform", "linux/arm64", &reference]));
    let inspected = run(docker().args([
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Architecture}}",
        &reference,
    ]));
    let _ = docker().args(["rmi", &reference]).output();
    assert_eq!(
        String::from_utf8_lossy(&inspected.stdout).trim(),
        format!("{arm64_id} arm64")
    );
}

/// The run was refused as `code`, naming every one of `pieces`, and wrote nothing.
#[track_caller]
fn assert_refused(run: &Run, code: &str, pieces: &[&str]) {
    let error = run.assert_error(code);
    for piece in pieces {
        assert!(error.contains(piece), "{piece}\n{error}");
    }
    let written = run.outputs.get("pushed-tags");
    assert!(
        written.is_none_or(String::is_empty),
        "nothing written: {written:?}"
    );
}

/// Each refusal names the reference, and nothing is written: a missing image, two of one platform,
/// Docker and OCI manifests mixed, an image whose configuration states no platform; and the input
/// rules of the mode.
#[test]
fn refusals_name_the_reference_and_write_nothing() {
    let s = stack();
    let host = s.host(&s.account);
    let repository = unique("assemble-refused");
    let classic = Engine::Classic.platform_image(&format!("{}:c", unique("e2e-c")), "linux/amd64");
    let classic_too =
        Engine::Classic.platform_image(&format!("{}:d", unique("e2e-d")), "linux/amd64");
    let oci = Engine::Containerd.platform_image(&format!("{}:o", unique("e2e-o")), "linux/arm64");
    push(Engine::Classic, &classic, &repository, "c-amd64");
    push(Engine::Classic, &classic_too, &repository, "d-amd64");
    push(Engine::Containerd, &oci, &repository, "o-arm64");
    put_platformless_image(&host, &repository, "bare");
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "c-amd64, nothing-here",
            "E-ASSEMBLE-MISSING",
            &["`nothing-here`"],
        ),
        (
            "c-amd64 d-amd64",
            "E-ASSEMBLE-PLATFORM-TWICE",
            &["`c-amd64`", "`d-amd64`", "linux/amd64"],
        ),
        (
            "c-amd64 o-arm64",
            "E-ASSEMBLE-MIXED",
            // Which reference holds which kind.
            &["`c-amd64` hold Docker", "`o-arm64` OCI"],
        ),
        ("c-amd64 bare", "E-ASSEMBLE-NO-PLATFORM", &["`bare`"]),
    ];
    for (references, code, pieces) in cases {
        let run = assemble(&repository, references, "index").run();
        assert_refused(&run, code, pieces);
        assert_eq!(
            registry_digest(&host, &repository, "index"),
            None,
            "{references}"
        );
    }
    for (extra, code, named) in [
        (
            ("local-image", "app:1"),
            "E-INPUT-ASSEMBLE-WITH-LOCAL-IMAGE",
            "`local-image`",
        ),
        (
            ("platform", "linux/amd64"),
            "E-INPUT-ASSEMBLE-WITH-PLATFORM",
            "`platform`",
        ),
        (("assemble", "-bad"), "E-INPUT-ASSEMBLE-REFERENCE", "`-bad`"),
    ] {
        let run = assemble(&repository, "c-amd64", "index")
            .input(extra.0, extra.1)
            .run();
        let error = run.assert_error(code);
        assert!(error.contains(named), "{named}\n{error}");
    }
    let run = assemble(&repository, "c-amd64", "x")
        .without_input("tags")
        .run();
    run.assert_error("E-INPUT-ASSEMBLE-TAGS-REQUIRED");
    // A repository that does not exist is never created: its images would have to be in it.
    let missing = unique("assemble-missing");
    let run = assemble(&missing, "a", "b").run();
    assert!(!run.success);
    assert_eq!(crate::support::repository_registry_id(&missing, None), None);
}

/// With `destinations`, each registry's index is made from the images there: the matrix pushed both
/// platforms to the caller's registries in both regions, and the assembled tag serves the same index
/// in each. (Not the other account's here: moto files that repository under the caller's name, so
/// it would not find it there, where real ECR does.)
#[test]
fn assembles_in_every_destination() {
    let s = stack();
    let engine = Engine::Classic;
    let repository = unique("assemble-dest");
    let hosts = [s.host(&s.account), crate::support::front::host()];
    let listed = format!("{} {}", s.region, crate::support::front::region());
    for (platform, tag) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let image = engine.platform_image(&format!("{}:p", unique("e2e-asm-dest")), platform);
        Action::new(&image.reference, &repository)
            .on(engine)
            .input("tags", tag)
            .input("destinations", &listed)
            .run()
            .assert_success();
    }
    let run = assemble(&repository, "amd64 arm64", "multi")
        .input("destinations", &listed)
        .run();
    run.assert_success();
    let digest = run.output("digest");
    for host in &hosts {
        assert_eq!(
            registry_digest(host, &repository, "multi").as_deref(),
            Some(digest),
            "{host}"
        );
    }
    assert_eq!(run.output("image-uris").lines().count(), 2);
}
