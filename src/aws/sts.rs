//! STS role assumption (`AssumeRole`, `AssumeRoleWithWebIdentity`) with bounded, jittered retries of
//! transient failures, and a plain diagnosis of each refusal by STS's error code (told in
//! [`advice`]) — the most common trouble with keyless set-ups is a trust policy that does not match
//! the token.

use anyhow::{Error, Result};
use aws_credential_types::Credentials;
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::types::AssumedRoleUser;

use super::advice::{self, StsFailure};
use crate::inputs::Role;
use crate::retry::{Backoff, retry};

/// Credentials of an assumed role and who they are.
pub struct Assumed {
    pub credentials: Credentials,
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
}

/// An STS client whose own retries are off: [`retry`] does them, so it can also retry
/// `IDPCommunicationError` and say how often it tried.
pub fn client(sdk: &aws_config::SdkConfig) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(sdk)
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

pub async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    role: &Role,
) -> Result<Assumed> {
    let call = || {
        sts.assume_role()
            .role_arn(role_arn)
            .role_session_name(&role.session_name)
            .duration_seconds(role.duration_seconds)
            .set_external_id(role.external_id.clone())
            .send()
    };
    let out = with_retries("sts:AssumeRole", role_arn, call, |failure| {
        advice::assume_role_refused(failure, role.external_id.is_some())
    })
    .await?;
    assumed(
        out.credentials(),
        out.assumed_role_user().map(AssumedRoleUser::arn),
    )
}

pub async fn assume_role_with_web_identity(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    role: &Role,
    token: &str,
) -> Result<Assumed> {
    let call = || {
        sts.assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name(&role.session_name)
            .duration_seconds(role.duration_seconds)
            .web_identity_token(token)
            .send()
    };
    let out = with_retries("sts:AssumeRoleWithWebIdentity", role_arn, call, |failure| {
        let claims = super::oidc::claims(token).unwrap_or_default();
        advice::web_identity_refused(failure, &claims.issuer(), &claims.named())
    })
    .await?;
    assumed(
        out.credentials(),
        out.assumed_role_user().map(AssumedRoleUser::arn),
    )
}

/// Calls STS with bounded, jittered retries of transient failures; a final failure is told by
/// `refused`, from STS's code and message.
async fn with_retries<T, E, F, Fut>(
    action: &str,
    role_arn: &str,
    call: F,
    refused: impl FnOnce(&StsFailure) -> Error,
) -> Result<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    retry(
        action,
        Backoff::STANDARD,
        call,
        is_transient,
        super::sdk_error_text,
    )
    .await
    .map_err(|e| {
        refused(&StsFailure {
            action,
            role_arn,
            attempts: e.attempts,
            code: e.error.code(),
            message: e.error.message(),
            text: super::sdk_error_text(&e.error),
        })
    })
}

fn assumed(
    credentials: Option<&aws_sdk_sts::types::Credentials>,
    arn: Option<&str>,
) -> Result<Assumed> {
    let c = credentials.ok_or_else(advice::sts_without_credentials)?;
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(Assumed {
        credentials: Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "sts",
        ),
        arn: arn.unwrap_or_default().to_owned(),
    })
}

/// Throttling, `IDPCommunicationError`, server errors, timeouts and connection failures.
fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => {
            matches!(
                err.code(),
                Some(
                    "Throttling"
                        | "ThrottlingException"
                        | "RequestLimitExceeded"
                        | "IDPCommunicationError"
                        | "ServiceUnavailable"
                        | "InternalFailure"
                )
            ) || ctx.raw().status().is_server_error()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;
    use crate::inputs::RoleRef;
    use aws_smithy_types::body::SdkBody;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/gha-push";

    fn role(external_id: Option<&str>) -> Role {
        Role {
            role: RoleRef::Arn(ROLE_ARN.into()),
            session_name: "GitHubActions".into(),
            duration_seconds: 3600,
            external_id: external_id.map(str::to_owned),
        }
    }

    /// An STS client whose HTTP layer answers with `status` and STS's XML error document for
    /// `code`/`message` — exactly what STS sends — so the SDK's own parsing runs. Counts the calls.
    fn sts_refusing(
        status: u16,
        code: &str,
        message: &str,
    ) -> (aws_sdk_sts::Client, Arc<AtomicUsize>) {
        let body = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    \
             <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  \
             <RequestId>8c1a6c3e-6a0b-4c8e-9d3f-1f2e3d4c5b6a</RequestId>\n</ErrorResponse>\n"
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let http = aws_smithy_http_client::test_util::infallible_client_fn(move |_request| {
            counter.fetch_add(1, Ordering::SeqCst);
            http::Response::builder()
                .status(status)
                .header("Content-Type", "text/xml")
                .body(SdkBody::from(body.clone()))
                .expect("response")
        });
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(http)
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .build();
        (aws_sdk_sts::Client::from_conf(config), calls)
    }

    fn github_token() -> String {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let claims = r#"{"sub":"repo:Octo-Org/octo-repo:ref:refs/heads/main","aud":"sts.amazonaws.com","repository":"Octo-Org/octo-repo","ref":"refs/heads/main","job_workflow_ref":"Octo-Org/octo-repo/.github/workflows/ci.yml@refs/heads/main"}"#;
        format!("{}.{}.c2ln", enc(r#"{"alg":"RS256"}"#), enc(claims))
    }

    /// The refusal's code, its text and how many calls were made.
    async fn web_identity_error(
        status: u16,
        code: &str,
        message: &str,
    ) -> (&'static str, String, usize) {
        let (sts, calls) = sts_refusing(status, code, message);
        let error = assume_role_with_web_identity(&sts, ROLE_ARN, &role(None), &github_token())
            .await
            .err()
            .expect("refused");
        let code = codes(&error).first().copied().expect("a code");
        (code, format!("{error:#}"), calls.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn a_missing_oidc_provider_says_how_to_add_it() {
        let (code, text, calls) = web_identity_error(
            400,
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com",
        )
        .await;
        assert_eq!(calls, 1, "a refusal is not retried");
        assert_eq!(code, "E-STS-NO-OIDC-PROVIDER");
        assert!(
            text.contains("InvalidIdentityToken: No OpenIDConnect provider found"),
            "STS's own words: {text}"
        );
        assert!(
            text.contains("--url https://token.actions.githubusercontent.com"),
            "{text}"
        );
        assert!(text.contains("123456789012"), "{text}");
        assert!(
            !text.contains(&github_token()),
            "the token itself is never shown"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_wrong_audience_points_at_the_input_and_the_client_ids() {
        let (code, text, _) =
            web_identity_error(400, "InvalidIdentityToken", "Incorrect token audience").await;
        assert_eq!(code, "E-STS-AUDIENCE");
        assert!(text.contains("`audience`"), "{text}");
        assert!(text.contains("--open-id-connect-provider-arn arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"), "{text}");
        let (code, _, _) =
            web_identity_error(400, "InvalidIdentityToken", "Invalid signature").await;
        assert_eq!(code, "E-STS-INVALID-TOKEN");
    }

    #[tokio::test(start_paused = true)]
    async fn access_denied_shows_the_claims_and_a_matching_condition() {
        let (code, text, calls) = web_identity_error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        )
        .await;
        assert_eq!(calls, 1);
        assert_eq!(code, "E-STS-TRUST-POLICY");
        for expected in [
            "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
            "  sub: repo:Octo-Org/octo-repo:ref:refs/heads/main",
            "  aud: sts.amazonaws.com",
            "  repository: Octo-Org/octo-repo",
            "  ref: refs/heads/main",
            "  environment: (absent)",
            "  job_workflow_ref: Octo-Org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
            r#""token.actions.githubusercontent.com:sub": "repo:Octo-Org/octo-repo:ref:refs/heads/main""#,
            r#""Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com""#,
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    /// On GitHub Enterprise Server the token's issuer is the server's: the provider ARN, the condition
    /// keys and the command to add the provider follow it.
    #[tokio::test(start_paused = true)]
    async fn a_ghes_token_is_diagnosed_with_its_own_issuer() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let claims = r#"{"iss":"https://ghes.example.com/_services/token","sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com"}"#;
        let token = format!("{}.{}.c2ln", enc(r#"{"alg":"RS256"}"#), enc(claims));
        for (code, message, problem, expected) in [
            (
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                "E-STS-TRUST-POLICY",
                [
                    r#""Federated": "arn:aws:iam::123456789012:oidc-provider/ghes.example.com/_services/token""#,
                    r#""ghes.example.com/_services/token:sub": "repo:o/r:ref:refs/heads/main""#,
                ],
            ),
            (
                "InvalidIdentityToken",
                "No OpenIDConnect provider found in your account for https://ghes.example.com/_services/token",
                "E-STS-NO-OIDC-PROVIDER",
                [
                    "--url https://ghes.example.com/_services/token",
                    "123456789012",
                ],
            ),
        ] {
            let (sts, _) = sts_refusing(403, code, message);
            let error = assume_role_with_web_identity(&sts, ROLE_ARN, &role(None), &token)
                .await
                .err()
                .expect("refused");
            assert_eq!(codes(&error), [problem]);
            let text = format!("{error:#}");
            for piece in expected {
                assert!(text.contains(piece), "{piece}\n{text}");
            }
            assert!(
                !text.contains("token.actions.githubusercontent.com"),
                "{text}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn expired_tokens_and_disabled_regions_get_their_own_advice() {
        let (code, _, calls) = web_identity_error(
            400,
            "ExpiredTokenException",
            "Token expired: current date/time 1700000300 must be before the expiration date/time1700000000",
        )
        .await;
        assert_eq!((code, calls), ("E-STS-TOKEN-EXPIRED", 1));
        let (code, _, _) = web_identity_error(
            403,
            "RegionDisabledException",
            "STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.",
        )
        .await;
        assert_eq!(code, "E-STS-REGION-DISABLED");
    }

    #[tokio::test(start_paused = true)]
    async fn provider_outages_and_throttling_are_retried_then_explained() {
        let (code, text, calls) = web_identity_error(
            400,
            "IDPCommunicationError",
            "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
        )
        .await;
        assert_eq!(calls, 5, "retried up to the bound");
        assert_eq!(code, "E-STS-IDP-UNREACHABLE");
        assert!(text.contains("after 5 attempt(s)"), "{text}");
        let (code, _, calls) = web_identity_error(400, "Throttling", "Rate exceeded").await;
        assert_eq!((code, calls), ("E-STS-THROTTLED", 5));
    }

    #[tokio::test(start_paused = true)]
    async fn assume_role_denial_mentions_the_external_id() {
        let (sts, _) = sts_refusing(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/gha-push",
        );
        let error = assume_role(&sts, ROLE_ARN, &role(Some("ext-1")))
            .await
            .err()
            .expect("refused");
        assert_eq!(codes(&error), ["E-STS-ASSUME-DENIED"]);
        let text = format!("{error:#}");
        assert!(
            text.contains("is not authorized to perform: sts:AssumeRole"),
            "STS's own words: {text}"
        );
        assert!(text.contains("`role-external-id`"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn assume_role_sends_session_settings_and_external_id() {
        let (http, request) = aws_smithy_http_client::test_util::capture_request(None);
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(http)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(config);
        let mut role = role(Some("ext-1"));
        role.session_name = "deploy@ci".into();
        role.duration_seconds = 900;
        let _ = assume_role(&sts, ROLE_ARN, &role).await;
        let sent = request.expect_request();
        let body = std::str::from_utf8(sent.body().bytes().expect("body"))
            .expect("utf8")
            .to_owned();
        for field in [
            "Action=AssumeRole",
            "RoleSessionName=deploy%40ci",
            "DurationSeconds=900",
            "ExternalId=ext-1",
        ] {
            assert!(body.contains(field), "{field} in {body}");
        }
    }
}
