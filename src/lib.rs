//! ecr-push-action: push images from the runner's Docker daemon to Amazon ECR in one step.
//!
//! [`run`] is the whole pipeline; each step lives in the module named after it.

pub mod aws;
pub mod docker;
pub mod github;
pub mod inputs;
pub mod policy;
pub mod report;
pub mod retry;

use anyhow::{Result, anyhow};

pub use inputs::Config;

/// inputs → Docker check → credentials → registry token → repository → push → outputs.
///
/// Docker is checked, and the account-wide registry token fetched, before the repository is created,
/// so that a typo in `local-image` or a missing permission never leaves a new, empty repository.
pub async fn run(config: &Config) -> Result<()> {
    let (daemon, image) = {
        let _group = github::group("Docker");
        let daemon = docker::connect().await?;
        let image = daemon.find_image(&config.local_image).await?;
        (daemon, image)
    };
    let session = {
        let _group = github::group("AWS credentials");
        aws::credentials::load(&config.region, &config.auth).await?
    };
    let ecr = aws_sdk_ecr::Client::new(&session.sdk);
    let login = {
        let _group = github::group("Registry login");
        aws::token::fetch(&ecr, config.registry_id.as_deref()).await?
    };
    let (repository, plan) = {
        let _group = github::group("ECR repository");
        let target = aws::registry::Target {
            name: &config.repository,
            registry_id: config.registry_id.as_deref(),
            region: &config.region,
            create: config.create_repository,
            settings: &config.settings,
        };
        let repository = aws::registry::ensure(&ecr, &target).await?;
        let check = aws::images::Check {
            repository: config.repository.as_str(),
            registry_id: config.registry_id.as_deref(),
            described: repository.described.as_ref(),
            settings: &config.settings,
            rule: config.if_tag_exists,
        };
        match &repository.described {
            Some(described) => {
                aws::settings::reconcile(&ecr, described, repository.created, &config.settings)
                    .await?;
            }
            None => aws::settings::require_description(&config.settings, &repository.name)?,
        }
        let plan = aws::images::plan(&ecr, &check, &config.tags).await?;
        (repository, plan)
    };
    let repository_uri = format!("{}/{}", login.host, repository.name);
    let pushed = daemon
        .push(&image, &repository_uri, &plan.push, &login)
        .await;
    let pushed = pushed.map_err(|err| {
        if repository.created {
            anyhow!(
                "{err:#}\n(The repository {} was created by this run and is left in place.)",
                repository.name
            )
        } else {
            err
        }
    })?;
    report::write(
        &login,
        &repository,
        &pushed,
        &plan.skipped,
        session.authenticated_arn.as_deref(),
    )
}

/// The process entry point: read the inputs, run, and turn any failure into one `::error::` line.
/// `ecr-push-action policy …` prints the least-privilege policy instead.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("policy") {
        return match policy::command(&args[1..], std::env::vars()) {
            Ok(document) => {
                github::document(&document);
                std::process::ExitCode::SUCCESS
            }
            Err(err) => {
                github::error(&format!("{err:#}"));
                std::process::ExitCode::from(2)
            }
        };
    }
    let outcome = inputs::from_env()
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(run(&config)))
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            github::error(&format!("{err:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}
