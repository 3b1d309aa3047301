//! The repository settings only private ECR has: what `CreateRepository` takes at creation, and on an
//! existing repository the tag rule, scanning (from its description, written only when they differ),
//! encryption (reported, as ECR sets it only at creation) and the lifecycle policy.

use anyhow::Result;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::create_repository::builders::CreateRepositoryFluentBuilder;
use aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError;
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType,
};

use crate::aws::calls::{answer, read};
use crate::aws::registry::advice::{self, Change};
use crate::aws::registry::plan;
use crate::aws::registry::repository::Described;
use crate::github;
use crate::inputs::{Document, Settings, TagMutability};

/// Adds the settings that ECR takes at creation to a `CreateRepository` call.
pub fn at_creation(
    mut create: CreateRepositoryFluentBuilder,
    settings: &Settings,
) -> Result<CreateRepositoryFluentBuilder> {
    if let Some(mutability) = &settings.tag_mutability {
        create = create
            .image_tag_mutability(ImageTagMutability::from(mutability.mode.as_str()))
            .set_image_tag_mutability_exclusion_filters(exclusion_filters(mutability)?);
    }
    if let Some(scan) = settings.scan_on_push {
        create = create.image_scanning_configuration(scanning(scan));
    }
    if let Some(encryption) = &settings.encryption {
        let config = EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::from(encryption.kind.as_str()))
            .set_kms_key(encryption.kms_key.clone())
            .build()
            .map_err(|e| advice::setting_unbuildable("encryption settings", &e))?;
        create = create.encryption_configuration(config);
    }
    for (key, value) in &settings.tags {
        create = create.tags(super::ecr_tag(key, value)?);
    }
    Ok(create)
}

fn scanning(scan_on_push: bool) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(scan_on_push)
        .build()
}

fn exclusion_filters(
    mutability: &TagMutability,
) -> Result<Option<Vec<ImageTagMutabilityExclusionFilter>>> {
    if mutability.exclusions.is_empty() {
        return Ok(None);
    }
    mutability
        .exclusions
        .iter()
        .map(|filter| {
            ImageTagMutabilityExclusionFilter::builder()
                .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                .filter(filter)
                .build()
                .map_err(|e| advice::setting_unbuildable(&format!("exclusion filter {filter}"), &e))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The tag rule, scanning and encryption of an existing repository, compared with its description.
pub async fn reconcile(
    ecr: &Client,
    name: &str,
    repo: &Described,
    settings: &Settings,
) -> Result<Vec<Change>> {
    let arn = repo.arn();
    let mut changes = Vec::new();
    if let Some(wanted) = settings
        .tag_mutability
        .as_ref()
        .filter(|w| plan::mutability_differs(repo, w))
    {
        let call = ecr
            .put_image_tag_mutability()
            .repository_name(name)
            .set_registry_id(repo.registry_id.clone())
            .image_tag_mutability(ImageTagMutability::from(wanted.mode.as_str()))
            .set_image_tag_mutability_exclusion_filters(exclusion_filters(wanted)?);
        answer(call.send().await, "ecr:PutImageTagMutability", arn)?;
        changes.push(Change::from_to(
            "image tag mutability",
            &repo.tag_mutability,
            wanted.mode,
        ));
    }
    if let Some(wanted) = settings.scan_on_push.filter(|&w| w != repo.scan_on_push) {
        let call = ecr
            .put_image_scanning_configuration()
            .repository_name(name)
            .set_registry_id(repo.registry_id.clone())
            .image_scanning_configuration(scanning(wanted));
        answer(call.send().await, "ecr:PutImageScanningConfiguration", arn)?;
        changes.push(Change::from_to("scan on push", repo.scan_on_push, wanted));
    }
    if let Some(wanted) = settings
        .encryption
        .as_ref()
        .filter(|w| plan::encryption_differs(repo, w))
    {
        let key = repo.kms_key.as_deref();
        github::warning(&advice::encryption_differs(
            name,
            &repo.encryption,
            key,
            wanted,
        ));
    }
    Ok(changes)
}

pub async fn lifecycle_policy(
    ecr: &Client,
    name: &str,
    repo: &Described,
) -> Result<Option<String>> {
    let get = ecr.get_lifecycle_policy().repository_name(name);
    let result = get.set_registry_id(repo.registry_id.clone()).send().await;
    let not_found = GetLifecyclePolicyError::is_lifecycle_policy_not_found_exception;
    let out = read(result, not_found, "ecr:GetLifecyclePolicy", repo.arn())?;
    Ok(out.and_then(|o| o.lifecycle_policy_text().map(str::to_owned)))
}

pub async fn put_lifecycle_policy(
    ecr: &Client,
    name: &str,
    repo: &Described,
    wanted: &Document,
) -> Result<()> {
    let put = ecr.put_lifecycle_policy().repository_name(name);
    let put = put
        .set_registry_id(repo.registry_id.clone())
        .lifecycle_policy_text(wanted.text());
    answer(put.send().await, "ecr:PutLifecyclePolicy", repo.arn())?;
    Ok(())
}
