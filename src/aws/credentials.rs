//! AWS credentials, from the source [`Auth`] names: keys given as inputs, the standard AWS chain,
//! `AssumeRole` from either, or GitHub's OIDC token (or a token file) → `AssumeRoleWithWebIdentity`.
//!
//! Credentials are resolved here, once, so that "no credentials" or a refused role is reported as
//! its own step with its fix, and every secret is masked before anything could print it.

use anyhow::{Result, anyhow};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;

use super::{oidc, sts};
use crate::github;
use crate::inputs::{Auth, Role, RoleRef, StaticCredentials};

/// The SDK configuration for the rest of the run, and the assumed role's ARN when one was assumed
/// (taken from the STS answer: no `sts:GetCallerIdentity` permission needed).
pub struct Session {
    pub sdk: SdkConfig,
    pub authenticated_arn: Option<String>,
}

pub async fn load(region: &str, auth: &Auth) -> Result<Session> {
    match auth {
        Auth::Keys(keys) => as_they_are(with_keys(loader(region), keys), KEYS, region).await,
        Auth::Chain => as_they_are(loader(region), CHAIN, region).await,
        Auth::AssumeRole { source, role } => {
            let (source_sdk, from) = match source {
                Some(keys) => (
                    with_keys(loader(region), keys).load().await,
                    "the aws-access-key-id input",
                ),
                None => (loader(region).load().await, CHAIN),
            };
            resolve(&source_sdk, from, region).await?;
            let sts = sts::client(&source_sdk);
            let role_arn = role_arn(&sts, role).await?;
            let assumed = sts::assume_role(&sts, &role_arn, role).await?;
            Ok(session(loader(region), assumed, &role_arn, region).await)
        }
        Auth::WebIdentity { token, role } => {
            let id_token = oidc::id_token(token).await?;
            // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
            let sts = sts::client(&loader(region).no_credentials().load().await);
            let RoleRef::Arn(role_arn) = &role.role else {
                return Err(anyhow!(
                    "Input `role-to-assume`: a full role ARN is needed with a web identity token"
                ));
            };
            let assumed =
                sts::assume_role_with_web_identity(&sts, role_arn, role, &id_token).await?;
            Ok(session(loader(region), assumed, role_arn, region).await)
        }
    }
}

/// The SDK's configuration loader for `region`. Every AWS call is bounded: 4 attempts with the SDK's
/// backoff (throttling included), at most 20 s each and 60 s in all, so a stuck endpoint fails with
/// its name instead of hanging the job.
fn loader(region: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_mins(1))
                .build(),
        )
}

/// Credentials used as they are (no role to assume), checked to resolve before anything uses them.
async fn as_they_are(loader: ConfigLoader, from: &str, region: &str) -> Result<Session> {
    let sdk = loader.load().await;
    resolve(&sdk, from, region).await?;
    Ok(Session {
        sdk,
        authenticated_arn: None,
    })
}

const KEYS: &str = "the aws-access-key-id / aws-secret-access-key inputs";
const CHAIN: &str = "the AWS credential chain (environment, web identity token file, profile, container or instance role)";

fn with_keys(loader: ConfigLoader, keys: &StaticCredentials) -> ConfigLoader {
    loader.credentials_provider(Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        keys.session_token.clone(),
        None,
        "action inputs",
    ))
}

/// Why an EC2 instance role was not reached, said plainly, from the chain's own account of its
/// instance metadata attempt: a container action is one network hop further from the metadata
/// endpoint than the instance, so with the default hop limit of 1 the `IMDSv2` token's answer never
/// arrives and the request times out.
fn instance_metadata_advice(chain: &str) -> Option<&'static str> {
    let imds = chain.split_once("IMDS")?.1.to_ascii_lowercase();
    if imds.contains("timeout") || imds.contains("timed out") {
        return Some(
            "\nThe EC2 instance metadata endpoint did not answer in time. This action runs in a container, one \
             network hop further than the instance: the instance's metadata hop limit must be 2 or more \
             (`aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 \
             --http-endpoint enabled`). Or use GitHub's OIDC (`role-to-assume`) or keys instead.",
        );
    }
    (imds.contains("401") || imds.contains("403") || imds.contains("token")).then_some(
        "\nThe EC2 instance metadata endpoint refused the IMDSv2 token request: enable it \
         (`aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled \
         --http-put-response-hop-limit 2`), or use GitHub's OIDC (`role-to-assume`) or keys instead.",
    )
}

/// Resolves the configured provider's credentials once and masks their secrets.
async fn resolve(sdk: &SdkConfig, from: &str, region: &str) -> Result<()> {
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| anyhow!("the AWS SDK has no credential provider configured"))?;
    let credentials = provider.provide_credentials().await.map_err(|e| {
        let chain = super::error_chain(&e);
        anyhow!(
            "No AWS credentials found: {}.{}\nPass `aws-access-key-id` and `aws-secret-access-key` (from secrets), \
             use `role-to-assume` with `permissions: id-token: write` for GitHub's OIDC, or set \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN \
             in the job's environment.",
            chain.trim_end_matches('.'),
            instance_metadata_advice(&chain).unwrap_or_default()
        )
    })?;
    mask(&credentials);
    github::info(&format!(
        "Using AWS access key {} from {from}, region {region}",
        credentials.access_key_id()
    ));
    Ok(())
}

fn mask(credentials: &Credentials) {
    github::mask(credentials.secret_access_key());
    if let Some(token) = credentials.session_token() {
        github::mask(token);
    }
}

/// The role's ARN; a bare name takes the source credentials' account (`sts:GetCallerIdentity`, which
/// needs no permission).
async fn role_arn(sts: &aws_sdk_sts::Client, role: &Role) -> Result<String> {
    match &role.role {
        RoleRef::Arn(arn) => Ok(arn.clone()),
        RoleRef::Name(name) => {
            let me = sts.get_caller_identity().send().await.map_err(|e| {
                anyhow!(
                    "sts:GetCallerIdentity, to complete the role name `{name}` with your account, failed: {}. \
                     Pass the full role ARN in `role-to-assume`.",
                    super::sdk_error_text(&e)
                )
            })?;
            let caller = me.arn().unwrap_or_default();
            let partition = caller
                .split(':')
                .nth(1)
                .filter(|p| !p.is_empty())
                .unwrap_or("aws");
            let account = me
                .account()
                .ok_or_else(|| anyhow!("sts:GetCallerIdentity returned no account"))?;
            Ok(format!("arn:{partition}:iam::{account}:role/{name}"))
        }
    }
}

async fn session(
    loader: ConfigLoader,
    assumed: sts::Assumed,
    role_arn: &str,
    region: &str,
) -> Session {
    mask(&assumed.credentials);
    github::info(&format!(
        "Assumed {role_arn} as {} (access key {}), region {region}",
        assumed.arn,
        assumed.credentials.access_key_id()
    ));
    let sdk = loader
        .credentials_provider(assumed.credentials)
        .load()
        .await;
    Session {
        sdk,
        authenticated_arn: Some(assumed.arn).filter(|a| !a.is_empty()),
    }
}
