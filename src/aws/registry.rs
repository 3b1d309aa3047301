//! The ECR repository: find it, or create it when allowed. A concurrent job that creates it first is
//! not an error.

use anyhow::{Result, bail};
use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError;
use aws_sdk_ecr::types::Repository as EcrRepository;

use super::sdk_error_text;
use crate::github;
use crate::inputs::RepositoryName;

/// The repository the images go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The account that owns the registry.
    pub registry_id: String,
    pub name: String,
    pub created: bool,
}

/// Makes sure `name` exists in the registry `registry_id` (the caller's own when `None`).
pub async fn ensure(
    ecr: &aws_sdk_ecr::Client,
    name: &RepositoryName,
    registry_id: Option<&str>,
    create: bool,
) -> Result<Repository> {
    let registry = registry_id.map_or_else(
        || "your account's registry".to_owned(),
        |id| format!("registry {id}"),
    );
    match describe(ecr, name, registry_id).await {
        Ok(Some(found)) => {
            github::info(&format!(
                "Repository {name} exists in registry {}",
                found.registry_id
            ));
            return Ok(found);
        }
        Ok(None) if !create => bail!(
            "ECR repository `{name}` does not exist in {registry}, and `create-repository` is false.\n\
             Create it first (aws ecr create-repository --repository-name {name}), or set `create-repository: true`."
        ),
        Ok(None) => {}
        Err(err) => bail!("ecr:DescribeRepositories for `{name}` in {registry} failed: {err}"),
    }

    let created = ecr
        .create_repository()
        .repository_name(name.as_str())
        .set_registry_id(registry_id.map(str::to_owned))
        .send()
        .await;
    match created {
        Ok(out) => {
            let repo = from_ecr(out.repository(), name, true)?;
            github::info(&format!(
                "Created repository {name} in registry {}",
                repo.registry_id
            ));
            Ok(repo)
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(CreateRepositoryError::is_repository_already_exists_exception) =>
        {
            // Another job (a matrix sibling) created it between our two calls: that is what we wanted.
            github::info(&format!(
                "Repository {name} was created concurrently by another job; using it"
            ));
            match describe(ecr, name, registry_id).await {
                Ok(Some(found)) => Ok(found),
                Ok(None) => bail!(
                    "ECR repository `{name}` was reported as existing but cannot be found in {registry}"
                ),
                Err(err) => {
                    bail!("ecr:DescribeRepositories for `{name}` in {registry} failed: {err}")
                }
            }
        }
        Err(err) => bail!(
            "ecr:CreateRepository for `{name}` in {registry} failed: {}",
            sdk_error_text(&err)
        ),
    }
}

/// `Ok(None)` when the repository does not exist; `Err` holds the user-facing cause.
async fn describe(
    ecr: &aws_sdk_ecr::Client,
    name: &RepositoryName,
    registry_id: Option<&str>,
) -> Result<Option<Repository>, String> {
    let result = ecr
        .describe_repositories()
        .repository_names(name.as_str())
        .set_registry_id(registry_id.map(str::to_owned))
        .send()
        .await;
    match result {
        Ok(out) => {
            let found = out
                .repositories()
                .iter()
                .find(|r| r.repository_name() == Some(name.as_str()));
            match found {
                Some(repo) => from_ecr(Some(repo), name, false)
                    .map(Some)
                    .map_err(|e| e.to_string()),
                None => Ok(None),
            }
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(DescribeRepositoriesError::is_repository_not_found_exception) =>
        {
            Ok(None)
        }
        Err(err) => Err(sdk_error_text(&err)),
    }
}

fn from_ecr(
    repo: Option<&EcrRepository>,
    name: &RepositoryName,
    created: bool,
) -> Result<Repository> {
    let Some(registry_id) = repo.and_then(EcrRepository::registry_id) else {
        bail!("ECR answered for repository `{name}` without its registry ID");
    };
    Ok(Repository {
        registry_id: registry_id.to_owned(),
        name: name.to_string(),
        created,
    })
}
