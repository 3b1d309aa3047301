//! The ECR-like front of the test bed (`testbed/ecr-front`): its region and host, arming its rules
//! (ECR's refusals, registry-side policy enforcement, faults, a hostile registry's answers) and reading
//! which fired.

use std::process::Command;

use super::stack;

/// The region whose registry host the front serves (the test account's).
pub fn region() -> String {
    std::env::var("TESTBED_FRONT_REGION").expect("TESTBED_FRONT_REGION")
}

pub fn host() -> String {
    format!("{}.dkr.ecr.{}.amazonaws.com", stack().account, region())
}

/// Arms `rule` (see testbed/ecr-front) for `repository`.
pub fn arm(repository: &str, rule: &serde_json::Value) {
    let mut rule = rule.clone();
    rule["repository"] = repository.into();
    let url = format!(
        "http://{}/rules",
        std::env::var("TESTBED_FRONT_CONTROL").expect("TESTBED_FRONT_CONTROL")
    );
    super::run(Command::new("curl").args([
        "-fsS",
        "-X",
        "POST",
        "--data-binary",
        &rule.to_string(),
        &url,
    ]));
}

/// Points the front's `repository` at the enforcing moto (which the front tells of pushes, and where
/// it creates the repository on push, as the IAM user `admin`) and the fake before it.
pub fn on_enforcing_moto(repository: &str, admin: &(String, String)) {
    arm(
        repository,
        &serde_json::json!({"kind": "backend", "moto": super::iam::endpoint(),
            "ecr_api": super::ecr_api::iam_endpoint(), "key": admin.0, "secret": admin.1}),
    );
}

/// What the front's control endpoint says of `repository`: the rules that fired, the redirects
/// followed, the requests throttled.
fn rules(repository: &str) -> serde_json::Value {
    let url = format!(
        "http://{}/rules/{repository}",
        std::env::var("TESTBED_FRONT_CONTROL").expect("control")
    );
    let out = super::run(Command::new("curl").args(["-fsS", &url]));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// How many times the front applied a rule to `repository`.
pub fn fired(repository: &str) -> usize {
    rules(repository)["fired"].as_array().map_or(0, Vec::len)
}

/// How many times a "redirect" rule's plain-http target (the control endpoint) was fetched for
/// `repository`.
pub fn followed(repository: &str) -> u64 {
    rules(repository)["followed"]
        .as_u64()
        .expect("`followed`: the running testbed/ecr-front predates its hostile modes; run testbed/stack-up")
}

/// How many of `repository`'s registry requests a "throttle" rule answered 429.
pub fn throttled(repository: &str) -> u64 {
    rules(repository)["throttled"].as_u64().unwrap_or(0)
}
