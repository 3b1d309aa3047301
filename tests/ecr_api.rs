//! The test bed's fake of the ECR operations moto lacks (`testbed/fake-ecr-api`), end to end through
//! the SDK: signing status driven by the caller's IAM, creation templates and their validation, create
//! on push through the registry front with a real `docker push`, the archive storage class, and
//! registry scanning. Shapes are the API reference's (cited per test) and the SDK's models.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{
    ImageIdentifier, ImageStatus, ImageTagMutability, RctAppliedFor, RegistryScanningRule,
    ScanFrequency, ScanType, ScanningRepositoryFilter, ScanningRepositoryFilterType,
    SigningConfiguration, SigningRule, SigningStatus, Tag, TargetStorageClass,
};

use crate::support::ecr_api::{self, client, client_as, create_template, put_signing_rule};
use crate::support::{block_on, front, iam, stack, unique};

/// The error code of a failed call (panics when it succeeded).
fn code<T, E: ProvideErrorMetadata + std::fmt::Debug>(result: Result<T, E>) -> String {
    match result {
        Ok(_) => panic!("the call succeeded"),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("no error code: {e:?}"))
            .to_owned(),
    }
}

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

fn signing_statuses(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    digest: &str,
) -> Vec<(SigningStatus, Option<String>)> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    let out = block_on(
        ecr.describe_image_signing_status()
            .repository_name(repository)
            .image_id(image)
            .send(),
    )
    .expect("DescribeImageSigningStatus");
    out.signing_statuses()
        .iter()
        .map(|s| {
            (
                s.status().cloned().expect("status"),
                s.failure_code().map(str::to_owned),
            )
        })
        .collect()
}

/// A status per matching rule's profile (`*` in a filter matches any characters):
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageSigningStatus.html>,
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SigningRepositoryFilter.html>.
#[test]
fn signing_status_is_in_progress_then_complete_for_matching_repositories() {
    let s = stack();
    let team = unique("signed");
    let rule = put_signing_rule(&ecr_api::endpoint(), &s.region, &format!("{team}/*"));
    let signed = format!("{team}/app");
    let unsigned = unique("unsigned");
    for name in [&signed, &unsigned] {
        crate::support::create_repository(name);
    }
    let ecr = client();
    assert_eq!(
        signing_statuses(&ecr, &signed, &digest(1)),
        [(SigningStatus::InProgress, None)]
    );
    assert_eq!(
        signing_statuses(&ecr, &signed, &digest(1)),
        [(SigningStatus::Complete, None)]
    );
    assert_eq!(signing_statuses(&ecr, &unsigned, &digest(1)), []);
    let missing = ImageIdentifier::builder().image_digest(digest(1)).build();
    let err = block_on(
        ecr.describe_image_signing_status()
            .repository_name(format!("{team}/missing"))
            .image_id(missing)
            .send(),
    );
    assert_eq!(code(err), "RepositoryNotFoundException");
    drop(rule);
}

/// Behind the enforcing moto the status is the pusher's: `FAILED` (with a code and a reason, as
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageSigningStatus.html> documents) without `signer:SignPayload` on the profile, else `COMPLETE`.
#[test]
fn signing_fails_when_the_caller_may_not_sign_payloads() {
    let _iam = iam::exclusive();
    let s = stack();
    let team = unique("iamsigned");
    let repository = format!("{team}/app");
    let _rule = put_signing_rule(&ecr_api::iam_endpoint(), &s.region, &format!("{team}/*"));
    let reader = ["ecr:DescribeImages", "ecr:DescribeImageSigningStatus"].map(str::to_owned);
    let without = iam::user(&reader, &[&repository]);
    let with = iam::user(
        &[&reader[..], &["signer:SignPayload".to_owned()]].concat(),
        &[],
    );
    let as_without = client_as(&ecr_api::iam_endpoint(), &s.region, Some(&without));
    let as_with = client_as(&ecr_api::iam_endpoint(), &s.region, Some(&with));
    assert_eq!(
        signing_statuses(&as_without, &repository, &digest(2))[0].0,
        SigningStatus::InProgress
    );
    let image = ImageIdentifier::builder().image_digest(digest(2)).build();
    let out = block_on(
        as_without
            .describe_image_signing_status()
            .repository_name(&repository)
            .image_id(image)
            .send(),
    )
    .expect("DescribeImageSigningStatus");
    let status = &out.signing_statuses()[0];
    assert_eq!(status.status(), Some(&SigningStatus::Failed));
    assert_eq!(status.failure_code(), Some("AccessDenied"));
    assert!(
        status
            .failure_reason()
            .is_some_and(|r| r.contains("signer:SignPayload")),
        "{status:?}"
    );
    assert_eq!(
        signing_statuses(&as_with, &repository, &digest(3))[0].0,
        SigningStatus::InProgress
    );
    assert_eq!(
        signing_statuses(&as_with, &repository, &digest(3))[0].0,
        SigningStatus::Complete
    );
}

/// Behind the enforcing moto the fake's own operations are IAM's too: a caller without
/// `ecr:GetSigningConfiguration` is refused as ECR refuses (`AccessDeniedException`, IAM's wording,
/// the registry-level action on `*`), one with it is answered.
#[test]
fn the_fakes_own_operations_are_refused_without_the_action() {
    let _iam = iam::exclusive();
    let s = stack();
    let without = iam::user(&["ecr:DescribeImages".to_owned()], &[]);
    let with = iam::user(&["ecr:GetSigningConfiguration".to_owned()], &[]);
    let refused = block_on(
        client_as(&ecr_api::iam_endpoint(), &s.region, Some(&without))
            .get_signing_configuration()
            .send(),
    )
    .expect_err("refused without ecr:GetSigningConfiguration");
    assert_eq!(refused.code(), Some("AccessDeniedException"), "{refused:?}");
    assert!(
        refused.message().is_some_and(|m| m
            .contains("is not authorized to perform: ecr:GetSigningConfiguration on resource: *")),
        "{refused:?}"
    );
    let answered = block_on(
        client_as(&ecr_api::iam_endpoint(), &s.region, Some(&with))
            .get_signing_configuration()
            .send(),
    );
    assert!(
        answered.is_ok()
            || answered
                .as_ref()
                .is_err_and(|e| e.code() == Some("SigningConfigurationNotFoundException")),
        "{answered:?}"
    );
}

/// `PutSigningConfiguration` validates the profile ARN's pattern (<https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SigningRule.html>);
/// Get/Delete without a configuration: `SigningConfigurationNotFoundException`.
/// In a region of its own, so that no other test's rules are touched.
#[test]
fn signing_configuration_is_validated_and_can_be_deleted() {
    let ecr = client_as(&ecr_api::endpoint(), "eu-west-3", None);
    let rule = |profile: &str| {
        SigningConfiguration::builder()
            .rules(
                SigningRule::builder()
                    .signing_profile_arn(profile)
                    .build()
                    .expect("rule"),
            )
            .build()
            .expect("configuration")
    };
    let bad = block_on(
        ecr.put_signing_configuration()
            .signing_configuration(rule("arn:aws:iam::1:role/x"))
            .send(),
    );
    assert_eq!(code(bad), "InvalidParameterException");
    let profile = ecr_api::profile_arn("eu-west-3");
    block_on(
        ecr.put_signing_configuration()
            .signing_configuration(rule(&profile))
            .send(),
    )
    .expect("put");
    let got = block_on(ecr.get_signing_configuration().send()).expect("get");
    assert_eq!(
        got.signing_configuration().expect("configuration").rules()[0].signing_profile_arn(),
        profile
    );
    block_on(ecr.delete_signing_configuration().send()).expect("delete");
    assert_eq!(
        code(block_on(ecr.get_signing_configuration().send())),
        "SigningConfigurationNotFoundException"
    );
    assert_eq!(
        code(block_on(ecr.delete_signing_configuration().send())),
        "SigningConfigurationNotFoundException"
    );
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html>
/// and its Describe/Update/Delete siblings: errors `TemplateAlreadyExistsException`,
/// `TemplateNotFoundException`; `appliedFor` takes `REPLICATION | PULL_THROUGH_CACHE | CREATE_ON_PUSH`.
#[test]
fn creation_templates_are_created_described_updated_and_deleted() {
    let s = stack();
    let prefix = unique("tpl");
    let template = create_template(&ecr_api::endpoint(), &s.region, &prefix, |t| {
        t.image_tag_mutability(ImageTagMutability::Immutable)
    });
    let ecr = client();
    let again = block_on(
        ecr.create_repository_creation_template()
            .prefix(&prefix)
            .applied_for(RctAppliedFor::CreateOnPush)
            .send(),
    );
    assert_eq!(code(again), "TemplateAlreadyExistsException");
    let unknown = block_on(
        ecr.create_repository_creation_template()
            .prefix(unique("tpl"))
            .applied_for(RctAppliedFor::from("CREATE_ON_PULL"))
            .send(),
    );
    assert_eq!(code(unknown), "ValidationException");
    let bad_policy = block_on(
        ecr.create_repository_creation_template()
            .prefix(unique("tpl"))
            .applied_for(RctAppliedFor::CreateOnPush)
            .lifecycle_policy("{not json")
            .send(),
    );
    assert_eq!(code(bad_policy), "InvalidParameterException");
    block_on(
        ecr.update_repository_creation_template()
            .prefix(&prefix)
            .image_tag_mutability(ImageTagMutability::Mutable)
            .send(),
    )
    .expect("UpdateRepositoryCreationTemplate");
    let found = block_on(
        ecr.describe_repository_creation_templates()
            .prefixes(&prefix)
            .send(),
    )
    .expect("describe");
    let found = &found.repository_creation_templates()[0];
    assert_eq!(
        found.image_tag_mutability(),
        Some(&ImageTagMutability::Mutable)
    );
    assert_eq!(found.applied_for(), [RctAppliedFor::CreateOnPush]);
    drop(template);
    let gone = block_on(
        ecr.delete_repository_creation_template()
            .prefix(&prefix)
            .send(),
    );
    assert_eq!(code(gone), "TemplateNotFoundException");
    let gone = block_on(
        ecr.update_repository_creation_template()
            .prefix(&prefix)
            .send(),
    );
    assert_eq!(code(gone), "TemplateNotFoundException");
}

crate::on_every_engine! {
/// A push to a repository that does not exist, under a `CREATE_ON_PUSH` template's prefix, creates it
/// with the template's settings
/// (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html>);
/// without a covering template the registry answers `NAME_UNKNOWN` as before.
fn a_push_creates_the_repository_from_its_template(engine: Engine) {
    let region = front::region();
    let team = unique("team");
    let lifecycle = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:BatchGetImage"}]}"#;
    let _template = create_template(&ecr_api::endpoint(), &region, &team, |t| {
        t.image_tag_mutability(ImageTagMutability::Immutable)
            .resource_tags(
                Tag::builder()
                    .key("team")
                    .value(&team)
                    .build()
                    .expect("tag"),
            )
            .lifecycle_policy(lifecycle)
            .repository_policy(policy)
    });
    let local = format!("{}:1", unique("e2e-create-on-push"));
    let _image = engine.image(&local);
    let repository = format!("{team}/new");
    let host = front::host();
    let (pushed, said) = engine.login_and_push(&local, &format!("{host}/{repository}:v1"), &host);
    assert!(pushed, "{said}");

    let moto = moto_in(&region);
    let created = block_on(
        moto.describe_repositories()
            .repository_names(&repository)
            .send(),
    )
    .expect("created");
    let created = &created.repositories()[0];
    assert_eq!(
        created.image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );
    let arn = created.repository_arn().expect("ARN");
    let tags = block_on(moto.list_tags_for_resource().resource_arn(arn).send()).expect("tags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == team),
        "{tags:?}"
    );
    let got = block_on(
        moto.get_lifecycle_policy()
            .repository_name(&repository)
            .send(),
    )
    .expect("lifecycle policy");
    assert!(
        got.lifecycle_policy_text()
            .is_some_and(|t| t.contains("imageCountMoreThan"))
    );
    let got = block_on(
        moto.get_repository_policy()
            .repository_name(&repository)
            .send(),
    )
    .expect("repository policy");
    assert!(
        got.policy_text()
            .is_some_and(|t| t.contains("ecr:BatchGetImage"))
    );

    let elsewhere = format!("{}/new", unique("untemplated"));
    let (pushed, said) = engine.login_and_push(&local, &format!("{host}/{elsewhere}:v1"), &host);
    assert!(!pushed && said.contains("does not exist"), "{said}");
}
}

/// The open moto, in `region` (the fake forwards to it; create on push writes there).
fn moto_in(region: &str) -> aws_sdk_ecr::Client {
    client_as(&stack().endpoint, region, None)
}

fn put_image(repository: &str, tag: &str) -> String {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": digest(9)},
        "layers": [],
    });
    let out = block_on(
        client()
            .put_image()
            .repository_name(repository)
            .image_tag(tag)
            .image_manifest(manifest.to_string())
            .send(),
    )
    .expect("PutImage");
    out.image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .expect("digest")
        .to_owned()
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UpdateImageStorageClass.html> and
/// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html>: an archived image is
/// described with `imageStatus` `ARCHIVED` and cannot be pulled; pushing it again restores it.
#[test]
fn archived_images_are_described_as_archived_until_pushed_again() {
    let repository = unique("archive");
    crate::support::create_repository(&repository);
    let digest = put_image(&repository, "v1");
    assert_eq!(
        ecr_api::image_status(&repository, &digest),
        Some(ImageStatus::Active)
    );
    ecr_api::archive(&repository, &digest);
    assert_eq!(
        ecr_api::image_status(&repository, &digest),
        Some(ImageStatus::Archived)
    );
    let pulled = block_on(
        client()
            .batch_get_image()
            .repository_name(&repository)
            .image_ids(ImageIdentifier::builder().image_tag("v1").build())
            .send(),
    )
    .expect("BatchGetImage");
    assert!(pulled.images().is_empty(), "{pulled:?}");
    assert_eq!(
        pulled.failures()[0]
            .failure_code()
            .map(aws_sdk_ecr::types::ImageFailureCode::as_str),
        Some("ImageNotFound")
    );

    // Put again (under another tag: moto refuses the same tag twice with ImageAlreadyExistsException).
    assert_eq!(put_image(&repository, "v2"), digest);
    assert_eq!(
        ecr_api::image_status(&repository, &digest),
        Some(ImageStatus::Active)
    );

    let missing = block_on(
        client()
            .update_image_storage_class()
            .repository_name(&repository)
            .image_id(ImageIdentifier::builder().image_tag("nope").build())
            .target_storage_class(TargetStorageClass::Archive)
            .send(),
    );
    assert_eq!(code(missing), "ImageNotFoundException");
    let invalid = block_on(
        client()
            .update_image_storage_class()
            .repository_name(&repository)
            .image_id(ImageIdentifier::builder().image_digest(&digest).build())
            .target_storage_class(TargetStorageClass::from("GLACIER"))
            .send(),
    );
    assert_eq!(code(invalid), "ValidationException");
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutRegistryScanningConfiguration.html>:
/// `BASIC` scanning takes `SCAN_ON_PUSH | MANUAL`, `ENHANCED` `SCAN_ON_PUSH | CONTINUOUS_SCAN`. A region of its own.
#[test]
fn registry_scanning_configuration_is_kept_and_validated() {
    let ecr = client_as(&ecr_api::endpoint(), "eu-north-1", None);
    let rule = |frequency: ScanFrequency| {
        RegistryScanningRule::builder()
            .scan_frequency(frequency)
            .repository_filters(
                ScanningRepositoryFilter::builder()
                    .filter("*")
                    .filter_type(ScanningRepositoryFilterType::Wildcard)
                    .build()
                    .expect("filter"),
            )
            .build()
            .expect("rule")
    };
    let bad = block_on(
        ecr.put_registry_scanning_configuration()
            .scan_type(ScanType::Basic)
            .rules(rule(ScanFrequency::ContinuousScan))
            .send(),
    );
    assert_eq!(code(bad), "ValidationException");
    block_on(
        ecr.put_registry_scanning_configuration()
            .scan_type(ScanType::Enhanced)
            .rules(rule(ScanFrequency::ContinuousScan))
            .send(),
    )
    .expect("PutRegistryScanningConfiguration");
    let got = block_on(ecr.get_registry_scanning_configuration().send()).expect("get");
    let got = got.scanning_configuration().expect("configuration");
    assert_eq!(got.scan_type(), Some(&ScanType::Enhanced));
    assert_eq!(got.rules().len(), 1);
}
