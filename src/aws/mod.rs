//! Everything that talks to AWS APIs: credentials (and the GitHub ID token they may start from), then
//! the registry — private ECR or ECR Public — ready to push to. What the user is told when they stand
//! in the way is in `advice.rs` (the registry's own problems in `registry/advice.rs`).

pub mod advice;
pub mod calls;
pub mod credentials;
pub mod denied;
pub mod oidc;
pub mod registry;
pub mod sts;
pub mod token;

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

/// The text a user needs from a failed AWS call: the service's error code and message when AWS sent
/// them, else the HTTP status and the whole cause chain (never just "service error").
pub fn sdk_error_text<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let status = err
                .raw_response()
                .map(|r| format!("HTTP {}: ", r.status().as_u16()))
                .unwrap_or_default();
            format!("{status}{}", error_chain(err))
        }
    }
}

/// A failed AWS call as the user should read it: the doctor's explanation when it was refused for lack
/// of permission, else the service's own error.
pub fn call_failed<E>(
    err: &SdkError<E, HttpResponse>,
    action: &str,
    resource: &str,
) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match denied::from_sdk_error(err, action, resource) {
        Some(doctor) => advice::denied(action, &doctor),
        None => advice::call_failed(action, resource, &sdk_error_text(err)),
    }
}

/// Runs `work` with the standard AWS chain's configuration for `region`, on a runtime of its own: the
/// `policy` subcommand's few read-only calls, outside the action's pipeline.
pub fn with_sdk<T>(
    region: &str,
    work: impl AsyncFnOnce(&aws_config::SdkConfig) -> T,
) -> std::io::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async {
        // The run's own deadlines and retries: a call that hangs ends.
        let sdk = credentials::loader(region).load().await;
        work(&sdk).await
    }))
}

// Said by the output module, which every floor uses; named here too, where most of its callers are.
pub use crate::github::error_chain;
