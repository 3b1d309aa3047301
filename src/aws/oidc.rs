//! GitHub's OIDC ID token: requesting it from the runner's token endpoint (with retries), reading it
//! from a file, and decoding its claims to explain a trust-policy mismatch. The signature is not
//! checked: STS does that; the claims are only read to tell the user what STS saw.

use anyhow::{Context, Result};
use base64::Engine as _;
use http_body_util::Empty;

use super::advice;
use crate::github;
use crate::inputs::IdTokenSource;
use crate::retry::{Backoff, retry};

// Where the issuer comes from is the inputs' to say (`GITHUB_SERVER_URL`); named here as well, as
// the token's own.
pub use crate::inputs::{ISSUER, issuer_of_server};

/// An issuer as IAM names it: without `https://` and a trailing `/`.
pub fn issuer_name(issuer: &str) -> String {
    issuer
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned()
}

/// Gets the ID token and masks it before anything else can print it.
pub async fn id_token(source: &IdTokenSource) -> Result<String> {
    let token = match source {
        IdTokenSource::GitHub {
            request_url,
            request_token,
            audience,
        } => {
            github::mask(request_token);
            let token = request(request_url, request_token, audience).await?;
            github::info(&format!(
                "Got a GitHub OIDC ID token for audience {audience}"
            ));
            token
        }
        IdTokenSource::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| advice::token_file_unreadable(path, &e))?;
            let token = text.trim().to_owned();
            github::mask(&token);
            if token.is_empty() {
                return Err(advice::token_file_empty(path));
            }
            github::info(&format!(
                "Read the web identity token from {}",
                path.display()
            ));
            token
        }
    };
    github::mask(&token);
    Ok(token)
}

/// One failed request to the token endpoint.
#[derive(Debug)]
enum Failure {
    /// Connection problems, 5xx and 429: worth another try.
    Transient(String),
    Permanent(String),
}

async fn request(request_url: &str, request_token: &str, audience: &str) -> Result<String> {
    let separator = if request_url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{request_url}{separator}audience={}",
        percent_encode(audience)
    );
    let uri = url
        .parse::<hyper::Uri>()
        .map_err(|e| advice::token_request_url(&e))?;
    // Behind a proxy the token request goes through it, as the AWS SDK's requests do.
    let client: TokenClient = crate::proxy::client().context(advice::TOKEN_CLIENT)?;
    retry(
        "Requesting the GitHub OIDC token",
        Backoff::STANDARD,
        || attempt(&client, &uri, request_token),
        |f| matches!(f, Failure::Transient(_)),
        |f| match f {
            Failure::Transient(t) | Failure::Permanent(t) => t.clone(),
        },
    )
    .await
    .map_err(|exhausted| match exhausted.error {
        Failure::Transient(text) => advice::token_endpoint_failing(exhausted.attempts, &text),
        Failure::Permanent(text) => advice::token_request_refused(&text),
    })
}

type TokenClient = crate::proxy::HttpClient<Empty<bytes::Bytes>>;

/// One request for the token, within 30 s; the token from the JSON answer's `value`.
async fn attempt(
    client: &TokenClient,
    uri: &hyper::Uri,
    request_token: &str,
) -> Result<String, Failure> {
    let req = hyper::Request::get(uri.clone())
        .header("Authorization", format!("bearer {request_token}"))
        .header("Accept", "application/json; api-version=2.0")
        .header("User-Agent", "ecr-push-action")
        .body(Empty::new())
        .map_err(|e| Failure::Permanent(e.to_string()))?;
    let limit = std::time::Duration::from_secs(30);
    let answer = crate::proxy::exchange(client, req, limit, crate::proxy::TOKEN_ANSWER)
        .await
        .map_err(|f| match f {
            crate::proxy::Failed::Transient(text) => Failure::Transient(text),
            crate::proxy::Failed::TooLarge(text) | crate::proxy::Failed::Untrusted(text) => {
                Failure::Permanent(text)
            }
        })?;
    let (status, body) = (answer.status, answer.body);
    match status.as_u16() {
        200 => serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("value")?.as_str().map(str::to_owned))
            .ok_or_else(|| Failure::Permanent(advice::TOKEN_WITHOUT_VALUE.into())),
        429 | 500..=599 => Err(Failure::Transient(format!("HTTP {status}"))),
        _ => Err(Failure::Permanent(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ))),
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The claims of an ID token that decide whether a trust policy matches.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The issuer (`https://token.actions.githubusercontent.com`, or GHES's `https://HOST/_services/token`).
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    pub environment: Option<String>,
    pub job_workflow_ref: Option<String>,
}

impl Claims {
    /// The issuer as IAM names it (the provider's host and path), github.com's when the token says none.
    pub fn issuer(&self) -> String {
        self.iss
            .as_deref()
            .map_or_else(|| ISSUER.to_owned(), issuer_name)
    }

    /// The claims a trust policy matches, by the names the token gives them, in the order shown.
    pub fn named(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("sub", self.sub.as_deref()),
            ("aud", self.aud.as_deref()),
            ("repository", self.repository.as_deref()),
            ("ref", self.git_ref.as_deref()),
            ("environment", self.environment.as_deref()),
            ("job_workflow_ref", self.job_workflow_ref.as_deref()),
        ]
    }
}

/// Reads the payload of a JWT without checking its signature; `None` if it is not a JWT.
pub fn claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let text = |name: &str| -> Option<String> {
        match value.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            other => Some(other.to_string()),
        }
    };
    Some(Claims {
        iss: text("iss"),
        sub: text("sub"),
        aud: text("aud"),
        repository: text("repository"),
        git_ref: text("ref"),
        environment: text("environment"),
        job_workflow_ref: text("job_workflow_ref"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", enc(r#"{"alg":"RS256"}"#), enc(payload))
    }

    #[test]
    fn reads_github_claims() {
        let token = jwt(
            r#"{"sub":"repo:Octo-Org/app:environment:prod","aud":["sts.amazonaws.com"],"repository":"Octo-Org/app",
                "ref":"refs/heads/main","environment":"prod","job_workflow_ref":"Octo-Org/app/.github/workflows/ci.yml@refs/heads/main"}"#,
        );
        let claims = claims(&token).expect("a JWT");
        assert_eq!(
            claims.sub.as_deref(),
            Some("repo:Octo-Org/app:environment:prod")
        );
        assert_eq!(claims.aud.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!(claims.environment.as_deref(), Some("prod"));
        assert_eq!(claims.git_ref.as_deref(), Some("refs/heads/main"));
    }

    #[test]
    fn the_issuer_is_github_com_or_the_enterprise_servers() {
        assert_eq!(issuer_of_server(None), ISSUER);
        assert_eq!(issuer_of_server(Some("https://github.com")), ISSUER);
        assert_eq!(
            issuer_of_server(Some("https://GHES.example.com/")),
            "ghes.example.com/_services/token"
        );
        let token = jwt(
            r#"{"iss":"https://ghes.example.com/_services/token","sub":"repo:o/r:ref:refs/heads/main"}"#,
        );
        assert_eq!(
            claims(&token).expect("a JWT").issuer(),
            "ghes.example.com/_services/token"
        );
        assert_eq!(claims(&jwt("{}")).expect("a JWT").issuer(), ISSUER);
    }

    #[tokio::test]
    async fn a_token_file_that_is_missing_or_empty_is_refused_naming_it() {
        let dir = std::env::temp_dir().join(format!("oidc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let (missing, empty) = (dir.join("missing"), dir.join("empty"));
        std::fs::write(&empty, " \n").expect("written");
        for (path, problem) in [
            (missing, "E-OIDC-FILE-UNREADABLE"),
            (empty, "E-OIDC-FILE-EMPTY"),
        ] {
            let error = id_token(&IdTokenSource::File(path.clone()))
                .await
                .expect_err("refused");
            assert_eq!(crate::diagnostic::codes(&error), [problem]);
            assert!(error.to_string().contains(&path.display().to_string()));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tolerates_what_is_not_a_jwt() {
        assert_eq!(claims("not a token"), None);
        assert_eq!(claims("a.%%%.c"), None);
        assert_eq!(claims(&jwt("[1]")).map(|c| c.sub), Some(None));
    }

    #[test]
    fn encodes_the_audience_for_the_query() {
        assert_eq!(percent_encode("sts.amazonaws.com"), "sts.amazonaws.com");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
