//! Create on push, end to end through the registry front (`testbed/ecr-front`, the test account's
//! registry in a second region) and the fake of ECR's newer API (`TESTBED_ECR_API`): with
//! `create-repository: template`, a repository that a `CREATE_ON_PUSH` repository creation template
//! covers is created by the push (the front does as ECR does) with the template's settings, the action
//! calling no `CreateRepository`; without a covering template the run stops before pushing.
//! Under IAM (the enforcing moto and the fake before it) the pusher's policy for this mode, which has
//! no `ecr:CreateRepository`, is enough where a template covers the repository and names both ways
//! out where none does.
//! API reference, `CreateRepositoryCreationTemplate` (prefix, `ROOT`, `appliedFor`).

use aws_sdk_ecr::types::ImageTagMutability;

use crate::on_every_engine;
use crate::policy::generated_actions_with;
use crate::support::{Action, Engine, Run, block_on, registry_digest, unique};
use crate::support::{ecr_api, front, iam};

/// The fake of ECR's API, in the front's region (the fake keeps templates per region).
fn ecr_in_front_region() -> aws_sdk_ecr::Client {
    ecr_api::client_as(&ecr_api::endpoint(), &front::region(), None)
}

fn push(engine: Engine, local: &str, repository: &str) -> Action {
    Action::new(local, repository)
        .on(engine)
        .env("AWS_ENDPOINT_URL_ECR", &ecr_api::endpoint())
        .input("aws-region", &front::region())
        .input("create-repository", "template")
}

on_every_engine! {
    fn a_template_lets_ecr_create_the_repository_on_push(engine: Engine) {
        let ecr = ecr_in_front_region();
        let prefix = unique("cop");
        let _template = ecr_api::create_template(&ecr_api::endpoint(), &front::region(), &prefix, |t| {
            t.image_tag_mutability(ImageTagMutability::Immutable)
        });
        let image = engine.image(&format!("{}:v1", unique("e2e-cop")));
        let repository = format!("{prefix}/new");
        let run = push(engine, &image.reference, &repository)
            .input("image-tag-mutability", "MUTABLE")
            .run();
        run.assert_success();
        assert_eq!(run.output("repository-created"), "true");
        assert!(
            !run.stdout.contains(&format!("Created repository {repository}")),
            "the action created nothing: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("ECR creates it on push from the repository creation template"),
            "{}",
            run.stdout
        );
        let warnings = run.warnings();
        assert!(
            warnings.len() == 1
                && warnings[0].contains("image-tag-mutability: MUTABLE")
                && warnings[0].contains(&format!("`{prefix}`")),
            "{warnings:?}"
        );
        assert!(run.summary.contains("created by ECR on push"), "{}", run.summary);
        assert_eq!(
            registry_digest(&front::host(), &repository, "v1").as_deref(),
            Some(run.output("digest"))
        );
        // The repository exists now, with the template's settings.
        let described = block_on(ecr.describe_repositories().repository_names(&repository).send())
            .expect("the repository ECR created on push");
        assert_eq!(
            described.repositories()[0].image_tag_mutability(),
            Some(&ImageTagMutability::Immutable)
        );
    }
}

#[test]
fn without_a_covering_template_nothing_is_pushed() {
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-nocop")));
    let repository = format!("{}/app", unique("nocop"));
    let run = push(Engine::Classic, &image.reference, &repository).run();
    let error = run.assert_error("E-REPOSITORY-NO-TEMPLATE");
    assert!(
        error.contains("create-repository-creation-template")
            && error.contains("ecr:CreateRepository"),
        "both ways out: {error}"
    );
    assert_eq!(registry_digest(&front::host(), &repository, "v1"), None);
}

/// `create-repository: true` (the default) with a template that covers the repository, readable by
/// the identity: the action leaves the repository to ECR's create on push, calling no
/// `CreateRepository` (a repository the action created would be MUTABLE, moto's default).
#[test]
fn a_readable_template_is_used_by_default_too() {
    let ecr = ecr_in_front_region();
    let prefix = unique("copdefault");
    let _template =
        ecr_api::create_template(&ecr_api::endpoint(), &front::region(), &prefix, |t| {
            t.image_tag_mutability(ImageTagMutability::Immutable)
        });
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-copdefault")));
    let repository = format!("{prefix}/svc");
    let run = push(Engine::Classic, &image.reference, &repository)
        .without_input("create-repository")
        .run();
    run.assert_success();
    assert_eq!(run.output("repository-created"), "true");
    assert!(
        run.stdout
            .contains(&format!("repository creation template `{prefix}`")),
        "{}",
        run.stdout
    );
    let described = block_on(
        ecr.describe_repositories()
            .repository_names(&repository)
            .send(),
    )
    .expect("the repository ECR created on push");
    assert_eq!(
        described.repositories()[0].image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );
}

/// The action as the IAM user `keys` of the enforcing moto, in the front's region, on `engine`.
fn push_under_iam(
    engine: Engine,
    local: &str,
    repository: &str,
    keys: &(String, String),
) -> Action {
    iam::action(local, repository, keys)
        .on(engine)
        .env("AWS_ENDPOINT_URL_ECR", &ecr_api::iam_endpoint())
        .input("aws-region", &front::region())
}

/// Two runs under IAM as a pusher allowed exactly the generated policy's actions for
/// `create-repository: template`, both with `create-repository: mode`: to `{prefix}/new`, which a
/// `CREATE_ON_PUSH` template covers, and to `uncovered`, which no template covers.
fn runs_under_iam(engine: Engine, prefix: &str, uncovered: &str, mode: &str) -> (Run, Run) {
    let actions = generated_actions_with("template", &[]);
    assert!(
        !actions.iter().any(|a| a == "ecr:CreateRepository")
            && actions
                .iter()
                .any(|a| a == "ecr:DescribeRepositoryCreationTemplates"),
        "{actions:?}"
    );
    let keys = iam::user(&actions, &[]);
    let admin = iam::user(&["ecr:*".to_owned()], &[]);
    let repository = format!("{prefix}/new");
    front::on_enforcing_moto(&repository, &admin);
    let image = engine.image(&format!("{}:v1", unique("e2e-copiam")));
    iam::enforce(true);
    let covered = push_under_iam(engine, &image.reference, &repository, &keys)
        .input("create-repository", mode)
        .run();
    let refused = push_under_iam(engine, &image.reference, uncovered, &keys)
        .input("create-repository", mode)
        .run();
    iam::enforce(false);
    (covered, refused)
}

on_every_engine! {
    /// The acceptance: with a template for `team` and a policy without `ecr:CreateRepository`, a push
    /// to `team/new` succeeds and the repository has the template's settings; without a template the
    /// same policy stops before pushing, naming both ways out (grant it, or add a template).
    fn under_iam_a_template_takes_the_place_of_create_repository(engine: Engine) {
        let _one_at_a_time = iam::exclusive();
        let prefix = unique("team");
        let _template = ecr_api::create_template(&ecr_api::iam_endpoint(), &front::region(), &prefix, |t| {
            t.image_tag_mutability(ImageTagMutability::Immutable)
                .resource_tags(aws_sdk_ecr::types::Tag::builder().key("team").value(&prefix).build().expect("tag"))
        });
        let uncovered = format!("{}/new", unique("noteam"));
        let (covered, refused) = runs_under_iam(engine, &prefix, &uncovered, "template");
        covered.assert_success();
        assert_eq!(covered.output("repository-created"), "true");
        let repository = format!("{prefix}/new");
        assert_eq!(
            registry_digest(&front::host(), &repository, "v1").as_deref(),
            Some(covered.output("digest"))
        );
        let ecr = ecr_api::client_as(&iam::endpoint(), &front::region(), None);
        let described = block_on(ecr.describe_repositories().repository_names(&repository).send())
            .expect("the repository ECR created on push, in the enforcing moto");
        let created = &described.repositories()[0];
        assert_eq!(created.image_tag_mutability(), Some(&ImageTagMutability::Immutable));
        let tags = block_on(
            ecr.list_tags_for_resource()
                .resource_arn(created.repository_arn().expect("arn"))
                .send(),
        )
        .expect("ListTagsForResource");
        assert!(
            tags.tags().iter().any(|t| t.key() == "team" && t.value() == prefix),
            "{tags:?}"
        );
        let error = refused.assert_error("E-REPOSITORY-NO-TEMPLATE");
        assert!(
            error.contains("ecr:CreateRepository") && error.contains("CREATE_ON_PUSH"),
            "both ways out: {error}"
        );
        assert_eq!(registry_digest(&front::host(), &uncovered, "v1"), None);
    }
}

/// `create-repository: true` (the default) under the same policy: the covering template is read and
/// used; where none covers the repository the action asks for `CreateRepository`, which IAM refuses,
/// and the error names both ways out; nothing is pushed there.
#[test]
fn under_iam_create_repository_refused_names_both_ways_out() {
    let _one_at_a_time = iam::exclusive();
    let prefix = unique("teamtrue");
    let _template =
        ecr_api::create_template(&ecr_api::iam_endpoint(), &front::region(), &prefix, |t| t);
    let uncovered = format!("{}/new", unique("noteamtrue"));
    let (covered, refused) = runs_under_iam(Engine::Classic, &prefix, &uncovered, "true");
    covered.assert_success();
    assert_eq!(covered.output("repository-created"), "true");
    let error = refused.assert_error("E-REPOSITORY-CREATE-DENIED");
    assert!(
        error.contains("ecr:CreateRepository") && error.contains("CREATE_ON_PUSH"),
        "both ways out: {error}"
    );
    assert_eq!(registry_digest(&front::host(), &uncovered, "v1"), None);
}
