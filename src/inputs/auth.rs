//! Where the AWS credentials come from: the credential inputs (keys, the role and its session, the
//! external ID, the audience, a token file) checked together, and the one choice of source — the keys
//! as they are, the AWS chain, `sts:AssumeRole`, or `sts:AssumeRoleWithWebIdentity` with GitHub's
//! OIDC token or a token file.

use std::fmt;
use std::path::PathBuf;
use std::sync::LazyLock;

use regex_lite::Regex;

use super::advice;
use super::endpoints;
use super::problem::{Checked, Gather};
use super::raw::{Env, RawInputs};

/// How the action gets its AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The keys given as inputs, as they are.
    Keys(StaticCredentials),
    /// The standard AWS chain (environment, web identity token file, profile, container, instance).
    Chain,
    /// `sts:AssumeRole` with source credentials: the inputs' keys, or else the chain.
    AssumeRole {
        source: Option<StaticCredentials>,
        role: Role,
    },
    /// `sts:AssumeRoleWithWebIdentity` with GitHub's ID token or a token file.
    WebIdentity { token: IdTokenSource, role: Role },
}

/// The role to assume and the session's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub role: RoleRef,
    pub session_name: String,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    Arn(String),
    /// A bare name, completed with the source credentials' account.
    Name(String),
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleRef::Arn(s) | RoleRef::Name(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum IdTokenSource {
    /// GitHub's OIDC token endpoint (present with `permissions: id-token: write`).
    GitHub {
        request_url: String,
        request_token: String,
        audience: String,
    },
    /// A file holding the token (`web-identity-token-file`), resolved against `GITHUB_WORKSPACE`.
    File(PathBuf),
}

// The request token never reaches a log line through `{:?}`.
impl fmt::Debug for IdTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdTokenSource::GitHub {
                request_url,
                audience,
                ..
            } => f
                .debug_struct("GitHub")
                .field("request_url", request_url)
                .field("audience", audience)
                .finish_non_exhaustive(),
            IdTokenSource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

// Secrets never reach a log line through `{:?}`.
impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The issuer of GitHub's OIDC tokens on github.com: the identity provider's host in IAM and the prefix
/// of its condition keys (`…:aud`, `…:sub`).
pub const ISSUER: &str = "token.actions.githubusercontent.com";

/// The issuer of a GitHub server's tokens: github.com's, or a GitHub Enterprise Server's
/// `HOST/_services/token` (from `GITHUB_SERVER_URL`, `https://HOST`).
pub fn issuer_of_server(server_url: Option<&str>) -> String {
    let host = server_url
        .map(|url| {
            url.trim_start_matches("https://")
                .trim_start_matches("http://")
        })
        .map(|host| host.trim_end_matches('/').to_ascii_lowercase())
        .filter(|host| !host.is_empty() && host != "github.com");
    host.map_or_else(
        || ISSUER.to_owned(),
        |host| format!("{host}/_services/token"),
    )
}

/// An ARN in a partition `crate::partition` does not know names nothing.
static ROLE_ARN_RULE: LazyLock<Regex> = LazyLock::new(|| {
    let partitions = crate::partition::ids_pattern();
    Regex::new(&format!(
        r"^arn:{partitions}:iam::[0-9]{{12}}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}$"
    ))
    .expect("valid regex")
});
static ROLE_NAME_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@-]{1,64}$").expect("valid regex"));
static SESSION_NAME_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@-]{2,64}$").expect("valid regex"));
static EXTERNAL_ID_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@:/-]{2,1224}$").expect("valid regex"));

/// Other sources of the AWS chain that can assume a role without keys in the environment.
const CHAIN_SOURCES: [&str; 4] = [
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// The credential inputs, checked together: keys, the role and its session, the audience; then the
/// source they make.
pub(super) fn derive(check: &mut Gather, raw: &RawInputs, env: &Env) -> Option<Auth> {
    let keys = check.keep(credentials_rule(
        raw.aws_access_key_id.as_deref(),
        raw.aws_secret_access_key.as_deref(),
        raw.aws_session_token.as_deref(),
    ));
    let role = check.keep(role_rule(raw.role_to_assume.as_deref()));
    let session_name = check.keep(session_name_rule(raw.role_session_name.as_deref()));
    let duration_seconds = check.keep(duration_rule(raw.role_duration_seconds.as_deref()));
    let external_id = check.keep(external_id_rule(
        raw.role_external_id.as_deref(),
        role.as_ref(),
    ));
    // A source is only chosen (and the audience it would carry judged) from inputs that are valid.
    let (keys, role, session_name, duration_seconds, external_id) =
        (keys?, role?, session_name?, duration_seconds?, external_id?);
    let role = role.map(|role| Role {
        role,
        session_name,
        duration_seconds,
        external_id,
    });
    let audience = check.keep(audience_rule(raw.audience.as_deref()))?;
    let token_file = raw.web_identity_token_file.as_deref();
    check.keep(choose(keys, role, token_file, audience, env))
}

/// Chooses where credentials come from. With a role: keys given as inputs, else a token file, else
/// keys in the environment, else GitHub's OIDC token, else another explicit source of the AWS chain.
fn choose(
    keys: Option<StaticCredentials>,
    role: Option<Role>,
    token_file: Option<&str>,
    audience: String,
    env: &Env,
) -> Checked<Auth> {
    let Some(role) = role else {
        if token_file.is_some() {
            return Err(advice::token_file_without_role());
        }
        return Ok(keys.map_or(Auth::Chain, Auth::Keys));
    };
    if let Some(keys) = keys {
        if token_file.is_some() {
            return Err(advice::token_file_with_keys());
        }
        let source = Some(keys);
        return Ok(Auth::AssumeRole { source, role });
    }
    if let Some(file) = token_file {
        let path = match env.workspace() {
            Some(workspace) if PathBuf::from(file).is_relative() => workspace.join(file),
            _ => PathBuf::from(file),
        };
        return web_identity(role, IdTokenSource::File(path));
    }
    if env.get("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(Auth::AssumeRole { source: None, role });
    }
    if let Some(token) = github_token(env, audience)? {
        return web_identity(role, token);
    }
    if CHAIN_SOURCES.iter().any(|name| env.get(name).is_some()) {
        return Ok(Auth::AssumeRole { source: None, role });
    }
    // act (`ACT=true`) runs workflows locally and offers no OIDC token at all.
    if env.get("ACT").is_some() {
        return Err(advice::no_oidc_under_act(&role.role));
    }
    Err(advice::no_credentials_for_role(&role.role))
}

/// GitHub's OIDC token endpoint, when the job may request a token (`permissions: id-token: write`).
fn github_token(env: &Env, audience: String) -> Checked<Option<IdTokenSource>> {
    let url = "ACTIONS_ID_TOKEN_REQUEST_URL";
    let (Some(request_url), Some(request_token)) =
        (env.get(url), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
    else {
        return Ok(None);
    };
    endpoints::secure_url_rule(url, request_url, advice::TOKEN_REQUEST_CARRIES)?;
    Ok(Some(IdTokenSource::GitHub {
        request_url: request_url.to_owned(),
        request_token: request_token.to_owned(),
        audience,
    }))
}

/// `sts:AssumeRoleWithWebIdentity` has no source credentials: the role must be a full ARN, and it
/// takes no external ID.
fn web_identity(role: Role, token: IdTokenSource) -> Checked<Auth> {
    if let RoleRef::Name(name) = &role.role {
        return Err(advice::role_name_with_web_identity(name));
    }
    if role.external_id.is_some() {
        return Err(advice::external_id_with_web_identity());
    }
    Ok(Auth::WebIdentity { token, role })
}

fn credentials_rule(
    key_id: Option<&str>,
    secret: Option<&str>,
    session_token: Option<&str>,
) -> Checked<Option<StaticCredentials>> {
    match (key_id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(StaticCredentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: session_token.map(str::to_owned),
        })),
        (Some(_), None) => Err(advice::key_without_its_pair(
            "aws-secret-access-key",
            "aws-access-key-id",
        )),
        (None, Some(_)) => Err(advice::key_without_its_pair(
            "aws-access-key-id",
            "aws-secret-access-key",
        )),
        (None, None) if session_token.is_some() => Err(advice::session_token_without_keys()),
        (None, None) => Ok(None),
    }
}

pub(super) fn role_rule(role: Option<&str>) -> Checked<Option<RoleRef>> {
    match role {
        None => Ok(None),
        Some(arn) if arn.starts_with("arn:") && ROLE_ARN_RULE.is_match(arn) => {
            Ok(Some(RoleRef::Arn(arn.to_owned())))
        }
        // A name has no `:`: an ARN never passes for one.
        Some(name) if ROLE_NAME_RULE.is_match(name) => Ok(Some(RoleRef::Name(name.to_owned()))),
        Some(other) => Err(advice::bad_role(other)),
    }
}

fn session_name_rule(name: Option<&str>) -> Checked<String> {
    match name {
        None => Ok("GitHubActions".to_owned()),
        Some(name) if SESSION_NAME_RULE.is_match(name) => Ok(name.to_owned()),
        Some(name) => Err(advice::bad_session_name(name)),
    }
}

fn duration_rule(seconds: Option<&str>) -> Checked<i32> {
    match seconds {
        None => Ok(3600),
        Some(text) => match text.parse::<i32>() {
            Ok(n) if (900..=43200).contains(&n) => Ok(n),
            _ => Err(advice::bad_duration(text)),
        },
    }
}

fn external_id_rule(id: Option<&str>, role: Option<&Option<RoleRef>>) -> Checked<Option<String>> {
    match id {
        None => Ok(None),
        Some(_) if matches!(role, Some(None)) => Err(advice::external_id_without_role()),
        Some(id) if EXTERNAL_ID_RULE.is_match(id) => Ok(Some(id.to_owned())),
        Some(_) => Err(advice::bad_external_id()),
    }
}

/// The audience of GitHub's ID token: an OIDC client ID (IAM allows up to 255 characters), plain text.
pub(super) fn audience_rule(audience: Option<&str>) -> Checked<String> {
    match audience {
        None => Ok("sts.amazonaws.com".to_owned()),
        Some(a) if a.chars().count() <= 255 && !a.chars().any(char::is_control) => Ok(a.to_owned()),
        Some(a) => Err(advice::bad_audience(a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_only_in_real_partitions() {
        for partition in [
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-e",
            "aws-iso-f",
            "aws-eusc",
        ] {
            let arn = format!("arn:{partition}:iam::123456789012:role/x");
            assert!(role_rule(Some(&arn)).is_ok(), "{arn}");
        }
        for partition in ["aws-made-up", "aws-x-y", "awsx"] {
            let arn = format!("arn:{partition}:iam::123456789012:role/x");
            assert!(role_rule(Some(&arn)).is_err(), "{arn}");
        }
    }

    #[test]
    fn audiences_are_bounded_plain_text() {
        assert_eq!(audience_rule(None), Ok("sts.amazonaws.com".to_owned()));
        assert!(audience_rule(Some(&"a".repeat(255))).is_ok());
        assert!(audience_rule(Some(&"a".repeat(256))).is_err());
        assert!(audience_rule(Some("sts\u{1b}[31m")).is_err());
    }
}
