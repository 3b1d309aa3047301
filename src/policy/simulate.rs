//! `ecr-push-action policy simulate`: an offline twin of `aws iam simulate-custom-policy` — the same
//! flags (policies inline or `file://`, context entries in the AWS CLI's shorthand or JSON) and the same
//! JSON answer (`EvaluationResults`), evaluated by `evaluate.rs` without calling AWS. As in AWS's
//! simulator, a context key that is not given is absent from the request.

use anyhow::Result;
use serde_json::{Value, json};

use super::advice;
use super::evaluate::{self, Context, Policies, Policy, Request, ResourcePolicy, Verdict};
use crate::partition::account_of;

pub const USAGE: &str = "\
usage: ecr-push-action policy simulate --policy-input-list POLICY [POLICY ...]
           [--permissions-boundary-policy-input-list POLICY [POLICY ...]]
           [--resource-policy POLICY] [--resource-owner ARN] [--caller-arn ARN]
           --action-names ACTION [ACTION ...] [--resource-arns ARN [ARN ...]]
           [--context-entries ENTRY [ENTRY ...]]
POLICY is a JSON document or file://PATH; ENTRY is the AWS CLI's shorthand
(ContextKeyName=aws:RequestedRegion,ContextKeyValues=eu-west-1,ContextKeyType=string), a JSON list of
entries, or file://PATH. Prints simulate-custom-policy's JSON answer; a context key not given is absent.
Exit 0 whatever the decisions, 2 for unreadable input.";

/// The flags of `simulate`, as the AWS CLI names them.
#[derive(Debug, Default)]
struct Flags {
    policies: Vec<String>,
    boundaries: Vec<String>,
    resource_policy: Option<String>,
    resource_owner: Option<String>,
    caller: Option<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    context: Vec<String>,
}

impl Flags {
    /// Each flag takes the words after it up to the next `--flag` (`--flag=value` gives one).
    fn parse(args: &[String]) -> Result<Flags> {
        let mut flags = Flags::default();
        let mut rest = args.iter().peekable();
        while let Some(arg) = rest.next() {
            let (name, mut values) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, vec![value.to_owned()]),
                _ => (arg.as_str(), Vec::new()),
            };
            if !name.starts_with("--") {
                return Err(advice::value_without_flag(arg, USAGE));
            }
            while let Some(value) = rest.next_if(|v| !v.starts_with("--")) {
                values.push(value.clone());
            }
            if values.is_empty() {
                return Err(advice::flag_needs_value(name, USAGE));
            }
            let single = |values: Vec<String>| -> Result<String> {
                let [one] = <[String; 1]>::try_from(values)
                    .map_err(|_| advice::one_value_only(name, USAGE))?;
                Ok(one)
            };
            match name {
                "--policy-input-list" => flags.policies.extend(values),
                "--permissions-boundary-policy-input-list" => flags.boundaries.extend(values),
                "--resource-policy" => flags.resource_policy = Some(single(values)?),
                "--resource-owner" => flags.resource_owner = Some(single(values)?),
                "--caller-arn" => flags.caller = Some(single(values)?),
                "--action-names" => flags.actions.extend(values),
                "--resource-arns" => flags.resources.extend(values),
                "--context-entries" => flags.context.extend(values),
                other => return Err(advice::unknown_flag(other, USAGE)),
            }
        }
        if flags.policies.is_empty() {
            return Err(advice::flag_required("--policy-input-list", USAGE));
        }
        if flags.actions.is_empty() {
            return Err(advice::flag_required("--action-names", USAGE));
        }
        if flags.resource_policy.is_some() && flags.caller.is_none() {
            return Err(advice::caller_needed());
        }
        if flags.resources.is_empty() {
            flags.resources.push("*".to_owned());
        }
        Ok(flags)
    }
}

/// `policy simulate ARGS`: the JSON answer.
pub fn command(args: &[String]) -> Result<String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(USAGE.to_owned());
    }
    let flags = Flags::parse(args)?;
    let given = Given::read(&flags)?;
    let mut context = Context::absent_unless_given();
    for entry in &flags.context {
        for (key, values) in context_entries(entry)? {
            context.set(&key, values);
        }
    }
    let mut results = Vec::new();
    for action in &flags.actions {
        for resource in &flags.resources {
            let request = Request {
                action: action.clone(),
                resource: resource.clone(),
                context: context.clone(),
                caller: flags.caller.clone(),
            };
            results.push(result(
                &given.policies(&flags, resource),
                &request,
                &given.texts,
            ));
        }
    }
    Ok(serde_json::to_string_pretty(&json!({ "EvaluationResults": results }))? + "\n")
}

/// The policies the flags give, each read and checked, and each one's text by its source (for the
/// statements' positions in the answer).
struct Given {
    identity: Vec<Policy>,
    boundaries: Vec<Policy>,
    resource: Option<Policy>,
    texts: Vec<(String, String)>,
}

impl Given {
    fn read(flags: &Flags) -> Result<Given> {
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut read = |value: &str, source: String| -> Result<Policy> {
            let (policy, text) = read_policy(value, &source)?;
            texts.push((source, text));
            Ok(policy)
        };
        let mut read_all = |values: &[String], list: &str| -> Result<Vec<Policy>> {
            let sources = (1..).map(|i| format!("{list}.{i}"));
            values
                .iter()
                .zip(sources)
                .map(|(v, s)| read(v, s))
                .collect()
        };
        let identity = read_all(&flags.policies, "PolicyInputList")?;
        let boundaries = read_all(&flags.boundaries, "PermissionsBoundaryPolicyInputList")?;
        let resource = flags
            .resource_policy
            .as_deref()
            .map(|v| read(v, "ResourcePolicy".to_owned()))
            .transpose()?;
        Ok(Given {
            identity,
            boundaries,
            resource,
            texts,
        })
    }

    /// The policies that decide a request on `resource`: across accounts when the resource's account
    /// (its ARN's, else `--resource-owner`'s, else the caller's) is not the caller's.
    fn policies(&self, flags: &Flags, resource: &str) -> Policies<'_> {
        let caller_account = flags.caller.as_deref().and_then(account_of);
        let owner = account_of(resource)
            .or_else(|| flags.resource_owner.as_deref().and_then(account_of))
            .or(caller_account);
        Policies {
            identity: &self.identity,
            boundary: (!self.boundaries.is_empty()).then_some(&self.boundaries[..]),
            resource: self
                .resource
                .as_ref()
                .map_or(ResourcePolicy::None, ResourcePolicy::Given),
            cross_account: caller_account.is_some() && owner != caller_account,
        }
    }
}

/// One `EvaluationResult`, as `SimulateCustomPolicy` shapes it.
fn result(policies: &Policies<'_>, request: &Request, texts: &[(String, String)]) -> Value {
    let decision = evaluate::decide(policies, request);
    let name = match decision.verdict {
        Verdict::Allowed(_) => "allowed",
        Verdict::Denied(_) => "explicitDeny",
        // Every key not given is absent here, so nothing depends.
        Verdict::NotAllowed | Verdict::Depends { .. } => "implicitDeny",
    };
    let matched: Vec<Value> = decision
        .matched
        .iter()
        .map(|at| {
            let text = texts
                .iter()
                .find(|(source, _)| *source == at.source)
                .map_or("", |(_, t)| t.as_str());
            let kind = if at.source == "ResourcePolicy" {
                "resource"
            } else {
                "IAM Policy"
            };
            let mut statement = json!({"SourcePolicyId": at.source, "SourcePolicyType": kind});
            if let Some((start, end)) = statement_spans(text).get(at.index - 1) {
                // As AWS's documented example: the column after the statement's `{`, and after its `}`.
                statement["StartPosition"] = json!({"Line": start.0, "Column": start.1 + 1});
                statement["EndPosition"] = json!({"Line": end.0, "Column": end.1});
            }
            statement
        })
        .collect();
    let mut result = json!({
        "EvalActionName": request.action,
        "EvalResourceName": request.resource,
        "EvalDecision": name,
        "MatchedStatements": matched,
        "MissingContextValues": decision.missing,
    });
    if request.resource != "*" {
        // AWS's newer answers put each resource's own result here as well.
        result["ResourceSpecificResults"] = json!([{
            "EvalResourceName": request.resource,
            "EvalResourceDecision": name,
            "MatchedStatements": result["MatchedStatements"].clone(),
            "MissingContextValues": result["MissingContextValues"].clone(),
        }]);
    }
    if let Some(allowed) = decision.boundary_allows {
        result["PermissionsBoundaryDecisionDetail"] =
            json!({ "AllowedByPermissionsBoundary": allowed });
    }
    result
}

/// A policy given inline or as `file://PATH` (the AWS CLI's forms), checked, with its text.
fn read_policy(value: &str, source: &str) -> Result<(Policy, String)> {
    let text = read_value(value, source)?;
    let document: Value = serde_json::from_str(&text).map_err(|e| advice::not_json(source, &e))?;
    let policy = Policy::new(source, document)?;
    // IAM refuses an identity policy with a principal, and a resource policy without one
    // ("IAM JSON policy elements: Principal").
    let resource = source == "ResourcePolicy";
    for (at, statement) in evaluate::statements(&policy) {
        let names = statement.get("Principal").is_some() || statement.get("NotPrincipal").is_some();
        match (names, resource) {
            (true, false) => return Err(advice::principal_in_identity_policy(source, at.index)),
            (false, true) => return Err(advice::principal_missing(source, at.index)),
            _ => {}
        }
    }
    Ok((policy, text))
}

/// A flag's value, or the file `file://PATH` names.
fn read_value(value: &str, what: &str) -> Result<String> {
    match value.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| advice::unreadable(&format!("{what}: {value}"), &e)),
        None => Ok(value.to_owned()),
    }
}

/// The (key, values) of one `--context-entries` word: shorthand, a JSON list or object, or a file.
fn context_entries(value: &str) -> Result<Vec<(String, Vec<String>)>> {
    let text = read_value(value, "--context-entries")?;
    let trimmed = text.trim_start();
    let entries: Vec<Value> = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let parsed: Value =
            serde_json::from_str(trimmed).map_err(|e| advice::context_not_json(&e))?;
        evaluate::listed(&parsed)
    } else {
        vec![shorthand(&text)?]
    };
    entries.iter().map(entry).collect()
}

/// The AWS CLI's shorthand `ContextKeyName=K,ContextKeyValues=V1,V2,ContextKeyType=T` (a list also
/// as `[V1,V2]`; a value may be quoted with `'` or `"`, and then hold commas) as its JSON form.
fn shorthand(text: &str) -> Result<Value> {
    const MEMBERS: [&str; 3] = ["ContextKeyName", "ContextKeyValues", "ContextKeyType"];
    let mut entry = serde_json::Map::new();
    let mut current: Option<&str> = None;
    for part in shorthand_parts(text) {
        let member = part
            .split_once('=')
            .filter(|(name, _)| MEMBERS.contains(&name.trim()));
        let (name, value) = match (member, current) {
            (Some((name, value)), _) => (name.trim(), value),
            (None, Some(name)) if name == "ContextKeyValues" => (name, part.as_str()),
            _ => return Err(advice::context_shorthand(text)),
        };
        current = MEMBERS.iter().copied().find(|m| *m == name);
        let value = unquote(value.trim().trim_start_matches('[').trim_end_matches(']'));
        if name == "ContextKeyValues" {
            let list = entry
                .entry(name)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(Value::String(value.to_owned()));
            }
        } else {
            entry.insert(name.to_owned(), Value::String(value.to_owned()));
        }
    }
    Ok(Value::Object(entry))
}

/// The comma-separated parts of a shorthand text; commas inside quotes do not separate.
fn shorthand_parts(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quote = None;
    for c in text.chars() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (',', None) => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// A shorthand value without the quotes around it.
fn unquote(value: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// One `ContextEntry`: its key and values, checked against its `ContextKeyType` as IAM's API does.
fn entry(entry: &Value) -> Result<(String, Vec<String>)> {
    let key = entry["ContextKeyName"]
        .as_str()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| advice::context_key_name_missing(entry))?;
    let values = evaluate::texts(&entry["ContextKeyValues"]);
    let kind = entry["ContextKeyType"].as_str().unwrap_or("string");
    let (scalar, list) = match kind.strip_suffix("List") {
        Some(scalar) => (scalar, true),
        None => (kind, false),
    };
    if !list && values.len() > 1 {
        return Err(advice::context_one_value(key, kind));
    }
    let valid = |v: &String| match scalar {
        "string" | "binary" => true,
        "numeric" => v.trim().parse::<f64>().is_ok(),
        "boolean" => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        "date" => super::condition::date(v).is_some(),
        "ip" => v.trim().parse::<std::net::IpAddr>().is_ok(),
        _ => false,
    };
    if !matches!(
        scalar,
        "string" | "binary" | "numeric" | "boolean" | "date" | "ip"
    ) {
        return Err(advice::context_type(key, kind));
    }
    if let Some(bad) = values.iter().find(|v| !valid(v)) {
        return Err(advice::context_value(key, scalar, bad));
    }
    Ok((key.to_owned(), values))
}

/// Where each statement of a policy's text starts and ends (line, column; both from 1), as
/// `SimulateCustomPolicy`'s `StartPosition`/`EndPosition` say it.
fn statement_spans(text: &str) -> Vec<Span> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = Cursor {
        chars: &chars,
        i: 0,
        line: 1,
        column: 1,
    };
    at.spans().unwrap_or_default()
}

/// Where a piece of text starts and ends: (line, column) each.
type Span = ((usize, usize), (usize, usize));

/// A walk over a JSON text that knows its line and column.
struct Cursor<'a> {
    chars: &'a [char],
    i: usize,
    line: usize,
    column: usize,
}

impl Cursor<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = *self.chars.get(self.i)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn blank(&mut self) {
        while self.chars.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.bump();
        }
    }

    fn string(&mut self) -> Option<String> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump()? {
                '"' => return Some(out),
                '\\' => {
                    out.push('\\');
                    out.push(self.bump()?);
                }
                c => out.push(c),
            }
        }
    }

    /// Skips one value; its start and end positions.
    fn value(&mut self) -> Option<Span> {
        self.blank();
        let start = (self.line, self.column);
        match self.chars.get(self.i)? {
            '"' => {
                self.string()?;
            }
            '{' | '[' => {
                let mut depth = 0usize;
                loop {
                    match self.chars.get(self.i)? {
                        '"' => {
                            self.string()?;
                            continue;
                        }
                        '{' | '[' => depth += 1,
                        '}' | ']' => depth -= 1,
                        _ => {}
                    }
                    self.bump();
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => {
                while self
                    .chars
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                {
                    self.bump();
                }
            }
        }
        Some((start, (self.line, self.column)))
    }

    /// The spans of the top-level `Statement`'s items (or of the one statement).
    fn spans(&mut self) -> Option<Vec<Span>> {
        self.blank();
        if self.bump()? != '{' {
            return None;
        }
        loop {
            self.blank();
            if self.chars.get(self.i)? != &'"' {
                return None;
            }
            let key = self.string()?;
            self.blank();
            self.bump()?; // ':'
            self.blank();
            if key != "Statement" {
                self.value()?;
                self.blank();
                if self.bump()? != ',' {
                    return None;
                }
                continue;
            }
            if self.chars.get(self.i)? != &'[' {
                return Some(vec![self.value()?]);
            }
            self.bump();
            let mut spans = Vec::new();
            loop {
                self.blank();
                if self.chars.get(self.i)? == &']' {
                    return Some(spans);
                }
                spans.push(self.value()?);
                self.blank();
                if self.chars.get(self.i)? == &',' {
                    self.bump();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    /// The AWS CLI's shorthand ("Using shorthand syntax in the AWS CLI"): lists after the member,
    /// in brackets or not, quoted values that hold commas; and the JSON form.
    #[test]
    fn context_entries_read_as_the_cli_reads_them() {
        let one = context_entries(
            "ContextKeyName=aws:TagKeys,ContextKeyValues=a,b,ContextKeyType=stringList",
        )
        .expect("shorthand");
        assert_eq!(
            one,
            vec![(
                "aws:TagKeys".to_owned(),
                vec!["a".to_owned(), "b".to_owned()]
            )]
        );
        let bracketed = context_entries(
            "ContextKeyName='aws:TagKeys',ContextKeyValues=[a,'b,c'],ContextKeyType=stringList",
        )
        .expect("shorthand");
        assert_eq!(bracketed[0].1, vec!["a".to_owned(), "b,c".to_owned()]);
        let json = context_entries(
            r#"[{"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["true"], "ContextKeyType": "boolean"}]"#,
        )
        .expect("JSON");
        assert_eq!(json[0].0, "aws:SecureTransport");
        for (bad, code) in [
            (
                "ContextKeyName=aws:SourceIp,ContextKeyValues=not-an-ip,ContextKeyType=ip",
                "E-POLICY-CONTEXT-VALUE",
            ),
            (
                "ContextKeyName=k,ContextKeyValues=a,b,ContextKeyType=string",
                "E-POLICY-CONTEXT-ONE-VALUE",
            ),
            (
                "ContextKeyName=k,ContextKeyValues=a,ContextKeyType=strings",
                "E-POLICY-CONTEXT-TYPE",
            ),
            ("ContextKeyValues=a", "E-POLICY-CONTEXT-KEY-NAME"),
            ("Key=k", "E-POLICY-CONTEXT-SHORTHAND"),
            ("[{\"ContextKeyName\": ", "E-POLICY-CONTEXT-NOT-JSON"),
        ] {
            let err = context_entries(bad).expect_err(bad);
            assert_eq!(codes(&err), [code], "{bad}");
        }
    }

    /// simulate-custom-policy's documented example: the statement of a one-line policy starts at
    /// column 38 and ends at 167 (the columns after its braces).
    #[test]
    fn statement_positions_follow_the_documented_example() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
        assert_eq!(statement_spans(text), vec![((1, 37), (1, 167))]);
        let listed =
            "{\n \"Statement\": [\n  {\"Effect\": \"Deny\"},\n  {\"Effect\": \"Allow\"}\n ]\n}";
        assert_eq!(
            statement_spans(listed),
            vec![((3, 3), (3, 21)), ((4, 3), (4, 22))]
        );
    }

    /// A principal belongs to resource policies only; flags take several words; a resource policy
    /// needs a caller.
    #[test]
    fn inputs_are_refused_as_iam_refuses_them() {
        let with_principal =
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#;
        let refused = |words: &[&str]| codes(&command(&args(words)).expect_err("refused"));
        assert_eq!(
            refused(&[
                "--policy-input-list",
                with_principal,
                "--action-names",
                "s3:GetObject",
            ]),
            ["E-POLICY-PRINCIPAL-IN-IDENTITY"]
        );
        let allow = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        assert_eq!(
            refused(&[
                "--policy-input-list",
                allow,
                "--action-names",
                "s3:GetObject",
                "--resource-policy",
                allow,
            ]),
            ["E-POLICY-CALLER-NEEDED"]
        );
        assert_eq!(
            refused(&[
                "--policy-input-list",
                allow,
                "--action-names",
                "s3:GetObject",
                "--resource-policy",
                allow,
                "--caller-arn",
                "arn:aws:iam::123456789012:user/ci",
            ]),
            ["E-POLICY-PRINCIPAL-MISSING"]
        );
        // Each flag's misuse, and a document IAM would refuse, under its own code.
        for (words, code) in [
            (
                &["--action-names", "s3:GetObject"][..],
                "E-POLICY-FLAG-REQUIRED",
            ),
            (
                &["--policy-input-list", allow][..],
                "E-POLICY-FLAG-REQUIRED",
            ),
            (&["s3:GetObject"][..], "E-POLICY-STRAY-VALUE"),
            (&["--policy-input-list"][..], "E-POLICY-FLAG-VALUE"),
            (&["--caller-arn", "a", "b"][..], "E-POLICY-ONE-VALUE"),
            (&["--policy-names", "p"][..], "E-POLICY-UNKNOWN-FLAG"),
            (
                &["--policy-input-list", "{", "--action-names", "s3:GetObject"][..],
                "E-POLICY-NOT-JSON",
            ),
            (
                &[
                    "--policy-input-list",
                    "file:///nonexistent/policy.json",
                    "--action-names",
                    "a",
                ][..],
                "E-POLICY-UNREADABLE",
            ),
            (
                &[
                    "--policy-input-list",
                    r#"{"Statement":{"Effect":"Permit","Action":"*"}}"#,
                    "--action-names",
                    "s3:GetObject",
                ][..],
                "E-POLICY-EFFECT",
            ),
        ] {
            assert_eq!(refused(words), [code], "{words:?}");
        }
        let answer = command(&args(&[
            "--policy-input-list",
            allow,
            "--action-names",
            "s3:GetObject",
            "s3:PutObject",
        ]))
        .expect("an answer");
        let answer: Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(
            answer["EvaluationResults"].as_array().map(Vec::len),
            Some(2)
        );
    }
}
