//! Repository settings as code: what `CreateRepository` takes at creation, and the reconciliation of
//! an existing repository — each setting is read first and written only when it differs, so a run
//! with nothing to change makes no write call at all.

use anyhow::{Result, anyhow, bail};
use aws_sdk_ecr::operation::create_repository::builders::CreateRepositoryFluentBuilder;
use aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError;
use aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError;
use aws_sdk_ecr::types::{
    EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType,
    Repository as EcrRepository, Tag,
};
use serde_json::Value;

use super::call_failed;
use crate::github;
use crate::inputs::{Document, Encryption, Settings, TagMutability};

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
        create = create.image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(scan)
                .build(),
        );
    }
    if let Some(encryption) = &settings.encryption {
        let config = EncryptionConfiguration::builder()
            .encryption_type(EncryptionType::from(encryption.kind.as_str()))
            .set_kms_key(encryption.kms_key.clone())
            .build()
            .map_err(|e| anyhow!("encryption settings: {e}"))?;
        create = create.encryption_configuration(config);
    }
    for (key, value) in &settings.tags {
        create = create.tags(
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| anyhow!("tag {key}: {e}"))?,
        );
    }
    Ok(create)
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
                .map_err(|e| anyhow!("exclusion filter {filter}: {e}"))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The repository being reconciled, and how to reach it.
struct Target<'a> {
    ecr: &'a aws_sdk_ecr::Client,
    name: &'a str,
    arn: &'a str,
    registry_id: Option<String>,
}

/// Brings `repo` (as `DescribeRepositories` or `CreateRepository` returned it) to `settings`;
/// returns what changed, one line each. A repository created just now has everything but its
/// policies already.
pub async fn reconcile(
    ecr: &aws_sdk_ecr::Client,
    repo: &EcrRepository,
    created: bool,
    settings: &Settings,
) -> Result<Vec<String>> {
    let target = Target {
        ecr,
        name: repo.repository_name().unwrap_or_default(),
        arn: repo.repository_arn().unwrap_or_default(),
        registry_id: repo.registry_id().map(str::to_owned),
    };
    let mut changes = Vec::new();
    if !created {
        if let Some(wanted) = &settings.tag_mutability {
            changes.extend(tag_mutability(&target, repo, wanted).await?);
        }
        if let Some(wanted) = settings.scan_on_push {
            changes.extend(scan_on_push(&target, repo, wanted).await?);
        }
        if let Some(wanted) = &settings.encryption {
            warn_if_encryption_differs(target.name, repo, wanted);
        }
        if !settings.tags.is_empty() {
            changes.extend(reconcile_tags(&target, &settings.tags).await?);
        }
    }
    if let Some(wanted) = &settings.lifecycle_policy {
        changes.extend(lifecycle_policy(&target, wanted).await?);
    }
    if let Some(wanted) = &settings.repository_policy {
        changes.extend(repository_policy(&target, wanted).await?);
    }
    for change in &changes {
        github::info(&format!("Repository {}: {change}", target.name));
    }
    if changes.is_empty() && !created && !settings.is_empty() {
        github::info(&format!(
            "Repository {}: settings already as wanted",
            target.name
        ));
    }
    Ok(changes)
}

async fn tag_mutability(
    t: &Target<'_>,
    repo: &EcrRepository,
    wanted: &TagMutability,
) -> Result<Option<String>> {
    let current = repo
        .image_tag_mutability()
        .map_or("MUTABLE", ImageTagMutability::as_str);
    let mut current_filters: Vec<&str> = repo
        .image_tag_mutability_exclusion_filters()
        .iter()
        .map(ImageTagMutabilityExclusionFilter::filter)
        .collect();
    let mut wanted_filters: Vec<&str> = wanted.exclusions.iter().map(String::as_str).collect();
    current_filters.sort_unstable();
    wanted_filters.sort_unstable();
    if current == wanted.mode.as_str() && current_filters == wanted_filters {
        return Ok(None);
    }
    t.ecr
        .put_image_tag_mutability()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .image_tag_mutability(ImageTagMutability::from(wanted.mode.as_str()))
        .set_image_tag_mutability_exclusion_filters(exclusion_filters(wanted)?)
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:PutImageTagMutability", t.arn))?;
    Ok(Some(format!(
        "image tag mutability: {current} → {}",
        wanted.mode
    )))
}

async fn scan_on_push(
    t: &Target<'_>,
    repo: &EcrRepository,
    wanted: bool,
) -> Result<Option<String>> {
    let current = repo
        .image_scanning_configuration()
        .is_some_and(ImageScanningConfiguration::scan_on_push);
    if current == wanted {
        return Ok(None);
    }
    t.ecr
        .put_image_scanning_configuration()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(wanted)
                .build(),
        )
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:PutImageScanningConfiguration", t.arn))?;
    Ok(Some(format!("scan on push: {current} → {wanted}")))
}

/// ECR sets encryption only at creation: a difference can only be reported.
fn warn_if_encryption_differs(name: &str, repo: &EcrRepository, wanted: &Encryption) {
    let current = repo.encryption_configuration();
    let kind = current.map_or("AES256", |c| c.encryption_type().as_str());
    let key = current.and_then(EncryptionConfiguration::kms_key);
    let key_differs = wanted
        .kms_key
        .as_deref()
        .is_some_and(|k| !key.is_some_and(|arn| arn == k || arn.ends_with(k)));
    if kind != wanted.kind || key_differs {
        github::warning(&format!(
            "Repository {name} is encrypted with {kind}{}, not {}{}: ECR sets encryption only when a repository is \
             created, so this run cannot change it. Re-create the repository to change it.",
            key.map(|k| format!(" ({k})")).unwrap_or_default(),
            wanted.kind,
            wanted
                .kms_key
                .as_deref()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default(),
        ));
    }
}

async fn lifecycle_policy(t: &Target<'_>, wanted: &Document) -> Result<Option<String>> {
    let current = t
        .ecr
        .get_lifecycle_policy()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .send()
        .await;
    let current = match current {
        Ok(out) => out.lifecycle_policy_text().map(str::to_owned),
        Err(e)
            if e.as_service_error()
                .is_some_and(GetLifecyclePolicyError::is_lifecycle_policy_not_found_exception) =>
        {
            None
        }
        Err(e) => return Err(call_failed(&e, "ecr:GetLifecyclePolicy", t.arn)),
    };
    if !differs(current.as_deref(), wanted) {
        return Ok(None);
    }
    t.ecr
        .put_lifecycle_policy()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .lifecycle_policy_text(wanted.text())
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:PutLifecyclePolicy", t.arn))?;
    Ok(Some(format!("lifecycle policy set from {}", wanted.source)))
}

async fn repository_policy(t: &Target<'_>, wanted: &Document) -> Result<Option<String>> {
    let current = t
        .ecr
        .get_repository_policy()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .send()
        .await;
    let current = match current {
        Ok(out) => out.policy_text().map(str::to_owned),
        Err(e)
            if e.as_service_error().is_some_and(
                GetRepositoryPolicyError::is_repository_policy_not_found_exception,
            ) =>
        {
            None
        }
        Err(e) => return Err(call_failed(&e, "ecr:GetRepositoryPolicy", t.arn)),
    };
    if !differs(current.as_deref(), wanted) {
        return Ok(None);
    }
    t.ecr
        .set_repository_policy()
        .repository_name(t.name)
        .set_registry_id(t.registry_id.clone())
        .policy_text(wanted.text())
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:SetRepositoryPolicy", t.arn))?;
    Ok(Some(format!(
        "repository policy set from {}",
        wanted.source
    )))
}

/// Tags are added or updated, never removed: other tools may own other tags.
async fn reconcile_tags(t: &Target<'_>, wanted: &[(String, String)]) -> Result<Vec<String>> {
    let arn = t.arn;
    let current = t
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:ListTagsForResource", arn))?;
    let missing: Vec<&(String, String)> = wanted
        .iter()
        .filter(|(k, v)| {
            !current
                .tags()
                .iter()
                .any(|t| t.key() == k && t.value() == v)
        })
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let tags = missing
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| anyhow!("tag {k}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    t.ecr
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| call_failed(&e, "ecr:TagResource", arn))?;
    Ok(missing
        .iter()
        .map(|(k, v)| format!("tag {k}={v}"))
        .collect())
}

/// Compares as JSON values, so that AWS's own formatting of a stored policy is no difference.
pub(super) fn differs(current: Option<&str>, wanted: &Document) -> bool {
    current
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .as_ref()
        != Some(&wanted.json)
}

/// Says so when settings cannot be applied because the repository could not be read.
pub fn require_description(settings: &Settings, name: &str) -> Result<()> {
    if settings.is_empty() {
        return Ok(());
    }
    bail!(
        "Repository settings were given, but repository {name} could not be read (ecr:DescribeRepositories is not \
         allowed), so they cannot be compared or applied. Allow ecr:DescribeRepositories, or remove the settings inputs."
    )
}
