//! `ecr-push-action policy --check FILE…`: does a policy someone already has allow what this
//! configuration needs? The needs are the generator's own output (every action on every resource of
//! the least-privilege policy); each is evaluated statically against the given documents as IAM
//! would (`evaluate.rs`), and the report says, per need, allowed / denied / not allowed / depends, the
//! statements to add for what is missing, and what the policy allows beyond the need.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::evaluate::{self, Request, Verdict};
use crate::inputs::PolicyScope;

/// One (action, resource) the configuration needs, and the generator's statement it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub sid: String,
    pub action: String,
    pub resource: String,
}

/// The verdict on every need, and what the report warns about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub verdicts: Vec<(Need, Verdict, Option<String>)>,
    pub warnings: Vec<String>,
}

impl Report {
    /// Every need is allowed for certain.
    pub fn sufficient(&self) -> bool {
        self.verdicts
            .iter()
            .all(|(_, v, _)| matches!(v, Verdict::Allowed(_)))
    }
}

/// The needs of the generated policy `generated`: each action of each statement on each resource.
pub fn needs(generated: &Value) -> Vec<Need> {
    let mut needs = Vec::new();
    for (sid, statement) in evaluate::statements(std::slice::from_ref(generated)) {
        for action in evaluate::listed(&statement["Action"]) {
            for resource in evaluate::listed(&statement["Resource"]) {
                if let (Some(action), Some(resource)) = (action.as_str(), resource.as_str()) {
                    needs.push(Need {
                        sid: sid.clone(),
                        action: action.to_owned(),
                        resource: resource.to_owned(),
                    });
                }
            }
        }
    }
    needs
}

/// Checks `documents` against `generated` (the configuration's least-privilege policy).
pub fn check(documents: &[Value], generated: &Value, scope: &PolicyScope) -> Report {
    let keys = condition_keys(documents);
    let needs = needs(generated);
    let warnings = broader_than_needed(documents, &needs);
    let verdicts = needs
        .into_iter()
        .map(|need| {
            let request = Request {
                action: need.action.clone(),
                resource: need.resource.clone(),
                known: known_values(&need, &keys, scope),
            };
            let verdict = evaluate::evaluate(documents, &request);
            let hint = hint(&need, &verdict, documents);
            (need, verdict, hint)
        })
        .collect();
    Report { verdicts, warnings }
}

/// Every condition key the documents use, in lower case.
fn condition_keys(documents: &[Value]) -> Vec<String> {
    let mut keys = Vec::new();
    for (_, statement) in evaluate::statements(documents) {
        for key in condition_key_names(&statement) {
            let key = key.to_ascii_lowercase();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// The condition keys of one statement, as written, in every operator's block.
fn condition_key_names(statement: &Value) -> impl Iterator<Item = &String> {
    let blocks = statement["Condition"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values());
    blocks.flat_map(|block| block.as_object().into_iter().flat_map(|o| o.keys()))
}

/// The values a condition key is known to have in the request `need` makes; a key left out is
/// unknown (the verdict then depends on it). Only what the configuration decides is known: the
/// repository tags it sends, that a repository being created has no tags, the service a KMS grant
/// comes through.
fn known_values(
    need: &Need,
    keys: &[String],
    scope: &PolicyScope,
) -> BTreeMap<String, Vec<String>> {
    let tags = &scope.spec.settings.tags;
    let action = need.action.to_ascii_lowercase();
    let sends_tags = action.ends_with(":createrepository") || action.ends_with(":tagresource");
    let mut known = BTreeMap::new();
    for key in keys {
        if !supports(&action, key) {
            // IAM sees no such key in the request: the condition fails (`hint` says why).
            known.insert(key.clone(), Vec::new());
            continue;
        }
        let tag_value = |name: &str| -> Vec<String> {
            let found = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
            found.map(|(_, v)| vec![v.clone()]).unwrap_or_default()
        };
        let value = if let Some(name) = key.strip_prefix("aws:requesttag/") {
            Some(if sends_tags {
                tag_value(name)
            } else {
                Vec::new()
            })
        } else if key == "aws:tagkeys" {
            Some(if sends_tags {
                tags.iter().map(|(k, _)| k.clone()).collect()
            } else {
                Vec::new()
            })
        } else if let Some(name) = key
            .strip_prefix("ecr:resourcetag/")
            .or_else(|| key.strip_prefix("aws:resourcetag/"))
        {
            // A repository being created has no tags yet; an existing one's are only known when
            // this configuration sets the tag (otherwise they depend on the repository).
            if action.ends_with(":createrepository") {
                Some(Vec::new())
            } else {
                Some(tag_value(name)).filter(|v| !v.is_empty())
            }
        } else if key == "kms:viaservice" && action.starts_with("kms:") {
            let region = need
                .resource
                .split(':')
                .nth(3)
                .unwrap_or(scope.spec.region.as_str());
            Some(vec![format!("ecr.{region}.amazonaws.com")])
        } else {
            None
        };
        if let Some(value) = value {
            known.insert(key.clone(), value);
        }
    }
    known
}

/// Whether the request `action` (lower case) carries the condition key `key` (lower case), per AWS's
/// service authorization reference for ECR, ECR Public and KMS. Global `aws:` keys are always
/// evaluated (their values are decided in [`known_values`]); a service key the action does not
/// support is absent from its request, so a condition on it never holds. The one table of it.
fn supports(action: &str, key: &str) -> bool {
    let (service, rest) = key.split_once(':').unwrap_or(("", key));
    let name = rest.split('/').next().unwrap_or(rest);
    let on_repository =
        !action.ends_with(":createrepository") && !action.ends_with(":getauthorizationtoken");
    match (service, name) {
        ("aws", _) => true,
        ("ecr", "resourcetag") => action.starts_with("ecr:") && on_repository,
        ("ecr-public", "resourcetag") => action.starts_with("ecr-public:") && on_repository,
        ("kms", "viaservice" | "calleraccount" | "grantisforawsresource" | "grantoperations") => {
            action.starts_with("kms:")
        }
        _ => false,
    }
}

/// What to do when a need fails for a reason guides often get wrong: the token on a repository ARN,
/// or a statement that would allow the need but for a condition the request cannot meet.
fn hint(need: &Need, verdict: &Verdict, documents: &[Value]) -> Option<String> {
    if matches!(verdict, Verdict::Allowed(_)) {
        return None;
    }
    if need.action.ends_with(":GetAuthorizationToken") {
        return Some(format!(
            "the registry token is account-wide: IAM grants `{}` only on `\"*\"`, never on a repository ARN",
            need.action
        ));
    }
    let request = Request {
        action: need.action.clone(),
        resource: need.resource.clone(),
        known: BTreeMap::new(),
    };
    let action = need.action.to_ascii_lowercase();
    let mut hints = Vec::new();
    for (name, statement) in evaluate::statements(documents) {
        if statement["Effect"] != "Allow" || !evaluate::applies(&statement, &request) {
            continue;
        }
        for key in condition_key_names(&statement) {
            hints.extend(condition_hint(&name, &action, key));
        }
    }
    (!hints.is_empty()).then(|| hints.join("\n  "))
}

/// Why a condition on `key` keeps statement `name` from allowing `action`, and the key that works.
fn condition_hint(name: &str, action: &str, key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    let tag = key.split_once('/').map_or("", |(_, t)| t);
    if action.ends_with(":createrepository") && lower.contains(":resourcetag/") {
        return Some(format!(
            "statement {name}: a repository being created has no resource tags yet, so `{key}` never matches \
             CreateRepository: require `aws:RequestTag/{tag}` instead, which the input `repository-tags` sends \
             (e.g. `repository-tags: {tag}=…`)"
        ));
    }
    if !supports(action, &lower) {
        return Some(format!(
            "statement {name}: `{key}` is not a condition key of {action} (AWS's service authorization \
             reference), so this statement never allows it"
        ));
    }
    lower.starts_with("aws:requesttag/").then(|| {
        format!(
            "statement {name}: it requires the request tag `{tag}`: set it with `repository-tags: {tag}=…` (the \
             action sends the repository tags when it creates the repository)"
        )
    })
}

/// Warnings about what the documents allow beyond the configuration's needs, and about names that
/// cannot be right.
fn broader_than_needed(documents: &[Value], needs: &[Need]) -> Vec<String> {
    let needed: Vec<String> = needs
        .iter()
        .map(|n| n.action.to_ascii_lowercase())
        .collect();
    let mut warnings = Vec::new();
    for (name, statement) in evaluate::statements(documents) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let actions = evaluate::texts(&statement["Action"]);
        let resources = evaluate::texts(&statement["Resource"]);
        for action in &actions {
            let lower = action.to_ascii_lowercase();
            let service = lower.split(':').next().unwrap_or_default();
            if lower == "ecr:*" || lower == "ecr-public:*" || lower == "*" {
                warnings.push(format!("statement {name}: `{action}` allows every action of the service; the configuration needs {} of them", needed.len()));
                continue;
            }
            if !matches!(service, "ecr" | "ecr-public") || lower.contains('*') {
                continue;
            }
            if !KNOWN_ACTIONS.iter().any(|k| k.eq_ignore_ascii_case(action)) {
                warnings.push(format!("statement {name}: `{action}` is not an action of {service} (a typo, or one that exists only in the other ECR service)"));
            } else if !needed.contains(&lower) {
                warnings.push(format!(
                    "statement {name}: `{action}` is allowed but this configuration never calls it"
                ));
            }
            for resource in &resources {
                let wrong = (service == "ecr" && resource.contains(":ecr-public:"))
                    || (service == "ecr-public"
                        && resource.starts_with("arn:")
                        && resource.contains(":ecr:"));
                if wrong {
                    warnings.push(format!("statement {name}: `{action}` on `{resource}`: that ARN is not of {service}, so it never matches"));
                }
            }
        }
        let repository_actions = actions.iter().any(|a| {
            let lower = a.to_ascii_lowercase();
            lower.starts_with("ecr") && !lower.ends_with(":getauthorizationtoken")
        });
        if repository_actions && resources.iter().any(|r| r == "*") {
            warnings.push(format!("statement {name}: repository actions on `\"*\"` reach every repository; name the repository's ARN"));
        }
    }
    warnings
}

/// The actions of ECR and ECR Public that exist (AWS's service authorization reference, as parliament
/// 1.6.4's catalogue has it), to tell a typo or an action of the other service.
const KNOWN_ACTIONS: [&str; 74] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchDeleteImage",
    "ecr:BatchGetImage",
    "ecr:BatchGetRepositoryScanningConfiguration",
    "ecr:BatchImportUpstreamImage",
    "ecr:CompleteLayerUpload",
    "ecr:CreatePullThroughCacheRule",
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeletePullThroughCacheRule",
    "ecr:DeleteRegistryPolicy",
    "ecr:DeleteRepository",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DeleteRepositoryPolicy",
    "ecr:DescribeImageReplicationStatus",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImages",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetAccountSetting",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:GetRegistryPolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:InitiateLayerUpload",
    "ecr:ListImages",
    "ecr:ListTagsForResource",
    "ecr:PutAccountSetting",
    "ecr:PutImage",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:PutRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "ecr:ReplicateImage",
    "ecr:SetRepositoryPolicy",
    "ecr:StartImageScan",
    "ecr:StartLifecyclePolicyPreview",
    "ecr:TagResource",
    "ecr:UntagResource",
    "ecr:UpdatePullThroughCacheRule",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:UploadLayerPart",
    "ecr:ValidatePullThroughCacheRule",
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:BatchDeleteImage",
    "ecr-public:CompleteLayerUpload",
    "ecr-public:CreateRepository",
    "ecr-public:DeleteRepository",
    "ecr-public:DeleteRepositoryPolicy",
    "ecr-public:DescribeImageTags",
    "ecr-public:DescribeImages",
    "ecr-public:DescribeRegistries",
    "ecr-public:DescribeRepositories",
    "ecr-public:GetAuthorizationToken",
    "ecr-public:GetRegistryCatalogData",
    "ecr-public:GetRepositoryCatalogData",
    "ecr-public:GetRepositoryPolicy",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:ListTagsForResource",
    "ecr-public:PutImage",
    "ecr-public:PutRegistryCatalogData",
    "ecr-public:PutRepositoryCatalogData",
    "ecr-public:SetRepositoryPolicy",
    "ecr-public:TagResource",
    "ecr-public:UntagResource",
    "ecr-public:UploadLayerPart",
];

/// Whether a trust policy lets the GitHub workflow whose token has `sub` and `aud` (from `issuer`)
/// assume the role: `sts:AssumeRoleWithWebIdentity` with the provider `provider_arn` as principal,
/// the token's `sub` and `aud` as the known condition keys; any other key makes it depend.
pub fn check_trust(
    documents: &[Value],
    provider_arn: &str,
    issuer: &str,
    sub: &str,
    aud: &str,
) -> Verdict {
    // IAM matches a trust statement's Principal as an identity policy matches its Resource.
    let as_resources: Vec<Value> = documents
        .iter()
        .map(|document| {
            let statements: Vec<Value> = evaluate::listed(&document["Statement"])
                .into_iter()
                .map(|mut statement| {
                    let federated = statement["Principal"]["Federated"].clone();
                    if let Some(object) = statement.as_object_mut() {
                        object.remove("Principal");
                        object.insert("Resource".into(), federated);
                    }
                    statement
                })
                .collect();
            json!({ "Statement": statements })
        })
        .collect();
    let issuer = issuer.to_ascii_lowercase();
    let request = Request {
        action: "sts:AssumeRoleWithWebIdentity".into(),
        resource: provider_arn.to_owned(),
        known: BTreeMap::from([
            (format!("{issuer}:sub"), vec![sub.to_owned()]),
            (format!("{issuer}:aud"), vec![aud.to_owned()]),
        ]),
    };
    evaluate::evaluate(&as_resources, &request)
}

/// Why a trust policy does not accept the token, where a near miss says it: another provider (e.g.
/// github.com's on a GitHub Enterprise Server), or a subject that differs only in case.
pub fn trust_hints(documents: &[Value], provider_arn: &str, sub: &str) -> Vec<String> {
    let text = serde_json::to_string(documents).unwrap_or_default();
    let mut hints = Vec::new();
    if !text.contains(provider_arn) && text.contains(":oidc-provider/") {
        hints.push(format!(
            "no statement names the provider {provider_arn}: the token comes from that issuer (on GitHub \
             Enterprise Server it is the server's own, not github.com's)"
        ));
    }
    if !text.contains(sub)
        && text
            .to_ascii_lowercase()
            .contains(&sub.to_ascii_lowercase())
    {
        hints.push(format!(
            "the subject `{sub}` appears in another case: the `sub` condition is case-sensitive"
        ));
    }
    hints
}

/// A verdict in words; `yes` and `no` say what an allowing statement does, or the lack of one.
pub fn said(verdict: &Verdict, yes: &str, no: &str) -> String {
    match verdict {
        Verdict::Allowed(by) => format!("{yes} by statement {by}"),
        Verdict::Denied(by) => format!("DENIED by statement {by}"),
        Verdict::NotAllowed => format!("{no}: no statement allows it"),
        Verdict::Depends { statement, keys } => format!(
            "depends on {} (statement {statement}): not decided here",
            keys.join(", ")
        ),
    }
}

/// The report as text: a line per need, the statements that would complete the policy, warnings.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for (need, verdict, hint) in &report.verdicts {
        let said = said(verdict, "allowed", "NOT ALLOWED");
        let _ = writeln!(out, "{} on {}: {said}", need.action, need.resource);
        if let Some(hint) = hint {
            let _ = writeln!(out, "  {hint}");
        }
    }
    let missing = to_add(report);
    if missing.is_empty() {
        let _ = writeln!(
            out,
            "\nThe policy allows everything this configuration needs."
        );
    } else {
        let document = json!({ "Version": "2012-10-17", "Statement": missing });
        let _ = writeln!(
            out,
            "\nThe policy does not allow everything this configuration needs. Statements to add:\n{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// The report for machines.
pub fn json(report: &Report) -> String {
    let verdicts: Vec<Value> = report
        .verdicts
        .iter()
        .map(|(need, verdict, hint)| {
            let (result, statement, keys) = match verdict {
                Verdict::Allowed(by) => ("allowed", Some(by.as_str()), Vec::new()),
                Verdict::Denied(by) => ("denied", Some(by.as_str()), Vec::new()),
                Verdict::NotAllowed => ("not-allowed", None, Vec::new()),
                Verdict::Depends { statement, keys } => {
                    ("depends", Some(statement.as_str()), keys.clone())
                }
            };
            json!({"action": need.action, "resource": need.resource, "result": result,
                   "statement": statement, "depends-on": keys, "hint": hint})
        })
        .collect();
    let add = to_add(report);
    serde_json::to_string_pretty(&json!({
        "sufficient": report.sufficient(),
        "needs": verdicts,
        "add": add,
        "warnings": report.warnings,
    }))
    .unwrap_or_default()
        + "\n"
}

/// The generator's statements, narrowed to the needs that are not allowed for certain.
fn to_add(report: &Report) -> Vec<Value> {
    let mut by_sid: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for (need, verdict, _) in &report.verdicts {
        if matches!(verdict, Verdict::Allowed(_)) {
            continue;
        }
        let at = by_sid
            .iter()
            .position(|(sid, _, _)| *sid == need.sid)
            .unwrap_or_else(|| {
                by_sid.push((need.sid.clone(), Vec::new(), Vec::new()));
                by_sid.len() - 1
            });
        let (_, actions, resources) = &mut by_sid[at];
        if !actions.contains(&need.action) {
            actions.push(need.action.clone());
        }
        if !resources.contains(&need.resource) {
            resources.push(need.resource.clone());
        }
    }
    by_sid
        .into_iter()
        .map(|(sid, actions, resources)| {
            let resource = super::one_or_list(&resources);
            json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";

    fn scope(extra: &[(&str, &str)]) -> PolicyScope {
        let mut vars = vec![
            ("INPUT_REPOSITORY", "team/api"),
            ("INPUT_AWS-REGION", "eu-west-1"),
            ("INPUT_REGISTRY-ID", "123456789012"),
        ];
        vars.extend(extra);
        crate::inputs::policy_scope(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .expect("valid")
    }

    /// The verdict and hint for `action` under one statement allowing it with `condition`.
    fn verdict(action: &str, condition: &Value, scope: &PolicyScope) -> (Verdict, Option<String>) {
        let document = json!({"Statement": [{"Sid": "S", "Effect": "Allow", "Action": action, "Resource": ARN, "Condition": condition}]});
        let generated = super::super::identity_policy(scope, super::super::Persona::Pusher);
        let report = check(&[document], &generated, scope);
        let (_, verdict, hint) = report
            .verdicts
            .into_iter()
            .find(|(need, _, _)| need.action == action)
            .expect("a need");
        (verdict, hint)
    }

    #[test]
    fn each_condition_class_is_told_apart() {
        let plain = scope(&[]);
        let (v, hint) = verdict(
            "ecr:PutImage",
            &json!({"StringEquals": {"ecr:repositoryName": "team/api"}}),
            &plain,
        );
        assert_eq!(v, Verdict::NotAllowed);
        assert!(hint.is_some_and(|h| {
            h.contains("`ecr:repositoryName` is not a condition key of ecr:putimage")
        }));
        let (v, _) = verdict(
            "ecr:PutImage",
            &json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            &plain,
        );
        assert_eq!(
            v,
            Verdict::Depends {
                statement: "S".into(),
                keys: vec!["aws:SourceIp".into()]
            }
        );
        let on_tag = json!({"StringEquals": {"ecr:ResourceTag/Team": "api"}});
        let (v, _) = verdict("ecr:PutImage", &on_tag, &plain);
        assert!(
            matches!(v, Verdict::Depends { .. }),
            "the repository's tags decide: {v:?}"
        );
        let tagged = scope(&[("INPUT_REPOSITORY-TAGS", "Team=api")]);
        assert_eq!(
            verdict("ecr:PutImage", &on_tag, &tagged).0,
            Verdict::Allowed("S".into())
        );
        let (v, hint) = verdict("ecr:CreateRepository", &on_tag, &tagged);
        assert_eq!(v, Verdict::NotAllowed);
        assert!(hint.is_some_and(|h| h.contains("require `aws:RequestTag/Team` instead")));
        let on_request = json!({"StringEquals": {"aws:RequestTag/Team": "api"}});
        assert_eq!(
            verdict("ecr:CreateRepository", &on_request, &tagged).0,
            Verdict::Allowed("S".into())
        );
        let (v, hint) = verdict("ecr:CreateRepository", &on_request, &plain);
        assert_eq!(v, Verdict::NotAllowed);
        assert!(hint.is_some_and(|h| h.contains("repository-tags: Team=…")));
    }
}
