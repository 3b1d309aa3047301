//! What the registry step tells the user, each text written once as a named constructor, so that the
//! logic in the other registry modules reads on one screen; each problem with its stable code. Texts
//! that differ between private ECR and ECR Public take the [`RegistryType`].

use anyhow::Error;

use super::plan::Refusal;
use crate::diagnostic::{self, error};
use crate::inputs::{Encryption, RegistryType, Settings};

/// Names the registry in messages: `your account's registry` or `registry <id>`.
pub fn registry(registry_id: Option<&str>) -> String {
    registry_id.map_or_else(
        || "your account's registry".to_owned(),
        |id| format!("registry {id}"),
    )
}

pub fn exists(
    kind: RegistryType,
    name: &str,
    registry_id: Option<&str>,
    uri: Option<&str>,
) -> String {
    match kind {
        RegistryType::Private => format!("Repository {name} exists in {}", registry(registry_id)),
        RegistryType::Public => format!(
            "Public repository {name} exists: {}",
            uri.unwrap_or_default()
        ),
    }
}

pub fn missing(kind: RegistryType, name: &str, registry_id: Option<&str>) -> Error {
    let text = match kind {
        RegistryType::Private => format!(
            "ECR repository `{name}` does not exist in {}, and `create-repository` is false.\n\
             Create it first (aws ecr create-repository --repository-name {name}), or set `create-repository: true`.",
            registry(registry_id)
        ),
        RegistryType::Public => format!(
            "ECR Public repository `{name}` does not exist, and `create-repository` is false.\nCreate it first \
             (aws ecr-public create-repository --region us-east-1 --repository-name {name}), or set `create-repository: true`."
        ),
    };
    error("E-REPOSITORY-MISSING", text)
}

/// `DescribeRepositories` failed for another reason than a refusal (private ECR).
pub fn describe_failed(name: &str, why: &str) -> Error {
    error(
        "E-REPOSITORY-DESCRIBE",
        format!("ecr:DescribeRepositories for `{name}` failed: {why}"),
    )
}

/// With `create-repository: false` the least-privilege policy leaves `DescribeRepositories` out.
pub fn not_checking(name: &str) -> String {
    format!("Not checking that {name} exists (ecr:DescribeRepositories is not allowed); pushing")
}

pub fn created(
    kind: RegistryType,
    name: &str,
    registry_id: Option<&str>,
    uri: Option<&str>,
) -> String {
    match kind {
        RegistryType::Private => format!("Created repository {name} in {}", registry(registry_id)),
        RegistryType::Public => format!("Created public repository {}", uri.unwrap_or(name)),
    }
}

pub fn created_concurrently(kind: RegistryType, name: &str) -> String {
    format!(
        "{} {name} was created concurrently by another job; using it",
        kind.repository_noun()
    )
}

/// A warning: the repository could not be described (`doctor` says why), and `outcome` says what
/// creating it showed.
pub fn registry_scanning_overrides(name: &str, scan_type: &str, rules: usize) -> String {
    format!(
        "`scan-on-push` sets repository {name}'s scanOnPush, but the registry's scanning configuration \
         ({scan_type} scanning, {rules} registry rule(s)) decides what is scanned, so it does nothing: set \
         scanning for the registry with PutRegistryScanningConfiguration (its rules' repository filters), \
         or remove `scan-on-push`"
    )
}

pub fn registry_scanning_unchecked(why: &str) -> String {
    format!(
        "Could not read the registry's scanning configuration (ecr:GetRegistryScanningConfiguration: {}), \
         so whether `scan-on-push` takes effect is not checked",
        why.lines().next().unwrap_or_default()
    )
}

pub fn cannot_check(doctor: &str, outcome: &str) -> String {
    format!(
        "Cannot check that the repository exists: {}; continuing. {outcome}",
        doctor.lines().next().unwrap_or_default()
    )
}

pub fn created_on_push(name: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => format!(
            "Repository {name} does not exist: ECR creates it on push from the repository creation template \
             `{prefix}` (CREATE_ON_PUSH), with that template's settings"
        ),
        None => format!(
            "Repository {name} does not exist: ECR is to create it on push (`create-repository: template`); \
             the repository creation templates could not be read to check that one covers it"
        ),
    }
}

pub fn templates_unreadable(why: &str) -> String {
    format!(
        "Could not read the registry's repository creation templates \
         (ecr:DescribeRepositoryCreationTemplates: {})",
        why.lines().next().unwrap_or_default()
    )
}

pub fn template_contradicted(input: &str, asked: &str, prefix: &str, given: &str) -> String {
    format!(
        "`{input}: {asked}` contradicts the repository creation template `{prefix}`, which gives {given}: \
         ECR creates the repository with the template's setting; a later run reconciles `{input}` when the \
         repository exists"
    )
}

pub fn no_template(name: &str, registry_id: Option<&str>) -> Error {
    error(
        "E-REPOSITORY-NO-TEMPLATE",
        format!(
            "ECR repository `{name}` does not exist in {}, `create-repository` is `template`, and no \
             repository creation template for CREATE_ON_PUSH covers it (none with a prefix of its name, \
             no ROOT).\nEither add one (aws ecr create-repository-creation-template --prefix <prefix> \
             --applied-for CREATE_ON_PUSH), or grant ecr:CreateRepository and set `create-repository: true`.",
            registry(registry_id)
        ),
    )
}

pub fn create_denied(name: &str, registry_id: Option<&str>, doctor: &str) -> Error {
    error(
        "E-REPOSITORY-CREATE-DENIED",
        format!(
            "ecr:CreateRepository for `{name}` in {} was denied.\n{doctor}\nOr let ECR create it on push: \
             add a repository creation template for CREATE_ON_PUSH that covers it, and set \
             `create-repository: template`.",
            registry(registry_id)
        ),
    )
}

pub fn create_failed(name: &str, registry_id: Option<&str>, cause: &str) -> Error {
    error(
        "E-REPOSITORY-CREATE",
        format!(
            "ecr:CreateRepository for `{name}` in {} failed: {cause}",
            registry(registry_id)
        ),
    )
}

/// The SDK would not build a setting as given (`what` names it: `tag team`, `encryption settings`).
pub fn setting_unbuildable(what: &str, why: &dyn std::fmt::Display) -> Error {
    error("E-SETTINGS-BUILD", format!("{what}: {why}"))
}

pub fn same_registry_twice(host: &str) -> Error {
    error(
        "E-REGISTRY-TWICE",
        format!(
            "Input `destinations` names the registry {host} twice (a region and a host can be the same registry): \
             list each registry once. Nothing was changed."
        ),
    )
}

pub fn tags_name_another_registry(named: &[&str], logged_in: &[&str]) -> Error {
    error(
        "E-TAG-OTHER-REGISTRY",
        format!(
            "Input `tags` names {}, which is not a registry this step pushes to ({}): give plain tags, or full \
             references to this step's registries only. Nothing was changed.",
            named.join(", "),
            logged_in.join(", ")
        ),
    )
}

pub fn settings_unreadable(name: &str) -> Error {
    error(
        "E-SETTINGS-UNREADABLE",
        format!(
            "Repository settings were given, but repository {name} could not be read (ecr:DescribeRepositories is not \
             allowed), so they cannot be compared or applied. Allow ecr:DescribeRepositories, or remove the settings inputs."
        ),
    )
}

pub fn public_login_denied(doctor: &str) -> Error {
    error(
        "E-LOGIN-PUBLIC-DENIED",
        format!(
            "ecr-public:GetAuthorizationToken was denied.\n{doctor}\nECR Public's token also needs \
             sts:GetServiceBearerToken on \"*\": allow both."
        ),
    )
}

pub fn public_login_failed(why: &str) -> Error {
    error(
        "E-LOGIN-PUBLIC",
        format!("ecr-public:GetAuthorizationToken failed: {why}"),
    )
}

pub fn public_without_uri(name: &str) -> Error {
    error(
        "E-REPOSITORY-PUBLIC-NO-URI",
        format!("ECR Public returned repository {name} without its URI"),
    )
}

pub fn public_created_undescribed(name: &str) -> Error {
    error(
        "E-REPOSITORY-PUBLIC-UNDESCRIBED",
        format!("ECR Public created {name} but did not describe it"),
    )
}

pub fn public_vanished(name: &str) -> Error {
    error(
        "E-REPOSITORY-PUBLIC-VANISHED",
        format!("ECR Public repository {name} was reported as existing but cannot be found"),
    )
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
    kind: RegistryType,
    name: &str,
    changes: &[Change],
    created: bool,
    settings: &Settings,
) -> Vec<String> {
    let noun = kind.repository_noun();
    let mut lines = Vec::new();
    for change in changes {
        match (change, kind) {
            (Change::Tags(tags), RegistryType::Private) => {
                lines.extend(
                    tags.iter()
                        .map(|(k, v)| format!("{noun} {name}: tag {k}={v}")),
                );
            }
            (Change::Tags(tags), RegistryType::Public) => {
                let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                lines.push(format!("{noun} {name}: tags {}", tags.join(", ")));
            }
            (Change::Setting(what), _) => lines.push(format!("{noun} {name}: {what}")),
        }
    }
    if kind == RegistryType::Private && changes.is_empty() && !created && !settings.is_empty() {
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

// Managed signing.

/// The registry's signing configuration names the profiles that sign this repository's pushes.
pub fn signing_from_registry(repository: &str, profiles: &[String]) -> String {
    format!(
        "ECR signs pushes to {repository} with {} (the registry's signing configuration)",
        profiles.join(", ")
    )
}

/// The registry's signing configuration could not be read (`why`): `signing-profile` stands in.
pub fn signing_from_inputs(repository: &str, why: &str, profiles: &[String]) -> String {
    let why = why.lines().next().unwrap_or_default();
    format!(
        "The registry's signing configuration could not be read ({why}); pushes to {repository} are \
         taken to be signed with {} (input `signing-profile`)",
        profiles.join(", ")
    )
}

/// `GetSigningConfiguration` answered for the caller's registry, not `registry-id`'s.
pub fn signing_configuration_of_caller() -> String {
    "ecr:GetSigningConfiguration reads only the caller's own registry, and `registry-id` names another".to_owned()
}

pub fn signed(repository: &str, digest: &str, profiles: &[String]) -> String {
    format!(
        "ECR signed {repository}@{digest} with {}",
        profiles.join(", ")
    )
}

/// One profile's failed signature, as ECR reported it, with the doctor's explanation.
pub struct SigningFailure {
    pub profile: String,
    pub code: String,
    pub reason: String,
    pub doctor: String,
}

/// ECR reported signing `FAILED` for the pushed image.
pub fn signing_failed(image: &str, failed: &[SigningFailure]) -> Error {
    let each: Vec<String> = failed
        .iter()
        .map(|f| {
            format!(
                "with {}: failureCode {}: {}\n{}",
                f.profile,
                if f.code.is_empty() { "(none)" } else { &f.code },
                f.reason,
                f.doctor
            )
        })
        .collect();
    error(
        "E-SIGNING-FAILED",
        format!(
            "ECR could not sign {image} (the image was pushed). ECR's managed signing signs with the pusher's \
             identity, which needs signer:SignPayload on the signing profile.\n{}",
            each.join("\n")
        ),
    )
}

/// No signing status appeared for the pushed image.
pub fn signing_not_started(
    repository: &str,
    digest: &str,
    profiles: &[String],
    seconds: u64,
) -> Error {
    error(
        "E-SIGNING-NOT-STARTED",
        format!(
            "ECR reported no signing status for {repository}@{digest} within {seconds} s, although {} should \
             sign it. Check the registry's signing configuration (`aws ecr get-signing-configuration`) and \
             input `signing-profile`; `require-signature: false` makes this a warning.",
            profiles.join(", ")
        ),
    )
}

/// `require-signature: false`: what would have failed the run.
pub fn signature_not_required(problem: &str) -> String {
    format!("{problem}\n(`require-signature` is false: the run goes on.)")
}

pub fn digest_malformed(registry: &str, tag: &str, digest: &str) -> Error {
    error(
        "E-TAG-DIGEST-MALFORMED",
        format!(
            "{registry}'s DescribeImages says tag {tag} holds `{digest}`, which is not a `sha256:` digest (64 \
             lower-case hex digits); it would reach the `digest` output. Nothing was pushed to this repository."
        ),
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

pub fn tag_archived(tag: &str, digest: &str) -> String {
    format!(
        "Tag {tag} holds an archived image ({digest}): ECR cannot serve it, so it counts as absent and is \
         pushed again (a push of the same image restores it)"
    )
}

pub fn tag_there(tag: &str, digest: &str) -> String {
    format!(
        "Tag {tag} holds this image already ({digest}): nothing to push, as `if-tag-exists: match` asks"
    )
}

/// The problems of an existing tag that stop the run before anything is pushed: in every
/// destination, since the registries would otherwise end up holding different images under one tag.
const TAG_IMMUTABLE: &str = "E-TAG-IMMUTABLE";
const TAG_EXISTS: &str = "E-TAG-EXISTS";
const TAG_DIFFERS: &str = "E-TAG-DIFFERS";
const TAG_ARCHIVED: &str = "E-TAG-ARCHIVED";

/// Whether `err` is an existing tag's refusal ([`tag_refused`]), which stops every destination.
pub fn refuses_tag(err: &Error) -> bool {
    diagnostic::codes(err)
        .iter()
        .any(|code| [TAG_IMMUTABLE, TAG_EXISTS, TAG_DIFFERS, TAG_ARCHIVED].contains(code))
}

/// Why an existing tag stops the run; `ours` says what this run would push (for `match`).
pub fn tag_refused(
    kind: RegistryType,
    tag: &str,
    repository_uri: &str,
    refusal: &Refusal,
    ours: &str,
) -> Error {
    let place = match kind {
        RegistryType::Private => "repository",
        RegistryType::Public => "public repository",
    };
    match refusal {
        Refusal::Immutable(digest) => error(
            TAG_IMMUTABLE,
            format!(
                "Tag `{tag}` already exists in repository {repository_uri} (digest {digest}), and the repository \
                 is immutable: ECR will not overwrite it.\nPush under a new tag, set `if-tag-exists: match` (a \
                 re-run with this same image then succeeds) or `skip`, or exclude such tags from immutability \
                 (`image-tag-mutability: IMMUTABLE_WITH_EXCLUSION`)."
            ),
        ),
        Refusal::Exists(digest) => error(
            TAG_EXISTS,
            format!(
                "Tag `{tag}` already exists in {place} {repository_uri} (digest {digest}), and `if-tag-exists` \
                 is `fail`.\nPush under a new tag, or set `if-tag-exists: match`, `skip` or `overwrite`."
            ),
        ),
        Refusal::Archived(digest) => error(
            TAG_ARCHIVED,
            format!(
                "Tag `{tag}` exists in {place} {repository_uri} (digest {digest}), but ECR has archived its image \
                 (image status ARCHIVED: it cannot be pulled), and `if-tag-exists` is `fail`.\nPush under a new \
                 tag; or set `if-tag-exists: match` or `skip`, which push it again and so restore it; or restore it \
                 with UpdateImageStorageClass (target storage class STANDARD)."
            ),
        ),
        Refusal::Differs(digest) => error(
            TAG_DIFFERS,
            format!(
                "Tag `{tag}` in {place} {repository_uri} holds {digest}, not the image this run pushes ({ours}); \
                 `if-tag-exists: match` leaves it and pushes nothing.\nPush under a new tag; if the image should \
                 be the same, make the build reproducible (e.g. `SOURCE_DATE_EPOCH`) or push the image that was \
                 built first."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An existing tag's refusal stops every destination, whatever context it reached the top in;
    /// another destination's problem does not.
    #[test]
    fn only_an_existing_tags_refusal_stops_every_destination() {
        let held = || "sha256:1".to_owned();
        for (refusal, problem) in [
            (Refusal::Exists(held()), "E-TAG-EXISTS"),
            (Refusal::Immutable(held()), "E-TAG-IMMUTABLE"),
            (Refusal::Differs(held()), "E-TAG-DIFFERS"),
        ] {
            let refused = tag_refused(
                RegistryType::Public,
                "v1",
                "public.ecr.aws/a/app",
                &refusal,
                "x",
            )
            .context("preparing a destination");
            assert_eq!(diagnostic::codes(&refused), [problem]);
            assert!(refuses_tag(&refused));
        }
        assert!(!refuses_tag(&missing(RegistryType::Private, "app", None)));
    }

    /// `mod.rs` raises a malformed digest as `anyhow!(digest_malformed(…))`: an error given to
    /// `anyhow!` is that error, its code kept.
    #[test]
    fn a_malformed_digest_keeps_its_code_through_anyhow() {
        let raised = anyhow::anyhow!(digest_malformed("Amazon ECR", "v1", "md5:x"));
        assert_eq!(diagnostic::codes(&raised), ["E-TAG-DIGEST-MALFORMED"]);
    }
}
