//! What the user reads when an input is refused or allows more than it seems: one named constructor
//! per message, each written once, so that the rules read as logic. Each returns the input (or
//! environment variable) it names and the text that says what to do; `Gather` puts the two together.

use super::Problem;

// The image and the repository.

pub fn local_image_required() -> Problem {
    (
        "local-image",
        "is required: name an image already built on the runner, e.g. `app:latest`.".into(),
    )
}

pub fn local_image_too_long(shown: &str, length: usize) -> Problem {
    let max = super::names::LOCAL_IMAGE_MAX;
    (
        "local-image",
        format!(
            "`{shown}` is too long for an image reference ({length} characters; at most {max})."
        ),
    )
}

/// Why a reference that is neither too long nor odd in its characters is refused.
pub const DOCKER_NAME_GRAMMAR: &str = "Docker names are lowercase letters and digits separated by `.`, \
     `_`, `__` or `-`, in `/`-separated parts, with an optional registry host first, then an optional \
     `:tag` and `@sha256:…` digest";

pub fn not_an_image_reference(shown: &str, why: &str) -> Problem {
    (
        "local-image",
        format!(
            "`{shown}` is not an image reference ({why}): use a name such as `app:1.0` or \
             `ghcr.io/org/app:1.0`, or an image ID."
        ),
    )
}

pub fn repository_required() -> Problem {
    (
        "repository",
        "is required: the ECR repository name, e.g. `backend` or `team/api`.".into(),
    )
}

pub fn bad_repository(name: &str) -> Problem {
    (
        "repository",
        format!(
            "`{name}` is not a valid ECR repository name: it must be 2–256 characters of lowercase letters and \
             digits, separated by `.`, `_` or `-`, with optional `/` namespaces (rule \
             `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`), e.g. `team/api`."
        ),
    )
}

/// `input` is `tags`, or `local-image` when the tag is the local image's own.
pub fn bad_tag(input: &'static str, name: &str) -> Problem {
    (
        input,
        format!(
            "`{name}` is not a valid image tag: up to 128 letters, digits, `_`, `.` and `-`, not starting \
             with `.` or `-` (rule `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`)."
        ),
    )
}

pub fn region_required() -> Problem {
    (
        "aws-region",
        "is required: set `aws-region: us-east-1` (or your region), or the AWS_REGION environment variable."
            .into(),
    )
}

pub fn bad_timeout(text: &str) -> Problem {
    (
        "timeout",
        format!(
            "`{text}` is not a duration from 1s to 6h, such as `30m`, `90s` or `1h` (a bare number is minutes)."
        ),
    )
}

/// `ecr-push-action policy` writes the account into every ARN.
pub fn account_needed() -> Problem {
    (
        "registry-id",
        "is needed to write the repository's ARN: pass `--account 123456789012` (the registry's account)."
            .into(),
    )
}

// Credentials.

/// `missing` is required because `given` is set.
pub fn key_without_its_pair(missing: &'static str, given: &str) -> Problem {
    (
        missing,
        format!(
            "is required when `{given}` is set: pass both keys, or neither to use the AWS credential chain."
        ),
    )
}

pub fn session_token_without_keys() -> Problem {
    (
        "aws-session-token",
        "is only used with `aws-access-key-id` and `aws-secret-access-key`: pass all three, or none to use the \
         AWS credential chain."
            .into(),
    )
}

pub fn token_file_without_role() -> Problem {
    (
        "web-identity-token-file",
        "is only used with `role-to-assume`: name the role to assume with this token.".into(),
    )
}

pub fn token_file_with_keys() -> Problem {
    (
        "web-identity-token-file",
        "cannot be used together with `aws-access-key-id`: choose one source of credentials."
            .into(),
    )
}

pub fn role_name_with_web_identity(name: &str) -> Problem {
    (
        "role-to-assume",
        format!(
            "`{name}` must be a full role ARN (`arn:aws:iam::<account>:role/{name}`) with a web identity \
             token: there are no source credentials to take the account from."
        ),
    )
}

pub fn external_id_with_web_identity() -> Problem {
    (
        "role-external-id",
        "is not used by AssumeRoleWithWebIdentity: remove it, or assume the role with keys.".into(),
    )
}

/// A role, and neither keys nor a token nor another source of the AWS chain to assume it with.
pub fn no_credentials_for_role(role: &super::RoleRef) -> Problem {
    (
        "role-to-assume",
        format!(
            "there are no credentials to assume `{role}` with: GitHub's OIDC token is not available to this job \
             (ACTIONS_ID_TOKEN_REQUEST_URL is not set).\nGive the job permission to request it:\n\
             \x20 permissions:\n\x20   id-token: write\n\x20   contents: read\n\
             or pass `aws-access-key-id` and `aws-secret-access-key`, or `web-identity-token-file`."
        ),
    )
}

/// The same under act, which has no OIDC token to give, whatever the permissions say.
pub fn no_oidc_under_act(role: &super::RoleRef) -> Problem {
    (
        "role-to-assume",
        format!(
            "there are no credentials to assume `{role}` with: this runner (act) offers no GitHub OIDC token, \
             so `permissions: id-token: write` cannot help here.\nRun it with keys instead, e.g. \
             `act -s AWS_ACCESS_KEY_ID -s AWS_SECRET_ACCESS_KEY` and `aws-access-key-id: ${{{{ \
             secrets.AWS_ACCESS_KEY_ID }}}}`, `aws-secret-access-key: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}` \
             (the role is then assumed with them), or `web-identity-token-file`."
        ),
    )
}

pub fn bad_audience(audience: &str) -> Problem {
    let control = if audience.chars().any(char::is_control) {
        ", with control characters"
    } else {
        ""
    };
    (
        "audience",
        format!(
            "is not an OIDC audience ({} characters{control}): use the client ID registered with the identity \
             provider, usually `sts.amazonaws.com` (at most 255 characters, no control characters).",
            audience.chars().count(),
        ),
    )
}

// Repository settings.

pub fn exclusions_without_mode() -> Problem {
    (
        "image-tag-mutability-exclusion-filters",
        "is only used with `image-tag-mutability: MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`."
            .into(),
    )
}

pub fn exclusions_required(mode: &str) -> Problem {
    (
        "image-tag-mutability-exclusion-filters",
        format!(
            "is required with `{mode}`: the wildcard filters of the tags that are the exception, e.g. \
             `latest, dev-*`."
        ),
    )
}

pub fn exclusions_unused(mode: &str) -> Problem {
    (
        "image-tag-mutability-exclusion-filters",
        format!("is only used with the `*_WITH_EXCLUSION` modes, not `{mode}`."),
    )
}

pub fn bad_exclusion_filter(filter: &str) -> Problem {
    (
        "image-tag-mutability-exclusion-filters",
        format!(
            "`{filter}` is not a tag filter: up to 128 letters, digits, `.`, `_`, `-` and `*` wildcards."
        ),
    )
}

pub fn kms_key_unused() -> Problem {
    (
        "kms-key",
        "is only used with `encryption-type: KMS` (or `KMS_DSSE`): set it, or remove `kms-key`."
            .into(),
    )
}

pub fn bad_kms_key(key: &str) -> Problem {
    (
        "kms-key",
        format!(
            "`{key}` is not a KMS key: use a key ID (`1234abcd-12ab-34cd-56ef-1234567890ab`), a key ARN \
             (`arn:aws:kms:REGION:ACCOUNT:key/ID`), an alias (`alias/NAME`) or an alias ARN."
        ),
    )
}

pub fn bad_repository_tag(pair: &str) -> Problem {
    (
        "repository-tags",
        format!(
            "`{pair}`: keys are 1–128 characters and may not start with `aws:`; values at most 256."
        ),
    )
}

/// A policy longer than ECR accepts; `length` says how long, in characters or bytes.
pub fn policy_too_long(input: &'static str, source: &str, length: &str, limit: usize) -> Problem {
    (
        input,
        format!(
            "{source} is {length} characters long: ECR accepts at most {limit} (as compact JSON). Shorten it, \
             for example by merging statements."
        ),
    )
}

pub fn policy_not_json(input: &'static str, source: &str, e: &serde_json::Error) -> Problem {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    (
        input,
        format!(
            "{source} is not valid JSON: {what} at line {}, column {}.",
            e.line(),
            e.column()
        ),
    )
}

pub fn outside_workspace(path: &std::path::Path, root: &std::path::Path) -> String {
    format!(
        "{} is outside the workspace {}: policies are read from the repository's checkout only.",
        path.display(),
        root.display()
    )
}

/// A setting that private ECR has and ECR Public does not.
pub fn not_in_ecr_public(input: &'static str) -> Problem {
    (
        input,
        "is not supported by ECR Public: remove it, or use `registry-type: private`.".into(),
    )
}

/// A repository policy that lets every AWS account in (a warning: the policy is valid).
pub fn public_repository_policy(
    statements: &[String],
    repository: &super::RepositoryName,
) -> String {
    format!(
        "Input `repository-policy`: statement {} allows `Principal: \"*\"` — every AWS account (and, for pulls, \
         anyone) may use {repository} as the statement's actions allow, unless a `Condition` narrows it. Name the \
         accounts or roles instead, or add a condition such as `aws:PrincipalOrgID`.",
        statements.join(", "),
    )
}

// Where requests that carry secrets go.

pub fn malformed_docker_host(address: &str, why: &str) -> Problem {
    (
        "DOCKER_HOST",
        format!(
            "`{address}` is not a Docker daemon address: {why}. Use `unix:///var/run/docker.sock` (or leave it \
             empty for that default), or `tcp://HOST:PORT`."
        ),
    )
}

pub fn docker_cert_path_needed() -> Problem {
    (
        "DOCKER_CERT_PATH",
        "is needed with DOCKER_TLS_VERIFY (there is no home directory to find ~/.docker in): point it at the \
         directory holding ca.pem, cert.pem and key.pem."
            .into(),
    )
}

pub fn docker_cert_missing(cert_path: &std::path::Path, missing: &str) -> Problem {
    (
        "DOCKER_CERT_PATH",
        format!(
            "{} has no {missing}: a TLS connection to the Docker daemon needs ca.pem (the daemon's CA), \
             cert.pem and key.pem (this client's certificate and key) there.",
            cert_path.display()
        ),
    )
}

pub fn remote_docker_without_tls(address: &str) -> Problem {
    (
        "DOCKER_HOST",
        format!(
            "`{address}` is a daemon on another machine without TLS: the registry password would cross the \
             network in clear text (Docker sends it in the X-Registry-Auth header). Set DOCKER_TLS_VERIFY=1 and \
             DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use the runner's own daemon."
        ),
    )
}

/// `name` is the environment variable; `carries` what the requests to it carry.
pub fn plain_http(name: &'static str, url: &str, carries: &str) -> Problem {
    (
        name,
        format!(
            "`{url}` is plain http: {carries} would cross the network in clear text. Use https:// (plain http is \
             only accepted on this machine's loopback)."
        ),
    )
}

// Where the images go.

pub fn destinations_with_public() -> Problem {
    (
        "destinations",
        "lists private registries, so it cannot be combined with `registry-type: public`: push to ECR \
         Public in a step of its own."
            .into(),
    )
}

pub fn duplicate_destination(item: &str, target: &super::Target) -> Problem {
    (
        "destinations",
        format!("`{item}` is listed twice (both name {target}): list each registry once."),
    )
}

pub fn public_destination(item: &str) -> Problem {
    (
        "destinations",
        format!(
            "`{item}` is ECR Public, which `destinations` does not take: push there in a step of its \
             own with `registry-type: public`."
        ),
    )
}

pub fn not_an_ecr_host(item: &str) -> Problem {
    (
        "destinations",
        format!(
            "`{item}` is not an Amazon ECR registry host: name a region (`eu-west-1`) or a private \
             registry host such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`."
        ),
    )
}

pub fn not_a_destination(item: &str) -> Problem {
    (
        "destinations",
        format!(
            "`{item}` is neither an AWS region (`eu-west-1`) nor a private registry host \
             (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`)."
        ),
    )
}

// Assembling an index.

pub fn bad_assemble_reference(item: &str) -> Problem {
    (
        "assemble",
        format!(
            "`{item}` is neither a tag nor a `sha256:` digest (64 hex digits) of an image in the repository."
        ),
    )
}

pub fn assemble_reference_twice(item: &str) -> Problem {
    (
        "assemble",
        format!("`{item}` is listed twice: list each image once."),
    )
}

pub fn assemble_with_local_image() -> Problem {
    (
        "local-image",
        "must be empty with `assemble`: the index is made from images already in the repository, not \
         from a local image."
            .into(),
    )
}

pub fn assemble_needs_tags() -> Problem {
    (
        "tags",
        "is required with `assemble`: name the tags the index is written under, e.g. `1.2.3, latest`."
            .into(),
    )
}

pub fn assemble_with_platform() -> Problem {
    (
        "platform",
        "must be empty with `assemble`: the index holds every platform of the images it names."
            .into(),
    )
}

pub fn assemble_public() -> Problem {
    (
        "assemble",
        "works on private ECR registries: assemble for ECR Public is not supported yet.".into(),
    )
}

pub fn foreign_tag_references(references: &[String], repository: &str) -> Problem {
    let listed: Vec<String> = references.iter().map(|r| format!("`{r}`")).collect();
    (
        "tags",
        format!(
            "{} name another registry or repository than `{repository}` in this step's registries: give \
             plain tags, or full references to this repository only (e.g. filter docker/metadata-action's \
             `images` to it).",
            listed.join(", ")
        ),
    )
}
