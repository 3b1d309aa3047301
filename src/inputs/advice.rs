//! What the user reads when an input is refused or allows more than it seems: one named constructor
//! per problem, each with its stable code (`E-INPUT-…`, listed in the README) and its text written
//! once, so that the rules read as logic. Each returns the input (or environment variable) it
//! names, the code and the text that says what to do ([`Problem`](super::problem::Problem)).
//!
//! It imports nothing from the rules (what a message shows comes in as text or as `Display`).

use std::fmt::Display;

use super::problem::{Problem, problem};
use crate::diagnostic::Diagnostic;

// The image and the repository.

pub fn local_image_required() -> Problem {
    let text = "is required: name an image already built on the runner, e.g. `app:latest`.";
    problem("local-image", "E-INPUT-LOCAL-IMAGE-REQUIRED", text)
}

pub fn local_image_too_long(shown: &str, length: usize, max: usize) -> Problem {
    let text = format!(
        "`{shown}` is too long for an image reference ({length} characters; at most {max})."
    );
    problem("local-image", "E-INPUT-LOCAL-IMAGE-TOO-LONG", text)
}

/// Why a reference is refused, told the same way for each reason.
fn not_a_reference_because(shown: &str, why: &str) -> String {
    format!(
        "`{shown}` is not an image reference ({why}): use a name such as `app:1.0` or \
         `ghcr.io/org/app:1.0`, or an image ID."
    )
}

/// A reference that is neither too long nor odd in its characters, and still not Docker's grammar.
pub fn not_an_image_reference(shown: &str) -> Problem {
    let grammar = "Docker names are lowercase letters and digits separated by `.`, `_`, `__` or `-`, in \
                   `/`-separated parts, with an optional registry host first, then an optional `:tag` and \
                   `@sha256:…` digest";
    let text = not_a_reference_because(shown, grammar);
    problem("local-image", "E-INPUT-LOCAL-IMAGE", text)
}

/// `image` holds whitespace or control characters (which a log or a URL path would take for more).
pub fn odd_characters_in_image(shown: &str, image: &str) -> Problem {
    let why = if image.chars().any(char::is_whitespace) {
        "it contains whitespace"
    } else {
        "it contains control characters"
    };
    let text = not_a_reference_because(shown, why);
    problem("local-image", "E-INPUT-LOCAL-IMAGE-CHARACTERS", text)
}

pub fn image_name_too_long(shown: &str) -> Problem {
    let text = not_a_reference_because(shown, "its name is longer than 255 characters");
    problem("local-image", "E-INPUT-LOCAL-IMAGE-NAME-TOO-LONG", text)
}

pub fn repository_required() -> Problem {
    let text = "is required: the ECR repository name, e.g. `backend` or `team/api`.";
    problem("repository", "E-INPUT-REPOSITORY-REQUIRED", text)
}

pub fn bad_repository(name: &str) -> Problem {
    let text = format!(
        "`{name}` is not a valid ECR repository name: it must be 2–256 characters of lowercase letters and \
         digits, separated by `.`, `_` or `-`, with optional `/` namespaces (rule \
         `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`), e.g. `team/api`."
    );
    problem("repository", "E-INPUT-REPOSITORY", text)
}

/// `input` is `tags`, or `local-image` when the tag is the local image's own.
pub fn bad_tag(input: &'static str, name: &str) -> Problem {
    let text = format!(
        "`{name}` is not a valid image tag: up to 128 letters, digits, `_`, `.` and `-`, not starting \
         with `.` or `-` (rule `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`)."
    );
    problem(input, "E-INPUT-TAG", text)
}

pub fn region_required() -> Problem {
    let text = "is required: set `aws-region: us-east-1` (or your region), or the AWS_REGION \
                environment variable.";
    problem("aws-region", "E-INPUT-REGION-REQUIRED", text)
}

pub fn bad_region(region: &str) -> Problem {
    let text =
        format!("`{region}` is not an AWS region name such as `us-east-1` or `eu-central-1`.");
    problem("aws-region", "E-INPUT-REGION", text)
}

pub fn bad_registry_id(id: &str) -> Problem {
    let text = format!("`{id}` is not an AWS account ID: it must be exactly 12 digits.");
    problem("registry-id", "E-INPUT-REGISTRY-ID", text)
}

/// `ecr-push-action policy` writes the account into every ARN.
pub fn account_needed() -> Problem {
    let text = "is needed to write the repository's ARN: pass `--account 123456789012` (the \
                registry's account).";
    problem("registry-id", "E-INPUT-ACCOUNT-REQUIRED", text)
}

pub fn bad_timeout(value: &str) -> Problem {
    let text = format!(
        "`{value}` is not a duration from 1s to 6h, such as `30m`, `90s` or `1h` (a bare number is minutes)."
    );
    problem("timeout", "E-INPUT-TIMEOUT", text)
}

/// The text of a platform that is not one; [`super::Platform`]'s parsers say it for the input and
/// for platforms that images state.
pub fn not_a_platform(text: &str) -> String {
    format!(
        "`{text}` is not a platform: write os/architecture[/variant] in lower case, e.g. linux/amd64, \
         linux/arm64 or linux/arm/v7"
    )
}

pub fn bad_platform(text: &str) -> Problem {
    problem("platform", "E-INPUT-PLATFORM", not_a_platform(text))
}

pub fn not_a_boolean(input: &'static str, value: &str) -> Problem {
    let text = format!("`{value}` is not a boolean: use `true` or `false`.");
    problem(input, "E-INPUT-BOOLEAN", text)
}

/// `signing-profile`: a value that is not an AWS Signer signing-profile ARN.
pub fn bad_signing_profile(value: &str) -> Problem {
    let text = format!(
        "`{value}` is not an AWS Signer signing-profile ARN: write \
         arn:<partition>:signer:<region>:<account>:/signing-profiles/<name> (the name: letters, digits and \
         `_`), as ECR's signing configuration names it."
    );
    problem("signing-profile", "E-INPUT-SIGNING-PROFILE", text)
}

/// An input that takes one of a few words; `choices` as the README lists them.
pub fn not_one_of(input: &'static str, value: &str, choices: &str) -> Problem {
    let text = format!("`{value}` is not one of {choices}.");
    problem(input, "E-INPUT-CHOICE", text)
}

// Credentials.

/// `missing` is required because `given` is set.
pub fn key_without_its_pair(missing: &'static str, given: &str) -> Problem {
    let text = format!(
        "is required when `{given}` is set: pass both keys, or neither to use the AWS credential chain."
    );
    problem(missing, "E-INPUT-KEY-PAIR", text)
}

pub fn session_token_without_keys() -> Problem {
    let text = "is only used with `aws-access-key-id` and `aws-secret-access-key`: pass all \
                three, or none to use the AWS credential chain.";
    problem(
        "aws-session-token",
        "E-INPUT-SESSION-TOKEN-WITHOUT-KEYS",
        text,
    )
}

/// Neither a role ARN (in a partition the crate knows) nor a role name.
pub fn bad_role(role: &str) -> Problem {
    let text = if role.starts_with("arn:") {
        format!(
            "`{role}` is not an IAM role ARN such as `arn:aws:iam::123456789012:role/github-push`."
        )
    } else {
        format!(
            "`{role}` is neither a role ARN (`arn:aws:iam::123456789012:role/NAME`) nor a role name."
        )
    };
    problem("role-to-assume", "E-INPUT-ROLE", text)
}

pub fn bad_session_name(name: &str) -> Problem {
    let text = format!("`{name}` is not a session name: 2–64 letters, digits and `_+=,.@-`.");
    problem("role-session-name", "E-INPUT-ROLE-SESSION-NAME", text)
}

pub fn bad_duration(value: &str) -> Problem {
    let text =
        format!("`{value}` is not a session length: a whole number of seconds from 900 to 43200.");
    problem("role-duration-seconds", "E-INPUT-ROLE-DURATION", text)
}

pub fn external_id_without_role() -> Problem {
    let text = "is only used with `role-to-assume`: name the role that expects this external ID.";
    problem("role-external-id", "E-INPUT-EXTERNAL-ID-WITHOUT-ROLE", text)
}

pub fn bad_external_id() -> Problem {
    let text = "is not an external ID: 2–1224 letters, digits and `_+=,.@:/-`.";
    problem("role-external-id", "E-INPUT-EXTERNAL-ID", text)
}

pub fn token_file_without_role() -> Problem {
    let text = "is only used with `role-to-assume`: name the role to assume with this token.";
    problem(
        "web-identity-token-file",
        "E-INPUT-TOKEN-FILE-WITHOUT-ROLE",
        text,
    )
}

pub fn token_file_with_keys() -> Problem {
    let text =
        "cannot be used together with `aws-access-key-id`: choose one source of credentials.";
    problem(
        "web-identity-token-file",
        "E-INPUT-TOKEN-FILE-WITH-KEYS",
        text,
    )
}

pub fn role_name_with_web_identity(name: &str) -> Problem {
    let text = format!(
        "`{name}` must be a full role ARN (`arn:aws:iam::<account>:role/{name}`) with a web identity \
         token: there are no source credentials to take the account from."
    );
    problem(
        "role-to-assume",
        "E-INPUT-ROLE-NAME-WITH-WEB-IDENTITY",
        text,
    )
}

pub fn external_id_with_web_identity() -> Problem {
    let text = "is not used by AssumeRoleWithWebIdentity: remove it, or assume the role with keys.";
    problem(
        "role-external-id",
        "E-INPUT-EXTERNAL-ID-WITH-WEB-IDENTITY",
        text,
    )
}

/// A role, and neither keys nor a token nor another source of the AWS chain to assume it with.
pub fn no_credentials_for_role(role: &impl Display) -> Problem {
    let text = format!(
        "there are no credentials to assume `{role}` with: GitHub's OIDC token is not available to this job \
         (ACTIONS_ID_TOKEN_REQUEST_URL is not set).\nGive the job permission to request it:\n\
         \x20 permissions:\n\x20   id-token: write\n\x20   contents: read\n\
         or pass `aws-access-key-id` and `aws-secret-access-key`, or `web-identity-token-file`."
    );
    problem("role-to-assume", "E-INPUT-ROLE-WITHOUT-CREDENTIALS", text)
}

/// The same under act, which has no OIDC token to give, whatever the permissions say.
pub fn no_oidc_under_act(role: &impl Display) -> Problem {
    let text = format!(
        "there are no credentials to assume `{role}` with: this runner (act) offers no GitHub OIDC token, \
         so `permissions: id-token: write` cannot help here.\nRun it with keys instead, e.g. \
         `act -s AWS_ACCESS_KEY_ID -s AWS_SECRET_ACCESS_KEY` and `aws-access-key-id: ${{{{ \
         secrets.AWS_ACCESS_KEY_ID }}}}`, `aws-secret-access-key: ${{{{ secrets.AWS_SECRET_ACCESS_KEY }}}}` \
         (the role is then assumed with them), or `web-identity-token-file`."
    );
    problem(
        "role-to-assume",
        "E-INPUT-ROLE-WITHOUT-CREDENTIALS-UNDER-ACT",
        text,
    )
}

pub fn bad_audience(audience: &str) -> Problem {
    let control = if audience.chars().any(char::is_control) {
        ", with control characters"
    } else {
        ""
    };
    let text = format!(
        "is not an OIDC audience ({} characters{control}): use the client ID registered with the identity \
         provider, usually `sts.amazonaws.com` (at most 255 characters, no control characters).",
        audience.chars().count(),
    );
    problem("audience", "E-INPUT-AUDIENCE", text)
}

// Repository settings.

/// Exclusion filters with no mode, or with `mode`, which has no exceptions.
pub fn exclusions_unused(mode: Option<&str>) -> Problem {
    let text = match mode {
        None => "is only used with `image-tag-mutability: MUTABLE_WITH_EXCLUSION` or \
                 `IMMUTABLE_WITH_EXCLUSION`."
            .to_owned(),
        Some(mode) => format!("is only used with the `*_WITH_EXCLUSION` modes, not `{mode}`."),
    };
    problem(
        "image-tag-mutability-exclusion-filters",
        "E-INPUT-EXCLUSIONS-UNUSED",
        text,
    )
}

pub fn exclusions_required(mode: &str) -> Problem {
    let text = format!(
        "is required with `{mode}`: the wildcard filters of the tags that are the exception, e.g. \
         `latest, dev-*`."
    );
    problem(
        "image-tag-mutability-exclusion-filters",
        "E-INPUT-EXCLUSIONS-REQUIRED",
        text,
    )
}

pub fn bad_exclusion_filter(filter: &str) -> Problem {
    let text = format!(
        "`{filter}` is not a tag filter: up to 128 letters, digits, `.`, `_`, `-` and `*` wildcards."
    );
    problem(
        "image-tag-mutability-exclusion-filters",
        "E-INPUT-EXCLUSION-FILTER",
        text,
    )
}

pub fn kms_key_unused() -> Problem {
    let text =
        "is only used with `encryption-type: KMS` (or `KMS_DSSE`): set it, or remove `kms-key`.";
    problem("kms-key", "E-INPUT-KMS-KEY-UNUSED", text)
}

pub fn bad_kms_key(key: &str) -> Problem {
    let text = format!(
        "`{key}` is not a KMS key: use a key ID (`1234abcd-12ab-34cd-56ef-1234567890ab`), a key ARN \
         (`arn:aws:kms:REGION:ACCOUNT:key/ID`), an alias (`alias/NAME`) or an alias ARN."
    );
    problem("kms-key", "E-INPUT-KMS-KEY", text)
}

pub fn not_a_key_value_pair(pair: &str) -> Problem {
    let text = format!("`{pair}` is not a `Key=Value` pair.");
    problem("repository-tags", "E-INPUT-REPOSITORY-TAG-FORMAT", text)
}

pub fn bad_repository_tag(pair: &str) -> Problem {
    let text = format!(
        "`{pair}`: keys are 1–128 characters and may not start with `aws:`; values at most 256."
    );
    problem("repository-tags", "E-INPUT-REPOSITORY-TAG", text)
}

pub fn repository_tag_twice(key: &str) -> Problem {
    let text = format!("the key `{key}` is given twice.");
    problem("repository-tags", "E-INPUT-REPOSITORY-TAG-TWICE", text)
}

/// An ECR Public catalog input (`public-…`) given for a private registry.
pub fn catalog_without_public(input: &'static str) -> Problem {
    let text = "is only used with `registry-type: public`.";
    problem(input, "E-INPUT-CATALOG-WITHOUT-PUBLIC", text)
}

/// `create-repository: template` for ECR Public, which has no repository creation templates.
pub fn template_not_in_ecr_public() -> Problem {
    let text = "`template` (ECR creates the repository on push from a repository creation template) is only \
                for private ECR: ECR Public has no templates. Use `true` or `false`.";
    problem(
        "create-repository",
        "E-INPUT-TEMPLATE-NOT-IN-ECR-PUBLIC",
        text,
    )
}

/// A setting that private ECR has and ECR Public does not.
pub fn not_in_ecr_public(input: &'static str) -> Problem {
    let text = "is not supported by ECR Public: remove it, or use `registry-type: private`.";
    problem(input, "E-INPUT-NOT-IN-ECR-PUBLIC", text)
}

// Policies (`lifecycle-policy`, `repository-policy`): `source` is [`INLINE_JSON`] or the file's path.

pub const INLINE_JSON: &str = "inline JSON";

/// A policy longer than ECR accepts: `length` characters, or with `read_max` a file of `length`
/// bytes, more than is read at all.
pub fn policy_too_long(
    input: &'static str,
    source: &str,
    length: u64,
    read_max: Option<u64>,
    limit: usize,
) -> Problem {
    let length = match read_max {
        Some(max) => format!("{length} bytes, more than {max}"),
        None => length.to_string(),
    };
    let text = format!(
        "{source} is {length} characters long: ECR accepts at most {limit} (as compact JSON). Shorten it, \
         for example by merging statements."
    );
    problem(input, "E-INPUT-POLICY-TOO-LONG", text)
}

pub fn policy_not_json(input: &'static str, source: &str, e: &serde_json::Error) -> Problem {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    let text = format!(
        "{source} is not valid JSON: {what} at line {}, column {}.",
        e.line(),
        e.column()
    );
    problem(input, "E-INPUT-POLICY-JSON", text)
}

/// JSON, but not the document ECR takes; `fault` is one of the texts below.
pub fn policy_shape(input: &'static str, source: &str, fault: &str) -> Problem {
    problem(input, "E-INPUT-POLICY-SHAPE", format!("{source}: {fault}"))
}

pub fn lifecycle_rules_missing() -> String {
    "a lifecycle policy needs a non-empty `rules` array.".into()
}

pub fn statement_missing() -> String {
    "a repository policy needs a `Statement`.".into()
}

/// What a field of a lifecycle rule must be, e.g. [`WHOLE_NUMBER`] or [`quoted_choices`].
pub fn field_must_be(field: &str, what: &str) -> String {
    format!("{field} must be {what}.")
}

pub const WHOLE_NUMBER: &str = "a whole number of at least 1";

/// `"a", "b" or "c"`.
pub fn quoted_choices(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

pub fn priority_twice(field: &str, priority: u64) -> String {
    format!("{field}: priority {priority} is used twice.")
}

/// `path` is where the policy was looked for.
pub fn policy_unreadable(
    input: &'static str,
    path: &std::path::Path,
    e: &std::io::Error,
) -> Problem {
    let text = format!("cannot read {}: {e}", path.display());
    problem(input, "E-INPUT-POLICY-UNREADABLE", text)
}

pub fn workspace_unreadable(
    input: &'static str,
    workspace: &std::path::Path,
    e: &std::io::Error,
) -> Problem {
    let text = format!("the workspace {} is not readable: {e}", workspace.display());
    problem(input, "E-INPUT-WORKSPACE-UNREADABLE", text)
}

pub fn outside_workspace(
    input: &'static str,
    path: &std::path::Path,
    root: &std::path::Path,
) -> Problem {
    let text = format!(
        "{} is outside the workspace {}: policies are read from the repository's checkout only.",
        path.display(),
        root.display()
    );
    problem(input, "E-INPUT-POLICY-OUTSIDE-WORKSPACE", text)
}

/// A repository policy that lets every AWS account in (a warning: the policy is valid).
pub fn public_repository_policy(statements: &[String], repository: &impl Display) -> String {
    format!(
        "Input `repository-policy`: statement {} allows `Principal: \"*\"` — every AWS account (and, for pulls, \
         anyone) may use {repository} as the statement's actions allow, unless a `Condition` narrows it. Name the \
         accounts or roles instead, or add a condition such as `aws:PrincipalOrgID`.",
        statements.join(", "),
    )
}

// Where requests that carry secrets go.

/// Why a `DOCKER_HOST` is malformed, for [`malformed_docker_host`].
pub const DOCKER_HOST_CHARACTERS: &str = "it contains whitespace or control characters";
pub const DOCKER_HOST_UNIX_PATH: &str =
    "a unix socket needs an absolute path, as in unix:///var/run/docker.sock";
pub const DOCKER_HOST_SCHEME: &str = "only the unix:// and tcp:// schemes are supported";
pub const DOCKER_HOST_NOT_A_HOST: &str = "the host name is missing or not a host name";
pub const DOCKER_HOST_PORT: &str = "the port is not a number from 1 to 65535";

pub fn malformed_docker_host(address: &str, why: &str) -> Problem {
    let text = format!(
        "`{address}` is not a Docker daemon address: {why}. Use `unix:///var/run/docker.sock` (or leave it \
         empty for that default), or `tcp://HOST:PORT`."
    );
    problem("DOCKER_HOST", "E-INPUT-DOCKER-HOST", text)
}

pub fn remote_docker_without_tls(address: &str) -> Problem {
    let text = format!(
        "`{address}` is a daemon on another machine without TLS: the registry password would cross the \
         network in clear text (Docker sends it in the X-Registry-Auth header). Set DOCKER_TLS_VERIFY=1 and \
         DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use the runner's own daemon."
    );
    problem("DOCKER_HOST", "E-INPUT-DOCKER-HOST-WITHOUT-TLS", text)
}

pub fn docker_cert_path_needed() -> Problem {
    let text = "is needed with DOCKER_TLS_VERIFY (there is no home directory to find ~/.docker \
                in): point it at the directory holding ca.pem, cert.pem and key.pem.";
    problem(
        "DOCKER_CERT_PATH",
        "E-INPUT-DOCKER-CERT-PATH-REQUIRED",
        text,
    )
}

pub fn docker_cert_missing(cert_path: &std::path::Path, missing: &str) -> Problem {
    let text = format!(
        "{} has no {missing}: a TLS connection to the Docker daemon needs ca.pem (the daemon's CA), \
         cert.pem and key.pem (this client's certificate and key) there.",
        cert_path.display()
    );
    problem("DOCKER_CERT_PATH", "E-INPUT-DOCKER-CERT-MISSING", text)
}

/// What requests to an AWS endpoint carry, for [`plain_http`].
pub const AWS_ENDPOINT_CARRIES: &str =
    "signed AWS requests and the credentials and registry password in their answers";
/// What a request to GitHub's token endpoint carries.
pub const TOKEN_REQUEST_CARRIES: &str = "the job's token-request bearer token";

/// `name` is the environment variable; `carries` what the requests to it carry.
pub fn plain_http(name: &'static str, url: &str, carries: &str) -> Problem {
    let text = format!(
        "`{url}` is plain http: {carries} would cross the network in clear text. Use https:// (plain http is \
         only accepted on this machine's loopback)."
    );
    problem(name, "E-INPUT-PLAIN-HTTP", text)
}

/// Not a URL at all, or one of another scheme than https and http.
pub fn not_an_https_url(name: &'static str, url: &str) -> Problem {
    let text = if url.contains("://") {
        format!("`{url}` is not an https:// URL.")
    } else {
        format!("`{url}` is not a URL (https://…).")
    };
    problem(name, "E-INPUT-URL", text)
}

// Where the images go.

pub fn destinations_with_public() -> Problem {
    let text = "lists private registries, so it cannot be combined with `registry-type: \
                public`: push to ECR Public in a step of its own.";
    problem("destinations", "E-INPUT-DESTINATIONS-WITH-PUBLIC", text)
}

pub fn duplicate_destination(item: &str, target: &impl Display) -> Problem {
    let text = format!("`{item}` is listed twice (both name {target}): list each registry once.");
    problem("destinations", "E-INPUT-DESTINATION-TWICE", text)
}

pub fn public_destination(item: &str) -> Problem {
    let text = format!(
        "`{item}` is ECR Public, which `destinations` does not take: push there in a step of its \
         own with `registry-type: public`."
    );
    problem("destinations", "E-INPUT-DESTINATION-PUBLIC", text)
}

pub fn not_an_ecr_host(item: &str) -> Problem {
    let text = format!(
        "`{item}` is not an Amazon ECR registry host: name a region (`eu-west-1`) or a private \
         registry host such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`."
    );
    problem("destinations", "E-INPUT-DESTINATION-HOST", text)
}

pub fn undocumented_registry_host(item: &str, form: &str, where_documented: &str) -> Problem {
    let text =
        format!("`{item}` is a {form} host AWS documents for no registry: {where_documented}");
    problem("destinations", "E-INPUT-DESTINATION-FORM", text)
}

pub fn not_a_destination(item: &str) -> Problem {
    let text = format!(
        "`{item}` is neither an AWS region (`eu-west-1`) nor a private registry host \
         (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`)."
    );
    problem("destinations", "E-INPUT-DESTINATION", text)
}

pub fn foreign_tag_references(references: &[String], repository: &str) -> Problem {
    let listed: Vec<String> = references.iter().map(|r| format!("`{r}`")).collect();
    let text = format!(
        "{} name another registry or repository than `{repository}` in this step's registries: give \
         plain tags, or full references to this repository only (e.g. filter docker/metadata-action's \
         `images` to it).",
        listed.join(", ")
    );
    problem("tags", "E-INPUT-TAG-REFERENCE", text)
}

// Assembling an index.

pub fn bad_assemble_reference(item: &str) -> Problem {
    let text = format!(
        "`{item}` is neither a tag nor a `sha256:` digest (64 hex digits) of an image in the repository."
    );
    problem("assemble", "E-INPUT-ASSEMBLE-REFERENCE", text)
}

pub fn assemble_reference_twice(item: &str) -> Problem {
    let text = format!("`{item}` is listed twice: list each image once.");
    problem("assemble", "E-INPUT-ASSEMBLE-TWICE", text)
}

pub fn assemble_with_local_image() -> Problem {
    let text = "must be empty with `assemble`: the index is made from images already in the \
                repository, not from a local image.";
    problem("local-image", "E-INPUT-ASSEMBLE-WITH-LOCAL-IMAGE", text)
}

pub fn assemble_needs_tags() -> Problem {
    let text = "is required with `assemble`: name the tags the index is written under, e.g. \
                `1.2.3, latest`.";
    problem("tags", "E-INPUT-ASSEMBLE-TAGS-REQUIRED", text)
}

pub fn assemble_with_platform() -> Problem {
    let text =
        "must be empty with `assemble`: the index holds every platform of the images it names.";
    problem("platform", "E-INPUT-ASSEMBLE-WITH-PLATFORM", text)
}

pub fn assemble_public() -> Problem {
    let text = "works on private ECR registries: assemble for ECR Public is not supported yet.";
    problem("assemble", "E-INPUT-ASSEMBLE-PUBLIC", text)
}

// Whole lines, each with its code.

/// `Input `name`: …`; the few environment variables checked here are upper case.
pub fn described(problem: Problem) -> Diagnostic {
    let Problem { input, code, text } = problem;
    let kind = if input.bytes().any(|b| b.is_ascii_lowercase()) {
        "Input"
    } else {
        "Environment variable"
    };
    Diagnostic::new(code, format!("{kind} `{input}`: {text}"))
}

pub fn inputs_unreadable(e: &impl Display) -> Diagnostic {
    Diagnostic::new(
        "E-INPUT-UNREADABLE",
        format!("cannot read the action's inputs: {e}"),
    )
}

/// `variable` is an `INPUT_*` variable or another one the action reads.
pub fn not_utf8(variable: &str) -> Diagnostic {
    let text = match variable.strip_prefix("INPUT_") {
        Some(input) => format!(
            "Input `{}`: its value is not valid UTF-8 text; pass it as UTF-8.",
            input.to_lowercase()
        ),
        None => format!("Environment variable `{variable}`: its value is not valid UTF-8 text."),
    };
    Diagnostic::new("E-INPUT-NOT-UTF8", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_quoted_and_joined() {
        assert_eq!(quoted_choices(&["a", "b", "c"]), r#""a", "b" or "c""#);
        assert_eq!(quoted_choices(&["a"]), r#""a""#);
    }
}
