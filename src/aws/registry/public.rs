//! Amazon ECR Public: the calls that differ from private ECR. Its API lives only in us-east-1 whatever
//! `aws-region` says, its registry is [`HOST`], a repository's URI (`public.ecr.aws/<alias>/<name>`)
//! comes from the API, and a new repository gets its catalog data. The token needs
//! `ecr-public:GetAuthorizationToken` and `sts:GetServiceBearerToken`.

use anyhow::Result;
use aws_sdk_ecrpublic::Client;
use aws_sdk_ecrpublic::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecrpublic::operation::describe_images::DescribeImagesError;
use aws_sdk_ecrpublic::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecrpublic::operation::get_repository_policy::GetRepositoryPolicyError;
use aws_sdk_ecrpublic::types::{
    ImageIdentifier, Repository, RepositoryCatalogDataInput, Tag as PublicTag,
};

use super::advice;
use super::repository::{Created, Described, Lookup};
use crate::aws::advice::{TokenFlaw, token_unusable};
use crate::aws::calls::{absent_if, answer, read};
use crate::aws::token::{self, RegistryLogin};
use crate::aws::{call_failed, denied, sdk_error_text};
use crate::inputs::{Catalog, Config, Document, Tag};

/// ECR Public's registry host, the one place it is written.
pub const HOST: &str = "public.ecr.aws";

/// The only region ECR Public's API is in.
const REGION: &str = "us-east-1";

pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::from_conf(
        aws_sdk_ecrpublic::config::Builder::from(sdk)
            .region(aws_sdk_ecrpublic::config::Region::new(REGION))
            .build(),
    )
}

pub async fn login(client: &Client, registry_id: Option<&str>) -> Result<RegistryLogin> {
    const ACTION: &str = "ecr-public:GetAuthorizationToken";
    let out =
        client.get_authorization_token().send().await.map_err(
            |err| match denied::from_sdk_error(&err, ACTION, "*") {
                Some(doctor) => advice::public_login_denied(&doctor),
                None => advice::public_login_failed(&sdk_error_text(&err)),
            },
        )?;
    let token = out
        .authorization_data()
        .and_then(|d| d.authorization_token())
        .ok_or_else(|| token_unusable(ACTION, TokenFlaw::NoToken))?;
    token::login_from(token, Some(&format!("https://{HOST}")), registry_id)
}

pub async fn describe(client: &Client, config: &Config) -> Result<Lookup> {
    let name = config.repository.as_str();
    let result = client
        .describe_repositories()
        .repository_names(name)
        .set_registry_id(config.registry_id.clone())
        .send()
        .await;
    let out = absent_if(
        result,
        DescribeRepositoriesError::is_repository_not_found_exception,
    )
    .map_err(|err| call_failed(&err, "ecr-public:DescribeRepositories", name))?;
    Ok(out
        .as_ref()
        .and_then(|out| {
            out.repositories()
                .iter()
                .find(|r| r.repository_name() == Some(name))
        })
        .map_or(Lookup::Missing, |r| Lookup::Found(described(r))))
}

/// `CreateRepository` with the catalog data and the repository tags.
pub async fn create(client: &Client, config: &Config, catalog: &Catalog) -> Result<Created> {
    let name = config.repository.as_str();
    let data = RepositoryCatalogDataInput::builder()
        .set_description(catalog.description.clone())
        .set_about_text(catalog.about.clone())
        .set_usage_text(catalog.usage.clone())
        .set_architectures(Some(catalog.architectures.clone()).filter(|a| !a.is_empty()))
        .set_operating_systems(Some(catalog.operating_systems.clone()).filter(|o| !o.is_empty()))
        .build();
    let created = client
        .create_repository()
        .repository_name(name)
        .catalog_data(data)
        .set_tags(Some(public_tags(&config.settings.tags)).filter(|t| !t.is_empty()))
        .send()
        .await;
    match created {
        Ok(out) => match out.repository() {
            Some(repository) => Ok(Created::Made(Some(described(repository)))),
            None => Err(advice::public_created_undescribed(name)),
        },
        Err(err)
            if err
                .as_service_error()
                .is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            Ok(Created::AlreadyExists)
        }
        Err(err) => Err(call_failed(&err, "ecr-public:CreateRepository", name)),
    }
}

fn described(repo: &Repository) -> Described {
    Described {
        arn: repo.repository_arn().map(str::to_owned),
        registry_id: repo.registry_id().map(str::to_owned),
        uri: repo.repository_uri().map(str::to_owned),
        ..Described::default()
    }
}

/// The digest `tag` holds, `None` when it does not exist.
pub async fn digest(client: &Client, name: &str, arn: &str, tag: &Tag) -> Result<Option<String>> {
    let id = ImageIdentifier::builder().image_tag(tag.as_str()).build();
    let images = client.describe_images().repository_name(name).image_ids(id);
    let missing = DescribeImagesError::is_image_not_found_exception;
    let out = read(
        images.send().await,
        missing,
        "ecr-public:DescribeImages",
        arn,
    )?;
    let first = out.as_ref().and_then(|out| out.image_details().first());
    Ok(first.and_then(|d| d.image_digest()).map(str::to_owned))
}

pub async fn tags(client: &Client, arn: &str) -> Result<Vec<(String, String)>> {
    let list = client.list_tags_for_resource().resource_arn(arn);
    let out = answer(list.send().await, "ecr-public:ListTagsForResource", arn)?;
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    Ok(out
        .tags()
        .iter()
        .map(|t| (text(t.key()), text(t.value())))
        .collect())
}

pub async fn add_tags(client: &Client, arn: &str, tags: &[(String, String)]) -> Result<()> {
    let add = client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(public_tags(tags)));
    answer(add.send().await, "ecr-public:TagResource", arn)?;
    Ok(())
}

fn public_tags(tags: &[(String, String)]) -> Vec<PublicTag> {
    let tag = |(k, v): &(String, String)| PublicTag::builder().key(k).value(v).build();
    tags.iter().map(tag).collect()
}

pub async fn repository_policy(
    client: &Client,
    name: &str,
    repo: &Described,
) -> Result<Option<String>> {
    let result = client
        .get_repository_policy()
        .repository_name(name)
        .send()
        .await;
    let not_found = GetRepositoryPolicyError::is_repository_policy_not_found_exception;
    let out = read(
        result,
        not_found,
        "ecr-public:GetRepositoryPolicy",
        repo.arn(),
    )?;
    Ok(out.and_then(|o| o.policy_text().map(str::to_owned)))
}

pub async fn set_repository_policy(
    client: &Client,
    name: &str,
    repo: &Described,
    wanted: &Document,
) -> Result<()> {
    let set = client
        .set_repository_policy()
        .repository_name(name)
        .policy_text(wanted.text());
    answer(
        set.send().await,
        "ecr-public:SetRepositoryPolicy",
        repo.arn(),
    )?;
    Ok(())
}
