//! IAM's evaluation of identity policies for one request, statically: `Allow`/`Deny`,
//! `Action`/`NotAction`, `Resource`/`NotResource`, `*` and `?` wildcards (actions case-insensitive,
//! resources case-sensitive), an explicit deny wins. Conditions are evaluated on the keys whose value
//! the request is known to carry; a condition on any other key makes the verdict "depends on" it,
//! never a guess. Which keys a request carries is decided by the caller (`check.rs`).

use std::collections::BTreeMap;

use serde_json::Value;

/// One request the configuration makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`, e.g. `ecr:PutImage`.
    pub action: String,
    pub resource: String,
    /// Condition keys (lower case) whose values are known; a key mapped to no values is known to
    /// be absent from the request.
    pub known: BTreeMap<String, Vec<String>>,
}

/// A statement as the report names it: its `Sid`, else its place (`#3`, counted from 1 over every
/// document given).
pub type StatementName = String;

/// What IAM would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed(StatementName),
    Denied(StatementName),
    /// No statement allows it.
    NotAllowed,
    /// Allowed or denied only depending on these condition keys' values at run time.
    Depends {
        statement: StatementName,
        keys: Vec<String>,
    },
}

/// Whether a statement's condition holds for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Holds {
    Yes,
    No,
    Unknown(Vec<String>),
}

pub fn evaluate(documents: &[Value], request: &Request) -> Verdict {
    let mut allowed = None;
    let mut depends: Option<(StatementName, Vec<String>)> = None;
    for (name, statement) in statements(documents) {
        if !applies(&statement, request) {
            continue;
        }
        let holds = condition_holds(&statement["Condition"], &request.known);
        let deny = statement["Effect"] == "Deny";
        match (deny, holds) {
            (true, Holds::Yes) => return Verdict::Denied(name),
            (false, Holds::Yes) => {
                allowed.get_or_insert(name);
            }
            (_, Holds::Unknown(keys)) => {
                depends.get_or_insert((name, keys));
            }
            (_, Holds::No) => {}
        }
    }
    match (allowed, depends) {
        (Some(by), None) => Verdict::Allowed(by),
        (_, Some((statement, keys))) => Verdict::Depends { statement, keys },
        (None, None) => Verdict::NotAllowed,
    }
}

/// Every statement of every document, each with its name.
pub fn statements(documents: &[Value]) -> Vec<(StatementName, Value)> {
    let all = documents.iter().flat_map(|d| listed(&d["Statement"]));
    all.enumerate()
        .map(|(i, s)| {
            let name = s["Sid"]
                .as_str()
                .filter(|sid| !sid.is_empty())
                .map_or_else(|| format!("#{}", i + 1), str::to_owned);
            (name, s)
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

/// The text values of a single value or a list.
pub fn texts(value: &Value) -> Vec<String> {
    listed(value)
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

/// Whether the statement's action and resource parts match the request.
pub fn applies(statement: &Value, request: &Request) -> bool {
    let action = |key: &str| {
        texts(&statement[key]).iter().any(|p| {
            wildcard(
                &p.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        })
    };
    let resource = |key: &str| {
        texts(&statement[key])
            .iter()
            .any(|p| wildcard(p, &request.resource))
    };
    let actions = if statement.get("NotAction").is_some() {
        !action("NotAction")
    } else {
        action("Action")
    };
    let resources = if statement.get("NotResource").is_some() {
        !resource("NotResource")
    } else {
        resource("Resource")
    };
    actions && resources
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Every operator block must hold (AND), each key in it must hold (AND), any value of a key may match
/// (OR), as IAM evaluates conditions.
fn condition_holds(condition: &Value, known: &BTreeMap<String, Vec<String>>) -> Holds {
    let Some(blocks) = condition.as_object() else {
        return Holds::Yes;
    };
    let mut unknown = Vec::new();
    for (operator, keys) in blocks {
        let Some(keys) = keys.as_object() else {
            return Holds::No;
        };
        for (key, wanted) in keys {
            match known.get(&key.to_ascii_lowercase()) {
                None => unknown.push(key.clone()),
                Some(values) => {
                    if !operator_holds(operator, values, &texts(wanted)) {
                        return Holds::No;
                    }
                }
            }
        }
    }
    if unknown.is_empty() {
        Holds::Yes
    } else {
        Holds::Unknown(unknown)
    }
}

/// One operator on a key's known `values` (empty: the key is absent) against the policy's `wanted`.
fn operator_holds(operator: &str, values: &[String], wanted: &[String]) -> bool {
    let (set, operator) = match operator.split_once(':') {
        Some((set, op)) => (Some(set), op),
        None => (None, operator),
    };
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (operator, false),
    };
    if operator == "Null" {
        let absent = values.is_empty();
        return wanted.iter().any(|w| (w == "true") == absent);
    }
    if values.is_empty() {
        // An absent key: IfExists and ForAllValues hold; everything else (negations included) fails.
        return if_exists || set == Some("ForAllValues");
    }
    let one = |value: &str| -> bool {
        let any = |f: &dyn Fn(&str) -> bool| wanted.iter().any(|w| f(w));
        match operator {
            "StringEquals" | "ArnEquals" | "Bool" => any(&|w| w == value),
            "StringEqualsIgnoreCase" => any(&|w| w.eq_ignore_ascii_case(value)),
            "StringLike" | "ArnLike" => any(&|w| wildcard(w, value)),
            "StringNotEquals" | "ArnNotEquals" => !any(&|w| w == value),
            "StringNotEqualsIgnoreCase" => !any(&|w| w.eq_ignore_ascii_case(value)),
            "StringNotLike" | "ArnNotLike" => !any(&|w| wildcard(w, value)),
            _ => false,
        }
    };
    match set {
        Some("ForAllValues") => values.iter().all(|v| one(v)),
        _ => values.iter().any(|v| one(v)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";

    fn request(action: &str, known: &[(&str, &[&str])]) -> Request {
        Request {
            action: action.into(),
            resource: ARN.into(),
            known: known
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_ascii_lowercase(),
                        v.iter().map(|s| (*s).to_owned()).collect(),
                    )
                })
                .collect(),
        }
    }

    fn allow(statement: &Value) -> Value {
        json!({ "Version": "2012-10-17", "Statement": [statement] })
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
            Verdict::Allowed("#1".into())
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
            Verdict::Allowed("AllButDelete".into())
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
        assert_eq!(
            evaluate(&[allow_all, deny], &request("ecr:PutImage", &[])),
            Verdict::Denied("NoPush".into())
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
            Verdict::Allowed("#1".into())
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
                statement: "#1".into(),
                keys: vec!["aws:RequestTag/ManagedBy".into()]
            }
        );
        let if_exists = tagged("StringEqualsIfExists", "aws:RequestTag/ManagedBy");
        assert_eq!(
            evaluate(&[if_exists], &create(&[("aws:RequestTag/ManagedBy", &[])])),
            Verdict::Allowed("#1".into())
        );
        let null = allow(
            &json!({"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
            "Condition": {"Null": {"aws:RequestTag/ManagedBy": "false"}}}),
        );
        assert_eq!(
            evaluate(&[null], &create(&[("aws:RequestTag/ManagedBy", &["x"])])),
            Verdict::Allowed("#1".into())
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
            Verdict::Allowed("#1".into())
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
                statement: "OnlyFromOffice".into(),
                keys: vec!["aws:SourceIp".into()]
            }
        );
    }
}
