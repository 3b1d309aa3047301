//! Amazon ECR Public: its API lives only in us-east-1 whatever `aws-region` says, its registry is
//! `public.ecr.aws`, and a repository's URI (`public.ecr.aws/<alias>/<name>`) comes from the API.
//! A new repository gets its catalog data and tags; an existing one has its tags and repository
//! policy reconciled. The token needs `ecr-public:GetAuthorizationToken` and `sts:GetServiceBearerToken`.

use anyhow::{Result, anyhow, bail};
use aws_sdk_ecrpublic::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecrpublic::operation::describe_images::DescribeImagesError;
use aws_sdk_ecrpublic::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecrpublic::operation::get_repository_policy::GetRepositoryPolicyError;
use aws_sdk_ecrpublic::types::{ImageIdentifier, Repository, RepositoryCatalogDataInput, Tag};

use super::images::Plan;
use super::{Destination, call_failed, denied, sdk_error_text, token};
use crate::github;
use crate::inputs::{Catalog, Config, IfTagExists, Settings};

const HOST: &str = "public.ecr.aws";

pub async fn prepare(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    catalog: &Catalog,
) -> Result<Destination> {
    let client = aws_sdk_ecrpublic::Client::from_conf(
        aws_sdk_ecrpublic::config::Builder::from(sdk)
            .region(aws_sdk_ecrpublic::config::Region::new("us-east-1"))
            .build(),
    );
    let login = {
        let _step = crate::step::enter("Registry login");
        login(&client, config.registry_id.as_deref()).await?
    };
    let _step = crate::step::enter("ECR Public repository");
    let name = config.repository.as_str();
    let (repository, created) = match describe(&client, name, config.registry_id.as_deref()).await?
    {
        Some(found) => {
            github::info(&format!(
                "Public repository {name} exists: {}",
                found.repository_uri().unwrap_or_default()
            ));
            (found, false)
        }
        None if !config.create_repository => bail!(
            "ECR Public repository `{name}` does not exist, and `create-repository` is false.\nCreate it first \
             (aws ecr-public create-repository --region us-east-1 --repository-name {name}), or set `create-repository: true`."
        ),
        None => (create(&client, config, catalog).await?, true),
    };
    let arn = repository.repository_arn().unwrap_or_default().to_owned();
    let uri = repository
        .repository_uri()
        .ok_or_else(|| anyhow!("ECR Public returned repository {name} without its URI"))?;
    reconcile(&client, &repository, created, &config.settings).await?;
    let plan = plan(&client, name, &arn, config).await?;
    let account = repository
        .registry_id()
        .unwrap_or(&login.account)
        .to_owned();
    Ok(Destination {
        repository_uri: uri.to_owned(),
        login: token::RegistryLogin { account, ..login },
        name: name.to_owned(),
        arn,
        created,
        plan,
    })
}

async fn login(
    client: &aws_sdk_ecrpublic::Client,
    registry_id: Option<&str>,
) -> Result<token::RegistryLogin> {
    let out = client.get_authorization_token().send().await.map_err(|err| {
        match denied::from_sdk_error(&err, "ecr-public:GetAuthorizationToken", "*") {
            Some(doctor) => anyhow!(
                "ecr-public:GetAuthorizationToken was denied.\n{doctor}\nECR Public's token also needs \
                 sts:GetServiceBearerToken on \"*\": allow both."
            ),
            None => anyhow!("ecr-public:GetAuthorizationToken failed: {}", sdk_error_text(&err)),
        }
    })?;
    let token = out
        .authorization_data()
        .and_then(|d| d.authorization_token())
        .ok_or_else(|| anyhow!("ecr-public:GetAuthorizationToken returned no token"))?;
    token::login_from(token, Some(&format!("https://{HOST}")), registry_id)
}

async fn describe(
    client: &aws_sdk_ecrpublic::Client,
    name: &str,
    registry_id: Option<&str>,
) -> Result<Option<Repository>> {
    let result = client
        .describe_repositories()
        .repository_names(name)
        .set_registry_id(registry_id.map(str::to_owned))
        .send()
        .await;
    match result {
        Ok(out) => Ok(out
            .repositories()
            .iter()
            .find(|r| r.repository_name() == Some(name))
            .cloned()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(DescribeRepositoriesError::is_repository_not_found_exception) =>
        {
            Ok(None)
        }
        Err(err) => Err(call_failed(&err, "ecr-public:DescribeRepositories", name)),
    }
}

async fn create(
    client: &aws_sdk_ecrpublic::Client,
    config: &Config,
    catalog: &Catalog,
) -> Result<Repository> {
    let name = config.repository.as_str();
    let data = RepositoryCatalogDataInput::builder()
        .set_description(catalog.description.clone())
        .set_about_text(catalog.about.clone())
        .set_usage_text(catalog.usage.clone())
        .set_architectures(Some(catalog.architectures.clone()).filter(|a| !a.is_empty()))
        .set_operating_systems(Some(catalog.operating_systems.clone()).filter(|o| !o.is_empty()))
        .build();
    let tags: Vec<Tag> = config
        .settings
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let created = client
        .create_repository()
        .repository_name(name)
        .catalog_data(data)
        .set_tags(Some(tags).filter(|t| !t.is_empty()))
        .send()
        .await;
    match created {
        Ok(out) => {
            let repository = out
                .repository()
                .cloned()
                .ok_or_else(|| anyhow!("ECR Public created {name} but did not describe it"))?;
            github::info(&format!(
                "Created public repository {}",
                repository.repository_uri().unwrap_or(name)
            ));
            Ok(repository)
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            github::info(&format!(
                "Public repository {name} was created concurrently by another job; using it"
            ));
            describe(client, name, config.registry_id.as_deref())
                .await?
                .ok_or_else(|| {
                    anyhow!(
                        "ECR Public repository {name} was reported as existing but cannot be found"
                    )
                })
        }
        Err(err) => Err(call_failed(&err, "ecr-public:CreateRepository", name)),
    }
}

/// Tags (added or updated, never removed) and the repository policy, on an existing repository.
async fn reconcile(
    client: &aws_sdk_ecrpublic::Client,
    repo: &Repository,
    created: bool,
    settings: &Settings,
) -> Result<()> {
    let name = repo.repository_name().unwrap_or_default();
    let arn = repo.repository_arn().unwrap_or_default();
    if !created && !settings.tags.is_empty() {
        let current = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| call_failed(&e, "ecr-public:ListTagsForResource", arn))?;
        let missing: Vec<Tag> = settings
            .tags
            .iter()
            .filter(|(k, v)| {
                !current
                    .tags()
                    .iter()
                    .any(|t| t.key() == Some(k) && t.value() == Some(v))
            })
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        if !missing.is_empty() {
            let text: Vec<String> = missing
                .iter()
                .map(|t| {
                    format!(
                        "{}={}",
                        t.key().unwrap_or_default(),
                        t.value().unwrap_or_default()
                    )
                })
                .collect();
            client
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(missing))
                .send()
                .await
                .map_err(|e| call_failed(&e, "ecr-public:TagResource", arn))?;
            github::info(&format!(
                "Public repository {name}: tags {}",
                text.join(", ")
            ));
        }
    }
    if let Some(wanted) = &settings.repository_policy {
        let current = match client
            .get_repository_policy()
            .repository_name(name)
            .send()
            .await
        {
            Ok(out) => out.policy_text().map(str::to_owned),
            Err(e)
                if e.as_service_error().is_some_and(
                    GetRepositoryPolicyError::is_repository_policy_not_found_exception,
                ) =>
            {
                None
            }
            Err(e) => return Err(call_failed(&e, "ecr-public:GetRepositoryPolicy", arn)),
        };
        if super::settings::differs(current.as_deref(), wanted) {
            client
                .set_repository_policy()
                .repository_name(name)
                .policy_text(wanted.text())
                .send()
                .await
                .map_err(|e| call_failed(&e, "ecr-public:SetRepositoryPolicy", arn))?;
            github::info(&format!(
                "Public repository {name}: repository policy set from {}",
                wanted.source
            ));
        }
    }
    Ok(())
}

/// `if-tag-exists` for ECR Public, which has no immutable tags.
async fn plan(
    client: &aws_sdk_ecrpublic::Client,
    name: &str,
    arn: &str,
    config: &Config,
) -> Result<Plan> {
    if config.if_tag_exists == IfTagExists::Overwrite {
        return Ok(Plan {
            push: config.tags.clone(),
            skipped: Vec::new(),
        });
    }
    let mut plan = Plan::default();
    for tag in &config.tags {
        let result = client
            .describe_images()
            .repository_name(name)
            .image_ids(ImageIdentifier::builder().image_tag(tag.as_str()).build())
            .send()
            .await;
        let existing = match result {
            Ok(out) => out
                .image_details()
                .first()
                .and_then(|d| d.image_digest().map(str::to_owned)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(DescribeImagesError::is_image_not_found_exception) =>
            {
                None
            }
            Err(e) => return Err(call_failed(&e, "ecr-public:DescribeImages", arn)),
        };
        match (existing, config.if_tag_exists) {
            (Some(digest), IfTagExists::Fail) => bail!(
                "Tag `{tag}` already exists in public repository {name} (digest {digest}), and `if-tag-exists` is \
                 `fail`.\nPush under a new tag, or set `if-tag-exists: skip` or `overwrite`."
            ),
            (Some(digest), _) => {
                github::info(&format!(
                    "Tag {tag} exists already ({digest}): skipped, as `if-tag-exists: skip` asks"
                ));
                plan.skipped.push((tag.clone(), digest));
            }
            (None, _) => plan.push.push(tag.clone()),
        }
    }
    Ok(plan)
}
