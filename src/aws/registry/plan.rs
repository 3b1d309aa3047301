//! The pure half of preparing a repository, shared by private ECR and ECR Public: which tags to push
//! given the digests they already hold and `if-tag-exists`, and which settings differ from what is
//! wanted, and how to tell that a tag holds this image ([`Identity`]). No AWS call here: the registry modules ask AWS, this decides, so it is tested without AWS.

use serde_json::Value;

use super::repository::Described;
use crate::inputs::{Document, Encryption, IfTagExists, Settings, Tag, TagMutability};

/// How to tell, before pushing, whether a registry's tag holds this image (`if-tag-exists: match`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The digest a push makes, where the image store knows it ahead: the containerd store keeps the
    /// index (or the chosen platform's manifest) that it pushes as it is.
    pub digest: Option<String>,
    /// The classic store compresses layers as it pushes, so the manifest digest is known only after
    /// a push; the image ID is the digest of the image configuration, which the manifest names, and
    /// which fixes the content of every layer.
    pub config: Option<String>,
    /// `<repository>@<digest>` of earlier pushes and pulls of this image (the daemon's `RepoDigests`).
    pub known: Vec<String>,
}

impl Identity {
    /// Whether `digest`, held by a tag of `repository_uri`, is this image; `None` when only the
    /// manifest can tell (the classic store's image, never pushed there from this daemon).
    pub fn holds(&self, repository_uri: &str, digest: &str) -> Option<bool> {
        if self
            .known
            .iter()
            .any(|k| *k == format!("{repository_uri}@{digest}"))
        {
            return Some(true);
        }
        self.digest.as_ref().map(|ours| ours == digest)
    }

    /// The digest a push of this image to `repository_uri` makes, where it is known before: the
    /// containerd store's, or the one an earlier push of this daemon made there (`RepoDigests`).
    pub fn digest_in(&self, repository_uri: &str) -> Option<&str> {
        let earlier = self.known.iter().find_map(|k| {
            let digest = k.strip_prefix(repository_uri)?.strip_prefix('@')?;
            digest.starts_with("sha256:").then_some(digest)
        });
        self.digest.as_deref().or(earlier)
    }

    /// What this run pushes, as a refusal names it.
    pub fn describe(&self) -> String {
        match (&self.digest, &self.config) {
            (Some(digest), _) => digest.clone(),
            (None, Some(config)) => format!(
                "the image with configuration {config}; this engine's image store makes the manifest digest \
                 only as it pushes"
            ),
            (None, None) => "a digest this engine does not tell before pushing".to_owned(),
        }
    }
}

/// Which tags to push, which hold this image already, and which were left as they are (each with
/// the digest it holds).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub push: Vec<Tag>,
    pub there: Vec<(Tag, String)>,
    pub skipped: Vec<(Tag, String)>,
    /// Tags to push whose image ECR has archived, each with the archived digest: the push restores the
    /// image, or moves the tag to this one (the report tells which, by the digest pushed).
    pub archived: Vec<(Tag, String)>,
}

/// What an existing tag holds: its digest, and whether that is the image being pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub digest: String,
    pub this_image: bool,
    /// ECR moved the image to its archive storage class (`imageStatus` `ARCHIVED`): it cannot be
    /// pulled, and a push of it restores it.
    pub archived: bool,
}

/// The repository's tag rule: from the settings being applied, else from what the registry said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mutability {
    immutable: bool,
    exclusions: Vec<String>,
}

impl Mutability {
    pub fn of(described: Option<&Described>, settings: &Settings) -> Self {
        if let Some(wanted) = &settings.tag_mutability {
            return Mutability {
                immutable: wanted.mode.is_immutable(),
                exclusions: wanted.exclusions.clone(),
            };
        }
        described.map_or_else(Mutability::default, |d| Mutability {
            immutable: matches!(
                d.tag_mutability.as_str(),
                "IMMUTABLE" | "IMMUTABLE_WITH_EXCLUSION"
            ),
            exclusions: d.exclusions.clone(),
        })
    }

    /// Whether the registry refuses to overwrite `tag`.
    fn protects(&self, tag: &str) -> bool {
        self.immutable
            && !self
                .exclusions
                .iter()
                .any(|f| crate::inputs::tag_filter_matches(f, tag))
    }
}

/// Whether existing tags must be looked up at all: only to skip, match or refuse them, or to explain
/// an immutable repository's refusal before the registry's bare `tag invalid`.
pub fn needs_lookup(rule: IfTagExists, mutability: &Mutability) -> bool {
    rule != IfTagExists::Overwrite || mutability.immutable
}

/// What to do with one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Push,
    /// Pushed again: the tag's image (this digest) is archived, and counts as absent.
    Restore(String),
    /// Left as it is: it holds this digest.
    Skip(String),
    /// Done already: it holds this image, under this digest.
    AlreadyThere(String),
    /// The run stops here.
    Refuse(Refusal),
}

/// Why an existing tag (holding the digest) stops the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `if-tag-exists: fail`.
    Exists(String),
    /// The repository will not overwrite it.
    Immutable(String),
    /// `if-tag-exists: match`, and it holds another image.
    Differs(String),
    /// `if-tag-exists: fail`, and the tag's image is archived.
    Archived(String),
}

pub fn decide(
    tag: &str,
    existing: Option<Held>,
    rule: IfTagExists,
    mutability: &Mutability,
) -> Decision {
    let Some(Held {
        digest,
        this_image,
        archived,
    }) = existing
    else {
        return Decision::Push;
    };
    if archived {
        return decide_archived(tag, digest, this_image, rule, mutability);
    }
    match rule {
        IfTagExists::Skip => Decision::Skip(digest),
        IfTagExists::Fail => Decision::Refuse(Refusal::Exists(digest)),
        IfTagExists::Match if this_image => Decision::AlreadyThere(digest),
        IfTagExists::Match => Decision::Refuse(Refusal::Differs(digest)),
        IfTagExists::Overwrite if mutability.protects(tag) => {
            Decision::Refuse(Refusal::Immutable(digest))
        }
        IfTagExists::Overwrite => Decision::Push,
    }
}

/// An archived tag counts as absent for `skip` and `match`: the push restores it (or, under `skip`,
/// moves the tag to this image). `fail` names the archived state; an immutable repository still will
/// not take another image under the tag.
fn decide_archived(
    tag: &str,
    digest: String,
    this_image: bool,
    rule: IfTagExists,
    mutability: &Mutability,
) -> Decision {
    match rule {
        IfTagExists::Fail => Decision::Refuse(Refusal::Archived(digest)),
        IfTagExists::Skip => Decision::Restore(digest),
        _ if this_image || !mutability.protects(tag) => Decision::Restore(digest),
        _ => Decision::Refuse(Refusal::Immutable(digest)),
    }
}

/// Whether the registry's scanning configuration makes a repository's `scanOnPush` do nothing:
/// enhanced scanning, or basic scanning with registry rules (whose filters decide what is scanned).
pub fn registry_overrides_scan_on_push(scan_type: &str, rules: usize) -> bool {
    scan_type == "ENHANCED" || rules > 0
}

/// A `CREATE_ON_PUSH` repository creation template, in the terms that decide a push: its prefix and
/// the settings it gives a repository it creates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    pub prefix: String,
    pub tag_mutability: Option<String>,
    pub encryption: Option<String>,
}

/// The template that covers `repository`: the longest prefix it starts with (a prefix always ends
/// with an implied `/`), else `ROOT` (API reference, `CreateRepositoryCreationTemplate`'s `prefix`).
pub fn covering_template<'a>(repository: &str, templates: &'a [Template]) -> Option<&'a Template> {
    let covers = |t: &&Template| {
        let prefix = t.prefix.trim_end_matches('/');
        t.prefix != "ROOT" && repository.starts_with(&format!("{prefix}/"))
    };
    let longest = templates
        .iter()
        .filter(covers)
        .max_by_key(|t| t.prefix.trim_end_matches('/').len());
    longest.or_else(|| templates.iter().find(|t| t.prefix == "ROOT"))
}

/// The setting inputs that contradict `template`: (input, what the input asks, what the template
/// gives).
pub fn contradicting(
    settings: &Settings,
    template: &Template,
) -> Vec<(&'static str, String, String)> {
    let mut found = Vec::new();
    if let (Some(wanted), Some(theirs)) = (&settings.tag_mutability, &template.tag_mutability)
        && wanted.mode.as_str() != theirs
    {
        found.push((
            "image-tag-mutability",
            wanted.mode.as_str().to_owned(),
            theirs.clone(),
        ));
    }
    if let Some(wanted) = &settings.encryption {
        let theirs = template
            .encryption
            .clone()
            .unwrap_or_else(|| "AES256".to_owned());
        if wanted.kind != theirs {
            found.push(("encryption-type", wanted.kind.clone(), theirs));
        }
    }
    found
}

/// The wanted repository tags the repository does not carry yet: tags are added or updated, never
/// removed, because other tools may own other tags.
pub fn missing_tags(
    current: &[(String, String)],
    wanted: &[(String, String)],
) -> Vec<(String, String)> {
    wanted
        .iter()
        .filter(|tag| !current.contains(tag))
        .cloned()
        .collect()
}

/// Compares as JSON values, so that AWS's own formatting of a stored policy is no difference.
pub fn differs(current: Option<&str>, wanted: &Document) -> bool {
    current
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .as_ref()
        != Some(&wanted.json)
}

/// Whether the tag rule differs: the mode, or the exclusion filters in any order.
pub fn mutability_differs(described: &Described, wanted: &TagMutability) -> bool {
    let mut current: Vec<&str> = described.exclusions.iter().map(String::as_str).collect();
    let mut filters: Vec<&str> = wanted.exclusions.iter().map(String::as_str).collect();
    current.sort_unstable();
    filters.sort_unstable();
    described.tag_mutability != wanted.mode.as_str() || current != filters
}

/// Whether the encryption differs; a key given as an ID or alias matches the end of the stored ARN.
pub fn encryption_differs(described: &Described, wanted: &Encryption) -> bool {
    let key = described.kms_key.as_deref();
    let key_differs = wanted
        .kms_key
        .as_deref()
        .is_some_and(|k| !key.is_some_and(|arn| arn == k || arn.ends_with(k)));
    described.encryption != wanted.kind || key_differs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::MutabilityMode;

    fn described(mode: &str, exclusions: &[&str]) -> Described {
        Described {
            tag_mutability: mode.to_owned(),
            exclusions: exclusions.iter().map(|&f| f.to_owned()).collect(),
            ..Described::default()
        }
    }

    fn held(digest: &str, this_image: bool) -> Held {
        Held {
            digest: digest.into(),
            this_image,
            archived: false,
        }
    }

    #[allow(clippy::unnecessary_wraps)] // `decide` takes an `Option`
    fn archived(digest: &str, this_image: bool) -> Option<Held> {
        Some(Held {
            archived: true,
            ..held(digest, this_image)
        })
    }

    /// ECR's user guide, "Archiving an image" (AmazonECR/latest/userguide/archive-image.html): an
    /// archived image cannot be pulled (404), is still described with status `ARCHIVED`, and is
    /// restored by re-pushing it. So an archived tag counts as absent for `skip` and `match`, and
    /// `fail` names the archived state.
    #[test]
    fn an_archived_tag_counts_as_absent_for_skip_and_match() {
        let mutable = Mutability::default();
        for rule in [IfTagExists::Skip, IfTagExists::Overwrite] {
            assert_eq!(
                decide("a", archived("sha256:1", false), rule, &mutable),
                Decision::Restore("sha256:1".into())
            );
        }
        for this_image in [true, false] {
            assert_eq!(
                decide(
                    "a",
                    archived("sha256:1", this_image),
                    IfTagExists::Match,
                    &mutable
                ),
                Decision::Restore("sha256:1".into())
            );
        }
        assert_eq!(
            decide("a", archived("sha256:1", true), IfTagExists::Fail, &mutable),
            Decision::Refuse(Refusal::Archived("sha256:1".into()))
        );
        // An immutable repository restores this image, but keeps another one's tag.
        let immutable = Mutability::of(Some(&described("IMMUTABLE", &[])), &Settings::default());
        assert_eq!(
            decide(
                "a",
                archived("sha256:1", true),
                IfTagExists::Match,
                &immutable
            ),
            Decision::Restore("sha256:1".into())
        );
        assert_eq!(
            decide(
                "a",
                archived("sha256:1", false),
                IfTagExists::Overwrite,
                &immutable
            ),
            Decision::Refuse(Refusal::Immutable("sha256:1".into()))
        );
        assert_eq!(
            decide(
                "a",
                archived("sha256:1", false),
                IfTagExists::Skip,
                &immutable
            ),
            Decision::Restore("sha256:1".into())
        );
    }

    #[test]
    fn wildcards() {
        assert!(crate::inputs::tag_filter_matches("latest", "latest"));
        assert!(!crate::inputs::tag_filter_matches("latest", "latest2"));
        assert!(crate::inputs::tag_filter_matches("dev-*", "dev-123"));
        assert!(crate::inputs::tag_filter_matches("*-rc*", "1.0-rc2"));
        assert!(!crate::inputs::tag_filter_matches("a*b*c", "acb"));
        assert!(crate::inputs::tag_filter_matches("*", ""));
        assert!(!crate::inputs::tag_filter_matches("ab*ba", "aba"));
    }

    /// ECR user guide, "Scan images for software vulnerabilities in Amazon ECR": scanning is
    /// configured per registry (`PutRegistryScanningConfiguration`: scan type and rules with repository
    /// filters); a repository's own `scanOnPush` is the older, repository-level setting.
    #[test]
    fn registry_scanning_overrides_scan_on_push_when_enhanced_or_ruled() {
        assert!(!registry_overrides_scan_on_push("BASIC", 0));
        assert!(registry_overrides_scan_on_push("BASIC", 1));
        assert!(registry_overrides_scan_on_push("ENHANCED", 0));
    }

    /// `CreateRepositoryCreationTemplate` (API reference): "a prefix of prod/team would apply to all
    /// repositories beginning with prod/team/ … There is always an assumed / applied to the end of
    /// the prefix … ROOT … all repositories … that don't have an associated creation template".
    #[test]
    fn the_longest_prefix_covers_else_root() {
        let t = |prefix: &str| Template {
            prefix: prefix.to_owned(),
            ..Template::default()
        };
        let templates = [t("ROOT"), t("team"), t("team/api"), t("prod/")];
        let covering = |name| covering_template(name, &templates).map(|t| t.prefix.as_str());
        assert_eq!(covering("team/api/v2"), Some("team/api"));
        assert_eq!(covering("team/web"), Some("team"));
        assert_eq!(covering("prod/app"), Some("prod/"));
        assert_eq!(covering("teams/app"), Some("ROOT"));
        assert_eq!(covering("team"), Some("ROOT"));
        assert_eq!(
            covering_template("team/x", &templates[1..2]).map(|t| t.prefix.as_str()),
            Some("team")
        );
        assert_eq!(covering_template("other", &templates[1..]), None);
    }

    #[test]
    fn a_setting_input_that_contradicts_the_template() {
        let template = Template {
            prefix: "team".into(),
            tag_mutability: Some("IMMUTABLE".into()),
            encryption: None,
        };
        let settings = Settings {
            tag_mutability: Some(TagMutability {
                mode: MutabilityMode::Mutable,
                exclusions: Vec::new(),
            }),
            encryption: Some(Encryption {
                kind: "AES256".into(),
                kms_key: None,
            }),
            ..Settings::default()
        };
        assert_eq!(
            contradicting(&settings, &template),
            [(
                "image-tag-mutability",
                "MUTABLE".to_owned(),
                "IMMUTABLE".to_owned()
            )]
        );
        assert!(contradicting(&Settings::default(), &template).is_empty());
    }

    #[test]
    fn overwrite_in_a_mutable_repository_looks_nothing_up() {
        let mutable = Mutability::of(Some(&described("MUTABLE", &[])), &Settings::default());
        assert!(!needs_lookup(IfTagExists::Overwrite, &mutable));
        assert!(needs_lookup(IfTagExists::Skip, &mutable));
        assert!(needs_lookup(
            IfTagExists::Fail,
            &Mutability::of(None, &Settings::default())
        ));
        let immutable = Mutability::of(Some(&described("IMMUTABLE", &[])), &Settings::default());
        assert!(needs_lookup(IfTagExists::Overwrite, &immutable));
    }

    #[test]
    fn each_rule_decides_an_existing_tag() {
        let mutable = Mutability::default();
        let d = || Some(held("sha256:1", false));
        assert_eq!(
            decide("a", None, IfTagExists::Fail, &mutable),
            Decision::Push
        );
        assert_eq!(
            decide("a", None, IfTagExists::Match, &mutable),
            Decision::Push
        );
        assert_eq!(
            decide(
                "a",
                Some(held("sha256:1", true)),
                IfTagExists::Match,
                &mutable
            ),
            Decision::AlreadyThere("sha256:1".into())
        );
        assert_eq!(
            decide("a", d(), IfTagExists::Match, &mutable),
            Decision::Refuse(Refusal::Differs("sha256:1".into()))
        );
        assert_eq!(
            decide("a", d(), IfTagExists::Skip, &mutable),
            Decision::Skip("sha256:1".into())
        );
        assert_eq!(
            decide("a", d(), IfTagExists::Fail, &mutable),
            Decision::Refuse(Refusal::Exists("sha256:1".into()))
        );
        assert_eq!(
            decide("a", d(), IfTagExists::Overwrite, &mutable),
            Decision::Push
        );
    }

    #[test]
    fn an_immutable_repository_refuses_to_overwrite_except_excluded_tags() {
        let rule = Mutability::of(
            Some(&described("IMMUTABLE_WITH_EXCLUSION", &["latest", "dev-*"])),
            &Settings::default(),
        );
        let d = || Some(held("sha256:1", false));
        assert_eq!(
            decide(
                "1.0",
                Some(held("sha256:1", true)),
                IfTagExists::Match,
                &rule
            ),
            Decision::AlreadyThere("sha256:1".into())
        );
        assert_eq!(
            decide("1.0", d(), IfTagExists::Overwrite, &rule),
            Decision::Refuse(Refusal::Immutable("sha256:1".into()))
        );
        assert_eq!(
            decide("dev-7", d(), IfTagExists::Overwrite, &rule),
            Decision::Push
        );
        assert_eq!(
            decide("1.0", None, IfTagExists::Overwrite, &rule),
            Decision::Push
        );
    }

    #[test]
    fn wanted_settings_win_over_what_the_registry_said() {
        let settings = Settings {
            tag_mutability: Some(TagMutability {
                mode: MutabilityMode::Mutable,
                exclusions: Vec::new(),
            }),
            ..Settings::default()
        };
        let rule = Mutability::of(Some(&described("IMMUTABLE", &[])), &settings);
        assert!(!needs_lookup(IfTagExists::Overwrite, &rule));
    }

    #[test]
    fn settings_that_differ() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            missing_tags(
                &[pair("A", "1"), pair("B", "2")],
                &[pair("A", "1"), pair("B", "3"), pair("C", "4")]
            ),
            [pair("B", "3"), pair("C", "4")]
        );
        let wanted = Document {
            json: serde_json::json!({"a": 1}),
            source: "inline JSON".into(),
        };
        assert!(!differs(Some("{ \"a\" : 1 }"), &wanted));
        assert!(differs(Some("{\"a\": 2}"), &wanted));
        assert!(differs(None, &wanted));
        let rule = TagMutability {
            mode: MutabilityMode::ImmutableWithExclusion,
            exclusions: vec!["b".into(), "a".into()],
        };
        assert!(!mutability_differs(
            &described("IMMUTABLE_WITH_EXCLUSION", &["a", "b"]),
            &rule
        ));
        assert!(mutability_differs(
            &described("IMMUTABLE_WITH_EXCLUSION", &["a"]),
            &rule
        ));
        let kms = Described {
            encryption: "KMS".into(),
            kms_key: Some("arn:aws:kms:us-east-1:123456789012:alias/ecr".into()),
            ..Described::default()
        };
        let wanted = |kind: &str, key: Option<&str>| Encryption {
            kind: kind.into(),
            kms_key: key.map(str::to_owned),
        };
        assert!(!encryption_differs(&kms, &wanted("KMS", Some("alias/ecr"))));
        assert!(!encryption_differs(&kms, &wanted("KMS", None)));
        assert!(encryption_differs(
            &kms,
            &wanted("KMS", Some("alias/other"))
        ));
        assert!(encryption_differs(&kms, &wanted("AES256", None)));
    }
}
