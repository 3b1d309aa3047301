//! Raw `INPUT_*` variables (as GitHub passes them: upper-cased, hyphens kept) → a validated [`Config`].
//!
//! Every input rule and every input error lives here, and all of them are checked before the action
//! touches Docker or AWS. The rest of the crate only sees the validated types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex_lite::Regex;
use serde::Deserialize;

mod endpoints;
mod platform;
mod settings;

pub use endpoints::DockerHost;
pub use platform::Platform;
pub use settings::{
    Catalog, Document, Encryption, IfTagExists, RegistryType, Settings, TagMutability,
};

/// The inputs exactly as the environment has them; an empty value means "not set" because GitHub
/// passes every declared input, with `""` for the ones the workflow leaves out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawInputs {
    local_image: Option<String>,
    repository: Option<String>,
    tags: Option<String>,
    aws_region: Option<String>,
    aws_access_key_id: Option<String>,
    aws_secret_access_key: Option<String>,
    aws_session_token: Option<String>,
    registry_id: Option<String>,
    create_repository: Option<String>,
    role_to_assume: Option<String>,
    role_session_name: Option<String>,
    role_duration_seconds: Option<String>,
    role_external_id: Option<String>,
    audience: Option<String>,
    web_identity_token_file: Option<String>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<String>,
    scan_on_push: Option<String>,
    encryption_type: Option<String>,
    kms_key: Option<String>,
    repository_tags: Option<String>,
    lifecycle_policy: Option<String>,
    repository_policy: Option<String>,
    if_tag_exists: Option<String>,
    registry_type: Option<String>,
    public_description: Option<String>,
    public_about: Option<String>,
    public_usage: Option<String>,
    public_architectures: Option<String>,
    public_operating_systems: Option<String>,
    timeout: Option<String>,
    platform: Option<String>,
}

/// What the action will do, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Name, `name:tag` or ID of an image in the local Docker daemon.
    pub local_image: String,
    pub repository: RepositoryName,
    /// At least one, without duplicates, in the order given.
    pub tags: Vec<Tag>,
    pub region: String,
    /// Where the AWS credentials come from.
    pub auth: Auth,
    /// Another account's registry (cross-account push); `None` is the caller's own.
    pub registry_id: Option<String>,
    pub create_repository: bool,
    /// How the repository should be set up (applied at creation, reconciled on an existing one).
    pub settings: Settings,
    pub if_tag_exists: IfTagExists,
    pub registry_type: RegistryType,
    /// The whole run must finish within this.
    pub timeout: std::time::Duration,
    /// Push only this platform's image of a multi-platform local image; `None` pushes it whole.
    pub platform: Option<Platform>,
    /// The Docker daemon (`DOCKER_HOST` and its TLS settings).
    pub docker_host: DockerHost,
}

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

/// An ECR repository name (ECR's own rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryName(String);

/// An image tag (Docker's and ECR's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl RepositoryName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

static REPOSITORY_RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
        .expect("valid regex")
});
static TAG_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"));
static ROLE_ARN_RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^arn:{PARTITIONS}:iam::[0-9]{{12}}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}$"
    ))
    .expect("valid regex")
});
/// The partitions AWS documents (commercial, China, `aws-us-gov`, the isolated regions, the European
/// Sovereign Cloud); an ARN in any other names nothing.
pub const PARTITIONS: &str =
    "(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)";
/// Docker's reference grammar (distribution/reference): `[domain[:port]/]path[:tag][@digest]`, with
/// lowercase path components joined by `.`, `_`, `__` or dashes.
static LOCAL_IMAGE_RULE: LazyLock<Regex> = LazyLock::new(|| {
    let component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"(?:{component}(?:\.{component})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?");
    let path = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*";
    Regex::new(&format!(
        r"^(?:{domain}/)?{path}(?:/{path})*(?::[\w][\w.-]{{0,127}})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,128}})?$"
    ))
    .expect("valid regex")
});
/// A local image's name (without tag or digest) is at most 255 characters (Docker's own limit), and the
/// whole reference at most this: a name, a 128-character tag and a SHA-512 digest fit.
const LOCAL_IMAGE_MAX: usize = 600;
static ROLE_NAME_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@-]{1,64}$").expect("valid regex"));
static SESSION_NAME_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@-]{2,64}$").expect("valid regex"));
static EXTERNAL_ID_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w+=,.@:/-]{2,1224}$").expect("valid regex"));
static REGION_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$").expect("valid regex"));

/// Reads and validates the inputs from the process environment.
pub fn from_env() -> Result<Config, InputError> {
    from_vars(environment()?)
}

/// The process environment as text. An `INPUT_*` value that is not UTF-8 is an error naming its input
/// (it would otherwise be dropped, and the input silently take its default); other such variables are
/// left out, as they cannot name anything the action reads.
pub fn environment() -> Result<Vec<(String, String)>, InputError> {
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((name, value)),
            Err(_) => {
                if let Some(input) = name.strip_prefix("INPUT_") {
                    errors.push(format!(
                        "Input `{}`: its value is not valid UTF-8 text; pass it as UTF-8.",
                        input.to_lowercase()
                    ));
                } else if ENVIRONMENT_READ.contains(&name.as_str()) {
                    errors.push(format!(
                        "Environment variable `{name}`: its value is not valid UTF-8 text."
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(vars)
    } else {
        Err(InputError(errors))
    }
}

/// The environment variables (besides `INPUT_*`) whose values decide what the action does.
const ENVIRONMENT_READ: [&str; 12] = [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL_STS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_WORKSPACE",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
];

/// Reads and validates the inputs from `(name, value)` pairs shaped like the process environment:
/// `INPUT_*` for the inputs; `AWS_REGION`/`AWS_DEFAULT_REGION`, GitHub's `ACTIONS_ID_TOKEN_REQUEST_*`,
/// `GITHUB_WORKSPACE` and the AWS chain's variables to decide where credentials come from.
pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Config, InputError> {
    let (raw, env) = read(vars)?;
    validate(raw, &env)
}

/// The raw `INPUT_*` values, and the rest of the environment for the inputs' fallbacks.
fn read(vars: impl IntoIterator<Item = (String, String)>) -> Result<(RawInputs, Env), InputError> {
    let vars: BTreeMap<String, String> = vars.into_iter().collect();
    let raw: RawInputs = envy::prefixed("INPUT_")
        .from_iter(vars.iter().map(|(k, v)| (k.clone(), v.clone())))
        .map_err(|e| InputError(vec![format!("cannot read the action's inputs: {e}")]))?;
    Ok((raw, Env(vars)))
}

/// What `ecr-push-action policy` needs: the inputs that decide which calls are made, on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInputs {
    pub repository: RepositoryName,
    pub region: String,
    /// The registry's account: `registry-id` (`--account`).
    pub account: String,
    pub create_repository: bool,
    pub audience: String,
    pub settings: Settings,
    pub if_tag_exists: IfTagExists,
    pub registry_type: RegistryType,
}

/// Reads the inputs that the `policy` subcommand uses, by the same rules as the action's.
pub fn policy_inputs(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<PolicyInputs, InputError> {
    let (mut raw, env) = read(vars)?;
    let mut errors = Vec::new();
    let mut check = Gather(&mut errors);
    let workspace = env
        .get("GITHUB_WORKSPACE")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let settings = repository_settings(&mut check, &mut raw, &workspace);
    let registry_type = check.keep(registry_type_rule(&mut raw, &settings));
    let if_tag_exists = check.keep(settings::if_tag_exists_rule(
        non_empty(raw.if_tag_exists.take()).as_deref(),
    ));
    let repository = check.keep(repository_rule(non_empty(raw.repository.take())));
    let region = check.keep(region_rule(
        non_empty(raw.aws_region.take()).or_else(|| env.region()),
    ));
    let account = check.keep(match registry_id_rule(non_empty(raw.registry_id)) {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err((
            "registry-id",
            "is needed to write the repository's ARN: pass `--account 123456789012` (the registry's account).".into(),
        )),
        Err(e) => Err(e),
    });
    let create_repository = check.keep(boolean_rule(
        "create-repository",
        raw.create_repository,
        true,
    ));
    let audience = check.keep(audience_rule(non_empty(raw.audience)));
    match (
        repository,
        region,
        account,
        create_repository,
        if_tag_exists,
        registry_type,
        audience,
    ) {
        (
            Some(repository),
            Some(region),
            Some(account),
            Some(create_repository),
            Some(if_tag_exists),
            Some(registry_type),
            Some(audience),
        ) if errors.is_empty() => Ok(PolicyInputs {
            repository,
            region,
            account,
            create_repository,
            audience,
            settings,
            if_tag_exists,
            registry_type,
        }),
        _ => Err(InputError(errors)),
    }
}

/// The process environment, for the few fallbacks that inputs have.
struct Env(BTreeMap<String, String>);

impl Env {
    fn get(&self, name: &str) -> Option<String> {
        non_empty(self.0.get(name).cloned())
    }

    /// The region's fallback when `aws-region` is empty, as the AWS CLI reads it.
    fn region(&self) -> Option<String> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }
}

/// What the inputs allow that the user should know about, although it is valid: a repository policy
/// that lets anyone in.
pub fn warnings(config: &Config) -> Vec<String> {
    let Some(policy) = &config.settings.repository_policy else {
        return Vec::new();
    };
    let public = settings::public_statements(policy);
    if public.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Input `repository-policy`: statement {} allows `Principal: \"*\"` — every AWS account (and, for pulls, \
         anyone) may use {} as the statement's actions allow, unless a `Condition` narrows it. Name the accounts or \
         roles instead, or add a condition such as `aws:PrincipalOrgID`.",
        public.join(", "),
        config.repository
    )]
}

/// All input problems at once, so a user fixes them in one round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct InputError(pub Vec<String>);

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn validate(mut raw: RawInputs, env: &Env) -> Result<Config, InputError> {
    let mut errors = Vec::new();
    // Each rule returns its value or an error naming its input; all errors are gathered.
    let mut check = Gather(&mut errors);
    let workspace = env
        .get("GITHUB_WORKSPACE")
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let settings = repository_settings(&mut check, &mut raw, &workspace);
    let registry_type = check.keep(registry_type_rule(&mut raw, &settings));
    let timeout = check.keep(timeout_rule(non_empty(raw.timeout.take())));
    let platform = check.keep(platform_rule(non_empty(raw.platform.take())));
    let local_image = non_empty(raw.local_image.take());
    let image = check.keep(local_image_rule(local_image.as_deref()));
    let repository = check.keep(repository_rule(non_empty(raw.repository.take())));
    let tags = check.keep(tags_rule(raw.tags.as_deref(), local_image.as_deref()));
    let region = check.keep(region_rule(
        non_empty(raw.aws_region.take()).or_else(|| env.region()),
    ));
    let auth = auth_inputs(&mut check, &mut raw, env);
    let registry_id = check.keep(registry_id_rule(non_empty(raw.registry_id.clone())));
    let create_repository = check.keep(boolean_rule(
        "create-repository",
        raw.create_repository.clone(),
        true,
    ));
    let docker_host = environment_rules(&mut check, env);
    let if_tag_exists = check.keep(settings::if_tag_exists_rule(
        non_empty(raw.if_tag_exists.clone()).as_deref(),
    ));

    match (
        image,
        repository,
        tags,
        region,
        auth,
        registry_id,
        create_repository,
        if_tag_exists,
        registry_type,
        timeout,
        platform,
        docker_host,
    ) {
        (
            Some(()),
            Some(repository),
            Some(tags),
            Some(region),
            Some(auth),
            Some(registry_id),
            Some(create_repository),
            Some(if_tag_exists),
            Some(registry_type),
            Some(timeout),
            Some(platform),
            Some(docker_host),
        ) if errors.is_empty() => Ok(Config {
            local_image: local_image.unwrap_or_default(),
            repository,
            tags,
            region,
            auth,
            registry_id,
            create_repository,
            settings,
            if_tag_exists,
            registry_type,
            timeout,
            platform,
            docker_host,
        }),
        _ => Err(InputError(errors)),
    }
}

/// The credential inputs, checked together: keys, the role and its session, the audience.
fn auth_inputs(check: &mut Gather<'_>, raw: &mut RawInputs, env: &Env) -> Option<Auth> {
    let keys = check.keep(credentials_rule(
        non_empty(raw.aws_access_key_id.take()),
        non_empty(raw.aws_secret_access_key.take()),
        non_empty(raw.aws_session_token.take()),
    ));
    let role = check.keep(role_rule(non_empty(raw.role_to_assume.take())));
    let session_name = check.keep(session_name_rule(non_empty(raw.role_session_name.take())));
    let duration = check.keep(duration_rule(non_empty(raw.role_duration_seconds.take())));
    let external_id = check.keep(external_id_rule(
        non_empty(raw.role_external_id.take()),
        role.as_ref(),
    ));
    match (keys, role, session_name, duration, external_id) {
        (Some(keys), Some(role), Some(session_name), Some(duration_seconds), Some(external_id)) => {
            let role = role.map(|role| Role {
                role,
                session_name,
                duration_seconds,
                external_id,
            });
            let audience = check.keep(audience_rule(non_empty(raw.audience.take())));
            audience.and_then(|audience| {
                check.keep(auth_rule(
                    keys,
                    role,
                    non_empty(raw.web_identity_token_file.take()),
                    audience,
                    env,
                ))
            })
        }
        _ => None,
    }
}

fn platform_rule(value: Option<String>) -> Checked<Option<Platform>> {
    value
        .map(|text| Platform::parse(&text))
        .transpose()
        .map_err(|why| ("platform", why))
}

/// `30m`, `90s`, `1h`; a bare number is minutes, like GitHub's `timeout-minutes`.
fn timeout_rule(value: Option<String>) -> Checked<std::time::Duration> {
    let Some(text) = value else {
        return Ok(std::time::Duration::from_mins(30));
    };
    let (number, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text.as_str(), 'm'),
    };
    let seconds = match (number.parse::<u64>(), unit.to_ascii_lowercase()) {
        (Ok(n), 's') => Some(n),
        (Ok(n), 'm') => n.checked_mul(60),
        (Ok(n), 'h') => n.checked_mul(3600),
        _ => None,
    };
    match seconds {
        Some(s) if (1..=6 * 3600).contains(&s) => Ok(std::time::Duration::from_secs(s)),
        _ => Err((
            "timeout",
            format!(
                "`{text}` is not a duration from 1s to 6h, such as `30m`, `90s` or `1h` (a bare number is minutes)."
            ),
        )),
    }
}

fn repository_settings(check: &mut Gather<'_>, raw: &mut RawInputs, workspace: &Path) -> Settings {
    Settings {
        tag_mutability: check
            .keep(settings::tag_mutability_rule(
                non_empty(raw.image_tag_mutability.take()),
                non_empty(raw.image_tag_mutability_exclusion_filters.take()).as_deref(),
            ))
            .flatten(),
        scan_on_push: check
            .keep(optional_boolean_rule(
                "scan-on-push",
                non_empty(raw.scan_on_push.take()),
            ))
            .flatten(),
        encryption: check
            .keep(settings::encryption_rule(
                non_empty(raw.encryption_type.take()),
                non_empty(raw.kms_key.take()),
            ))
            .flatten(),
        tags: check
            .keep(settings::repository_tags_rule(
                non_empty(raw.repository_tags.take()).as_deref(),
            ))
            .unwrap_or_default(),
        lifecycle_policy: check
            .keep(settings::document_rule(
                "lifecycle-policy",
                non_empty(raw.lifecycle_policy.take()),
                workspace,
            ))
            .flatten(),
        repository_policy: check
            .keep(settings::document_rule(
                "repository-policy",
                non_empty(raw.repository_policy.take()),
                workspace,
            ))
            .flatten(),
    }
}

fn registry_type_rule(raw: &mut RawInputs, settings: &Settings) -> Checked<RegistryType> {
    let catalog = settings::RawCatalog {
        description: non_empty(raw.public_description.take()),
        about: non_empty(raw.public_about.take()),
        usage: non_empty(raw.public_usage.take()),
        architectures: non_empty(raw.public_architectures.take()),
        operating_systems: non_empty(raw.public_operating_systems.take()),
    };
    settings::registry_type_rule(
        non_empty(raw.registry_type.take()).as_deref(),
        catalog,
        settings,
    )
}

fn optional_boolean_rule(input: &'static str, value: Option<String>) -> Checked<Option<bool>> {
    if non_empty(value.clone()).is_none() {
        return Ok(None);
    }
    boolean_rule(input, value, false).map(Some)
}

type Checked<T> = Result<T, (&'static str, String)>;

struct Gather<'a>(&'a mut Vec<String>);

impl Gather<'_> {
    fn keep<T>(&mut self, result: Checked<T>) -> Option<T> {
        result
            .map_err(|(input, text)| {
                // Inputs are kebab-case; the few environment variables checked here are upper case.
                let kind = if input.bytes().any(|b| b.is_ascii_lowercase()) {
                    "Input"
                } else {
                    "Environment variable"
                };
                self.0.push(format!("{kind} `{input}`: {text}"));
            })
            .ok()
    }
}

/// A reference in Docker's grammar (it goes into the Engine API's URL path, so nothing else may pass),
/// or an image ID (`sha256:` and 64 hex digits; a short ID is a valid reference already).
fn local_image_rule(image: Option<&str>) -> Checked<()> {
    let Some(image) = image else {
        return Err((
            "local-image",
            "is required: name an image already built on the runner, e.g. `app:latest`.".into(),
        ));
    };
    let shown: String = image.chars().take(80).collect();
    let shown = if shown.len() < image.len() {
        format!("{shown}…")
    } else {
        shown
    };
    if image.len() > LOCAL_IMAGE_MAX {
        return Err((
            "local-image",
            format!(
                "`{shown}` is too long for an image reference ({} characters; at most {LOCAL_IMAGE_MAX}).",
                image.len()
            ),
        ));
    }
    let is_id = image
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let name = image.split('@').next().unwrap_or(image);
    let name = match name.rsplit_once(':') {
        Some((before, tag)) if !tag.contains('/') => before,
        _ => name,
    };
    if is_id || (LOCAL_IMAGE_RULE.is_match(image) && name.len() <= 255) {
        return Ok(());
    }
    let why = if image.chars().any(char::is_whitespace) {
        "it contains whitespace"
    } else if image.chars().any(char::is_control) {
        "it contains control characters"
    } else if name.len() > 255 {
        "its name is longer than 255 characters"
    } else {
        "Docker names are lowercase letters and digits separated by `.`, `_`, `__` or `-`, in `/`-separated \
         parts, with an optional registry host first, then an optional `:tag` and `@sha256:…` digest"
    };
    Err((
        "local-image",
        format!(
            "`{shown}` is not an image reference ({why}): use a name such as `app:1.0` or `ghcr.io/org/app:1.0`, or an image ID."
        ),
    ))
}

fn repository_rule(name: Option<String>) -> Checked<RepositoryName> {
    match name {
        None => Err((
            "repository",
            "is required: the ECR repository name, e.g. `backend` or `team/api`.".into(),
        )),
        Some(name) if (2..=256).contains(&name.len()) && REPOSITORY_RULE.is_match(&name) => {
            Ok(RepositoryName(name))
        }
        Some(name) => Err((
            "repository",
            format!(
                "`{name}` is not a valid ECR repository name: it must be 2–256 characters of lowercase letters and \
                 digits, separated by `.`, `_` or `-`, with optional `/` namespaces (rule \
                 `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`), e.g. `team/api`."
            ),
        )),
    }
}

/// Tags separated by commas, whitespace or newlines; by default the local image's own tag.
fn tags_rule(tags: Option<&str>, local_image: Option<&str>) -> Checked<Vec<Tag>> {
    let requested: Vec<&str> = tags
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let (input, names) = if requested.is_empty() {
        (
            "local-image",
            vec![local_image.and_then(tag_of_reference).unwrap_or("latest")],
        )
    } else {
        ("tags", requested)
    };
    let mut valid: Vec<Tag> = Vec::new();
    for name in names {
        if !TAG_RULE.is_match(name) {
            return Err((
                input,
                format!(
                    "`{name}` is not a valid image tag: up to 128 letters, digits, `_`, `.` and `-`, not starting \
                     with `.` or `-` (rule `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`)."
                ),
            ));
        }
        if !valid.iter().any(|t| t.0 == name) {
            valid.push(Tag(name.to_owned()));
        }
    }
    Ok(valid)
}

fn region_rule(region: Option<String>) -> Checked<String> {
    match region {
        None => Err((
            "aws-region",
            "is required: set `aws-region: us-east-1` (or your region), or the AWS_REGION environment variable.".into(),
        )),
        Some(region) if REGION_RULE.is_match(&region) => Ok(region),
        Some(region) => {
            Err(("aws-region", format!("`{region}` is not an AWS region name such as `us-east-1` or `eu-central-1`.")))
        }
    }
}

fn credentials_rule(
    key_id: Option<String>,
    secret: Option<String>,
    session_token: Option<String>,
) -> Checked<Option<StaticCredentials>> {
    const BOTH: &str = "pass both keys, or neither to use the AWS credential chain.";
    match (key_id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => {
            Ok(Some(StaticCredentials { access_key_id, secret_access_key, session_token }))
        }
        (Some(_), None) => Err(("aws-secret-access-key", format!("is required when `aws-access-key-id` is set: {BOTH}"))),
        (None, Some(_)) => Err(("aws-access-key-id", format!("is required when `aws-secret-access-key` is set: {BOTH}"))),
        (None, None) if session_token.is_some() => Err((
            "aws-session-token",
            "is only used with `aws-access-key-id` and `aws-secret-access-key`: pass all three, or none to use the \
             AWS credential chain."
                .into(),
        )),
        (None, None) => Ok(None),
    }
}

fn role_rule(role: Option<String>) -> Checked<Option<RoleRef>> {
    match role {
        None => Ok(None),
        Some(arn) if arn.starts_with("arn:") => {
            if ROLE_ARN_RULE.is_match(&arn) {
                Ok(Some(RoleRef::Arn(arn)))
            } else {
                Err((
                    "role-to-assume",
                    format!(
                        "`{arn}` is not an IAM role ARN such as `arn:aws:iam::123456789012:role/github-push`."
                    ),
                ))
            }
        }
        Some(name) if ROLE_NAME_RULE.is_match(&name) => Ok(Some(RoleRef::Name(name))),
        Some(other) => Err((
            "role-to-assume",
            format!(
                "`{other}` is neither a role ARN (`arn:aws:iam::123456789012:role/NAME`) nor a role name."
            ),
        )),
    }
}

fn session_name_rule(name: Option<String>) -> Checked<String> {
    match name {
        None => Ok("GitHubActions".to_owned()),
        Some(name) if SESSION_NAME_RULE.is_match(&name) => Ok(name),
        Some(name) => Err((
            "role-session-name",
            format!("`{name}` is not a session name: 2–64 letters, digits and `_+=,.@-`."),
        )),
    }
}

fn duration_rule(seconds: Option<String>) -> Checked<i32> {
    match seconds {
        None => Ok(3600),
        Some(text) => match text.parse::<i32>() {
            Ok(n) if (900..=43200).contains(&n) => Ok(n),
            _ => Err((
                "role-duration-seconds",
                format!(
                    "`{text}` is not a session length: a whole number of seconds from 900 to 43200."
                ),
            )),
        },
    }
}

fn external_id_rule(id: Option<String>, role: Option<&Option<RoleRef>>) -> Checked<Option<String>> {
    match id {
        None => Ok(None),
        Some(_) if matches!(role, Some(None)) => Err((
            "role-external-id",
            "is only used with `role-to-assume`: name the role that expects this external ID."
                .into(),
        )),
        Some(id) if EXTERNAL_ID_RULE.is_match(&id) => Ok(Some(id)),
        Some(_) => Err((
            "role-external-id",
            "is not an external ID: 2–1224 letters, digits and `_+=,.@:/-`.".into(),
        )),
    }
}

/// Chooses where credentials come from. With a role: keys given as inputs, else a token file, else
/// keys in the environment, else GitHub's OIDC token, else another explicit source of the AWS chain.
fn auth_rule(
    keys: Option<StaticCredentials>,
    role: Option<Role>,
    token_file: Option<String>,
    audience: String,
    env: &Env,
) -> Checked<Auth> {
    let Some(role) = role else {
        if token_file.is_some() {
            return Err((
                "web-identity-token-file",
                "is only used with `role-to-assume`: name the role to assume with this token."
                    .into(),
            ));
        }
        return Ok(keys.map_or(Auth::Chain, Auth::Keys));
    };
    if let Some(keys) = keys {
        if token_file.is_some() {
            return Err((
                "web-identity-token-file",
                "cannot be used together with `aws-access-key-id`: choose one source of credentials.".into(),
            ));
        }
        return Ok(Auth::AssumeRole {
            source: Some(keys),
            role,
        });
    }
    let web_identity = |token: IdTokenSource| -> Checked<Auth> {
        if let RoleRef::Name(name) = &role.role {
            return Err((
                "role-to-assume",
                format!(
                    "`{name}` must be a full role ARN (`arn:aws:iam::<account>:role/{name}`) with a web identity \
                     token: there are no source credentials to take the account from."
                ),
            ));
        }
        if role.external_id.is_some() {
            return Err((
                "role-external-id",
                "is not used by AssumeRoleWithWebIdentity: remove it, or assume the role with keys.".into(),
            ));
        }
        Ok(Auth::WebIdentity {
            token,
            role: role.clone(),
        })
    };
    if let Some(file) = token_file {
        let workspace = env.get("GITHUB_WORKSPACE").map(PathBuf::from);
        let path = match workspace {
            Some(workspace) if Path::new(&file).is_relative() => workspace.join(file),
            _ => PathBuf::from(file),
        };
        return web_identity(IdTokenSource::File(path));
    }
    if env.get("AWS_ACCESS_KEY_ID").is_some() {
        return Ok(Auth::AssumeRole { source: None, role });
    }
    if let (Some(request_url), Some(request_token)) = (
        env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
        env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        endpoints::secure_url_rule(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &request_url,
            "the job's token-request bearer token",
        )?;
        return web_identity(IdTokenSource::GitHub {
            request_url,
            request_token,
            audience,
        });
    }
    let chain_sources = [
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];
    if chain_sources.iter().any(|name| env.get(name).is_some()) {
        return Ok(Auth::AssumeRole { source: None, role });
    }
    Err((
        "role-to-assume",
        format!(
            "there are no credentials to assume `{}` with: GitHub's OIDC token is not available to this job \
             (ACTIONS_ID_TOKEN_REQUEST_URL is not set).\nGive the job permission to request it:\n\
             \x20 permissions:\n\x20   id-token: write\n\x20   contents: read\n\
             or pass `aws-access-key-id` and `aws-secret-access-key`, or `web-identity-token-file`.",
            role.role
        ),
    ))
}

/// The audience of GitHub's ID token: an OIDC client ID (IAM allows up to 255 characters), plain text.
fn audience_rule(audience: Option<String>) -> Checked<String> {
    match audience {
        None => Ok("sts.amazonaws.com".to_owned()),
        Some(a) if a.chars().count() <= 255 && !a.chars().any(char::is_control) => Ok(a),
        Some(a) => Err((
            "audience",
            format!(
                "is not an OIDC audience ({} characters{}): use the client ID registered with the identity provider, \
                 usually `sts.amazonaws.com` (at most 255 characters, no control characters).",
                a.chars().count(),
                if a.chars().any(char::is_control) {
                    ", with control characters"
                } else {
                    ""
                }
            ),
        )),
    }
}

/// The environment variables that say where requests carrying secrets go: the Docker daemon, and the
/// AWS endpoints the SDK would use instead of AWS's own (https only, except on loopback).
fn environment_rules(check: &mut Gather<'_>, env: &Env) -> Option<DockerHost> {
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_ENDPOINT_URL_ECR_PUBLIC",
        "AWS_ENDPOINT_URL_STS",
    ] {
        if let Some(url) = env.get(name) {
            check.keep(endpoints::secure_url_rule(
                name,
                &url,
                "signed AWS requests and the credentials and registry password in their answers",
            ));
        }
    }
    check.keep(endpoints::docker_host_rule(
        env.get("DOCKER_HOST").as_deref(),
        env.get("DOCKER_TLS_VERIFY").as_deref(),
        env.get("DOCKER_CERT_PATH").as_deref(),
        env.get("HOME").as_deref(),
    ))
}

fn registry_id_rule(id: Option<String>) -> Checked<Option<String>> {
    match id {
        Some(id) if !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())) => Err((
            "registry-id",
            format!("`{id}` is not an AWS account ID: it must be exactly 12 digits."),
        )),
        id => Ok(id),
    }
}

fn boolean_rule(input: &'static str, value: Option<String>, default: bool) -> Checked<bool> {
    match non_empty(value) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err((
            input,
            format!("`{v}` is not a boolean: use `true` or `false`."),
        )),
    }
}

/// The tag of a Docker reference (`app:1.2` → `1.2`, `host:5000/app` → none, `app@sha256:…` → none).
fn tag_of_reference(reference: &str) -> Option<&str> {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':')
        .map(|(_, tag)| tag)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn minimal() -> Vec<(String, String)> {
        vars(&[
            ("INPUT_LOCAL-IMAGE", "app:1.2"),
            ("INPUT_REPOSITORY", "team/api"),
            ("INPUT_AWS-REGION", "eu-west-1"),
        ])
    }

    fn errors_for(extra: &[(&str, &str)]) -> Vec<String> {
        let mut all = minimal();
        all.extend(vars(extra));
        from_vars(all).expect_err("should be rejected").0
    }

    #[test]
    fn minimal_inputs_take_defaults() {
        let config = from_vars(minimal()).expect("valid");
        assert_eq!(config.local_image, "app:1.2");
        assert_eq!(config.repository.as_str(), "team/api");
        assert_eq!(config.tags, vec![Tag("1.2".into())]);
        assert_eq!(config.region, "eu-west-1");
        assert!(config.create_repository);
        assert_eq!(config.auth, Auth::Chain);
        assert_eq!(config.registry_id, None);
    }

    #[test]
    fn empty_values_mean_unset_as_github_passes_them() {
        let mut all = minimal();
        all.extend(vars(&[
            ("INPUT_TAGS", ""),
            ("INPUT_REGISTRY-ID", ""),
            ("INPUT_CREATE-REPOSITORY", ""),
            ("INPUT_AWS-SESSION-TOKEN", ""),
        ]));
        let config = from_vars(all).expect("valid");
        assert_eq!(config.tags, vec![Tag("1.2".into())]);
        assert!(config.create_repository);
    }

    #[test]
    fn default_tag_comes_from_the_local_reference() {
        for (image, tag) in [
            ("app", "latest"),
            ("app:v1", "v1"),
            ("localhost:5000/app", "latest"),
            ("localhost:5000/app:v2", "v2"),
            (
                "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "latest",
            ),
            ("0123456789ab", "latest"),
        ] {
            let mut all = minimal();
            all.retain(|(k, _)| k != "INPUT_LOCAL-IMAGE");
            all.extend(vars(&[("INPUT_LOCAL-IMAGE", image)]));
            assert_eq!(
                from_vars(all).expect("valid").tags,
                vec![Tag(tag.into())],
                "{image}"
            );
        }
    }

    #[test]
    fn tags_split_on_commas_whitespace_and_newlines_without_duplicates() {
        let mut all = minimal();
        all.extend(vars(&[("INPUT_TAGS", " v1, latest\nsha-abc  v1\r\n,,")]));
        let tags: Vec<String> = from_vars(all)
            .expect("valid")
            .tags
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(tags, ["v1", "latest", "sha-abc"]);
    }

    #[test]
    fn region_falls_back_to_the_environment() {
        let base = vars(&[("INPUT_LOCAL-IMAGE", "app"), ("INPUT_REPOSITORY", "app")]);
        let with = |extra: &[(&str, &str)]| {
            let mut all = base.clone();
            all.extend(vars(extra));
            from_vars(all)
        };
        assert_eq!(
            with(&[("AWS_DEFAULT_REGION", "us-west-2")])
                .expect("valid")
                .region,
            "us-west-2"
        );
        assert_eq!(
            with(&[
                ("AWS_REGION", "eu-north-1"),
                ("AWS_DEFAULT_REGION", "us-west-2")
            ])
            .expect("valid")
            .region,
            "eu-north-1"
        );
        let errors = with(&[]).expect_err("no region").0;
        assert!(
            errors[0].contains("`aws-region`") && errors[0].contains("AWS_REGION"),
            "{errors:?}"
        );
    }

    #[test]
    fn each_rule_names_its_input() {
        for (input, value) in [
            ("INPUT_REPOSITORY", "Team/API"),
            ("INPUT_REPOSITORY", "a"),
            ("INPUT_REPOSITORY", "team//api"),
            ("INPUT_REPOSITORY", "-api"),
            ("INPUT_TAGS", "v1,-bad"),
            ("INPUT_TAGS", "has:colon"),
            ("INPUT_REGISTRY-ID", "12345"),
            ("INPUT_REGISTRY-ID", "12345678901a"),
            ("INPUT_CREATE-REPOSITORY", "yes"),
            ("INPUT_AWS-REGION", "Frankfurt"),
        ] {
            let errors = errors_for(&[(input, value)]);
            let name = input.trim_start_matches("INPUT_").to_lowercase();
            assert_eq!(errors.len(), 1, "{input}={value}: {errors:?}");
            assert!(
                errors[0].starts_with(&format!("Input `{name}`")),
                "{errors:?}"
            );
            assert!(
                errors[0].contains(&format!("`{value}`").replace("v1,", "")),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn long_names_and_tags_are_bounded() {
        let long_repo = "a".repeat(257);
        assert_eq!(errors_for(&[("INPUT_REPOSITORY", &long_repo)]).len(), 1);
        assert!(
            from_vars({
                let mut all = minimal();
                all.push(("INPUT_REPOSITORY".into(), "a".repeat(256)));
                all.push(("INPUT_TAGS".into(), "t".repeat(128)));
                all
            })
            .is_ok()
        );
        assert_eq!(errors_for(&[("INPUT_TAGS", &"t".repeat(129))]).len(), 1);
    }

    #[test]
    fn keys_come_in_pairs() {
        assert!(
            errors_for(&[("INPUT_AWS-ACCESS-KEY-ID", "AKIAEXAMPLE")])[0]
                .starts_with("Input `aws-secret-access-key`")
        );
        assert!(
            errors_for(&[("INPUT_AWS-SECRET-ACCESS-KEY", "s")])[0]
                .starts_with("Input `aws-access-key-id`")
        );
        assert!(
            errors_for(&[("INPUT_AWS-SESSION-TOKEN", "t")])[0]
                .starts_with("Input `aws-session-token`")
        );
        let mut all = minimal();
        all.extend(vars(&[
            ("INPUT_AWS-ACCESS-KEY-ID", "AKIAEXAMPLE"),
            ("INPUT_AWS-SECRET-ACCESS-KEY", "s3cret"),
        ]));
        let Auth::Keys(keys) = from_vars(all).expect("valid").auth else {
            panic!("keys expected");
        };
        assert_eq!(keys.secret_access_key, "s3cret");
        assert!(
            !format!("{keys:?}").contains("s3cret"),
            "Debug must not show the secret"
        );
    }

    #[test]
    fn all_problems_are_reported_together() {
        let errors = from_vars(vars(&[
            ("INPUT_TAGS", "ok,.bad"),
            ("INPUT_CREATE-REPOSITORY", "maybe"),
        ]))
        .expect_err("bad")
        .0;
        let inputs: Vec<&str> = errors
            .iter()
            .map(|e| e.split('`').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(
            inputs,
            [
                "local-image",
                "repository",
                "tags",
                "aws-region",
                "create-repository"
            ]
        );
    }

    fn auth_of(extra: &[(&str, &str)]) -> Result<Auth, Vec<String>> {
        let mut all = minimal();
        all.extend(vars(extra));
        from_vars(all).map(|c| c.auth).map_err(|e| e.0)
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/gha-push";
    const KEYS: [(&str, &str); 2] = [
        ("INPUT_AWS-ACCESS-KEY-ID", "AKIAEXAMPLE"),
        ("INPUT_AWS-SECRET-ACCESS-KEY", "s3cret"),
    ];
    const OIDC: [(&str, &str); 2] = [
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "https://token.example/?api-version=2.0",
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token"),
    ];

    fn role(arn: &str) -> Role {
        Role {
            role: RoleRef::Arn(arn.to_owned()),
            session_name: "GitHubActions".to_owned(),
            duration_seconds: 3600,
            external_id: None,
        }
    }

    #[test]
    fn a_role_with_github_oidc_uses_web_identity() {
        let mut extra = vec![("INPUT_ROLE-TO-ASSUME", ROLE)];
        extra.extend(OIDC);
        let auth = auth_of(&extra).expect("valid");
        assert_eq!(
            auth,
            Auth::WebIdentity {
                token: IdTokenSource::GitHub {
                    request_url: OIDC[0].1.to_owned(),
                    request_token: "request-token".to_owned(),
                    audience: "sts.amazonaws.com".to_owned()
                },
                role: role(ROLE)
            }
        );
        assert!(
            !format!("{auth:?}").contains("request-token"),
            "Debug hides the request token"
        );
    }

    #[test]
    fn a_role_with_keys_is_assumed_with_session_settings() {
        let mut extra = vec![
            ("INPUT_ROLE-TO-ASSUME", "gha-push"),
            ("INPUT_ROLE-SESSION-NAME", "deploy@ci"),
            ("INPUT_ROLE-DURATION-SECONDS", "900"),
            ("INPUT_ROLE-EXTERNAL-ID", "ext-123"),
        ];
        extra.extend(KEYS);
        extra.extend(OIDC); // keys win over OIDC
        let Auth::AssumeRole {
            source: Some(keys),
            role: assumed,
        } = auth_of(&extra).expect("valid")
        else {
            panic!("AssumeRole with keys expected");
        };
        assert_eq!(keys.access_key_id, "AKIAEXAMPLE");
        assert_eq!(
            assumed,
            Role {
                role: RoleRef::Name("gha-push".into()),
                session_name: "deploy@ci".into(),
                duration_seconds: 900,
                external_id: Some("ext-123".into())
            }
        );
        let from_env = auth_of(&[
            ("INPUT_ROLE-TO-ASSUME", ROLE),
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
        ]);
        assert_eq!(
            from_env,
            Ok(Auth::AssumeRole {
                source: None,
                role: role(ROLE)
            })
        );
    }

    #[test]
    fn a_token_file_is_resolved_against_the_workspace() {
        let auth = auth_of(&[
            ("INPUT_ROLE-TO-ASSUME", ROLE),
            ("INPUT_WEB-IDENTITY-TOKEN-FILE", "tokens/id"),
            ("GITHUB_WORKSPACE", "/github/workspace"),
        ]);
        assert_eq!(
            auth,
            Ok(Auth::WebIdentity {
                token: IdTokenSource::File(PathBuf::from("/github/workspace/tokens/id")),
                role: role(ROLE)
            })
        );
    }

    #[test]
    fn a_role_without_any_credentials_asks_for_id_token_write() {
        let errors = auth_of(&[("INPUT_ROLE-TO-ASSUME", ROLE)]).expect_err("no token");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("Input `role-to-assume`"),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("permissions:\n    id-token: write"),
            "{errors:?}"
        );
    }

    #[test]
    fn role_rules_name_their_inputs() {
        for (extra, input) in [
            (
                vec![("INPUT_ROLE-TO-ASSUME", "arn:aws:iam::1234:role/x")],
                "role-to-assume",
            ),
            (
                vec![("INPUT_ROLE-TO-ASSUME", "has space")],
                "role-to-assume",
            ),
            (
                vec![
                    ("INPUT_ROLE-TO-ASSUME", ROLE),
                    ("INPUT_ROLE-SESSION-NAME", "x"),
                ],
                "role-session-name",
            ),
            (
                vec![
                    ("INPUT_ROLE-TO-ASSUME", ROLE),
                    ("INPUT_ROLE-DURATION-SECONDS", "899"),
                ],
                "role-duration-seconds",
            ),
            (
                vec![
                    ("INPUT_ROLE-TO-ASSUME", ROLE),
                    ("INPUT_ROLE-DURATION-SECONDS", "1h"),
                ],
                "role-duration-seconds",
            ),
            (vec![("INPUT_ROLE-EXTERNAL-ID", "ext")], "role-external-id"),
            (
                vec![("INPUT_WEB-IDENTITY-TOKEN-FILE", "t")],
                "web-identity-token-file",
            ),
            (
                vec![("INPUT_ROLE-TO-ASSUME", "gha-push"), OIDC[0], OIDC[1]],
                "role-to-assume",
            ),
            (
                vec![
                    ("INPUT_ROLE-TO-ASSUME", ROLE),
                    ("INPUT_ROLE-EXTERNAL-ID", "ext"),
                    OIDC[0],
                    OIDC[1],
                ],
                "role-external-id",
            ),
        ] {
            let mut extra = extra;
            if input == "role-session-name" || input == "role-duration-seconds" {
                extra.extend(KEYS);
            }
            let errors = auth_of(&extra).expect_err("invalid");
            assert_eq!(errors.len(), 1, "{extra:?}: {errors:?}");
            assert!(
                errors[0].starts_with(&format!("Input `{input}`")),
                "{extra:?}: {errors:?}"
            );
        }
    }

    #[test]
    fn local_images_follow_dockers_reference_grammar() {
        let hex = "0123456789abcdef".repeat(4);
        for good in [
            "app".to_owned(),
            "app:1.0".to_owned(),
            "team/app_x__y.z-w:v1".to_owned(),
            "localhost:5000/app:v2".to_owned(),
            "ghcr.io/org/app@sha256:".to_owned() + &hex,
            "0123456789ab".to_owned(),
            "sha256:".to_owned() + &hex,
            "a".repeat(255),
        ] {
            assert_eq!(local_image_rule(Some(&good)), Ok(()), "{good}");
        }
        for bad in [
            "app/../etc".to_owned(),
            "../app".to_owned(),
            "app?x".to_owned(),
            "App".to_owned(),
            "app:".to_owned(),
            "app\u{0}".to_owned(),
            "app#x".to_owned(),
            "a".repeat(256),
            format!("app:{}", "t".repeat(129)),
            "x".repeat(5000),
        ] {
            let (input, _) = local_image_rule(Some(&bad)).expect_err(&bad);
            assert_eq!(input, "local-image");
        }
    }

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
            assert!(role_rule(Some(arn.clone())).is_ok(), "{arn}");
        }
        for partition in ["aws-made-up", "aws-x-y", "awsx"] {
            let arn = format!("arn:{partition}:iam::123456789012:role/x");
            assert!(role_rule(Some(arn.clone())).is_err(), "{arn}");
        }
    }

    #[test]
    fn kms_keys_are_ids_arns_or_aliases() {
        let rule = |key: &str| settings::encryption_rule(Some("KMS".into()), Some(key.into()));
        for good in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/ecr-images",
            "alias/aws/ecr",
            "arn:aws-cn:kms:cn-north-1:123456789012:alias/team/key",
        ] {
            assert!(rule(good).is_ok(), "{good}");
        }
        for bad in [
            "bogus-key",
            "alias/",
            "arn:aws:kms:us-east-1:123456789012:role/x",
            "arn:aws:kms:us-east-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "1234abcd",
        ] {
            assert!(rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn audiences_are_bounded_plain_text() {
        assert_eq!(audience_rule(None), Ok("sts.amazonaws.com".to_owned()));
        assert!(audience_rule(Some("a".repeat(255))).is_ok());
        assert!(audience_rule(Some("a".repeat(256))).is_err());
        assert!(audience_rule(Some("sts\u{1b}[31m".into())).is_err());
    }

    #[test]
    fn policies_within_ecrs_size_limits() {
        let workspace = Path::new(".");
        let policy = |length: usize| {
            let frame = r#"{"Statement":[{"Sid":"","Effect":"Allow"}]}"#.len();
            let sid = "S".repeat(length - frame);
            format!(r#"{{"Statement":[{{"Sid":"{sid}","Effect":"Allow"}}]}}"#)
        };
        let at_limit = policy(settings::REPOSITORY_POLICY_MAX);
        assert!(settings::document_rule("repository-policy", Some(at_limit), workspace).is_ok());
        let over = policy(settings::REPOSITORY_POLICY_MAX + 1);
        let (input, text) = settings::document_rule("repository-policy", Some(over), workspace)
            .expect_err("too long");
        assert_eq!(input, "repository-policy");
        assert!(text.contains("10240"), "{text}");
    }

    #[test]
    fn a_policy_open_to_anyone_is_found() {
        let with = |principal: &str| {
            let json = format!(
                r#"{{"Statement":[{{"Sid":"Named","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::1:root"}}}},
                   {{"Effect":"Allow","Principal":{principal}}},{{"Effect":"Deny","Principal":"*"}}]}}"#
            );
            let document = settings::document_rule("repository-policy", Some(json), Path::new("."))
                .expect("valid")
                .expect("a document");
            settings::public_statements(&document)
        };
        assert_eq!(with(r#""*""#), ["number 2"]);
        assert_eq!(with(r#"{"AWS":"*"}"#), ["number 2"]);
        assert_eq!(with(r#"{"AWS":["arn:aws:iam::1:root","*"]}"#), ["number 2"]);
        assert!(with(r#"{"AWS":"arn:aws:iam::2:root"}"#).is_empty());
    }

    #[test]
    fn no_debug_output_holds_a_secret() {
        let mut all = minimal();
        all.extend(vars(&[
            ("INPUT_AWS-ACCESS-KEY-ID", "AKIAEXAMPLE"),
            ("INPUT_AWS-SECRET-ACCESS-KEY", "secret-key-value"),
            ("INPUT_AWS-SESSION-TOKEN", "session-token-value"),
        ]));
        let config = from_vars(all).expect("valid");
        let printed = format!("{config:?} {:?}", config.auth);
        assert!(printed.contains("AKIAEXAMPLE"), "{printed}");
        for secret in ["secret-key-value", "session-token-value"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        let mut extra = vec![("INPUT_ROLE-TO-ASSUME", ROLE)];
        extra.extend(OIDC);
        let web = format!("{:?}", auth_of(&extra).expect("valid"));
        assert!(!web.contains("request-token"), "{web}");
    }

    /// Records the field names serde asks for, so the test sees what `RawInputs` reads.
    struct FieldNames(Vec<&'static str>);

    impl<'de> serde::Deserializer<'de> for &mut FieldNames {
        type Error = serde::de::value::Error;
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields.to_vec();
            Err(serde::de::Error::custom("only the field names were wanted"))
        }
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    #[test]
    fn action_yml_declares_exactly_the_inputs_read() {
        let mut names = FieldNames(Vec::new());
        let _ = RawInputs::deserialize(&mut names);
        let mut read: Vec<String> = names.0.iter().map(|n| (*n).to_owned()).collect();
        let mut declared = crate::report::declared_in_action_yml("inputs");
        read.sort();
        declared.sort();
        assert_eq!(read, declared);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const INPUTS: [&str; 10] = [
        "LOCAL-IMAGE",
        "REPOSITORY",
        "TAGS",
        "AWS-REGION",
        "REGISTRY-ID",
        "CREATE-REPOSITORY",
        "ROLE-TO-ASSUME",
        "REPOSITORY-TAGS",
        "IF-TAG-EXISTS",
        "TIMEOUT",
    ];

    proptest! {
        #[test]
        fn any_input_values_are_accepted_or_rejected_without_panic(values in proptest::collection::vec(".*", INPUTS.len())) {
            let vars = INPUTS.iter().zip(values).map(|(name, value)| (format!("INPUT_{name}"), value));
            match from_vars(vars) {
                Ok(config) => prop_assert!(!config.tags.is_empty()),
                Err(InputError(errors)) => prop_assert!(errors.iter().all(|e| e.starts_with("Input `"))),
            }
        }

        #[test]
        fn valid_tags_split_back_from_any_separators(
            tags in proptest::collection::vec("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", 1..6),
            separators in proptest::collection::vec("[ ,\n\t]{1,3}", 6),
        ) {
            let joined: String = tags.iter().zip(&separators).flat_map(|(t, s)| [t.as_str(), s.as_str()]).collect();
            let vars = vec![
                ("INPUT_LOCAL-IMAGE".to_owned(), "app".to_owned()),
                ("INPUT_REPOSITORY".to_owned(), "team/app".to_owned()),
                ("INPUT_AWS-REGION".to_owned(), "eu-west-1".to_owned()),
                ("INPUT_TAGS".to_owned(), joined),
            ];
            let parsed: Vec<String> = from_vars(vars).expect("valid").tags.iter().map(ToString::to_string).collect();
            let mut unique: Vec<String> = Vec::new();
            for tag in tags {
                if !unique.contains(&tag) {
                    unique.push(tag);
                }
            }
            prop_assert_eq!(parsed, unique);
        }
    }
}
