//! What the registry step tells the user, each text written once as a named constructor, so that the
//! logic in the other registry modules reads on one screen. Texts that differ between private ECR and
//! ECR Public take the [`Kind`].

use anyhow::{Error, anyhow};

use super::Kind;
use super::plan::Refusal;
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

/// Why an existing tag stops the run.
pub fn tag_refused(kind: Kind, tag: &str, repository: &str, refusal: &Refusal) -> Error {
    let place = match kind {
        Kind::Private => "repository",
        Kind::Public => "public repository",
    };
    match refusal {
        Refusal::Immutable(digest) => anyhow!(
            "Tag `{tag}` already exists in repository {repository} (digest {digest}), and the repository is immutable: \
             ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: skip`, or exclude such tags from \
             immutability (`image-tag-mutability: IMMUTABLE_WITH_EXCLUSION`)."
        ),
        Refusal::Exists(digest) => anyhow!(
            "Tag `{tag}` already exists in {place} {repository} (digest {digest}), and `if-tag-exists` is `fail`.\n\
             Push under a new tag, or set `if-tag-exists: skip` or `overwrite`."
        ),
    }
}
