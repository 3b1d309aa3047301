//! The repository-as-code inputs: tag mutability, scanning, encryption, tags, lifecycle and
//! repository policies, the existing-tag rule and the registry type with ECR Public's catalog data.
//! Policies are read (inline JSON or a file inside the workspace) and checked here, before any call.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex_lite::Regex;
use serde_json::Value;

use super::{Checked, PARTITIONS};

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
    let arn = format!(r"arn:{PARTITIONS}:kms:[a-z]{{2}}(?:-[a-z]+)+-[0-9]{{1,2}}:[0-9]{{12}}:");
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
    /// `MUTABLE`, `IMMUTABLE`, `MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`.
    pub mode: String,
    /// Wildcard filters of the tags that are the exception (only with `*_WITH_EXCLUSION`).
    pub exclusions: Vec<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryType {
    Private,
    Public(Catalog),
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
    mode: Option<String>,
    exclusions: Option<&str>,
) -> Checked<Option<TagMutability>> {
    const MODES: [&str; 4] = [
        "MUTABLE",
        "IMMUTABLE",
        "MUTABLE_WITH_EXCLUSION",
        "IMMUTABLE_WITH_EXCLUSION",
    ];
    let filters = list(exclusions, &[',', ' ', '\t']);
    let Some(mode) = mode.map(|m| m.to_ascii_uppercase()) else {
        return if filters.is_empty() {
            Ok(None)
        } else {
            Err((
                "image-tag-mutability-exclusion-filters",
                "is only used with `image-tag-mutability: MUTABLE_WITH_EXCLUSION` or `IMMUTABLE_WITH_EXCLUSION`.".into(),
            ))
        };
    };
    if !MODES.contains(&mode.as_str()) {
        return Err((
            "image-tag-mutability",
            format!("`{mode}` is not one of {}.", MODES.join(", ")),
        ));
    }
    let with_exclusion = mode.ends_with("_WITH_EXCLUSION");
    if with_exclusion && filters.is_empty() {
        return Err((
            "image-tag-mutability-exclusion-filters",
            format!(
                "is required with `{mode}`: the wildcard filters of the tags that are the exception, e.g. `latest, dev-*`."
            ),
        ));
    }
    if !with_exclusion && !filters.is_empty() {
        return Err((
            "image-tag-mutability-exclusion-filters",
            format!("is only used with the `*_WITH_EXCLUSION` modes, not `{mode}`."),
        ));
    }
    if let Some(bad) = filters.iter().find(|f| {
        f.len() > 128
            || !f
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._*-".contains(c))
    }) {
        return Err((
            "image-tag-mutability-exclusion-filters",
            format!(
                "`{bad}` is not a tag filter: up to 128 letters, digits, `.`, `_`, `-` and `*` wildcards."
            ),
        ));
    }
    Ok(Some(TagMutability {
        mode,
        exclusions: filters,
    }))
}

pub fn encryption_rule(
    kind: Option<String>,
    kms_key: Option<String>,
) -> Checked<Option<Encryption>> {
    let kind = kind.map(|k| k.to_ascii_uppercase());
    match (kind.as_deref(), kms_key) {
        (None, None) => Ok(None),
        (None | Some("AES256"), Some(_)) => Err((
            "kms-key",
            "is only used with `encryption-type: KMS` (or `KMS_DSSE`): set it, or remove `kms-key`.".into(),
        )),
        (Some(k @ ("AES256" | "KMS" | "KMS_DSSE")), key) => {
            if let Some(key) = key.as_deref().filter(|k| !KMS_KEY_RULE.is_match(k)) {
                return Err((
                    "kms-key",
                    format!(
                        "`{key}` is not a KMS key: use a key ID (`1234abcd-12ab-34cd-56ef-1234567890ab`), a key ARN \
                         (`arn:aws:kms:REGION:ACCOUNT:key/ID`), an alias (`alias/NAME`) or an alias ARN."
                    ),
                ));
            }
            Ok(Some(Encryption { kind: k.to_owned(), kms_key: key }))
        }
        (Some(other), _) => Err(("encryption-type", format!("`{other}` is not one of AES256, KMS, KMS_DSSE."))),
    }
}

/// `Key=Value` pairs separated by commas or newlines.
pub fn repository_tags_rule(text: Option<&str>) -> Checked<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in list(text, &[',']) {
        let Some((key, value)) = pair.split_once('=').map(|(k, v)| (k.trim(), v.trim())) else {
            return Err((
                "repository-tags",
                format!("`{pair}` is not a `Key=Value` pair."),
            ));
        };
        if key.is_empty() || key.len() > 128 || key.starts_with("aws:") || value.len() > 256 {
            return Err((
                "repository-tags",
                format!(
                    "`{pair}`: keys are 1–128 characters and may not start with `aws:`; values at most 256."
                ),
            ));
        }
        if tags.iter().any(|(k, _)| k == key) {
            return Err((
                "repository-tags",
                format!("the key `{key}` is given twice."),
            ));
        }
        tags.push((key.to_owned(), value.to_owned()));
    }
    Ok(tags)
}

/// Inline JSON (starting with `{`) or a path inside the workspace.
pub fn document_rule(
    input: &'static str,
    value: Option<String>,
    workspace: &Path,
) -> Checked<Option<Document>> {
    let Some(value) = value else { return Ok(None) };
    let limit = if input == "lifecycle-policy" {
        LIFECYCLE_POLICY_MAX
    } else {
        REPOSITORY_POLICY_MAX
    };
    let too_long = |source: &str, length: String| {
        (
            input,
            format!(
                "{source} is {length} characters long: ECR accepts at most {limit} (as compact JSON). Shorten it, \
                 for example by merging statements."
            ),
        )
    };
    let (text, source) = if value.starts_with('{') {
        (value, "inline JSON".to_owned())
    } else {
        let path = resolve_in_workspace(&value, workspace).map_err(|e| (input, e))?;
        let size = std::fs::metadata(&path)
            .map_err(|e| (input, format!("cannot read {}: {e}", path.display())))?
            .len();
        if size > POLICY_FILE_MAX {
            return Err(too_long(
                &path.display().to_string(),
                format!("{size} bytes, more than {POLICY_FILE_MAX}"),
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| (input, format!("cannot read {}: {e}", path.display())))?;
        (text, path.display().to_string())
    };
    if text.len() as u64 > POLICY_FILE_MAX {
        return Err(too_long(
            &source,
            format!("{} bytes, more than {POLICY_FILE_MAX}", text.len()),
        ));
    }
    let json: Value = serde_json::from_str(&text).map_err(|e| {
        (
            input,
            format!(
                "{source} is not valid JSON: {} at line {}, column {}.",
                strip_position(&e),
                e.line(),
                e.column()
            ),
        )
    })?;
    let problem = if input == "lifecycle-policy" {
        lifecycle_problem(&json)
    } else {
        repository_policy_problem(&json)
    };
    if let Some(problem) = problem {
        return Err((input, format!("{source}: {problem}")));
    }
    let document = Document { json, source };
    let length = document.text().chars().count();
    if length > limit {
        return Err(too_long(&document.source, length.to_string()));
    }
    Ok(Some(document))
}

fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_owned()
}

/// A path relative to the workspace (or absolute) that must lie inside it once links are resolved.
fn resolve_in_workspace(value: &str, workspace: &Path) -> Result<PathBuf, String> {
    let candidate = workspace.join(value);
    let path = candidate
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", candidate.display()))?;
    let root = workspace
        .canonicalize()
        .map_err(|e| format!("the workspace {} is not readable: {e}", workspace.display()))?;
    if !path.starts_with(&root) {
        return Err(format!(
            "{} is outside the workspace {}: policies are read from the repository's checkout only.",
            path.display(),
            root.display()
        ));
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
        return Some("a lifecycle policy needs a non-empty `rules` array.".into());
    };
    let mut priorities = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = |field: &str| format!("rules[{i}].{field}");
        let Some(priority) = rule
            .get("rulePriority")
            .and_then(Value::as_u64)
            .filter(|p| *p >= 1)
        else {
            return Some(format!(
                "{} must be a whole number of at least 1.",
                at("rulePriority")
            ));
        };
        if priorities.contains(&priority) {
            return Some(format!(
                "{}: priority {priority} is used twice.",
                at("rulePriority")
            ));
        }
        priorities.push(priority);
        let Some(selection) = rule.get("selection").filter(|s| s.is_object()) else {
            return Some(format!("{} must be an object.", at("selection")));
        };
        let text = |field: &str| selection.get(field).and_then(Value::as_str);
        if !matches!(text("tagStatus"), Some("tagged" | "untagged" | "any")) {
            return Some(format!(
                "{} must be \"tagged\", \"untagged\" or \"any\".",
                at("selection.tagStatus")
            ));
        }
        if !matches!(
            text("countType"),
            Some("imageCountMoreThan" | "sinceImagePushed")
        ) {
            return Some(format!(
                "{} must be \"imageCountMoreThan\" or \"sinceImagePushed\".",
                at("selection.countType")
            ));
        }
        if selection
            .get("countNumber")
            .and_then(Value::as_u64)
            .is_none_or(|n| n < 1)
        {
            return Some(format!(
                "{} must be a whole number of at least 1.",
                at("selection.countNumber")
            ));
        }
        if rule
            .get("action")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            != Some("expire")
        {
            return Some(format!(
                "{} must be {{\"type\": \"expire\"}}.",
                at("action")
            ));
        }
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
        _ => Some("a repository policy needs a `Statement`.".into()),
    }
}

pub fn if_tag_exists_rule(value: Option<&str>) -> Checked<IfTagExists> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("overwrite") => Ok(IfTagExists::Overwrite),
        Some("skip") => Ok(IfTagExists::Skip),
        Some("fail") => Ok(IfTagExists::Fail),
        Some(other) => Err((
            "if-tag-exists",
            format!("`{other}` is not one of overwrite, skip, fail."),
        )),
    }
}

/// The catalog inputs, as given (checked against the registry type by the caller).
pub struct RawCatalog {
    pub description: Option<String>,
    pub about: Option<String>,
    pub usage: Option<String>,
    pub architectures: Option<String>,
    pub operating_systems: Option<String>,
}

pub fn registry_type_rule(
    value: Option<&str>,
    catalog: RawCatalog,
    settings: &Settings,
) -> Checked<RegistryType> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("private") => {
            let given = [
                ("public-description", &catalog.description),
                ("public-about", &catalog.about),
                ("public-usage", &catalog.usage),
                ("public-architectures", &catalog.architectures),
                ("public-operating-systems", &catalog.operating_systems),
            ];
            match given.iter().find(|(_, v)| v.is_some()) {
                Some((input, _)) => {
                    Err((input, "is only used with `registry-type: public`.".into()))
                }
                None => Ok(RegistryType::Private),
            }
        }
        Some("public") => {
            let private_only = [
                ("image-tag-mutability", settings.tag_mutability.is_some()),
                ("scan-on-push", settings.scan_on_push.is_some()),
                ("encryption-type", settings.encryption.is_some()),
                ("lifecycle-policy", settings.lifecycle_policy.is_some()),
            ];
            if let Some((input, _)) = private_only.iter().find(|(_, set)| *set) {
                return Err((
                    input,
                    "is not supported by ECR Public: remove it, or use `registry-type: private`."
                        .into(),
                ));
            }
            let architectures = list(catalog.architectures.as_deref(), &[',']);
            if let Some(bad) = architectures
                .iter()
                .find(|a| !["ARM", "ARM 64", "x86", "x86-64"].contains(&a.as_str()))
            {
                return Err((
                    "public-architectures",
                    format!("`{bad}` is not one of ARM, ARM 64, x86, x86-64."),
                ));
            }
            let operating_systems = list(catalog.operating_systems.as_deref(), &[',']);
            if let Some(bad) = operating_systems
                .iter()
                .find(|o| !["Linux", "Windows"].contains(&o.as_str()))
            {
                return Err((
                    "public-operating-systems",
                    format!("`{bad}` is not one of Linux, Windows."),
                ));
            }
            Ok(RegistryType::Public(Catalog {
                description: catalog.description,
                about: catalog.about,
                usage: catalog.usage,
                architectures,
                operating_systems,
            }))
        }
        Some(other) => Err((
            "registry-type",
            format!("`{other}` is not one of private, public."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (input, text) =
            document_rule("repository-policy", Some("p.json".into()), &dir).expect_err("bad json");
        assert_eq!(input, "repository-policy");
        assert!(text.contains("line 3, column 3"), "{text}");
        let workspace = dir.join("ws");
        std::fs::create_dir_all(&workspace).expect("workspace");
        let (_, text) = document_rule("repository-policy", Some("../p.json".into()), &workspace)
            .expect_err("outside");
        assert!(text.contains("outside the workspace"), "{text}");
        let inline = document_rule(
            "repository-policy",
            Some(r#"{"Statement": []}"#.into()),
            &dir,
        )
        .expect_err("no statement");
        assert!(inline.1.contains("needs a `Statement`"), "{}", inline.1);
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
        assert!(repository_tags_rule(Some("aws:x=1")).is_err());
        assert!(repository_tags_rule(Some("A=1,A=2")).is_err());
        assert!(repository_tags_rule(Some("=1")).is_err());
    }

    #[test]
    fn mutability_and_its_exclusions_go_together() {
        assert_eq!(
            tag_mutability_rule(
                Some("immutable_with_exclusion".into()),
                Some("latest, dev-*")
            ),
            Ok(Some(TagMutability {
                mode: "IMMUTABLE_WITH_EXCLUSION".into(),
                exclusions: vec!["latest".into(), "dev-*".into()]
            }))
        );
        assert!(tag_mutability_rule(Some("IMMUTABLE_WITH_EXCLUSION".into()), None).is_err());
        assert!(tag_mutability_rule(Some("IMMUTABLE".into()), Some("latest")).is_err());
        assert!(tag_mutability_rule(None, Some("latest")).is_err());
        assert!(
            tag_mutability_rule(Some("MUTABLE_WITH_EXCLUSION".into()), Some("bad filter!"))
                .is_err()
        );
    }

    #[test]
    fn encryption_and_its_key() {
        assert_eq!(encryption_rule(None, None), Ok(None));
        assert!(encryption_rule(Some("AES256".into()), Some("k".into())).is_err());
        assert!(encryption_rule(None, Some("k".into())).is_err());
        assert!(encryption_rule(Some("DES".into()), None).is_err());
        assert_eq!(
            encryption_rule(Some("kms".into()), Some("alias/ecr".into())),
            Ok(Some(Encryption {
                kind: "KMS".into(),
                kms_key: Some("alias/ecr".into())
            }))
        );
    }
}
