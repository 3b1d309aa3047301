//! What the AWS floor tells the user when a call, the credentials, GitHub's ID token, STS or the
//! registry token stand in the way: one named constructor per problem, each with its stable code, so
//! that the modules that raise them read on one screen. The repository's and the tags' problems are
//! the registry's (`registry/advice.rs`).
//!
//! It imports nothing from its siblings: they hand it what it tells (the claims of a token as named
//! pairs, an STS failure as [`StsFailure`]), so no sibling and this module import each other.

use anyhow::Error;

use crate::diagnostic::error;

/// An AWS call refused for lack of permission: the doctor's explanation.
pub fn denied(action: &str, doctor: &str) -> Error {
    error("E-DENIED", format!("{action} was denied.\n{doctor}"))
}

/// Any other failed AWS call, with the service's own error.
pub fn call_failed(action: &str, resource: &str, why: &str) -> Error {
    error(
        "E-AWS-CALL",
        format!("{action} on {resource} failed: {why}"),
    )
}

pub fn role_arn_needed() -> Error {
    error(
        "E-CREDENTIALS-ROLE-ARN",
        "Input `role-to-assume`: a full role ARN is needed with a web identity token",
    )
}

pub fn no_provider() -> Error {
    error(
        "E-CREDENTIALS-NO-PROVIDER",
        "the AWS SDK has no credential provider configured",
    )
}

/// What the AWS chain's attempt at the EC2 instance metadata endpoint showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceMetadata {
    /// No answer in time: the container is one network hop further than the hop limit allows.
    Unanswered,
    /// The `IMDSv2` token request was refused.
    Refused,
}

/// No source of the chain had credentials; `chain` is its own account of each attempt, `imds` what
/// its instance metadata attempt showed.
pub fn no_credentials(chain: &str, imds: Option<InstanceMetadata>) -> Error {
    let (code, why) = match imds {
        None => ("E-CREDENTIALS-NONE", ""),
        Some(InstanceMetadata::Unanswered) => (
            "E-CREDENTIALS-IMDS-UNANSWERED",
            "\nThe EC2 instance metadata endpoint did not answer in time. This action runs in a container, one \
             network hop further than the instance: the instance's metadata hop limit must be 2 or more \
             (`aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2 \
             --http-endpoint enabled`). Or use GitHub's OIDC (`role-to-assume`) or keys instead.",
        ),
        Some(InstanceMetadata::Refused) => (
            "E-CREDENTIALS-IMDS-REFUSED",
            "\nThe EC2 instance metadata endpoint refused the IMDSv2 token request: enable it \
             (`aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled \
             --http-put-response-hop-limit 2`), or use GitHub's OIDC (`role-to-assume`) or keys instead.",
        ),
    };
    error(
        code,
        format!(
            "No AWS credentials found: {}.{why}\nPass `aws-access-key-id` and `aws-secret-access-key` (from secrets), \
             use `role-to-assume` with `permissions: id-token: write` for GitHub's OIDC, or set \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN \
             in the job's environment.",
            chain.trim_end_matches('.')
        ),
    )
}

/// A bare role name could not be completed with the caller's account.
pub fn caller_identity_failed(name: &str, why: &str) -> Error {
    error(
        "E-STS-CALLER-IDENTITY",
        format!(
            "sts:GetCallerIdentity, to complete the role name `{name}` with your account, failed: {why}. \
             Pass the full role ARN in `role-to-assume`."
        ),
    )
}

pub fn caller_without_account() -> Error {
    error(
        "E-STS-NO-ACCOUNT",
        "sts:GetCallerIdentity returned no account",
    )
}

pub fn token_file_unreadable(path: &std::path::Path, why: &std::io::Error) -> Error {
    error(
        "E-OIDC-FILE-UNREADABLE",
        format!(
            "Input `web-identity-token-file`: cannot read {}: {why}",
            path.display()
        ),
    )
}

pub fn token_file_empty(path: &std::path::Path) -> Error {
    error(
        "E-OIDC-FILE-EMPTY",
        format!(
            "Input `web-identity-token-file`: {} is empty",
            path.display()
        ),
    )
}

pub fn token_request_url(why: &dyn std::fmt::Display) -> Error {
    error(
        "E-OIDC-REQUEST-URL",
        format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL ({why})"),
    )
}

/// What a failure to build the token request's client is said within.
pub const TOKEN_CLIENT: &str = "the HTTP client for the GitHub token request";

pub fn token_endpoint_failing(attempts: u32, last: &str) -> Error {
    error(
        "E-OIDC-UNAVAILABLE",
        format!(
            "GitHub's OIDC token endpoint failed {attempts} times, last: {last}. This is usually a passing \
             outage: re-run the job."
        ),
    )
}

pub fn token_request_refused(why: &str) -> Error {
    error(
        "E-OIDC-REFUSED",
        format!(
            "GitHub refused the OIDC token request ({why}). The job needs `permissions: id-token: write`, \
             and the token must be requested while the job runs."
        ),
    )
}

/// Why the token endpoint's answer of status 200 holds no token.
pub const TOKEN_WITHOUT_VALUE: &str = "the answer has no `value` field";

pub fn sts_without_credentials() -> Error {
    error("E-STS-NO-CREDENTIALS", "STS answered without credentials")
}

/// An STS call that failed for good: what it was, how often it was tried, and what STS said.
pub struct StsFailure<'a> {
    pub action: &'a str,
    pub role_arn: &'a str,
    pub attempts: u32,
    /// STS's error code and message, when it sent them.
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
    /// The whole error, as the user reads it.
    pub text: String,
}

impl StsFailure<'_> {
    /// The failure with `advice` under it, as the problem `code`.
    fn told(&self, code: &'static str, advice: &str) -> Error {
        error(
            code,
            format!(
                "{} of {} failed after {} attempt(s): {}\n{advice}",
                self.action, self.role_arn, self.attempts, self.text
            ),
        )
    }

    /// The role's account and partition, as its ARN names them.
    fn account_and_partition(&self) -> (&str, &str) {
        let mut parts = self.role_arn.split(':');
        let partition = parts.nth(1).unwrap_or("aws");
        (parts.nth(2).unwrap_or("<account>"), partition)
    }
}

/// A refused `AssumeRole` from keys or the AWS chain, by STS's error code.
pub fn assume_role_refused(failure: &StsFailure, with_external_id: bool) -> Error {
    let role_arn = failure.role_arn;
    match failure.code {
        Some("AccessDenied") => {
            let external_id = if with_external_id {
                " The trust policy's sts:ExternalId condition must equal `role-external-id` exactly."
            } else {
                " If the trust policy requires sts:ExternalId, set `role-external-id`."
            };
            failure.told(
                "E-STS-ASSUME-DENIED",
                &format!(
                    "The source credentials may not assume {role_arn}: its trust policy must name their principal, \
                     and their own policy must allow sts:AssumeRole on it.{external_id}"
                ),
            )
        }
        Some("RegionDisabledException") => region_disabled(failure),
        Some("ExpiredToken" | "ExpiredTokenException") => failure.told(
            "E-STS-SOURCE-EXPIRED",
            "The source credentials have expired: refresh the session token or keys.",
        ),
        Some("InvalidClientTokenId" | "SignatureDoesNotMatch") => failure.told(
            "E-STS-SOURCE-INVALID",
            "The source access key is not valid: check `aws-access-key-id` / `aws-secret-access-key` (or \
             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).",
        ),
        _ => failure.told(
            "E-STS-ASSUME-ROLE",
            "Check the role ARN and its trust policy.",
        ),
    }
}

fn region_disabled(failure: &StsFailure) -> Error {
    failure.told(
        "E-STS-REGION-DISABLED",
        "STS is not activated in this region for the account: activate it in IAM → Account settings → Security \
         Token Service (STS) endpoints, or use another `aws-region`.",
    )
}

/// A refused `AssumeRoleWithWebIdentity`, by STS's error code. `issuer` is the token's issuer as IAM
/// names it, and `claims` the token's claims that a trust policy matches, by name (`sub`, `aud`, …).
pub fn web_identity_refused(
    failure: &StsFailure,
    issuer: &str,
    claims: &[(&str, Option<&str>)],
) -> Error {
    let message = failure.message.unwrap_or_default();
    let (account, partition) = failure.account_and_partition();
    let provider_arn = format!("arn:{partition}:iam::{account}:oidc-provider/{issuer}");
    let aud = claim(claims, "aud");
    match failure.code {
        Some("InvalidIdentityToken") if message.contains("No OpenIDConnect provider found") => failure.told(
            "E-STS-NO-OIDC-PROVIDER",
            &format!(
                "Account {account} has no IAM identity provider for GitHub's OIDC tokens. Add it once per account:\n\
                 \x20 aws iam create-open-id-connect-provider --url https://{issuer} --client-id-list sts.amazonaws.com\n\
                 (console: IAM → Identity providers → Add provider → OpenID Connect, audience sts.amazonaws.com)."
            ),
        ),
        Some("InvalidIdentityToken") if message.contains("audience") => failure.told(
            "E-STS-AUDIENCE",
            &format!(
                "The token's audience `{}` (input `audience`) is not a client ID of the provider {provider_arn}. Set \
                 `audience` to one of its client IDs (usually sts.amazonaws.com), or add it:\n\
                 \x20 aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {provider_arn} --client-id {}",
                aud.unwrap_or("?"),
                aud.unwrap_or("<audience>")
            ),
        ),
        Some("InvalidIdentityToken") => failure.told(
            "E-STS-INVALID-TOKEN",
            &format!(
                "STS did not accept the ID token as valid: check that the provider's URL is exactly \
                 https://{issuer} and that the token was not altered."
            ),
        ),
        Some("AccessDenied") => failure.told(
            "E-STS-TRUST-POLICY",
            &trust_policy_advice(failure.role_arn, &provider_arn, issuer, claims),
        ),
        _ => web_identity_passing(failure),
    }
}

/// The refusals of `AssumeRoleWithWebIdentity` that are not about the provider or the trust policy.
fn web_identity_passing(failure: &StsFailure) -> Error {
    match failure.code {
        Some("ExpiredTokenException") => failure.told(
            "E-STS-TOKEN-EXPIRED",
            "The ID token expired before STS accepted it. GitHub's tokens live a few minutes: re-run the job; if \
             it repeats, check the runner's clock.",
        ),
        Some("IDPCommunicationError") => failure.told(
            "E-STS-IDP-UNREACHABLE",
            "STS could not reach GitHub's OIDC provider to verify the token. This is usually a passing outage on \
             either side: re-run the job.",
        ),
        Some("RegionDisabledException") => region_disabled(failure),
        Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded") => failure.told(
            "E-STS-THROTTLED",
            "STS kept throttling the request. Many jobs assuming roles at once can cause this: re-run, or limit \
             the matrix with `max-parallel`.",
        ),
        Some("PackedPolicyTooLarge" | "MalformedPolicyDocument") => failure.told(
            "E-STS-SESSION-POLICY",
            "The session policy or tags are too large or malformed.",
        ),
        _ => failure.told(
            "E-STS-WEB-IDENTITY",
            "Check the role ARN, the role's trust policy and the GitHub OIDC provider in the role's account.",
        ),
    }
}

fn claim<'a>(claims: &[(&str, Option<&'a str>)], name: &str) -> Option<&'a str> {
    claims
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| *v)
}

/// The token's claims as STS saw them, and a trust-policy statement that matches this exact token.
fn trust_policy_advice(
    role_arn: &str,
    provider_arn: &str,
    issuer: &str,
    claims: &[(&str, Option<&str>)],
) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "The trust policy of {role_arn} does not allow this workflow's token. The token's claims:\n"
    );
    for (name, value) in claims {
        let _ = writeln!(text, "  {name}: {}", value.unwrap_or("(absent)"));
    }
    let sub = claim(claims, "sub").unwrap_or("repo:OWNER/REPO:ref:refs/heads/BRANCH");
    let aud = claim(claims, "aud").unwrap_or("sts.amazonaws.com");
    let _ = write!(
        text,
        "A trust policy statement that matches exactly this token:\n\
         \x20 {{\"Effect\": \"Allow\", \"Principal\": {{\"Federated\": \"{provider_arn}\"}}, \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n\
         \x20  \"Condition\": {{\"StringEquals\": {{\"{issuer}:aud\": \"{aud}\", \"{issuer}:sub\": \"{sub}\"}}}}}}\n\
         The match is case-sensitive (`Octo-Org` is not `octo-org`). A job with `environment:` gets \
         `repo:OWNER/REPO:environment:NAME` as its sub instead of the branch; pull requests get \
         `repo:OWNER/REPO:pull_request`. Use StringLike with `*` to allow several."
    );
    text
}

/// What is wrong with a registry token's answer (`GetAuthorizationToken`, private or public).
#[derive(Debug)]
pub enum TokenFlaw<'a> {
    NoData,
    NoToken,
    NotBase64(String),
    NotUtf8(String),
    NotUserPassword,
    NoEndpoint,
    BadEndpoint(&'a str),
}

/// The registry token `action` answered with cannot be used.
pub fn token_unusable(action: &str, flaw: TokenFlaw) -> Error {
    let text = match flaw {
        TokenFlaw::NoData => format!("{action} returned no authorization data"),
        TokenFlaw::NoToken => format!("{action} returned no token"),
        TokenFlaw::NotBase64(why) => {
            format!("the ECR authorization token is not valid base64: {why}")
        }
        TokenFlaw::NotUtf8(why) => format!("the ECR authorization token is not UTF-8: {why}"),
        TokenFlaw::NotUserPassword => {
            "the ECR authorization token is not of the form `user:password`".to_owned()
        }
        TokenFlaw::NoEndpoint => format!("{action} returned no proxyEndpoint"),
        TokenFlaw::BadEndpoint(endpoint) => {
            format!("{action} returned an unusable proxyEndpoint `{endpoint}`")
        }
    };
    error("E-LOGIN-TOKEN", text)
}
