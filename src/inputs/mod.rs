//! Raw `INPUT_*` variables (as GitHub passes them: upper-cased, hyphens kept) → a validated [`Config`]
//! for the action, or a [`PolicyScope`] for `ecr-push-action policy`; both take the repository part
//! ([`RepositorySpec`]) from one derivation.
//!
//! The steps, as ripgrep's low → high arguments: `raw` reads and trims the values once; the rules (in
//! `names`, `auth`, `settings`, `endpoints`, `platform`) turn each into its type or a problem naming
//! the input; `advice` holds what those problems say, each with its code (`E-INPUT-…`), and the
//! problem types the rules share, so that no rule imports this file back. Every input rule and every
//! input error lives here, and all of them are checked before the action touches Docker or AWS. The
//! rest of the crate only sees the validated types.

use std::fmt;
use std::path::Path;

use problem::{Checked, Gather, Problem};

use crate::diagnostic::Diagnostic;

mod advice;
mod auth;
mod daemonless;
mod destinations;
mod endpoints;
mod host_form;
mod names;
mod platform;
mod problem;
mod raw;
mod scan;
mod settings;
mod signing;

pub use crate::partition::HostForm;
pub use auth::{Auth, ISSUER, IdTokenSource, Role, RoleRef, StaticCredentials, issuer_of_server};
pub use daemonless::{ArchiveKind, OnDisk, Selector};
pub use destinations::{Target, ecr_host};
pub use endpoints::{ApiEndpoints, DockerHost};
pub use names::{RepositoryName, Tag, is_sha256_digest};
pub use platform::Platform;
pub use scan::{Ignored, ScanGate, ScanMode, Severity};
pub use settings::{
    Catalog, Document, Encryption, IfTagExists, MutabilityMode, RegistryType, Settings,
    TagMutability, tag_filter_matches,
};
pub use signing::{Signing, is_signing_profile_arn};

/// What the action will do, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// What is pushed: a local image, or an index of images already in the repository.
    pub source: Source,
    pub repository: RepositoryName,
    /// At least one, without duplicates, in the order given.
    pub tags: Vec<Tag>,
    /// Registry hosts that `tags` named in full references, whose account is only known once the
    /// credentials are: each must be one of the destinations' (checked after the logins).
    pub tag_hosts: Vec<String>,
    /// The region of the credentials (STS) and of the registry when `destinations` is empty.
    pub region: String,
    /// The registries to push to, at least one: `destinations`, else `region` and `registry_id`.
    pub destinations: Vec<Target>,
    /// Where the AWS credentials come from.
    pub auth: Auth,
    /// Another account's registry (cross-account push); `None` is the caller's own.
    pub registry_id: Option<String>,
    pub create_repository: bool,
    /// `create-repository: template`: ECR creates a missing repository on push (a `CREATE_ON_PUSH`
    /// repository creation template); the action creates none.
    pub create_on_push: bool,
    /// How the repository should be set up (applied at creation, reconciled on an existing one).
    pub settings: Settings,
    pub if_tag_exists: IfTagExists,
    pub registry_type: RegistryType,
    /// ECR Public's catalog data for a repository this run creates (empty for private ECR).
    pub catalog: Catalog,
    /// Managed signing: the profiles named by the inputs, and whether a signature is required.
    pub signing: Signing,
    /// The scan gate: whether to wait for ECR's image scan, and which findings fail the run.
    pub scan: ScanGate,
    /// The whole run must finish within this.
    pub timeout: std::time::Duration,
    /// Write the job summary (`summary`); outputs and logs are the same either way.
    pub summary: bool,
    /// Push only this platform's image of a multi-platform local image; `None` pushes it whole.
    pub platform: Option<Platform>,
    /// The Docker daemon (`DOCKER_HOST` and its TLS settings).
    pub docker_host: DockerHost,
    /// `dualstack` and `fips`: which of each registry's hosts is pushed to (and, without a custom
    /// endpoint, which of the AWS APIs' endpoints is called). Narrowed to one destination, a
    /// destination given as a host's own form.
    pub host_form: HostForm,
    /// Whether an `AWS_ENDPOINT_URL*` variable is set: then the AWS APIs are called there, never at
    /// their dual-stack or FIPS endpoints (the SDK refuses both at once); `host_form` still picks
    /// the registry host.
    pub api_endpoints: ApiEndpoints,
    /// `mount-from` (images on disk): repositories of each destination's registry that a blob is
    /// mounted from when one of them holds it.
    pub mount_from: Vec<RepositoryName>,
}

impl Config {
    /// This configuration for one of its destinations alone: its region and registry.
    #[must_use]
    /// The run's inputs once per destination, each narrowed to it ([`Config::for_target`]).
    pub fn targets(&self) -> Vec<Config> {
        self.destinations
            .iter()
            .map(|t| self.for_target(t))
            .collect()
    }

    fn for_target(&self, target: &Target) -> Config {
        Config {
            region: target.region.clone(),
            registry_id: target.registry_id.clone(),
            destinations: vec![target.clone()],
            host_form: target.form.unwrap_or(self.host_form),
            ..self.clone()
        }
    }

    /// Which AWS API endpoints the SDK's clients call: `host_form`'s, unless a custom endpoint is
    /// set (then the plain one, which the custom endpoint replaces).
    pub fn api_form(&self) -> HostForm {
        if self.api_endpoints == ApiEndpoints::Custom {
            HostForm::default()
        } else {
            self.host_form
        }
    }
}

/// What a run puts under the tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Name, `name:tag` or ID of an image in the local Docker daemon.
    Local(String),
    /// `assemble`: tags or digests of images in the repository, joined into one index.
    Assemble(Vec<String>),
    /// An image on disk (`oci-layout:`, `oci-archive:`, `docker-archive:`), pushed without a daemon.
    OnDisk(OnDisk),
}

/// The repository the inputs name, where it lives and how it is kept: the part of the inputs that the
/// action's [`Config`] and `policy`'s [`PolicyScope`] share, derived once by the same rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySpec {
    pub repository: RepositoryName,
    pub region: String,
    /// `registry-id`: another account's registry; `None` is the caller's own.
    pub registry_id: Option<String>,
    /// The registries to push to, at least one.
    pub destinations: Vec<Target>,
    pub create_repository: bool,
    /// `create-repository: template` (see [`Config`]).
    pub create_on_push: bool,
    pub settings: Settings,
    pub if_tag_exists: IfTagExists,
    pub registry_type: RegistryType,
    /// ECR Public's catalog data for a repository this run creates (empty for private ECR).
    pub catalog: Catalog,
    /// `signing-profile` and `require-signature`.
    pub signing: Signing,
    /// `scan`, `fail-on-severity` and `ignore-findings`.
    pub scan: ScanGate,
    /// `mount-from`: repositories of each destination's registry that an image on disk's blobs are
    /// mounted from when they hold them.
    pub mount_from: Vec<RepositoryName>,
}

/// What `ecr-push-action policy` needs: the calls the inputs make, on which repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyScope {
    pub spec: RepositorySpec,
    /// The registry's account (`registry-id`, `--account`): required here, as it is in every ARN.
    pub account: String,
    /// The audience that the trust policy expects in GitHub's token.
    pub audience: String,
    /// The issuer of the GitHub server's tokens: github.com's, or GHES's (`GITHUB_SERVER_URL`).
    pub issuer: String,
    /// In a workflow, the `sub` its GitHub token has (from `GITHUB_REPOSITORY`, `GITHUB_REF` and
    /// `GITHUB_EVENT_NAME`; a job with an environment has another, which these variables do not say).
    pub workflow_subject: Option<String>,
}

/// All input problems at once, so a user fixes them in one round: a line and a code for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub Vec<Diagnostic>);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<&str> = self.0.iter().map(Diagnostic::text).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// One error that carries every problem's code, so that the `::error` title lists them all. (Not an
/// `std::error::Error` itself: that would convert without the codes.)
impl From<InputError> for anyhow::Error {
    fn from(error: InputError) -> Self {
        let codes = error.0.iter().flat_map(|d| d.codes().iter().copied());
        anyhow::Error::new(Diagnostic::gathered(codes, error.to_string()))
    }
}

/// Reads and validates the inputs from the process environment.
pub fn from_env() -> Result<Config, InputError> {
    from_vars(environment()?)
}

/// The process environment as text; an `INPUT_*` value (or a variable the action reads) that is not
/// UTF-8 is an error naming it.
pub fn environment() -> Result<Vec<(String, String)>, InputError> {
    raw::environment().map_err(InputError)
}

/// Reads and validates the inputs from `(name, value)` pairs shaped like the process environment:
/// `INPUT_*` for the inputs; `AWS_REGION`/`AWS_DEFAULT_REGION`, GitHub's `ACTIONS_ID_TOKEN_REQUEST_*`,
/// `GITHUB_WORKSPACE` and the AWS chain's variables to decide where credentials come from.
pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Config, InputError> {
    let (raw, env) = raw::read(vars).map_err(InputError)?;
    let mut check = Gather::default();
    let config = derive_config(&mut check, &raw, &env);
    check.finish(config)
}

/// Reads the inputs that `ecr-push-action policy` uses, by the same rules as the action's.
pub fn policy_scope(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<PolicyScope, InputError> {
    let (raw, env) = raw::read(vars).map_err(InputError)?;
    let mut check = Gather::default();
    let spec = derive_spec(&mut check, &raw, &env);
    if raw.registry_id.is_none() {
        check.keep::<()>(Err(advice::account_needed()));
    }
    let audience = check.keep(auth::audience_rule(raw.audience.as_deref()));
    let scope = spec.and_then(|spec| {
        Some(PolicyScope {
            account: spec.registry_id.clone()?,
            audience: audience?,
            issuer: issuer_of_server(env.get("GITHUB_SERVER_URL")),
            workflow_subject: workflow_subject(&env),
            spec,
        })
    });
    check.finish(scope)
}

/// The `sub` of this workflow's GitHub token, as far as the runner's variables say it.
fn workflow_subject(env: &raw::Env) -> Option<String> {
    let repository = env.get("GITHUB_REPOSITORY")?;
    if env
        .get("GITHUB_EVENT_NAME")
        .is_some_and(|e| e.starts_with("pull_request"))
    {
        return Some(format!("repo:{repository}:pull_request"));
    }
    Some(format!("repo:{repository}:ref:{}", env.get("GITHUB_REF")?))
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
    vec![advice::public_repository_policy(
        &public,
        &config.repository,
    )]
}

/// The action's configuration. Every rule runs before the first `?`, so that all problems are found.
fn derive_config(check: &mut Gather, raw: &raw::RawInputs, env: &raw::Env) -> Option<Config> {
    let spec = derive_spec(check, raw, env);
    let source = source_rule(check, raw, spec.as_ref());
    let (tags, tag_hosts) = tags_rule(check, raw, spec.as_ref());
    let auth = auth::derive(check, raw, env);
    let timeout = check.keep(timeout_rule(raw.timeout.as_deref()));
    let summary = check.keep(settings::boolean_rule(
        "summary",
        raw.summary.as_deref(),
        true,
    ));
    let platform = check.keep(platform_rule(raw.platform.as_deref()));
    let docker_host = endpoints::derive(check, env);
    let host_form = host_form_rules(check, raw, env, spec.as_ref());
    let RepositorySpec {
        repository,
        region,
        registry_id,
        destinations,
        create_repository,
        create_on_push,
        settings,
        if_tag_exists,
        registry_type,
        catalog,
        signing,
        scan,
        mount_from,
    } = spec?;
    let source = source?;
    // The images an index is made of are in the repository: assembling never creates one.
    let pushes_an_image = !matches!(source, Source::Assemble(_));
    let create_repository = create_repository && pushes_an_image;
    let create_on_push = create_on_push && pushes_an_image;
    Some(Config {
        source,
        repository,
        tags: tags?,
        tag_hosts,
        region,
        destinations,
        auth: auth?,
        registry_id,
        create_repository,
        create_on_push,
        settings,
        if_tag_exists,
        registry_type,
        catalog,
        signing,
        scan,
        timeout: timeout?,
        summary: summary?,
        platform: platform?,
        docker_host: docker_host?,
        host_form: host_form?,
        api_endpoints: endpoints::api_endpoints(env),
        mount_from,
    })
}

/// `dualstack` and `fips`: each the input, else its standard AWS variable (`true`/`false` in any
/// case, as the SDK reads it), else off; refused where AWS documents no registry host of that form.
fn host_form_rules(
    check: &mut Gather,
    raw: &raw::RawInputs,
    env: &raw::Env,
    spec: Option<&RepositorySpec>,
) -> Option<HostForm> {
    let switch = |check: &mut Gather, input, value: Option<&str>, variable| match value {
        Some(_) => check.keep(settings::boolean_rule(input, value, false)),
        None => check.keep(settings::boolean_rule(variable, env.get(variable), false)),
    };
    let given = raw.dualstack.as_deref();
    let dual_stack = switch(check, "dualstack", given, "AWS_USE_DUALSTACK_ENDPOINT");
    let fips = switch(check, "fips", raw.fips.as_deref(), "AWS_USE_FIPS_ENDPOINT");
    let form = HostForm {
        dual_stack: dual_stack?,
        fips: fips?,
    };
    let spec = spec?;
    let public = spec.registry_type.is_public();
    let regions = spec.destinations.iter().filter(|t| t.form.is_none());
    let regions = regions.map(|t| t.region.as_str());
    check.keep(host_form::host_form_rule(regions, form, public))?;
    Some(form)
}

/// The tags, and the registry hosts that full references among them name: full references
/// (docker/metadata-action's `tags`) become their tag parts, if they are this repository's.
fn tags_rule(
    check: &mut Gather,
    raw: &raw::RawInputs,
    spec: Option<&RepositorySpec>,
) -> (Option<Vec<Tag>>, Vec<String>) {
    let (tags, tag_hosts) = match (raw.tags.as_deref(), spec) {
        (Some(tags), Some(spec)) if tags.contains('/') => {
            let rule = destinations::tag_references_rule(
                tags,
                spec.repository.as_str(),
                &spec.destinations,
            );
            check
                .keep(rule)
                .map_or((None, Vec::new()), |(plain, hosts)| (Some(plain), hosts))
        }
        (tags, _) => (tags.map(str::to_owned), Vec::new()),
    };
    let local_image = raw.local_image.as_deref();
    (
        check.keep(names::tags_rule(tags.as_deref(), local_image)),
        tag_hosts,
    )
}

/// A local image to push, or (`assemble`) images in the repository to join: one of the two.
fn source_rule(
    check: &mut Gather,
    raw: &raw::RawInputs,
    spec: Option<&RepositorySpec>,
) -> Option<Source> {
    let Some(references) = check.keep(names::assemble_rule(raw.assemble.as_deref()))? else {
        let image = raw.local_image.as_deref();
        if let Some(on_disk) = image.and_then(daemonless::rule) {
            if raw.platform.is_some() {
                check.keep::<()>(Err(daemonless::platform_with_image_on_disk()));
            }
            return check.keep(on_disk).map(Source::OnDisk);
        }
        if raw.mount_from.is_some() {
            check.keep::<()>(Err(daemonless::mount_from_without_image_on_disk()));
        }
        check.keep(names::local_image_rule(image))?;
        return Some(Source::Local(image?.to_owned()));
    };
    let refusals = [
        (
            raw.local_image.is_some(),
            advice::assemble_with_local_image as fn() -> Problem,
        ),
        (raw.tags.is_none(), advice::assemble_needs_tags),
        (raw.platform.is_some(), advice::assemble_with_platform),
        (
            raw.mount_from.is_some(),
            daemonless::mount_from_without_image_on_disk,
        ),
        (
            spec.is_some_and(|s| s.registry_type.is_public()),
            advice::assemble_public,
        ),
    ];
    let mut refused = false;
    for (applies, problem) in refusals {
        if applies {
            check.keep::<()>(Err(problem()));
            refused = true;
        }
    }
    (!refused).then_some(Source::Assemble(references))
}

/// The repository part, shared by the action and `policy`.
fn derive_spec(check: &mut Gather, raw: &raw::RawInputs, env: &raw::Env) -> Option<RepositorySpec> {
    let workspace = env.workspace().unwrap_or(Path::new("."));
    let settings = settings::derive(check, raw, workspace);
    let registry_type = check.keep(settings::registry_type_rule(raw, &settings));
    let repository = check.keep(names::repository_rule(raw.repository.as_deref()));
    let registry_id = check.keep(names::registry_id_rule(raw.registry_id.as_deref()));
    let (registry_type, catalog) = registry_type.unzip();
    let public = registry_type.is_some_and(RegistryType::is_public);
    let listed = check.keep(destinations::destinations_rule(
        raw.destinations.as_deref(),
        registry_id.as_ref().and_then(Option::as_deref),
        public,
    ));
    // Without `aws-region`, a run with `destinations` signs its credential calls in the first one's.
    let first_listed = listed.as_ref().and_then(|l| l.as_ref()?.first());
    let region = raw.aws_region.as_deref().or_else(|| env.region());
    let region = region.or(first_listed.map(|t| t.region.as_str()));
    let region = check.keep(names::region_rule(region));
    let (create_repository, create_on_push) = create_rules(check, raw, public);
    let if_tag_exists = check.keep(settings::if_tag_exists_rule(raw.if_tag_exists.as_deref()));
    let (profiles, require) = signing::rules(
        raw.signing_profile.as_deref(),
        raw.require_signature.as_deref(),
    );
    let (profiles, require) = (check.keep(profiles), check.keep(require));
    let scan = scan::rules(
        raw.scan.as_deref(),
        raw.fail_on_severity.as_deref(),
        raw.ignore_findings.as_deref(),
        public,
    );
    let scan = scan.map_err(|problems| check.0.extend(problems)).ok();
    let mount_from = check.keep(daemonless::mount_from_rule(raw, public));
    let (region, registry_id) = (region?, registry_id?);
    let destinations = listed?.unwrap_or_else(|| {
        vec![Target {
            region: region.clone(),
            registry_id: registry_id.clone(),
            form: None,
        }]
    });
    Some(RepositorySpec {
        repository: repository?,
        region,
        registry_id,
        destinations,
        create_repository: create_repository?,
        create_on_push: create_on_push?,
        settings,
        if_tag_exists: if_tag_exists?,
        registry_type: registry_type?,
        catalog: catalog?,
        signing: Signing {
            profiles: profiles?,
            require: require?,
        },
        scan: scan?,
        mount_from: mount_from?,
    })
}

/// `create-repository`: whether the action creates a missing repository, and whether ECR is to
/// create it on push from a template (`template`, private ECR only).
fn create_rules(
    check: &mut Gather,
    raw: &raw::RawInputs,
    public: bool,
) -> (Option<bool>, Option<bool>) {
    let given = raw.create_repository.as_deref();
    let create_on_push = check.keep(settings::create_on_push_rule(given, public));
    let template = given.is_some_and(|v| v.eq_ignore_ascii_case("template"));
    let create_repository = if template {
        Some(false)
    } else {
        check.keep(settings::boolean_rule("create-repository", given, true))
    };
    (create_repository, create_on_push)
}

impl Gather {
    /// The value when no rule refused anything; else every problem in [`LISTING_ORDER`], each naming
    /// its input.
    fn finish<T>(mut self, value: Option<T>) -> Result<T, InputError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => {
                let rank = |input: &str| LISTING_ORDER.iter().position(|i| *i == input);
                self.0
                    .sort_by_key(|p| rank(p.input).unwrap_or(LISTING_ORDER.len()));
                Err(InputError(
                    self.0.into_iter().map(advice::described).collect(),
                ))
            }
        }
    }
}

/// The order problems are listed in: the order the action has always checked its inputs and variables
/// in — the repository's settings, the run, the image and where it goes, the credentials, the
/// endpoints. One derivation serves both the action and `policy`, so no single code order gives it.
const LISTING_ORDER: [&str; 52] = [
    "image-tag-mutability",
    "image-tag-mutability-exclusion-filters",
    "scan-on-push",
    "encryption-type",
    "kms-key",
    "repository-tags",
    "lifecycle-policy",
    "repository-policy",
    "registry-type",
    "public-description",
    "public-about",
    "public-usage",
    "public-architectures",
    "public-operating-systems",
    "timeout",
    "summary",
    "platform",
    "assemble",
    "local-image",
    "repository",
    "tags",
    "aws-region",
    "aws-access-key-id",
    "aws-secret-access-key",
    "aws-session-token",
    "role-to-assume",
    "role-session-name",
    "role-duration-seconds",
    "role-external-id",
    "audience",
    "web-identity-token-file",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "registry-id",
    "destinations",
    "create-repository",
    "dualstack",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "fips",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL_STS",
    "DOCKER_HOST",
    "DOCKER_CERT_PATH",
    "if-tag-exists",
    "signing-profile",
    "require-signature",
    "scan",
    "fail-on-severity",
    "ignore-findings",
    "mount-from",
];

fn platform_rule(value: Option<&str>) -> Checked<Option<Platform>> {
    value
        .map(|v| Platform::parse(v).map_err(|_| advice::bad_platform(v)))
        .transpose()
}

/// `30m`, `90s`, `1h`; a bare number is minutes, like GitHub's `timeout-minutes`.
fn timeout_rule(value: Option<&str>) -> Checked<std::time::Duration> {
    let Some(text) = value else {
        return Ok(std::time::Duration::from_mins(30));
    };
    let (number, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text, 'm'),
    };
    let seconds = match (number.parse::<u64>(), unit.to_ascii_lowercase()) {
        (Ok(n), 's') => Some(n),
        (Ok(n), 'm') => n.checked_mul(60),
        (Ok(n), 'h') => n.checked_mul(3600),
        _ => None,
    };
    match seconds {
        Some(s) if (1..=6 * 3600).contains(&s) => Ok(std::time::Duration::from_secs(s)),
        _ => Err(advice::bad_timeout(text)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

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

    fn errors_for(extra: &[(&str, &str)]) -> Vec<Diagnostic> {
        let mut all = minimal();
        all.extend(vars(extra));
        from_vars(all).expect_err("should be rejected").0
    }

    /// The one problem found: its code, and that its line names `input`.
    #[track_caller]
    fn assert_one(errors: &[Diagnostic], code: &str, input: &str) {
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].codes(), [code], "{errors:?}");
        assert!(
            errors[0].text().starts_with(&format!("Input `{input}`")),
            "{errors:?}"
        );
    }

    /// `dualstack` / `fips`: the input, else `AWS_USE_DUALSTACK_ENDPOINT` / `AWS_USE_FIPS_ENDPOINT`
    /// (`true`/`false` in any case, as the SDK's `parse_bool` takes them; AWS SDKs and Tools
    /// Reference Guide, "Dual-stack and FIPS endpoints"); a custom endpoint keeps the API plain.
    #[test]
    fn dualstack_and_fips_come_from_the_inputs_else_the_standard_variables() {
        let with = |extra: &[(&str, &str)]| {
            let mut all = minimal();
            all.extend(vars(extra));
            from_vars(all).expect("valid")
        };
        let form = |dual_stack, fips| HostForm { dual_stack, fips };
        assert_eq!(with(&[]).host_form, HostForm::default());
        let config = with(&[("AWS_USE_DUALSTACK_ENDPOINT", "TRUE")]);
        assert_eq!(
            (config.host_form, config.api_form()),
            (form(true, false), form(true, false))
        );
        let config = with(&[
            ("AWS_USE_DUALSTACK_ENDPOINT", "true"),
            ("INPUT_DUALSTACK", "False"),
        ]);
        assert_eq!(config.host_form, HostForm::default());
        let config = with(&[
            ("INPUT_AWS-REGION", "us-gov-west-1"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("INPUT_DUALSTACK", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]);
        assert_eq!(config.host_form, form(true, true));
        assert_eq!(
            config.api_form(),
            HostForm::default(),
            "the custom endpoint wins"
        );
        for (extra, named) in [
            (("INPUT_DUALSTACK", "yes"), "Input `dualstack`"),
            (
                ("AWS_USE_DUALSTACK_ENDPOINT", "1"),
                "Environment variable `AWS_USE_DUALSTACK_ENDPOINT`",
            ),
            (("INPUT_FIPS", "on"), "Input `fips`"),
            (
                ("AWS_USE_FIPS_ENDPOINT", "enabled"),
                "Environment variable `AWS_USE_FIPS_ENDPOINT`",
            ),
        ] {
            let errors = errors_for(&[extra]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].codes(), ["E-INPUT-BOOLEAN"], "{errors:?}");
            assert!(errors[0].text().starts_with(named), "{errors:?}");
        }
    }

    /// Refused before any AWS call where AWS documents no registry host of the form (see
    /// `partition::tests::every_partitions_registry_hosts_in_each_form` for the sources).
    #[test]
    fn dualstack_and_fips_are_refused_where_no_registry_host_exists() {
        for (extra, code, input) in [
            (
                &[("INPUT_FIPS", "true")][..],
                "E-INPUT-FIPS-UNAVAILABLE",
                "fips",
            ),
            (
                &[
                    ("INPUT_FIPS", "true"),
                    ("INPUT_DESTINATIONS", "us-east-1 eu-central-1"),
                ],
                "E-INPUT-FIPS-UNAVAILABLE",
                "fips",
            ),
            (
                &[
                    ("INPUT_DUALSTACK", "true"),
                    ("INPUT_AWS-REGION", "cn-north-1"),
                ],
                "E-INPUT-DUALSTACK-UNAVAILABLE",
                "dualstack",
            ),
            (
                &[
                    ("INPUT_DUALSTACK", "true"),
                    ("INPUT_AWS-REGION", "us-iso-east-1"),
                ],
                "E-INPUT-DUALSTACK-UNAVAILABLE",
                "dualstack",
            ),
            (
                &[
                    ("INPUT_FIPS", "true"),
                    ("INPUT_AWS-REGION", "us-east-1"),
                    ("INPUT_REGISTRY-TYPE", "public"),
                ],
                "E-INPUT-PUBLIC-ENDPOINTS",
                "fips",
            ),
            (
                &[
                    ("INPUT_DUALSTACK", "true"),
                    ("INPUT_AWS-REGION", "us-east-1"),
                    ("INPUT_REGISTRY-TYPE", "public"),
                ],
                "E-INPUT-PUBLIC-ENDPOINTS",
                "dualstack",
            ),
        ] {
            assert_one(&errors_for(extra), code, input);
        }
        let errors = errors_for(&[
            ("INPUT_DUALSTACK", "true"),
            ("INPUT_AWS-REGION", "cn-north-1"),
        ]);
        assert!(
            errors[0].text().contains("on.amazonwebservices.com.cn"),
            "{errors:?}"
        );
        // A destination given as a FIPS host keeps its form; a region destination takes the inputs'.
        let mut all = minimal();
        all.extend(vars(&[(
            "INPUT_DESTINATIONS",
            "eu-west-1 123456789012.dkr.ecr-fips.us-east-2.amazonaws.com",
        )]));
        let config = from_vars(all).expect("valid");
        let forms: Vec<HostForm> = config.targets().iter().map(|t| t.host_form).collect();
        let fips = HostForm {
            dual_stack: false,
            fips: true,
        };
        assert_eq!(forms, [HostForm::default(), fips]);
    }

    /// `mount-from` is for images on disk, whose blobs the action uploads: with a daemon's image
    /// (`minimal()`'s) or `assemble` it is refused before anything runs; with an image on disk it is
    /// the run's.
    #[test]
    fn mount_from_goes_with_an_image_on_disk_only() {
        let daemon = errors_for(&[("INPUT_MOUNT-FROM", "base")]);
        assert_one(&daemon, "E-INPUT-MOUNT-FROM", "mount-from");
        let assemble = errors_for(&[
            ("INPUT_LOCAL-IMAGE", ""),
            ("INPUT_ASSEMBLE", "amd64 arm64"),
            ("INPUT_TAGS", "v1"),
            ("INPUT_MOUNT-FROM", "base"),
        ]);
        assert_one(&assemble, "E-INPUT-MOUNT-FROM", "mount-from");
        let mut all = minimal();
        all.extend(vars(&[
            ("INPUT_LOCAL-IMAGE", "oci-layout:out"),
            ("INPUT_TAGS", "v1"),
            ("INPUT_MOUNT-FROM", "base team/base"),
        ]));
        let config = from_vars(all).expect("valid");
        let names: Vec<&str> = config
            .mount_from
            .iter()
            .map(RepositoryName::as_str)
            .collect();
        assert_eq!(names, ["base", "team/base"]);
    }

    #[test]
    fn minimal_inputs_take_defaults() {
        let config = from_vars(minimal()).expect("valid");
        assert_eq!(config.source, Source::Local("app:1.2".into()));
        assert_eq!(config.repository.as_str(), "team/api");
        assert_eq!(config.tags, vec![Tag("1.2".into())]);
        assert_eq!(config.region, "eu-west-1");
        assert!(config.create_repository);
        assert_eq!(config.auth, Auth::Chain);
        assert_eq!(config.registry_id, None);
    }

    /// `create-repository: template`: no creation by the action, ECR creates it on push; private
    /// ECR only (ECR Public has no repository creation templates).
    #[test]
    fn create_repository_template() {
        let mut all = minimal();
        all.extend(vars(&[("INPUT_CREATE-REPOSITORY", "template")]));
        let config = from_vars(all).expect("valid");
        assert!(config.create_on_push && !config.create_repository);
        assert!(!from_vars(minimal()).expect("valid").create_on_push);
        let errors = errors_for(&[
            ("INPUT_CREATE-REPOSITORY", "template"),
            ("INPUT_REGISTRY-TYPE", "public"),
        ]);
        assert_one(
            &errors,
            "E-INPUT-TEMPLATE-NOT-IN-ECR-PUBLIC",
            "create-repository",
        );
        let errors = errors_for(&[("INPUT_CREATE-REPOSITORY", "templates")]);
        assert_eq!(errors[0].codes(), ["E-INPUT-BOOLEAN"], "{errors:?}");
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
        assert_one(&errors, "E-INPUT-REGION-REQUIRED", "aws-region");
    }

    #[test]
    fn each_rule_names_its_input() {
        for (input, value, code) in [
            ("INPUT_REPOSITORY", "Team/API", "E-INPUT-REPOSITORY"),
            ("INPUT_REPOSITORY", "a", "E-INPUT-REPOSITORY"),
            ("INPUT_REPOSITORY", "team//api", "E-INPUT-REPOSITORY"),
            ("INPUT_REPOSITORY", "-api", "E-INPUT-REPOSITORY"),
            ("INPUT_TAGS", "v1,-bad", "E-INPUT-TAG"),
            ("INPUT_TAGS", "has:colon", "E-INPUT-TAG"),
            ("INPUT_REGISTRY-ID", "12345", "E-INPUT-REGISTRY-ID"),
            ("INPUT_REGISTRY-ID", "12345678901a", "E-INPUT-REGISTRY-ID"),
            ("INPUT_CREATE-REPOSITORY", "yes", "E-INPUT-BOOLEAN"),
            ("INPUT_AWS-REGION", "Frankfurt", "E-INPUT-REGION"),
        ] {
            let errors = errors_for(&[(input, value)]);
            let name = input.trim_start_matches("INPUT_").to_lowercase();
            assert_one(&errors, code, &name);
            assert!(
                errors[0]
                    .text()
                    .contains(&format!("`{value}`").replace("v1,", "")),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn long_names_and_tags_are_bounded() {
        let long_repo = "a".repeat(257);
        let errors = errors_for(&[("INPUT_REPOSITORY", &long_repo)]);
        assert_one(&errors, "E-INPUT-REPOSITORY", "repository");
        assert!(
            from_vars({
                let mut all = minimal();
                all.push(("INPUT_REPOSITORY".into(), "a".repeat(256)));
                all.push(("INPUT_TAGS".into(), "t".repeat(128)));
                all
            })
            .is_ok()
        );
        let errors = errors_for(&[("INPUT_TAGS", &"t".repeat(129))]);
        assert_one(&errors, "E-INPUT-TAG", "tags");
    }

    #[test]
    fn keys_come_in_pairs() {
        for (given, code, named) in [
            (
                "INPUT_AWS-ACCESS-KEY-ID",
                "E-INPUT-KEY-PAIR",
                "aws-secret-access-key",
            ),
            (
                "INPUT_AWS-SECRET-ACCESS-KEY",
                "E-INPUT-KEY-PAIR",
                "aws-access-key-id",
            ),
            (
                "INPUT_AWS-SESSION-TOKEN",
                "E-INPUT-SESSION-TOKEN-WITHOUT-KEYS",
                "aws-session-token",
            ),
        ] {
            assert_one(&errors_for(&[(given, "x")]), code, named);
        }
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
    fn every_input_has_its_place_in_the_listing_order() {
        for input in crate::report::declared_in_action_yml("inputs") {
            assert!(LISTING_ORDER.contains(&input.as_str()), "{input}");
        }
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
            .map(|e| e.text().split('`').nth(1).unwrap_or_default())
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

    /// Into `anyhow`, the problems are one error with every code, and their lines as they were.
    #[test]
    fn the_error_carries_every_problems_code() {
        let error =
            from_vars(vars(&[("INPUT_TAGS", ".bad"), ("INPUT_TIMEOUT", "0")])).expect_err("bad");
        let text = error.to_string();
        let error = anyhow::Error::from(error);
        assert_eq!(
            crate::diagnostic::codes(&error),
            [
                "E-INPUT-TIMEOUT",
                "E-INPUT-LOCAL-IMAGE-REQUIRED",
                "E-INPUT-REPOSITORY-REQUIRED",
                "E-INPUT-TAG",
                "E-INPUT-REGION-REQUIRED"
            ]
        );
        assert_eq!(format!("{error:#}"), text);
        assert_eq!(text.lines().count(), 5, "{text}");
    }

    fn auth_of(extra: &[(&str, &str)]) -> Result<Auth, Vec<Diagnostic>> {
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
    fn under_act_a_role_without_keys_is_told_that_act_has_no_oidc_token() {
        let errors =
            auth_of(&[("INPUT_ROLE-TO-ASSUME", ROLE), ("ACT", "true")]).expect_err("no token");
        assert_one(
            &errors,
            "E-INPUT-ROLE-WITHOUT-CREDENTIALS-UNDER-ACT",
            "role-to-assume",
        );
        assert!(
            auth_of(&[
                ("INPUT_ROLE-TO-ASSUME", ROLE),
                ("ACT", "true"),
                KEYS[0],
                KEYS[1]
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_role_without_any_credentials_asks_for_id_token_write() {
        let errors = auth_of(&[("INPUT_ROLE-TO-ASSUME", ROLE)]).expect_err("no token");
        assert_one(
            &errors,
            "E-INPUT-ROLE-WITHOUT-CREDENTIALS",
            "role-to-assume",
        );
    }

    #[test]
    fn role_rules_name_their_inputs() {
        // A role assumed with keys, and one more input.
        let with_role = |input, value| {
            let mut extra = vec![("INPUT_ROLE-TO-ASSUME", ROLE), (input, value)];
            extra.extend(KEYS);
            extra
        };
        for (extra, input, code) in [
            (
                vec![("INPUT_ROLE-TO-ASSUME", "arn:aws:iam::1234:role/x")],
                "role-to-assume",
                "E-INPUT-ROLE",
            ),
            (
                vec![("INPUT_ROLE-TO-ASSUME", "has space")],
                "role-to-assume",
                "E-INPUT-ROLE",
            ),
            (
                with_role("INPUT_ROLE-SESSION-NAME", "x"),
                "role-session-name",
                "E-INPUT-ROLE-SESSION-NAME",
            ),
            (
                with_role("INPUT_ROLE-DURATION-SECONDS", "899"),
                "role-duration-seconds",
                "E-INPUT-ROLE-DURATION",
            ),
            (
                with_role("INPUT_ROLE-DURATION-SECONDS", "1h"),
                "role-duration-seconds",
                "E-INPUT-ROLE-DURATION",
            ),
            (
                with_role("INPUT_ROLE-EXTERNAL-ID", "x"),
                "role-external-id",
                "E-INPUT-EXTERNAL-ID",
            ),
            (
                vec![("INPUT_ROLE-EXTERNAL-ID", "ext")],
                "role-external-id",
                "E-INPUT-EXTERNAL-ID-WITHOUT-ROLE",
            ),
            (
                vec![("INPUT_WEB-IDENTITY-TOKEN-FILE", "t")],
                "web-identity-token-file",
                "E-INPUT-TOKEN-FILE-WITHOUT-ROLE",
            ),
            (
                with_role("INPUT_WEB-IDENTITY-TOKEN-FILE", "t"),
                "web-identity-token-file",
                "E-INPUT-TOKEN-FILE-WITH-KEYS",
            ),
            (
                vec![("INPUT_ROLE-TO-ASSUME", "gha-push"), OIDC[0], OIDC[1]],
                "role-to-assume",
                "E-INPUT-ROLE-NAME-WITH-WEB-IDENTITY",
            ),
            (
                vec![
                    ("INPUT_ROLE-TO-ASSUME", ROLE),
                    ("INPUT_ROLE-EXTERNAL-ID", "ext"),
                    OIDC[0],
                    OIDC[1],
                ],
                "role-external-id",
                "E-INPUT-EXTERNAL-ID-WITH-WEB-IDENTITY",
            ),
        ] {
            let errors = auth_of(&extra).expect_err("invalid");
            assert_one(&errors, code, input);
        }
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
                Err(InputError(errors)) => prop_assert!(errors.iter().all(|e| e.text().starts_with("Input `") && e.codes().len() == 1)),
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
