//! Amazon ECR (private registries): the registry login, then the repository — found or created, its
//! settings reconciled — and which tags to push.

use anyhow::Result;

use super::{Destination, images, registry, settings, token};
use crate::inputs::Config;

pub async fn prepare(sdk: &aws_config::SdkConfig, config: &Config) -> Result<Destination> {
    let ecr = aws_sdk_ecr::Client::new(sdk);
    let login = {
        let _step = crate::step::enter("Registry login");
        token::fetch(&ecr, config.registry_id.as_deref()).await?
    };
    let _step = crate::step::enter("ECR repository");
    let target = registry::Target {
        name: &config.repository,
        registry_id: config.registry_id.as_deref(),
        region: &config.region,
        create: config.create_repository,
        settings: &config.settings,
    };
    let repository = registry::ensure(&ecr, &target).await?;
    match &repository.described {
        Some(described) => {
            settings::reconcile(&ecr, described, repository.created, &config.settings).await?;
        }
        None => settings::require_description(&config.settings, &repository.name)?,
    }
    let check = images::Check {
        repository: config.repository.as_str(),
        registry_id: config.registry_id.as_deref(),
        described: repository.described.as_ref(),
        settings: &config.settings,
        rule: config.if_tag_exists,
    };
    let plan = images::plan(&ecr, &check, &config.tags).await?;
    Ok(Destination {
        repository_uri: format!("{}/{}", login.host, repository.name),
        arn: crate::policy::repository_arn(&config.region, &login.account, &repository.name),
        login,
        name: repository.name,
        created: repository.created,
        plan,
    })
}
