//! IAM's evaluation of one request against the policies that decide it, statically, as the IAM User
//! Guide's "Policy evaluation logic" documents it: identity policies, permissions boundaries and a
//! resource-based policy; `Allow`/`Deny`, `Action`/`NotAction`, `Resource`/`NotResource`,
//! `Principal`/`NotPrincipal`; an explicit deny anywhere wins; within one account an identity policy
//! (inside its boundary) or the resource policy allows, across accounts both must. Conditions and
//! policy variables are `condition.rs`'s. A verdict that needs a value the context does not know is
//! "depends", never a guess.

use std::fmt;

use serde_json::Value;

use super::advice;
use super::condition::{self, Resolved};
pub use super::condition::{Context, Holds, Lookup, texts, wildcard};

/// A policy document and where it comes from (a file, `PolicyInputList.1`, an IAM policy's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub source: String,
    pub document: Value,
}

impl Policy {
    /// `document` from `source`, once it is checked to be a policy IAM would accept in shape; the
    /// problem otherwise, under the source's name.
    pub fn new(source: impl Into<String>, document: Value) -> anyhow::Result<Policy> {
        let source = source.into();
        if let Err(problem) = validate(&document) {
            return Err(problem.context(source));
        }
        Ok(Policy { source, document })
    }

    /// Policy variables are replaced only in documents of version 2012-10-17; in older ones `${…}` is
    /// text (IAM User Guide, "IAM JSON policy elements: Version").
    fn variables(&self) -> bool {
        self.document["Version"] == "2012-10-17"
    }
}

/// A statement as a report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub source: String,
    /// Counted from 1 in its document.
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    /// Its `Sid`, else its place: `2 of role-policy.json`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            // A `Sid` with line breaks or other controls is shown quoted and escaped, on one line.
            Some(sid) if sid.chars().any(char::is_control) => write!(f, "{sid:?}"),
            Some(sid) => f.write_str(sid),
            None => write!(f, "{} of {}", self.index, self.source),
        }
    }
}

/// Every statement of a document with its reference.
pub fn statements(policy: &Policy) -> Vec<(StatementRef, &Value)> {
    let list: Vec<&Value> = match &policy.document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, statement)| {
            let sid = statement["Sid"].as_str().filter(|s| !s.is_empty());
            let at = StatementRef {
                source: policy.source.clone(),
                index: i + 1,
                sid: sid.map(str::to_owned),
            };
            (at, statement)
        })
        .collect()
}

/// A single value or a list, as a list.
pub fn listed(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// The shape IAM requires of a policy: statements with `Effect` `Allow` or `Deny`, one of `Action` and
/// `NotAction`, at most one of `Resource` and `NotResource`, and a well-formed `Condition`.
pub fn validate(document: &Value) -> anyhow::Result<()> {
    let statements = match &document["Statement"] {
        Value::Array(items) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
        Value::Object(_) => vec![&document["Statement"]],
        Value::Null => return Err(advice::no_statement()),
        _ => return Err(advice::statement_not_listed()),
    };
    for (at, statement) in (1..).zip(statements) {
        if !statement.is_object() {
            return Err(advice::statement_not_object(at));
        }
        if !matches!(statement["Effect"].as_str(), Some("Allow" | "Deny")) {
            return Err(advice::bad_effect(at));
        }
        let has = |key: &str| statement.get(key).is_some();
        if has("Action") == has("NotAction") {
            return Err(advice::action_element(at));
        }
        if has("Resource") && has("NotResource") {
            return Err(advice::resource_element(at));
        }
        condition::validate(&statement["Condition"], at)?;
    }
    Ok(())
}

/// One request: an action on a resource, by a caller, with what its context carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`, e.g. `ecr:PutImage`.
    pub action: String,
    pub resource: String,
    pub context: Context,
    /// The caller's ARN, for a resource policy's `Principal`; unknown when `None`.
    pub caller: Option<String>,
}

/// The resource-based policy of the request's resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResourcePolicy<'a> {
    /// The resource has none.
    None,
    Given(&'a Policy),
    /// It could not be read: the verdict depends on it (the text says which policy).
    Unread(&'a str),
}

/// The policies that decide a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policies<'a> {
    pub identity: &'a [Policy],
    /// `None`: the principal has no permissions boundary.
    pub boundary: Option<&'a [Policy]>,
    pub resource: ResourcePolicy<'a>,
    /// The caller and the resource are in different accounts.
    pub cross_account: bool,
}

impl<'a> Policies<'a> {
    /// Identity policies alone.
    pub fn identity(identity: &'a [Policy]) -> Policies<'a> {
        Policies {
            identity,
            boundary: None,
            resource: ResourcePolicy::None,
            cross_account: false,
        }
    }
}

/// What IAM would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed(StatementRef),
    Denied(StatementRef),
    /// No statement allows it (an implicit deny).
    NotAllowed,
    /// Allowed or denied only depending on these condition keys' values at run time.
    Depends {
        statement: StatementRef,
        keys: Vec<String>,
    },
}

/// Every statement of every policy.
pub fn all_statements(policies: &[Policy]) -> impl Iterator<Item = (StatementRef, &Value)> {
    policies.iter().flat_map(statements)
}

impl Verdict {
    /// The verdict in a report's words; `yes` and `no` say what an allowing statement does, or the
    /// lack of one ("allowed" / "NOT ALLOWED"). Beside the type, as a registry kind's title is: the
    /// words of a value, not a diagnostic.
    pub fn in_words(&self, yes: &str, no: &str) -> String {
        match self {
            Verdict::Allowed(by) => format!("{yes} by statement {by}"),
            Verdict::Denied(by) => format!("DENIED by statement {by}"),
            Verdict::NotAllowed => format!("{no}: no statement allows it"),
            Verdict::Depends { statement, keys } => format!(
                "depends on {} (statement {statement}): not decided here",
                keys.join(", ")
            ),
        }
    }
}

/// A verdict, the statements that decided it, and the condition keys the request did not carry that
/// statements about it name (AWS's simulator's `MissingContextValues`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub matched: Vec<StatementRef>,
    /// Whether the permissions boundary, if any, allows the request.
    pub boundary_allows: Option<bool>,
    pub missing: Vec<String>,
}

/// Identity policies alone decide `request`.
pub fn evaluate(identity: &[Policy], request: &Request) -> Verdict {
    decide(&Policies::identity(identity), request).verdict
}

/// IAM's decision on `request` under `policies`.
pub fn decide(policies: &Policies<'_>, request: &Request) -> Decision {
    let mut missing = Vec::new();
    let identity = scan(policies.identity, request, Side::Identity, &mut missing);
    let boundary = policies
        .boundary
        .map(|b| scan(b, request, Side::Identity, &mut missing));
    let resource = match policies.resource {
        ResourcePolicy::Given(policy) => Some(scan(
            std::slice::from_ref(policy),
            request,
            Side::Resource {
                bounded: policies.boundary.is_some(),
            },
            &mut missing,
        )),
        _ => None,
    };
    let scans = [Some(&identity), boundary.as_ref(), resource.as_ref()];
    let denies: Vec<StatementRef> = scans
        .iter()
        .flatten()
        .flat_map(|s| s.denies.iter().cloned())
        .collect();
    let boundary_allows = boundary.as_ref().map(|b| b.allow().0 == Holds::Yes);
    if let Some(first) = denies.first() {
        return Decision {
            verdict: Verdict::Denied(first.clone()),
            matched: denies,
            boundary_allows,
            missing,
        };
    }
    let allowed = allowed(policies, &identity, boundary.as_ref(), resource.as_ref());
    let deny_unknown = scans.iter().flatten().find_map(|s| s.deny_unknown.clone());
    let verdict = verdict(allowed, deny_unknown);
    // What allowed it: the identity and resource policies' allowing statements (the boundary's are
    // told apart in `boundary_allows`).
    let matched = match verdict {
        Verdict::Allowed(_) => [Some(&identity), resource.as_ref()]
            .into_iter()
            .flatten()
            .flat_map(|s| s.allows.iter().cloned())
            .collect(),
        _ => Vec::new(),
    };
    Decision {
        verdict,
        matched,
        boundary_allows,
        missing,
    }
}

/// Whether something allows, no explicit deny aside: within one account the identity policies
/// (inside the boundary) or the resource policy, across accounts both.
fn allowed(
    policies: &Policies<'_>,
    identity: &Scan,
    boundary: Option<&Scan>,
    resource: Option<&Scan>,
) -> Tri {
    let inside_boundary = |allowed: Tri| match boundary {
        Some(b) => and(allowed, b.allow()),
        None => allowed,
    };
    let by_identity = inside_boundary(identity.allow());
    let by_resource = match (policies.resource, resource) {
        (ResourcePolicy::Unread(which), _) => (
            Holds::Unknown(vec![which.to_owned()]),
            Some(StatementRef {
                source: which.to_owned(),
                index: 1,
                sid: Some(which.to_owned()),
            }),
        ),
        // Across accounts, any way of naming the caller is the resource's side of the grant.
        (_, Some(r)) if policies.cross_account => r.allow(),
        (_, Some(r)) => match r.named {
            Some(Named::Directly) => r.allow(),
            // A resource policy that names the role (not its session) is held to the boundary.
            Some(Named::Role) => inside_boundary(r.allow()),
            // One that names the account delegates to the identity policies: it grants nothing
            // alone; one that names a caller not known yet depends on it.
            Some(Named::Account) | None => match &r.allow_unknown {
                Some((by, keys)) => (Holds::Unknown(keys.clone()), Some(by.clone())),
                None => (Holds::No, None),
            },
        },
        (_, None) => (Holds::No, None),
    };
    if policies.cross_account {
        and(by_identity, by_resource)
    } else {
        or(by_identity, by_resource)
    }
}

/// The verdict once no deny applies for certain: `allowed`, unless a deny that depends on a key
/// could still apply (then it depends on that key too).
fn verdict(allowed: Tri, deny_unknown: Option<(StatementRef, Vec<String>)>) -> Verdict {
    match (allowed, deny_unknown.map(|(s, k)| (Some(s), k))) {
        ((Holds::No, _) | (Holds::Yes, None), None) | ((Holds::No, _), Some(_)) => {
            Verdict::NotAllowed
        }
        ((Holds::Yes, Some(by)), None) => Verdict::Allowed(by),
        ((Holds::Unknown(keys), by), None) | ((Holds::Yes, _), Some((by, keys))) => {
            depends(by, keys)
        }
        ((Holds::Unknown(mut keys), _), Some((by, more))) => {
            keys.extend(
                more.into_iter()
                    .filter(|k| !keys.contains(k))
                    .collect::<Vec<_>>(),
            );
            depends(by, keys)
        }
    }
}

/// A verdict that depends on `keys`, decided by `by` (there is always one where keys are unknown).
fn depends(by: Option<StatementRef>, keys: Vec<String>) -> Verdict {
    let statement = by.unwrap_or_else(|| StatementRef {
        source: String::new(),
        index: 0,
        sid: Some("(none)".to_owned()),
    });
    Verdict::Depends { statement, keys }
}

/// Whether a set of policies allows, and a statement that says so (or that it depends on).
type Tri = (Holds, Option<StatementRef>);

fn and(a: Tri, b: Tri) -> Tri {
    match (&a.0, &b.0) {
        (Holds::No, _) => a,
        (_, Holds::No) => b,
        (Holds::Yes, _) => (a.0.and(b.0), b.1.or(a.1)),
        _ => (a.0.and(b.0), a.1.or(b.1)),
    }
}

fn or(a: Tri, b: Tri) -> Tri {
    match (&a.0, &b.0) {
        (Holds::Yes, _) => a,
        (_, Holds::Yes) | (Holds::No, _) => b,
        _ => (a.0.or(b.0), a.1.or(b.1)),
    }
}

/// What one kind of policy says of a request.
#[derive(Debug, Default)]
struct Scan {
    allows: Vec<StatementRef>,
    denies: Vec<StatementRef>,
    allow_unknown: Option<(StatementRef, Vec<String>)>,
    deny_unknown: Option<(StatementRef, Vec<String>)>,
    /// The strongest way a matching allow names the caller (resource policies).
    named: Option<Named>,
}

impl Scan {
    fn allow(&self) -> Tri {
        match (self.allows.first(), &self.allow_unknown) {
            (Some(by), _) => (Holds::Yes, Some(by.clone())),
            (None, Some((by, keys))) => (Holds::Unknown(keys.clone()), Some(by.clone())),
            (None, None) => (Holds::No, None),
        }
    }
}

/// Which kind of policy a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Identity policies and boundaries: about the principal they are attached to.
    Identity,
    /// A resource policy: its statements must name the caller; `bounded`: the caller has a
    /// permissions boundary.
    Resource { bounded: bool },
}

/// Every statement of `policies` on `request`.
fn scan(policies: &[Policy], request: &Request, side: Side, missing: &mut Vec<String>) -> Scan {
    let mut scan = Scan::default();
    for policy in policies {
        let variables = policy.variables();
        for (at, statement) in statements(policy) {
            if !action_matches(statement, &request.action) {
                continue;
            }
            note_missing(statement, &request.context, variables, missing);
            let resource = if matches!(side, Side::Resource { .. })
                && statement.get("Resource").is_none()
                && statement.get("NotResource").is_none()
            {
                // A resource policy's statement without `Resource` is about the resource it is on.
                Holds::Yes
            } else {
                resource_holds(statement, request, variables)
            };
            let (by, named) = match side {
                Side::Resource { bounded } => {
                    principal_holds(statement, request.caller.as_deref(), bounded)
                }
                Side::Identity => (Holds::Yes, Named::Directly),
            };
            let holds = by.and(resource).and(condition::holds(
                &statement["Condition"],
                &request.context,
                variables,
            ));
            let deny = statement["Effect"] == "Deny";
            match (deny, holds) {
                (true, Holds::Yes) => scan.denies.push(at),
                (false, Holds::Yes) => {
                    scan.named = scan.named.max(Some(named));
                    scan.allows.push(at);
                }
                (true, Holds::Unknown(keys)) => {
                    scan.deny_unknown.get_or_insert((at, keys));
                }
                (false, Holds::Unknown(keys)) => {
                    scan.allow_unknown.get_or_insert((at, keys));
                }
                (_, Holds::No) => {}
            }
        }
    }
    scan
}

/// `Action` or `NotAction`, case-insensitively with wildcards (IAM User Guide, "IAM JSON policy
/// elements: Action": action names are not case-sensitive).
pub fn action_matches(statement: &Value, action: &str) -> bool {
    let action = action.to_lowercase();
    let any = |key: &str| {
        texts(&statement[key])
            .iter()
            .any(|p| wildcard(&p.to_lowercase(), &action))
    };
    if statement.get("NotAction").is_some() {
        !any("NotAction")
    } else {
        any("Action")
    }
}

/// Whether a statement is about `action` on `resource`, its conditions and variables aside.
pub fn applies(statement: &Value, action: &str, resource: &str) -> bool {
    let request = Request {
        action: action.to_owned(),
        resource: resource.to_owned(),
        context: Context::unknown_unless_given(),
        caller: None,
    };
    action_matches(statement, action) && resource_holds(statement, &request, false) == Holds::Yes
}

/// `Resource` or `NotResource`, case-sensitively with wildcards and policy variables.
fn resource_holds(statement: &Value, request: &Request, variables: bool) -> Holds {
    let (key, negated) = if statement.get("NotResource").is_some() {
        ("NotResource", true)
    } else {
        ("Resource", false)
    };
    let resource: Vec<char> = request.resource.chars().collect();
    let mut found = Holds::No;
    for pattern in texts(&statement[key]) {
        let one = match condition::pattern(&pattern, &request.context, variables) {
            Resolved::Pattern(p) => Holds::from_bool(condition::wild(&p, &resource)),
            // A variable whose key the request does not carry: this resource matches nothing.
            Resolved::Absent => Holds::No,
            Resolved::Unknown(key) => Holds::Unknown(vec![key]),
        };
        found = found.or(one);
    }
    match (negated, found) {
        (true, Holds::Yes) => Holds::No,
        (true, Holds::No) => Holds::Yes,
        (_, holds) => holds,
    }
}

/// How a resource policy's statement names the caller (IAM User Guide, "AWS JSON policy elements:
/// Principal", and "Policy evaluation logic" on resource policies and permissions boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Named {
    /// Through its account (its ID or root ARN): within the account that delegates to identity
    /// policies; across accounts it is the resource's side of the grant.
    Account,
    /// Through its role (not the session): held to the session's boundary.
    Role,
    /// The user or role session itself, or everyone (`*`): enough on its own within the account.
    Directly,
}

/// Whether a resource policy's statement names `caller` as its principal, and how. An unknown caller
/// is "depends on aws:PrincipalArn", unless the statement names everyone. `bounded`: the caller has a
/// permissions boundary, and then a `Deny` with `NotPrincipal` applies to it whatever it lists
/// ("Permissions boundaries for IAM entities").
fn principal_holds(statement: &Value, caller: Option<&str>, bounded: bool) -> (Holds, Named) {
    let (key, negated) = if statement.get("NotPrincipal").is_some() {
        ("NotPrincipal", true)
    } else {
        ("Principal", false)
    };
    if negated && bounded && statement["Effect"] == "Deny" {
        return (Holds::Yes, Named::Directly);
    }
    let named: Vec<String> = match &statement[key] {
        Value::String(s) if s == "*" => vec!["*".to_owned()],
        Value::Object(o) => o.get("AWS").map(texts).unwrap_or_default(),
        _ => Vec::new(),
    };
    if named.iter().any(|n| n == "*") {
        return (Holds::from_bool(!negated), Named::Directly);
    }
    let Some(caller) = caller else {
        return (
            Holds::Unknown(vec!["aws:PrincipalArn".to_owned()]),
            Named::Account,
        );
    };
    let how = named.iter().filter_map(|n| names(n, caller)).max();
    // In `NotPrincipal` an account's ARN spares the account, not each principal in it ("AWS JSON
    // policy elements: NotPrincipal": list the user's own ARN beside its account's).
    let how = how.filter(|h| !negated || *h != Named::Account || caller.ends_with(":root"));
    match (how, negated) {
        (Some(how), false) => (Holds::Yes, how),
        (None, true) => (Holds::Yes, Named::Directly),
        _ => (Holds::No, Named::Account),
    }
}

/// How the principal `named` in a policy names `caller`, if it does. An account (its ID or root ARN)
/// names every principal of it; a role names its sessions (`assumed-role/NAME/…`).
fn names(named: &str, caller: &str) -> Option<Named> {
    let field = |arn: &str, n: usize| arn.split(':').nth(n).unwrap_or_default().to_owned();
    let caller_account = field(caller, 4);
    if named.len() == 12 && named.bytes().all(|b| b.is_ascii_digit()) {
        return (named == caller_account).then_some(Named::Account);
    }
    let resource = field(named, 5);
    let account = field(named, 4);
    if field(named, 2) == "iam" && resource == "root" {
        return (account == caller_account).then_some(Named::Account);
    }
    if named == caller {
        // The caller's own ARN: a user or a session directly; a role ARN as a role.
        return Some(if resource.starts_with("role/") {
            Named::Role
        } else {
            Named::Directly
        });
    }
    let role = resource.strip_prefix("role/")?;
    let role_name = role.rsplit('/').next().unwrap_or(role);
    let session = field(caller, 5);
    let of_role = session
        .strip_prefix("assumed-role/")
        .and_then(|s| s.split('/').next())
        == Some(role_name);
    (of_role && account == caller_account && field(caller, 2) == "sts").then_some(Named::Role)
}

/// Adds to `missing` the condition keys and variables a statement names that the request does not
/// carry.
fn note_missing(statement: &Value, context: &Context, variables: bool, missing: &mut Vec<String>) {
    let mut keys: Vec<String> = condition::keys(&statement["Condition"])
        .map(str::to_owned)
        .collect();
    if variables {
        for text in texts(&statement["Resource"])
            .into_iter()
            .chain(texts(&statement["NotResource"]))
            .chain(condition_values(&statement["Condition"]))
        {
            keys.extend(condition::variable_keys(&text));
        }
    }
    for key in keys {
        let absent = context.get(&key) == Lookup::Absent;
        if absent && !missing.iter().any(|m| m.eq_ignore_ascii_case(&key)) {
            missing.push(key);
        }
    }
}

/// Every value a `Condition` element compares with.
fn condition_values(condition: &Value) -> Vec<String> {
    let blocks = condition.as_object().into_iter().flat_map(|o| o.values());
    blocks
        .flat_map(|b| b.as_object().into_iter().flat_map(|o| o.values()))
        .flat_map(texts)
        .collect()
}
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";

    /// A request whose context knows `known` (an empty list: known to be absent) and nothing else.
    fn request(action: &str, known: &[(&str, &[&str])]) -> Request {
        let mut context = Context::unknown_unless_given();
        for (key, values) in known {
            context.set(key, values.iter().map(|s| (*s).to_owned()).collect());
        }
        Request {
            action: action.into(),
            resource: ARN.into(),
            context,
            caller: None,
        }
    }

    fn allow(statement: &Value) -> Policy {
        let document = json!({ "Version": "2012-10-17", "Statement": [statement] });
        Policy::new("test.json", document).expect("a valid policy")
    }

    /// Statement `index` of `test.json`, with its `Sid`.
    fn at(index: usize, sid: Option<&str>) -> StatementRef {
        StatementRef {
            source: "test.json".into(),
            index,
            sid: sid.map(str::to_owned),
        }
    }

    #[test]
    fn wildcards_follow_iam() {
        assert!(wildcard("ecr:*", "ecr:putimage"));
        assert!(wildcard("ecr:Put?mage", "ecr:PutImage"));
        assert!(wildcard(
            "arn:aws:ecr:*:123456789012:repository/team/*",
            ARN
        ));
        assert!(!wildcard(
            "arn:aws:ecr:*:123456789012:repository/other/*",
            ARN
        ));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a?c", "ac"));
    }

    #[test]
    fn actions_match_in_any_case_resources_exactly() {
        let doc = allow(&json!({"Effect": "Allow", "Action": "ECR:putimage", "Resource": ARN}));
        assert_eq!(
            evaluate(&[doc], &request("ecr:PutImage", &[])),
            Verdict::Allowed(at(1, None))
        );
        let doc = allow(
            &json!({"Effect": "Allow", "Action": "ecr:PutImage", "Resource": ARN.to_uppercase()}),
        );
        assert_eq!(
            evaluate(&[doc], &request("ecr:PutImage", &[])),
            Verdict::NotAllowed
        );
    }

    #[test]
    fn not_action_and_not_resource_invert() {
        let doc = allow(
            &json!({"Sid": "AllButDelete", "Effect": "Allow", "NotAction": "ecr:Delete*", "Resource": "*"}),
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&doc), &request("ecr:PutImage", &[])),
            Verdict::Allowed(at(1, Some("AllButDelete")))
        );
        assert_eq!(
            evaluate(&[doc], &request("ecr:DeleteRepository", &[])),
            Verdict::NotAllowed
        );
        let doc = allow(
            &json!({"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/team/*"}),
        );
        assert_eq!(
            evaluate(&[doc], &request("ecr:PutImage", &[])),
            Verdict::NotAllowed
        );
    }

    #[test]
    fn an_explicit_deny_wins_across_documents() {
        let allow_all = allow(&json!({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}));
        let deny = json!({"Statement": {"Sid": "NoPush", "Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*"}});
        let deny = Policy::new("deny.json", deny).expect("a valid policy");
        assert_eq!(
            evaluate(&[allow_all, deny], &request("ecr:PutImage", &[])),
            Verdict::Denied(StatementRef {
                source: "deny.json".into(),
                index: 1,
                sid: Some("NoPush".into())
            })
        );
    }

    #[test]
    fn conditions_hold_fail_or_depend() {
        let tagged = |op: &str, key: &str| {
            allow(
                &json!({"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
                "Condition": {op: {key: "github-actions"}}}),
            )
        };
        let create = |known: &[(&str, &[&str])]| request("ecr:CreateRepository", known);
        let doc = tagged("StringEquals", "aws:RequestTag/ManagedBy");
        assert_eq!(
            evaluate(
                std::slice::from_ref(&doc),
                &create(&[("aws:RequestTag/ManagedBy", &["github-actions"])])
            ),
            Verdict::Allowed(at(1, None))
        );
        assert_eq!(
            evaluate(
                std::slice::from_ref(&doc),
                &create(&[("aws:RequestTag/ManagedBy", &[])])
            ),
            Verdict::NotAllowed,
            "an absent request tag fails StringEquals"
        );
        assert_eq!(
            evaluate(&[doc], &create(&[])),
            Verdict::Depends {
                statement: at(1, None),
                keys: vec!["aws:RequestTag/ManagedBy".into()]
            }
        );
        let if_exists = tagged("StringEqualsIfExists", "aws:RequestTag/ManagedBy");
        assert_eq!(
            evaluate(&[if_exists], &create(&[("aws:RequestTag/ManagedBy", &[])])),
            Verdict::Allowed(at(1, None))
        );
        let null = allow(
            &json!({"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
            "Condition": {"Null": {"aws:RequestTag/ManagedBy": "false"}}}),
        );
        assert_eq!(
            evaluate(&[null], &create(&[("aws:RequestTag/ManagedBy", &["x"])])),
            Verdict::Allowed(at(1, None))
        );
        let all_values = allow(
            &json!({"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
            "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["ManagedBy", "Team"]}}}),
        );
        assert_eq!(
            evaluate(
                std::slice::from_ref(&all_values),
                &create(&[("aws:TagKeys", &["ManagedBy", "Team"])])
            ),
            Verdict::Allowed(at(1, None))
        );
        assert_eq!(
            evaluate(
                &[all_values],
                &create(&[("aws:TagKeys", &["ManagedBy", "Owner"])])
            ),
            Verdict::NotAllowed
        );
    }

    #[test]
    fn a_deny_that_depends_on_a_condition_makes_the_verdict_depend() {
        let docs = [
            allow(&json!({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})),
            allow(
                &json!({"Sid": "OnlyFromOffice", "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}),
            ),
        ];
        assert_eq!(
            evaluate(&docs, &request("ecr:PutImage", &[])),
            Verdict::Depends {
                statement: StatementRef {
                    source: "test.json".into(),
                    index: 1,
                    sid: Some("OnlyFromOffice".into())
                },
                keys: vec!["aws:SourceIp".into()]
            }
        );
    }
}
