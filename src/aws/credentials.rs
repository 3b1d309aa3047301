//! AWS credentials, from the source [`Auth`] names: keys given as inputs, the standard AWS chain,
//! `AssumeRole` from either, or GitHub's OIDC token (or a token file) → `AssumeRoleWithWebIdentity`.
//!
//! Credentials are resolved here, once, so that "no credentials" or a refused role is reported as
//! its own step with its fix, and every secret is masked before anything could print it: the clients
//! of the run sign with exactly the credentials that were masked ([`Masked`]).

use anyhow::Result;
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{
    self as provider, ProvideCredentials, SharedCredentialsProvider, future,
};

use super::advice::{self, InstanceMetadata};
use super::{oidc, sts};
use crate::github;
use crate::inputs::{Auth, HostForm, Role, RoleRef, StaticCredentials};

/// The SDK configuration for the rest of the run, and the assumed role's ARN when one was assumed
/// (taken from the STS answer: no `sts:GetCallerIdentity` permission needed).
pub struct Session {
    pub sdk: SdkConfig,
    pub authenticated_arn: Option<String>,
}

/// The session for `auth`, its SDK configuration calling the AWS APIs at `api`'s endpoints
/// (dual-stack, FIPS): said explicitly, so that `AWS_USE_DUALSTACK_ENDPOINT` and
/// `AWS_USE_FIPS_ENDPOINT` count only as the inputs read them.
pub async fn load(region: &str, auth: &Auth, api: HostForm) -> Result<Session> {
    let loader = |region| {
        loader(region)
            .use_dual_stack(api.dual_stack)
            .use_fips(api.fips)
    };
    match auth {
        Auth::Keys(keys) => as_they_are(with_keys(loader(region), keys), KEYS, region).await,
        Auth::Chain => as_they_are(loader(region), CHAIN, region).await,
        Auth::AssumeRole { source, role } => {
            let (source_loader, from) = match source {
                Some(keys) => (
                    with_keys(loader(region), keys),
                    "the aws-access-key-id input",
                ),
                None => (loader(region), CHAIN),
            };
            let source_sdk = resolve(&source_loader.load().await, from, region).await?;
            let sts = sts::client(&source_sdk);
            let role_arn = role_arn(&sts, role).await?;
            let assumed = sts::assume_role(&sts, &role_arn, role).await?;
            Ok(session(&source_sdk, assumed, &role_arn, region))
        }
        Auth::WebIdentity { token, role } => {
            let id_token = oidc::id_token(token).await?;
            // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
            let unsigned = loader(region).no_credentials().load().await;
            let sts = sts::client(&unsigned);
            let RoleRef::Arn(role_arn) = &role.role else {
                return Err(advice::role_arn_needed());
            };
            let assumed =
                sts::assume_role_with_web_identity(&sts, role_arn, role, &id_token).await?;
            Ok(session(&unsigned, assumed, role_arn, region))
        }
    }
}

/// The SDK's configuration loader for `region`. Every AWS call is bounded: 6 attempts with the SDK's
/// adaptive retries (exponential backoff with full jitter, up to 20 s a wait, and a client-side rate
/// that slows after a throttling error), at most 20 s each and 2 minutes in all, so a stuck endpoint
/// fails with its name instead of hanging the job. Six, not the SDK's three: the jobs of a large
/// matrix start together, and ECR throttles them (`ThrottlingException`) until their calls spread.
pub fn loader(region: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::adaptive().with_max_attempts(6))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_mins(2))
                .build(),
        )
}

/// Credentials used as they are (no role to assume), checked to resolve before anything uses them.
async fn as_they_are(loader: ConfigLoader, from: &'static str, region: &str) -> Result<Session> {
    Ok(Session {
        sdk: resolve(&loader.load().await, from, region).await?,
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

/// Why an EC2 instance role was not reached, from the chain's own account of its instance metadata
/// attempt: a container action is one network hop further from the metadata endpoint than the
/// instance, so with the default hop limit of 1 the `IMDSv2` token's answer never arrives and the
/// request times out.
fn instance_metadata(chain: &str) -> Option<InstanceMetadata> {
    let imds = chain.split_once("IMDS")?.1.to_ascii_lowercase();
    if imds.contains("timeout") || imds.contains("timed out") {
        return Some(InstanceMetadata::Unanswered);
    }
    (imds.contains("401") || imds.contains("403") || imds.contains("token"))
        .then_some(InstanceMetadata::Refused)
}

/// Resolves the configured provider's credentials once, masks their secrets, and gives back `sdk`
/// with its clients signing with exactly those (and with their masked renewals, see [`Masked`]).
async fn resolve(sdk: &SdkConfig, from: &'static str, region: &str) -> Result<SdkConfig> {
    let source = sdk.credentials_provider().ok_or_else(advice::no_provider)?;
    let masked = Masked::new(source, from);
    let credentials = masked.current().await.map_err(|e| {
        let chain = super::error_chain(&e);
        advice::no_credentials(&chain, instance_metadata(&chain))
    })?;
    github::info(&format!(
        "Using AWS access key {} from {from}, region {region}",
        credentials.access_key_id()
    ));
    Ok(sdk
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(masked))
        // Masked is the one cache: the SDK's own would ask it again only to hold the same answer.
        .identity_cache(IdentityCache::no_cache())
        .build())
}

fn mask(credentials: &Credentials) {
    github::mask(credentials.secret_access_key());
    if let Some(token) = credentials.session_token() {
        github::mask(token);
    }
}

/// How long before their expiry held credentials are renewed: longer than one attempt of an AWS call
/// (20 s, see [`loader`]), as every attempt is signed anew with what [`Masked`] holds then.
const RENEW_BEFORE: Duration = Duration::from_mins(1);

/// The run's one credentials cache over a source (keys or the AWS chain): every client signs with what
/// it holds, and what it holds was masked before it was handed out.
///
/// The source is asked once, when the step resolves it, and that answer is what the clients get. A
/// source that assumes a role (a profile with `role_arn`, a web identity token file) starts a new
/// session each time it is asked: asked a second time — as the SDK's identity cache did for the first
/// call, after the check that masked the first answer — it gave the clients a session nobody masked.
/// So the SDK's cache is off beside this one (see [`resolve`]).
///
/// Renewal stays: the chain's credentials (an instance or container role, an assumed session of 900 s)
/// may end before a long run does, and the SDK's cache renewed them; here they are asked for anew
/// [`RENEW_BEFORE`] their expiry, and masked before any request is signed with them.
#[derive(Debug)]
struct Masked {
    source: SharedCredentialsProvider,
    from: &'static str,
    held: tokio::sync::Mutex<Option<Credentials>>,
}

impl Masked {
    fn new(source: SharedCredentialsProvider, from: &'static str) -> Self {
        Masked {
            source,
            from,
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// The credentials held, or new ones from the source (masked) when none are held or they are about
    /// to expire. The lock is held while the source is asked, so that requests at once ask it once.
    async fn current(&self) -> provider::Result {
        let mut held = self.held.lock().await;
        if let Some(credentials) = held.as_ref().filter(|c| lasts(c, SystemTime::now())) {
            return Ok(credentials.clone());
        }
        let credentials = self.source.provide_credentials().await?;
        // A source may answer with what it gave before (credentials that expire soon and are not
        // renewed yet): masked once, and said once.
        let known = held.as_ref().is_some_and(|h| {
            h.secret_access_key() == credentials.secret_access_key()
                && h.session_token() == credentials.session_token()
        });
        if !known {
            mask(&credentials);
            if held.is_some() {
                github::info(&format!(
                    "Renewed the AWS credentials from {}: access key {}",
                    self.from,
                    credentials.access_key_id()
                ));
            }
        }
        *held = Some(credentials.clone());
        Ok(credentials)
    }
}

/// Whether `credentials` are good for more than [`RENEW_BEFORE`] after `now`.
fn lasts(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > now + RENEW_BEFORE)
}

impl ProvideCredentials for Masked {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.current())
    }
}

/// The role's ARN; a bare name takes the source credentials' account (`sts:GetCallerIdentity`, which
/// needs no permission).
async fn role_arn(sts: &aws_sdk_sts::Client, role: &Role) -> Result<String> {
    match &role.role {
        RoleRef::Arn(arn) => Ok(arn.clone()),
        RoleRef::Name(name) => {
            let me =
                sts.get_caller_identity().send().await.map_err(|e| {
                    advice::caller_identity_failed(name, &super::sdk_error_text(&e))
                })?;
            let caller = me.arn().unwrap_or_default();
            let partition = caller
                .split(':')
                .nth(1)
                .filter(|p| !p.is_empty())
                .unwrap_or("aws");
            let account = me.account().ok_or_else(advice::caller_without_account)?;
            Ok(format!("arn:{partition}:iam::{account}:role/{name}"))
        }
    }
}

/// `sdk` (the configuration the role was assumed with, not loaded again) signing with the assumed
/// role's credentials, masked.
///
/// They are used as they are, without renewal, as before: every AWS call of the run (registry logins,
/// repositories) is made in the steps right after this one, before any push or index write starts,
/// well inside the shortest session STS grants (900 s); the pushes and writes, which may last longer,
/// use the registry token, which lasts 12 hours.
fn session(sdk: &SdkConfig, assumed: sts::Assumed, role_arn: &str, region: &str) -> Session {
    mask(&assumed.credentials);
    github::info(&format!(
        "Assumed {role_arn} as {} (access key {}), region {region}",
        assumed.arn,
        assumed.credentials.access_key_id()
    ));
    Session {
        sdk: sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(assumed.credentials))
            .build(),
        authenticated_arn: Some(assumed.arn).filter(|a| !a.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that starts a new session each time it is asked, as a profile with `role_arn` does:
    /// `ASIA<n>` / `token-<n>`, lasting `lifetime`.
    #[derive(Debug)]
    struct NewSessionEachTime {
        asked: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl ProvideCredentials for NewSessionEachTime {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.asked.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("ASIA{n}"),
                format!("secret-{n}"),
                Some(format!("token-{n}")),
                Some(SystemTime::now() + self.lifetime),
                "test",
            )))
        }
    }

    fn source(lifetime: Duration) -> (SharedCredentialsProvider, Arc<AtomicUsize>) {
        let asked = Arc::new(AtomicUsize::new(0));
        let provider = NewSessionEachTime {
            asked: asked.clone(),
            lifetime,
        };
        (SharedCredentialsProvider::new(provider), asked)
    }

    /// The chain's account of its instance metadata attempt says which problem it met.
    #[test]
    fn reads_what_the_instance_metadata_attempt_met() {
        let chain = |imds: &str| {
            format!(
                "no providers in chain provided credentials: Environment \
            variables: not set. Profile: not found. IMDS: {imds}"
            )
        };
        assert_eq!(
            instance_metadata(&chain("failed to load IMDS session token: timeout")),
            Some(InstanceMetadata::Unanswered)
        );
        assert_eq!(
            instance_metadata(&chain("failed to load IMDS session token: 403 Forbidden")),
            Some(InstanceMetadata::Refused)
        );
        assert_eq!(instance_metadata("Environment variables: not set"), None);
    }

    #[tokio::test]
    async fn a_lasting_session_is_asked_for_once() {
        let (source, asked) = source(Duration::from_hours(1));
        let masked = Masked::new(source, "test");
        for _ in 0..3 {
            let credentials = masked.current().await.expect("credentials");
            assert_eq!(credentials.access_key_id(), "ASIA0");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_session_about_to_expire_is_renewed() {
        let (source, asked) = source(RENEW_BEFORE / 2);
        let masked = Masked::new(source, "test");
        let first = masked.current().await.expect("credentials");
        let second = masked.current().await.expect("credentials");
        assert_eq!(
            (first.access_key_id(), second.access_key_id()),
            ("ASIA0", "ASIA1")
        );
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    /// The session resolved (and masked) by the step is the one every client signs with: the source is
    /// not asked again, neither for the first call nor by a second client.
    #[tokio::test]
    async fn every_client_signs_with_the_session_resolved() {
        let signed_with = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = signed_with.clone();
        let http = aws_smithy_http_client::test_util::infallible_client_fn(move |request| {
            let authorization = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let token = request
                .headers()
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            seen.lock().expect("lock").push((authorization, token));
            http::Response::builder()
                .status(500)
                .body(SdkBody::empty())
                .expect("response")
        });
        let (source, asked) = source(Duration::from_hours(1));
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(source)
            .retry_config(RetryConfig::disabled())
            .http_client(http)
            .build();
        let sdk = resolve(&sdk, "test", "us-east-1").await.expect("resolved");
        for _ in 0..2 {
            let sts = aws_sdk_sts::Client::new(&sdk);
            let _ = sts.get_caller_identity().send().await;
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1, "the source is asked once");
        let signed_with = signed_with.lock().expect("lock");
        assert_eq!(signed_with.len(), 2);
        for (authorization, token) in signed_with.iter() {
            assert!(
                authorization.contains("Credential=ASIA0/"),
                "{authorization}"
            );
            assert_eq!(token, "token-0");
        }
    }
}
