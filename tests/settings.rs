//! Repositories as code, end to end: a repository created with every setting and read back through
//! the API; a second run that reconciles changes; a third that changes nothing (proved by running it
//! as a user who may not write any setting); `if-tag-exists` in all modes; bad settings inputs.

use aws_sdk_ecr::types::ImageIdentifier;

use crate::on_every_engine;
use crate::support::{
    Action, Engine, Run, TempDir, block_on, iam, registry_digest, seed_tag, stack, unique,
};

/// Everything the API says of the repository's settings, as comparable text.
fn read_back(ecr: &aws_sdk_ecr::Client, name: &str) -> Vec<String> {
    let repo =
        block_on(ecr.describe_repositories().repository_names(name).send()).expect("describe");
    let repo = &repo.repositories()[0];
    let mut filters: Vec<&str> = repo
        .image_tag_mutability_exclusion_filters()
        .iter()
        .map(aws_sdk_ecr::types::ImageTagMutabilityExclusionFilter::filter)
        .collect();
    filters.sort_unstable();
    let mut tags: Vec<String> = block_on(
        ecr.list_tags_for_resource()
            .resource_arn(repo.repository_arn().expect("arn"))
            .send(),
    )
    .expect("tags")
    .tags()
    .iter()
    .map(|t| format!("{}={}", t.key(), t.value()))
    .collect();
    tags.sort();
    let json = |text: Option<&str>| {
        text.map(|t| {
            serde_json::from_str::<serde_json::Value>(t)
                .expect("json")
                .to_string()
        })
    };
    let lifecycle = block_on(ecr.get_lifecycle_policy().repository_name(name).send())
        .ok()
        .and_then(|o| json(o.lifecycle_policy_text()));
    let policy = block_on(ecr.get_repository_policy().repository_name(name).send())
        .ok()
        .and_then(|o| json(o.policy_text()));
    let encryption = repo.encryption_configuration().expect("encryption");
    vec![
        format!(
            "mutability={}",
            repo.image_tag_mutability()
                .map(aws_sdk_ecr::types::ImageTagMutability::as_str)
                .unwrap_or_default()
        ),
        format!("exclusions={}", filters.join(",")),
        format!(
            "scan={}",
            repo.image_scanning_configuration()
                .is_some_and(aws_sdk_ecr::types::ImageScanningConfiguration::scan_on_push)
        ),
        format!(
            "encryption={} {}",
            encryption.encryption_type().as_str(),
            encryption.kms_key().unwrap_or_default()
        ),
        format!("tags={}", tags.join(",")),
        format!("lifecycle={}", lifecycle.unwrap_or_default()),
        format!("policy={}", policy.unwrap_or_default()),
    ]
}

fn lifecycle(count: u32) -> String {
    format!(
        r#"{{"rules": [{{"rulePriority": 1, "description": "keep {count}", "selection": {{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": {count}}}, "action": {{"type": "expire"}}}}]}}"#
    )
}

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "PullFromCi", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}"#;

fn json_text(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .expect("json")
        .to_string()
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario in three runs: create, reconcile, leave alone"
)]
fn settings_are_applied_reconciled_and_left_alone() {
    let _one_at_a_time = iam::exclusive();
    let endpoint = iam::endpoint();
    let ecr = crate::support::ecr_at(&endpoint);
    let workspace = TempDir::new();
    std::fs::create_dir_all(workspace.0.join(".github")).expect("dir");
    let local = format!("{}:s1", unique("e2e-settings"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("settings");
    let with_settings = |tags: &str, lifecycle_count: u32, scan: &str, mutability: &str| {
        std::fs::write(
            workspace.0.join(".github/lifecycle.json"),
            lifecycle(lifecycle_count),
        )
        .expect("lifecycle file");
        Action::new(&local, &repository)
            .env("AWS_ENDPOINT_URL", &crate::support::ecr_api::iam_endpoint())
            .env("GITHUB_WORKSPACE", &workspace.0.display().to_string())
            .input("image-tag-mutability", mutability)
            .input(
                "image-tag-mutability-exclusion-filters",
                if mutability.ends_with("EXCLUSION") {
                    "latest, dev-*"
                } else {
                    ""
                },
            )
            .input("scan-on-push", scan)
            .input("encryption-type", "KMS")
            .input(
                "kms-key",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            )
            .input("repository-tags", tags)
            .input("lifecycle-policy", ".github/lifecycle.json")
            .input("repository-policy", POLICY)
    };

    // 1: created with every setting.
    let run = with_settings(
        "ManagedBy=github-actions, Team=api",
        10,
        "false",
        "IMMUTABLE_WITH_EXCLUSION",
    )
    .run();
    run.assert_success();
    assert_eq!(run.output("repository-created"), "true");
    assert_eq!(
        read_back(&ecr, &repository),
        [
            "mutability=IMMUTABLE_WITH_EXCLUSION".to_owned(),
            "exclusions=dev-*,latest".into(),
            "scan=false".into(),
            "encryption=KMS arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            "tags=ManagedBy=github-actions,Team=api".into(),
            format!("lifecycle={}", json_text(&lifecycle(10))),
            format!("policy={}", json_text(POLICY)),
        ]
    );

    // 2: changed tags, lifecycle, scanning and mutability are reconciled; tags are never removed.
    // (Scanning goes false → true: moto ignores a PutImageScanningConfiguration whose scanOnPush is
    // false, because the SDK leaves a false boolean out of the request, which ECR reads as false.)
    let run = with_settings("Team=web\nCostCenter=42", 5, "true", "MUTABLE").run();
    run.assert_success();
    assert_eq!(run.output("repository-created"), "false");
    let after = read_back(&ecr, &repository);
    assert_eq!(after[0], "mutability=MUTABLE", "{}", run.stdout);
    assert_eq!(after[2], "scan=true", "{}", run.stdout);
    assert_eq!(
        after[4],
        "tags=CostCenter=42,ManagedBy=github-actions,Team=web"
    );
    assert_eq!(after[5], format!("lifecycle={}", json_text(&lifecycle(5))));
    for change in [
        "image tag mutability: IMMUTABLE_WITH_EXCLUSION → MUTABLE",
        "scan on push: false → true",
        "tag Team=web",
        "tag CostCenter=42",
        "lifecycle policy set from",
    ] {
        assert!(run.stdout.contains(change), "{change} in\n{}", run.stdout);
    }
    assert!(
        !run.stdout.contains("repository policy set"),
        "the unchanged policy is not written again"
    );

    // 3: nothing to change, so no write call — proved by a user who may read the settings but write none.
    let read_only: Vec<String> = [
        "GetAuthorizationToken",
        "BatchCheckLayerAvailability",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
        "PutImage",
        "DescribeRepositories",
        "ListTagsForResource",
        "GetLifecyclePolicy",
        "GetRepositoryPolicy",
    ]
    .map(|a| format!("ecr:{a}"))
    .to_vec();
    let keys = iam::user(&read_only, &[]);
    iam::enforce(true);
    let run = with_settings("Team=web\nCostCenter=42", 5, "true", "MUTABLE")
        .input("aws-access-key-id", &keys.0)
        .input("aws-secret-access-key", &keys.1)
        // Encryption is fixed at creation: asking for another one warns and changes nothing.
        .input("encryption-type", "AES256")
        .input("kms-key", "")
        .run();
    iam::enforce(false);
    run.assert_success();
    assert!(
        run.stdout.contains("settings already as wanted"),
        "{}",
        run.stdout
    );
    let warnings = run.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("is encrypted with KMS") && warnings[0].contains("cannot change it"),
        "{warnings:?}"
    );
    assert_eq!(read_back(&ecr, &repository), after);
}

fn existing_digest(repository: &str, tag: &str) -> String {
    let out = block_on(
        crate::support::ecr()
            .describe_images()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send(),
    )
    .expect("DescribeImages");
    out.image_details()[0]
        .image_digest()
        .expect("digest")
        .to_owned()
}

fn push(engine: Engine, local: &str, repository: &str, tags: &str, rule: &str) -> Run {
    Action::new(local, repository)
        .on(engine)
        .input("tags", tags)
        .input("if-tag-exists", rule)
        .run()
}

on_every_engine! {
fn if_tag_exists_skips_fails_or_overwrites(engine: Engine) {
    let s = stack();
    let host = s.host(&s.account);
    let first = engine.image(&format!("{}:a", unique("e2e-exists-a")));
    let first = &first.reference;
    let second = engine.image(&format!("{}:b", unique("e2e-exists-b")));
    let second = &second.reference;
    let repository = unique("exists");
    push(engine, first, &repository, "v1", "overwrite").assert_success();
    seed_tag(&repository, "v1");
    let v1 = existing_digest(&repository, "v1");

    // skip: v1 stays, v2 is pushed.
    let run = push(engine, second, &repository, "v1, v2", "skip");
    run.assert_success();
    assert_eq!(run.output("pushed-tags"), "v2");
    assert_eq!(run.output("skipped-tags"), "v1");
    assert_eq!(
        registry_digest(&host, &repository, "v1").as_deref(),
        Some(v1.as_str())
    );
    assert_eq!(
        registry_digest(&host, &repository, "v2").as_deref(),
        Some(run.output("digest"))
    );
    assert!(
        run.summary.contains(&format!(
            "| `v1` | `{host}/{repository}:v1` | `{v1}` | skipped: the tag exists |"
        )),
        "{}",
        run.summary
    );

    // skip, all tags exist: nothing pushed, the outputs name what the tag holds.
    let run = push(engine, second, &repository, "v1", "skip");
    run.assert_success();
    assert_eq!(
        (run.output("pushed-tags"), run.output("digest")),
        ("", v1.as_str())
    );

    // fail: refused before anything is pushed.
    let run = push(engine, second, &repository, "v3, v1", "fail");
    let error = run.assert_error("E-TAG-EXISTS");
    assert!(
        error.contains("`v1`") && error.contains(&v1),
        "the tag and what it holds: {error}"
    );
    assert_eq!(registry_digest(&host, &repository, "v3"), None);

    // overwrite in a mutable repository: pushed over.
    let run = push(engine, second, &repository, "v1", "overwrite");
    run.assert_success();
    assert_ne!(run.output("digest"), v1);
    assert_eq!(
        registry_digest(&host, &repository, "v1").as_deref(),
        Some(run.output("digest"))
    );
}
}

on_every_engine! {
fn an_immutable_repository_explains_an_existing_tag(engine: Engine) {
    let local = engine.image(&format!("{}:i", unique("e2e-immutable")));
    let other = engine.image(&format!("{}:j", unique("e2e-immutable-2")));
    let repository = unique("immutable");
    let run = Action::new(&local.reference, &repository)
        .on(engine)
        .input("tags", "1.0.0")
        .input("image-tag-mutability", "IMMUTABLE")
        .run();
    run.assert_success();
    seed_tag(&repository, "1.0.0");
    let held = existing_digest(&repository, "1.0.0");

    let run = Action::new(&other.reference, &repository)
        .on(engine)
        .input("tags", "1.0.0")
        .run();
    let error = run.assert_error("E-TAG-IMMUTABLE");
    for piece in ["`1.0.0`", held.as_str()] {
        assert!(error.contains(piece), "{piece}: {error}");
    }
    let run = Action::new(&other.reference, &repository)
        .on(engine)
        .input("tags", "1.0.0, 1.0.1")
        .input("if-tag-exists", "skip")
        .run();
    run.assert_success();
    assert_eq!(
        (run.output("pushed-tags"), run.output("skipped-tags")),
        ("1.0.1", "1.0.0")
    );
}
}

#[test]
fn bad_settings_are_refused_before_any_call() {
    let workspace = TempDir::new();
    std::fs::write(
        workspace.0.join("broken.json"),
        "{\n  \"rules\": [\n    {\"rulePriority\": 1,,}\n  ]\n}\n",
    )
    .expect("file");
    std::fs::write(workspace.0.join("no-action.json"), r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3}}]}"#).expect("file");
    let outside = TempDir::new();
    std::fs::write(outside.0.join("policy.json"), POLICY).expect("file");
    let repository = unique("bad-settings");
    // Each refusal's code, and what it must name: the input, and the value or place at fault.
    let cases: Vec<(&str, String, &str, Vec<&str>)> = vec![
        (
            "lifecycle-policy",
            "broken.json".into(),
            "E-INPUT-POLICY-JSON",
            vec!["`lifecycle-policy`", "broken.json", "line 3, column"],
        ),
        (
            "lifecycle-policy",
            "{\"rules\": [}".into(),
            "E-INPUT-POLICY-JSON",
            vec!["`lifecycle-policy`", "inline JSON", "line 1, column 12"],
        ),
        (
            "lifecycle-policy",
            "no-action.json".into(),
            "E-INPUT-POLICY-SHAPE",
            vec!["`lifecycle-policy`", "rules[0].action"],
        ),
        (
            "repository-policy",
            outside.0.join("policy.json").display().to_string(),
            "E-INPUT-POLICY-OUTSIDE-WORKSPACE",
            vec!["`repository-policy`", "policy.json"],
        ),
        (
            "repository-policy",
            "../../etc/passwd".into(),
            "E-INPUT-POLICY-OUTSIDE-WORKSPACE",
            vec!["`repository-policy`", "/etc/passwd"],
        ),
        (
            "image-tag-mutability",
            "FROZEN".into(),
            "E-INPUT-CHOICE",
            vec!["`image-tag-mutability`", "`FROZEN`"],
        ),
        (
            "if-tag-exists",
            "replace".into(),
            "E-INPUT-CHOICE",
            vec!["`if-tag-exists`", "`replace`"],
        ),
        (
            "registry-type",
            "shared".into(),
            "E-INPUT-CHOICE",
            vec!["`registry-type`", "`shared`"],
        ),
        (
            "kms-key",
            "alias/ecr".into(),
            "E-INPUT-KMS-KEY-UNUSED",
            vec!["`kms-key`"],
        ),
        (
            "repository-tags",
            "Team".into(),
            "E-INPUT-REPOSITORY-TAG-FORMAT",
            vec!["`repository-tags`", "`Team`"],
        ),
        (
            "public-description",
            "An image".into(),
            "E-INPUT-CATALOG-WITHOUT-PUBLIC",
            vec!["`public-description`"],
        ),
    ];
    for (input, value, code, named) in cases {
        let run = Action::new("anything:v1", &repository)
            .env("GITHUB_WORKSPACE", &workspace.0.display().to_string())
            .input(input, &value)
            .run();
        let error = run.assert_error(code);
        for piece in named {
            assert!(
                error.contains(piece),
                "{input}={value}: {piece:?} in {error}"
            );
        }
        assert!(
            !run.stdout.contains("::group::"),
            "{input}: no phase may start"
        );
    }
    assert_eq!(
        crate::support::repository_registry_id(&repository, None),
        None
    );
}

#[test]
fn ecr_public_refuses_private_only_settings() {
    let repository = unique("bad-public");
    for (input, value) in [
        ("lifecycle-policy", lifecycle(3)),
        ("scan-on-push", "true".into()),
        ("image-tag-mutability", "IMMUTABLE".into()),
    ] {
        let run = Action::new("anything:v1", &repository)
            .input("registry-type", "public")
            .input(input, &value)
            .run();
        let error = run.assert_error("E-INPUT-NOT-IN-ECR-PUBLIC");
        assert!(error.contains(&format!("`{input}`")), "{error}");
    }
    assert_eq!(
        crate::support::repository_registry_id(&repository, None),
        None
    );
}
