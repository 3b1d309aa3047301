//! The repository-as-code inputs: tag mutability, scanning, encryption, tags, lifecycle and
//! repository policies, the existing-tag rule and the registry type with ECR Public's catalog data.
//! Policies are read (inline JSON or a file inside the workspace) and checked here, before any call.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex_lite::Regex;
use serde_json::Value;

use super::advice;
use super::names::REGION;
use super::problem::{Checked, Gather};
use super::raw::RawInputs;

/// ECR's limits on the policy text it accepts, in characters.
pub const REPOSITORY_POLICY_MAX: usize = 10_240;
pub const LIFECYCLE_POLICY_MAX: usize = 30_720;
/// A policy file longer than this is not read at all: far beyond either limit, even pretty-printed.
const POLICY_FILE_MAX: u64 = 1 << 20;

/// A KMS key as ECR takes it: key ID (a UUID, or `mrk-` and 32 hex digits for a multi-Region key), key
/// ARN, alias name (`alias/…`) or alias ARN.
static KMS_KEY_RULE: LazyLock<Regex> = LazyLock::new(|| {
    let id = r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})";
    let alias = r"alias/[a-zA-Z0-9/_-]{1,250}";
    let partitions = crate::partition::ids_pattern();
    let arn = format!(r"arn:{partitions}:kms:{REGION}:[0-9]{{12}}:");
    Regex::new(&format!(r"^(?:{id}|{alias}|{arn}key/{id}|{arn}{alias})$")).expect("valid regex")
});

/// How the repository should be set up. `None` / empty: leave that setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub tag_mutability: Option<TagMutability>,
    pub scan_on_push: Option<bool>,
    pub encryption: Option<Encryption>,
    pub tags: Vec<(String, String)>,
    pub lifecycle_policy: Option<Document>,
    pub repository_policy: Option<Document>,
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMutability {
    pub mode: MutabilityMode,
    /// Wildcard filters of the tags that are the exception (only with `*_WITH_EXCLUSION`).
    pub exclusions: Vec<String>,
}

/// Whether `tag` matches an exclusion `filter`: ECR's tag filters know one wildcard, `*`, any run of
/// characters (the input allows no other).
pub fn tag_filter_matches(filter: &str, tag: &str) -> bool {
    let mut parts = filter.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = tag.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*`: the whole tag.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// ECR's image tag mutability: whether a push may move an existing tag, and whether the tags matching
/// the exclusion filters are the exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutabilityMode {
    Mutable,
    Immutable,
    MutableWithExclusion,
    ImmutableWithExclusion,
}

impl MutabilityMode {
    const ALL: [MutabilityMode; 4] = [
        MutabilityMode::Mutable,
        MutabilityMode::Immutable,
        MutabilityMode::MutableWithExclusion,
        MutabilityMode::ImmutableWithExclusion,
    ];

    /// ECR's name: `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION`, `IMMUTABLE_WITH_EXCLUSION`.
    pub fn as_str(self) -> &'static str {
        match self {
            MutabilityMode::Mutable => "MUTABLE",
            MutabilityMode::Immutable => "IMMUTABLE",
            MutabilityMode::MutableWithExclusion => "MUTABLE_WITH_EXCLUSION",
            MutabilityMode::ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
        }
    }

    /// An existing tag cannot be pushed again (except, with exclusions, a tag matching one).
    pub fn is_immutable(self) -> bool {
        matches!(
            self,
            MutabilityMode::Immutable | MutabilityMode::ImmutableWithExclusion
        )
    }

    fn has_exclusions(self) -> bool {
        matches!(
            self,
            MutabilityMode::MutableWithExclusion | MutabilityMode::ImmutableWithExclusion
        )
    }
}

impl fmt::Display for MutabilityMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub kind: String,
    pub kms_key: Option<String>,
}

/// A JSON policy document, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub json: Value,
    /// Where it came from, for messages: `inline JSON` or the file's path.
    pub source: String,
}

impl Document {
    /// The compact text sent to AWS.
    pub fn text(&self) -> String {
        self.json.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfTagExists {
    Overwrite,
    Skip,
    Fail,
    /// Done when the tag holds this image already; refused before any push when it holds another.
    Match,
}

/// Which registry the repository is in: private ECR or ECR Public (`registry-type`). The one
/// private-or-public choice of the run; what it means for messages and the summary is said beside
/// the registry's data (`aws/registry/repository.rs`), and the clients of each are `aws::registry::Registry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryType {
    Private,
    Public,
}

impl RegistryType {
    pub fn is_public(self) -> bool {
        self == RegistryType::Public
    }
}

/// ECR Public's catalog data, set when the action creates a public repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub description: Option<String>,
    pub about: Option<String>,
    pub usage: Option<String>,
    pub architectures: Vec<String>,
    pub operating_systems: Vec<String>,
}

/// The settings inputs; a refused one is reported and left as it is.
pub(super) fn derive(check: &mut Gather, raw: &RawInputs, workspace: &Path) -> Settings {
    let mutability = tag_mutability_rule(
        raw.image_tag_mutability.as_deref(),
        raw.image_tag_mutability_exclusion_filters.as_deref(),
    );
    let scan_on_push = optional_boolean_rule("scan-on-push", raw.scan_on_push.as_deref());
    let encryption = encryption_rule(raw.encryption_type.as_deref(), raw.kms_key.as_deref());
    let tags = repository_tags_rule(raw.repository_tags.as_deref());
    let document =
        |input, value: &Option<String>| document_rule(input, value.as_deref(), workspace);
    let lifecycle_policy = document("lifecycle-policy", &raw.lifecycle_policy);
    let repository_policy = document("repository-policy", &raw.repository_policy);
    Settings {
        tag_mutability: check.keep(mutability).flatten(),
        scan_on_push: check.keep(scan_on_push).flatten(),
        encryption: check.keep(encryption).flatten(),
        tags: check.keep(tags).unwrap_or_default(),
        lifecycle_policy: check.keep(lifecycle_policy).flatten(),
        repository_policy: check.keep(repository_policy).flatten(),
    }
}

/// `true` or `false`, in any case; `default` when unset.
pub(super) fn boolean_rule(
    input: &'static str,
    value: Option<&str>,
    default: bool,
) -> Checked<bool> {
    match value {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(advice::not_a_boolean(input, v)),
    }
}

/// `create-repository: template`: ECR creates a missing repository on push from a `CREATE_ON_PUSH`
/// repository creation template, so the action creates none. Private ECR only.
pub(super) fn create_on_push_rule(value: Option<&str>, public: bool) -> Checked<bool> {
    match value {
        Some(v) if v.eq_ignore_ascii_case("template") && public => {
            Err(advice::template_not_in_ecr_public())
        }
        Some(v) => Ok(v.eq_ignore_ascii_case("template")),
        None => Ok(false),
    }
}

/// A boolean that leaves the setting as it is when unset.
fn optional_boolean_rule(input: &'static str, value: Option<&str>) -> Checked<Option<bool>> {
    value.map(|_| boolean_rule(input, value, false)).transpose()
}

fn list(value: Option<&str>, separators: &[char]) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(|c: char| separators.contains(&c) || c == '\n' || c == '\r')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn tag_mutability_rule(
    mode: Option<&str>,
    exclusions: Option<&str>,
) -> Checked<Option<TagMutability>> {
    let filters = list(exclusions, &[',', ' ', '\t']);
    let Some(mode) = mode.map(str::to_ascii_uppercase) else {
        return if filters.is_empty() {
            Ok(None)
        } else {
            Err(advice::exclusions_unused(None))
        };
    };
    let Some(mode) = MutabilityMode::ALL.into_iter().find(|m| m.as_str() == mode) else {
        let all = MutabilityMode::ALL.map(MutabilityMode::as_str).join(", ");
        return Err(advice::not_one_of("image-tag-mutability", &mode, &all));
    };
    if mode.has_exclusions() && filters.is_empty() {
        return Err(advice::exclusions_required(mode.as_str()));
    }
    if !mode.has_exclusions() && !filters.is_empty() {
        return Err(advice::exclusions_unused(Some(mode.as_str())));
    }
    if let Some(bad) = filters.iter().find(|f| {
        f.len() > 128
            || !f
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._*-".contains(c))
    }) {
        return Err(advice::bad_exclusion_filter(bad));
    }
    Ok(Some(TagMutability {
        mode,
        exclusions: filters,
    }))
}

pub fn encryption_rule(kind: Option<&str>, kms_key: Option<&str>) -> Checked<Option<Encryption>> {
    let kind = kind.map(str::to_ascii_uppercase);
    match (kind.as_deref(), kms_key) {
        (None, None) => Ok(None),
        (None | Some("AES256"), Some(_)) => Err(advice::kms_key_unused()),
        (Some(k @ ("AES256" | "KMS" | "KMS_DSSE")), key) => {
            if let Some(key) = key.filter(|k| !KMS_KEY_RULE.is_match(k)) {
                return Err(advice::bad_kms_key(key));
            }
            Ok(Some(Encryption {
                kind: k.to_owned(),
                kms_key: key.map(str::to_owned),
            }))
        }
        (Some(other), _) => Err(advice::not_one_of(
            "encryption-type",
            other,
            "AES256, KMS, KMS_DSSE",
        )),
    }
}

/// `Key=Value` pairs separated by commas or newlines.
pub fn repository_tags_rule(text: Option<&str>) -> Checked<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in list(text, &[',']) {
        let Some((key, value)) = pair.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
            return Err(advice::not_a_key_value_pair(&pair));
        };
        if key.is_empty() || key.len() > 128 || key.starts_with("aws:") || value.len() > 256 {
            return Err(advice::bad_repository_tag(&pair));
        }
        if tags.iter().any(|(k, _)| k == key) {
            return Err(advice::repository_tag_twice(key));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    Ok(tags)
}

/// Inline JSON (starting with `{`) or a path inside the workspace.
pub fn document_rule(
    input: &'static str,
    value: Option<&str>,
    workspace: &Path,
) -> Checked<Option<Document>> {
    let Some(value) = value else { return Ok(None) };
    let lifecycle = input == "lifecycle-policy";
    let limit = if lifecycle {
        LIFECYCLE_POLICY_MAX
    } else {
        REPOSITORY_POLICY_MAX
    };
    let (text, source) = document_text(input, value, workspace, limit)?;
    let length = text.len() as u64;
    if length > POLICY_FILE_MAX {
        let read_max = Some(POLICY_FILE_MAX);
        return Err(advice::policy_too_long(
            input, &source, length, read_max, limit,
        ));
    }
    let json: Value =
        serde_json::from_str(&text).map_err(|e| advice::policy_not_json(input, &source, &e))?;
    let problem = if lifecycle {
        lifecycle_problem(&json)
    } else {
        repository_policy_problem(&json)
    };
    if let Some(fault) = problem {
        return Err(advice::policy_shape(input, &source, &fault));
    }
    let document = Document { json, source };
    let length = document.text().chars().count();
    if length > limit {
        let (source, length) = (&document.source, length as u64);
        return Err(advice::policy_too_long(input, source, length, None, limit));
    }
    Ok(Some(document))
}

/// A policy's text and where it came from: `inline JSON`, or the file's path. A file far beyond ECR's
/// limits is not read at all.
fn document_text(
    input: &'static str,
    value: &str,
    workspace: &Path,
    limit: usize,
) -> Checked<(String, String)> {
    if value.starts_with('{') {
        return Ok((value.to_owned(), advice::INLINE_JSON.to_owned()));
    }
    let path = resolve_in_workspace(input, value, workspace)?;
    let unreadable = |e: std::io::Error| advice::policy_unreadable(input, &path, &e);
    let size = std::fs::metadata(&path).map_err(unreadable)?.len();
    if size > POLICY_FILE_MAX {
        let source = path.display().to_string();
        let read_max = Some(POLICY_FILE_MAX);
        return Err(advice::policy_too_long(
            input, &source, size, read_max, limit,
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(unreadable)?;
    Ok((text, path.display().to_string()))
}

/// A path relative to the workspace (or absolute) that must lie inside it once links are resolved.
fn resolve_in_workspace(input: &'static str, value: &str, workspace: &Path) -> Checked<PathBuf> {
    let candidate = workspace.join(value);
    let path = candidate
        .canonicalize()
        .map_err(|e| advice::policy_unreadable(input, &candidate, &e))?;
    let root = workspace
        .canonicalize()
        .map_err(|e| advice::workspace_unreadable(input, workspace, &e))?;
    if !path.starts_with(&root) {
        return Err(advice::outside_workspace(input, &path, &root));
    }
    Ok(path)
}

/// ECR's lifecycle policy shape: `rules` with `rulePriority`, `selection` and `action`.
fn lifecycle_problem(json: &Value) -> Option<String> {
    let Some(rules) = json
        .get("rules")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
    else {
        return Some(advice::lifecycle_rules_missing());
    };
    let mut priorities = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = |field: &str| format!("rules[{i}].{field}");
        let Some(priority) = rule
            .get("rulePriority")
            .and_then(Value::as_u64)
            .filter(|p| *p >= 1)
        else {
            return Some(advice::field_must_be(
                &at("rulePriority"),
                advice::WHOLE_NUMBER,
            ));
        };
        if priorities.contains(&priority) {
            return Some(advice::priority_twice(&at("rulePriority"), priority));
        }
        priorities.push(priority);
        if let Some(problem) = lifecycle_rule_problem(rule, at) {
            return Some(problem);
        }
    }
    None
}

/// A lifecycle rule's `selection` and `action`; `at` names a field of this rule for the message.
fn lifecycle_rule_problem(rule: &Value, at: impl Fn(&str) -> String) -> Option<String> {
    let Some(selection) = rule.get("selection").filter(|s| s.is_object()) else {
        return Some(advice::field_must_be(&at("selection"), "an object"));
    };
    for (field, choices) in [
        ("tagStatus", &["tagged", "untagged", "any"][..]),
        ("countType", &["imageCountMoreThan", "sinceImagePushed"]),
    ] {
        let value = selection.get(field).and_then(Value::as_str);
        if !value.is_some_and(|v| choices.contains(&v)) {
            let what = advice::quoted_choices(choices);
            return Some(advice::field_must_be(
                &at(&format!("selection.{field}")),
                &what,
            ));
        }
    }
    if selection
        .get("countNumber")
        .and_then(Value::as_u64)
        .is_none_or(|n| n < 1)
    {
        return Some(advice::field_must_be(
            &at("selection.countNumber"),
            advice::WHOLE_NUMBER,
        ));
    }
    let action = rule.get("action").and_then(|a| a.get("type"));
    if action.and_then(Value::as_str) != Some("expire") {
        return Some(advice::field_must_be(
            &at("action"),
            r#"{"type": "expire"}"#,
        ));
    }
    None
}

/// The `Sid`s (or positions) of the statements of a repository policy that allow anyone: `Principal`
/// `"*"`, `{"AWS": "*"}` or a list holding `"*"` — every AWS account, and for pulls everyone on the
/// internet, unless a `Condition` narrows it.
pub fn public_statements(policy: &Document) -> Vec<String> {
    let statements = match policy.json.get("Statement") {
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    };
    statements
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|(_, s)| match s.get("Principal") {
            Some(p @ Value::String(_)) => star(p),
            Some(Value::Object(by_kind)) => by_kind.values().any(star),
            _ => false,
        })
        .map(|(i, s)| match s.get("Sid").and_then(Value::as_str) {
            Some(sid) => format!("`{sid}`"),
            None => format!("number {}", i + 1),
        })
        .collect()
}

fn repository_policy_problem(json: &Value) -> Option<String> {
    match json.get("Statement") {
        Some(Value::Array(s)) if !s.is_empty() => None,
        Some(Value::Object(_)) => None,
        _ => Some(advice::statement_missing()),
    }
}

pub fn if_tag_exists_rule(value: Option<&str>) -> Checked<IfTagExists> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("overwrite") => Ok(IfTagExists::Overwrite),
        Some("skip") => Ok(IfTagExists::Skip),
        Some("fail") => Ok(IfTagExists::Fail),
        Some("match") => Ok(IfTagExists::Match),
        Some(other) => Err(advice::not_one_of(
            "if-tag-exists",
            other,
            "overwrite, skip, fail, match",
        )),
    }
}

/// `private` (the default), which takes none of the catalog inputs, or `public` with its catalog.
/// The registry, and the catalog data a new ECR Public repository gets (empty for private ECR).
pub(super) fn registry_type_rule(
    raw: &RawInputs,
    settings: &Settings,
) -> Checked<(RegistryType, Catalog)> {
    match raw
        .registry_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("private") => {
            let given = [
                ("public-description", &raw.public_description),
                ("public-about", &raw.public_about),
                ("public-usage", &raw.public_usage),
                ("public-architectures", &raw.public_architectures),
                ("public-operating-systems", &raw.public_operating_systems),
            ];
            match given.iter().find(|(_, v)| v.is_some()) {
                Some((input, _)) => Err(advice::catalog_without_public(input)),
                None => Ok((RegistryType::Private, Catalog::default())),
            }
        }
        Some("public") => public_rule(raw, settings).map(|c| (RegistryType::Public, c)),
        Some(other) => Err(advice::not_one_of(
            "registry-type",
            other,
            "private, public",
        )),
    }
}

/// ECR Public: none of the settings only private ECR has, and catalog values it knows.
fn public_rule(raw: &RawInputs, settings: &Settings) -> Checked<Catalog> {
    let private_only = [
        ("image-tag-mutability", settings.tag_mutability.is_some()),
        ("scan-on-push", settings.scan_on_push.is_some()),
        ("encryption-type", settings.encryption.is_some()),
        ("lifecycle-policy", settings.lifecycle_policy.is_some()),
    ];
    if let Some((input, _)) = private_only.iter().find(|(_, set)| *set) {
        return Err(advice::not_in_ecr_public(input));
    }
    let catalog_list = |input, value: &Option<String>, known: &[&str]| {
        let items = list(value.as_deref(), &[',']);
        match items.iter().find(|i| !known.contains(&i.as_str())) {
            Some(bad) => Err(advice::not_one_of(input, bad, &known.join(", "))),
            None => Ok(items),
        }
    };
    let architectures = catalog_list(
        "public-architectures",
        &raw.public_architectures,
        &["ARM", "ARM 64", "x86", "x86-64"],
    )?;
    let operating_systems = catalog_list(
        "public-operating-systems",
        &raw.public_operating_systems,
        &["Linux", "Windows"],
    )?;
    Ok(Catalog {
        description: raw.public_description.clone(),
        about: raw.public_about.clone(),
        usage: raw.public_usage.clone(),
        architectures,
        operating_systems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of a rule's refusal.
    #[track_caller]
    fn code_of<T: fmt::Debug>(checked: Checked<T>) -> &'static str {
        checked.expect_err("refused").code
    }

    fn lifecycle(rule: &str) -> Option<String> {
        lifecycle_problem(
            &serde_json::from_str(&format!(r#"{{"rules": [{rule}]}}"#)).expect("json"),
        )
    }

    const GOOD: &str = r#"{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}}"#;

    #[test]
    fn lifecycle_rules_are_checked_field_by_field() {
        assert_eq!(lifecycle(GOOD), None);
        for (broken, field) in [
            (
                GOOD.replace(r#""rulePriority": 1"#, r#""rulePriority": "1""#),
                "rules[0].rulePriority",
            ),
            (
                GOOD.replace(r#""tagStatus": "any""#, r#""tagStatus": "all""#),
                "rules[0].selection.tagStatus",
            ),
            (
                GOOD.replace(
                    r#""countType": "imageCountMoreThan""#,
                    r#""countType": "olderThan""#,
                ),
                "rules[0].selection.countType",
            ),
            (
                GOOD.replace(r#""countNumber": 5"#, r#""countNumber": 0"#),
                "rules[0].selection.countNumber",
            ),
            (
                GOOD.replace(r#""type": "expire""#, r#""type": "delete""#),
                "rules[0].action",
            ),
            (format!("{GOOD}, {GOOD}"), "priority 1 is used twice"),
        ] {
            let problem = lifecycle(&broken).expect("a problem");
            assert!(problem.contains(field), "{field}: {problem}");
        }
        assert!(lifecycle_problem(&serde_json::json!({"rules": []})).is_some());
    }

    #[test]
    fn json_errors_carry_line_and_column() {
        let dir = std::env::temp_dir().join(format!("settings-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("p.json"), "{\n  \"Statement\": [\n  }\n").expect("file");
        let refused =
            document_rule("repository-policy", Some("p.json"), &dir).expect_err("bad json");
        assert_eq!(
            (refused.input, refused.code),
            ("repository-policy", "E-INPUT-POLICY-JSON")
        );
        assert!(refused.text.contains("line 3, column 3"), "{refused:?}");
        let workspace = dir.join("ws");
        std::fs::create_dir_all(&workspace).expect("workspace");
        let rule = |value| code_of(document_rule("repository-policy", Some(value), &workspace));
        assert_eq!(rule("../p.json"), "E-INPUT-POLICY-OUTSIDE-WORKSPACE");
        assert_eq!(rule("absent.json"), "E-INPUT-POLICY-UNREADABLE");
        assert_eq!(rule(r#"{"Statement": []}"#), "E-INPUT-POLICY-SHAPE");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn repository_tags_are_key_value_pairs() {
        assert_eq!(
            repository_tags_rule(Some("ManagedBy=github-actions, Team = api\nEmpty=")),
            Ok(vec![
                ("ManagedBy".into(), "github-actions".into()),
                ("Team".into(), "api".into()),
                ("Empty".into(), String::new())
            ])
        );
        for (bad, code) in [
            ("aws:x=1", "E-INPUT-REPOSITORY-TAG"),
            ("=1", "E-INPUT-REPOSITORY-TAG"),
            ("A=1,A=2", "E-INPUT-REPOSITORY-TAG-TWICE"),
            ("Team", "E-INPUT-REPOSITORY-TAG-FORMAT"),
        ] {
            assert_eq!(code_of(repository_tags_rule(Some(bad))), code, "{bad}");
        }
    }

    #[test]
    fn mutability_and_its_exclusions_go_together() {
        assert_eq!(
            tag_mutability_rule(Some("immutable_with_exclusion"), Some("latest, dev-*")),
            Ok(Some(TagMutability {
                mode: MutabilityMode::ImmutableWithExclusion,
                exclusions: vec!["latest".into(), "dev-*".into()]
            }))
        );
        for (mode, filters, code) in [
            (
                Some("IMMUTABLE_WITH_EXCLUSION"),
                None,
                "E-INPUT-EXCLUSIONS-REQUIRED",
            ),
            (
                Some("IMMUTABLE"),
                Some("latest"),
                "E-INPUT-EXCLUSIONS-UNUSED",
            ),
            (None, Some("latest"), "E-INPUT-EXCLUSIONS-UNUSED"),
            (
                Some("MUTABLE_WITH_EXCLUSION"),
                Some("bad filter!"),
                "E-INPUT-EXCLUSION-FILTER",
            ),
            (Some("FROZEN"), None, "E-INPUT-CHOICE"),
        ] {
            assert_eq!(
                code_of(tag_mutability_rule(mode, filters)),
                code,
                "{mode:?}"
            );
        }
    }

    #[test]
    fn encryption_and_its_key() {
        assert_eq!(encryption_rule(None, None), Ok(None));
        let code = |kind, key| code_of(encryption_rule(kind, key));
        assert_eq!(code(Some("AES256"), Some("k")), "E-INPUT-KMS-KEY-UNUSED");
        assert_eq!(code(None, Some("k")), "E-INPUT-KMS-KEY-UNUSED");
        assert_eq!(code(Some("DES"), None), "E-INPUT-CHOICE");
        assert_eq!(
            encryption_rule(Some("kms"), Some("alias/ecr")),
            Ok(Some(Encryption {
                kind: "KMS".into(),
                kms_key: Some("alias/ecr".into())
            }))
        );
    }

    #[test]
    fn kms_keys_are_ids_arns_or_aliases() {
        let rule = |key: &str| encryption_rule(Some("KMS"), Some(key));
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
            assert_eq!(code_of(rule(bad)), "E-INPUT-KMS-KEY", "{bad}");
        }
    }

    #[test]
    fn policies_within_ecrs_size_limits() {
        let workspace = Path::new(".");
        let policy = |length: usize| {
            let frame = r#"{"Statement":[{"Sid":"","Effect":"Allow"}]}"#.len();
            let sid = "S".repeat(length - frame);
            format!(r#"{{"Statement":[{{"Sid":"{sid}","Effect":"Allow"}}]}}"#)
        };
        let at_limit = policy(REPOSITORY_POLICY_MAX);
        assert!(document_rule("repository-policy", Some(&at_limit), workspace).is_ok());
        let over = policy(REPOSITORY_POLICY_MAX + 1);
        let refused =
            document_rule("repository-policy", Some(&over), workspace).expect_err("too long");
        assert_eq!(
            (refused.input, refused.code),
            ("repository-policy", "E-INPUT-POLICY-TOO-LONG")
        );
        assert!(refused.text.contains("10240"), "{refused:?}");
    }

    #[test]
    fn a_policy_open_to_anyone_is_found() {
        let with = |principal: &str| {
            let json = format!(
                r#"{{"Statement":[{{"Sid":"Named","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::1:root"}}}},
                   {{"Effect":"Allow","Principal":{principal}}},{{"Effect":"Deny","Principal":"*"}}]}}"#
            );
            let document = document_rule("repository-policy", Some(&json), Path::new("."))
                .expect("valid")
                .expect("a document");
            public_statements(&document)
        };
        assert_eq!(with(r#""*""#), ["number 2"]);
        assert_eq!(with(r#"{"AWS":"*"}"#), ["number 2"]);
        assert_eq!(with(r#"{"AWS":["arn:aws:iam::1:root","*"]}"#), ["number 2"]);
        assert!(with(r#"{"AWS":"arn:aws:iam::2:root"}"#).is_empty());
    }
}
