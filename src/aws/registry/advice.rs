//! What the registry step tells the user, each text written once as a named constructor, so that the
//! logic in the other registry modules reads on one screen. Texts that differ between private ECR and
//! ECR Public take the [`Kind`].

use anyhow::{Error, anyhow};

use super::plan::Refusal;
use super::repository::Kind;
use crate::inputs::{Encryption, Settings};

/// Names the registry in messages: `your account's registry` or `registry <id>`.
pub fn registry(registry_id: Option<&str>) -> String {
    registry_id.map_or_else(
        || "your account's registry".to_owned(),
        |id| format!("registry {id}"),
    )
}

pub fn exists(kind: Kind, name: &str, registry_id: Option<&str>, uri: Option<&str>) -> String {
    match kind {
        Kind::Private => format!("Repository {name} exists in {}", registry(registry_id)),
        Kind::Public => format!(
            "Public repository {name} exists: {}",
            uri.unwrap_or_default()
        ),
    }
}

pub fn missing(kind: Kind, name: &str, registry_id: Option<&str>) -> Error {
    match kind {
        Kind::Private => anyhow!(
            "ECR repository `{name}` does not exist in {}, and `create-repository` is false.\n\
             Create it first (aws ecr create-repository --repository-name {name}), or set `create-repository: true`.",
            registry(registry_id)
        ),
        Kind::Public => anyhow!(
            "ECR Public repository `{name}` does not exist, and `create-repository` is false.\nCreate it first \
             (aws ecr-public create-repository --region us-east-1 --repository-name {name}), or set `create-repository: true`."
        ),
    }
}

/// With `create-repository: false` the least-privilege policy leaves `DescribeRepositories` out.
pub fn not_checking(name: &str) -> String {
    format!("Not checking that {name} exists (ecr:DescribeRepositories is not allowed); pushing")
}

pub fn created(kind: Kind, name: &str, registry_id: Option<&str>, uri: Option<&str>) -> String {
    match kind {
        Kind::Private => format!("Created repository {name} in {}", registry(registry_id)),
        Kind::Public => format!("Created public repository {}", uri.unwrap_or(name)),
    }
}

pub fn created_concurrently(kind: Kind, name: &str) -> String {
    format!(
        "{} {name} was created concurrently by another job; using it",
        kind.repository_noun()
    )
}

/// A warning: the repository could not be described (`doctor` says why), and `outcome` says what
/// creating it showed.
pub fn cannot_check(doctor: &str, outcome: &str) -> String {
    format!(
        "Cannot check that the repository exists: {}; continuing. {outcome}",
        doctor.lines().next().unwrap_or_default()
    )
}

pub fn create_denied(name: &str, registry_id: Option<&str>, doctor: &str) -> Error {
    anyhow!(
        "ecr:CreateRepository for `{name}` in {} was denied.\n{doctor}",
        registry(registry_id)
    )
}

pub fn create_failed(name: &str, registry_id: Option<&str>, cause: &str) -> Error {
    anyhow!(
        "ecr:CreateRepository for `{name}` in {} failed: {cause}",
        registry(registry_id)
    )
}

pub fn same_registry_twice(host: &str) -> Error {
    anyhow!(
        "Input `destinations` names the registry {host} twice (a region and a host can be the same registry): \
         list each registry once. Nothing was changed."
    )
}

pub fn tags_name_another_registry(named: &[&str], logged_in: &[&str]) -> Error {
    anyhow!(
        "Input `tags` names {}, which is not a registry this step pushes to ({}): give plain tags, or full \
         references to this step's registries only. Nothing was changed.",
        named.join(", "),
        logged_in.join(", ")
    )
}

pub fn settings_unreadable(name: &str) -> Error {
    anyhow!(
        "Repository settings were given, but repository {name} could not be read (ecr:DescribeRepositories is not \
         allowed), so they cannot be compared or applied. Allow ecr:DescribeRepositories, or remove the settings inputs."
    )
}

pub fn public_login_denied(doctor: &str) -> Error {
    anyhow!(
        "ecr-public:GetAuthorizationToken was denied.\n{doctor}\nECR Public's token also needs \
         sts:GetServiceBearerToken on \"*\": allow both."
    )
}

pub fn public_without_uri(name: &str) -> Error {
    anyhow!("ECR Public returned repository {name} without its URI")
}

pub fn public_created_undescribed(name: &str) -> Error {
    anyhow!("ECR Public created {name} but did not describe it")
}

pub fn public_vanished(name: &str) -> Error {
    anyhow!("ECR Public repository {name} was reported as existing but cannot be found")
}

/// ECR sets encryption only at creation: a difference can only be reported.
pub fn encryption_differs(
    name: &str,
    kind: &str,
    key: Option<&str>,
    wanted: &Encryption,
) -> String {
    let key_text = |key: Option<&str>| key.map(|k| format!(" ({k})")).unwrap_or_default();
    format!(
        "Repository {name} is encrypted with {kind}{}, not {}{}: ECR sets encryption only when a repository is \
         created, so this run cannot change it. Re-create the repository to change it.",
        key_text(key),
        wanted.kind,
        key_text(wanted.kms_key.as_deref()),
    )
}

/// What reconciling changed, one line each (ECR Public lists its tags on one line).
pub fn changes(
    kind: Kind,
    name: &str,
    changes: &[Change],
    created: bool,
    settings: &Settings,
) -> Vec<String> {
    let noun = kind.repository_noun();
    let mut lines = Vec::new();
    for change in changes {
        match (change, kind) {
            (Change::Tags(tags), Kind::Private) => {
                lines.extend(
                    tags.iter()
                        .map(|(k, v)| format!("{noun} {name}: tag {k}={v}")),
                );
            }
            (Change::Tags(tags), Kind::Public) => {
                let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                lines.push(format!("{noun} {name}: tags {}", tags.join(", ")));
            }
            (Change::Setting(what), _) => lines.push(format!("{noun} {name}: {what}")),
        }
    }
    if kind == Kind::Private && changes.is_empty() && !created && !settings.is_empty() {
        lines.push(format!("{noun} {name}: settings already as wanted"));
    }
    lines
}

/// One change made while reconciling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Repository tags added or updated.
    Tags(Vec<(String, String)>),
    /// Any other setting, as the user reads it: `scan on push: false → true`.
    Setting(String),
}

impl Change {
    pub fn policy(what: &str, source: &str) -> Change {
        Change::Setting(format!("{what} set from {source}"))
    }

    pub fn from_to(what: &str, from: impl std::fmt::Display, to: impl std::fmt::Display) -> Change {
        Change::Setting(format!("{what}: {from} → {to}"))
    }
}

pub fn digest_malformed(registry: &str, tag: &str, digest: &str) -> String {
    format!(
        "{registry}'s DescribeImages says tag {tag} holds `{digest}`, which is not a `sha256:` digest (64 \
         lower-case hex digits); it would reach the `digest` output. Nothing was pushed to this repository."
    )
}

/// A warning: an immutable repository's tag could not be looked up, so the push goes ahead.
pub fn tag_unchecked(tag: &str, repository: &str, doctor: &str) -> String {
    format!(
        "Cannot check whether tag {tag} exists in the immutable repository {repository}: {}; pushing anyway.",
        doctor.lines().next().unwrap_or_default()
    )
}

pub fn tag_skipped(tag: &str, digest: &str) -> String {
    format!("Tag {tag} exists already ({digest}): skipped, as `if-tag-exists: skip` asks")
}

pub fn tag_there(tag: &str, digest: &str) -> String {
    format!(
        "Tag {tag} holds this image already ({digest}): nothing to push, as `if-tag-exists: match` asks"
    )
}

/// An existing tag stopped the run before anything was pushed: in every destination, since the
/// registries would otherwise end up holding different images under one tag.
#[derive(Debug)]
pub struct TagRefused(pub String);

impl std::fmt::Display for TagRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TagRefused {}

/// Why an existing tag stops the run; `ours` says what this run would push (for `match`).
pub fn tag_refused(
    kind: Kind,
    tag: &str,
    repository_uri: &str,
    refusal: &Refusal,
    ours: &str,
) -> Error {
    let place = match kind {
        Kind::Private => "repository",
        Kind::Public => "public repository",
    };
    let text = match refusal {
        Refusal::Immutable(digest) => format!(
            "Tag `{tag}` already exists in repository {repository_uri} (digest {digest}), and the repository is \
             immutable: ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: match` (a re-run \
             with this same image then succeeds) or `skip`, or exclude such tags from immutability \
             (`image-tag-mutability: IMMUTABLE_WITH_EXCLUSION`)."
        ),
        Refusal::Exists(digest) => format!(
            "Tag `{tag}` already exists in {place} {repository_uri} (digest {digest}), and `if-tag-exists` is \
             `fail`.\nPush under a new tag, or set `if-tag-exists: match`, `skip` or `overwrite`."
        ),
        Refusal::Differs(digest) => format!(
            "Tag `{tag}` in {place} {repository_uri} holds {digest}, not the image this run pushes ({ours}); \
             `if-tag-exists: match` leaves it and pushes nothing.\nPush under a new tag; if the image should be \
             the same, make the build reproducible (e.g. `SOURCE_DATE_EPOCH`) or push the image that was built \
             first."
        ),
    };
    Error::new(TagRefused(text))
}
