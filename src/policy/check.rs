//! `ecr-push-action policy --check FILE…`: does a policy someone already has allow what this
//! configuration needs? The needs are the generator's own output (every action on every resource of
//! the least-privilege policy); each is evaluated statically against the given documents as IAM
//! would (`evaluate.rs`), and the report says, per need, allowed / denied / not allowed / depends, the
//! statements to add for what is missing, and what the policy allows beyond the need.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::Need;
use super::advice;
use super::evaluate::{self, Context, Policies, Policy, Request, ResourcePolicy, Verdict};
use crate::inputs::PolicyScope;
use crate::partition::{self, account_of, principal_arn};

/// What `--check` knows of the principal whose policies it checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub identity: &'a [Policy],
    /// The principal's permissions boundary, if it has one.
    pub boundary: Option<&'a [Policy]>,
    /// The repository's policy (ECR's resource-based policy), when given or read.
    pub repository_policy: Option<&'a Policy>,
    /// The principal's ARN (`--caller-arn`, or the role or user read from IAM).
    pub caller: Option<&'a str>,
    /// The tags the repository has now, when they were read.
    pub existing_tags: Option<&'a [(String, String)]>,
}

/// The verdict on one need, why it fails where a mistake is common, and which policy lacks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub need: Need,
    pub verdict: Verdict,
    pub hint: Option<String>,
    /// The identity policies (inside any boundary) do not allow it.
    pub identity_lacks: bool,
    /// Across accounts, the repository policy does not allow it to the caller.
    pub repository_lacks: bool,
}

/// The verdict on every need, and what the report warns about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub verdicts: Vec<Checked>,
    pub warnings: Vec<String>,
    /// Who a repository policy statement to add names: the caller, else its account's root in the
    /// registry's partition (a placeholder account).
    pub principal: String,
}

impl Report {
    /// Every need is allowed for certain.
    pub fn sufficient(&self) -> bool {
        self.verdicts
            .iter()
            .all(|c| matches!(c.verdict, Verdict::Allowed(_)))
    }
}

/// Checks `subject`'s policies against `generated` (the configuration's least-privilege policy).
pub fn check(subject: &Subject<'_>, generated: &Value, scope: &PolicyScope) -> Report {
    let needs = super::needs(generated);
    let warnings = super::beyond::broader_than_needed(subject.identity, &needs);
    let keys = condition_keys(subject);
    let verdicts = needs
        .into_iter()
        .filter_map(|need| {
            // A need on no region's resource (the token) is asked in each destination's region: the
            // worst verdict of them stands.
            let judged = regions_of(&need, scope)
                .into_iter()
                .map(|region| judge(&need, &region, subject, scope, &keys));
            judged.max_by_key(|c| match c.verdict {
                Verdict::Allowed(_) => 0,
                Verdict::Depends { .. } => 1,
                Verdict::NotAllowed => 2,
                Verdict::Denied(_) => 3,
            })
        })
        .collect();
    let principal = subject.caller.map_or_else(
        || partition::of_region(&scope.spec.region).arn("iam", "", "CALLER_ACCOUNT", "root"),
        str::to_owned,
    );
    Report {
        verdicts,
        warnings,
        principal,
    }
}

/// The verdict on `need` sent to `region`, and which policy lacks it.
/// `keys`: every condition key the policies use ([`condition_keys`]).
fn judge(
    need: &Need,
    region: &str,
    subject: &Subject<'_>,
    scope: &PolicyScope,
    keys: &[String],
) -> Checked {
    let cross_account = match (
        subject.caller.and_then(account_of),
        account_of(&need.resource),
    ) {
        (Some(caller), Some(owner)) => caller != owner,
        _ => false,
    };
    let on_repository = need.resource.contains(":repository/");
    let resource = match (subject.repository_policy, on_repository, cross_account) {
        (Some(policy), true, _) => ResourcePolicy::Given(policy),
        (None, true, true) => ResourcePolicy::Unread(advice::UNREAD_REPOSITORY_POLICY),
        _ => ResourcePolicy::None,
    };
    let request = Request {
        action: need.action.clone(),
        resource: need.resource.clone(),
        context: known_values(need, region, subject, scope, keys),
        caller: subject.caller.map(str::to_owned),
    };
    let policies = Policies {
        identity: subject.identity,
        boundary: subject.boundary,
        resource,
        cross_account,
    };
    let verdict = evaluate::decide(&policies, &request).verdict;
    let (identity_lacks, repository_lacks) = lacks(&policies, &request);
    let hint = if repository_lacks && !identity_lacks {
        let account = account_of(&need.resource).unwrap_or_default();
        Some(advice::repository_policy_must_allow(account))
    } else {
        hint(need, &verdict, subject, &request.context)
    };
    Checked {
        need: need.clone(),
        verdict,
        hint,
        identity_lacks,
        repository_lacks,
    }
}

/// Whether requests of `action` carry the repository's tags (`aws:RequestTag/*`, `aws:TagKeys`).
fn sends_tags(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    action.ends_with(":createrepository") || action.ends_with(":tagresource")
}

/// Which side lacks the request: the identity policies alone (inside any boundary), and across
/// accounts the repository policy alone (a policy not read lacks nothing known).
fn lacks(policies: &Policies<'_>, request: &Request) -> (bool, bool) {
    let allowed = |policies: &Policies<'_>| {
        matches!(
            evaluate::decide(policies, request).verdict,
            Verdict::Allowed(_)
        )
    };
    let identity = !allowed(&Policies {
        resource: ResourcePolicy::None,
        cross_account: false,
        ..*policies
    });
    let repository = policies.cross_account
        && match policies.resource {
            ResourcePolicy::Given(policy) => !allowed(&Policies {
                identity: &[],
                boundary: None,
                resource: ResourcePolicy::Given(policy),
                cross_account: false,
            }),
            ResourcePolicy::Unread(_) => false,
            ResourcePolicy::None => true,
        };
    (identity, repository)
}

/// What the request `need` makes is known to carry (IAM User Guide, "AWS global condition context
/// keys"): the region it is sent to, TLS, the caller when it is known, the tags ([`tag_values`]), the
/// service a KMS grant comes through (ECR's host in the region's partition, as the generator names
/// it). Every other key is unknown: the verdict then depends on it.
fn known_values(
    need: &Need,
    region: &str,
    subject: &Subject<'_>,
    scope: &PolicyScope,
    keys: &[String],
) -> Context {
    let action = need.action.to_ascii_lowercase();
    let mut known = Context::unknown_unless_given();
    for key in keys {
        if !supports(&action, key) {
            // IAM sees no such key in the request: the condition fails (`hint` says why).
            known.set(key, Vec::new());
        } else if let Some(values) = tag_values(key, &action, subject, scope) {
            known.set(key, values);
        } else if key == "kms:viaservice" && action.starts_with("kms:") {
            let host = partition::of_region(region).service_host("ecr", region);
            known.set(key, vec![host]);
        }
    }
    known.set("aws:RequestedRegion", vec![region.to_owned()]);
    known.set("aws:SecureTransport", vec!["true".to_owned()]);
    if let Some(caller) = subject.caller {
        known.set("aws:PrincipalArn", vec![principal_arn(caller)]);
        if let Some(account) = account_of(caller) {
            known.set("aws:PrincipalAccount", vec![account.to_owned()]);
        }
    }
    known
}

/// The values of the tag key `key` (lower case) in the request of `action` (lower case), when they
/// are known: the repository tags the configuration sends, in the requests that send them (none in
/// the others); the repository's own tags — none while it is being created, else the one this
/// configuration sets, else the one it has now if that was read. `None`: no tag key, or not known.
fn tag_values(
    key: &str,
    action: &str,
    subject: &Subject<'_>,
    scope: &PolicyScope,
) -> Option<Vec<String>> {
    let tags = &scope.spec.settings.tags;
    let value = |tags: &[(String, String)], name: &str| -> Vec<String> {
        let found = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
        found.map(|(_, v)| vec![v.clone()]).unwrap_or_default()
    };
    let sent = sends_tags(action);
    if let Some(name) = key.strip_prefix("aws:requesttag/") {
        return Some(if sent { value(tags, name) } else { Vec::new() });
    }
    if key == "aws:tagkeys" {
        let keys = tags.iter().map(|(k, _)| k.clone());
        return Some(if sent { keys.collect() } else { Vec::new() });
    }
    let name = key
        .strip_prefix("ecr:resourcetag/")
        .or_else(|| key.strip_prefix("aws:resourcetag/"))?;
    if action.ends_with(":createrepository") {
        return Some(Vec::new());
    }
    let configured = value(tags, name);
    if !configured.is_empty() {
        return Some(configured);
    }
    subject.existing_tags.map(|existing| value(existing, name))
}

/// The regions a need's request is sent to: its resource's; ECR Public's API and STS's bearer token
/// are in us-east-1 only; else (the registry token) each destination's.
fn regions_of(need: &Need, scope: &PolicyScope) -> Vec<String> {
    let service = need.action.split(':').next().unwrap_or_default();
    if service.eq_ignore_ascii_case("ecr-public") || service.eq_ignore_ascii_case("sts") {
        return vec!["us-east-1".to_owned()];
    }
    if let Some(region) = partition::region_of(&need.resource) {
        return vec![region.to_owned()];
    }
    let mut regions: Vec<String> = Vec::new();
    let all = std::iter::once(&scope.spec.region)
        .chain(scope.spec.destinations.iter().map(|t| &t.region));
    for region in all {
        if !regions.contains(region) {
            regions.push(region.clone());
        }
    }
    regions
}

/// Every condition key the policies use, in lower case.
pub fn condition_keys(subject: &Subject<'_>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let policies = subject
        .identity
        .iter()
        .chain(subject.boundary.unwrap_or_default())
        .chain(subject.repository_policy);
    for policy in policies {
        for (_, statement) in evaluate::statements(policy) {
            for key in condition_key_names(statement) {
                let key = key.to_ascii_lowercase();
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// The condition keys of one statement, as written, in every operator's block.
fn condition_key_names(statement: &Value) -> impl Iterator<Item = &str> {
    super::condition::keys(&statement["Condition"])
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
/// a statement that would allow the need but for a condition the request cannot meet, or a deny and
/// the keys that make it apply.
fn hint(
    need: &Need,
    verdict: &Verdict,
    subject: &Subject<'_>,
    context: &Context,
) -> Option<String> {
    if let Verdict::Denied(by) = verdict {
        return deny_hint(&need.action, by, subject, context);
    }
    if matches!(verdict, Verdict::Allowed(_)) {
        return None;
    }
    if need.action.ends_with(":GetAuthorizationToken") {
        return Some(advice::token_is_account_wide(&need.action));
    }
    let action = need.action.to_ascii_lowercase();
    let mut hints = Vec::new();
    for (at, statement) in evaluate::all_statements(subject.identity) {
        if statement["Effect"] != "Allow"
            || !evaluate::applies(statement, &need.action, &need.resource)
        {
            continue;
        }
        for key in condition_key_names(statement) {
            hints.extend(condition_hint(&at.to_string(), &action, key));
        }
    }
    (!hints.is_empty()).then(|| hints.join("\n  "))
}

/// The keys of the denying statement `by` and what the request carries for each; for a request tag,
/// the input that sends it.
fn deny_hint(
    action: &str,
    by: &evaluate::StatementRef,
    subject: &Subject<'_>,
    context: &Context,
) -> Option<String> {
    let policies = subject
        .identity
        .iter()
        .chain(subject.boundary.unwrap_or_default())
        .chain(subject.repository_policy);
    let statement = policies
        .flat_map(evaluate::statements)
        .find(|(at, _)| at == by)
        .map(|(_, s)| s)?;
    let by = by.to_string();
    let mut said = Vec::new();
    for key in condition_key_names(statement) {
        let mut line = match context.get(key) {
            evaluate::Lookup::Known(values) => advice::denies_on_key(&by, key, Some(values)),
            evaluate::Lookup::Absent => advice::denies_on_key(&by, key, None),
            evaluate::Lookup::Unknown => continue,
        };
        let request_tag = key.to_ascii_lowercase().starts_with("aws:requesttag/");
        if let Some((_, tag)) = key.split_once('/').filter(|_| request_tag) {
            line += &if sends_tags(action) {
                advice::request_tag_sent_by_input(tag)
            } else {
                advice::request_tag_never_sent(action, key)
            };
        }
        said.push(line);
    }
    if said.is_empty() {
        said.push(advice::denied_without_condition(&by));
    }
    Some(said.join("\n  "))
}

/// Why a condition on `key` keeps statement `name` from allowing `action`, and the key that works.
fn condition_hint(name: &str, action: &str, key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    let tag = key.split_once('/').map_or("", |(_, t)| t);
    if action.ends_with(":createrepository") && lower.contains(":resourcetag/") {
        return Some(advice::created_repository_has_no_tags(name, key, tag));
    }
    if !supports(action, &lower) {
        return Some(advice::not_a_condition_key(name, key, action));
    }
    lower
        .starts_with("aws:requesttag/")
        .then(|| advice::request_tag_required(name, tag))
}

/// The report as text: a line per need, the statements that would complete the policy, warnings.
/// Every line that holds text from a policy is neutralised as the action's log is (`github.rs`): a
/// `Sid` or resource can hold a line break and a workflow command. The statements to add are JSON
/// the action writes itself, whose strings cannot break a line.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(&crate::github::neutralise(text));
        out.push('\n');
    };
    for checked in &report.verdicts {
        let said = checked.verdict.in_words("allowed", "NOT ALLOWED");
        line(&format!(
            "{} on {}: {said}",
            checked.need.action, checked.need.resource
        ));
        if let Some(hint) = &checked.hint {
            line(&format!("  {hint}"));
        }
    }
    let (identity, repository) = to_add(report);
    line(&format!(
        "\n{}",
        advice::conclusion(identity.is_empty() && repository.is_empty())
    ));
    for (heading, statements) in [
        (advice::ADD_TO_IDENTITY_POLICY, identity),
        (advice::ADD_TO_REPOSITORY_POLICY, repository),
    ] {
        if !statements.is_empty() {
            let document = json!({ "Version": "2012-10-17", "Statement": statements });
            let pretty = serde_json::to_string_pretty(&document).unwrap_or_default();
            let _ = writeln!(out, "{heading}\n{pretty}");
        }
    }
    for warning in &report.warnings {
        out.push_str(&crate::github::neutralise(&format!("warning: {warning}")));
        out.push('\n');
    }
    out
}

/// The report for machines.
pub fn json(report: &Report) -> String {
    let verdicts: Vec<Value> = report
        .verdicts
        .iter()
        .map(|checked| {
            let (result, statement, keys) = match &checked.verdict {
                Verdict::Allowed(by) => ("allowed", Some(by.to_string()), Vec::new()),
                Verdict::Denied(by) => ("denied", Some(by.to_string()), Vec::new()),
                Verdict::NotAllowed => ("not-allowed", None, Vec::new()),
                Verdict::Depends { statement, keys } => {
                    ("depends", Some(statement.to_string()), keys.clone())
                }
            };
            json!({"action": checked.need.action, "resource": checked.need.resource, "result": result,
                   "statement": statement, "depends-on": keys, "hint": checked.hint})
        })
        .collect();
    let (identity, repository) = to_add(report);
    serde_json::to_string_pretty(&json!({
        "sufficient": report.sufficient(),
        "needs": verdicts,
        "add": identity,
        "add-to-repository-policy": repository,
        "warnings": report.warnings,
    }))
    .unwrap_or_default()
        + "\n"
}

/// The generator's statements, narrowed to the needs that are not allowed for certain: for the
/// identity policy, and across accounts for the repository's policy (naming the caller, or its
/// account when the caller is not known).
fn to_add(report: &Report) -> (Vec<Value>, Vec<Value>) {
    let failing = |lacks: fn(&Checked) -> bool| {
        let mut by_sid: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for checked in &report.verdicts {
            if matches!(checked.verdict, Verdict::Allowed(_)) || !lacks(checked) {
                continue;
            }
            let need = &checked.need;
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
    };
    let identity = failing(|c| c.identity_lacks || !c.repository_lacks)
        .into_iter()
        .map(|(sid, actions, resources)| {
            let resource = super::one_or_list(&resources);
            json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    let principal = &report.principal;
    let repository = failing(|c| c.repository_lacks)
        .into_iter()
        .map(|(sid, actions, _)| {
            json!({"Sid": format!("{sid}FromAnotherAccount"), "Effect": "Allow",
                   "Principal": {"AWS": principal}, "Action": actions})
        })
        .collect();
    (identity, repository)
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
        let policies = [Policy::new("test.json", document).expect("a policy")];
        let subject = Subject {
            identity: &policies,
            ..Subject::default()
        };
        let report = check(&subject, &generated, scope);
        let checked = report
            .verdicts
            .into_iter()
            .find(|c| c.need.action == action)
            .expect("a need");
        (checked.verdict, checked.hint)
    }

    /// The statement `S` of `test.json`.
    fn s() -> evaluate::StatementRef {
        evaluate::StatementRef {
            source: "test.json".into(),
            index: 1,
            sid: Some("S".into()),
        }
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
        let unknown_key = advice::not_a_condition_key("S", "ecr:repositoryName", "ecr:putimage");
        assert_eq!(hint, Some(unknown_key));
        let (v, _) = verdict(
            "ecr:PutImage",
            &json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            &plain,
        );
        assert_eq!(
            v,
            Verdict::Depends {
                statement: s(),
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
            Verdict::Allowed(s())
        );
        let (v, hint) = verdict("ecr:CreateRepository", &on_tag, &tagged);
        assert_eq!(v, Verdict::NotAllowed);
        let untagged = advice::created_repository_has_no_tags("S", "ecr:ResourceTag/Team", "Team");
        assert_eq!(hint, Some(untagged));
        let on_request = json!({"StringEquals": {"aws:RequestTag/Team": "api"}});
        assert_eq!(
            verdict("ecr:CreateRepository", &on_request, &tagged).0,
            Verdict::Allowed(s())
        );
        let (v, hint) = verdict("ecr:CreateRepository", &on_request, &plain);
        assert_eq!(v, Verdict::NotAllowed);
        assert_eq!(hint, Some(advice::request_tag_required("S", "Team")));
    }

    /// In each partition beyond `aws` (`super::super::tests::PARTITIONS`, from AWS's partition facts)
    /// the generated policy passes its own check: its needs are on the partition's ARNs, and what the
    /// request carries is the partition's too — `kms:ViaService`, ECR's host there, as the generator
    /// writes it; `aws:PrincipalArn` of a role session, its role's ARN there.
    #[test]
    fn the_generated_policy_passes_its_own_check_in_every_partition() {
        let kms = [
            ("INPUT_ENCRYPTION-TYPE", "KMS"),
            ("INPUT_KMS-KEY", "alias/images"),
        ];
        for (region, id, _) in super::super::tests::PARTITIONS {
            let scope = super::super::tests::scope_in(region, &kms);
            let generated = super::super::identity_policy(&scope, super::super::Persona::Pusher);
            let role = format!("arn:{id}:iam::123456789012:role/ci");
            let mut document = generated.clone();
            let only_ci = json!({"Sid": "OnlyTheCiRole", "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role}}});
            document["Statement"]
                .as_array_mut()
                .expect("statements")
                .push(only_ci);
            let policies = [Policy::new("generated.json", document).expect("a policy")];
            let caller = format!("arn:{id}:sts::123456789012:assumed-role/ci/run-1");
            let subject = Subject {
                identity: &policies,
                caller: Some(&caller),
                ..Subject::default()
            };
            let report = check(&subject, &generated, &scope);
            assert!(report.sufficient(), "{region}:\n{}", text(&report));
            let repository = format!("arn:{id}:ecr:{region}:123456789012:repository/team/api");
            let key = format!("arn:{id}:kms:{region}:123456789012:key/*");
            for checked in &report.verdicts {
                let resource = &checked.need.resource;
                assert!(
                    [repository.as_str(), key.as_str(), "*"].contains(&resource.as_str()),
                    "{region}: {resource}"
                );
            }
            assert!(
                report.verdicts.iter().any(|c| c.need.resource == key),
                "{region}: the KMS key is a need"
            );
        }
    }
}
