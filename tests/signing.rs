//! ECR's managed signing against the test bed's fake of ECR's newer API (`testbed/fake-ecr-api`, in
//! front of moto): a signing rule that covers the repository is waited for and reported; a pusher
//! that may not `signer:SignPayload` fails after the push with the statement to add; a repository
//! that no rule covers hears nothing about signing.

use aws_sdk_ecr::types::{
    SigningConfiguration, SigningRepositoryFilter, SigningRepositoryFilterType, SigningRule,
};

use crate::on_every_engine;
use crate::support::{Action, block_on, ecr_api, ecr_at, iam, registry_digest, stack, unique};

/// The profile of the signing rule these tests give both fakes' registries, for `signed/*`.
const PROFILE: &str = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/e2e_signing";
/// The rule's filter: these tests' signed repositories are under it, the others are not.
const SIGNED: &str = "signed";

/// The fake in front of the open moto, or (`enforcing`) the one in front of the enforcing moto.
fn fake(enforcing: bool) -> String {
    let (name, fallback) = if enforcing {
        ("TESTBED_ECR_API_IAM", "http://127.0.0.1:5062")
    } else {
        ("TESTBED_ECR_API", "http://127.0.0.1:5061")
    };
    std::env::var(name).unwrap_or_else(|_| fallback.to_owned())
}

/// Gives the fake's registry (the test account's, in the stack's region) the one signing rule these
/// tests use. Every test puts the same configuration, so they may run in any order, at once.
fn configure_signing(endpoint: &str) {
    let filter = SigningRepositoryFilter::builder()
        .filter(format!("{SIGNED}/*"))
        .filter_type(SigningRepositoryFilterType::WildcardMatch)
        .build()
        .expect("a filter");
    let rule = SigningRule::builder()
        .signing_profile_arn(PROFILE)
        .repository_filters(filter)
        .build()
        .expect("a rule");
    let configuration = SigningConfiguration::builder()
        .rules(rule)
        .build()
        .expect("a configuration");
    block_on(
        ecr_at(endpoint)
            .put_signing_configuration()
            .signing_configuration(configuration)
            .send(),
    )
    .expect("PutSigningConfiguration");
}

/// The pusher's ECR actions, signing's included, but not `signer:SignPayload`.
fn pusher_without_sign_payload() -> Vec<String> {
    [
        "GetAuthorizationToken",
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "CompleteLayerUpload",
        "InitiateLayerUpload",
        "PutImage",
        "UploadLayerPart",
        "DescribeRepositories",
        "CreateRepository",
        "GetSigningConfiguration",
        "DescribeImageSigningStatus",
    ]
    .map(|a| format!("ecr:{a}"))
    .to_vec()
}

fn signing_of_first_destination(run: &crate::support::Run) -> serde_json::Value {
    let destinations: serde_json::Value =
        serde_json::from_str(run.output("destinations")).expect("destinations JSON");
    destinations[0]["signing"].clone()
}

on_every_engine! {
    fn a_matching_rule_is_waited_for_and_reported_complete(engine: Engine) {
        configure_signing(&fake(false));
        let image = engine.image(&format!("{}:s1", unique("e2e-signed")));
        let repository = format!("{SIGNED}/{}", unique("api"));
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .env("AWS_ENDPOINT_URL_ECR", &fake(false))
            .run();
        run.assert_success();
        let signing = signing_of_first_destination(&run);
        assert_eq!(signing["status"], "COMPLETE", "{}", run.stdout);
        assert_eq!(signing["profiles"], serde_json::json!([PROFILE]));
        let metadata: serde_json::Value =
            serde_json::from_str(run.output("metadata")).expect("metadata JSON");
        assert_eq!(metadata["signing"], signing);
        assert!(
            run.stdout.contains("(the registry's signing configuration)")
                && run.stdout.contains("::group::Signing\n")
                && run.stdout.contains(&format!("ECR signed {repository}@{}", run.output("digest"))),
            "{}",
            run.stdout
        );
        assert!(run.summary.contains("Signing of"), "{}", run.summary);
    }
}

on_every_engine! {
    fn no_matching_rule_says_nothing_about_signing(engine: Engine) {
        configure_signing(&fake(false));
        let image = engine.image(&format!("{}:u1", unique("e2e-plain")));
        let repository = unique("plain");
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .env("AWS_ENDPOINT_URL_ECR", &fake(false))
            .run();
        run.assert_success();
        assert_eq!(signing_of_first_destination(&run), serde_json::Value::Null);
        let said = format!("{}\n{}", run.stdout, run.summary).to_lowercase();
        assert!(
            !said.contains("signing") && !said.contains("signed") && !said.contains("signer"),
            "{said}"
        );
    }
}

on_every_engine! {
    /// ECR signs with the pusher's identity: without `signer:SignPayload` the signature fails, and
    /// the run fails after the push, naming the statement to add.
    fn without_sign_payload_the_run_fails_after_the_push(engine: Engine) {
        configure_signing(&fake(true));
        let repository = format!("{SIGNED}/{}", unique("denied"));
        let actions = pusher_without_sign_payload();
        let _one_at_a_time = iam::exclusive();
        let keys = iam::user(&actions, &[]);
        let image = engine.image(&format!("{}:iam", unique("e2e-sign-denied")));
        iam::enforce(true);
        let run = iam::action(&image.reference, &repository, &keys)
            .on(engine)
            .env("AWS_ENDPOINT_URL_ECR", &fake(true))
            .run();
        iam::enforce(false);
        let error = run.assert_error("E-SIGNING-FAILED");
        assert!(
            error.contains(&format!(
                r#"{{"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "{PROFILE}"}}"#
            )) && error.contains("failureCode AccessDenied"),
            "{error}"
        );
        let s = stack();
        assert_eq!(
            registry_digest(&s.host(&s.account), &repository, "iam").as_deref(),
            Some(run.output("digest")),
            "pushed before the signature failed"
        );
        assert_eq!(signing_of_first_destination(&run)["status"], "FAILED");
    }
}

on_every_engine! {
    /// `require-signature: false`: the failed signature is a warning, and the run succeeds.
    fn a_failed_signature_not_required_is_a_warning(engine: Engine) {
        configure_signing(&fake(true));
        let repository = format!("{SIGNED}/{}", unique("lenient"));
        let actions = pusher_without_sign_payload();
        let _one_at_a_time = iam::exclusive();
        let keys = iam::user(&actions, &[]);
        let image = engine.image(&format!("{}:iam", unique("e2e-sign-lenient")));
        iam::enforce(true);
        let run = iam::action(&image.reference, &repository, &keys)
            .on(engine)
            .input("require-signature", "false")
            .env("AWS_ENDPOINT_URL_ECR", &fake(true))
            .run();
        iam::enforce(false);
        run.assert_success();
        let warned = run.warnings();
        assert!(
            warned.len() == 1 && warned[0].contains("signer:SignPayload") && warned[0].contains("require-signature"),
            "{warned:?}"
        );
        assert_eq!(signing_of_first_destination(&run)["status"], "FAILED");
    }
}

/// `policy --signing-profile registry` with the standard chain's credentials at `endpoint` (a fake
/// of ECR's API): exit code, standard output and standard error.
fn policy_from_registry(
    endpoint: &str,
    keys: (&str, &str),
    repository: &str,
) -> (Option<i32>, String, String) {
    let s = stack();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
        .env_clear()
        .env("AWS_ENDPOINT_URL_ECR", endpoint)
        .env("AWS_ACCESS_KEY_ID", keys.0)
        .env("AWS_SECRET_ACCESS_KEY", keys.1)
        .args(["policy", "--repository", repository, "--region", &s.region])
        .args(["--account", &s.account, "--signing-profile", "registry"])
        .output()
        .expect("run policy");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The acceptance's "with a signing rule for `team/*` the generated policy names
/// `signer:SignPayload` on that profile", read from the registry itself: `--signing-profile
/// registry` puts the matching rule's profile in the policy (and nothing for a repository that no
/// rule covers, which it names); a configuration the credentials may not read stops with
/// `E-POLICY-SIGNING-UNREADABLE`, naming both ways out.
#[test]
fn the_policy_takes_its_signing_profiles_from_the_registry() {
    let s = stack();
    let team = unique("polsigned");
    let rule = ecr_api::put_signing_rule(&ecr_api::endpoint(), &s.region, &format!("{team}/*"));
    let setup = ("AKIATESTSETUP", "setup-secret");
    let (code, stdout, stderr) =
        policy_from_registry(&ecr_api::endpoint(), setup, &format!("{team}/app"));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("a policy");
    let sign: Vec<&serde_json::Value> = document["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|st| st["Action"] == "signer:SignPayload")
        .collect();
    assert!(
        sign.len() == 1 && sign[0]["Resource"] == rule.profile.as_str(),
        "{stdout}"
    );

    let (code, stdout, stderr) =
        policy_from_registry(&ecr_api::endpoint(), setup, &unique("polunsigned"));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains("signer:") && !stdout.contains("Signing"),
        "{stdout}"
    );
    assert!(
        stderr.contains("no rule of the signing configuration"),
        "{stderr}"
    );

    let _iam = iam::exclusive();
    let keys = iam::user(&["ecr:DescribeRepositories".to_owned()], &[]);
    let (code, stdout, _) = policy_from_registry(
        &ecr_api::iam_endpoint(),
        (&keys.0, &keys.1),
        &format!("{team}/app"),
    );
    assert_eq!(code, Some(2), "{stdout}");
    let error = crate::policy::assert_policy_error(&stdout, "E-POLICY-SIGNING-UNREADABLE");
    assert!(
        error.contains("ecr:GetSigningConfiguration") && error.contains("--signing-profile ARN"),
        "{error}"
    );
}

on_every_engine! {
    /// An identity that may not read the registry's signing configuration: `signing-profile` stands
    /// in (the log says so), and the signature is waited for as with the registry's own rules.
    fn signing_profile_stands_in_when_the_configuration_is_unreadable(engine: Engine) {
        configure_signing(&fake(true));
        let repository = format!("{SIGNED}/{}", unique("stand-in"));
        let actions: Vec<String> = pusher_without_sign_payload()
            .into_iter()
            .filter(|a| a != "ecr:GetSigningConfiguration")
            .chain(["signer:SignPayload".to_owned()])
            .collect();
        let _one_at_a_time = iam::exclusive();
        let keys = iam::user(&actions, &[]);
        let image = engine.image(&format!("{}:iam", unique("e2e-sign-standin")));
        iam::enforce(true);
        let run = iam::action(&image.reference, &repository, &keys)
            .on(engine)
            .input("signing-profile", PROFILE)
            .env("AWS_ENDPOINT_URL_ECR", &fake(true))
            .run();
        iam::enforce(false);
        run.assert_success();
        assert!(
            run.stdout.contains("could not be read")
                && run.stdout.contains("ecr:GetSigningConfiguration")
                && run.stdout.contains("(input `signing-profile`)"),
            "{}",
            run.stdout
        );
        let signing = signing_of_first_destination(&run);
        assert_eq!(signing["status"], "COMPLETE", "{}", run.stdout);
        assert_eq!(signing["profiles"], serde_json::json!([PROFILE]));
    }
}
