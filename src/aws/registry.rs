//! The ECR repository: find it, or create it when allowed. A concurrent job that creates it first is
//! not an error, and a pusher that may not describe or create repositories still gets to push into
//! one that exists (with one warning).

use anyhow::{Result, bail};
use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecr::types::Repository as EcrRepository;

use super::{denied, sdk_error_text};
use crate::github;
use crate::inputs::{RepositoryName, Settings};
use crate::policy;

/// The repository the images go to.
#[derive(Debug, Clone, PartialEq)]
pub struct Repository {
    pub name: String,
    pub created: bool,
    /// What ECR said of it; `None` when the action may not read it.
    pub described: Option<EcrRepository>,
}

/// What is asked: which repository, where, and whether it may be created.
pub struct Target<'a> {
    pub name: &'a RepositoryName,
    pub registry_id: Option<&'a str>,
    pub region: &'a str,
    pub create: bool,
    /// Applied by `CreateRepository` when the repository is made.
    pub settings: &'a Settings,
}

enum Lookup {
    Found(Box<Repository>),
    Missing,
    /// Not allowed to look: the doctor's text.
    Denied(String),
}

/// Makes sure the repository exists (see [`Target`]).
pub async fn ensure(ecr: &aws_sdk_ecr::Client, target: &Target<'_>) -> Result<Repository> {
    let name = target.name;
    let registry = target.registry_id.map_or_else(
        || "your account's registry".to_owned(),
        |id| format!("registry {id}"),
    );
    let describe_denied = match describe(ecr, target).await? {
        Lookup::Found(found) => {
            github::info(&format!("Repository {name} exists in {registry}"));
            return Ok(*found);
        }
        Lookup::Missing if !target.create => bail!(
            "ECR repository `{name}` does not exist in {registry}, and `create-repository` is false.\n\
             Create it first (aws ecr create-repository --repository-name {name}), or set `create-repository: true`."
        ),
        Lookup::Missing => None,
        Lookup::Denied(_) if !target.create => {
            // With `create-repository: false` the least-privilege policy leaves DescribeRepositories out.
            github::info(&format!(
                "Not checking that {name} exists (ecr:DescribeRepositories is not allowed); pushing"
            ));
            return Ok(unchecked(target));
        }
        Lookup::Denied(text) => Some(text),
    };

    // The repository is missing, or we may not look: creating it settles both.
    let create = ecr
        .create_repository()
        .repository_name(name.as_str())
        .set_registry_id(target.registry_id.map(str::to_owned));
    let created = super::settings::at_creation(create, target.settings)?
        .send()
        .await;
    let cannot_check = |why: &str| {
        format!(
            "Cannot check that the repository exists: {}; continuing. {why}",
            describe_denied
                .as_deref()
                .and_then(|t| t.lines().next())
                .unwrap_or_default()
        )
    };
    match created {
        Ok(out) => {
            let repo = from_ecr(out.repository(), true);
            github::info(&format!("Created repository {name} in {registry}"));
            if describe_denied.is_some() {
                github::warning(&cannot_check("It did not exist and was created."));
            }
            Ok(repo.unwrap_or_else(|| unchecked(target)))
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            // A concurrent job (a matrix sibling) created it between our two calls, or we could not look.
            if describe_denied.is_some() {
                github::warning(&cannot_check("It exists already."));
                return Ok(unchecked(target));
            }
            github::info(&format!(
                "Repository {name} was created concurrently by another job; using it"
            ));
            match describe(ecr, target).await? {
                Lookup::Found(found) => Ok(*found),
                _ => Ok(unchecked(target)),
            }
        }
        Err(err) => {
            let arn = resource_arn(target);
            if let Some(doctor) = denied::from_sdk_error(&err, "ecr:CreateRepository", &arn) {
                if describe_denied.is_some() {
                    // A pusher given only push permissions on a repository made beforehand.
                    github::warning(&cannot_check(
                        "ecr:CreateRepository is not allowed either, so it must exist already.",
                    ));
                    return Ok(unchecked(target));
                }
                bail!("ecr:CreateRepository for `{name}` in {registry} was denied.\n{doctor}");
            }
            bail!(
                "ecr:CreateRepository for `{name}` in {registry} failed: {}",
                sdk_error_text(&err)
            )
        }
    }
}

fn unchecked(target: &Target<'_>) -> Repository {
    Repository {
        name: target.name.to_string(),
        created: false,
        described: None,
    }
}

/// The repository's ARN for the doctor, when AWS's answer does not name it. Without `registry-id`
/// the account is the caller's, which the refusal's principal tells; `*` stands in otherwise.
fn resource_arn(target: &Target<'_>) -> String {
    policy::repository_arn(
        target.region,
        target.registry_id.unwrap_or("*"),
        target.name.as_str(),
    )
}

async fn describe(ecr: &aws_sdk_ecr::Client, target: &Target<'_>) -> Result<Lookup> {
    let name = target.name;
    let result = ecr
        .describe_repositories()
        .repository_names(name.as_str())
        .set_registry_id(target.registry_id.map(str::to_owned))
        .send()
        .await;
    match result {
        Ok(out) => Ok(out
            .repositories()
            .iter()
            .find(|r| r.repository_name() == Some(name.as_str()))
            .and_then(|r| from_ecr(Some(r), false))
            .map_or(Lookup::Missing, |r| Lookup::Found(Box::new(r)))),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(DescribeRepositoriesError::is_repository_not_found_exception) =>
        {
            Ok(Lookup::Missing)
        }
        Err(err) => {
            match denied::from_sdk_error(&err, "ecr:DescribeRepositories", &resource_arn(target)) {
                Some(doctor) => Ok(Lookup::Denied(doctor)),
                None => bail!(
                    "ecr:DescribeRepositories for `{name}` failed: {}",
                    sdk_error_text(&err)
                ),
            }
        }
    }
}

fn from_ecr(repo: Option<&EcrRepository>, created: bool) -> Option<Repository> {
    let repo = repo?;
    Some(Repository {
        name: repo.repository_name()?.to_owned(),
        created,
        described: Some(repo.clone()),
    })
}
