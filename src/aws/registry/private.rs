//! Amazon ECR (private registries): the calls that differ from ECR Public — describing and creating a
//! repository (with the settings ECR takes at creation), its tags and repository policy, and the digest
//! a tag holds. A refusal to describe or create is an answer here, not an error: the shared path
//! decides whether the push can go on. The settings only ECR has are in [`settings`].

pub mod settings;

use anyhow::Result;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError;
use aws_sdk_ecr::types::{
    DescribeImagesFilter, EncryptionConfiguration, ImageIdentifier, ImageScanningConfiguration,
    ImageStatus, ImageStatusFilter, ImageTagMutabilityExclusionFilter, RctAppliedFor,
    Repository as EcrRepository, Tag as EcrTag,
};

use super::advice;
use super::plan::Template;
use super::repository::{Created, Described, Lookup, Tagged};
use crate::aws::calls::{absent_if, answer, read};
use crate::aws::{denied, sdk_error_text};
use crate::inputs::{Config, Document, Tag};

pub async fn describe(ecr: &Client, config: &Config) -> Result<Lookup> {
    let name = config.repository.as_str();
    let result = ecr
        .describe_repositories()
        .repository_names(name)
        .set_registry_id(config.registry_id.clone())
        .send()
        .await;
    match absent_if(
        result,
        DescribeRepositoriesError::is_repository_not_found_exception,
    ) {
        Ok(out) => Ok(out
            .as_ref()
            .and_then(|out| {
                out.repositories()
                    .iter()
                    .find(|r| r.repository_name() == Some(name))
            })
            .map_or(Lookup::Missing, |r| Lookup::Found(described(r)))),
        Err(err) => {
            match denied::from_sdk_error(&err, "ecr:DescribeRepositories", &resource_arn(config)) {
                Some(doctor) => Ok(Lookup::Denied(doctor)),
                None => Err(advice::describe_failed(name, &sdk_error_text(&err))),
            }
        }
    }
}

/// `CreateRepository` with every setting ECR takes at creation.
pub async fn create(ecr: &Client, config: &Config) -> Result<Created> {
    let create = ecr
        .create_repository()
        .repository_name(config.repository.as_str())
        .set_registry_id(config.registry_id.clone());
    match settings::at_creation(create, &config.settings)?
        .send()
        .await
    {
        Ok(out) => Ok(Created::Made(
            out.repository()
                .filter(|r| r.repository_name().is_some())
                .map(described),
        )),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            Ok(Created::AlreadyExists)
        }
        Err(err) => {
            match denied::from_sdk_error(&err, "ecr:CreateRepository", &resource_arn(config)) {
                Some(doctor) => Ok(Created::Denied(doctor)),
                None => Err(advice::create_failed(
                    config.repository.as_str(),
                    config.registry_id.as_deref(),
                    &sdk_error_text(&err),
                )),
            }
        }
    }
}

/// The repository's ARN for the doctor, when AWS's answer does not name it. Without `registry-id`
/// the account is the caller's, which the refusal's principal tells; `*` stands in otherwise.
fn resource_arn(config: &Config) -> String {
    crate::partition::repository_arn(
        &config.region,
        config.registry_id.as_deref().unwrap_or("*"),
        config.repository.as_str(),
    )
}

fn described(repo: &EcrRepository) -> Described {
    let encryption = repo.encryption_configuration();
    Described {
        arn: repo.repository_arn().map(str::to_owned),
        registry_id: repo.registry_id().map(str::to_owned),
        uri: None,
        tag_mutability: repo
            .image_tag_mutability()
            .map_or("MUTABLE", |m| m.as_str())
            .to_owned(),
        exclusions: repo
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| ImageTagMutabilityExclusionFilter::filter(f).to_owned())
            .collect(),
        scan_on_push: repo
            .image_scanning_configuration()
            .is_some_and(ImageScanningConfiguration::scan_on_push),
        encryption: encryption
            .map_or("AES256", |c| c.encryption_type().as_str())
            .to_owned(),
        kms_key: encryption
            .and_then(EncryptionConfiguration::kms_key)
            .map(str::to_owned),
    }
}

/// What `tag` holds, `None` when it does not exist. `DescribeImages` returns only `ACTIVE` images
/// unless its filter's `imageStatus` says otherwise (API reference, `DescribeImagesFilter`), so the
/// lookup asks for `ANY`: an archived tag is then seen, with `imageStatus` `ARCHIVED` (`ImageDetail`).
pub async fn digest(ecr: &Client, config: &Config, arn: &str, tag: &Tag) -> Result<Option<Tagged>> {
    let images = ecr
        .describe_images()
        .repository_name(config.repository.as_str());
    let id = ImageIdentifier::builder().image_tag(tag.as_str()).build();
    let any = DescribeImagesFilter::builder()
        .image_status(ImageStatusFilter::Any)
        .build();
    let images = images
        .set_registry_id(config.registry_id.clone())
        .image_ids(id)
        .filter(any);
    let missing = DescribeImagesError::is_image_not_found_exception;
    let out = read(images.send().await, missing, "ecr:DescribeImages", arn)?;
    let first = out.as_ref().and_then(|out| out.image_details().first());
    Ok(first.and_then(|d| {
        Some(Tagged {
            digest: d.image_digest()?.to_owned(),
            archived: d.image_status() == Some(&ImageStatus::Archived),
        })
    }))
}

/// The image configuration digest named by the manifest `digest` (`None` for an index, which names
/// none): what a classic image store's image is compared by.
pub async fn config_digest(
    ecr: &Client,
    config: &Config,
    arn: &str,
    digest: &str,
) -> Result<Option<String>> {
    let get = ecr
        .batch_get_image()
        .repository_name(config.repository.as_str())
        .set_registry_id(config.registry_id.clone())
        .image_ids(ImageIdentifier::builder().image_digest(digest).build())
        // Every manifest type a push makes, so that ECR returns the manifest as stored.
        .set_accepted_media_types(Some(
            super::repository::MANIFEST_TYPES
                .map(str::to_owned)
                .to_vec(),
        ));
    let out = answer(get.send().await, "ecr:BatchGetImage", arn)?;
    let manifest = out.images().first().and_then(|i| i.image_manifest());
    let parsed = manifest.and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok());
    Ok(parsed.and_then(|m| m["config"]["digest"].as_str().map(str::to_owned)))
}

/// The caller's registry's scanning configuration: its scan type and how many rules it has; `Err`
/// says why it could not be read (an access refusal is one: the check is advisory).
pub async fn registry_scanning(ecr: &Client) -> std::result::Result<(String, usize), String> {
    match ecr.get_registry_scanning_configuration().send().await {
        Ok(out) => {
            let scanning = out.scanning_configuration();
            let scan_type = scanning.and_then(|c| c.scan_type());
            Ok((
                scan_type.map_or("BASIC", |t| t.as_str()).to_owned(),
                scanning.map_or(0, |c| c.rules().len()),
            ))
        }
        Err(err) => Err(
            denied::from_sdk_error(&err, "ecr:GetRegistryScanningConfiguration", "*")
                .map_or_else(|| sdk_error_text(&err), |_| "access denied".to_owned()),
        ),
    }
}

/// The registry's `CREATE_ON_PUSH` repository creation templates; `Err` says why they could not be
/// read (an access refusal is one).
pub async fn creation_templates(
    ecr: &Client,
    config: &Config,
) -> std::result::Result<Vec<Template>, String> {
    let mut templates = Vec::new();
    let mut next = None;
    loop {
        let describe = ecr
            .describe_repository_creation_templates()
            .set_next_token(next);
        let out = match describe.send().await {
            Ok(out) => out,
            Err(err) => {
                let action = "ecr:DescribeRepositoryCreationTemplates";
                return Err(denied::from_sdk_error(&err, action, &resource_arn(config))
                    .map_or_else(|| sdk_error_text(&err), |_| "access denied".to_owned()));
            }
        };
        let on_push = out
            .repository_creation_templates()
            .iter()
            .filter(|t| t.applied_for().contains(&RctAppliedFor::CreateOnPush));
        templates.extend(on_push.map(|t| {
            Template {
                prefix: t.prefix().unwrap_or_default().to_owned(),
                tag_mutability: t.image_tag_mutability().map(|m| m.as_str().to_owned()),
                encryption: t
                    .encryption_configuration()
                    .map(|e| e.encryption_type().as_str().to_owned()),
            }
        }));
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(templates);
        }
    }
}

pub async fn tags(ecr: &Client, arn: &str) -> Result<Vec<(String, String)>> {
    let list = ecr.list_tags_for_resource().resource_arn(arn);
    let out = answer(list.send().await, "ecr:ListTagsForResource", arn)?;
    let pair = |t: &EcrTag| (t.key().to_owned(), t.value().to_owned());
    Ok(out.tags().iter().map(pair).collect())
}

pub async fn add_tags(ecr: &Client, arn: &str, tags: &[(String, String)]) -> Result<()> {
    let tags = tags
        .iter()
        .map(|(k, v)| ecr_tag(k, v))
        .collect::<Result<Vec<_>>>()?;
    let result = ecr
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await;
    answer(result, "ecr:TagResource", arn)?;
    Ok(())
}

fn ecr_tag(key: &str, value: &str) -> Result<EcrTag> {
    let tag = EcrTag::builder().key(key).value(value).build();
    tag.map_err(|e| advice::setting_unbuildable(&format!("tag {key}"), &e))
}

pub async fn repository_policy(
    ecr: &Client,
    name: &str,
    repo: &Described,
) -> Result<Option<String>> {
    let get = ecr.get_repository_policy().repository_name(name);
    let result = get.set_registry_id(repo.registry_id.clone()).send().await;
    let not_found = GetRepositoryPolicyError::is_repository_policy_not_found_exception;
    let out = read(result, not_found, "ecr:GetRepositoryPolicy", repo.arn())?;
    Ok(out.and_then(|o| o.policy_text().map(str::to_owned)))
}

pub async fn set_repository_policy(
    ecr: &Client,
    name: &str,
    repo: &Described,
    wanted: &Document,
) -> Result<()> {
    let set = ecr.set_repository_policy().repository_name(name);
    let set = set
        .set_registry_id(repo.registry_id.clone())
        .policy_text(wanted.text());
    answer(set.send().await, "ecr:SetRepositoryPolicy", repo.arn())?;
    Ok(())
}
