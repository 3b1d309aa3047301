//! AWS credentials: the keys given as inputs, or else the standard AWS chain (environment,
//! `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, profile, container and instance roles).
//!
//! Credentials are resolved here, once, so that "no credentials" is reported as its own step with
//! its fix instead of surfacing later as an opaque failure of the first ECR call.

use anyhow::{Result, anyhow};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;

use crate::github;
use crate::inputs::StaticCredentials;

/// Loads the SDK configuration for `region` and resolves its credentials once, masking the secrets.
pub async fn load(region: &str, keys: Option<&StaticCredentials>) -> Result<SdkConfig> {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    let source = if let Some(keys) = keys {
        loader = loader.credentials_provider(Credentials::new(
            &keys.access_key_id,
            &keys.secret_access_key,
            keys.session_token.clone(),
            None,
            "action inputs",
        ));
        "the aws-access-key-id / aws-secret-access-key inputs"
    } else {
        "the AWS credential chain (environment, web identity token file, profile, container or instance role)"
    };
    let sdk = loader.load().await;
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow!("the AWS SDK has no credential provider configured"))?;
    let credentials = provider.provide_credentials().await.map_err(|e| {
        anyhow!(
            "No AWS credentials found: {}.\nPass `aws-access-key-id` and `aws-secret-access-key` (from secrets), \
             or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE with \
             AWS_ROLE_ARN in the job's environment.",
            super::error_chain(&e).trim_end_matches('.')
        )
    })?;
    // Masked before anything could print them; the key ID is not secret and helps debugging.
    github::mask(credentials.secret_access_key());
    if let Some(token) = credentials.session_token() {
        github::mask(token);
    }
    github::info(&format!(
        "Using AWS access key {} from {source}, region {region}",
        credentials.access_key_id()
    ));
    Ok(sdk)
}
