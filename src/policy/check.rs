//! `ecr-push-action policy --check FILE…`: does a policy someone already has allow what this
//! configuration needs? The needs are the generator's own output (every action on every resource of
//! the least-privilege policy); each is evaluated statically against the given documents as IAM
//! would (`evaluate.rs`), and the report says, per need, allowed / denied / not allowed / depends, the
//! statements to add for what is missing, and what the policy allows beyond the need.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::evaluate::{self, Context, Policies, Policy, Request, ResourcePolicy, Verdict};
use crate::inputs::PolicyScope;
use crate::partition::account_of;

/// One (action, resource) the configuration needs, and the generator's statement it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub sid: String,
    pub action: String,
    pub resource: String,
}

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
    /// Who a repository policy statement to add names.
    pub caller: Option<String>,
}

impl Report {
    /// Every need is allowed for certain.
    pub fn sufficient(&self) -> bool {
        self.verdicts
            .iter()
            .all(|c| matches!(c.verdict, Verdict::Allowed(_)))
    }
}

/// The needs of the generated policy `generated`: each action of each statement on each resource.
pub fn needs(generated: &Value) -> Vec<Need> {
    let generated = Policy {
        source: "the generated policy".to_owned(),
        document: generated.clone(),
    };
    let mut needs = Vec::new();
    for (at, statement) in evaluate::statements(&generated) {
        let sid = at.to_string();
        for action in evaluate::texts(&statement["Action"]) {
            for resource in evaluate::texts(&statement["Resource"]) {
                needs.push(Need {
                    sid: sid.clone(),
                    action: action.clone(),
                    resource,
                });
            }
        }
    }
    needs
}

/// Every statement of every policy.
pub(super) fn all_statements(
    policies: &[Policy],
) -> impl Iterator<Item = (evaluate::StatementRef, &Value)> {
    policies.iter().flat_map(evaluate::statements)
}

/// Checks `subject`'s policies against `generated` (the configuration's least-privilege policy).
pub fn check(subject: &Subject<'_>, generated: &Value, scope: &PolicyScope) -> Report {
    let needs = needs(generated);
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
    Report {
        verdicts,
        warnings,
        caller: subject.caller.map(str::to_owned),
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
        (None, true, true) => ResourcePolicy::Unread(UNREAD_REPOSITORY_POLICY),
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
        Some(format!(
            "the identity policy allows it, but the registry is in account {}: its repository policy must \
             allow the caller too (IAM User Guide, \"Cross-account policy evaluation logic\")",
            account_of(&need.resource).unwrap_or_default()
        ))
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

/// What a cross-account verdict depends on when the repository's policy was not given.
const UNREAD_REPOSITORY_POLICY: &str =
    "the repository policy of the other account (give it with --repository-policy FILE)";

/// What the request `need` makes is known to carry (IAM User Guide, "AWS global condition context
/// keys"): the region it is sent to, TLS, the caller when it is known, the repository tags the
/// configuration sends (and that a repository being created has none), the service a KMS grant comes
/// through. Every other key is unknown: the verdict then depends on it.
fn known_values(
    need: &Need,
    region: &str,
    subject: &Subject<'_>,
    scope: &PolicyScope,
    keys: &[String],
) -> Context {
    let tags = &scope.spec.settings.tags;
    let action = need.action.to_ascii_lowercase();
    let sends_tags = sends_tags(&action);
    let mut known = Context::unknown_unless_given();
    for key in keys {
        if !supports(&action, key) {
            // IAM sees no such key in the request: the condition fails (`hint` says why).
            known.set(key, Vec::new());
            continue;
        }
        let tag_value = |name: &str| -> Vec<String> {
            let found = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
            found.map(|(_, v)| vec![v.clone()]).unwrap_or_default()
        };
        if let Some(name) = key.strip_prefix("aws:requesttag/") {
            known.set(
                key,
                if sends_tags {
                    tag_value(name)
                } else {
                    Vec::new()
                },
            );
        } else if key == "aws:tagkeys" {
            let tag_keys = tags.iter().map(|(k, _)| k.clone()).collect();
            known.set(key, if sends_tags { tag_keys } else { Vec::new() });
        } else if let Some(name) = key
            .strip_prefix("ecr:resourcetag/")
            .or_else(|| key.strip_prefix("aws:resourcetag/"))
        {
            // A repository being created has no tags yet; an existing one has the tag this
            // configuration sets, else the one it has now if that was read (else it depends).
            let existing = subject.existing_tags.map(|tags| {
                let found = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
                found.map(|(_, v)| vec![v.clone()]).unwrap_or_default()
            });
            if action.ends_with(":createrepository") {
                known.set(key, Vec::new());
            } else if let v @ [_, ..] = tag_value(name).as_slice() {
                known.set(key, v.to_vec());
            } else if let Some(existing) = existing {
                known.set(key, existing);
            }
        } else if key == "kms:viaservice" && action.starts_with("kms:") {
            known.set(key, vec![format!("ecr.{region}.amazonaws.com")]);
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

/// The regions a need's request is sent to: its resource's; ECR Public's API and STS's bearer token
/// are in us-east-1 only; else (the registry token) each destination's.
fn regions_of(need: &Need, scope: &PolicyScope) -> Vec<String> {
    let service = need.action.split(':').next().unwrap_or_default();
    if service.eq_ignore_ascii_case("ecr-public") || service.eq_ignore_ascii_case("sts") {
        return vec!["us-east-1".to_owned()];
    }
    if let Some(region) = need.resource.split(':').nth(3).filter(|r| !r.is_empty()) {
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

/// `aws:PrincipalArn` of a caller: a role session's is its role's ARN (IAM User Guide, "AWS global
/// condition context keys", aws:PrincipalArn).
fn principal_arn(caller: &str) -> String {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    if let [arn, partition, "sts", _, account, resource] = parts.as_slice()
        && let Some(session) = resource.strip_prefix("assumed-role/")
    {
        let role = session.split('/').next().unwrap_or(session);
        return format!("{arn}:{partition}:iam::{account}:role/{role}");
    }
    caller.to_owned()
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
        return Some(format!(
            "the registry token is account-wide: IAM grants `{}` only on `\"*\"`, never on a repository ARN",
            need.action
        ));
    }
    let action = need.action.to_ascii_lowercase();
    let mut hints = Vec::new();
    for (at, statement) in all_statements(subject.identity) {
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
    let mut said = Vec::new();
    for key in condition_key_names(statement) {
        let value = match context.get(key) {
            evaluate::Lookup::Known(values) => format!("the request has {}", values.join(", ")),
            evaluate::Lookup::Absent => "the request does not carry it".to_owned(),
            evaluate::Lookup::Unknown => continue,
        };
        let mut line = format!("statement {by} denies on `{key}`: {value}");
        let request_tag = key.to_ascii_lowercase().starts_with("aws:requesttag/");
        if let Some((_, tag)) = key.split_once('/').filter(|_| request_tag) {
            if sends_tags(action) {
                let _ = write!(line, " (the input `repository-tags: {tag}=…` sends it)");
            } else {
                // AWS global condition context keys, aws:RequestTag: present only in requests that
                // send tags; a negated operator holds on an absent key.
                let _ = write!(
                    line,
                    ": {action} never sends tags, so this statement denies every such request; limit it to \
                     the actions that tag (ecr:CreateRepository, ecr:TagResource), or add \
                     `\"Null\": {{\"{key}\": \"false\"}}` so it only judges requests that send the tag"
                );
            }
        }
        said.push(line);
    }
    if said.is_empty() {
        said.push(format!("statement {by} denies it without a condition"));
    }
    Some(said.join("\n  "))
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

/// Whether a trust policy lets the GitHub workflow whose token has `sub` and `aud` (from `issuer`)
/// assume the role: `sts:AssumeRoleWithWebIdentity` with the provider `provider_arn` as principal,
/// the token's `sub` and `aud` as the known condition keys; any other key makes it depend.
pub fn check_trust(
    documents: &[Policy],
    provider_arn: &str,
    issuer: &str,
    sub: &str,
    aud: &str,
) -> Verdict {
    // IAM matches a trust statement's Principal as an identity policy matches its Resource.
    let as_resources: Vec<Policy> = documents
        .iter()
        .map(|policy| {
            let statements: Vec<Value> = evaluate::listed(&policy.document["Statement"])
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
            let mut document = json!({ "Statement": statements });
            document["Version"] = policy.document["Version"].clone();
            Policy {
                source: policy.source.clone(),
                document,
            }
        })
        .collect();
    let mut context = Context::unknown_unless_given();
    context.set(&format!("{issuer}:sub"), vec![sub.to_owned()]);
    context.set(&format!("{issuer}:aud"), vec![aud.to_owned()]);
    let request = Request {
        action: "sts:AssumeRoleWithWebIdentity".into(),
        resource: provider_arn.to_owned(),
        context,
        caller: None,
    };
    evaluate::evaluate(&as_resources, &request)
}

/// Why a trust policy does not accept the token, where a near miss says it: another provider (e.g.
/// github.com's on a GitHub Enterprise Server), or a subject that differs only in case.
pub fn trust_hints(documents: &[Policy], provider_arn: &str, sub: &str) -> Vec<String> {
    let texts: Vec<&Value> = documents.iter().map(|p| &p.document).collect();
    let text = serde_json::to_string(&texts).unwrap_or_default();
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
        let said = said(&checked.verdict, "allowed", "NOT ALLOWED");
        line(&format!(
            "{} on {}: {said}",
            checked.need.action, checked.need.resource
        ));
        if let Some(hint) = &checked.hint {
            line(&format!("  {hint}"));
        }
    }
    let (identity, repository) = to_add(report);
    if identity.is_empty() && repository.is_empty() {
        line("\nThe policy allows everything this configuration needs.");
    } else {
        line("\nThe policy does not allow everything this configuration needs.");
    }
    if !identity.is_empty() {
        let document = json!({ "Version": "2012-10-17", "Statement": identity });
        let _ = writeln!(
            out,
            "Statements to add to the identity policy:\n{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    }
    if !repository.is_empty() {
        let document = json!({ "Version": "2012-10-17", "Statement": repository });
        let _ = writeln!(
            out,
            "Statements to add to the repository policy (the registry is in another account: its policy must allow the caller too):\n{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
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
    let principal = report
        .caller
        .clone()
        .unwrap_or_else(|| "arn:aws:iam::CALLER_ACCOUNT:root".to_owned());
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
        assert!(hint.is_some_and(|h| h.contains("require `aws:RequestTag/Team` instead")));
        let on_request = json!({"StringEquals": {"aws:RequestTag/Team": "api"}});
        assert_eq!(
            verdict("ecr:CreateRepository", &on_request, &tagged).0,
            Verdict::Allowed(s())
        );
        let (v, hint) = verdict("ecr:CreateRepository", &on_request, &plain);
        assert_eq!(v, Verdict::NotAllowed);
        assert!(hint.is_some_and(|h| h.contains("repository-tags: Team=…")));
    }
}
