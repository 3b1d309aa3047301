//! `ecr-push-action policy simulate`, the offline twin of `aws iam simulate-custom-policy`, checked
//! against a corpus built from AWS's own documentation (IAM User Guide, IAM API Reference, AWS CLI
//! reference) rather than from our evaluator: every case names the page and section it comes from.
//! The CLI is AWS's (`--policy-input-list`, `--context-entries` shorthand or JSON, `file://`), and each
//! case reads `EvalDecision` (and where AWS documents it `MatchedStatements` / `MissingContextValues`)
//! from the JSON on stdout. No test bed services are needed. Facts and gaps: /tmp/iam-facts.md.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::TempDir;

const ALLOWED: &str = "allowed";
const EXPLICIT: &str = "explicitDeny";
const IMPLICIT: &str = "implicitDeny";

/// One context entry: key, comma-joined values, `ContextKeyType`.
type Ctx = (&'static str, &'static str, &'static str);
/// One documented table row: the request context and the decision AWS documents for it.
type Row = (&'static [Ctx], &'static str);

/// The CLI shorthand of one entry:
/// `ContextKeyName=string,ContextKeyValues=string,string,ContextKeyType=string`.
fn shorthand((name, values, kind): Ctx) -> String {
    format!("ContextKeyName={name},ContextKeyValues={values},ContextKeyType={kind}")
}

/// One `simulate` invocation, built with AWS's own flag names.
#[derive(Clone, Default)]
struct Sim {
    policies: Vec<String>,
    boundary: Option<String>,
    resource_policy: Option<String>,
    resource_owner: Option<String>,
    caller: Option<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    context: Vec<String>,
}

fn sim(policy: &str, action: &str) -> Sim {
    Sim {
        policies: vec![policy.to_owned()],
        actions: vec![action.to_owned()],
        ..Sim::default()
    }
}

impl Sim {
    fn policy(mut self, policy: &str) -> Self {
        self.policies.push(policy.to_owned());
        self
    }
    fn action(mut self, action: &str) -> Self {
        self.actions.push(action.to_owned());
        self
    }
    fn boundary(mut self, policy: &str) -> Self {
        self.boundary = Some(policy.to_owned());
        self
    }
    fn resource_policy(mut self, policy: &str) -> Self {
        self.resource_policy = Some(policy.to_owned());
        self
    }
    fn owner(mut self, arn: &str) -> Self {
        self.resource_owner = Some(arn.to_owned());
        self
    }
    fn caller(mut self, arn: &str) -> Self {
        self.caller = Some(arn.to_owned());
        self
    }
    fn resource(mut self, arn: &str) -> Self {
        self.resources.push(arn.to_owned());
        self
    }
    fn ctx(mut self, entries: &[Ctx]) -> Self {
        self.context.extend(entries.iter().map(|e| shorthand(*e)));
        self
    }
    /// A raw `--context-entries` word: shorthand, a JSON list or `file://`.
    fn raw_ctx(mut self, entry: &str) -> Self {
        self.context.push(entry.to_owned());
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["policy".to_owned(), "simulate".to_owned()];
        args.push("--policy-input-list".to_owned());
        args.extend(self.policies.iter().cloned());
        if let Some(boundary) = &self.boundary {
            args.push("--permissions-boundary-policy-input-list".to_owned());
            args.push(boundary.clone());
        }
        if let Some(policy) = &self.resource_policy {
            args.push("--resource-policy".to_owned());
            args.push(policy.clone());
        }
        if let Some(owner) = &self.resource_owner {
            args.push("--resource-owner".to_owned());
            args.push(owner.clone());
        }
        if let Some(caller) = &self.caller {
            args.push("--caller-arn".to_owned());
            args.push(caller.clone());
        }
        args.push("--action-names".to_owned());
        args.extend(self.actions.iter().cloned());
        if !self.resources.is_empty() {
            args.push("--resource-arns".to_owned());
            args.extend(self.resources.iter().cloned());
        }
        if !self.context.is_empty() {
            args.push("--context-entries".to_owned());
            args.extend(self.context.iter().cloned());
        }
        args
    }

    fn output(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
            .env_clear()
            .args(self.args())
            .output()
            .expect("run ecr-push-action policy simulate")
    }

    /// The whole stdout document; the command exits 0 whatever the decisions.
    fn run(&self) -> Value {
        let out = self.output();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "simulate failed ({:?}) for {:?}\nstdout: {stdout}\nstderr: {}",
            out.status.code(),
            self.args(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}) for {:?}: {stdout}", self.args()))
    }

    /// The single `EvaluationResults` item of a one-action, at most one-resource simulation.
    fn only(&self) -> Value {
        let doc = self.run();
        let results = doc["EvaluationResults"]
            .as_array()
            .unwrap_or_else(|| panic!("no EvaluationResults array for {:?}: {doc}", self.args()));
        assert_eq!(
            results.len(),
            1,
            "one action and one resource give one result; {:?}: {doc}",
            self.args()
        );
        results[0].clone()
    }

    fn decision(&self) -> String {
        self.only()["EvalDecision"]
            .as_str()
            .unwrap_or_else(|| panic!("no EvalDecision for {:?}", self.args()))
            .to_owned()
    }
}

/// Asserts one decision, naming the documented reason on failure.
fn expect(case: &Sim, want: &str, why: &str) {
    let got = case.decision();
    assert_eq!(got, want, "{why}\nargs: {:?}", case.args());
}

/// Runs every row of a documented table against `base` and reports all mismatches at once.
fn table(base: &Sim, rows: &[Row], page: &str) {
    let failures: Vec<String> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (ctx, want))| {
            let got = base.clone().ctx(ctx).decision();
            (got != *want).then(|| format!("row {}: {ctx:?} → {got}, documented {want}", i + 1))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{page}\n{}\nargs: {:?}",
        failures.join("\n"),
        base.args()
    );
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
const ALLOW_ECR: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}"#;
const ALLOW_S3: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
/// An identity policy that grants nothing the cases ask about (`--policy-input-list` is required).
const ALLOW_UNRELATED: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}"#;
const REPO: &str = "arn:aws:ecr:eu-west-1:111122223333:repository/team/api";

// ------------------------------------------------------------------------------------------------
// The AWS CLI's own examples: https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html
// (aws/aws-cli awscli/examples/iam/simulate-custom-policy.rst, "Example 1" and "Example 2").

const CLI_EXAMPLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;

// Example 1: the date is after the policy's date → allowed, one matched statement from
// "PolicyInputList.1", no missing context values. The shorthand is the example's, quotes included.
#[test]
fn cli_example_date_after_the_condition_is_allowed() {
    let result = sim(CLI_EXAMPLE, "dynamodb:CreateBackup")
        .raw_ctx("ContextKeyName='aws:CurrentTime',ContextKeyValues='2019-04-25T11:00:00Z',ContextKeyType=date")
        .only();
    assert_eq!(result["EvalActionName"], "dynamodb:CreateBackup");
    assert_eq!(result["EvalDecision"], ALLOWED);
    let matched = result["MatchedStatements"]
        .as_array()
        .expect("MatchedStatements array");
    assert_eq!(matched.len(), 1, "{result}");
    assert_eq!(matched[0]["SourcePolicyId"], "PolicyInputList.1");
    assert!(
        strings(&result["MissingContextValues"]).is_empty(),
        "{result}"
    );
}

// Example 1, exact positions: the documented output gives StartPosition {Line 1, Column 38} and
// EndPosition {Line 1, Column 167} for this one-line policy (the statement's `{` is the 37th character
// and its `}` the 166th: AWS reports one past each).
#[test]
fn cli_example_reports_the_documented_statement_positions() {
    let result = sim(CLI_EXAMPLE, "dynamodb:CreateBackup")
        .ctx(&[("aws:CurrentTime", "2019-04-25T11:00:00Z", "date")])
        .only();
    let statement = &result["MatchedStatements"][0];
    assert_eq!(statement["StartPosition"]["Line"], 1, "{result}");
    assert_eq!(statement["StartPosition"]["Column"], 38, "{result}");
    assert_eq!(statement["EndPosition"]["Line"], 1, "{result}");
    assert_eq!(statement["EndPosition"]["Column"], 167, "{result}");
}

// Example 2: the date is before the policy's date → implicitDeny, nothing matched, nothing missing.
#[test]
fn cli_example_date_before_the_condition_is_implicitly_denied() {
    let result = sim(CLI_EXAMPLE, "dynamodb:CreateBackup")
        .raw_ctx("ContextKeyName='aws:CurrentTime',ContextKeyValues='2014-04-25T11:00:00Z',ContextKeyType=date")
        .only();
    assert_eq!(result["EvalDecision"], IMPLICIT);
    assert_eq!(
        result["MatchedStatements"].as_array().map(Vec::len),
        Some(0)
    );
    assert!(
        strings(&result["MissingContextValues"]).is_empty(),
        "{result}"
    );
}

// https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-parameters-file.html ("Loading a parameter
// from a file in the AWS CLI", "How to load a parameter from a file"): a parameter value may be
// `file://complete/path/to/file` (three slashes for an absolute path); the JSON syntax of
// `--context-entries` is a list of {ContextKeyName, ContextKeyValues, ContextKeyType} (CLI reference,
// "--context-entries", JSON Syntax).
#[test]
fn parameters_load_from_files_and_context_entries_take_the_json_syntax() {
    let dir = TempDir::new();
    let policy = dir.0.join("policy.json");
    std::fs::write(&policy, CLI_EXAMPLE).expect("write policy");
    let entries = dir.0.join("context.json");
    std::fs::write(
        &entries,
        r#"[{"ContextKeyName":"aws:CurrentTime","ContextKeyValues":["2019-04-25T11:00:00Z"],"ContextKeyType":"date"}]"#,
    )
    .expect("write context");
    let from_files = sim(
        &format!("file://{}", policy.display()),
        "dynamodb:CreateBackup",
    )
    .raw_ctx(&format!("file://{}", entries.display()));
    expect(
        &from_files,
        ALLOWED,
        "policy and context entries read from files",
    );
    let inline_json = sim(CLI_EXAMPLE, "dynamodb:CreateBackup").raw_ctx(
        r#"[{"ContextKeyName":"aws:CurrentTime","ContextKeyValues":["2014-04-25T11:00:00Z"],"ContextKeyType":"date"}]"#,
    );
    expect(
        &inline_json,
        IMPLICIT,
        "context entries as an inline JSON list",
    );
}

// Project CLI contract (brief): exit 2 for unreadable input. Not an AWS behaviour.
#[test]
fn an_unreadable_policy_file_exits_2() {
    let dir = TempDir::new();
    let missing = dir.0.join("absent.json");
    let out = sim(&format!("file://{}", missing.display()), "ecr:PutImage").output();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let error = crate::policy::assert_policy_error(
        &String::from_utf8_lossy(&out.stdout),
        "E-POLICY-UNREADABLE",
    );
    assert!(error.contains("absent.json"), "{error}");
}

// ------------------------------------------------------------------------------------------------
// Absent keys and negated operators.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// box "Important" at the top: a key absent from the request context makes a condition false, except
// that a negated operator (StringNotLike, ArnNotLike, …) is then true; ...IfExists and Null aside.

const MANAGED_BY_GUARDRAIL: &str = r#"{"Version":"2012-10-17","Statement":{"Sid":"RequireManagedBy","Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestTag/ManagedBy":"github"}}}}"#;

#[test]
fn tag_guardrail_denies_a_request_without_the_tag_and_names_it_missing() {
    let result = sim(ALLOW_ECR, "ecr:CreateRepository")
        .policy(MANAGED_BY_GUARDRAIL)
        .only();
    assert_eq!(result["EvalDecision"], EXPLICIT, "{result}");
    // API EvaluationResult.MatchedStatements: "the deny statement is the only entry included".
    assert_eq!(
        result["MatchedStatements"].as_array().map(Vec::len),
        Some(1),
        "{result}"
    );
    // API EvaluationResult.MissingContextValues: keys the input policies require but that were not
    // provided (top level when ResourceArns is omitted).
    assert!(
        strings(&result["MissingContextValues"]).contains(&"aws:RequestTag/ManagedBy".to_owned()),
        "{result}"
    );
}

#[test]
fn tag_guardrail_allows_the_right_tag_and_denies_another() {
    let base = sim(ALLOW_ECR, "ecr:CreateRepository").policy(MANAGED_BY_GUARDRAIL);
    expect(
        &base
            .clone()
            .ctx(&[("aws:RequestTag/ManagedBy", "github", "string")]),
        ALLOWED,
        "StringNotEquals is false for the listed value",
    );
    expect(
        &base.ctx(&[("aws:RequestTag/ManagedBy", "terraform", "string")]),
        EXPLICIT,
        "StringNotEquals is true for any other value",
    );
}

// Same page, "...IfExists condition operators": with Deny and a negated operator such as
// StringNotEqualsIfExists "the request is still denied even if the condition key is not present".
#[test]
fn negated_ifexists_in_a_deny_still_denies_an_absent_key() {
    let guardrail = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:RequestTag/ManagedBy":"github"}}}}"#;
    expect(
        &sim(ALLOW_ECR, "ecr:CreateRepository").policy(guardrail),
        EXPLICIT,
        "IfExists makes the absent key's condition true",
    );
}

// Same page, "...IfExists condition operators", table for `StringLikeIfExists ec2:InstanceType
// [t1.*, t2.*, m3.*]`: t1.micro Match, m2.micro No match, key absent Match.
const IFEXISTS_RUN_INSTANCES: &str = r#"{"Version":"2012-10-17","Statement":{"Sid":"RunInstance","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}}"#;
const IFEXISTS_ROWS: &[Row] = &[
    (&[("ec2:InstanceType", "t1.micro", "string")], ALLOWED),
    (&[("ec2:InstanceType", "m2.micro", "string")], IMPLICIT),
    (&[], ALLOWED),
];

#[test]
fn string_like_if_exists_matches_present_values_and_absent_keys() {
    table(
        &sim(IFEXISTS_RUN_INSTANCES, "ec2:RunInstances"),
        IFEXISTS_ROWS,
        "condition operators, ...IfExists table",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html
// ("AWS: Denies access to AWS based on the requested Region"): Deny NotAction [cloudfront:*, iam:*,
// route53:*, support:*] when StringNotEquals aws:RequestedRegion [eu-central-1, eu-west-1, eu-west-2,
// eu-west-3]. Several values under a negated operator are a NOR
// (reference_policies_condition-logic-multiple-context-keys-or-values.html, "Evaluation logic for
// negated matching condition operators").
const REGION_GUARDRAIL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllOutsideRequestedRegions","Effect":"Deny","NotAction":["cloudfront:*","iam:*","route53:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1","eu-west-2","eu-west-3"]}}}]}"#;

#[test]
fn region_guardrail_denies_outside_listed_regions() {
    let base = sim(ALLOW_ALL, "ecr:PutImage").policy(REGION_GUARDRAIL);
    expect(
        &base
            .clone()
            .ctx(&[("aws:RequestedRegion", "us-east-1", "string")]),
        EXPLICIT,
        "us-east-1 is none of the listed regions",
    );
    expect(
        &base.ctx(&[("aws:RequestedRegion", "eu-west-1", "string")]),
        ALLOWED,
        "eu-west-1 is one of the listed regions",
    );
}

#[test]
fn region_guardrail_spares_the_not_action_services() {
    let doc = sim(ALLOW_ALL, "iam:CreateUser")
        .action("ecr:PutImage")
        .policy(REGION_GUARDRAIL)
        .ctx(&[("aws:RequestedRegion", "us-east-1", "string")])
        .run();
    let decisions: Vec<(String, String)> = doc["EvaluationResults"]
        .as_array()
        .expect("EvaluationResults")
        .iter()
        .map(|r| {
            (
                r["EvalActionName"].as_str().unwrap_or_default().to_owned(),
                r["EvalDecision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        decisions.contains(&("iam:CreateUser".to_owned(), ALLOWED.to_owned())),
        "{doc}"
    );
    assert!(
        decisions.contains(&("ecr:PutImage".to_owned(), EXPLICIT.to_owned())),
        "{doc}"
    );
}

// ------------------------------------------------------------------------------------------------
// String operators.
// reference_policies_elements_condition_operators.html, "String condition operators", example table:
// StringEquals aws:PrincipalTag/job-category "iamuser-admin": iamuser-admin Match, dev-ops No match,
// absent No match.
const JOB_CATEGORY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*","Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}}"#;
const JOB_CATEGORY_ROWS: &[Row] = &[
    (
        &[("aws:PrincipalTag/job-category", "iamuser-admin", "string")],
        ALLOWED,
    ),
    (
        &[("aws:PrincipalTag/job-category", "dev-ops", "string")],
        IMPLICIT,
    ),
    (&[], IMPLICIT),
];

#[test]
fn string_equals_principal_tag_table() {
    table(
        &sim(JOB_CATEGORY, "iam:CreateAccessKey").resource("arn:aws:iam::111122223333:user/alice"),
        JOB_CATEGORY_ROWS,
        "condition operators, string example table",
    );
}

// Same condition, Resource "*" and no --resource-arns (the default `*`): an absent key the condition needs
// is reported missing (API EvaluationResult.MissingContextValues, top level when the resource is `*`).
#[test]
fn an_absent_key_of_an_allow_condition_is_reported_missing() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}}"#;
    let result = sim(policy, "iam:CreateAccessKey").only();
    assert_eq!(result["EvalDecision"], IMPLICIT);
    assert!(
        strings(&result["MissingContextValues"])
            .contains(&"aws:PrincipalTag/job-category".to_owned()),
        "{result}"
    );
}

// Same page, "Example using ForAnyValue with a string condition operator": StringEqualsIgnoreCase
// aws:RequestTag/environment [preprod, storage] AND ForAnyValue:StringEquals aws:TagKeys "environment".
const CREATE_TAGS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEqualsIgnoreCase":{"aws:RequestTag/environment":["preprod","storage"]},"ForAnyValue:StringEquals":{"aws:TagKeys":"environment"}}}}"#;
const CREATE_TAGS_ROWS: &[Row] = &[
    (
        &[
            ("aws:TagKeys", "environment", "stringList"),
            ("aws:RequestTag/environment", "preprod", "string"),
        ],
        ALLOWED,
    ),
    (
        &[
            ("aws:TagKeys", "environment,costcenter", "stringList"),
            ("aws:RequestTag/environment", "PreProd", "string"),
        ],
        ALLOWED,
    ),
    (
        &[
            ("aws:TagKeys", "Environment", "stringList"),
            ("aws:RequestTag/Environment", "preprod", "string"),
        ],
        IMPLICIT,
    ),
    (
        &[
            ("aws:TagKeys", "costcenter", "stringList"),
            ("aws:RequestTag/environment", "preprod", "string"),
        ],
        IMPLICIT,
    ),
    (
        &[("aws:RequestTag/environment", "storage", "string")],
        IMPLICIT,
    ),
    (&[("aws:TagKeys", "environment", "stringList")], IMPLICIT),
    (&[], IMPLICIT),
];

#[test]
fn ignore_case_and_for_any_value_table() {
    table(
        &sim(CREATE_TAGS, "ec2:CreateTags")
            .resource("arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"),
        CREATE_TAGS_ROWS,
        "condition operators, ForAnyValue with a string operator table",
    );
}

// Same page, "Example using a policy variable with a string condition operator": StringLike s3:prefix
// ["home/", "home/${aws:username}/"]; martha_rivera's variable resolves to her name; with no
// aws:username in the context the variable value does not match.
const HOME_PREFIX: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"StringLike":{"s3:prefix":["home/","home/${aws:username}/"]}}}}"#;
const HOME_PREFIX_ROWS: &[Row] = &[
    (
        &[
            ("s3:prefix", "home/martha_rivera/", "string"),
            ("aws:username", "martha_rivera", "string"),
        ],
        ALLOWED,
    ),
    (
        &[
            ("s3:prefix", "home/martha_rivera/", "string"),
            ("aws:username", "nikki_wolf", "string"),
        ],
        IMPLICIT,
    ),
    (&[("s3:prefix", "home/martha_rivera/", "string")], IMPLICIT),
];

#[test]
fn string_like_with_a_username_variable_table() {
    table(
        &sim(HOME_PREFIX, "s3:ListBucket").resource("arn:aws:s3:::amzn-s3-demo-bucket"),
        HOME_PREFIX_ROWS,
        "condition operators, policy variable with a string operator table",
    );
}

// ------------------------------------------------------------------------------------------------
// Numeric, date, Bool, binary.
// reference_policies_elements_condition_operators.html, "Numeric condition operators": NumericLessThanEquals
// s3:max-keys "10" lists up to 10; "an integer or decimal value"; absent key does not match.
const MAX_KEYS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}"#;
const MAX_KEYS_ROWS: &[Row] = &[
    (&[("s3:max-keys", "10", "numeric")], ALLOWED),
    (&[("s3:max-keys", "9.5", "numeric")], ALLOWED),
    (&[("s3:max-keys", "11", "numeric")], IMPLICIT),
    (&[], IMPLICIT),
];

#[test]
fn numeric_less_than_equals_table() {
    table(
        &sim(MAX_KEYS, "s3:ListBucket").resource("arn:aws:s3:::amzn-s3-demo-bucket"),
        MAX_KEYS_ROWS,
        "condition operators, numeric",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws-dates.html ("AWS:
// Allows access based on date and time"): DateGreaterThan 2020-04-01T00:00:00Z AND DateLessThan
// 2020-06-30T23:59:59Z on aws:CurrentTime; several operators are ANDed.
const DATE_WINDOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}]}"#;
const DATE_WINDOW_ROWS: &[Row] = &[
    (
        &[("aws:CurrentTime", "2020-05-15T12:00:00Z", "date")],
        ALLOWED,
    ),
    (
        &[("aws:CurrentTime", "2020-07-01T00:00:00Z", "date")],
        IMPLICIT,
    ),
    (
        &[("aws:CurrentTime", "2020-03-31T23:59:59Z", "date")],
        IMPLICIT,
    ),
];

#[test]
fn date_window_table() {
    table(
        &sim(DATE_WINDOW, "ecr:PutImage"),
        DATE_WINDOW_ROWS,
        "example: access based on date and time",
    );
}

// reference_policies_elements_condition_operators.html, "Date condition operators": DateGreaterThan
// aws:TokenIssueTime; the key is absent for requests signed with access keys, so the request is denied.
#[test]
fn date_condition_on_an_absent_key_does_not_match() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*","Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}}}"#;
    let base = sim(policy, "iam:ListAccessKeys").resource("arn:aws:iam::111122223333:user/alice");
    expect(&base, IMPLICIT, "no aws:TokenIssueTime");
    expect(
        &base.ctx(&[("aws:TokenIssueTime", "2020-06-01T00:00:00Z", "date")]),
        ALLOWED,
        "token issued after the date",
    );
}

// Same page, "Boolean condition operators", table for Deny `Bool aws:SecureTransport "false"`:
// false Match (denied), true No match, absent No match.
const NO_TLS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"BooleanExample","Action":"s3:ReplicateObject","Effect":"Deny","Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
const NO_TLS_ROWS: &[Row] = &[
    (&[("aws:SecureTransport", "false", "boolean")], EXPLICIT),
    (&[("aws:SecureTransport", "true", "boolean")], ALLOWED),
    (&[], ALLOWED),
];

#[test]
fn bool_secure_transport_table() {
    table(
        &sim(ALLOW_S3, "s3:ReplicateObject")
            .policy(NO_TLS)
            .resource("arn:aws:s3:::amzn-s3-demo-bucket/object"),
        NO_TLS_ROWS,
        "condition operators, Boolean table",
    );
}

// Same page, "Binary condition operators" table: BinaryEquals compares against the base-64 value:
// same value Match, ASIAIOSFODNN7EXAMPLE No match, absent No match.
const BINARY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"BinaryEquals":{"example:BinaryKey":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}}}"#;
const BINARY_ROWS: &[Row] = &[
    (
        &[(
            "example:BinaryKey",
            "QmluYXJ5VmFsdWVJbkJhc2U2NA==",
            "binary",
        )],
        ALLOWED,
    ),
    (
        &[("example:BinaryKey", "ASIAIOSFODNN7EXAMPLE", "binary")],
        IMPLICIT,
    ),
    (&[], IMPLICIT),
];

#[test]
fn binary_equals_table() {
    table(
        &sim(BINARY, "ecr:PutImage"),
        BINARY_ROWS,
        "condition operators, binary table",
    );
}

// ------------------------------------------------------------------------------------------------
// IP addresses. reference_policies_elements_condition_operators.html, "IP address condition
// operators": CIDR, IPv4 or IPv6; an address without a prefix means /32. Table for IpAddress
// 203.0.113.0/24: 203.0.113.1 Match, 198.51.100.1 No match. The mixed example lists 203.0.113.0/24 and
// 2001:DB8:1234:5678::/64.
const SOURCE_IP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}}"#;
const SOURCE_IP_ROWS: &[Row] = &[
    (&[("aws:SourceIp", "203.0.113.1", "ip")], ALLOWED),
    (&[("aws:SourceIp", "198.51.100.1", "ip")], IMPLICIT),
    (&[("aws:SourceIp", "2001:db8:1234:5678::1", "ip")], ALLOWED),
    (&[("aws:SourceIp", "2001:db8:1234:5679::1", "ip")], IMPLICIT),
    (&[], IMPLICIT),
];

#[test]
fn ip_address_ipv4_and_ipv6_table() {
    table(
        &sim(SOURCE_IP, "ecr:PutImage"),
        SOURCE_IP_ROWS,
        "condition operators, IP address",
    );
}

const SINGLE_IP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}}}"#;
const SINGLE_IP_ROWS: &[Row] = &[
    (&[("aws:SourceIp", "203.0.113.5", "ip")], ALLOWED),
    (&[("aws:SourceIp", "203.0.113.6", "ip")], IMPLICIT),
];

#[test]
fn an_address_without_prefix_is_a_slash_32() {
    table(
        &sim(SINGLE_IP, "ecr:PutImage"),
        SINGLE_IP_ROWS,
        "condition operators, IP address: default prefix /32",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html ("AWS:
// Denies access to AWS based on the source IP"): Deny * when NotIpAddress [192.0.2.0/24,
// 203.0.113.0/24] AND Bool aws:ViaAWSService false.
const DENY_IP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}"#;
const DENY_IP_ROWS: &[Row] = &[
    (
        &[
            ("aws:SourceIp", "192.0.2.10", "ip"),
            ("aws:ViaAWSService", "false", "boolean"),
        ],
        ALLOWED,
    ),
    (
        &[
            ("aws:SourceIp", "198.51.100.7", "ip"),
            ("aws:ViaAWSService", "false", "boolean"),
        ],
        EXPLICIT,
    ),
    (
        &[
            ("aws:SourceIp", "198.51.100.7", "ip"),
            ("aws:ViaAWSService", "true", "boolean"),
        ],
        ALLOWED,
    ),
];

#[test]
fn not_ip_address_deny_example() {
    table(
        &sim(ALLOW_ALL, "ecr:PutImage").policy(DENY_IP),
        DENY_IP_ROWS,
        "example: deny based on the source IP",
    );
}

// ------------------------------------------------------------------------------------------------
// ARN operators. reference_policies_elements_condition_operators.html, "Amazon Resource Name (ARN)
// condition operators": ArnEquals and ArnLike behave identically, case-sensitive, each of the six
// colon-delimited parts checked separately, `*` and `?` allowed in each.
// Table for ArnEquals aws:SourceArn arn:aws:sns:us-west-2:123456789012:TOPIC-ID: same ARN Match,
// account 777788889999 No match, absent No match.
const SOURCE_ARN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-west-2:123456789012:TOPIC-ID"}}}}"#;
const SOURCE_ARN_ROWS: &[Row] = &[
    (
        &[(
            "aws:SourceArn",
            "arn:aws:sns:us-west-2:123456789012:TOPIC-ID",
            "string",
        )],
        ALLOWED,
    ),
    (
        &[(
            "aws:SourceArn",
            "arn:aws:sns:us-west-2:777788889999:TOPIC-ID",
            "string",
        )],
        IMPLICIT,
    ),
    (&[], IMPLICIT),
];

#[test]
fn arn_equals_table() {
    table(
        &sim(SOURCE_ARN, "sqs:SendMessage"),
        SOURCE_ARN_ROWS,
        "condition operators, ARN table",
    );
}

// Same section: "The ArnEquals and ArnLike condition operators behave identically", wildcards
// included.
#[test]
fn arn_equals_takes_wildcards_like_arn_like() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:123456789012:TOPIC-?D"}}}}"#;
    expect(
        &sim(policy, "sqs:SendMessage").ctx(&[(
            "aws:SourceArn",
            "arn:aws:sns:us-west-2:123456789012:TOPIC-ID",
            "string",
        )]),
        ALLOWED,
        "ArnEquals with * in the region and ? in the resource",
    );
}

// Same section: pattern arn:aws:someservice:*:111122223333:finance/* against
// arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt:
// StringLike matches (its * runs over colons), ArnLike does not (part by part).
const FINANCE_VALUE: &[Ctx] = &[(
    "aws:SourceArn",
    "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
    "string",
)];

#[test]
fn arn_like_matches_part_by_part_where_string_like_does_not() {
    let string_like = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}}"#;
    let arn_like = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}}"#;
    expect(
        &sim(string_like, "ecr:PutImage").ctx(FINANCE_VALUE),
        ALLOWED,
        "StringLike's first * matches us-east-2:999999999999:store/abc:",
    );
    expect(
        &sim(arn_like, "ecr:PutImage").ctx(FINANCE_VALUE),
        IMPLICIT,
        "ArnLike's first * covers only the region",
    );
}

// Box "Important" at the top of the same page: ArnNotLike with the key absent is true.
#[test]
fn arn_not_like_on_an_absent_key_is_true() {
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/pusher"}}}}"#;
    let base = sim(ALLOW_ECR, "ecr:PutImage").policy(deny);
    expect(&base, EXPLICIT, "absent key, negated operator: true");
    expect(
        &base.ctx(&[(
            "aws:PrincipalArn",
            "arn:aws:iam::111122223333:role/pusher",
            "string",
        )]),
        ALLOWED,
        "the listed principal is not denied",
    );
}

// ------------------------------------------------------------------------------------------------
// Several operators, keys and values.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
// "Evaluation logic for multiple context keys or values": operators AND, keys AND, values OR; and
// "Evaluation logic for negated matching condition operators": values under a negated operator NOR.
// Both tables (the page's bucket policy, its Principal dropped: an identity policy here).
const DEPT_ROLE_ARN_LIKE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ExamplePolicy","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"StringEquals":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:user/Ana","arn:aws:iam::222222222222:user/Mary"]}}}]}"#;
const DEPT_ROLE_ARN_NOT_LIKE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ExamplePolicy","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"StringEquals":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:user/Ana","arn:aws:iam::222222222222:user/Mary"]}}}]}"#;
const MARY: Ctx = (
    "aws:PrincipalArn",
    "arn:aws:iam::222222222222:user/Mary",
    "string",
);
const NIKKI: Ctx = (
    "aws:PrincipalArn",
    "arn:aws:iam::222222222222:user/Nikki",
    "string",
);
const LEGAL: Ctx = ("aws:PrincipalTag/department", "legal", "string");
const HR: Ctx = ("aws:PrincipalTag/department", "hr", "string");
const AUDIT: Ctx = ("aws:PrincipalTag/role", "audit", "string");
const PAYROLL: Ctx = ("aws:PrincipalTag/role", "payroll", "string");
const ARN_LIKE_ROWS: &[Row] = &[
    (&[LEGAL, AUDIT, MARY], ALLOWED),
    (&[HR, AUDIT, NIKKI], IMPLICIT),
    (&[HR, PAYROLL, MARY], IMPLICIT),
    (&[HR, MARY], IMPLICIT),
    (&[MARY], IMPLICIT),
];
const ARN_NOT_LIKE_ROWS: &[Row] = &[
    (&[LEGAL, AUDIT, NIKKI], ALLOWED),
    (&[HR, AUDIT, MARY], IMPLICIT),
    (&[HR, PAYROLL, NIKKI], IMPLICIT),
    (&[HR, NIKKI], IMPLICIT),
    (&[NIKKI], IMPLICIT),
];

#[test]
fn operators_and_keys_are_anded_values_ored() {
    table(
        &sim(DEPT_ROLE_ARN_LIKE, "s3:ListBucket").resource("arn:aws:s3:::amzn-s3-demo-bucket"),
        ARN_LIKE_ROWS,
        "multiple context keys or values, first table",
    );
}

#[test]
fn values_under_a_negated_operator_are_nored() {
    table(
        &sim(DEPT_ROLE_ARN_NOT_LIKE, "s3:ListBucket").resource("arn:aws:s3:::amzn-s3-demo-bucket"),
        ARN_NOT_LIKE_ROWS,
        "multiple context keys or values, negated table",
    );
}

// ------------------------------------------------------------------------------------------------
// Set operators on multivalued keys.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
// "ForAllValues": every request value matches a policy value; true when the key is absent. Table with
// the recommended Null check: [environment] M, [cost-center] M, [environment, cost-center] M,
// [environment, dept] No, absent No (Null false).
const DELETE_TAGS_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DeleteTags","Resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"Null":{"aws:TagKeys":"false"}}}]}"#;
const DELETE_TAGS_ALL_ROWS: &[Row] = &[
    (&[("aws:TagKeys", "environment", "stringList")], ALLOWED),
    (&[("aws:TagKeys", "cost-center", "stringList")], ALLOWED),
    (
        &[("aws:TagKeys", "environment,cost-center", "stringList")],
        ALLOWED,
    ),
    (
        &[("aws:TagKeys", "environment,dept", "stringList")],
        IMPLICIT,
    ),
    (&[], IMPLICIT),
];
const INSTANCE: &str = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";

#[test]
fn for_all_values_with_a_null_check_table() {
    table(
        &sim(DELETE_TAGS_ALL, "ec2:DeleteTags").resource(INSTANCE),
        DELETE_TAGS_ALL_ROWS,
        "single vs multivalued keys, ForAllValues table",
    );
}

// Same section, without the Null check: "It also returns true if there are no context keys in the
// request."
#[test]
fn for_all_values_is_true_for_an_absent_key() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DeleteTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}]}"#;
    expect(
        &sim(policy, "ec2:DeleteTags").resource(INSTANCE),
        ALLOWED,
        "ForAllValues with no aws:TagKeys in the request",
    );
}

// Same page, "ForAnyValue": at least one request value matches; false when the key is absent.
// Table: [environment] M, [cost-center] M, [environment, cost-center] M, [environment, dept] M, [dept]
// No, absent No.
const DELETE_TAGS_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DeleteTags","Resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}]}"#;
const DELETE_TAGS_ANY_ROWS: &[Row] = &[
    (&[("aws:TagKeys", "environment", "stringList")], ALLOWED),
    (&[("aws:TagKeys", "cost-center", "stringList")], ALLOWED),
    (
        &[("aws:TagKeys", "environment,cost-center", "stringList")],
        ALLOWED,
    ),
    (
        &[("aws:TagKeys", "environment,dept", "stringList")],
        ALLOWED,
    ),
    (&[("aws:TagKeys", "dept", "stringList")], IMPLICIT),
    (&[], IMPLICIT),
];

#[test]
fn for_any_value_table() {
    table(
        &sim(DELETE_TAGS_ANY, "ec2:DeleteTags").resource(INSTANCE),
        DELETE_TAGS_ANY_ROWS,
        "single vs multivalued keys, ForAnyValue table",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
// "Deny policy with condition set operator ForAllValues", first table (Deny iam:Tag*/iam:UnTag* when
// ForAllValues:StringNotLike aws:TagKeys "key1*"): [key1:legal] No, [key1:hr, key1:personnel] No,
// [key2:audit] Match (denied), absent Match (denied).
const DENY_KEY1: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyRestrictedTags","Effect":"Deny","Action":["iam:Tag*","iam:UnTag*"],"Resource":["*"],"Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}]}"#;
const DENY_KEY1_ROWS: &[Row] = &[
    (&[("aws:TagKeys", "key1:legal", "stringList")], ALLOWED),
    (
        &[("aws:TagKeys", "key1:hr,key1:personnel", "stringList")],
        ALLOWED,
    ),
    (&[("aws:TagKeys", "key2:audit", "stringList")], EXPLICIT),
    (&[], EXPLICIT),
];

#[test]
fn for_all_values_string_not_like_deny_table() {
    table(
        &sim(ALLOW_ALL, "iam:TagUser").policy(DENY_KEY1),
        DENY_KEY1_ROWS,
        "multivalued examples, ForAllValues:StringNotLike single value",
    );
}

// Same page, second table (values key1*, key2*): [key1:legal] No, [key1:hr, key1:personnel] No,
// [key1:hr, key2:audit] No, [key3:legal] Match, absent Match.
const DENY_KEY12: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyRestrictedTags","Effect":"Deny","Action":["iam:Tag*","iam:UnTag*"],"Resource":["*"],"Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":["key1*","key2*"]}}}]}"#;
const DENY_KEY12_ROWS: &[Row] = &[
    (&[("aws:TagKeys", "key1:legal", "stringList")], ALLOWED),
    (
        &[("aws:TagKeys", "key1:hr,key1:personnel", "stringList")],
        ALLOWED,
    ),
    (
        &[("aws:TagKeys", "key1:hr,key2:audit", "stringList")],
        ALLOWED,
    ),
    (&[("aws:TagKeys", "key3:legal", "stringList")], EXPLICIT),
    (&[], EXPLICIT),
];

#[test]
fn for_all_values_string_not_like_with_two_values_deny_table() {
    table(
        &sim(ALLOW_ALL, "iam:UntagUser").policy(DENY_KEY12),
        DENY_KEY12_ROWS,
        "multivalued examples, ForAllValues:StringNotLike two values",
    );
}

// Same page, "Deny policy with condition set operator ForAnyValue" (Deny ec2:CreateSnapshot(s) when
// ForAnyValue:StringEquals aws:TagKeys "webserver"): [webserver] M, [environment, webserver, test] M,
// [environment, test] No, absent No.
const DENY_WEBSERVER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ec2:CreateSnapshot","ec2:CreateSnapshots"],"Resource":"arn:aws:ec2:us-west-2::snapshot/*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"webserver"}}}]}"#;
const DENY_WEBSERVER_ROWS: &[Row] = &[
    (&[("aws:TagKeys", "webserver", "stringList")], EXPLICIT),
    (
        &[("aws:TagKeys", "environment,webserver,test", "stringList")],
        EXPLICIT,
    ),
    (
        &[("aws:TagKeys", "environment,test", "stringList")],
        ALLOWED,
    ),
    (&[], ALLOWED),
];

#[test]
fn for_any_value_deny_table() {
    table(
        &sim(ALLOW_ALL, "ec2:CreateSnapshot")
            .policy(DENY_WEBSERVER)
            .resource("arn:aws:ec2:us-west-2::snapshot/snap-0123456789abcdef0"),
        DENY_WEBSERVER_ROWS,
        "multivalued examples, ForAnyValue deny",
    );
}

// reference_policies_elements_condition_operators.html, "Multivalued ARN condition operators",
// ForAllValues:ArnLike logs:LogGeneratingResourceArns [distribution/*, distribution/support*]:
// [costcenter] M, [costcenter, support2025] M, account 777788889999 No, absent M. (The page's row
// [costcenter, admin] = "No match" contradicts distribution/* and is left out.)
const DELIVERY_SOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutDeliverySource","Resource":"arn:aws:logs:us-east-1:123456789012:delivery-source:*","Condition":{"ForAllValues:ArnLike":{"logs:LogGeneratingResourceArns":["arn:aws:cloudfront::123456789012:distribution/*","arn:aws:cloudfront::123456789012:distribution/support*"]}}}]}"#;
const DELIVERY_SOURCE_ROWS: &[Row] = &[
    (
        &[(
            "logs:LogGeneratingResourceArns",
            "arn:aws:cloudfront::123456789012:distribution/costcenter",
            "stringList",
        )],
        ALLOWED,
    ),
    (
        &[(
            "logs:LogGeneratingResourceArns",
            "arn:aws:cloudfront::123456789012:distribution/costcenter,arn:aws:cloudfront::123456789012:distribution/support2025",
            "stringList",
        )],
        ALLOWED,
    ),
    (
        &[(
            "logs:LogGeneratingResourceArns",
            "arn:aws:cloudfront::777788889999:distribution/costcenter",
            "stringList",
        )],
        IMPLICIT,
    ),
    (&[], ALLOWED),
];

#[test]
fn for_all_values_arn_like_table() {
    table(
        &sim(DELIVERY_SOURCE, "logs:PutDeliverySource")
            .resource("arn:aws:logs:us-east-1:123456789012:delivery-source:my-source"),
        DELIVERY_SOURCE_ROWS,
        "condition operators, ForAllValues:ArnLike table",
    );
}

// ------------------------------------------------------------------------------------------------
// Null. reference_policies_elements_condition_operators.html, "Condition operator to check existence of
// condition keys": "true" = the key is absent, "false" = present; the page's example (current: "false",
// 2023: "true") on aws:TokenIssueTime.
const NULL_FALSE: &str = r#"{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}}"#;
const NULL_TRUE: &str = r#"{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}"#;
const TOKEN: &[Ctx] = &[("aws:TokenIssueTime", "2024-01-01T00:00:00Z", "date")];

#[test]
fn null_false_needs_the_key_and_null_true_its_absence() {
    expect(
        &sim(NULL_FALSE, "ec2:DescribeInstances").ctx(TOKEN),
        ALLOWED,
        "Null false, key present",
    );
    expect(
        &sim(NULL_FALSE, "ec2:DescribeInstances"),
        IMPLICIT,
        "Null false, key absent",
    );
    expect(
        &sim(NULL_TRUE, "ec2:DescribeInstances"),
        ALLOWED,
        "Null true, key absent",
    );
    expect(
        &sim(NULL_TRUE, "ec2:DescribeInstances").ctx(TOKEN),
        IMPLICIT,
        "Null true, key present",
    );
}

// ------------------------------------------------------------------------------------------------
// Policy variables. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

// "Where you can use policy variables" / "Resource element": a variable in the resource part of the
// ARN; "Policy variables with no value": a Resource with an unresolved variable matches no resource.
const OWN_PREFIX: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"]}]}"#;

#[test]
fn a_resource_variable_resolves_from_the_context() {
    let base = sim(OWN_PREFIX, "s3:GetObject")
        .resource("arn:aws:s3:::amzn-s3-demo-bucket/David/report.csv");
    expect(
        &base.clone().ctx(&[("aws:username", "David", "string")]),
        ALLOWED,
        "${aws:username} = David",
    );
    expect(
        &base.clone().ctx(&[("aws:username", "Adele", "string")]),
        IMPLICIT,
        "${aws:username} = Adele",
    );
    expect(
        &base,
        IMPLICIT,
        "no aws:username: the Resource matches nothing",
    );
}

// "Using variables in policies", box Important: "Key names are case-insensitive", also inside ${ }.
#[test]
fn variable_key_names_are_case_insensitive() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${AWS:UserName}/*"}]}"#;
    expect(
        &sim(policy, "s3:GetObject")
            .resource("arn:aws:s3:::amzn-s3-demo-bucket/David/report.csv")
            .ctx(&[("aws:username", "David", "string")]),
        ALLOWED,
        "${AWS:UserName} is ${aws:username}",
    );
}

// "Specifying default values": ${aws:PrincipalTag/team, 'company-wide'} — team=yellow gets the yellow
// bucket, an untagged principal the company-wide one.
const TEAM_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}"}}"#;

#[test]
fn a_variable_default_applies_only_without_a_value() {
    let yellow = &[("aws:PrincipalTag/team", "yellow", "string")];
    let at = |bucket: &str| sim(TEAM_BUCKET, "s3:ListBucket").resource(bucket);
    expect(
        &at("arn:aws:s3:::amzn-s3-demo-bucket-yellow").ctx(yellow),
        ALLOWED,
        "team=yellow: own bucket",
    );
    expect(
        &at("arn:aws:s3:::amzn-s3-demo-bucket-company-wide").ctx(yellow),
        IMPLICIT,
        "team=yellow: not the default bucket",
    );
    expect(
        &at("arn:aws:s3:::amzn-s3-demo-bucket-company-wide"),
        ALLOWED,
        "no team tag: the default",
    );
}

// "Special characters": ${*} stands for a literal `*`, not a wildcard.
#[test]
fn the_star_special_variable_is_a_literal_asterisk() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${*}"}}"#;
    expect(
        &sim(policy, "s3:GetObject").resource("arn:aws:s3:::amzn-s3-demo-bucket/*"),
        ALLOWED,
        "an object literally named *",
    );
    expect(
        &sim(policy, "s3:GetObject").resource("arn:aws:s3:::amzn-s3-demo-bucket/report.csv"),
        IMPLICIT,
        "${*} is not a wildcard",
    );
}

// "Policy variables with no value": inverted operators match a null value — the page's Deny
// StringNotEquals s3:ExistingObjectTag/Team = ${aws:PrincipalTag/Team} "explicitly denied when
// aws:principaltag/Team is not set".
const TEAM_GUARD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringNotEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}}]}"#;

#[test]
fn a_negated_condition_on_an_unset_variable_denies() {
    let base = sim(ALLOW_S3, "s3:GetObject")
        .policy(TEAM_GUARD)
        .resource("arn:aws:s3:::amzn-s3-demo-bucket/report.csv");
    expect(
        &base
            .clone()
            .ctx(&[("s3:ExistingObjectTag/Team", "blue", "string")]),
        EXPLICIT,
        "principal tag Team unset",
    );
    expect(
        &base.clone().ctx(&[
            ("s3:ExistingObjectTag/Team", "blue", "string"),
            ("aws:PrincipalTag/Team", "blue", "string"),
        ]),
        ALLOWED,
        "same team",
    );
    expect(
        &base.ctx(&[
            ("s3:ExistingObjectTag/Team", "blue", "string"),
            ("aws:PrincipalTag/Team", "red", "string"),
        ]),
        EXPLICIT,
        "other team",
    );
}

// "Condition element": variables work in ARN operators (ArnEquals, ArnLike).
#[test]
fn a_variable_inside_an_arn_like_value() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/${aws:username}"}}}}"#;
    let base = sim(policy, "ecr:PutImage");
    expect(
        &base.clone().ctx(&[
            ("aws:username", "alice", "string"),
            (
                "aws:PrincipalArn",
                "arn:aws:iam::111122223333:user/alice",
                "string",
            ),
        ]),
        ALLOWED,
        "the ARN names the caller",
    );
    expect(
        &base.ctx(&[
            ("aws:username", "bob", "string"),
            (
                "aws:PrincipalArn",
                "arn:aws:iam::111122223333:user/alice",
                "string",
            ),
        ]),
        IMPLICIT,
        "the ARN names someone else",
    );
}

// Variables page Note and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html:
// with Version 2008-10-17, or no Version, "${aws:username}" is literal text.
#[test]
fn variables_are_literal_text_before_2012_10_17() {
    let old = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}"}}"#;
    let unversioned = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}"}}"#;
    let alice = &[("aws:username", "alice", "string")];
    for (policy, label) in [(old, "2008-10-17"), (unversioned, "no Version")] {
        expect(
            &sim(policy, "s3:GetObject")
                .resource("arn:aws:s3:::amzn-s3-demo-bucket/alice")
                .ctx(alice),
            IMPLICIT,
            &format!("{label}: not substituted"),
        );
        expect(
            &sim(policy, "s3:GetObject")
                .resource("arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}")
                .ctx(alice),
            ALLOWED,
            &format!("{label}: the literal text matches"),
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Action, Resource, NotAction, NotResource, case.

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html: "The prefix and
// the action name are case insensitive. For example, iam:ListAccessKeys is the same as IAM:listaccesskeys."
#[test]
fn action_names_are_case_insensitive() {
    let upper = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"IAM:listaccesskeys","Resource":"*"}}"#;
    let lower = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListAccessKeys","Resource":"*"}}"#;
    expect(
        &sim(upper, "iam:ListAccessKeys"),
        ALLOWED,
        "policy IAM:listaccesskeys",
    );
    expect(
        &sim(lower, "IAM:listaccesskeys"),
        ALLOWED,
        "request IAM:listaccesskeys",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: "In the
// Resource element, the IAM user name is case sensitive."
#[test]
fn the_resource_user_name_is_case_sensitive() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/Bob"}}"#;
    expect(
        &sim(policy, "iam:CreateAccessKey").resource("arn:aws:iam::111122223333:user/Bob"),
        ALLOWED,
        "user/Bob",
    );
    expect(
        &sim(policy, "iam:CreateAccessKey").resource("arn:aws:iam::111122223333:user/bob"),
        IMPLICIT,
        "user/bob",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html: "Condition key
// names are not case-sensitive … aws:SourceIP … equivalent to … AWS:SourceIp".
#[test]
fn condition_key_names_are_case_insensitive() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"AWS:SOURCEIP":"203.0.113.0/24"}}}}"#;
    expect(
        &sim(policy, "ecr:PutImage").ctx(&[("aws:SourceIp", "203.0.113.9", "ip")]),
        ALLOWED,
        "AWS:SOURCEIP is aws:SourceIp",
    );
}

// Same page: values are case-sensitive under StringEquals ("Users named JohnDoe are denied access") and
// not under StringEqualsIgnoreCase.
#[test]
fn string_equals_values_are_case_sensitive_ignore_case_not() {
    let exact = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"johndoe"}}}}"#;
    let loose = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}}}"#;
    let john = &[("aws:username", "JohnDoe", "string")];
    expect(
        &sim(exact, "ecr:PutImage").ctx(john),
        IMPLICIT,
        "StringEquals johndoe vs JohnDoe",
    );
    expect(
        &sim(loose, "ecr:PutImage").ctx(john),
        ALLOWED,
        "StringEqualsIgnoreCase johndoe vs JohnDoe",
    );
}

// reference_policies_elements_resource.html, "Using wildcards in resource ARNs": arn:aws:s3:::bucket/*/test/*
// matches (among others) 1/test/object.jpg, 1/2/test/3/object.jpg, 1///test///object.jpg,
// //test/object.jpg, 1/test/; and not 1-test/object.jpg, test/object.jpg, 1/2/test.jpg.
const TEST_OBJECTS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}}"#;
const TEST_OBJECT_KEYS: &[(&str, &str)] = &[
    ("1/test/object.jpg", ALLOWED),
    ("1/2/test/3/object.jpg", ALLOWED),
    ("1///test///object.jpg", ALLOWED),
    ("/test/object.jpg", ALLOWED),
    ("1/test/", ALLOWED),
    ("1-test/object.jpg", IMPLICIT),
    ("test/object.jpg", IMPLICIT),
    ("1/2/test.jpg", IMPLICIT),
];

#[test]
fn resource_wildcards_span_slashes() {
    let failures: Vec<String> = TEST_OBJECT_KEYS
        .iter()
        .filter_map(|(key, want)| {
            let got = sim(TEST_OBJECTS, "s3:GetObject")
                .resource(&format!("arn:aws:s3:::amzn-s3-demo-bucket/{key}"))
                .decision();
            (got != *want).then(|| format!("{key}: {got}, documented {want}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html: Allow with
// NotAction grants every action except those listed.
#[test]
fn not_action_allows_everything_else() {
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#;
    expect(&sim(policy, "ecr:PutImage"), ALLOWED, "not an iam action");
    expect(&sim(policy, "iam:CreateUser"), IMPLICIT, "an iam action");
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html: Deny s3:*
// with NotResource [HRBucket/Payroll, HRBucket/Payroll/*] denies every other S3 resource.
#[test]
fn not_resource_denies_everything_else() {
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}}"#;
    let base = sim(ALLOW_S3, "s3:GetObject").policy(deny);
    expect(
        &base
            .clone()
            .resource("arn:aws:s3:::HRBucket/Payroll/june.csv"),
        ALLOWED,
        "inside the NotResource list",
    );
    expect(
        &base.resource("arn:aws:s3:::HRBucket/Benefits/june.csv"),
        EXPLICIT,
        "outside the NotResource list",
    );
}

// ------------------------------------------------------------------------------------------------
// Evaluation logic. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// "The difference between explicit and implicit denies": Allow iam:Get*, iam:List*; Deny iam:*Report.
const REPORTS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowGetList","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"},{"Sid":"DenyReports","Effect":"Deny","Action":"iam:*Report","Resource":"*"}]}"#;

#[test]
fn explicit_and_implicit_denies_example() {
    expect(
        &sim(REPORTS, "iam:GetUser"),
        ALLOWED,
        "allowed by AllowGetList",
    );
    expect(
        &sim(REPORTS, "iam:CreatePolicy"),
        IMPLICIT,
        "no statement allows it",
    );
    let denied = sim(REPORTS, "iam:GetOrganizationsAccessReport").only();
    assert_eq!(denied["EvalDecision"], EXPLICIT, "{denied}");
    // API EvaluationResult.MatchedStatements: the deny statement is the only entry.
    assert_eq!(
        denied["MatchedStatements"].as_array().map(Vec::len),
        Some(1),
        "{denied}"
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html: the boundary caps
// identity permissions (intersection); Shirley's boundary allows s3:*, cloudwatch:*, ec2:*, her policy
// iam:CreateUser → fails. An explicit deny in either overrides.
const SHIRLEY_BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*"],"Resource":"*"}]}"#;

#[test]
fn a_boundary_intersects_with_identity_policies() {
    let create_user = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}}"#;
    expect(
        &sim(create_user, "iam:CreateUser").boundary(SHIRLEY_BOUNDARY),
        IMPLICIT,
        "identity allows, boundary does not",
    );
    expect(
        &sim(ALLOW_S3, "s3:ListAllMyBuckets").boundary(SHIRLEY_BOUNDARY),
        ALLOWED,
        "both allow",
    );
    expect(
        &sim(ALLOW_UNRELATED, "s3:ListAllMyBuckets").boundary(SHIRLEY_BOUNDARY),
        IMPLICIT,
        "the boundary grants nothing by itself",
    );
}

#[test]
fn an_explicit_deny_in_the_boundary_wins() {
    let boundary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*"}]}"#;
    expect(
        &sim(ALLOW_ECR, "ecr:DeleteRepository").boundary(boundary),
        EXPLICIT,
        "deny in the boundary",
    );
}

// reference_policies_evaluation-logic.html, "Evaluating identity-based policies with resource-based
// policies" and "Example identity-based and resource-based policy evaluation": within one account,
// either policy allowing is enough; an explicit deny in either wins. Carlos (123456789012).
const CARLOS_IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetAccountPublicAccessBlock","s3:ListAccessPoints","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"},{"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::carlossalazar/*","arn:aws:s3:::carlossalazar"]},{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}]}"#;
const CARLOS_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/carlossalazar"},"Action":"s3:*","Resource":["arn:aws:s3:::carlossalazar/*","arn:aws:s3:::carlossalazar"]}]}"#;
const CARLOS: &str = "arn:aws:iam::123456789012:user/carlossalazar";

#[test]
fn same_account_identity_and_bucket_policy_example() {
    expect(
        &sim(CARLOS_IDENTITY, "s3:PutObject")
            .resource_policy(CARLOS_BUCKET)
            .caller(CARLOS)
            .resource("arn:aws:s3:::carlossalazar/notes.txt"),
        ALLOWED,
        "both allow",
    );
    expect(
        &sim(CARLOS_IDENTITY, "s3:PutObject")
            .caller(CARLOS)
            .resource("arn:aws:s3:::carlossalazar-logs/notes.txt"),
        EXPLICIT,
        "DenyS3Logs matches *log*",
    );
}

// reference_policies_evaluation-logic.html, "Determining whether a request is allowed or denied within
// an account" / Resource-based policies: a resource-based policy naming the IAM user grants access on its
// own; access_policies_boundaries.html, "Evaluating effective permissions with boundaries": for an IAM
// user ARN it is "not limited by an implicit deny in an identity-based policy or permissions boundary".
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const REPO_POLICY_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/team/api"}}"#;

#[test]
fn a_same_account_resource_policy_naming_the_user_is_enough() {
    let base = sim(ALLOW_UNRELATED, "ecr:BatchGetImage")
        .resource_policy(REPO_POLICY_ALICE)
        .caller(ALICE)
        .resource(REPO);
    expect(&base, ALLOWED, "no identity allow needed");
    expect(
        &base.boundary(SHIRLEY_BOUNDARY),
        ALLOWED,
        "a boundary without ecr does not limit a grant to the user ARN",
    );
}

// reference_policies_elements_principal.html, "All principals": Principal "*" with Allow — "For IAM users
// and role principals within your account, no other permissions are required."
#[test]
fn a_same_account_principal_star_needs_no_identity_policy() {
    let public = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/team/api"}}"#;
    expect(
        &sim(ALLOW_UNRELATED, "ecr:BatchGetImage")
            .resource_policy(public)
            .caller(ALICE)
            .resource(REPO),
        ALLOWED,
        "Principal *",
    );
}

// reference_policies_evaluation-logic.html, "Evaluating identity-based policies with resource-based
// policies": "An explicit deny in either of these policies overrides the allow."
#[test]
fn an_explicit_deny_in_the_resource_policy_wins() {
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"ecr:BatchDeleteImage","Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/team/api"}}"#;
    expect(
        &sim(ALLOW_ECR, "ecr:BatchDeleteImage")
            .resource_policy(deny)
            .caller(ALICE)
            .resource(REPO),
        EXPLICIT,
        "identity allows, repository policy denies",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html,
// "Example cross-account policy evaluation": Carlos (111111111111) and the Production bucket
// (222222222222, so --resource-owner: the S3 ARN names no account). Both sides must allow.
const CARLOS_X_IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowS3ListRead","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"},{"Sid":"AllowS3ProductionObjectActions","Effect":"Allow","Action":"s3:*Object*","Resource":"arn:aws:s3:::Production/*"},{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::*log*","arn:aws:s3:::*log*/*"]}]}"#;
const PRODUCTION_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject*","s3:PutObject*","s3:ReplicateObject","s3:RestoreObject"],"Principal":{"AWS":"arn:aws:iam::111111111111:user/carlossalazar"},"Resource":"arn:aws:s3:::Production/*"}]}"#;
const CARLOS_X: &str = "arn:aws:iam::111111111111:user/carlossalazar";
const ACCOUNT_B: &str = "arn:aws:iam::222222222222:root";

#[test]
fn cross_account_example_both_sides_must_allow() {
    let to = |action: &str, object: &str| {
        sim(CARLOS_X_IDENTITY, action)
            .resource_policy(PRODUCTION_BUCKET)
            .caller(CARLOS_X)
            .owner(ACCOUNT_B)
            .resource(object)
    };
    expect(
        &to("s3:PutObject", "arn:aws:s3:::Production/notes.txt"),
        ALLOWED,
        "identity and bucket policy both allow",
    );
    expect(
        &to("s3:DeleteObject", "arn:aws:s3:::Production/notes.txt"),
        IMPLICIT,
        "\"can create and edit, but not delete\"",
    );
    expect(
        &sim(CARLOS_X_IDENTITY, "s3:PutObject")
            .caller(CARLOS_X)
            .owner(ACCOUNT_B)
            .resource("arn:aws:s3:::Production-logs/notes.txt"),
        EXPLICIT,
        "DenyS3Logs in the trusted account",
    );
}

// Same page, "Determining whether a cross-account request is allowed": the identity policy alone is not
// enough, nor is the resource-based policy alone. ECR ARNs carry the owning account.
const REPO_B: &str = "arn:aws:ecr:eu-west-1:222222222222:repository/team/api";
const REPO_B_POLICY_FOR_A: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/carlossalazar"},"Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-1:222222222222:repository/team/api"}}"#;

#[test]
fn cross_account_needs_identity_and_resource_policy() {
    expect(
        &sim(ALLOW_ECR, "ecr:BatchGetImage")
            .resource_policy(REPO_B_POLICY_FOR_A)
            .caller(CARLOS_X)
            .resource(REPO_B),
        ALLOWED,
        "both allow",
    );
    expect(
        &sim(ALLOW_UNRELATED, "ecr:BatchGetImage")
            .resource_policy(REPO_B_POLICY_FOR_A)
            .caller(CARLOS_X)
            .resource(REPO_B),
        IMPLICIT,
        "the trusted account's identity policy does not allow",
    );
    let other = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-1:222222222222:repository/team/api"}}"#;
    expect(
        &sim(ALLOW_ECR, "ecr:BatchGetImage")
            .resource_policy(other)
            .caller(CARLOS_X)
            .resource(REPO_B),
        IMPLICIT,
        "the repository policy names another account",
    );
}

// reference_policies_elements_principal.html, "AWS account principals": "AWS": "111111111111" and
// "arn:aws:iam::111111111111:root" "behave the same way", delegating to the whole account (not only root).
#[test]
fn an_account_id_principal_equals_the_root_arn() {
    for principal in ["111111111111", "arn:aws:iam::111111111111:root"] {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"ecr:BatchGetImage","Resource":"{REPO_B}"}}}}"#
        );
        expect(
            &sim(ALLOW_ECR, "ecr:BatchGetImage")
                .resource_policy(&policy)
                .caller(CARLOS_X)
                .resource(REPO_B),
            ALLOWED,
            &format!("Principal {principal}"),
        );
    }
}

// reference_policies_elements_principal.html, "All principals": with Principal "*", "principals in other
// accounts … must also have identity-based permissions".
#[test]
fn a_cross_account_principal_star_still_needs_identity_permissions() {
    let public = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-1:222222222222:repository/team/api"}}"#;
    let base = sim(ALLOW_ECR, "ecr:BatchGetImage")
        .resource_policy(public)
        .caller(CARLOS_X)
        .resource(REPO_B);
    expect(&base, ALLOWED, "identity allows");
    expect(
        &sim(ALLOW_UNRELATED, "ecr:BatchGetImage")
            .resource_policy(public)
            .caller(CARLOS_X)
            .resource(REPO_B),
        IMPLICIT,
        "identity does not allow",
    );
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html: Deny with
// NotPrincipal [Bob, Bob's account root] denies everyone except Bob; access_policies_boundaries.html (box
// Important): such a Deny "will always deny any IAM principal that has a permissions boundary policy
// attached, regardless of the values specified in the NotPrincipal element".
const ONLY_BOB: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"ecr:*","Resource":"arn:aws:ecr:eu-west-1:444455556666:repository/team/api"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:*","Resource":"arn:aws:ecr:eu-west-1:444455556666:repository/team/api"}]}"#;
const REPO_BOB: &str = "arn:aws:ecr:eu-west-1:444455556666:repository/team/api";

#[test]
fn not_principal_denies_everyone_but_the_listed() {
    let as_user = |user: &str| {
        sim(ALLOW_ECR, "ecr:BatchGetImage")
            .resource_policy(ONLY_BOB)
            .caller(&format!("arn:aws:iam::444455556666:user/{user}"))
            .resource(REPO_BOB)
    };
    expect(&as_user("Alice"), EXPLICIT, "Alice is not excepted");
    expect(&as_user("Bob"), ALLOWED, "Bob is excepted");
    expect(
        &as_user("Bob").boundary(ALLOW_ALL),
        EXPLICIT,
        "NotPrincipal with Deny denies any principal with a boundary",
    );
}
