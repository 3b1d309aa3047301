//! Create on push, end to end through the registry front (`testbed/ecr-front`, the test account's
//! registry in a second region) and the fake of ECR's newer API (`TESTBED_ECR_API`): with
//! `create-repository: template`, a repository that a `CREATE_ON_PUSH` repository creation template
//! covers is created by the push (the front does as ECR does) with the template's settings, the action
//! calling no `CreateRepository`; without a covering template the run stops before pushing.
//! API reference, `CreateRepositoryCreationTemplate` (prefix, `ROOT`, `appliedFor`).

use aws_sdk_ecr::types::ImageTagMutability;

use crate::on_both_engines;
use crate::support::{Action, Engine, block_on, registry_digest, unique};
use crate::support::{ecr_api, front};

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

on_both_engines! {
    fn a_template_lets_ecr_create_the_repository_on_push(engine: Engine) {
        let ecr = ecr_in_front_region();
        let prefix = unique("cop");
        let _template = ecr_api::create_template(&front::region(), &prefix, |t| {
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
        let warnings: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("::warning::"))
            .collect();
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
    let _template = ecr_api::create_template(&front::region(), &prefix, |t| {
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
