//! The main job, end to end: images land in the registry under every tag with the reported digest,
//! the repository exists in the API, outputs and summary say so, and the daemon keeps no extra tags.

use crate::on_every_engine;
use crate::support::{
    Action, Engine, create_repository, read_back_with_skopeo, registry_digest, repository_arn,
    repository_registry_id, stack, unique,
};

/// Checks everything a successful run must leave, from outside the action.
#[track_caller]
fn assert_pushed(
    engine: Engine,
    run: &crate::support::Run,
    account: &str,
    repository: &str,
    tags: &[&str],
    created: bool,
) {
    run.assert_success();
    let host = stack().host(account);
    let uri = format!("{host}/{repository}");
    let digest = run.output("digest");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "digest output {digest}"
    );
    for tag in tags {
        assert_eq!(
            registry_digest(&host, repository, tag).as_deref(),
            Some(digest),
            "registry serves {uri}:{tag}"
        );
        // And a client this project did not write pulls it whole, every blob verified.
        assert_eq!(
            read_back_with_skopeo(&host, repository, tag),
            digest,
            "skopeo reads {uri}:{tag}"
        );
    }
    assert_eq!(
        repository_registry_id(repository, Some(account)).as_deref(),
        Some(account),
        "repository in the API"
    );

    assert_eq!(run.output("registry"), host);
    assert_eq!(run.output("repository-uri"), uri);
    assert_eq!(
        Some(run.output("repository-arn")),
        repository_arn(repository, Some(account)).as_deref(),
        "the ARN ECR's API states"
    );
    assert_eq!(run.output("image-uri"), format!("{uri}:{}", tags[0]));
    let uris: Vec<String> = tags.iter().map(|t| format!("{uri}:{t}")).collect();
    assert_eq!(run.output("image-uris"), uris.join("\n"));
    assert_eq!(run.output("image-ref"), format!("{uri}@{digest}"));
    assert_eq!(run.output("aws-account-id"), account);
    assert_eq!(run.output("repository-created"), created.to_string());

    assert!(
        run.summary
            .contains("| Tag | Image URI | Digest | Result |"),
        "summary: {}",
        run.summary
    );
    for (tag, uri) in tags.iter().zip(&uris) {
        assert!(
            run.summary
                .contains(&format!("| `{tag}` | `{uri}` | `{digest}` | pushed |")),
            "summary row for {tag}: {}",
            run.summary
        );
    }
    assert_eq!(
        engine.local_tags_of(&uri),
        Vec::<String>::new(),
        "the daemon keeps no tag the action added"
    );
    for group in [
        "Docker",
        "AWS credentials",
        "ECR repository",
        "Registry login",
    ] {
        assert!(
            run.stdout.contains(&format!("::group::{group}\n")),
            "group {group} in the log"
        );
    }
}

on_every_engine! {
    fn creates_a_new_repository_and_pushes_the_local_tag(engine: Engine) {
        let image = engine.image(&format!("{}:v7", unique("e2e-new")));
        let repository = format!("team/{}", unique("new"));
        let run = Action::new(&image.reference, &repository).on(engine).run();
        assert_pushed(engine, &run, &stack().account, &repository, &["v7"], true);
        assert!(
            run.stdout
                .contains(&format!("Created repository {repository}"))
        );
    }
}

on_every_engine! {
    fn pushes_into_an_existing_repository(engine: Engine) {
        let image = engine.image(&unique("e2e-existing"));
        let repository = unique("existing");
        create_repository(&repository);
        let run = Action::new(&image.reference, &repository).on(engine).run();
        // `local` has no tag, so Docker's `latest` is the default.
        assert_pushed(engine, &run, &stack().account, &repository, &["latest"], false);
    }
}

on_every_engine! {
    fn pushes_three_tags_with_one_digest(engine: Engine) {
        let image = engine.image(&format!("{}:build", unique("e2e-three")));
        let repository = unique("three");
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .input("tags", "1.2.3, 1.2\nlatest")
            .run();
        assert_pushed(
            engine,
            &run,
            &stack().account,
            &repository,
            &["1.2.3", "1.2", "latest"],
            true,
        );
        assert_eq!(
            registry_digest(&stack().host(&stack().account), &repository, "build"),
            None,
            "only the asked tags"
        );
    }
}

on_every_engine! {
    /// A second repository of the same image: every layer is in the registry already (mounted from
    /// the first repository, or found there), and the log says so instead of "pushed".
    fn layers_already_present_are_not_uploaded_again(engine: Engine) {
        let image = engine.image(&format!("{}:twice", unique("e2e-twice")));
        let first = unique("twice-a");
        let run = Action::new(&image.reference, &first).on(engine).run();
        assert_pushed(engine, &run, &stack().account, &first, &["twice"], true);
        let again = Action::new(&image.reference, &first).on(engine).run();
        assert_pushed(engine, &again, &stack().account, &first, &["twice"], false);
        assert_eq!(again.output("digest"), run.output("digest"));
        if engine == Engine::Containerd {
            // The containerd store's image ID is the digest its push writes, and the repository holds
            // it: the tag is written through the registry's API, with nothing to push (retag.rs).
            let line = format!("already holds this image ({})", run.output("digest"));
            assert!(again.stdout.contains(&line), "{line}\n{}", again.stdout);
            let layers = again.stdout.lines().any(|l| l.starts_with("layer "));
            assert!(!layers, "no daemon push:\n{}", again.stdout);
            return;
        }
        let (pushed, present, mounted) = layer_counts(&again);
        assert_eq!(pushed, 0, "nothing uploaded again:\n{}", again.stdout);
        // Podman's push stream has no layer events (see progress_counts_the_layers_that_were_pushed).
        assert!(present + mounted > 0 || engine == Engine::Podman, "{}", again.stdout);
    }
}

/// Promotion: the image is in the repository already (pushed under `sha`), and new tags go on it. The
/// containerd store's image ID is the digest a push writes, so the action writes the tags through
/// the registry's API — the manifest read by digest and put again under each tag, ECR's documented
/// retag (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html>) — with no
/// local tag and no daemon push; a client this project did not write reads the new tags back.
#[test]
fn new_tags_on_an_image_the_repository_holds_are_written_without_a_push() {
    let engine = Engine::Containerd;
    let image = engine.image(&format!("{}:src", unique("e2e-promote")));
    let repository = unique("promote");
    let first = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "sha")
        .run();
    first.assert_success();
    let digest = first.output("digest");
    let promoted = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "v1, latest")
        .run();
    promoted.assert_success();
    let line = format!("already holds this image ({digest}): tagged v1, latest there");
    assert!(
        promoted.stdout.contains(&line),
        "{line}\n{}",
        promoted.stdout
    );
    assert_eq!(promoted.output("digest"), digest);
    assert_eq!(promoted.output("pushed-tags"), "v1\nlatest");
    let host = stack().host(&stack().account);
    for tag in ["sha", "v1", "latest"] {
        assert_eq!(
            registry_digest(&host, &repository, tag).as_deref(),
            Some(digest),
            "{tag}"
        );
    }
    assert_eq!(read_back_with_skopeo(&host, &repository, "latest"), digest);
    let uri = format!("{host}/{repository}");
    assert!(engine.local_tags_of(&uri).is_empty(), "no local tag left");
}

on_every_engine! {
    fn pushes_into_another_accounts_registry(engine: Engine) {
        let s = stack();
        let image = engine.image(&format!("{}:x1", unique("e2e-cross")));
        let repository = unique("cross");
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .input("registry-id", &s.other_account)
            .run();
        assert_pushed(engine, &run, &s.other_account, &repository, &["x1"], true);
        assert_eq!(
            registry_digest(&s.host(&s.account), &repository, "x1"),
            None,
            "not in the caller's own registry"
        );
    }
}

#[test]
fn takes_credentials_from_the_environment_chain() {
    let engine = Engine::Classic;
    let image = engine.image(&format!("{}:env", unique("e2e-chain")));
    let repository = unique("chain");
    let action = Action::new(&image.reference, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .without_input("aws-region")
        .env("AWS_REGION", &stack().region)
        .env("AWS_ACCESS_KEY_ID", "ASIAE2ECHAINKEY00001")
        .env("AWS_SECRET_ACCESS_KEY", "chain-secret-key-9c2b7e")
        .env("AWS_SESSION_TOKEN", "chain-session-token-77d1e0f3");
    let run = action.run();
    assert_pushed(engine, &run, &stack().account, &repository, &["env"], true);
    assert!(
        run.stdout
            .contains("::add-mask::chain-session-token-77d1e0f3"),
        "session token masked"
    );
    assert!(
        run.stdout.contains("::add-mask::chain-secret-key-9c2b7e"),
        "secret key masked"
    );
    assert!(
        run.stdout
            .contains("Using AWS access key ASIAE2ECHAINKEY00001 from the AWS credential chain")
    );
}

on_every_engine! {
    fn leaves_the_daemons_tags_as_they_were(engine: Engine) {
        let s = stack();
        let repository = unique("restore");
        let uri = format!("{}/{repository}", s.host(&s.account));
        // The daemon already holds `<uri>:keep` for another image; the action must put it back.
        let other = engine.image(&format!("{uri}:keep"));
        let local = engine.image(&format!("{}:src", unique("e2e-restore")));
        assert_ne!(other.id, local.id);

        let run = Action::new(&local.reference, &repository)
            .on(engine)
            .input("tags", "keep new")
            .run();
        run.assert_success();
        assert_eq!(
            engine.image_id(&other.reference),
            other.id,
            "the earlier tag points where it pointed before"
        );
        assert_eq!(
            engine.local_tags_of(&uri),
            vec![other.reference.clone()],
            "only the earlier tag remains"
        );
        assert_eq!(
            registry_digest(&s.host(&s.account), &repository, "keep").as_deref(),
            Some(run.output("digest"))
        );
    }
}

on_every_engine! {
    fn an_untagged_image_given_by_id_is_pushed_and_not_deleted(engine: Engine) {
        let image = engine.image("");
        let repository = unique("by-id");
        let run = Action::new(&image.id, &repository).on(engine).input("tags", "a b").run();
        run.assert_success();
        let uri = format!("{}/{repository}", stack().host(&stack().account));
        assert_eq!(engine.image_id(&image.id), image.id, "the image still exists");
        assert_eq!(
            engine.local_tags_of(&uri),
            vec![format!("{uri}:a")],
            "one tag kept so the image survives"
        );
        assert!(
            run.stdout.contains("::warning::Kept the local tag"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn eight_concurrent_runs_share_one_new_repository() {
    let s = stack();
    let repository = unique("concurrent");
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let repository = repository.clone();
            std::thread::spawn(move || {
                let image = Engine::Classic.image(&format!("{}:c{i}", unique("e2e-concurrent")));
                let run = Action::new(&image.reference, &repository).run();
                (format!("c{i}"), run)
            })
        })
        .collect();
    let mut created = 0;
    for run in runs {
        let (tag, run) = run.join().expect("run thread");
        run.assert_success();
        created += usize::from(run.output("repository-created") == "true");
        assert_eq!(
            registry_digest(&s.host(&s.account), &repository, &tag).as_deref(),
            Some(run.output("digest")),
            "{tag} is served"
        );
    }
    assert_eq!(created, 1, "exactly one run created the repository");
    let listed = crate::support::block_on(
        crate::support::ecr()
            .describe_repositories()
            .repository_names(&repository)
            .send(),
    )
    .expect("describe");
    let count = listed.repositories().len();
    assert_eq!(count, 1, "one repository");
}

/// The counts of the run's per-layer lines: (pushed, already present, mounted).
fn layer_counts(run: &crate::support::Run) -> (usize, usize, usize) {
    let count = |what: &str| {
        run.stdout
            .lines()
            .filter(|l| l.starts_with("layer ") && l.contains(what))
            .count()
    };
    (
        count(" pushed"),
        count(" already in the registry"),
        count(" mounted ("),
    )
}

on_every_engine! {
    /// The per-layer lines and the count line say what was uploaded: for a new image in a new
    /// repository, exactly the distinct layers the registry now holds behind the tag (on the
    /// containerd store those include the attestation manifests' layers), each "pushed".
    fn progress_counts_the_layers_that_were_pushed(engine: Engine) {
        let s = stack();
        let image = engine.image(&format!("{}:p1", unique("e2e-progress")));
        let repository = unique("progress");
        let run = Action::new(&image.reference, &repository).on(engine).run();
        run.assert_success();
        if engine == Engine::Podman {
            // Podman's push stream has no layer events, only the digest: the log says so.
            assert!(
                run.stdout.contains(&format!(
                    ":p1: the engine reported no layer progress — digest {}",
                    run.output("digest")
                )),
                "{}",
                run.stdout
            );
            return;
        }
        let layers = crate::support::registry_layers(&s.host(&s.account), &repository, "p1");
        let n = layers.len();
        assert!(n >= 1, "{layers:?}");
        assert_eq!(layer_counts(&run), (n, 0, 0), "{}", run.stdout);
        let numbered: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("layer ")).collect();
        for (k, line) in numbered.iter().enumerate() {
            let k = k + 1;
            let want = match engine {
                // The classic store announces its layers first, so it can say "k/n".
                Engine::Classic => format!("layer {k}/{n} pushed"),
                Engine::Containerd | Engine::Podman => format!("layer {k} pushed"),
            };
            assert_eq!(*line, want);
        }
        let noun = if n == 1 { "layer" } else { "layers" };
        assert!(
            run.stdout.contains(&format!(
                ":p1: {n} {noun}: {n} pushed, 0 already present, 0 mounted — digest {}",
                run.output("digest")
            )),
            "{}",
            run.stdout
        );
    }
}

/// On the containerd store a local image can be an index of several platforms with attestation
/// manifests: pushed whole by default, and the outputs name the index.
#[test]
fn a_multi_platform_image_is_pushed_whole_as_its_index() {
    let s = stack();
    let engine = Engine::Containerd;
    let image = engine.multi_platform_image(
        &format!("{}:multi", unique("e2e-multi")),
        &["linux/amd64", "linux/arm64"],
    );
    let repository = unique("multi");
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "multi latest")
        .run();
    assert_pushed(
        engine,
        &run,
        &s.account,
        &repository,
        &["multi", "latest"],
        true,
    );
    assert_eq!(
        run.output("digest"),
        image.id,
        "the tag points at the local index"
    );
    assert_eq!(run.output("platforms"), "linux/amd64,linux/arm64");
    assert!(
        run.summary.contains("platforms `linux/amd64,linux/arm64`"),
        "{}",
        run.summary
    );
    let index = crate::support::registry_manifest(&s.host(&s.account), &repository, "multi");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let children = index["manifests"].as_array().expect("manifests");
    let platforms: Vec<String> = children
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap_or(""),
                m["platform"]["architecture"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "linux/arm64",
            "unknown/unknown",
            "unknown/unknown"
        ],
        "two images and their attestation manifests"
    );
}

/// `platform` pushes one platform's image manifest alone: no index, no attestations.
#[test]
fn the_platform_input_pushes_one_image_manifest() {
    let s = stack();
    let host = s.host(&s.account);
    let engine = Engine::Containerd;
    let image = engine.multi_platform_image(
        &format!("{}:multi", unique("e2e-one-platform")),
        &["linux/amd64", "linux/arm64"],
    );
    let repository = unique("one-platform");
    // The whole index first, to learn the arm64 manifest's digest from the registry.
    Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "whole")
        .run()
        .assert_success();
    let index = crate::support::registry_manifest(&host, &repository, "whole");
    let arm64 = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["platform"]["architecture"] == "arm64")
        .and_then(|m| m["digest"].as_str())
        .expect("an arm64 manifest")
        .to_owned();

    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "arm")
        .input("platform", "linux/arm64")
        .run();
    assert_pushed(engine, &run, &s.account, &repository, &["arm"], false);
    assert_eq!(run.output("digest"), arm64);
    assert_eq!(run.output("platforms"), "linux/arm64");
    let served = crate::support::registry_manifest(&host, &repository, "arm");
    assert_eq!(
        served["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert!(served["manifests"].is_null(), "no index: {served}");
}

on_every_engine! {
    /// A platform the local image lacks is refused in the Docker step, before any AWS call: the
    /// repository is not even created, and the error lists the platforms the image has.
    fn a_platform_the_image_lacks_is_refused_before_any_side_effect(engine: Engine) {
        let (image, has) = match engine {
            Engine::Classic | Engine::Podman => (engine.image(&format!("{}:one", unique("e2e-lacks"))), "linux/amd64"),
            Engine::Containerd => (
                engine.multi_platform_image(
                    &format!("{}:two", unique("e2e-lacks")),
                    &["linux/amd64", "linux/arm64"],
                ),
                "linux/amd64,linux/arm64",
            ),
        };
        let repository = unique("lacks");
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .input("platform", "linux/s390x")
            .run();
        let error = run.assert_error("E-DOCKER-PLATFORM-MISSING");
        // The platform asked for, and those the image has.
        assert!(error.contains("linux/s390x") && error.contains(has), "{error}");
        assert!(!run.stdout.contains("::group::AWS credentials"), "{}", run.stdout);
        assert_eq!(repository_registry_id(&repository, None), None, "no repository made");
    }
}

/// On the classic store an image is one platform's image already: asking for that platform pushes it.
#[test]
fn the_platform_of_a_single_platform_image_pushes_it_as_it_is() {
    let s = stack();
    let engine = Engine::Classic;
    let image = engine.image(&format!("{}:same", unique("e2e-same-platform")));
    let repository = unique("same-platform");
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("platform", "linux/amd64")
        .run();
    assert_pushed(engine, &run, &s.account, &repository, &["same"], true);
    assert_eq!(run.output("platforms"), "linux/amd64");
}

/// `metadata` holds every output in one JSON object (lists as arrays) for a later step's `fromJSON`;
/// `summary: false` leaves the job summary alone and changes nothing else.
#[test]
fn metadata_holds_every_output_and_the_summary_can_be_off() {
    let engine = Engine::Classic;
    let image = engine.image(&format!("{}:m1", unique("e2e-metadata")));
    let repository = unique("metadata");
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "m1, m2")
        .input("summary", "false")
        .run();
    run.assert_success();
    assert_eq!(run.summary, "", "no job summary");
    let metadata: serde_json::Value =
        serde_json::from_str(run.output("metadata")).expect("metadata is JSON");
    for name in [
        "registry",
        "repository-uri",
        "repository-arn",
        "image-uri",
        "digest",
        "image-ref",
        "aws-account-id",
        "authenticated-arn",
    ] {
        assert_eq!(metadata[name], run.output(name), "{name}");
    }
    for name in ["image-uris", "pushed-tags", "skipped-tags", "failed-tags"] {
        let listed: Vec<&str> = run.output(name).lines().collect();
        assert_eq!(metadata[name], serde_json::json!(listed), "{name}");
    }
    assert_eq!(metadata["repository-created"], true);
    assert_eq!(metadata["platforms"], serde_json::json!(["linux/amd64"]));
    let destinations: serde_json::Value =
        serde_json::from_str(run.output("destinations")).expect("JSON");
    assert_eq!(metadata["destinations"], destinations);
}

/// docker/metadata-action writes full references into `tags`: those naming this repository in this
/// step's registry give their tag; any other is refused before anything is created, listed.
#[test]
fn full_references_in_tags_are_taken_when_they_name_this_repository() {
    let s = stack();
    let engine = Engine::Classic;
    let host = s.host(&s.account);
    let image = engine.image(&format!("{}:r", unique("e2e-references")));
    let repository = unique("references");
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input(
            "tags",
            &format!("{host}/{repository}:r1\n{host}/{repository}:r2"),
        )
        .run();
    run.assert_success();
    assert_eq!(run.output("pushed-tags"), "r1\nr2");
    assert_eq!(
        registry_digest(&host, &repository, "r2").as_deref(),
        Some(run.output("digest"))
    );

    let other = unique("references-other");
    let run = Action::new(&image.reference, &other)
        .on(engine)
        .input(
            "tags",
            &format!("ghcr.io/org/app:1, {host}/{repository}:r3, keep"),
        )
        .run();
    let error = run.assert_error("E-INPUT-TAG-REFERENCE");
    assert!(
        error.starts_with("Input `tags`")
            && error.contains("`ghcr.io/org/app:1`")
            && error.contains(&format!("`{host}/{repository}:r3`")),
        "{error}"
    );
    // Another account's host in this region: known to be another registry only after the login.
    let stranger = "999999999999.dkr.ecr.us-east-1.amazonaws.com";
    let run = Action::new(&image.reference, &other)
        .on(engine)
        .input("tags", &format!("{stranger}/{other}:x"))
        .run();
    let error = run.assert_error("E-TAG-OTHER-REGISTRY");
    assert!(error.contains(stranger), "{error}");
    assert_eq!(
        repository_registry_id(&other, None),
        None,
        "nothing created"
    );
}
