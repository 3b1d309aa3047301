//! ecr-push-action: push images from the runner's Docker daemon to Amazon ECR in one step.
//!
//! [`run`] is the whole pipeline; each step lives in the module named after it.

pub mod aws;
pub mod docker;
pub mod github;
pub mod inputs;
pub mod report;
pub mod retry;

use anyhow::Result;

pub use inputs::Config;

/// inputs → Docker check → credentials → repository → registry token → push → outputs.
///
/// Docker is checked before AWS so that a typo in `local-image` never leaves a new, empty repository.
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
    let registry_id = config.registry_id.as_deref();
    let repository = {
        let _group = github::group("ECR repository");
        aws::registry::ensure(
            &ecr,
            &config.repository,
            registry_id,
            config.create_repository,
        )
        .await?
    };
    let login = {
        let _group = github::group("Registry login");
        aws::token::fetch(&ecr, &repository.registry_id).await?
    };
    let repository_uri = format!("{}/{}", login.host, repository.name);
    let pushed = daemon
        .push(&image, &repository_uri, &config.tags, &login)
        .await?;
    report::write(
        &login.host,
        &repository,
        &pushed,
        session.authenticated_arn.as_deref(),
    )
}

/// The process entry point: read the inputs, run, and turn any failure into one `::error::` line.
pub fn main() -> std::process::ExitCode {
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
