//! The action as GitHub's runner starts a container action: `docker run` of a `FROM scratch` image
//! holding the static build, with the Docker socket, the workspace and `/github/file_commands` mounted,
//! and the inputs as `INPUT_*` variables.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{
    Action, Engine, TempDir, assert_secrets_masked, registry_digest, run, stack, unique,
};

/// Builds the test image once per test binary run.
fn image() -> &'static str {
    static IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IMAGE.get_or_init(|| {
        let binary = PathBuf::from(std::env::var("ECR_PUSH_ACTION_STATIC_BIN").expect(
            "ECR_PUSH_ACTION_STATIC_BIN is not set: tools/test builds the static binary and exports its path",
        ));
        let context = TempDir::new();
        std::fs::copy(&binary, context.0.join("ecr-push-action")).expect("copy the static binary");
        std::fs::copy("/etc/ssl/certs/ca-certificates.crt", context.0.join("ca-certificates.crt")).expect("CA bundle");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scratch.Dockerfile"),
            context.0.join("Dockerfile"),
        )
        .expect("Dockerfile");
        let tag = format!("{}:test", unique("ecr-push-action-image"));
        // `--no-cache`: for `FROM scratch` the classic builder's cache probe reads every parentless image,
        // and fails ("unable to find image") when a test running beside it removes one of its imports.
        run(Command::new("docker")
            .args(["build", "--no-cache", "-q", "-t", &tag])
            .arg(&context.0));
        tag
    })
}

#[test]
fn runs_as_a_container_action() {
    let s = stack();
    let local = format!("{}:c1", unique("e2e-container"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("container");
    let action = Action::new(&local, &repository).input("tags", "c1 c2");

    let workspace = TempDir::new();
    let mut cmd = Command::new("docker");
    cmd.args([
        "run",
        "--rm",
        "--network",
        "host",
        "--workdir",
        "/github/workspace",
    ])
    .args(["-v", "/var/run/docker.sock:/var/run/docker.sock"])
    .arg("-v")
    .arg(format!("{}:/github/workspace", workspace.0.display()))
    .arg("-v")
    .arg(format!(
        "{}:/github/file_commands",
        action.files_dir().display()
    ))
    .args(["-e", "GITHUB_ACTIONS=true"])
    .args(["-e", "GITHUB_OUTPUT=/github/file_commands/output"])
    .args(["-e", "GITHUB_STEP_SUMMARY=/github/file_commands/summary"])
    .args([
        "-e",
        &format!("AWS_ENDPOINT_URL={}", crate::support::ecr_api::endpoint()),
    ]);
    for (name, value) in action.inputs() {
        cmd.args(["-e", &format!("INPUT_{}={value}", name.to_uppercase())]);
    }
    cmd.arg(image());
    let out = cmd.output().expect("docker run");
    let result = action.collect(out.status.success(), &out.stdout, &out.stderr);
    assert_secrets_masked(&result, &action.secrets());
    result.assert_success();

    let host = s.host(&s.account);
    for tag in ["c1", "c2"] {
        assert_eq!(
            registry_digest(&host, &repository, tag).as_deref(),
            Some(result.output("digest")),
            "{tag}"
        );
    }
    assert_eq!(
        result.output("repository-uri"),
        format!("{host}/{repository}")
    );
    assert!(result.summary.contains("| `c2` |"), "{}", result.summary);
}

/// The image answers on the classic engine's default network, as `docker run` starts it for a user
/// (and as `tools/bench` times it): the test bed's second engine must leave 20.10's docker0 alone.
#[test]
fn answers_on_the_default_network() {
    let out = run(Command::new("docker").args(["run", "--rm", image(), "--version"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ecr-push-action "), "{text}");
}
