//! Faults and refusals through the ECR-like front (testbed/ecr-front): transient faults end in success
//! with the retry in the log; refusals end at once, without a retry, with their own message; a soak
//! run loses no push. The front serves the test account's registry in a second region, so these runs
//! use that region.

use std::time::{Duration, Instant};

use crate::on_every_engine;
use crate::support::front::{self, arm, fired};
use crate::support::{Action, Engine, Image, Run, block_on, registry_digest, stack, unique};

fn push(image: &Image, repository: &str) -> Action {
    Action::new(&image.reference, repository)
        .on(image.engine)
        .input("aws-region", &front::region())
}

/// A new local image, and a repository that already holds it under `seed` (so that a fault armed
/// afterwards hits the push under test, not the repository's creation).
fn seeded(engine: Engine, name: &str) -> (Image, String) {
    let local = engine.image(&format!("{}:src", unique(&format!("e2e-{name}"))));
    let repository = unique(name);
    push(&local, &repository)
        .input("tags", "seed")
        .run()
        .assert_success();
    (local, repository)
}

/// No retry line carries the refusal (`marker`): a refusal ends the push at once. (A transient fault
/// of the busy test bed before it may be retried; that is not what is checked here.)
#[track_caller]
fn assert_not_retried(run: &Run, marker: &str) {
    let retried: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("(attempt ") && l.contains(marker))
        .collect();
    assert!(
        retried.is_empty(),
        "a refusal was retried: {retried:?}\n{}",
        run.stdout
    );
}

fn assert_served(run: &Run, repository: &str, tag: &str) {
    run.assert_success();
    assert_eq!(
        registry_digest(&front::host(), repository, tag).as_deref(),
        Some(run.output("digest")),
        "{tag}"
    );
}

on_every_engine! {
fn transient_faults_are_retried_to_success(engine: Engine) {
    let cases = [
        serde_json::json!({"kind": "reset", "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 500, "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 502, "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 503, "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 429, "action": "PutImage"}),
    ];
    for rule in cases {
        let (local, repository) = seeded(engine, "fault");
        arm(&repository, &rule);
        let run = push(&local, &repository).input("tags", "t").run();
        assert_served(&run, &repository, "t");
        assert_eq!(fired(&repository), 1, "{rule}");
        // The containerd store's pusher and Podman retry a failed manifest write themselves (the
        // front sees the PUT twice) without a word in the push stream; what reaches the action is
        // retried by it.
        // Throttling (429) has its own, longer schedule (src/retry.rs).
        let attempts = if rule["status"] == 429 { 10 } else { 5 };
        assert!(
            run.stdout.contains(&format!("failed (attempt 1 of {attempts})"))
                || engine != Engine::Classic,
            "{rule}: retry logged\n{}",
            run.stdout
        );
    }
}}

on_every_engine! {
fn a_stalled_and_a_cut_upload_still_end_in_success(engine: Engine) {
    let (local, repository) = seeded(engine, "stall");
    arm(
        &repository,
        &serde_json::json!({"kind": "stall", "seconds": 2, "action": "PutImage"}),
    );
    let started = Instant::now();
    let run = push(&local, &repository).input("tags", "stalled").run();
    assert_served(&run, &repository, "stalled");
    assert!(started.elapsed() >= Duration::from_secs(2));

    // A blob upload cut halfway: the daemon retries the layer, and says so.
    let fresh = engine.image(&format!("{}:c", unique("e2e-cut")));
    // The classic store sends a layer in a PATCH (UploadLayerPart), the containerd store in the
    // closing PUT (CompleteLayerUpload).
    let upload = match engine {
        Engine::Classic | Engine::Podman => "UploadLayerPart",
        Engine::Containerd => "CompleteLayerUpload",
    };
    arm(
        &repository,
        &serde_json::json!({"kind": "cut", "action": upload}),
    );
    let run = push(&fresh, &repository).input("tags", "cut").run();
    assert_served(&run, &repository, "cut");
    assert_eq!(fired(&repository), 2);
    // Podman retries the layer too, but its push stream says nothing of layers.
    assert!(
        run.stdout.contains("the daemon retries it")
            || run.stdout.contains("failed (attempt 1 of 5)")
            || engine == Engine::Podman,
        "{}",
        run.stdout
    );
}}

on_every_engine! {
fn refusals_end_at_once_with_their_own_message(engine: Engine) {
    // A registry-side denial: the doctor names the action and the statement to add.
    let (local, repository) = seeded(engine, "denied");
    arm(
        &repository,
        &serde_json::json!({"kind": "deny", "action": "InitiateLayerUpload"}),
    );
    let other = engine.image(&format!("{}:n", unique("e2e-refused-new")));
    let started = Instant::now();
    let run = push(&other, &repository).input("tags", "new").run();
    let error = run.assert_error("E-DOCKER-PUSH-DENIED");
    // The action refused, and the statement that allows it.
    assert!(
        error.contains(&format!(
            r#""Action": "ecr:InitiateLayerUpload", "Resource": "arn:aws:ecr:{}"#,
            front::region()
        )),
        "{error}"
    );
    assert_not_retried(&run, "denied");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(run.output("failed-tags"), "new");

    // The repository vanished after the check (NAME_UNKNOWN), with create-repository off.
    let repository = unique("forgotten");
    push(&local, &repository)
        .input("tags", "seed")
        .run()
        .assert_success();
    arm(&repository, &serde_json::json!({"kind": "forget"}));
    let run = push(&local, &repository)
        .input("tags", "again")
        .input("create-repository", "false")
        .run();
    let error = run.assert_error("E-DOCKER-PUSH-UNKNOWN-REPOSITORY");
    assert!(
        error.contains("does not exist in the registry"),
        "what the registry said: {error}"
    );
    assert_not_retried(&run, "does not exist");

    // An immutable repository refuses to overwrite a tag that ECR's API did not list when the action
    // checked (a concurrent push: here the tag is taken out of moto, which the front told of the
    // first push, and stays in the registry): ECR's `tag invalid`, explained.
    let repository = unique("immutable-front");
    push(&local, &repository)
        .input("tags", "1.0")
        .input("image-tag-mutability", "IMMUTABLE")
        .run()
        .assert_success();
    let api = crate::support::ecr_api::client_as(&stack().endpoint, &front::region(), None);
    let tag = aws_sdk_ecr::types::ImageIdentifier::builder().image_tag("1.0").build();
    block_on(api.batch_delete_image().repository_name(&repository).image_ids(tag).send())
        .expect("BatchDeleteImage in moto");
    let run = push(&other, &repository).input("tags", "1.0").run();
    let error = run.assert_error("E-DOCKER-PUSH-IMMUTABLE");
    assert!(error.contains("`1.0`"), "{error}");
    assert_not_retried(&run, "immutable");
}}

on_every_engine! {
fn partial_results_are_never_hidden(engine: Engine) {
    let (local, repository) = seeded(engine, "partial");
    // The first tag goes through; the manifest of one of the two others is refused. (On the
    // containerd store each tag writes only its index: the seed wrote the image and attestation.)
    arm(
        &repository,
        &serde_json::json!({"kind": "deny", "action": "PutImage", "after": 1, "count": 1}),
    );
    let run = push(&local, &repository).input("tags", "a b c").run();
    assert!(!run.success);
    let pushed: Vec<&str> = run.output("pushed-tags").lines().collect();
    let failed: Vec<&str> = run.output("failed-tags").lines().collect();
    assert_eq!(
        (pushed.len(), failed.len(), pushed[0]),
        (2, 1, "a"),
        "{pushed:?} {failed:?}"
    );
    for tag in &pushed {
        assert_eq!(
            registry_digest(&front::host(), &repository, tag).as_deref(),
            Some(run.output("digest")),
            "{tag}"
        );
    }
    assert!(
        run.summary.contains(&format!("| `{}` |", failed[0])) && run.summary.contains("**failed**"),
        "{}",
        run.summary
    );
    // Where the repository holds the image already (the containerd store's seed wrote its index) the
    // tags are written through the registry's API (retag.rs), whose refusal has its own code.
    let code = if run.stdout.contains("already holds this image") {
        "E-ASSEMBLE-DENIED"
    } else {
        "E-DOCKER-PUSH-DENIED"
    };
    assert!(engine != Engine::Containerd || code == "E-ASSEMBLE-DENIED", "{}", run.stdout);
    let error = run.assert_error(code);
    assert!(error.starts_with("1 of 3 tags were not pushed"), "{error}");
    assert!(
        error.contains(&format!("- {}: ", failed[0])) && error.contains("Pushed: a, "),
        "{error}"
    );
}}

#[test]
fn a_soak_of_fifty_pushes_with_random_faults_loses_none() {
    let (local, repository) = seeded(Engine::Classic, "soak");
    let faults = [
        serde_json::json!({"kind": "reset", "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 503, "action": "PutImage"}),
        serde_json::json!({"kind": "status", "status": 429, "action": "BatchCheckLayerAvailability"}),
        serde_json::json!({"kind": "status", "status": 502, "action": "PutImage"}),
    ];
    let (mut succeeded, mut failed_accurately, mut injected) = (0, 0, 0);
    for i in 0..50u32 {
        // A fault about one run in ten, chosen by a fixed pseudo-random sequence (repeatable).
        let draw = (i.wrapping_mul(2_654_435_761) >> 7) % 100;
        if draw < 10 {
            arm(&repository, &faults[(draw as usize) % faults.len()]);
            injected += 1;
        }
        let tag = format!("s{i}");
        let run = push(&local, &repository).input("tags", &tag).run();
        if run.success {
            assert_eq!(
                registry_digest(&front::host(), &repository, &tag).as_deref(),
                Some(run.output("digest")),
                "{tag}"
            );
            succeeded += 1;
        } else {
            // A failure must say which tag and why, and the registry must not claim otherwise.
            assert_eq!(run.output("failed-tags"), tag);
            failed_accurately += 1;
        }
    }
    assert!(injected >= 3, "faults were injected: {injected}");
    assert_eq!(succeeded + failed_accurately, 50, "no push lost");
    assert_eq!(succeeded, 50, "every transient fault healed");
}

on_every_engine! {
fn a_timeout_in_the_middle_of_a_push_puts_the_local_tags_back(engine: Engine) {
    let (local, repository) = seeded(engine, "timeout-push");
    arm(
        &repository,
        &serde_json::json!({"kind": "stall", "seconds": 8, "action": "PutImage"}),
    );
    let run = push(&local, &repository)
        .input("tags", "late")
        .input("timeout", "3s")
        .run();
    let error = run.assert_error("E-TIMEOUT");
    // The bound, and the step it stopped in.
    assert!(
        error.contains("3 s") && error.contains(&format!("\"Push {}", front::host())),
        "{error}"
    );
    let uri = format!("{}/{repository}", front::host());
    assert_eq!(
        engine.local_tags_of(&uri),
        Vec::<String>::new(),
        "no tag left in the daemon"
    );
}}
