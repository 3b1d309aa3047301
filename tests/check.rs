//! `policy --check` as IAM decides: the guardrails teams write (a deny on a missing request tag, a
//! region fence), the run's own keys (region, caller), permissions boundaries, a cross-account
//! registry's repository policy, and a report that no policy text can turn into workflow commands.
//! The facts each case rests on are from the IAM User Guide (page and section named per case).

use serde_json::json;

use crate::policy::check;
use crate::support::commands;

const ARN: &str = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";

/// Everything the generated pusher policy needs, and more: `ecr:*` on everything.
fn allow_ecr() -> serde_json::Value {
    json!({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
}

/// A document of `statements`.
fn policy(statements: &[serde_json::Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// An account guardrail that denies every ECR request without the tag `ManagedBy=github`. IAM User
/// Guide, "Condition operators" (top of page): a negated operator is true when the key is absent;
/// "AWS global condition context keys", aws:RequestTag: present only in requests that send tags.
#[test]
fn a_tag_guardrail_denies_every_request_that_sends_no_tag() {
    let guardrail = json!({"Sid": "RequireManagedBy", "Effect": "Deny", "Action": "ecr:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestTag/ManagedBy": "github"}}});
    let document = policy(&[allow_ecr(), guardrail.clone()]);
    let (code, out, _) = check(&document, &[], &[]);
    assert_eq!(code, 1, "{out}");
    for piece in [
        &format!("ecr:PutImage on {ARN}: DENIED by statement RequireManagedBy"),
        &format!("ecr:CreateRepository on {ARN}: DENIED by statement RequireManagedBy"),
        "statement RequireManagedBy denies on `aws:RequestTag/ManagedBy`: the request does not carry it",
    ] {
        assert!(out.contains(piece), "{piece}\n{out}");
    }
    assert!(!out.contains("allows everything"), "{out}");

    // With the tag, the repository's creation is allowed; a push still sends no tags, so IAM still
    // denies it, and the report says how to scope the guardrail.
    let tagged = [("INPUT_REPOSITORY-TAGS", "ManagedBy=github")];
    let (code, out, _) = check(&document, &[], &tagged);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "ecr:CreateRepository on {ARN}: allowed by statement 1 of"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "ecr:PutImage on {ARN}: DENIED by statement RequireManagedBy"
        )) && out.contains("ecr:PutImage never sends tags"),
        "{out}"
    );
    // Scoped as the hint says (IAM User Guide, "Condition operators", "Condition operator to check
    // existence of condition keys"), the guardrail lets the tagged configuration through.
    let mut scoped = guardrail;
    scoped["Condition"]["Null"] = json!({"aws:RequestTag/ManagedBy": "false"});
    let (code, out, _) = check(&policy(&[allow_ecr(), scoped]), &[], &tagged);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("The policy allows everything this configuration needs."),
        "{out}"
    );
}

/// A region fence: deny everything outside eu-west-1. The run's region is known, so the verdict is
/// decided, not "depends" (IAM User Guide, "AWS global condition context keys", aws:RequestedRegion).
#[test]
fn a_region_guardrail_is_decided_by_the_configured_region() {
    let fence = json!({"Sid": "OnlyIreland", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}});
    let document = policy(&[allow_ecr(), fence]);
    let (code, out, _) = check(&document, &[], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("depends on"), "{out}");
    // A second destination outside the fence: its repository, and the registry token asked there.
    let (code, out, _) = check(&document, &["--destinations", "eu-west-1 us-west-2"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ecr:GetAuthorizationToken on *: DENIED by statement OnlyIreland")
            && out.contains("arn:aws:ecr:us-west-2:123456789012:repository/team/api: DENIED")
            && out.contains(&format!("ecr:PutImage on {ARN}: allowed")),
        "{out}"
    );
    let elsewhere = [
        "--repository",
        "team/api",
        "--region",
        "us-east-1",
        "--account",
        "123456789012",
    ];
    let mut cmd_flags: Vec<&str> = elsewhere.to_vec();
    cmd_flags.extend(["--format", "text"]);
    let (code, out, _) = check(&document, &cmd_flags, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("DENIED by statement OnlyIreland")
            && out.contains("denies on `aws:RequestedRegion`: the request has us-east-1"),
        "{out}"
    );
}

/// The caller's ARN is `aws:PrincipalArn` (a role session's is its role's: IAM User Guide, "AWS global
/// condition context keys", aws:PrincipalArn); without it the verdict depends on it.
#[test]
fn the_caller_decides_principal_conditions() {
    let on_role = json!({"Sid": "OnlyCiRoles", "Effect": "Allow", "Action": "ecr:*", "Resource": "*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci-*"}}});
    let document = policy(&[on_role]);
    let (code, out, _) = check(&document, &[], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("depends on aws:PrincipalArn"), "{out}");
    let session = "arn:aws:sts::123456789012:assumed-role/ci-push/run-1";
    let (code, out, _) = check(&document, &["--caller-arn", session], &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = check(
        &document,
        &["--caller-arn", "arn:aws:iam::123456789012:role/deploy"],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT ALLOWED"), "{out}");
}

/// A permissions boundary caps the identity policy: both must allow (IAM User Guide, "Permissions
/// boundaries for IAM entities", "Evaluating effective permissions with boundaries").
#[test]
fn a_boundary_caps_what_the_identity_policy_allows() {
    let dir = crate::support::TempDir::new();
    let boundary = dir.0.join("boundary.json");
    std::fs::write(
        &boundary,
        policy(&[
            json!({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:Describe*"], "Resource": "*"}),
        ]),
    )
    .expect("boundary file");
    let boundary = boundary.display().to_string();
    let (code, out, _) = check(&policy(&[allow_ecr()]), &["--boundary", &boundary], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("ecr:PutImage on {ARN}: NOT ALLOWED"))
            && out.contains("ecr:GetAuthorizationToken on *: allowed"),
        "{out}"
    );
    std::fs::write(&boundary, policy(&[allow_ecr()])).expect("boundary file");
    let (code, out, _) = check(&policy(&[allow_ecr()]), &["--boundary", &boundary], &[]);
    assert_eq!(code, 0, "{out}");
}

/// A registry in another account: the identity policy and the repository policy must both allow; in
/// the same account the identity policy is enough (IAM User Guide, "Cross-account policy evaluation
/// logic"; "Policy evaluation logic", identity-based and resource-based policies).
#[test]
fn a_cross_account_registry_needs_its_repository_policy_too() {
    let dir = crate::support::TempDir::new();
    let file = dir.0.join("repository-policy.json");
    let others = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Others", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "ecr:*"}]});
    std::fs::write(&file, others.to_string()).expect("repository policy file");
    let repository_policy = file.display().to_string();
    let identity = policy(&[allow_ecr()]);
    let caller = "arn:aws:iam::210987654321:role/ci";
    let by = |caller: &str| {
        let flags = [
            "--caller-arn",
            caller,
            "--repository-policy",
            &repository_policy,
        ];
        check(&identity, &flags, &[])
    };
    let (code, out, _) = by(caller);
    assert_eq!(code, 1, "{out}");
    for piece in [
        &format!("ecr:PutImage on {ARN}: NOT ALLOWED"),
        "the identity policy allows it, but the registry is in account 123456789012",
        "Statements to add to the repository policy",
        &format!("\"AWS\": \"{caller}\""),
        // The token is not a repository's: the identity policy alone decides it.
        "ecr:GetAuthorizationToken on *: allowed",
    ] {
        assert!(out.contains(piece), "{piece}\n{out}");
    }
    assert!(
        !out.contains("Statements to add to the identity policy"),
        "{out}"
    );

    // Without the repository policy, the verdict depends on it.
    let (code, out, _) = check(&identity, &["--caller-arn", caller], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("depends on the repository policy"), "{out}");

    // A repository policy that names the caller's account grants the resource's side.
    let account = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "210987654321"}, "Action": "ecr:*"}]});
    std::fs::write(&file, account.to_string()).expect("repository policy file");
    let (code, out, _) = by(caller);
    assert_eq!(code, 0, "{out}");

    // The same account: the identity policy alone allows.
    std::fs::write(&file, others.to_string()).expect("repository policy file");
    let (code, out, _) = by("arn:aws:iam::123456789012:role/ci");
    assert_eq!(code, 0, "{out}");
}

/// Policy text is someone else's: a `Sid` holding line breaks and workflow commands (both forms)
/// becomes no command in the text report (the runner's parsing, `support/commands.rs`), and a
/// statement without a `Sid` reads by its place.
#[test]
fn no_policy_text_becomes_a_workflow_command() {
    let hostile = [
        "x\n::error::forged annotation",
        "y\r::stop-commands::abc",
        "z ##[warning]forged",
        "  \n  ::add-mask::z",
    ];
    let mut statements: Vec<serde_json::Value> = hostile
        .iter()
        .map(|sid| json!({"Sid": sid, "Effect": "Allow", "Action": "ecr:ListImages", "Resource": format!("{ARN}\n::error::in a resource")}))
        .collect();
    statements.push(json!({"Effect": "Deny", "Action": "ecr:PutImage", "Resource": ARN}));
    let (code, out, _) = check(&policy(&statements), &[], &[]);
    assert_eq!(code, 1, "{out}");
    let found = commands::commands(&out);
    assert!(found.is_empty(), "{found:?}\n{out}");
    assert!(
        out.contains(&format!("ecr:PutImage on {ARN}: DENIED by statement 5 of")),
        "{out}"
    );

    // Unnamed statements in both reports: by place, never an escape sequence.
    let plain = policy(&[
        json!({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}),
        json!({"Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*"}),
    ]);
    for format in ["text", "json"] {
        let (code, out, _) = check(&plain, &["--format", format], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(!out.contains("\\u0023") && !out.contains('#'), "{out}");
        assert!(
            out.contains("statement 2 of") || out.contains("2 of"),
            "{out}"
        );
        assert!(commands::commands(&out).is_empty(), "{out}");
    }
}

/// `--check role:NAME` with credentials: the role's permissions boundary is read from IAM and caps
/// its policies, and a condition on the repository's tags is decided by the tags ECR says it has
/// (moto here).
#[test]
fn a_roles_boundary_and_the_repository_tags_are_read_from_aws() {
    let s = crate::support::stack();
    let role = |name: &str, inline: &str, boundary: &str| {
        let mut setup = std::process::Command::new(s.dir.join("venv/bin/python"));
        setup
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/iam-role.py"
            ))
            .args([&s.endpoint, name, &policy(&[]), inline, "", boundary]);
        crate::support::run(&mut setup);
    };
    let check_role = |name: &str, repository: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
            .env_clear()
            .env("AWS_ENDPOINT_URL", &s.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIACHECKROLE0000002")
            .env("AWS_SECRET_ACCESS_KEY", "check-secret")
            .args(["policy", "--repository", repository, "--region", &s.region])
            .args(["--account", &s.account, "--create-repository", "false"])
            .args(["--check", &format!("role:{name}")])
            .output()
            .expect("policy --check role:");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    // The boundary allows no push: the role's ecr:* is capped.
    let bounded = crate::support::unique("bounded-role");
    let no_push = policy(&[
        json!({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:Describe*"], "Resource": "*"}),
    ]);
    role(&bounded, &policy(&[allow_ecr()]), &no_push);
    let (code, out) = check_role(&bounded, "team/api");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ecr:PutImage on ") && out.contains("NOT ALLOWED"),
        "{out}"
    );

    // Repository actions only on repositories tagged Team=api.
    let on_tag = crate::support::unique("tag-role");
    let arn = |repository: &str| {
        format!(
            "arn:aws:ecr:{}:{}:repository/{repository}",
            s.region, s.account
        )
    };
    let tagged = crate::support::unique("team-api");
    let untagged = crate::support::unique("team-other");
    let inline = policy(&[
        json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "ecr:*", "Resource": [arn(&tagged), arn(&untagged)],
               "Condition": {"StringEquals": {"ecr:ResourceTag/Team": "api"}}}),
    ]);
    role(&on_tag, &inline, &policy(&[allow_ecr()]));
    let team = aws_sdk_ecr::types::Tag::builder()
        .key("Team")
        .value("api")
        .build()
        .expect("a tag");
    crate::support::block_on(
        crate::support::ecr()
            .create_repository()
            .repository_name(&tagged)
            .tags(team)
            .send(),
    )
    .expect("CreateRepository");
    crate::support::create_repository(&untagged);
    let (code, out) = check_role(&on_tag, &tagged);
    assert_eq!(code, 0, "{out}");
    let (code, out) = check_role(&on_tag, &untagged);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT ALLOWED") && !out.contains("depends on"),
        "{out}"
    );
}
