//! Least privilege: golden policy documents checked against AWS's catalogue and parliament, and the
//! push under an IAM-enforcing moto with exactly the generated actions — and with one taken away.

use std::process::Command;

use crate::on_every_engine;
use crate::support::front::{self, arm};
use crate::support::{Action, Engine, Run, iam, registry_digest, stack, unique};

fn policy(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"));
    cmd.env_clear().arg("policy").args(args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().expect("run policy");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The one `::error` a `policy` command that failed printed on `stdout`, which must carry `code`
/// (the runner's reading of it, as for the action's runs); its text, for the data it must name.
#[track_caller]
pub(crate) fn assert_policy_error(stdout: &str, code: &str) -> String {
    let run = Run {
        success: false,
        stdout: stdout.to_owned(),
        stderr: String::new(),
        outputs: std::collections::BTreeMap::new(),
        outputs_file: String::new(),
        summary: String::new(),
    };
    run.assert_error(code)
}

const BASE: [&str; 6] = [
    "--repository",
    "team/api",
    "--region",
    "eu-west-1",
    "--account",
    "123456789012",
];

/// (golden file, kind, flags beyond BASE)
const GOLDEN: [(&str, &str, &[&str]); 11] = [
    ("pusher-default.json", "identity", &[]),
    // The scan gate: findings read, a basic scan started, Inspector's findings list (enhanced).
    ("pusher-scan.json", "identity", &["--scan", "start"]),
    ("assembler.json", "identity", &["--persona", "assembler"]),
    (
        "pusher-no-create.json",
        "identity",
        &["--create-repository", "false"],
    ),
    ("pusher-china.json", "identity", &["--region", "cn-north-1"]),
    ("puller.json", "identity", &["--persona", "puller"]),
    ("scanner.json", "identity", &["--persona", "scanner"]),
    (
        "trust-branch.json",
        "trust",
        &["--trust", "github:octo-org/octo-repo:ref:refs/heads/main"],
    ),
    (
        "trust-environment.json",
        "trust",
        &["--trust", "github:octo-org/octo-repo:environment:prod"],
    ),
    (
        "trust-pull-request.json",
        "trust",
        &["--trust", "github:octo-org/octo-repo:pull_request"],
    ),
    (
        "trust-any-ref.json",
        "trust",
        &["--trust", "github:octo-org/octo-repo"],
    ),
];

const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
const REPOSITORY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage"]}]}"#;

/// Every setting, as the action's inputs: each adds exactly the actions it uses.
const EVERY_SETTING: [(&str, &str); 8] = [
    ("INPUT_IMAGE-TAG-MUTABILITY", "IMMUTABLE"),
    ("INPUT_SCAN-ON-PUSH", "true"),
    ("INPUT_ENCRYPTION-TYPE", "KMS"),
    ("INPUT_KMS-KEY", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("INPUT_REPOSITORY-TAGS", "ManagedBy=github-actions"),
    ("INPUT_LIFECYCLE-POLICY", LIFECYCLE),
    ("INPUT_REPOSITORY-POLICY", REPOSITORY_POLICY),
    ("INPUT_IF-TAG-EXISTS", "skip"),
];

const SETTINGS_GOLDEN: [(&str, &[(&str, &str)]); 5] = [
    (
        "pusher-destinations.json",
        &[
            (
                "INPUT_DESTINATIONS",
                "eu-west-1, us-east-1\n210987654321.dkr.ecr.us-east-1.amazonaws.com",
            ),
            ("INPUT_ENCRYPTION-TYPE", "KMS"),
            ("INPUT_KMS-KEY", "alias/ecr-images"),
            ("INPUT_IF-TAG-EXISTS", "match"),
        ],
    ),
    ("pusher-every-setting.json", &EVERY_SETTING),
    (
        "pusher-kms-alias.json",
        &[
            ("INPUT_ENCRYPTION-TYPE", "KMS"),
            ("INPUT_KMS-KEY", "alias/ecr-images"),
        ],
    ),
    (
        "pusher-settings-no-create.json",
        &[
            ("INPUT_CREATE-REPOSITORY", "false"),
            ("INPUT_REPOSITORY-TAGS", "Team=api"),
        ],
    ),
    (
        "pusher-public.json",
        &[
            ("INPUT_REGISTRY-TYPE", "public"),
            ("INPUT_REPOSITORY-TAGS", "Team=api"),
        ],
    ),
];

fn golden_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// `UPDATE_GOLDEN=1` rewrites the files; review the diff before committing.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
    assert_eq!(actual, expected, "{name} differs from the golden file");
}

#[test]
fn policies_match_their_golden_files() {
    for (name, _, flags) in GOLDEN {
        let mut args = BASE.to_vec();
        args.extend(flags);
        let (ok, stdout, stderr) = policy(&args, &[]);
        assert!(ok, "{name}: {stdout}{stderr}");
        assert_golden(name, &stdout);
    }
    // Settings inputs come from the INPUT_* variables the action itself reads.
    for (name, env) in SETTINGS_GOLDEN {
        let (ok, stdout, stderr) = policy(&BASE, env);
        assert!(ok, "{name}: {stdout}{stderr}");
        assert_golden(name, &stdout);
    }
    // Cross-account, from the INPUT_* variables the action itself reads.
    let (ok, stdout, _) = policy(
        &[],
        &[
            ("INPUT_REPOSITORY", "shared/app"),
            ("INPUT_AWS-REGION", "us-east-1"),
            ("INPUT_REGISTRY-ID", "210987654321"),
        ],
    );
    assert!(ok);
    assert_golden("pusher-cross-account.json", &stdout);
    // Managed signing: `--signing-profile` adds signer:SignPayload on the profile and the two ECR
    // calls of the wait. (Not in the catalogue check below: parliament 1.6.4's catalogue predates
    // ECR's signing actions; its signer:SignPayload takes the `signing-profile` resource type,
    // `arn:${Partition}:signer:${Region}:${Account}:/signing-profiles/${ProfileName}`.)
    let profile = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/team";
    let (ok, stdout, stderr) = policy(&[&BASE[..], &["--signing-profile", profile]].concat(), &[]);
    assert!(ok, "{stdout}{stderr}");
    assert_golden("pusher-signing.json", &stdout);
}

#[test]
fn every_golden_policy_passes_the_catalogue_and_parliament() {
    let check = |kind: &str, files: Vec<std::path::PathBuf>| {
        let out = Command::new(stack().dir.join("venv/bin/python"))
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/check-policy.py"
            ))
            .arg(kind)
            .args(&files)
            .output()
            .expect("check-policy.py");
        assert!(
            out.status.success(),
            "{kind}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let of = |kind: &str| {
        GOLDEN
            .iter()
            .filter(|g| g.1 == kind)
            .map(|g| golden_path(g.0))
            .collect::<Vec<_>>()
    };
    let mut identity = of("identity");
    identity.push(golden_path("pusher-cross-account.json"));
    identity.extend(SETTINGS_GOLDEN.iter().map(|(name, _)| golden_path(name)));
    check("identity", identity);
    check("trust", of("trust"));
}

#[test]
fn policy_rejects_bad_flags_and_needs_an_account() {
    let (ok, stdout, _) = policy(&["--repository", "team/api", "--region", "eu-west-1"], &[]);
    assert!(
        !ok && stdout.contains("`registry-id`") && stdout.contains("--account"),
        "{stdout}"
    );
    for (flags, code, named) in [
        (&["--persona", "admin"][..], "E-POLICY-PERSONA", "admin"),
        (
            &["--trust", "octo-org/octo-repo"][..],
            "E-POLICY-TRUST-SUBJECT",
            "octo-org/octo-repo",
        ),
        (&["--format", "yaml"][..], "E-POLICY-FORMAT", "yaml"),
        (&["--role", "ci"][..], "E-POLICY-UNKNOWN-FLAG", "--role"),
        (&["--persona"][..], "E-POLICY-FLAG-VALUE", "--persona"),
    ] {
        let (ok, stdout, _) = policy(&[&BASE[..], flags].concat(), &[]);
        assert!(!ok, "{flags:?}: {stdout}");
        let error = assert_policy_error(&stdout, code);
        assert!(error.contains(named), "{named}\n{error}");
    }
    let (ok, stdout, _) = policy(&["--repository", "Bad"], &[]);
    assert!(!ok && stdout.contains("Input `repository`"), "{stdout}");
    let (ok, stdout, _) = policy(&["--help"], &[]);
    assert!(
        ok && stdout.starts_with("usage: ecr-push-action policy"),
        "{stdout}"
    );
}

/// The actions of the generated policy for this configuration (what a user would grant).
fn generated_actions(create_repository: bool) -> Vec<String> {
    generated_actions_with(&create_repository.to_string(), &[])
}

/// The actions of the generated policy for `--create-repository create_repository` (`true`,
/// `false`, `template`) and the inputs in `env`.
pub(crate) fn generated_actions_with(create_repository: &str, env: &[(&str, &str)]) -> Vec<String> {
    let (ok, stdout, _) = policy(
        &[&BASE[..], &["--create-repository", create_repository]].concat(),
        env,
    );
    assert!(ok);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let mut actions = Vec::new();
    for statement in doc["Statement"].as_array().expect("statements") {
        match &statement["Action"] {
            serde_json::Value::String(a) => actions.push(a.clone()),
            serde_json::Value::Array(list) => {
                actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_owned)));
            }
            _ => panic!("Action"),
        }
    }
    actions
}

/// Runs the action on the enforcing moto as a user allowed exactly `actions` (on "*"), after creating
/// `existing` repositories there.
fn run_as(actions: &[String], repository: &str, existing: bool, create_repository: bool) -> Run {
    run_as_with(
        Engine::Classic,
        actions,
        repository,
        existing,
        create_repository,
        &[],
    )
}

/// [`run_as`] with more inputs (`INPUT_*` names as the policy subcommand reads them).
fn run_as_with(
    engine: Engine,
    actions: &[String],
    repository: &str,
    existing: bool,
    create_repository: bool,
    inputs: &[(&str, &str)],
) -> Run {
    let _one_at_a_time = iam::exclusive();
    let existing: &[&str] = if existing { &[repository] } else { &[] };
    let keys = iam::user(actions, existing);
    let image = engine.image(&format!("{}:iam", unique("e2e-iam")));
    iam::enforce(true);
    let mut action = iam::action(&image.reference, repository, &keys)
        .on(engine)
        .input("create-repository", &create_repository.to_string());
    for (name, value) in inputs {
        action = action.input(&name.trim_start_matches("INPUT_").to_lowercase(), value);
    }
    let run = action.run();
    iam::enforce(false);
    run
}

fn assert_served(run: &Run, repository: &str) {
    run.assert_success();
    let s = stack();
    assert_eq!(
        registry_digest(&s.host(&s.account), repository, "iam").as_deref(),
        Some(run.output("digest"))
    );
}

on_every_engine! {
fn exactly_the_generated_actions_are_enough(engine: Engine) {
    let repository = unique("iam-exact");
    let run = run_as_with(engine, &generated_actions(true), &repository, false, true, &[]);
    assert_served(&run, &repository);
    assert_eq!(run.output("repository-created"), "true");
    assert_eq!(run.warnings(), Vec::<&str>::new());

    let repository = unique("iam-no-create");
    let run = run_as_with(engine, &generated_actions(false), &repository, true, false, &[]);
    assert_served(&run, &repository);
    assert_eq!(
        run.warnings(),
        Vec::<&str>::new(),
        "no check is expected without create-repository"
    );
}
}

#[test]
fn each_missing_api_action_is_named() {
    for missing in ["ecr:GetAuthorizationToken", "ecr:CreateRepository"] {
        let actions: Vec<String> = generated_actions(true)
            .into_iter()
            .filter(|a| a != missing)
            .collect();
        let run = run_as(&actions, &unique("iam-missing"), false, true);
        let error = run.single_error();
        assert!(
            error.contains(&format!("AWS denied {missing}")),
            "{missing}: {error}"
        );
        assert!(
            error.contains(&format!(r#""Action": "{missing}""#)),
            "{missing}: {error}"
        );
        if missing == "ecr:GetAuthorizationToken" {
            assert!(
                error.contains(r#""Resource": "*""#)
                    && error.contains("cannot be scoped to a repository"),
                "{error}"
            );
        }
    }
    // DescribeRepositories is the one the action can do without: it warns once, names it, and pushes.
    let actions: Vec<String> = generated_actions(true)
        .into_iter()
        .filter(|a| a != "ecr:DescribeRepositories")
        .collect();
    let repository = unique("iam-no-describe");
    let run = run_as(&actions, &repository, false, true);
    assert_served(&run, &repository);
    let warned = run.warnings();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains(
            "Cannot check that the repository exists: AWS denied ecr:DescribeRepositories"
        ),
        "{warned:?}"
    );
}

on_every_engine! {
fn a_pusher_with_the_nine_usual_actions_pushes_with_one_warning(engine: Engine) {
    let nine = [
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "CompleteLayerUpload",
        "DescribeImages",
        "GetAuthorizationToken",
        "GetDownloadUrlForLayer",
        "InitiateLayerUpload",
        "PutImage",
        "UploadLayerPart",
    ]
    .map(|a| format!("ecr:{a}"));
    let repository = unique("iam-nine");
    let run = run_as_with(engine, &nine, &repository, true, true, &[]);
    assert_served(&run, &repository);
    let warned = run.warnings();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("Cannot check that the repository exists")
            && warned[0].contains("continuing"),
        "{warned:?}"
    );
}
}

#[test]
fn every_setting_works_with_exactly_its_generated_actions() {
    let actions = generated_actions_with("true", &EVERY_SETTING);
    let repository = unique("iam-settings");
    let as_pusher = |inputs: &[(&str, &str)]| {
        run_as_with(Engine::Classic, &actions, &repository, false, true, inputs)
    };
    let run = as_pusher(&EVERY_SETTING);
    assert_served(&run, &repository);
    assert_eq!(run.warnings(), Vec::<&str>::new());
    // A second run that has to reconcile a changed tag, under the same policy.
    let mut changed = EVERY_SETTING.to_vec();
    changed[4] = (
        "INPUT_REPOSITORY-TAGS",
        "ManagedBy=github-actions, Team=api",
    );
    let run = as_pusher(&changed);
    run.assert_success();
    assert!(run.stdout.contains("tag Team=api"), "{}", run.stdout);
}

/// The policy `policy` prints for `repository` in the front's region, with `flags` besides.
fn front_policy(repository: &str, flags: &[&str]) -> serde_json::Value {
    let (region, account) = (front::region(), stack().account);
    let mut args = vec![
        "--repository",
        repository,
        "--region",
        &region,
        "--account",
        &account,
    ];
    args.extend(flags);
    let (ok, out, err) = policy(&args, &[]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).expect("policy JSON")
}

/// The registry actions the generated pusher policy grants on `repository` in the front's region.
fn registry_actions_granted(repository: &str) -> (String, Vec<String>) {
    let s = stack();
    let region = front::region();
    let arn = format!("arn:aws:ecr:{region}:{}:repository/{repository}", s.account);
    let document = front_policy(repository, &[]);
    let mut granted = Vec::new();
    for statement in document["Statement"].as_array().expect("statements") {
        if statement["Resource"] != arn.as_str() {
            continue;
        }
        let actions = match &statement["Action"] {
            serde_json::Value::String(one) => vec![one.clone()],
            many => many
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().expect("action").to_owned())
                .collect(),
        };
        granted.extend(
            actions
                .iter()
                .map(|a| a.trim_start_matches("ecr:").to_owned()),
        );
    }
    (arn, granted)
}

on_every_engine! {
    /// ECR enforces the identity policy on every registry request, so the front does too here:
    /// with exactly the registry actions of the generated pusher policy both engines push; without
    /// `ecr:BatchGetImage` the containerd store's push fails — it reads each manifest back before it
    /// writes it — and the doctor names the action, the repository ARN and the statement to add,
    /// while 20.10's push (no manifest reads) still passes.
    fn the_registry_enforces_the_generated_pusher_policy(engine: Engine) {
        let image = engine.image(&format!("{}:reg", unique("e2e-registry-iam")));
        let push = |repository: &str| {
            Action::new(&image.reference, repository)
                .on(engine)
                .input("aws-region", &front::region())
                .input("tags", "reg")
                .run()
        };

        let repository = unique("registry-iam");
        let (arn, granted) = registry_actions_granted(&repository);
        assert!(granted.iter().any(|a| a == "BatchGetImage"), "{granted:?}");
        arm(&repository, &serde_json::json!({"kind": "allow", "actions": granted}));
        let run = push(&repository);
        run.assert_success();
        assert_eq!(
            registry_digest(&front::host(), &repository, "reg").as_deref(),
            Some(run.output("digest"))
        );

        let repository = unique("registry-iam-no-read");
        let (arn_no_read, granted) = registry_actions_granted(&repository);
        let without: Vec<&String> = granted.iter().filter(|a| *a != "BatchGetImage").collect();
        arm(&repository, &serde_json::json!({"kind": "allow", "actions": without}));
        let run = push(&repository);
        match engine {
            Engine::Classic | Engine::Podman => run.assert_success(),
            Engine::Containerd => {
                let error = run.single_error();
                for piece in [
                    format!("AWS denied ecr:BatchGetImage on {arn_no_read}"),
                    format!(r#"{{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "{arn_no_read}"}}"#),
                    "containerd image store".to_owned(),
                ] {
                    assert!(error.contains(&piece), "{piece}\n{error}");
                }
            }
        }
        assert_ne!(arn, arn_no_read);
    }
}

/// The generated pusher policy for the test bed's three destinations (the caller's registry in both
/// regions, and the other account's), as `policy --destinations` prints it.
fn three_destination_policy(repository: &str) -> (serde_json::Value, String) {
    let s = stack();
    let listed = format!(
        "{} {} {}",
        s.region,
        front::region(),
        s.host(&s.other_account)
    );
    let (ok, out, err) = policy(
        &[
            "--repository",
            repository,
            "--account",
            &s.account,
            "--destinations",
            &listed,
        ],
        &[],
    );
    assert!(ok, "{err}");
    (serde_json::from_str(&out).expect("policy JSON"), listed)
}

/// `policy` without `arn` in any statement's Resource.
fn without_resource(document: &serde_json::Value, arn: &str) -> serde_json::Value {
    let mut document = document.clone();
    for statement in document["Statement"].as_array_mut().expect("statements") {
        if let Some(list) = statement["Resource"].as_array_mut() {
            list.retain(|r| r != arn);
        }
    }
    document
}

/// ECR evaluates the identity policy's ARNs on every registry request; the front does so for the
/// second region's registry here, with the very document `policy --destinations` prints (moto checks
/// API calls on `"*"` only, see `exactly_the_generated_actions_are_enough`). With it, all three
/// destinations are pushed; without the second region's ARN, that destination fails naming the ARN
/// and the others are pushed all the same.
#[test]
fn the_policy_for_three_destinations_lists_each_arn_and_needs_each() {
    let s = stack();
    let engine = Engine::Classic;
    let image = engine.image(&format!("{}:three", unique("e2e-policy-dest")));
    let push = |repository: &str, listed: &str| {
        Action::new(&image.reference, repository)
            .on(engine)
            .input("tags", "three")
            .input("destinations", listed)
            .run()
    };
    let hosts = [s.host(&s.account), front::host(), s.host(&s.other_account)];
    let arn = |region: &str, account: &str, repository: &str| {
        format!("arn:aws:ecr:{region}:{account}:repository/{repository}")
    };

    let repository = unique("policy-dest");
    let (document, listed) = three_destination_policy(&repository);
    let arns = [
        arn(&s.region, &s.account, &repository),
        arn(&front::region(), &s.account, &repository),
        arn(&s.region, &s.other_account, &repository),
    ];
    for statement in document["Statement"].as_array().expect("statements") {
        let resource = &statement["Resource"];
        assert!(
            resource == "*" || *resource == serde_json::json!(arns),
            "every repository statement lists exactly the three ARNs: {statement}"
        );
    }
    arm(
        &repository,
        &serde_json::json!({"kind": "policy", "document": document}),
    );
    let run = push(&repository, &listed);
    run.assert_success();
    for host in &hosts {
        assert_eq!(
            registry_digest(host, &repository, "three").as_deref(),
            Some(run.output("digest")),
            "{host}"
        );
    }

    let repository = unique("policy-dest-no-west");
    let (document, listed) = three_destination_policy(&repository);
    let west = arn(&front::region(), &s.account, &repository);
    arm(
        &repository,
        &serde_json::json!({"kind": "policy", "document": without_resource(&document, &west)}),
    );
    let run = push(&repository, &listed);
    let error = run.single_error();
    assert!(
        error.contains(&format!("on {west}")) && error.contains("AWS denied ecr:"),
        "{error}"
    );
    assert_eq!(registry_digest(&hosts[1], &repository, "three"), None);
    for host in [&hosts[0], &hosts[2]] {
        assert!(
            registry_digest(host, &repository, "three").is_some(),
            "{host}"
        );
    }
}

/// `--persona assembler` is enough to assemble, and each registry action in it is needed: with the
/// generated document enforced by the front on every registry request the index is written; without
/// any one of its registry actions, the run fails and the doctor names that action and the ARN.
#[test]
fn the_assembler_policy_is_enough_and_each_of_its_actions_is_needed() {
    let s = stack();
    let engine = Engine::Classic;
    let region = front::region();
    let amd64 = engine.platform_image(&format!("{}:a", unique("e2e-asm-amd64")), "linux/amd64");
    let arm64 = engine.platform_image(&format!("{}:b", unique("e2e-asm-arm64")), "linux/arm64");
    let cases = [
        None,
        Some("BatchGetImage"),
        Some("GetDownloadUrlForLayer"),
        Some("PutImage"),
    ];
    for without in cases {
        let repository = unique("assembler");
        for (image, tag) in [(&amd64, "amd64"), (&arm64, "arm64")] {
            Action::new(&image.reference, &repository)
                .on(engine)
                .input("aws-region", &region)
                .input("tags", tag)
                .run()
                .assert_success();
        }
        let mut document = front_policy(&repository, &["--persona", "assembler"]);
        if let Some(action) = without {
            for statement in document["Statement"].as_array_mut().expect("statements") {
                if let Some(actions) = statement["Action"].as_array_mut() {
                    actions.retain(|a| *a != format!("ecr:{action}").as_str());
                }
            }
        }
        arm(
            &repository,
            &serde_json::json!({"kind": "policy", "document": document}),
        );
        let run = Action::new("", &repository)
            .without_input("local-image")
            .input("aws-region", &region)
            .input("assemble", "amd64, arm64")
            .input("tags", "multi")
            .run();
        let arn = format!("arn:aws:ecr:{region}:{}:repository/{repository}", s.account);
        match without {
            None => {
                run.assert_success();
                assert_eq!(
                    registry_digest(&front::host(), &repository, "multi").as_deref(),
                    Some(run.output("digest"))
                );
            }
            Some(action) => {
                let error = run.single_error();
                let named = format!("AWS denied ecr:{action} on {arn}");
                assert!(error.contains(&named), "{named}\n{error}");
                assert_eq!(registry_digest(&front::host(), &repository, "multi"), None);
            }
        }
    }
}

/// On GitHub Enterprise Server (`GITHUB_SERVER_URL`, or `--issuer`) the trust policy names that
/// server's identity provider and condition keys, and says how to add the provider.
#[test]
fn trust_policies_follow_a_ghes_issuer() {
    let trust = [
        &BASE[..],
        &["--trust", "github:octo-org/octo-repo:ref:refs/heads/main"],
    ]
    .concat();
    let (ok, stdout, stderr) = policy(&trust, &[("GITHUB_SERVER_URL", "https://ghes.example.com")]);
    assert!(ok, "{stderr}");
    let issuer = "ghes.example.com/_services/token";
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let statement = &document["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"],
        format!("arn:aws:iam::123456789012:oidc-provider/{issuer}")
    );
    assert_eq!(
        statement["Condition"]["StringEquals"][format!("{issuer}:sub")],
        "repo:octo-org/octo-repo:ref:refs/heads/main"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"][format!("{issuer}:aud")],
        "sts.amazonaws.com"
    );
    assert!(
        !stdout.contains("token.actions.githubusercontent.com"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "create-open-id-connect-provider --url https://{issuer}"
        )),
        "{stderr}"
    );
    let flagged = [
        &trust[..],
        &["--issuer", "https://ghes.example.com/_services/token"],
    ]
    .concat();
    let (ok, from_flag, _) = policy(&flagged, &[]);
    assert!(ok);
    assert_eq!(from_flag, stdout);
    let (ok, github_com, _) = policy(&trust, &[("GITHUB_SERVER_URL", "https://github.com")]);
    assert!(
        ok && github_com.contains("token.actions.githubusercontent.com:sub"),
        "{github_com}"
    );
}

/// `policy --check FILE` on `document`, with `flags` besides BASE; (exit code, stdout, stderr).
pub(crate) fn check(document: &str, flags: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = crate::support::TempDir::new();
    let file = dir.0.join("policy.json");
    std::fs::write(&file, document).expect("policy file");
    let file = file.display().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"));
    cmd.env_clear()
        .arg("policy")
        .args(BASE)
        .args(flags)
        .args(["--check", &file]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().expect("run policy --check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The mistakes guides make, as `--check` reports them: a token scoped to a repository, creation
/// conditioned on a resource tag the new repository cannot have, push actions on "*", an action never
/// used; what to add; exit 1. The generated policy passes (exit 0); JSON for machines; exit 2 for a
/// document that cannot be read or is no policy.
#[test]
fn check_names_what_a_policy_lacks_and_what_it_allows_beyond() {
    let arn = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";
    let guide = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Token", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": arn},
        {"Sid": "Create", "Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": "*",
         "Condition": {"StringEquals": {"ecr:ResourceTag/ManagedBy": "github-actions"}}},
        {"Sid": "Push", "Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload",
         "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart", "ecr:BatchGetImage",
         "ecr:DescribeRepositories", "ecr:ListImages", "ecr:GetDownloadUrlForLayers"], "Resource": "*"}]});
    let (code, out, _) = check(&guide.to_string(), &[], &[]);
    assert_eq!(code, 1, "{out}");
    for piece in [
        "ecr:GetAuthorizationToken on *: NOT ALLOWED",
        "only on `\"*\"`, never on a repository ARN",
        &format!("ecr:CreateRepository on {arn}: NOT ALLOWED"),
        "require `aws:RequestTag/ManagedBy` instead",
        &format!("ecr:PutImage on {arn}: allowed by statement Push"),
        "\"Sid\": \"AuthorizationTokenIsAccountWideSoItsResourceMustBeStar\"",
        "warning: statement Push: repository actions on `\"*\"`",
        "warning: statement Push: `ecr:ListImages` is allowed but this configuration never calls it",
        "warning: statement Push: `ecr:GetDownloadUrlForLayers` is not an action of ecr",
    ] {
        assert!(out.contains(piece), "{piece}\n{out}");
    }

    // With the tag the action sends at creation, a request-tag condition is met.
    let tagged = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "ecr:CreateRepository", "Resource": arn,
        "Condition": {"StringEquals": {"aws:RequestTag/ManagedBy": "github-actions"}}}]});
    let (_, out, _) = check(
        &tagged.to_string(),
        &[],
        &[("INPUT_REPOSITORY-TAGS", "ManagedBy=github-actions")],
    );
    assert!(
        out.contains(&format!("ecr:CreateRepository on {arn}: allowed")),
        "{out}"
    );
    let (_, out, _) = check(&tagged.to_string(), &[], &[]);
    assert!(
        out.contains(&format!("ecr:CreateRepository on {arn}: NOT ALLOWED")),
        "{out}"
    );

    let (ok, generated, _) = policy(&BASE, &[]);
    assert!(ok);
    let (code, out, _) = check(&generated, &[], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("The policy allows everything this configuration needs."),
        "{out}"
    );
    let (code, out, _) = check(&generated, &["--format", "json"], &[]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!((code, &report["sufficient"]), (0, &serde_json::json!(true)));

    // Errors are ::error:: annotations on standard output, as the subcommand's other refusals.
    let (code, out, _) = check("{ not json", &[], &[]);
    assert_eq!(code, 2);
    let error = assert_policy_error(&out, "E-POLICY-NOT-JSON");
    assert!(
        error.contains("policy.json") && error.contains("(line 1, column 3)"),
        "{error}"
    );
    let (code, out, _) = check(r#"{"Version": "2012-10-17"}"#, &[], &[]);
    assert_eq!(code, 2);
    assert_policy_error(&out, "E-POLICY-NO-STATEMENT");
    let (code, out, _) = check(
        r#"{"Statement": {"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
            "Condition": {"StringEqual": {"aws:RequestTag/Team": "api"}}}}"#,
        &[],
        &[],
    );
    assert_eq!(code, 2);
    let error = assert_policy_error(&out, "E-POLICY-CONDITION-OPERATOR");
    assert!(error.contains("StringEqual"), "{error}");
}

/// Every verdict of `--check` on a policy whose resources are "*" (what moto can enforce) is what a
/// real run under moto's IAM enforcement finds: enough is enough, and a missing call is missing.
#[test]
fn check_verdicts_match_real_runs_under_enforcement() {
    let s = stack();
    for dropped in [
        None,
        Some("ecr:CreateRepository"),
        Some("ecr:GetAuthorizationToken"),
    ] {
        let actions: Vec<String> = generated_actions(true)
            .into_iter()
            .filter(|a| Some(a.as_str()) != dropped)
            .collect();
        let repository = unique("check");
        let document = serde_json::json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
        let flags = [
            "--repository",
            repository.as_str(),
            "--region",
            s.region.as_str(),
            "--account",
            s.account.as_str(),
        ];
        let (code, out, _) = check(&document.to_string(), &flags, &[]);
        let run = run_as(&actions, &repository, false, true);
        assert_eq!(
            code == 0,
            run.success,
            "check said {code}:\n{out}\nthe run:\n{}",
            run.stdout
        );
        if let Some(action) = dropped {
            assert!(
                out.contains(&format!("{action} on ")) && out.contains("NOT ALLOWED"),
                "{out}"
            );
            assert!(run.single_error().contains(action), "{}", run.stdout);
        }
    }
}

/// `--check` of a trust policy: the workflow `--trust` names is accepted or not, with the near misses
/// named (another provider, a subject in another case) and the statement that would accept it.
#[test]
fn check_says_whether_a_trust_policy_accepts_the_workflow() {
    let main = "github:octo-org/octo-repo:ref:refs/heads/main";
    let (ok, trust, _) = policy(&[&BASE[..], &["--trust", main]].concat(), &[]);
    assert!(ok);
    let (code, out, _) = check(&trust, &["--trust", main], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("accepted by statement GitHubActionsOidcForThisRepository"),
        "{out}"
    );

    let (code, out, _) = check(
        &trust,
        &["--trust", "github:octo-org/octo-repo:environment:prod"],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT accepted")
            && out.contains(r#""token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:environment:prod""#),
        "{out}"
    );

    let (code, out, _) = check(
        &trust,
        &["--trust", "github:Octo-Org/octo-repo:ref:refs/heads/main"],
        &[("GITHUB_SERVER_URL", "https://ghes.example.com")],
    );
    assert_eq!(code, 1, "{out}");
    for piece in [
        "no statement names the provider arn:aws:iam::123456789012:oidc-provider/ghes.example.com/_services/token",
        "appears in another case: the `sub` condition is case-sensitive",
    ] {
        assert!(out.contains(piece), "{piece}\n{out}");
    }
    // In a workflow, the runner's variables give the subject.
    let workflow = [
        ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_EVENT_NAME", "push"),
    ];
    let (code, out, _) = check(&trust, &[], &workflow);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = check(
        &trust,
        &[],
        &[
            ("GITHUB_REPOSITORY", "octo-org/octo-repo"),
            ("GITHUB_EVENT_NAME", "pull_request"),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("sub `repo:octo-org/octo-repo:pull_request`"),
        "{out}"
    );
    let (code, out, _) = check(&trust, &[], &[]);
    assert_eq!(code, 2);
    assert_policy_error(&out, "E-POLICY-TRUST-SUBJECT-NEEDED");
}

/// An ECR Public policy as guides write it: actions ECR Public does not have, private-ECR ARNs, and no
/// `sts:GetServiceBearerToken`.
#[test]
fn check_names_ecr_public_mistakes() {
    let guide = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Token", "Effect": "Allow", "Action": "ecr-public:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "Push", "Effect": "Allow", "Action": ["ecr-public:BatchCheckLayerAvailability", "ecr-public:PutImage",
         "ecr-public:InitiateLayerUpload", "ecr-public:UploadLayerPart", "ecr-public:CompleteLayerUpload",
         "ecr-public:ListImages", "ecr-public:BatchGetImage"],
         "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/team/api"}]});
    let (code, out, _) = check(
        &guide.to_string(),
        &[],
        &[("INPUT_REGISTRY-TYPE", "public")],
    );
    assert_eq!(code, 1, "{out}");
    for piece in [
        "sts:GetServiceBearerToken on *: NOT ALLOWED",
        "ecr-public:PutImage on arn:aws:ecr-public::123456789012:repository/team/api: NOT ALLOWED",
        "`ecr-public:ListImages` is not an action of ecr-public",
        "`ecr-public:BatchGetImage` is not an action of ecr-public",
        "that ARN is not of ecr-public, so it never matches",
    ] {
        assert!(out.contains(piece), "{piece}\n{out}");
    }
}

/// `--check role:NAME` reads the role's policies from IAM (moto here): its inline and attached
/// policies together are checked as one, and `--trust` checks the role's trust policy.
#[test]
fn check_reads_a_roles_policies_from_iam() {
    let s = stack();
    let main = "github:octo-org/octo-repo:ref:refs/heads/main";
    let (ok, generated, _) = policy(&BASE, &[]);
    assert!(ok);
    let (ok, trust, _) = policy(&[&BASE[..], &["--trust", main]].concat(), &[]);
    assert!(ok);
    let mut inline: serde_json::Value = serde_json::from_str(&generated).expect("JSON");
    let statements = inline["Statement"].as_array_mut().expect("statements");
    let create = statements
        .iter()
        .position(|st| st["Action"].to_string().contains("ecr:CreateRepository"))
        .expect("a create statement");
    let managed =
        serde_json::json!({"Version": "2012-10-17", "Statement": [statements.remove(create)]});
    let create_role = |role: &str, with_managed: bool| {
        let mut setup = Command::new(s.dir.join("venv/bin/python"));
        setup
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/iam-role.py"
            ))
            .args([&s.endpoint, role, trust.as_str(), &inline.to_string()]);
        if with_managed {
            setup.arg(managed.to_string());
        }
        crate::support::run(&mut setup);
    };
    let check_role = |role: &str, extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"));
        cmd.env_clear()
            .env("AWS_ENDPOINT_URL", &s.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIACHECKROLE0000001")
            .env("AWS_SECRET_ACCESS_KEY", "check-secret")
            .arg("policy")
            .args(BASE)
            .args(["--check", &format!("role:{role}")])
            .args(extra);
        let out = cmd.output().expect("policy --check role:");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    let whole = unique("checked-role");
    create_role(&whole, true);
    let (code, out) = check_role(&whole, &[]);
    assert_eq!(code, 0, "inline and attached together are enough:\n{out}");
    let (code, out) = check_role(&whole, &["--trust", main]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("accepted by statement"), "{out}");

    let partial = unique("checked-role-inline-only");
    create_role(&partial, false);
    let (code, out) = check_role(&partial, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ecr:CreateRepository on arn:aws:ecr:eu-west-1:123456789012:repository/team/api: NOT ALLOWED"), "{out}");
    let (code, out) = check_role("no-such-role", &[]);
    assert_eq!(code, 2, "{out}");
    let error = assert_policy_error(&out, "E-POLICY-IAM-READ");
    assert!(
        error.contains("iam:GetRole") && error.contains("no-such-role"),
        "{error}"
    );
}
